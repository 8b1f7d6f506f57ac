"""Each kernel against PyTorch's own op, and the whole model with the JIT switched off."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from nanohf.kernels.activations import ACTIVATIONS, bias_activation_forward, resolve_activation
from nanohf.kernels.embedding import gather_add_forward
from nanohf.kernels.layernorm import layernorm_forward
from nanohf.kernels.losses import cross_entropy_forward
from nanohf.kernels.softmax import masked_softmax_forward
from nanohf.nn.masks import additive_padding_mask

rng = np.random.default_rng(0)
TORCH_ACTIVATIONS = {
    "gelu": lambda t: torch.nn.functional.gelu(t),
    "gelu_new": lambda t: torch.nn.functional.gelu(t, approximate="tanh"),
    "relu": torch.relu,
    "tanh": torch.tanh,
    "silu": torch.nn.functional.silu,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_matches_torch(dtype):
    x = rng.standard_normal((4, 5, 48)).astype(dtype) * 3 + 1
    w, b = rng.standard_normal(48).astype(dtype), rng.standard_normal(48).astype(dtype)
    y, mean, rstd = layernorm_forward(x, w, b, 1e-12)
    ref = torch.nn.functional.layer_norm(torch.tensor(x), (48,), torch.tensor(w), torch.tensor(b), 1e-12).numpy()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert y.dtype == dtype and mean.shape == (20,) and rstd.shape == (20,)
    assert np.abs(y - ref).max() <= tol, f"LayerNorm max |Δ| {np.abs(y - ref).max():.2e}"


@pytest.mark.parametrize("name", list(TORCH_ACTIVATIONS))
def test_bias_activation_matches_torch(name):
    h = rng.standard_normal((64, 37)).astype(np.float32) * 4
    bias = rng.standard_normal(37).astype(np.float32)
    ours = bias_activation_forward(h, bias, resolve_activation(name))
    ref = TORCH_ACTIVATIONS[name](torch.tensor(h) + torch.tensor(bias)).numpy()
    assert ours.dtype == np.float32
    assert np.abs(ours - ref).max() <= 1e-6, f"{name} max |Δ| {np.abs(ours - ref).max():.2e}"


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match="'mish'"):
        resolve_activation("mish")
    assert {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu"} <= set(ACTIVATIONS)


def test_masked_softmax_matches_torch_and_zeroes_padding():
    scores = rng.standard_normal((2, 3, 6, 6)).astype(np.float32) * 5
    attention_mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]])
    mask = additive_padding_mask(attention_mask)
    ref = torch.softmax(torch.tensor(scores) * 0.125 + torch.tensor(mask)[:, None, None, :], -1).numpy()
    ours = masked_softmax_forward(scores.copy(), mask, 0.125)
    assert np.abs(ours - ref).max() <= 1e-6, f"softmax max |Δ| {np.abs(ours - ref).max():.2e}"
    assert np.all(ours[1, :, :, 3:] == 0.0)
    np.testing.assert_allclose(ours.sum(-1), 1.0, rtol=1e-6)


def test_cross_entropy_matches_torch_with_ignore_index():
    logits = rng.standard_normal((10, 7)).astype(np.float32) * 3
    labels = rng.integers(0, 7, 10)
    labels[[2, 5]] = -100
    ours = cross_entropy_forward(logits, labels)
    ref = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item()
    assert abs(float(ours) - ref) <= 1e-6, f"cross-entropy |Δ| {abs(float(ours) - ref):.2e}"
    assert np.isnan(cross_entropy_forward(logits, np.full(10, -100)))
    with pytest.raises(ValueError, match="label 7 is outside"):
        cross_entropy_forward(logits, np.full(10, 7))


def test_gather_add_sums_rows_in_place():
    table = rng.standard_normal((11, 4)).astype(np.float32)
    ids = np.array([[0, 3, 10], [5, 5, 1]])
    out = np.ones((2, 3, 4), np.float32)
    gather_add_forward(table, ids, out)
    np.testing.assert_array_equal(out, 1 + table[ids])
    gather_add_forward(table, np.array([[2, 2, 2]]), out)  # broadcast over the batch
    np.testing.assert_array_equal(out, 1 + table[ids] + table[2])


def test_model_runs_as_plain_python_without_jit(make_checkpoint):
    """NUMBA_DISABLE_JIT=1: every kernel runs as Python a debugger can step through, same numbers."""
    from conftest import TINY_BERT

    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    script = textwrap.dedent(f"""
        import numpy as np, nanohf
        model = nanohf.BertForSequenceClassification.from_pretrained({str(folder)!r})
        ids = np.arange(1, 13).reshape(2, 6); mask = np.ones_like(ids); mask[1, 4:] = 0
        print(repr(model(ids, mask).logits.tolist()))
    """)
    env_nojit = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    plain = subprocess.run([sys.executable, "-c", script], env=env_nojit, capture_output=True, text=True, check=True)
    jitted = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    a, b = np.array(eval(plain.stdout)), np.array(eval(jitted.stdout))
    assert np.abs(a - b).max() <= 1e-6, f"no-JIT vs JIT logits max |Δ| {np.abs(a - b).max():.2e}"


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_kernel_mask_statistics_scale_and_repeatability(p):
    from nanohf.kernels.dropout import dropout_backward, dropout_forward

    x = np.random.default_rng(0).standard_normal((256, 1024)).astype(np.float32)
    y, keep = dropout_forward(x, p, seed=123)
    dropped = 1.0 - keep.mean()
    # Binomial: 262,144 draws give a standard deviation of at most 0.001 on the dropped fraction.
    assert abs(dropped - p) < 5e-3, f"p={p}: dropped fraction {dropped:.4f}"
    scale = np.float32(1 / (1 - p))
    np.testing.assert_array_equal(y, np.where(keep == 1, x * scale, 0))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(dropout_backward(np.ones_like(x), keep, p), np.where(keep == 1, scale, 0))
    np.testing.assert_array_equal(dropout_forward(x, p, seed=123)[1], keep)  # same seed, same mask
    assert (dropout_forward(x, p, seed=124)[1] != keep).mean() > 0.1  # another seed, another mask
    assert abs(np.corrcoef(keep[:, :-1].ravel(), keep[:, 1:].ravel())[0, 1]) < 0.01  # neighbours independent

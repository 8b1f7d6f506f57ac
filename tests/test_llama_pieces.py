"""The pieces of the Llama family, each on its own: finite differences in float64, and torch in float32.

RMSNorm (kernel and module), the rotary embedding (forward against transformers' functions for every
scaling type, backward = the inverse rotation), grouped-query attention with RoPE and a sliding
window (the backward's group sum), the SiLU-gated MLP, and a whole decoder layer.
"""

import numpy as np
import pytest
import torch
import transformers
from test_gradcheck import check_module, directional_check, randomise

from nanohf.kernels.rmsnorm import rmsnorm_backward, rmsnorm_forward
from nanohf.models.llama import LlamaConfig, LlamaDecoderLayer, LlamaMLP
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.masks import additive_padding_mask
from nanohf.nn.rmsnorm import RMSNorm
from nanohf.nn.rotary import RotaryEmbedding, apply_rotary, inverse_frequencies, standardize_rope_parameters

rng = np.random.default_rng(0)
SMALL = dict(vocab_size=11, hidden_size=8, intermediate_size=12, num_attention_heads=4, num_key_value_heads=2,
             max_position_embeddings=32)  # fmt: skip


def test_rmsnorm_matches_torch_forward_and_backward():
    x = rng.standard_normal((3, 7, 48)).astype(np.float32) * 3
    w = rng.standard_normal(48).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y, rstd = rmsnorm_forward(x, w, 1e-6)
    dx, dw = rmsnorm_backward(dy, x, rstd, w)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    norm = transformers.models.llama.modeling_llama.LlamaRMSNorm(48, eps=1e-6)
    norm.weight = torch.nn.Parameter(tw)
    ty = norm(tx)
    ty.backward(torch.tensor(dy))
    for ours, ref in ((y, ty.detach()), (dx, tx.grad), (dw, norm.weight.grad)):
        diff = np.abs(ours - ref.numpy()).max() / np.abs(ref.numpy()).max()
        assert diff <= 1e-5, f"relative |Δ| {diff:.2e}"


def test_rmsnorm_gradients_in_float64():
    norm = randomise(RMSNorm(9, eps=1e-5))
    check_module(norm, [rng.standard_normal((4, 9)) * 2 + 1])


def test_rmsnorm_weight_starts_at_one():
    norm = RMSNorm(5)
    norm.weight.data[:] = 0.0
    norm.reset_parameters()
    assert (norm.weight.data == 1.0).all()


ROPE_CASES = {
    "default": {},
    "linear": {"rope_type": "linear", "factor": 4.0},
    "dynamic": {"rope_type": "dynamic", "factor": 2.0},
    "llama3": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
               "original_max_position_embeddings": 8},
}  # fmt: skip


@pytest.mark.parametrize("rope_type", list(ROPE_CASES))
def test_rotary_cos_sin_match_transformers(rope_type):
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    config = transformers.LlamaConfig(**SMALL, hidden_act="silu", head_dim=16, rope_parameters={**ROPE_CASES[rope_type],
                                      "rope_theta": 500.0})  # fmt: skip
    theirs = LlamaRotaryEmbedding(config)
    params = standardize_rope_parameters(config.rope_parameters, None, None, 32)
    ours = RotaryEmbedding(params, 16, 32)
    for length in (20, 40, 10):  # dynamic: within range, grown past it, back within it
        positions = np.arange(length)[None, :].repeat(2, 0)
        positions[1] = np.maximum(positions[1] - 3, 0)
        x = rng.standard_normal((2, 3, length, 16)).astype(np.float32)
        cos, sin = ours(positions)
        ref_cos, ref_sin = theirs(torch.tensor(x), torch.tensor(positions))
        assert np.abs(cos - ref_cos.numpy()).max() <= 1e-5 and np.abs(sin - ref_sin.numpy()).max() <= 1e-5
        rotated, _ = apply_rotary_pos_emb(torch.tensor(x), torch.tensor(x), ref_cos, ref_sin)
        assert np.abs(apply_rotary(x, cos, sin) - rotated.numpy()).max() <= 1e-5


def test_rotary_backward_is_the_inverse_rotation_in_float64():
    params = standardize_rope_parameters(None, None, 100.0, 32)
    cos, sin = RotaryEmbedding(params, 6, 32)(np.array([[0, 3, 4, 9, 17]]), np.float64)
    x = rng.standard_normal((2, 3, 5, 6))
    g = rng.standard_normal(x.shape)
    # The transpose of the rotation is the rotation backwards: it undoes the forward exactly.
    assert np.abs(apply_rotary(apply_rotary(x, cos, sin), cos, -sin) - x).max() < 1e-12
    directional_check(lambda: float(np.sum(g * apply_rotary(x, cos, sin))), [x], [apply_rotary(g, cos, -sin)], "rope")
    # Relative positions: shifting every position by the same amount leaves q·k unchanged (to the float32
    # rounding of the angles, which transformers computes in float32 too).
    shifted = RotaryEmbedding(params, 6, 32)(np.array([[7, 10, 11, 16, 24]]), np.float64)
    q, k = apply_rotary(x, cos, sin), apply_rotary(x[::-1], cos, sin)
    q2, k2 = apply_rotary(x, *shifted), apply_rotary(x[::-1], *shifted)
    assert np.abs(q @ k.swapaxes(-1, -2) - q2 @ k2.swapaxes(-1, -2)).max() < 1e-5


def test_inverse_frequencies_linear_divides_by_factor():
    default = inverse_frequencies({"rope_type": "default", "rope_theta": 1e4}, 8, 32)
    linear = inverse_frequencies({"rope_type": "linear", "rope_theta": 1e4, "factor": 4.0}, 8, 32)
    np.testing.assert_allclose(linear, default / 4, rtol=1e-6)


@pytest.mark.parametrize("kv_heads, window", [(4, None), (2, None), (1, None), (2, 3)])
def test_gqa_attention_with_rope_gradients_in_float64(kv_heads, window):
    core = ScaledDotProductAttention(4, 0.0, causal=True, num_key_value_heads=kv_heads, sliding_window=window)
    # Right padding: with left padding a pad query sees no key at all, a row whose forward rounds the
    # scores away (each is s·scale + finfo.min) while the softmax backward still differentiates them;
    # transformers does the same, and nothing reads those rows.
    mask = additive_padding_mask(np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]]), np.float64)
    rotary = RotaryEmbedding(standardize_rope_parameters(None, None, 50.0, 32), 4, 32)(
        np.array([[0, 1, 2, 3, 4, 5], [3, 4, 5, 6, 7, 8]]), np.float64
    )
    q = rng.standard_normal((2, 6, 16))
    k, v = rng.standard_normal((2, 6, 4 * kv_heads)), rng.standard_normal((2, 6, 4 * kv_heads))
    check_module(core, [q, k, v], forward=lambda q, k, v: core(q, k, v, mask, rotary=rotary),
                 what=f"attention kv_heads={kv_heads} window={window}")  # fmt: skip


def test_gqa_matches_repeated_heads_and_the_cache_keeps_them_unrepeated():
    """GQA equals plain attention over k/v heads repeated G times (transformers' repeat_kv), and its
    gradient of a shared k/v head is the sum over the group of the repeated heads' gradients."""
    q, k, v = rng.standard_normal((2, 5, 24)), rng.standard_normal((2, 5, 12)), rng.standard_normal((2, 5, 12))
    mask = additive_padding_mask(np.ones((2, 5)), np.float64)
    gqa = ScaledDotProductAttention(4, 0.0, causal=True, num_key_value_heads=2)
    mha = ScaledDotProductAttention(4, 0.0, causal=True)
    repeat = lambda t: t.reshape(2, 5, 2, 1, 6).repeat(2, axis=3).reshape(2, 5, 24)  # noqa: E731
    out, probs, (keys, values) = gqa(q, k, v, mask)
    ref, ref_probs, _ = mha(q, repeat(k), repeat(v), mask)
    assert np.abs(out - ref).max() < 1e-12 and np.abs(probs - ref_probs).max() < 1e-12
    assert keys.shape == values.shape == (2, 2, 5, 6)
    g = rng.standard_normal(out.shape)
    dq, dk, dv = gqa.backward(g)
    rdq, rdk, rdv = mha.backward(g)
    group_sum = lambda t: t.reshape(2, 5, 2, 2, 6).sum(axis=3).reshape(2, 5, 12)  # noqa: E731
    assert np.abs(dq - rdq).max() < 1e-12
    assert np.abs(dk - group_sum(rdk)).max() < 1e-12 and np.abs(dv - group_sum(rdv)).max() < 1e-12


def test_sliding_window_mask_is_transformers():
    """Key j is visible to query i when i - window < j <= i (transformers' sliding_window_overlay)."""
    core = ScaledDotProductAttention(1, 0.0, causal=True, sliding_window=3)
    q = k = v = rng.standard_normal((1, 6, 4))
    _, probs, _ = core(q, k, v, np.zeros((1, 6)))
    i, j = np.indices((6, 6))
    assert ((probs[0, 0] > 0) == ((j <= i) & (j > i - 3))).all()


@pytest.mark.parametrize("bias", [False, True])
def test_gated_mlp_gradients_in_float64(bias):
    mlp = randomise(LlamaMLP(LlamaConfig(**SMALL, mlp_bias=bias)))
    check_module(mlp, [rng.standard_normal((2, 3, 8))], what=f"LlamaMLP(bias={bias})")


def test_decoder_layer_gradients_in_float64():
    config = LlamaConfig(**SMALL, attention_bias=True, head_dim=4)
    layer = randomise(LlamaDecoderLayer(config, 0).to(dtype=np.float64))
    mask = additive_padding_mask(np.array([[1, 1, 1, 0], [1, 1, 1, 1]]), np.float64)
    rotary = RotaryEmbedding(config.rope_parameters, 4, 32)(np.arange(4)[None], np.float64)
    check_module(layer, [rng.standard_normal((2, 4, 8))],
                 forward=lambda h: layer(h, mask, rotary).hidden_states, what="LlamaDecoderLayer")  # fmt: skip

"""Finite-difference gradient checks in float64 for every kernel and module.

For a function f with output gradient g, the scalar L = Σ g · f(x) has the directional derivative
(L(x + εv) - L(x - εv)) / 2ε along a random direction v; the backward must give the same number as
Σ dL/dx · v, with v of unit norm. The tolerance is 1e-6 relative, plus 1e-8·|L| absolute: rounding
limits the central difference to about 1e-16·|L|/ε, which matters only for derivatives that are
exactly zero (a key bias: softmax ignores a shift shared by a whole row).
"""

import numpy as np
import pytest

import nanohf
from nanohf.models.losses import (
    bce_with_logits_loss,
    cross_entropy_loss,
    mse_loss,
    question_answering_loss,
)
from nanohf.nn import Dropout, Embedding, LayerNorm, Linear
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.masks import additive_padding_mask

EPS = 1e-6
TOL = 1e-6
rng = np.random.default_rng(0)


def randomise(module, scale=0.5):
    for p in module.parameters():
        p.data = rng.standard_normal(p.data.shape) * scale
    return module


def directional_check(run, arrays, analytic, what: str, eps: float = EPS) -> None:
    """``run()`` returns L for the current contents of ``arrays``; compare with ``analytic`` grads."""
    for i, (x, grad) in enumerate(zip(arrays, analytic, strict=True)):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v)
        x += eps * v
        up = run()
        x -= 2 * eps * v
        down = run()
        x += eps * v
        numeric = (up - down) / (2 * eps)
        exact = float(np.sum(grad * v))
        rel = abs(numeric - exact) / max(abs(numeric), abs(exact), 1e-300)
        atol = 1e-8 * max(1.0, abs(up))
        assert abs(numeric - exact) <= TOL * max(abs(numeric), abs(exact)) + atol, (
            f"{what} [{i}]: numeric {numeric:.10g} vs backward {exact:.10g} (rel {rel:.2e})"
        )


def check_module(module, inputs: list[np.ndarray], forward=None, what=""):
    """Gradients of every input and parameter of ``module`` against finite differences."""
    forward = forward or (lambda *xs: module(*xs))
    out = forward(*inputs)
    out = out[0] if isinstance(out, tuple) else out
    g = rng.standard_normal(out.shape)
    module.zero_grad()
    d_inputs = module.backward(g)
    d_inputs = list(d_inputs) if isinstance(d_inputs, tuple) else [d_inputs]
    params = [p for p in module.parameters()]

    def run():
        result = forward(*inputs)
        result = result[0] if isinstance(result, tuple) else result
        module._cache = None  # forward kept caches for a backward we do not run
        for _, sub in module.named_modules():
            sub._cache = None
        return float(np.sum(g * result))

    arrays = [x for x, d in zip(inputs, d_inputs, strict=True) if d is not None] + [p.data for p in params]
    grads = [d for d in d_inputs if d is not None] + [p.grad for p in params]
    directional_check(run, arrays, grads, what or type(module).__name__)


@pytest.mark.parametrize("activation", [None, "gelu", "gelu_new", "relu", "tanh", "silu"])
def test_linear_with_fused_activation(activation):
    layer = randomise(Linear(7, 5, activation=activation))
    check_module(layer, [rng.standard_normal((3, 4, 7))], what=f"Linear({activation})")


def test_layernorm():
    layer = randomise(LayerNorm(9, eps=1e-5))
    check_module(layer, [rng.standard_normal((4, 9)) * 2 + 1])


def test_embedding_with_padding_row():
    table = randomise(Embedding(11, 6, padding_idx=0))
    ids = np.array([[0, 3, 3, 10], [5, 0, 1, 3]])
    out = table(ids)
    g = rng.standard_normal(out.shape)
    table.zero_grad()
    table.backward(g)
    expected = np.zeros_like(table.weight.data)
    np.add.at(expected, ids.reshape(-1), g.reshape(-1, 6))
    expected[0] = 0.0
    np.testing.assert_allclose(table.weight.grad, expected, rtol=1e-12)


def test_dropout_reuses_its_mask():
    layer = Dropout(0.5).train()
    x = rng.standard_normal((5, 8))

    def forward(x):
        nanohf.set_seed(3)  # the same mask in every forward of the check
        return layer(x)

    check_module(layer, [x], forward=forward)


def test_attention_core_with_padding_mask():
    core = ScaledDotProductAttention(num_heads=2, dropout_prob=0.0)
    mask = additive_padding_mask(np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]]), np.float64)
    q, k, v = (rng.standard_normal((2, 5, 6)) for _ in range(3))
    check_module(core, [q, k, v], forward=lambda q, k, v: core(q, k, v, mask), what="attention")


@pytest.mark.parametrize("class_name", ["BertLayer", "TransformerBlock"])
def test_encoder_layers(class_name):
    if class_name == "BertLayer":
        from nanohf.models.bert import BertConfig, BertLayer

        layer = BertLayer(BertConfig(hidden_size=8, num_attention_heads=2, intermediate_size=12))
    else:
        from nanohf.models.distilbert import DistilBertConfig, TransformerBlock

        layer = TransformerBlock(DistilBertConfig(dim=8, n_heads=2, hidden_dim=12))
    randomise(layer.eval())
    mask = additive_padding_mask(np.array([[1, 1, 1, 0], [1, 1, 1, 1]]), np.float64)
    check_module(layer, [rng.standard_normal((2, 4, 8))], forward=lambda h: layer(h, mask), what=class_name)


@pytest.mark.parametrize(
    "name, loss_fn, logits, target",
    [
        ("cross-entropy", cross_entropy_loss, rng.standard_normal((6, 5)), np.array([0, 4, -100, 2, 2, 1])),
        ("mse", mse_loss, rng.standard_normal((6, 2)), rng.standard_normal((6, 2))),
        ("bce", bce_with_logits_loss, rng.standard_normal((6, 3)) * 3, (rng.random((6, 3)) > 0.5) * 1.0),
    ],
)
def test_losses(name, loss_fn, logits, target):
    _, d_logits = loss_fn(logits, target)
    directional_check(lambda: float(loss_fn(logits, target)[0]), [logits], [d_logits(1.0)], name)


def test_question_answering_loss():
    start, end = rng.standard_normal((3, 7)), rng.standard_normal((3, 7))
    positions = (np.array([1, 9, 0]), np.array([6, 2, 3]))
    _, d_logits = question_answering_loss(start, end, *positions)
    d = d_logits(1.0)

    def run():
        return float(question_answering_loss(start, end, *positions)[0])

    directional_check(run, [start, end], [d[..., 0], d[..., 1]], "QA loss")


@pytest.mark.parametrize("class_name", ["BertForSequenceClassification", "DistilBertForQuestionAnswering"])
def test_whole_model_in_float64(class_name):
    from conftest import TINY_BERT, TINY_DISTILBERT

    config_class = getattr(nanohf, class_name).config_class
    model = getattr(nanohf, class_name)(config_class(**(TINY_DISTILBERT if "Distil" in class_name else TINY_BERT)))
    model.to(np.float64).eval()  # eval: no dropout, so repeated forwards are the same function
    input_ids = rng.integers(1, 99, (2, 6))
    attention_mask = np.array([[1] * 6, [1, 1, 1, 1, 0, 0]])
    if "Sequence" in class_name:
        labels = {"labels": np.array([0, 1])}
    else:
        labels = {"start_positions": np.array([1, 2]), "end_positions": np.array([3, 3])}
    model(input_ids, attention_mask, **labels).loss.backward()
    params = list(model.parameters())

    def run():
        with nanohf.no_grad():
            return float(model(input_ids, attention_mask, **labels).loss)

    directional_check(run, [p.data for p in params], [p.grad for p in params], class_name)

"""Activations, fused with the bias add of the Linear layer before them; forward and backward.

Forward: ``out = act(h + bias)`` in one pass over memory, where ``h = x @ W.T`` came from BLAS.
Backward: ``d_pre = d_out · act'(h + bias)``; the bias gradient is then ``Σ_rows d_pre``.

The activations and their derivatives (``hidden_act`` in the config picks one):

    gelu (exact):  g(x)  = x · Φ(x),  Φ(x) = 0.5 (1 + erf(x / √2))
                   g'(x) = Φ(x) + x · φ(x),  φ(x) = exp(-x²/2) / √(2π)
    gelu_new/tanh: g(x)  = 0.5 x (1 + t),  t = tanh(u),  u = √(2/π) (x + 0.044715 x³)
                   g'(x) = 0.5 (1 + t) + 0.5 x (1 - t²) · √(2/π) (1 + 3 · 0.044715 x²)
    relu:          max(x, 0)          ->  1 where x > 0, else 0
    tanh:          tanh(x)            ->  1 - tanh(x)²
    silu:          x · σ(x)           ->  σ(x) (1 + x (1 - σ(x)))
"""

import math

import numpy as np
from numba import njit, prange

from nanohf.kernels.parallel import parallel_njit
from nanohf.kernels.vecmath import erf32, exp32, tanh32

# Activation ids used inside the kernels (Numba wants plain integers, not strings).
IDENTITY, GELU, GELU_TANH, RELU, TANH, SILU = 0, 1, 2, 3, 4, 5

# transformers' ACT2FN names -> our ids.
ACTIVATIONS = {
    "linear": IDENTITY,
    "gelu": GELU,
    "gelu_python": GELU,
    "gelu_new": GELU_TANH,
    "gelu_pytorch_tanh": GELU_TANH,
    "gelu_fast": GELU_TANH,
    "relu": RELU,
    "tanh": TANH,
    "silu": SILU,
    "swish": SILU,
}

_SQRT_HALF = 1.0 / math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def resolve_activation(name: str) -> int:
    """The kernel id of a transformers activation name, or a clear error."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; nanohf knows {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


@njit(inline="always")
def _sigmoid(v):
    # 1 / (1 + exp(-v)), written so that exp never overflows (plain Python raises when it does).
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@njit(inline="always")
def _activate(v, act):
    if act == GELU:
        return 0.5 * v * (1.0 + math.erf(v * _SQRT_HALF))
    if act == GELU_TANH:
        return 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))
    if act == RELU:
        return max(v, 0.0)
    if act == TANH:
        return math.tanh(v)
    if act == SILU:
        return v * _sigmoid(v)
    return v


@njit(inline="always")
def _derivative(v, act):
    if act == GELU:
        return 0.5 * (1.0 + math.erf(v * _SQRT_HALF)) + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI
    if act == GELU_TANH:
        t = math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))
        return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * v * v)
    if act == RELU:
        return 1.0 if v > 0.0 else 0.0
    if act == TANH:
        t = math.tanh(v)
        return 1.0 - t * t
    if act == SILU:
        s = _sigmoid(v)
        return s * (1.0 + v * (1.0 - s))
    return 1.0


# The same two functions for float32 arrays, the hot path: every constant is a float32 (a Python
# float would silently turn the arithmetic into float64) and exp/erf/tanh are the vectorisable
# ones of vecmath.py, so the loops below run 16 lanes at a time. ``fast`` is True for float32
# arrays; float64 arrays (gradient checks) use the exact functions above.
_F = np.float32
_HALF, _ONE, _C3 = _F(0.5), _F(1.0), _F(0.044715)
_SQRT_HALF_F, _SQRT_2_OVER_PI_F, _INV_SQRT_2PI_F = _F(_SQRT_HALF), _F(_SQRT_2_OVER_PI), _F(_INV_SQRT_2PI)


@njit(inline="always")
def _activate_f32(v, act):
    if act == GELU:
        return _HALF * v * (_ONE + erf32(v * _SQRT_HALF_F))
    if act == GELU_TANH:
        return _HALF * v * (_ONE + tanh32(_SQRT_2_OVER_PI_F * (v + _C3 * v * v * v)))
    if act == RELU:
        return max(v, _F(0.0))
    if act == TANH:
        return tanh32(v)
    if act == SILU:
        return v / (_ONE + exp32(-v))  # exp32 clamps its input: no overflow
    return v


@njit(inline="always")
def _derivative_f32(v, act):
    if act == GELU:
        return _HALF * (_ONE + erf32(v * _SQRT_HALF_F)) + v * exp32(-_HALF * v * v) * _INV_SQRT_2PI_F
    if act == GELU_TANH:
        t = tanh32(_SQRT_2_OVER_PI_F * (v + _C3 * v * v * v))
        return _HALF * (_ONE + t) + _HALF * v * (_ONE - t * t) * _SQRT_2_OVER_PI_F * (_ONE + _F(3.0) * _C3 * v * v)
    if act == RELU:
        return _ONE if v > _F(0.0) else _F(0.0)
    if act == TANH:
        t = tanh32(v)
        return _ONE - t * t
    if act == SILU:
        s = _ONE / (_ONE + exp32(-v))
        return s * (_ONE + v * (_ONE - s))
    return _ONE


@parallel_njit(fastmath={"contract"})
def _bias_activation_rows(h, bias, act, fast, out):
    rows, cols = h.shape
    for r in prange(rows):
        if fast:
            for j in range(cols):
                out[r, j] = _activate_f32(h[r, j] + bias[j], act)
        else:
            for j in range(cols):
                out[r, j] = _activate(h[r, j] + bias[j], act)


@parallel_njit(fastmath={"contract"})
def _bias_activation_backward_rows(d_out, h, bias, act, fast, d_pre):
    rows, cols = h.shape
    for r in prange(rows):
        if fast:
            for j in range(cols):
                d_pre[r, j] = d_out[r, j] * _derivative_f32(h[r, j] + bias[j], act)
        else:
            for j in range(cols):
                d_pre[r, j] = d_out[r, j] * _derivative(h[r, j] + bias[j], act)


def _rows(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def bias_activation_forward(
    h: np.ndarray, bias: np.ndarray | None, act: int, out: np.ndarray | None = None
) -> np.ndarray:
    """``act(h + bias)`` for ``h`` of shape ``(..., features)``; ``out`` may be ``h`` (in place)."""
    h2 = _rows(h)
    y = np.empty_like(h2) if out is None else out.reshape(h2.shape)
    b = np.zeros(h2.shape[1], dtype=h.dtype) if bias is None else bias
    _bias_activation_rows(h2, b, act, h.dtype == np.float32, y)
    return y.reshape(h.shape)


def bias_activation_backward(d_out: np.ndarray, h: np.ndarray, bias: np.ndarray | None, act: int) -> np.ndarray:
    """``d_out · act'(h + bias)``: the gradient with respect to ``h + bias`` (and so to ``h``)."""
    h2 = _rows(h)
    d_pre = np.empty_like(h2)
    b = np.zeros(h2.shape[1], dtype=h.dtype) if bias is None else bias
    _bias_activation_backward_rows(_rows(d_out), h2, b, act, h.dtype == np.float32, d_pre)
    return d_pre.reshape(h.shape)

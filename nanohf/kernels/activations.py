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

from nanohf.kernels.parallel import parallel_njit, specialise
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


# Each activation is a pair of scalar functions (act, act'), in two precisions. A kernel build is specialised
# on one pair (parallel.specialise): it contains only the activation it runs, so Numba does not type and
# compile the other five (and their other precision) behind a runtime switch — 3-4 times less compile time.


@njit(inline="always")
def _sigmoid(v):
    # 1 / (1 + exp(-v)), written so that exp never overflows (plain Python raises when it does).
    if v >= 0.0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)


@njit(inline="always")
def _identity(v):
    return v


@njit(inline="always")
def _identity_grad(v):
    return 1.0


@njit(inline="always")
def _gelu(v):
    return 0.5 * v * (1.0 + math.erf(v * _SQRT_HALF))


@njit(inline="always")
def _gelu_grad(v):
    return 0.5 * (1.0 + math.erf(v * _SQRT_HALF)) + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI


@njit(inline="always")
def _gelu_tanh(v):
    return 0.5 * v * (1.0 + math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)))


@njit(inline="always")
def _gelu_tanh_grad(v):
    t = math.tanh(_SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))
    return 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * v * v)


@njit(inline="always")
def _relu(v):
    return max(v, 0.0)


@njit(inline="always")
def _relu_grad(v):
    return 1.0 if v > 0.0 else 0.0


@njit(inline="always")
def _tanh(v):
    return math.tanh(v)


@njit(inline="always")
def _tanh_grad(v):
    t = math.tanh(v)
    return 1.0 - t * t


@njit(inline="always")
def _silu(v):
    return v * _sigmoid(v)


@njit(inline="always")
def _silu_grad(v):
    s = _sigmoid(v)
    return s * (1.0 + v * (1.0 - s))


# The same functions for float32 arrays, the hot path: every constant is a float32 (a Python float would
# silently turn the arithmetic into float64) and exp/erf/tanh are the vectorisable ones of vecmath.py, so
# the kernels' loops run 16 lanes at a time. float64 arrays (gradient checks) use the exact functions above.
_F = np.float32
_HALF, _ONE, _C3 = _F(0.5), _F(1.0), _F(0.044715)
_SQRT_HALF_F, _SQRT_2_OVER_PI_F, _INV_SQRT_2PI_F = _F(_SQRT_HALF), _F(_SQRT_2_OVER_PI), _F(_INV_SQRT_2PI)


@njit(inline="always")
def _identity_grad_f32(v):
    return _ONE


@njit(inline="always")
def _gelu_f32(v):
    return _HALF * v * (_ONE + erf32(v * _SQRT_HALF_F))


@njit(inline="always")
def _gelu_grad_f32(v):
    return _HALF * (_ONE + erf32(v * _SQRT_HALF_F)) + v * exp32(-_HALF * v * v) * _INV_SQRT_2PI_F


@njit(inline="always")
def _gelu_tanh_f32(v):
    return _HALF * v * (_ONE + tanh32(_SQRT_2_OVER_PI_F * (v + _C3 * v * v * v)))


@njit(inline="always")
def _gelu_tanh_grad_f32(v):
    t = tanh32(_SQRT_2_OVER_PI_F * (v + _C3 * v * v * v))
    return _HALF * (_ONE + t) + _HALF * v * (_ONE - t * t) * _SQRT_2_OVER_PI_F * (_ONE + _F(3.0) * _C3 * v * v)


@njit(inline="always")
def _relu_f32(v):
    return max(v, _F(0.0))


@njit(inline="always")
def _relu_grad_f32(v):
    return _ONE if v > _F(0.0) else _F(0.0)


@njit(inline="always")
def _tanh_f32(v):
    return tanh32(v)


@njit(inline="always")
def _tanh_grad_f32(v):
    t = tanh32(v)
    return _ONE - t * t


@njit(inline="always")
def _silu_f32(v):
    return v / (_ONE + exp32(-v))  # exp32 clamps its input: no overflow


@njit(inline="always")
def _silu_grad_f32(v):
    s = _ONE / (_ONE + exp32(-v))
    return s * (_ONE + v * (_ONE - s))


# activation id -> {precision: (act, act')}
_FUNCTIONS = {
    IDENTITY: {"f32": (_identity, _identity_grad_f32), "exact": (_identity, _identity_grad)},
    GELU: {"f32": (_gelu_f32, _gelu_grad_f32), "exact": (_gelu, _gelu_grad)},
    GELU_TANH: {"f32": (_gelu_tanh_f32, _gelu_tanh_grad_f32), "exact": (_gelu_tanh, _gelu_tanh_grad)},
    RELU: {"f32": (_relu_f32, _relu_grad_f32), "exact": (_relu, _relu_grad)},
    TANH: {"f32": (_tanh_f32, _tanh_grad_f32), "exact": (_tanh, _tanh_grad)},
    SILU: {"f32": (_silu_f32, _silu_grad_f32), "exact": (_silu, _silu_grad)},
}

# The kernels call ACTIVATE / DERIVATIVE, which each specialised build binds to one activation's pair
# (``_specialised``); these module-level values are never compiled.
ACTIVATE, DERIVATIVE = _identity, _identity_grad


@parallel_njit(fastmath={"contract"})
def _bias_activation_rows(h, bias, out):
    rows, cols = h.shape
    for r in prange(rows):
        for j in range(cols):
            out[r, j] = ACTIVATE(h[r, j] + bias[j])


@parallel_njit(fastmath={"contract"})
def _bias_activation_backward_rows(d_out, h, bias, d_pre):
    rows, cols = h.shape
    for r in prange(rows):
        for j in range(cols):
            d_pre[r, j] = d_out[r, j] * DERIVATIVE(h[r, j] + bias[j])


def _specialised(kernel, act: int, dtype: np.dtype):
    """``kernel`` built for activation ``act`` on arrays of ``dtype`` (float32: vecmath's functions)."""
    precision = "f32" if dtype == np.float32 else "exact"
    activate, derivative = _FUNCTIONS[act][precision]
    return specialise(kernel, f"act{act}_{precision}", ACTIVATE=activate, DERIVATIVE=derivative)


def _rows(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).reshape(-1, a.shape[-1])


def bias_activation_forward(
    h: np.ndarray, bias: np.ndarray | None, act: int, out: np.ndarray | None = None
) -> np.ndarray:
    """``act(h + bias)`` for ``h`` of shape ``(..., features)``; ``out`` may be ``h`` (in place)."""
    h2 = _rows(h)
    y = np.empty_like(h2) if out is None else out.reshape(h2.shape)
    b = np.zeros(h2.shape[1], dtype=h.dtype) if bias is None else bias
    _specialised(_bias_activation_rows, act, h.dtype)(h2, b, y)
    return y.reshape(h.shape)


def bias_activation_backward(d_out: np.ndarray, h: np.ndarray, bias: np.ndarray | None, act: int) -> np.ndarray:
    """``d_out · act'(h + bias)``: the gradient with respect to ``h + bias`` (and so to ``h``)."""
    h2 = _rows(h)
    d_pre = np.empty_like(h2)
    b = np.zeros(h2.shape[1], dtype=h.dtype) if bias is None else bias
    _specialised(_bias_activation_backward_rows, act, h.dtype)(_rows(d_out), h2, b, d_pre)
    return d_pre.reshape(h.shape)

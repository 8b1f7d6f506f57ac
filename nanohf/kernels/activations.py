"""Activations, fused with the bias add of the Linear layer before them.

``out = act(h + bias)`` in one pass over memory, where ``h = x @ W.T`` came from BLAS.

The GELU forms (``hidden_act`` in the config picks one):

    gelu (exact):  0.5 x (1 + erf(x / √2))
    gelu_new/tanh: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
"""

import math

import numpy as np
from numba import njit, prange

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


def resolve_activation(name: str) -> int:
    """The kernel id of a transformers activation name, or a clear error."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; nanohf knows {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


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
        return v / (1.0 + math.exp(-v))
    return v


@njit(parallel=True, cache=True)
def _bias_activation_rows(h, bias, act, out):
    rows, cols = h.shape
    for r in prange(rows):
        for j in range(cols):
            out[r, j] = _activate(h[r, j] + bias[j], act)


def bias_activation_forward(
    h: np.ndarray, bias: np.ndarray | None, act: int, out: np.ndarray | None = None
) -> np.ndarray:
    """``act(h + bias)`` for ``h`` of shape ``(..., features)``; ``out`` may be ``h`` (in place)."""
    cols = h.shape[-1]
    h2 = np.ascontiguousarray(h).reshape(-1, cols)
    y = np.empty_like(h2) if out is None else out.reshape(-1, cols)
    b = np.zeros(cols, dtype=h.dtype) if bias is None else bias
    _bias_activation_rows(h2, b, act, y)
    return y.reshape(h.shape)

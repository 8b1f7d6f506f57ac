"""LayerNorm over the last axis.

    mean = Σ x / H,   var = Σ (x - mean)² / H,   rstd = 1 / sqrt(var + eps)
    y    = (x - mean) * rstd * weight + bias

The per-row ``mean`` and ``rstd`` are returned: they are exactly what the backward needs.
"""

import math

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _layernorm_rows(x, weight, bias, eps, out, mean, rstd):
    rows, hidden = x.shape
    for r in prange(rows):
        # Sums in float64: two passes over a row of a few hundred floats cost nothing and
        # keep the variance exact; the row itself stays float32.
        total = 0.0
        for j in range(hidden):
            total += x[r, j]
        mu = total / hidden
        sq = 0.0
        for j in range(hidden):
            d = x[r, j] - mu
            sq += d * d
        inv = 1.0 / math.sqrt(sq / hidden + eps)
        for j in range(hidden):
            out[r, j] = (x[r, j] - mu) * inv * weight[j] + bias[j]
        mean[r] = mu
        rstd[r] = inv


def layernorm_forward(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalise ``x`` of shape ``(..., hidden)``; returns ``(y, mean, rstd)``.

    ``y`` has the shape of ``x``; ``mean`` and ``rstd`` have shape ``(rows,)`` with
    ``rows = x.size // hidden``. ``out`` may be ``x`` itself (in place).
    """
    hidden = x.shape[-1]
    x2 = np.ascontiguousarray(x).reshape(-1, hidden)
    y = np.empty_like(x2) if out is None else out.reshape(-1, hidden)
    mean = np.empty(x2.shape[0], dtype=x.dtype)
    rstd = np.empty(x2.shape[0], dtype=x.dtype)
    _layernorm_rows(x2, weight, bias, eps, y, mean, rstd)
    return y.reshape(x.shape), mean, rstd

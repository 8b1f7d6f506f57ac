"""LayerNorm over the last axis, forward and backward.

Forward, per row x of length H:

    mean = Σ x / H,   var = Σ (x - mean)² / H,   rstd = 1 / sqrt(var + eps)
    x̂    = (x - mean) · rstd
    y    = x̂ · w + b

Backward, given dy (the gradient of the loss with respect to y):

    db  = Σ_rows dy                 dw = Σ_rows dy · x̂
    dx̂  = dy · w
    dx  = rstd · (dx̂ - mean(dx̂) - x̂ · mean(dx̂ · x̂))

The last line is the chain rule through mean and rstd: both depend on every element of the
row, so each dx_j collects a share of all the dx̂_k. Forward returns ``mean`` and ``rstd`` per
row: with the input x they are all the backward needs.
"""

import math

import numpy as np
from numba import prange

from nanohf.kernels.fastmath import REDUCE_FAST
from nanohf.kernels.parallel import parallel_njit

CHUNKS = 32  # row blocks whose partial dw, db sums are computed in parallel, then added


@parallel_njit(fastmath=REDUCE_FAST)
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


@parallel_njit(fastmath=REDUCE_FAST)
def _layernorm_backward_rows(dy, x, mean, rstd, weight, dx, dw_parts, db_parts):
    rows, hidden = x.shape
    chunks = dw_parts.shape[0]
    per_chunk = (rows + chunks - 1) // chunks
    for c in prange(chunks):
        for r in range(c * per_chunk, min(rows, (c + 1) * per_chunk)):
            mu, inv = mean[r], rstd[r]
            mean_dxhat = 0.0
            mean_dxhat_xhat = 0.0
            for j in range(hidden):
                xhat = (x[r, j] - mu) * inv
                dxhat = dy[r, j] * weight[j]
                mean_dxhat += dxhat
                mean_dxhat_xhat += dxhat * xhat
                dw_parts[c, j] += dy[r, j] * xhat
                db_parts[c, j] += dy[r, j]
            mean_dxhat /= hidden
            mean_dxhat_xhat /= hidden
            for j in range(hidden):
                xhat = (x[r, j] - mu) * inv
                dx[r, j] = inv * (dy[r, j] * weight[j] - mean_dxhat - xhat * mean_dxhat_xhat)


def layernorm_backward(
    dy: np.ndarray, x: np.ndarray, mean: np.ndarray, rstd: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw, db)`` of LayerNorm, for ``dy`` and ``x`` of shape ``(..., hidden)``."""
    hidden = x.shape[-1]
    dy2 = np.ascontiguousarray(dy).reshape(-1, hidden)
    x2 = np.ascontiguousarray(x).reshape(-1, hidden)
    dx = np.empty_like(x2)
    dw_parts = np.zeros((CHUNKS, hidden), dtype=x.dtype)
    db_parts = np.zeros((CHUNKS, hidden), dtype=x.dtype)
    _layernorm_backward_rows(dy2, x2, mean, rstd, weight, dx, dw_parts, db_parts)
    return dx.reshape(x.shape), dw_parts.sum(0), db_parts.sum(0)

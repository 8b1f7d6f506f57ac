"""RMSNorm over the last axis (Zhang & Sennrich, 2019), forward and backward.

LayerNorm without the mean: each row is divided by its root mean square, then scaled.
Forward, per row x of length H:

    rstd = 1 / sqrt(Σ x² / H + eps)
    x̂    = x · rstd
    y    = x̂ · w

Backward, given dy:

    dw = Σ_rows dy · x̂          dx̂ = dy · w
    dx = rstd · (dx̂ - x̂ · mean(dx̂ · x̂))

Derivation: ∂rstd/∂x_j = -rstd³ · x_j / H, so
dx_j = Σ_i dx̂_i (δ_ij rstd + x_i ∂rstd/∂x_j) = rstd · dx̂_j - rstd³ x_j/H · Σ_i dx̂_i x_i,
which is the line above with x̂ = x · rstd. (LayerNorm's backward has one more term, -mean(dx̂),
from the mean it subtracts.) The forward returns ``rstd`` per row: with x it is all the backward needs.
"""

import math

import numpy as np
from numba import prange

from nanohf.kernels.fastmath import REDUCE_FAST
from nanohf.kernels.parallel import parallel_njit

CHUNKS = 32  # row blocks whose partial dw sums are computed in parallel, then added


@parallel_njit(fastmath=REDUCE_FAST)
def _rmsnorm_rows(x, weight, eps, out, rstd):
    rows, hidden = x.shape
    for r in prange(rows):
        sq = 0.0  # float64 sum, as transformers upcasts the row to float32 before squaring
        for j in range(hidden):
            sq += x[r, j] * x[r, j]
        inv = 1.0 / math.sqrt(sq / hidden + eps)
        for j in range(hidden):
            out[r, j] = weight[j] * (x[r, j] * inv)
        rstd[r] = inv


def rmsnorm_forward(
    x: np.ndarray, weight: np.ndarray, eps: float, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Normalise ``x`` of shape ``(..., hidden)``; returns ``(y, rstd)``, ``rstd`` of shape ``(rows,)``.

    ``out`` may be ``x`` itself (in place, when no backward will need x).
    """
    hidden = x.shape[-1]
    x2 = np.ascontiguousarray(x).reshape(-1, hidden)
    y = np.empty_like(x2) if out is None else out.reshape(-1, hidden)
    rstd = np.empty(x2.shape[0], dtype=x.dtype)
    _rmsnorm_rows(x2, weight, eps, y, rstd)
    return y.reshape(x.shape), rstd


@parallel_njit(fastmath=REDUCE_FAST)
def _rmsnorm_backward_rows(dy, x, rstd, weight, dx, dw_parts):
    rows, hidden = x.shape
    chunks = dw_parts.shape[0]
    per_chunk = (rows + chunks - 1) // chunks
    for c in prange(chunks):
        for r in range(c * per_chunk, min(rows, (c + 1) * per_chunk)):
            inv = rstd[r]
            mean_dxhat_xhat = 0.0
            for j in range(hidden):
                xhat = x[r, j] * inv
                mean_dxhat_xhat += dy[r, j] * weight[j] * xhat
                dw_parts[c, j] += dy[r, j] * xhat
            mean_dxhat_xhat /= hidden
            for j in range(hidden):
                dx[r, j] = inv * (dy[r, j] * weight[j] - x[r, j] * inv * mean_dxhat_xhat)


def rmsnorm_backward(
    dy: np.ndarray, x: np.ndarray, rstd: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Gradients ``(dx, dw)`` of RMSNorm, for ``dy`` and ``x`` of shape ``(..., hidden)``."""
    hidden = x.shape[-1]
    dy2 = np.ascontiguousarray(dy).reshape(-1, hidden)
    x2 = np.ascontiguousarray(x).reshape(-1, hidden)
    dx = np.empty_like(x2)
    dw_parts = np.zeros((CHUNKS, hidden), dtype=x.dtype)
    _rmsnorm_backward_rows(dy2, x2, rstd, weight, dx, dw_parts)
    return dx.reshape(x.shape), dw_parts.sum(0)

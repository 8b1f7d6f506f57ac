"""Cross-entropy over rows of logits, with an ignored label value; forward and backward.

For a row with logits z and label y:

    loss  = logsumexp(z) - z_y
    ∂loss/∂z_j = softmax(z)_j - [j == y]

The mean is over the ``count`` rows whose label is not ``ignore_index`` (PyTorch's "mean"
reduction), so each counted row's gradient is divided by ``count``; ignored rows get 0.
"""

import math

import numpy as np
from numba import njit, prange

from nanohf.kernels.fastmath import REDUCE_FAST


@njit(cache=True, fastmath=REDUCE_FAST)
def _cross_entropy_rows(logits, labels, ignore_index):
    rows, classes = logits.shape
    total = 0.0
    count = 0
    for r in range(rows):
        y = labels[r]
        if y == ignore_index:
            continue
        hi = -np.inf
        for j in range(classes):
            hi = max(hi, logits[r, j])
        s = 0.0
        for j in range(classes):
            s += math.exp(logits[r, j] - hi)
        total += math.log(s) + hi - logits[r, y]
        count += 1
    return total, count


@njit(parallel=True, cache=True, fastmath=REDUCE_FAST)
def _cross_entropy_backward_rows(logits, labels, ignore_index, scale, d_logits):
    rows, classes = logits.shape
    for r in prange(rows):
        y = labels[r]
        if y == ignore_index:
            for j in range(classes):
                d_logits[r, j] = 0.0
            continue
        hi = -np.inf
        for j in range(classes):
            hi = max(hi, logits[r, j])
        s = 0.0
        for j in range(classes):
            e = math.exp(logits[r, j] - hi)
            d_logits[r, j] = e
            s += e
        inv = scale / s
        for j in range(classes):
            d_logits[r, j] *= inv
        d_logits[r, y] -= scale


def _check_labels(labels: np.ndarray, classes: int, ignore_index: int) -> np.ndarray:
    labels = np.ascontiguousarray(labels).reshape(-1).astype(np.int64, copy=False)
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise ValueError(
            f"label {int(labels[bad][0])} is outside [0, {classes}) and is not ignore_index={ignore_index}"
        )
    return labels


def cross_entropy_forward(logits: np.ndarray, labels: np.ndarray, ignore_index: int = -100) -> np.ndarray:
    """Mean cross-entropy of ``logits (rows, classes)`` against ``labels (rows,)``.

    Returns a scalar of the logits' dtype; NaN when every label is ignored, as PyTorch gives.
    Labels outside ``[0, classes)`` that are not ``ignore_index`` raise a clear error.
    """
    classes = logits.shape[-1]
    labels = _check_labels(labels, classes, ignore_index)
    total, count = _cross_entropy_rows(np.ascontiguousarray(logits).reshape(-1, classes), labels, ignore_index)
    return logits.dtype.type(total / count if count else np.nan)


def cross_entropy_backward(
    logits: np.ndarray, labels: np.ndarray, d_loss: float = 1.0, ignore_index: int = -100
) -> np.ndarray:
    """Gradient of the mean cross-entropy with respect to ``logits (..., classes)``, times ``d_loss``."""
    classes = logits.shape[-1]
    labels = _check_labels(labels, classes, ignore_index)
    count = int(np.count_nonzero(labels != ignore_index))
    rows = np.ascontiguousarray(logits).reshape(-1, classes)
    d_logits = np.empty_like(rows)
    scale = d_loss / count if count else 0.0
    _cross_entropy_backward_rows(rows, labels, ignore_index, rows.dtype.type(scale), d_logits)
    return d_logits.reshape(logits.shape)

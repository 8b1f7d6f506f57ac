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
from nanohf.kernels.parallel import parallel_njit
from nanohf.kernels.vecmath import by_precision

# EXP, ZERO: the precision's exp and zero, bound per build (vecmath.by_precision): float32 rows use the
# vectorisable exp32 and a float32 sum.
EXP, ZERO = math.exp, 0.0


@njit(inline="always")
def _sum_exp(row, hi):
    """Σ_j exp(row_j - hi), summed in the build's precision."""
    s = ZERO
    for j in range(row.shape[0]):
        s += EXP(row[j] - hi)
    return float(s)


@parallel_njit(fastmath=REDUCE_FAST)
def _cross_entropy_rows(logits, labels, ignore_index):
    rows, classes = logits.shape
    total = 0.0
    count = 0
    for r in prange(rows):
        y = labels[r]
        if y != ignore_index:
            hi = logits[r].max()
            total += math.log(_sum_exp(logits[r], hi)) + hi - logits[r, y]
            count += 1
    return total, count


@parallel_njit(fastmath=REDUCE_FAST)
def _cross_entropy_backward_rows(logits, labels, ignore_index, scale, d_logits):
    rows, classes = logits.shape
    for r in prange(rows):
        y = labels[r]
        if y == ignore_index:
            for j in range(classes):
                d_logits[r, j] = 0.0
            continue
        # softmax(z) - onehot(y), scaled: write exp(z - max), then divide by the row's sum.
        hi = logits[r].max()
        for j in range(classes):
            d_logits[r, j] = EXP(logits[r, j] - hi)
        inv = scale / d_logits[r].sum()
        for j in range(classes):
            d_logits[r, j] *= inv
        d_logits[r, y] -= scale


def _check_labels(labels: np.ndarray, rows: int, classes: int, ignore_index: int) -> np.ndarray:
    """``labels`` as one int64 per logit row, every value a class or ``ignore_index``.

    The kernels read ``labels[r]`` for each of the ``rows`` logit rows: a shorter array would be read
    past its end, so its length is checked here, before any kernel runs (torch's message).
    """
    labels = np.asarray(labels)
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices; got dtype {labels.dtype}")
    labels = np.ascontiguousarray(labels).reshape(-1).astype(np.int64, copy=False)
    if labels.shape[0] != rows:
        raise ValueError(f"Expected input batch_size ({rows}) to match target batch_size ({labels.shape[0]}).")
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise ValueError(
            f"labels: label {int(labels[bad][0])} is outside [0, {classes}) and is not ignore_index={ignore_index}"
        )
    return labels


def cross_entropy_forward(logits: np.ndarray, labels: np.ndarray, ignore_index: int = -100) -> np.ndarray:
    """Mean cross-entropy of ``logits (rows, classes)`` against ``labels (rows,)``.

    Returns a scalar of the logits' dtype; NaN when every label is ignored, as PyTorch gives.
    Labels outside ``[0, classes)`` that are not ``ignore_index`` raise a clear error.
    """
    classes = logits.shape[-1]
    rows = np.ascontiguousarray(logits).reshape(-1, classes)
    labels = _check_labels(labels, rows.shape[0], classes, ignore_index)
    total, count = by_precision(_cross_entropy_rows, rows.dtype)(rows, labels, ignore_index)
    return logits.dtype.type(total / count if count else np.nan)


def cross_entropy_backward(
    logits: np.ndarray, labels: np.ndarray, d_loss: float = 1.0, ignore_index: int = -100
) -> np.ndarray:
    """Gradient of the mean cross-entropy with respect to ``logits (..., classes)``, times ``d_loss``."""
    classes = logits.shape[-1]
    rows = np.ascontiguousarray(logits).reshape(-1, classes)
    labels = _check_labels(labels, rows.shape[0], classes, ignore_index)
    count = int(np.count_nonzero(labels != ignore_index))
    d_logits = np.empty_like(rows)
    scale = d_loss / count if count else 0.0
    by_precision(_cross_entropy_backward_rows, rows.dtype)(rows, labels, ignore_index, rows.dtype.type(scale), d_logits)
    return d_logits.reshape(logits.shape)

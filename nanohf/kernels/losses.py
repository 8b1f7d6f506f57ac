"""Cross-entropy over rows of logits, with an ignored label value.

For a row with logits z and label y:   loss = logsumexp(z) - z_y
The mean is over the rows whose label is not ``ignore_index`` (PyTorch's "mean" reduction).
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
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


def cross_entropy_forward(logits: np.ndarray, labels: np.ndarray, ignore_index: int = -100) -> np.ndarray:
    """Mean cross-entropy of ``logits (rows, classes)`` against ``labels (rows,)``.

    Returns a float32 scalar array; NaN when every label is ignored, as PyTorch gives.
    Labels outside ``[0, classes)`` that are not ``ignore_index`` raise a clear error.
    """
    labels = np.ascontiguousarray(labels).reshape(-1).astype(np.int64, copy=False)
    classes = logits.shape[-1]
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise ValueError(
            f"label {int(labels[bad][0])} is outside [0, {classes}) and is not ignore_index={ignore_index}"
        )
    total, count = _cross_entropy_rows(np.ascontiguousarray(logits).reshape(-1, classes), labels, ignore_index)
    return np.float32(total / count if count else np.nan)

"""The losses task heads compute when labels are given, chosen as transformers chooses them.

Each returns ``(value, d_logits)``: the loss, and a function that turns the gradient of the
final objective with respect to the loss (``d_loss``, 1 for the loss itself) into the gradient
with respect to the logits — the first step of every backward pass.
"""

from collections.abc import Callable

import numpy as np

from nanohf.kernels.losses import cross_entropy_backward, cross_entropy_forward
from nanohf.models.inputs import as_array

GradFn = Callable[[float], np.ndarray]


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, GradFn]:
    """mean((pred - target)²);  d/d pred = 2 (pred - target) / N."""
    target = np.asarray(target, dtype=pred.dtype)
    if pred.shape != target.shape:
        raise ValueError(f"regression labels have shape {target.shape}, predictions {pred.shape}")
    diff = pred - target
    value = np.mean(diff * diff)
    return value, lambda d_loss: diff * pred.dtype.type(2.0 * d_loss / diff.size)


def bce_with_logits_loss(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, GradFn]:
    """mean(max(z, 0) - z·y + log(1 + exp(-|z|))): binary cross-entropy on σ(z), computed stably.

    d/dz = (σ(z) - y) / N.
    """
    z, y = logits, np.asarray(targets, dtype=logits.dtype)
    if z.shape != y.shape:
        raise ValueError(f"multi-label labels have shape {y.shape}, logits {z.shape}")
    value = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    sigmoid = 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow for very negative z
    return value, lambda d_loss: (sigmoid - y) * z.dtype.type(d_loss / z.size)


def cross_entropy_loss(
    logits: np.ndarray, labels: np.ndarray, ignore_index: int = -100, name: str = "labels"
) -> tuple[np.ndarray, GradFn]:
    """Mean cross-entropy over the last axis of ``logits (..., classes)``; ``ignore_index`` skipped.

    ``labels`` holds one class index per logit row (any shape with that many values, as
    transformers' ``labels.view(-1)``); a different count is an error naming ``name``.
    """
    labels = as_array(name, labels, integer=False)
    rows = logits.reshape(-1, logits.shape[-1])
    if labels.size != rows.shape[0]:
        raise ValueError(
            f"{name} has shape {labels.shape}, but logits of shape {logits.shape} need one label per row "
            f"({rows.shape[0]}): Expected input batch_size ({rows.shape[0]}) to match target batch_size "
            f"({labels.size})."
        )
    labels = labels.reshape(-1)
    value = cross_entropy_forward(rows, labels, ignore_index)
    return value, lambda d_loss: cross_entropy_backward(rows, labels, d_loss, ignore_index).reshape(logits.shape)


def sequence_classification_loss(logits: np.ndarray, labels, config) -> tuple[np.ndarray, GradFn]:
    """Loss of ``logits (batch, num_labels)``; the problem type is inferred once, as transformers does.

    num_labels == 1 -> regression (MSE); integer labels -> single-label (cross-entropy);
    otherwise multi-label (BCE with logits). The inferred type is stored on the config.
    """
    labels = as_array("labels", labels, integer=False)
    num_labels = logits.shape[-1]
    if config.problem_type is None:
        if num_labels == 1:
            config.problem_type = "regression"
        elif np.issubdtype(labels.dtype, np.integer):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    if config.problem_type == "regression":
        if num_labels == 1:  # transformers squeezes both: (batch, 1) logits against (batch,) labels
            value, grad = mse_loss(logits.reshape(-1), labels.reshape(-1))
            return value, lambda d_loss: grad(d_loss).reshape(logits.shape)
        return mse_loss(logits, labels)
    if config.problem_type == "single_label_classification":
        return cross_entropy_loss(logits, labels)
    return bce_with_logits_loss(logits, labels)


def question_answering_loss(
    start_logits: np.ndarray, end_logits: np.ndarray, start_positions, end_positions
) -> tuple[np.ndarray, GradFn]:
    """(CE(start) + CE(end)) / 2 over ``(batch, seq)`` logits; the gradient is ``(batch, seq, 2)``.

    Positions are clamped to ``[0, seq]`` as transformers does: one past the end (or beyond) is
    then ignored; a negative one becomes 0, the [CLS] token, and counts.
    """
    seq = start_logits.shape[1]
    for name, positions in (("start_positions", start_positions), ("end_positions", end_positions)):
        if as_array(name, positions, integer=False).dtype.kind not in "iu":
            raise ValueError(f"{name} must be integer token positions; got dtype {np.asarray(positions).dtype}")
    start = np.clip(np.asarray(start_positions).reshape(-1), 0, seq)
    end = np.clip(np.asarray(end_positions).reshape(-1), 0, seq)
    start_loss, d_start = cross_entropy_loss(start_logits, start, ignore_index=seq, name="start_positions")
    end_loss, d_end = cross_entropy_loss(end_logits, end, ignore_index=seq, name="end_positions")
    value = (start_loss + end_loss) / 2
    return value, lambda d_loss: np.stack([d_start(d_loss / 2), d_end(d_loss / 2)], axis=-1)

"""The losses task heads compute when ``labels`` are given, chosen as transformers chooses them."""

import numpy as np

from nanohf.kernels.losses import cross_entropy_forward


def mse_loss(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """mean((pred - target)²)."""
    diff = pred.astype(np.float32) - target.astype(np.float32)
    return np.float32(np.mean(diff * diff))


def bce_with_logits_loss(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """mean(max(z, 0) - z·y + log(1 + exp(-|z|))): binary cross-entropy on sigmoid(z), stably."""
    z, y = logits.astype(np.float32), targets.astype(np.float32)
    return np.float32(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def sequence_classification_loss(logits: np.ndarray, labels: np.ndarray, config) -> np.ndarray:
    """Loss of ``logits (batch, num_labels)``; the problem type is inferred once, as transformers does.

    num_labels == 1 -> regression (MSE); integer labels -> single-label (cross-entropy);
    otherwise multi-label (BCE with logits). The inferred type is stored on the config.
    """
    labels = np.asarray(labels)
    num_labels = logits.shape[-1]
    if config.problem_type is None:
        if num_labels == 1:
            config.problem_type = "regression"
        elif np.issubdtype(labels.dtype, np.integer):
            config.problem_type = "single_label_classification"
        else:
            config.problem_type = "multi_label_classification"
    if config.problem_type == "regression":
        if num_labels == 1:
            return mse_loss(logits.squeeze(), labels.squeeze())
        return mse_loss(logits, labels)
    if config.problem_type == "single_label_classification":
        return cross_entropy_forward(logits.reshape(-1, num_labels), labels.reshape(-1))
    _check_same_shape("labels", labels, "logits", logits)
    return bce_with_logits_loss(logits, labels)


def token_classification_loss(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Cross-entropy over every token of ``logits (batch, seq, num_labels)``; label -100 is ignored."""
    return cross_entropy_forward(logits.reshape(-1, logits.shape[-1]), np.asarray(labels).reshape(-1))


def question_answering_loss(
    start_logits: np.ndarray, end_logits: np.ndarray, start_positions: np.ndarray, end_positions: np.ndarray
) -> np.ndarray:
    """(CE(start) + CE(end)) / 2 over ``(batch, seq)`` logits.

    Positions outside the sequence are clamped to ``seq`` and then ignored, as transformers does.
    """
    seq = start_logits.shape[1]
    start = np.clip(np.asarray(start_positions).reshape(-1), 0, seq)
    end = np.clip(np.asarray(end_positions).reshape(-1), 0, seq)
    start_loss = cross_entropy_forward(start_logits, start, ignore_index=seq)
    end_loss = cross_entropy_forward(end_logits, end, ignore_index=seq)
    return np.float32((start_loss + end_loss) / 2)


def _check_same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name_a} has shape {a.shape} but {name_b} has shape {b.shape}")

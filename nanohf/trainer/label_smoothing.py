"""Label smoothing (``TrainingArguments(label_smoothing_factor=ε)``): the loss transformers' LabelSmoother computes.

Instead of the one-hot target, each token's target puts 1 - ε on its label and spreads ε evenly over all C
classes. With ``p = softmax(z)`` and N counted (not ignored) positions:

    loss = (1 - ε) · Σ_n -log p[n, y_n] / N   +   ε · Σ_n Σ_c -log p[n, c] / (N·C)

and its gradient with respect to the logits of a counted position (ignored positions get 0):

    d loss / d z[n] = (p[n] - (1 - ε)·onehot(y_n) - ε / C) / N

(the first term gives (p - onehot) as plain cross-entropy does; the second ε·(C·p - 1)/(N·C), because
Σ_c d(-log p_c)/dz = C·p - 1). For a causal LM, position t predicts label t+1 (``shift_labels=True``).
"""

from collections.abc import Callable

import numpy as np

from nanohf.autograd import Loss, is_grad_enabled


class LabelSmoother:
    """``LabelSmoother(epsilon=0.1, ignore_index=-100)(model_output, labels)`` -> a Loss whose ``backward()``
    sends the gradient through ``backward(d_logits)`` (the model's own backward, which the Trainer passes)."""

    def __init__(self, epsilon: float = 0.1, ignore_index: int = -100):
        self.epsilon = epsilon
        self.ignore_index = ignore_index

    def __call__(self, model_output, labels, shift_labels: bool = False, num_items_in_batch: int | None = None,
                 backward: Callable[[np.ndarray], None] | None = None) -> Loss:  # fmt: skip
        full_logits = model_output["logits"] if "logits" in model_output else model_output[0]
        logits, labels = np.asarray(full_logits), np.asarray(labels)
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"label smoothing needs integer class labels, got labels of dtype {labels.dtype}")
        if shift_labels:
            logits, labels = logits[..., :-1, :], labels[..., 1:]
        if labels.shape != logits.shape[:-1]:
            raise ValueError(f"labels of shape {labels.shape} do not match logits of shape {logits.shape}")
        classes = logits.shape[-1]
        z = logits.astype(np.float64)
        z = z - z.max(axis=-1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # log-softmax, (..., C)
        counted = labels != self.ignore_index
        safe = np.where(counted, labels, 0)
        if counted.any() and (safe.min() < 0 or safe.max() >= classes):
            bad = labels[counted & ((labels < 0) | (labels >= classes))][0]
            raise ValueError(f"label {bad} is outside [0, {classes}) (the logits have {classes} classes)")
        nll = -np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0]
        smooth = -log_p.sum(axis=-1)
        denominator = float(num_items_in_batch) if num_items_in_batch is not None else float(counted.sum())
        eps = self.epsilon
        value = (1 - eps) * (nll * counted).sum() / denominator + eps * (smooth * counted).sum() / (
            denominator * classes
        )
        value = logits.dtype.type(value)
        if backward is None or not is_grad_enabled():
            return Loss(value, None)

        def d_logits(d_loss: float) -> np.ndarray:
            grad = np.exp(log_p)
            np.put_along_axis(grad, safe[..., None], np.take_along_axis(grad, safe[..., None], -1) - (1 - eps), -1)
            grad = (grad - eps / classes) * (counted[..., None] * (d_loss / denominator))
            out = np.zeros(full_logits.shape, dtype=full_logits.dtype)
            out[..., : grad.shape[-2] if shift_labels else None, :] = grad  # a causal LM's last position: 0
            return out

        return Loss(value, lambda d_loss: backward(d_logits(d_loss)))

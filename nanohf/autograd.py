"""Autograd-lite: no tape, just a switch and a loss that knows its way back.

Every layer's ``forward`` keeps what its ``backward`` will need — but only while gradients are
enabled (the default, as in PyTorch). ``with nanohf.no_grad():`` turns that off for inference,
so nothing is kept and layers may work in place.

``outputs.loss`` is a ``Loss``: a float you can print, and a ``backward()`` that runs the model's
hand-written backward, which fills ``param.grad`` for every trainable parameter.
"""

from collections.abc import Callable
from contextlib import contextmanager

import numpy as np

_grad_enabled = True


def is_grad_enabled() -> bool:
    return _grad_enabled


@contextmanager
def set_grad_enabled(mode: bool):
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """``with no_grad():`` — forward passes keep nothing for a backward (inference)."""
    return set_grad_enabled(False)


def enable_grad():
    return set_grad_enabled(True)


class Loss:
    """A scalar loss: ``float(loss)``, ``loss.item()``, ``loss / 4``, and ``loss.backward()``.

    ``backward_fn(d_loss)`` sends ``d_loss`` (the gradient of the final objective with respect to
    this loss, 1 for the loss itself) back through the head and the model.
    """

    def __init__(self, value, backward_fn: Callable[[float], None] | None, scale: float = 1.0):
        self.value = np.asarray(value).reshape(())[()]  # a NumPy scalar of the logits' dtype
        self._backward_fn = backward_fn
        self._scale = scale

    def backward(self) -> None:
        if self._backward_fn is None:
            raise RuntimeError(
                "this loss has no way back: either backward() was already called on it (the forward's "
                "caches are freed by the first backward), or its forward ran under nanohf.no_grad()"
            )
        backward_fn, self._backward_fn = self._backward_fn, None
        backward_fn(self._scale)

    def item(self) -> float:
        return float(self.value)

    def detach(self):
        return self.value

    def __float__(self) -> float:
        return float(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    # Scaling a loss scales its gradient (gradient accumulation divides by the number of steps).
    def __mul__(self, factor: float) -> "Loss":
        return Loss(self.value * factor, self._backward_fn, self._scale * factor)

    __rmul__ = __mul__

    def __truediv__(self, divisor: float) -> "Loss":
        return self * (1.0 / divisor)

    def __neg__(self) -> "Loss":
        return self * -1.0

    def __format__(self, spec: str) -> str:
        return format(float(self.value), spec)

    def __repr__(self) -> str:
        return f"Loss({float(self.value):.6g})"

    def __eq__(self, other) -> bool:
        return float(self) == float(other)

    def __lt__(self, other) -> bool:
        return float(self) < float(other)

    __hash__ = None

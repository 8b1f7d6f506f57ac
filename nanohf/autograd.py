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
    """A scalar loss that behaves like torch's 0-d loss tensor where scripts treat it as one.

    ``loss.backward()`` runs the model's hand-written backward. ``float(loss)``, ``loss.item()``,
    ``format(loss, ".4f")``, ``np.asarray(loss)`` (0-d), ``loss.repeat(n)`` (``n`` copies, as torch's
    ``loss.repeat(batch_size)`` that evaluation loops gather), comparisons, and arithmetic.

    ``backward_fn(d_loss)`` sends ``d_loss`` (the gradient of the final objective with respect to
    this loss, 1 for the loss itself) back through the head and the model. Arithmetic keeps that
    way back where the result is an affine function of this one loss: ``c·loss`` and ``loss / c``
    scale the gradient by ``c`` and ``1/c`` (gradient accumulation divides by the number of steps),
    ``loss ± c`` leaves it, ``c - loss`` negates it. Any other result (``loss ** 2``, ``a + b`` of two
    losses) is a value without a way back: its ``backward()`` says so. (Two losses from one model
    cannot be added and back-propagated together here: the second forward replaces what the
    first kept. Call ``backward()`` on each right after its forward: the gradients add up.)
    """

    __array_priority__ = 1000  # NumPy scalars and arrays hand binary operators to Loss (see __array_ufunc__)

    def __init__(self, value, backward_fn: Callable[[float], None] | None, scale: float = 1.0,
                 no_way_back: str | None = None):  # fmt: skip
        self.value = np.asarray(value).reshape(())[()]  # a NumPy scalar of the logits' dtype
        self._backward_fn = backward_fn
        self._scale = scale
        self._no_way_back = no_way_back

    @property
    def requires_grad(self) -> bool:
        """Whether ``backward()`` has a way back (as a torch loss that is part of a graph)."""
        return self._backward_fn is not None

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:  # fmt: skip
        """Run the model's backward once. ``gradient`` (torch's argument: d objective / d loss) scales what flows
        back; ``retain_graph``/``create_graph``/``inputs`` have no meaning without a tape and are refused."""
        if retain_graph or create_graph or inputs is not None:
            raise RuntimeError(
                "loss.backward(retain_graph/create_graph/inputs): nanohf has no autograd tape — each layer keeps "
                "exactly what its own backward needs and frees it there, so a backward runs once, through every "
                "parameter, and has no graph to keep or differentiate again"
            )
        if self._backward_fn is None:
            raise RuntimeError(
                self._no_way_back
                or "this loss has no way back: either backward() was already called on it (the forward's "
                "caches are freed by the first backward), or its forward ran under nanohf.no_grad()"
            )
        backward_fn, self._backward_fn = self._backward_fn, None
        backward_fn(self._scale * (1.0 if gradient is None else float(np.asarray(gradient))))

    # --- a 0-d array ------------------------------------------------------------------------------------
    shape: tuple = ()
    ndim = 0
    size = 1

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def item(self) -> float:
        return float(self.value)

    def tolist(self) -> float:
        return float(self.value)

    def numpy(self) -> np.ndarray:
        return np.asarray(self.value)

    def detach(self) -> "Loss":
        """The same value with no way back (torch's ``loss.detach()``)."""
        return Loss(self.value, None, no_way_back="a detached loss has no way back (detach() cut it)")

    def cpu(self) -> "Loss":
        return self

    def float(self) -> "Loss":
        """The value as float32, the way back kept (torch's ``loss.float()``)."""
        return Loss(np.float32(self.value), self._backward_fn, self._scale, self._no_way_back)

    def double(self) -> "Loss":
        return Loss(np.float64(self.value), self._backward_fn, self._scale, self._no_way_back)

    def mean(self, *args, **kwargs) -> "Loss":
        return self  # the mean (or sum) of a single value is that value, and so is its gradient

    sum = mean

    def repeat(self, *sizes) -> np.ndarray:
        """An array of shape ``sizes`` filled with the value: ``loss.repeat(8)`` -> 8 copies (no way back)."""
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], tuple | list) else sizes
        return np.full(shape, self.value, dtype=self.value.dtype)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __format__(self, spec: str) -> str:
        return format(float(self.value), spec)

    def __repr__(self) -> str:
        return f"Loss({float(self.value):.6g})"

    # --- arithmetic ---------------------------------------------------------------------------------------
    def _affine(self, value, scale: float) -> "Loss":
        """A result ``a·loss + b``: the same way back, its gradient scaled by ``a``."""
        return Loss(value, self._backward_fn, self._scale * scale, self._no_way_back)

    def _value_only(self, value):
        """A result that is not affine in this loss: a plain array when it has a shape, else a Loss without a
        way back that says why."""
        value = np.asarray(value)
        if value.ndim:
            return value
        return Loss(value, None, no_way_back=(
            "this value was computed from a loss by an operation nanohf does not differentiate (only c·loss, "
            "loss / c, loss ± c and c - loss keep a way back): call backward() on the loss itself"))  # fmt: skip

    def __mul__(self, other) -> "Loss":
        return self._affine(self.value * _plain(other), float(_plain(other))) if _is_scalar(other) else \
            self._value_only(self.value * _plain(other))  # fmt: skip

    __rmul__ = __mul__

    def __truediv__(self, other) -> "Loss":
        return self._affine(self.value / _plain(other), 1.0 / float(_plain(other))) if _is_scalar(other) else \
            self._value_only(self.value / _plain(other))  # fmt: skip

    def __rtruediv__(self, other):
        return self._value_only(_plain(other) / self.value)

    def __add__(self, other) -> "Loss":
        return self._affine(self.value + _plain(other), 1.0) if _is_scalar(other) else \
            self._value_only(self.value + _plain(other))  # fmt: skip

    __radd__ = __add__

    def __sub__(self, other) -> "Loss":
        return self._affine(self.value - _plain(other), 1.0) if _is_scalar(other) else \
            self._value_only(self.value - _plain(other))  # fmt: skip

    def __rsub__(self, other) -> "Loss":
        return self._affine(_plain(other) - self.value, -1.0) if _is_scalar(other) else \
            self._value_only(_plain(other) - self.value)  # fmt: skip

    def __neg__(self) -> "Loss":
        return self._affine(-self.value, -1.0)

    def __pos__(self) -> "Loss":
        return self

    def __abs__(self):
        return self._value_only(abs(self.value))

    def __pow__(self, other):
        return self._value_only(self.value ** _plain(other))

    def __rpow__(self, other):
        return self._value_only(_plain(other) ** self.value)

    def __floordiv__(self, other):
        return self._value_only(self.value // _plain(other))

    def __mod__(self, other):
        return self._value_only(self.value % _plain(other))

    def __eq__(self, other):
        return self.value == _plain(other)

    def __ne__(self, other):
        return self.value != _plain(other)

    def __lt__(self, other):
        return self.value < _plain(other)

    def __le__(self, other):
        return self.value <= _plain(other)

    def __gt__(self, other):
        return self.value > _plain(other)

    def __ge__(self, other):
        return self.value >= _plain(other)

    __hash__ = None

    _OPERATORS = {"add": "__radd__", "subtract": "__rsub__", "multiply": "__rmul__", "true_divide": "__rtruediv__"}

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        """NumPy functions of a loss (``np.exp(loss)``, ``np.mean([loss, ...])``) compute on its value; a NumPy
        scalar times or plus a loss (``np.float32(0.5) * loss``) goes to Loss's own operators, way back kept."""
        if method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is self and \
                ufunc.__name__ in self._OPERATORS and _is_scalar(inputs[0]):  # fmt: skip
            return getattr(self, self._OPERATORS[ufunc.__name__])(inputs[0])
        plain = [x.value if isinstance(x, Loss) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)


def _plain(x):
    return x.value if isinstance(x, Loss) else x


def _is_scalar(x) -> bool:
    """A number (not a Loss: a result computed from two losses has no way back here)."""
    return not isinstance(x, Loss) and np.ndim(x) == 0 and np.isrealobj(x)

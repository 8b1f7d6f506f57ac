"""Collective operations on nested data, as 🤗 accelerate's ``accelerate.utils.operations``.

A *tensor* here is a NumPy array (or NumPy scalar); data is a tensor or a list / tuple / dict of data.
Every function walks the structure and applies one collective per leaf, in the same order on every rank
(so the ranks' messages pair up).

In a world of one, as in accelerate without a distributed launch, ``gather`` and ``gather_object`` return
their input unchanged (a 0-d array stays 0-d); across W ranks a 0-d array becomes a (W,) array, one
entry per rank, and an (n, ...) array an (ΣW n, ...) array, in rank order.
"""

from collections.abc import Callable, Mapping

import numpy as np

from nanohf import distributed as dist


def is_tensor(value) -> bool:
    return isinstance(value, (np.ndarray, np.generic))


def is_nested_tensors(data) -> bool:
    """True when every leaf of ``data`` is an array (accelerate's ``recursively_apply(..., error_on_other_type)``)."""
    if isinstance(data, (list, tuple)):
        return all(is_nested_tensors(x) for x in data)
    if isinstance(data, Mapping):
        return all(is_nested_tensors(x) for x in data.values())
    return is_tensor(data)


def recursively_apply(function: Callable, data, *args, **kwargs):
    """``function(leaf, *args, **kwargs)`` for every leaf, the structure (list, tuple, namedtuple, dict) kept."""
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return type(data)(*(recursively_apply(function, x, *args, **kwargs) for x in data))
    if isinstance(data, (list, tuple)):
        return type(data)(recursively_apply(function, x, *args, **kwargs) for x in data)
    if isinstance(data, Mapping):
        return type(data)({k: recursively_apply(function, v, *args, **kwargs) for k, v in data.items()})
    return function(data, *args, **kwargs)


def _as_array(value) -> np.ndarray:
    if is_tensor(value):
        return np.asarray(value)
    if isinstance(value, (bool, int, float, complex)) or hasattr(value, "__array__"):
        return np.asarray(value)  # a Python number or a Loss: a 0-d array
    raise TypeError(
        f"Unsupported types ({type(value)}) passed to `gather`: only NumPy arrays (and numbers), or "
        "nested lists/tuples/dicts of them, can be gathered; use `gather_object` for other objects."
    )


def gather(data):
    """Every rank's arrays concatenated along the first axis, in rank order, on every rank."""
    if dist.world_size() == 1:
        return recursively_apply(lambda x: x if is_tensor(x) else _as_array(x), data)

    def gather_one(array):
        array = _as_array(array)
        if array.ndim == 0:
            array = array[None]  # a scalar per rank: one row each
        parts = dist.all_gather_object(np.ascontiguousarray(array))
        shapes = {part.shape[1:] for part in parts}
        if len(shapes) > 1:
            raise ValueError(
                f"gather: the ranks' arrays differ beyond the first axis ({sorted(shapes)}); "
                "call pad_across_processes first"
            )
        return np.concatenate(parts, axis=0)

    return recursively_apply(gather_one, data)


def gather_object(obj):
    """Every rank's ``obj`` (a list, say of decoded strings), concatenated in rank order (one rank: ``obj``)."""
    if dist.world_size() == 1:
        return obj
    return [item for part in dist.all_gather_object(obj) for item in part]


def pad_across_processes(data, dim: int = 0, pad_index=0, pad_first: bool = False):
    """Pad each array along ``dim`` with ``pad_index`` to the largest size any rank has there, so that the
    arrays can be gathered (e.g. generated token ids of different lengths). ``pad_first`` pads on the left."""

    def pad_one(array):
        array = _as_array(array)
        if dim >= array.ndim or dim < -array.ndim:
            return array
        axis = dim % array.ndim
        sizes = dist.all_gather_object(array.shape[axis]) if dist.world_size() > 1 else [array.shape[axis]]
        extra = max(sizes) - array.shape[axis]
        if extra == 0:
            return array
        widths = [(0, 0)] * array.ndim
        widths[axis] = (extra, 0) if pad_first else (0, extra)
        return np.pad(array, widths, constant_values=pad_index)

    return recursively_apply(pad_one, data)


def reduce(data, reduction: str = "mean", scale: float = 1.0):
    """Sum, mean or max of each array over the ranks, elementwise; "none" (and a world of one) returns a copy.
    ``scale`` is accepted for accelerate's signature; as there, it only applies on TPUs."""
    if reduction not in ("mean", "sum", "max", "none"):
        raise ValueError(f"reduction must be one of 'mean', 'sum', 'max' or 'none', got {reduction!r}")

    def reduce_one(array):
        array = _as_array(array).copy()
        if dist.world_size() == 1 or reduction == "none":
            return array
        parts = np.stack(dist.all_gather_object(array))  # summed in rank order: the same result on every rank
        if reduction == "max":
            return parts.max(axis=0)
        total = parts.sum(axis=0, dtype=array.dtype)
        return total / dist.world_size() if reduction == "mean" else total

    return recursively_apply(reduce_one, data)


def only_if(function: Callable | None, condition: Callable[[], bool]):
    """``function`` wrapped to run only when ``condition()`` holds (as a decorator, with or without a call)."""
    if function is None:
        return lambda f: only_if(f, condition)

    def wrapper(*args, **kwargs):
        return function(*args, **kwargs) if condition() else None

    wrapper.__name__, wrapper.__doc__ = getattr(function, "__name__", "wrapper"), function.__doc__
    return wrapper


def split(inputs, num: int, index: int, apply_padding: bool):
    """Rank ``index``'s part of ``inputs`` out of ``num`` (accelerate's PartialState.split_between_processes)."""
    if num == 1:
        return inputs
    if isinstance(inputs, dict):
        return {k: split(v, num, index, apply_padding) for k, v in inputs.items()}
    length = len(inputs)
    per, extra = divmod(length, num)
    start = index * per + min(index, extra)
    end = start + per + (1 if index < extra else 0)
    part = inputs[start:end]
    if apply_padding and extra and index >= extra and length:
        last = inputs[-1:]
        part = np.concatenate([part, last]) if isinstance(part, np.ndarray) else part + type(part)(last)
    return part

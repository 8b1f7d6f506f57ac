"""The keyword arguments of ``pipeline()`` that say where and in what precision the model runs.

nanohf runs on the CPU in NumPy. transformers' spellings of "the CPU" are accepted; so is what transformers
falls back to the CPU for on a machine without an accelerator (``device=None`` or a GPU ordinal such as
``device=0``). A device string or ``torch.device`` naming an accelerator ("cuda", "cuda:1", "mps", ...) is an
error, as it is in transformers on a CPU-only machine. Precision: float32, what nanohf computes in (the
default "auto" keeps the checkpoint's, which nanohf loads as float32); half precisions need an accelerator and
any other precision is refused.
"""

import logging

import numpy as np

logger = logging.getLogger(__name__)

CPU_NAMES = ("cpu",)
FLOAT_DTYPES = {"float32": np.float32, "float": np.float32}
HALF_DTYPES = ("float16", "half", "bfloat16")


def device_name(device) -> str:
    """``device`` (None, an int, a str, a ``torch.device``) -> ``"cpu"``, or ValueError for an accelerator."""
    if device is None:
        return "cpu"
    if isinstance(device, bool) or not isinstance(device, (int, str)):
        kind = getattr(device, "type", None)  # torch.device without importing torch
        if kind is None:
            raise ValueError(f"device={device!r}: give -1, 'cpu' or a torch.device")
        index = getattr(device, "index", None)
        device = str(kind) if index is None else f"{kind}:{index}"
    if isinstance(device, int):
        if device >= 0:
            # transformers reads an ordinal as "the first accelerator" and uses the CPU when there is none.
            logger.warning("device=%d: nanohf has no accelerator, so the pipeline runs on the CPU", device)
        return "cpu"
    if device in CPU_NAMES:  # torch's spelling: lower case
        return "cpu"
    raise ValueError(
        f"device={device!r}: nanohf runs on the CPU only (NumPy); use device='cpu' or -1. "
        "(transformers fails the same way without that accelerator.)"
    )


def check_device_map(device_map) -> None:
    """``device_map`` may say the CPU ("cpu", {"": "cpu"}, "auto" -> the CPU here); a GPU is an error."""
    if device_map is None or device_map == "auto":
        return
    values = device_map.values() if isinstance(device_map, dict) else [device_map]
    for value in values:
        if value in ("disk", "meta"):
            raise ValueError(f"device_map={device_map!r}: nanohf keeps every weight in memory, on the CPU")
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            # An ordinal in a device map places weights on that accelerator (transformers then fails to load).
            raise ValueError(f"device_map={device_map!r} puts weights on accelerator {value}; nanohf runs on the CPU")
        try:
            device_name(value)
        except ValueError as error:
            raise ValueError(f"device_map={device_map!r}: {error}") from None


def numpy_dtype(dtype):
    """``dtype`` ("auto", None, "float32", np.float32, torch.float32) -> None (keep the checkpoint's, float32
    in nanohf) or np.float32; ValueError for any other precision."""
    if dtype is None or dtype == "auto":
        return None
    name = str(getattr(dtype, "__name__", dtype)).removeprefix("torch.")
    try:
        name = np.dtype(name).name if name not in FLOAT_DTYPES and name not in HALF_DTYPES else name
    except TypeError:
        pass
    if name in HALF_DTYPES:
        raise ValueError(f"dtype={dtype!r}: nanohf computes in float32 on the CPU; half precision needs an "
                         "accelerator")  # fmt: skip
    if name not in FLOAT_DTYPES:
        raise ValueError(f"dtype={dtype!r}: nanohf's pipelines run in float32; give 'auto' or 'float32'")
    return np.dtype(FLOAT_DTYPES[name])

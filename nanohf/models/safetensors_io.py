"""Reading and writing ``model.safetensors``, with every way a file can be broken named.

The format: 8 bytes (little-endian u64) giving the header's length N, then N bytes of JSON::

    {"__metadata__": {"format": "pt"},
     "bert.embeddings.word_embeddings.weight": {"dtype": "F32", "shape": [30522, 768],
                                                "data_offsets": [begin, end]}, ...}

then the raw tensor bytes, offsets counted from the end of the header. We check the header
ourselves (so a truncated or corrupt file gets an error naming the file and the tensor, not a
crash), then read each tensor straight into a new NumPy array (one read, no second copy: the
model then adopts the arrays as its parameters). NumPy has no bfloat16, so BF16 tensors are
widened to float32 here by hand: a bf16 number is the top 16 bits of a float32. Writing goes
through the ``safetensors`` package.
"""

import io
import json
import math
import os
import struct
from pathlib import Path

import numpy as np
from safetensors.numpy import save as safetensors_dumps

from nanohf.models.hub import write_atomically

DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}  # fmt: skip
FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
NUMPY_DTYPES = {
    "BOOL": "?", "U8": "u1", "I8": "i1", "I16": "<i2", "U16": "<u2", "F16": "<f2",
    "I32": "<i4", "U32": "<u4", "F32": "<f4", "I64": "<i8", "U64": "<u8", "F64": "<f8",
}  # fmt: skip  (BF16 and the float8 types have no NumPy dtype)


class SafetensorsError(ValueError):
    """A ``.safetensors`` file that cannot be read; the message names the file and the tensor."""


MAX_HEADER_BYTES = 100_000_000  # the format's limit (and the safetensors library's)
U64_MAX = 2**64 - 1


def _is_u64(value) -> bool:
    """A JSON unsigned integer as the format means it: not a bool, not a float, not past 2⁶⁴ - 1."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= U64_MAX


def _parse_header_json(path: Path, raw: bytes) -> dict:
    """The header as the spec reads it: UTF-8 JSON (no BOM, no UTF-16/32), one object, string metadata."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SafetensorsError(f"{path}: header is not valid UTF-8 ({err})") from None
    metadata_count = 0

    def pairs_to_dict(pairs):
        nonlocal metadata_count
        metadata_count += sum(key == "__metadata__" for key, _ in pairs)
        return dict(pairs)  # a repeated tensor name: the last one counts, as in the safetensors library

    try:
        header = json.loads(text, object_pairs_hook=pairs_to_dict)
    except json.JSONDecodeError as err:
        raise SafetensorsError(f"{path}: header is not valid JSON ({err})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header must be a JSON object, not {type(header).__name__}")
    if metadata_count > 1:
        raise SafetensorsError(f"{path}: header has more than one __metadata__ entry")
    metadata = header.pop("__metadata__", None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise SafetensorsError(f"{path}: __metadata__ must map strings to strings, got {metadata!r:.200}")
    return header


def read_header(path: str | os.PathLike) -> dict[str, dict]:
    """Parse and check the header; returns ``{tensor name: {"dtype", "shape", "data_offsets"}}``."""
    path = Path(path)
    file_size = path.stat().st_size
    if file_size < 8:
        raise SafetensorsError(f"{path}: {file_size} bytes is too short for a safetensors file (truncated?)")
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        if header_len > MAX_HEADER_BYTES:
            raise SafetensorsError(
                f"{path}: header length {header_len} is larger than the format's limit of {MAX_HEADER_BYTES} bytes"
            )
        if header_len > file_size - 8:
            raise SafetensorsError(
                f"{path}: header length {header_len} runs past the end of the file ({file_size} bytes)"
            )
        raw = f.read(header_len)
    header = _parse_header_json(path, raw)

    data_size = file_size - 8 - header_len
    for name, info in header.items():
        if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= info.keys():
            raise SafetensorsError(f"{path}: tensor {name!r} lacks dtype, shape or data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if not isinstance(dtype, str) or dtype not in DTYPE_SIZES:
            raise SafetensorsError(f"{path}: tensor {name!r} has unknown dtype {dtype!r}")
        if not (isinstance(shape, list) and all(_is_u64(d) for d in shape)):
            raise SafetensorsError(f"{path}: tensor {name!r} has an invalid shape {shape!r}")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(_is_u64(o) for o in offsets)):
            raise SafetensorsError(f"{path}: tensor {name!r} has invalid data_offsets {offsets!r}")
        begin, end = offsets
        if not 0 <= begin <= end <= data_size:
            raise SafetensorsError(
                f"{path}: tensor {name!r} has data_offsets [{begin}, {end}] outside the data section of "
                f"{data_size} bytes (file truncated or corrupt)"
            )
        expected = math.prod(shape) * DTYPE_SIZES[dtype]  # Python ints: a huge shape cannot wrap around
        if expected > U64_MAX:
            raise SafetensorsError(f"{path}: tensor {name!r} of shape {shape} overflows 64 bits of bytes")
        if end - begin != expected:
            raise SafetensorsError(
                f"{path}: tensor {name!r} of dtype {dtype} and shape {shape} needs {expected} bytes, "
                f"its data_offsets span {end - begin}"
            )
    # The tensors must tile the data section exactly: no overlaps, no gaps, no trailing bytes.
    position = 0
    for name, info in sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        if begin != position:
            what = "overlaps the tensor before it" if begin < position else f"leaves bytes {position}-{begin} unused"
            raise SafetensorsError(f"{path}: tensor {name!r} at data_offsets [{begin}, {end}] {what}")
        position = end
    if position != data_size:
        raise SafetensorsError(
            f"{path}: the tensors cover {position} bytes of a data section of {data_size} (trailing bytes)"
        )
    return header


def load_safetensors(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every tensor of the file as a new, writable NumPy array; floating tensors as float32 (F16/BF16/F64
    are converted)."""
    path = Path(path)
    header = read_header(path)
    tensors: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        for name, info in header.items():
            begin, end = info["data_offsets"]
            f.seek(8 + header_len + begin)
            if info["dtype"] == "BF16":
                bits = np.fromfile(f, dtype="<u2", count=(end - begin) // 2)
                array = (bits.astype(np.uint32) << 16).view(np.float32)
            elif info["dtype"] in NUMPY_DTYPES:
                dtype = np.dtype(NUMPY_DTYPES[info["dtype"]])
                array = np.fromfile(f, dtype=dtype, count=(end - begin) // dtype.itemsize)
            else:
                raise SafetensorsError(f"{path}: tensor {name!r} has dtype {info['dtype']}, which NumPy cannot hold")
            if info["dtype"] in FLOAT_DTYPES and array.dtype != np.float32:
                array = array.astype(np.float32)
            tensors[name] = array.reshape(info["shape"])
    return tensors


def save_safetensors(tensors: dict[str, np.ndarray], path: str | os.PathLike, metadata: dict | None = None) -> None:
    """Write ``tensors`` to ``path`` atomically, with ``{"format": "pt"}`` metadata as transformers writes."""
    contiguous = {name: np.ascontiguousarray(array) for name, array in tensors.items()}
    data = safetensors_dumps(contiguous, metadata={"format": "pt", **(metadata or {})})
    write_atomically(path, data)


def metadata_of(path: str | os.PathLike) -> dict[str, str]:
    """The ``__metadata__`` of a file (``{"format": "pt"}`` for transformers' files)."""
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        return json.load(io.BytesIO(f.read(header_len))).get("__metadata__", {})

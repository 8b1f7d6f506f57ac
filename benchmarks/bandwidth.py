"""Streaming read bandwidth of this machine, and greedy decoding measured against it.

Greedy decoding with a KV cache multiplies one token's vector (or a few, batch 4 or 8) by every weight matrix
of the model once per step: a matrix-vector product reads each weight once and does two FLOPs with it, so the
step is limited by how fast memory delivers the weights, not by arithmetic. The benchmark therefore measures,
in the same run:

* **read bandwidth**: the sum of a float32 array of ``megabytes`` (512 MB by default, far beyond any cache),
  a Numba loop compiled with ``fastmath`` (so LLVM vectorises the sum: the loop does nothing but stream
  the array through the cores' vector units), best of ``repeats`` passes; once on one thread and once on
  every core (Numba's ``prange`` splits the array into one contiguous slice per thread);
* **matrix-vector bandwidth**: the same bytes as a (rows, 4096) matrix times a vector through NumPy's ``@``
  (OpenBLAS's sgemv, its own threads): what the decoding steps themselves call, so the practical ceiling;
* **copy bandwidth** (NumPy ``np.copyto`` of the same array into another, bytes read + bytes written over
  the time), for reference: what a "memcpy benchmark" reports.

A decoding row's *fraction of bandwidth* is (bytes of weights read per generated token) × (tokens/s of
batch-1 decoding) ÷ (read bandwidth on every core). The bytes per token are the checkpoint's tensors
(safetensors header: every tensor's shape and dtype) except a position-embedding table, of which a step reads
one row; a tied embedding matrix counts once, as the output projection reads it whole. tokens/s is the
race's: new tokens over the time of the whole ``generate`` call, whose prompt pass (16 tokens) is included,
so the fraction slightly understates the steps' own rate.
"""

import json
import struct
import time
from pathlib import Path

import numba
import numpy as np

# nanohf.kernels picks Numba's threading layer (the sleeping "workqueue" pool) before any parallel kernel
# runs; Numba fixes the layer at the first parallel launch, and this file's kernel ran first in a full run,
# so every later nanohf kernel ran on OpenMP's spinning pool, fighting OpenBLAS's threads.
import nanohf.kernels  # noqa: F401

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
# Tables of which one decoding step reads one row (position embeddings), per model family's checkpoint name.
ROW_READ_TABLES = ("wpe.weight", "position_embeddings.weight", "embed_positions.weight")


@numba.njit(parallel=True, fastmath=True, cache=True)
def _read_sum(a: np.ndarray) -> float:
    total = np.float32(0.0)
    for i in numba.prange(a.size):
        total += a[i]
    return total


def _best_seconds(call, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def measure_bandwidth(megabytes: float = 512, repeats: int = 7) -> dict:
    """GB/s (1e9 bytes) of the module's passes: {"read_1_thread_gbs", "read_all_threads_gbs", "threads",
    "gemv_gbs", "copy_gbs", "megabytes", "method"}."""
    a = np.ones(int(megabytes * 1e6) // 4, dtype=np.float32)
    b = np.empty_like(a)
    threads = numba.config.NUMBA_NUM_THREADS
    previous = numba.get_num_threads()
    _read_sum(a)  # compile (or load from the cache) and touch every page once
    try:
        numba.set_num_threads(1)
        one = _best_seconds(lambda: _read_sum(a), repeats)
        numba.set_num_threads(threads)
        every = _best_seconds(lambda: _read_sum(a), repeats)
    finally:
        numba.set_num_threads(previous)
    matrix, vector = a[: a.size // 4096 * 4096].reshape(-1, 4096), np.ones(4096, dtype=np.float32)
    gemv = _best_seconds(lambda: matrix @ vector, repeats)
    np.copyto(b, a)
    copy = _best_seconds(lambda: np.copyto(b, a), repeats)
    return {
        "read_1_thread_gbs": a.nbytes / one / 1e9,
        "read_all_threads_gbs": a.nbytes / every / 1e9,
        "threads": threads,
        "gemv_gbs": matrix.nbytes / gemv / 1e9,
        "copy_gbs": 2 * a.nbytes / copy / 1e9,
        "megabytes": a.nbytes / 1e6,
        "method": f"Numba fastmath sum of a {a.nbytes / 1e6:.0f} MB float32 array, best of {repeats}; "
        "gemv: (rows, 4096) @ vector; copy: np.copyto, read + written bytes",
    }


def weight_bytes_per_token(folder: Path) -> int:
    """Bytes of the checkpoint's tensors that one decoding step reads (all but position-embedding tables)."""
    path = Path(folder) / "model.safetensors"
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    total = 0
    for name, info in header.items():
        if name == "__metadata__" or name.endswith(ROW_READ_TABLES):
            continue
        total += int(np.prod(info["shape"], dtype=np.int64)) * DTYPE_BYTES[info["dtype"]]
    return total


def decode_fractions(row: dict, bandwidth: dict) -> dict:
    """{"weight_mb_per_token", per library {"gbs", "fraction"}} for a batch-1 decoding row (see the module)."""
    out = {"weight_mb_per_token": row["weight_bytes_per_token"] / 1e6}
    for library in ("nanohf", "transformers"):
        tokens_per_s = row["items"] / row[library]["median_s"]
        gbs = row["weight_bytes_per_token"] * tokens_per_s / 1e9
        out[library] = {"gbs": gbs, "fraction": gbs / bandwidth["read_all_threads_gbs"]}
    return out


if __name__ == "__main__":
    print(json.dumps(measure_bandwidth(), indent=1))

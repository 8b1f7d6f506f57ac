"""Embedding lookup and its backward.

Forward:   out[b, s, :] += table[ids[b, s], :]
Backward:  d_table[ids[b, s], :] += d_out[b, s, :]     (a scatter-add: repeated ids add up)

BERT sums three lookups (word, position, token type), DistilBERT two: calling the forward once
per table adds each in place, with no temporary (batch, seq, hidden) array per table.
"""

import numpy as np
from numba import njit, prange

from nanohf.kernels.parallel import parallel_njit


@parallel_njit()
def _gather_add_rows(out, table, ids):  # out first: its size is the work, which picks threads or not
    n, hidden = out.shape
    for r in prange(n):
        row = ids[r]
        for j in range(hidden):
            out[r, j] += table[row, j]


@njit(cache=True)
def _scatter_add_rows(d_out, ids, d_table, skip_id):
    # Serial on purpose: two rows with the same id would race if run in parallel.
    n, hidden = d_out.shape
    for r in range(n):
        row = ids[r]
        if row == skip_id:
            continue
        for j in range(hidden):
            d_table[row, j] += d_out[r, j]


def _flat_ids(ids: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # Always a fresh, writable int64 copy (batch × seq integers: nothing to the cost of a lookup). A read-only
    # view (broadcast_to of ids already of the shape) is another type to Numba: each kernel would be compiled
    # twice, once per kind of array, and a first run spent ~3 s compiling those twins.
    return np.array(np.broadcast_to(ids, shape), dtype=np.int64).reshape(-1)


def gather_add_forward(table: np.ndarray, ids: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out (batch, seq, hidden) += table[ids]`` for ``ids (batch, seq)``.

    An id outside the table is refused here, before the kernel runs: compiled code does not check
    bounds, so ``table[-3]`` would read the third row from the end and ``table[10**9]`` memory that
    is not the table's. (Models check their inputs first, with the argument's name; this is the last
    line of defence, for every lookup.)
    """
    rows, hidden = table.shape
    flat = _flat_ids(ids, out.shape[:-1])
    if flat.size and (flat.min() < 0 or flat.max() >= rows):
        bad = int(flat[(flat < 0) | (flat >= rows)][0])
        raise IndexError(f"embedding lookup of id {bad}, outside the table's rows [0, {rows})")
    _gather_add_rows(out.reshape(-1, hidden), table, flat)
    return out


def scatter_add_backward(
    d_out: np.ndarray, ids: np.ndarray, d_table: np.ndarray, skip_id: int | None = None
) -> np.ndarray:
    """``d_table[ids] += d_out`` row by row, for ``d_out (batch, seq, hidden)``; returns ``d_table``.

    Positions whose id is ``skip_id`` (an embedding's padding_idx) add nothing."""
    hidden = d_table.shape[1]
    d_rows = np.ascontiguousarray(d_out).reshape(-1, hidden)
    _scatter_add_rows(d_rows, _flat_ids(ids, d_out.shape[:-1]), d_table, -1 if skip_id is None else skip_id)
    return d_table

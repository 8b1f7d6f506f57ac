"""Embedding lookup: rows of a table gathered by id, added into an output.

    out[b, s, :] += table[ids[b, s], :]

BERT sums three lookups (word, position, token type), DistilBERT two: calling this once per
table adds each in place, with no temporary (batch, seq, hidden) array per table.
"""

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def _gather_add_rows(table, ids, out):
    n, hidden = out.shape
    for r in prange(n):
        row = ids[r]
        for j in range(hidden):
            out[r, j] += table[row, j]


def gather_add_forward(table: np.ndarray, ids: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out (batch, seq, hidden) += table[ids]`` for ``ids (batch, seq)``; ids must be in range."""
    hidden = table.shape[1]
    ids_flat = np.ascontiguousarray(np.broadcast_to(ids, out.shape[:-1])).reshape(-1)
    _gather_add_rows(table, ids_flat.astype(np.int64, copy=False), out.reshape(-1, hidden))
    return out

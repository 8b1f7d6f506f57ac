"""`map(num_proc=N)`: the batches of a map shared out between N worker processes.

The list of batches (the same one `num_proc=1` walks through) is cut into N contiguous groups; worker i
runs the function over group i and writes its output columns as a cache table (cache.py's safe format:
.npy and JSON, no pickle) in a temporary folder; the parent reads the N tables back and joins each column
in order. So the rows, their order, `with_indices` positions and the fingerprint are those of `num_proc=1`.

Workers are forked where the platform can (Linux): they inherit the data set and the function, which
therefore need not be picklable (a lambda is fine), as with 🤗 datasets' `multiprocess`.
"""

import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
from tqdm.auto import tqdm

from . import cache
from .columns import NumericColumn, ObjectColumn, RaggedColumn, concat_columns, object_array

_JOB = None  # (job, groups, folder): what the forked workers run, set by the parent just before the pool starts


def _work(index):
    """Worker `index`: run its group of batches, save the output columns; returns (index, rows, sizes, all_none)."""
    job, groups, folder = _JOB
    columns, sizes, all_none = job(groups[index])
    rows = sum(len(chunk) for chunk in groups[index])
    shard = os.path.join(folder, str(index))
    os.makedirs(shard)
    try:
        cache.write_table(shard, columns, {name: column.feature() for name, column in columns.items()},
                          len(next(iter(columns.values()))) if columns else rows)
    except cache.NotCacheable as error:
        raise ValueError(f"map(num_proc>1): worker {index} cannot hand its result back ({error}); the workers "
                         "pass results through the safe cache format. Use num_proc=None.") from None
    return index, rows, sizes, all_none


def run_in_workers(job, chunks, num_proc, desc="Map", progress=True, declared=None):
    """Run `job(group of chunks) -> ({name: column}, sizes, all_none)` over `chunks` in `num_proc` processes.

    Returns the same triple for all chunks: each column joined in chunk order, the sizes concatenated.
    """
    global _JOB
    num_proc = min(num_proc, len(chunks))
    bounds = np.linspace(0, len(chunks), num_proc + 1).round().astype(int)
    groups = [chunks[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    folder = tempfile.mkdtemp(prefix="nanohf-map-")
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    _JOB = (job, groups, folder)
    bar = tqdm(total=sum(len(chunk) for chunk in chunks), desc=f"{desc} (num_proc={num_proc})",
               unit=" examples", disable=not progress)
    try:
        results = [None] * num_proc
        # concurrent.futures, not multiprocessing.Pool: a worker that dies (killed, out of memory) raises
        # BrokenProcessPool here instead of leaving the parent waiting forever.
        with ProcessPoolExecutor(num_proc, mp_context=multiprocessing.get_context(method)) as pool:
            for future in as_completed([pool.submit(_work, i) for i in range(num_proc)]):
                index, rows, sizes, all_none = future.result()
                results[index] = (rows, sizes, all_none)
                bar.update(rows)
        tables = [cache.load_table(os.path.join(folder, str(i))) for i in range(num_proc)]
        names = list(dict.fromkeys(name for table in tables for name in table[0]))
        columns = {}
        for name in names:  # a key some workers' examples never returned: None there (as num_proc=1 does)
            parts = [_in_memory(table[0][name]) if name in table[0] else ObjectColumn(object_array([None] * table[2]))
                     for table in tables]
            columns[name] = concat_columns(parts, name, (declared or {}).get(name))
        sizes = [size for result in results for size in result[1]]
        return columns, sizes, all(result[2] for result in results)
    finally:
        bar.close()
        _JOB = None
        shutil.rmtree(folder, ignore_errors=True)


def _in_memory(column):
    """A memory-mapped column read into memory (the temporary folder is deleted once the columns are joined)."""
    if isinstance(column, NumericColumn):
        return NumericColumn(np.array(column.data))
    if isinstance(column, RaggedColumn):
        return RaggedColumn(np.array(column.values), np.array(column.offsets))
    return column

"""`Dataset.map` and `Dataset.filter`: run a function over every example (or batch), with a progress bar
and a disk cache.

    tokenized = raw.map(lambda batch: tokenizer(batch["sentence"], truncation=True), batched=True)

The function's output columns are added to the input columns (overwriting those with the same names);
`remove_columns` drops input columns first. With `batched=True` the function sees {column: list of
batch_size values} and may return a different number of rows (e.g. one per overflow window), provided
no input column is kept: kept columns would no longer line up with the new rows.

Caching: the result is written to `<cache dir>/map-<fingerprint>/` where the fingerprint hashes the input
data set's fingerprint, the function (fingerprint.py) and the arguments that change the result. The next
run with the same data, function and arguments loads that folder instead of calling the function: the
course's "re-running the notebook is instant". `load_from_cache_file=False` recomputes (and rewrites);
`disable_caching()` keeps everything in memory.
"""

import itertools
import os
import warnings
from collections.abc import Mapping

import numpy as np
from tqdm.auto import tqdm

from . import cache
from .columns import column_from_values
from .features import Features, same_storage
from .fingerprint import Unhashable, hash_value
from .parallel import run_in_workers

_progress_bars = True


def enable_progress_bars():
    global _progress_bars
    _progress_bars = True


def disable_progress_bars():
    """Silence the tqdm bars of map and filter (e.g. in tests)."""
    global _progress_bars
    _progress_bars = False


def are_progress_bars_disabled():
    return not _progress_bars


def _as_list(names):
    return [names] if isinstance(names, str) else (None if names is None else list(names))


def _check_columns(ds, names, what):
    missing = [n for n in names or [] if n not in ds.column_names]
    if missing:
        raise ValueError(f"{what} {missing} not in the dataset. Current columns in the dataset: {ds.column_names}")


def _fingerprint(ds, kind, *arguments):
    """The cache fingerprint of a transform, or None (with a warning) if the function cannot be hashed."""
    try:
        return hash_value(ds.fingerprint, kind, ds._format, *arguments)
    except (Unhashable, RecursionError) as error:
        warnings.warn(f"{kind}: the function could not be hashed ({error}); its result is computed without the "
                      "disk cache and will be recomputed on the next run.", stacklevel=4)
        return None


def _all_columns(ds):
    """The rows `map` and `filter` hand to the function: every column, the formatted ones formatted (as 🤗
    datasets does: a format restricted to some columns does not hide the others from the function)."""
    fmt = ds._format
    if fmt["columns"] is None or fmt["output_all_columns"]:
        return ds
    return ds.with_format(fmt["type"], fmt["columns"], output_all_columns=True)


def _call(ds, function, positions, batched, with_indices, input_columns, fn_kwargs):
    """Call `function` on the example at positions[0] (batched=False) or on the batch `positions`."""
    inputs = ds._batch(positions) if batched else ds._row(int(positions[0]))
    args = [inputs] if input_columns is None else [inputs[c] for c in input_columns]
    if with_indices:
        args.append(positions.tolist() if batched else int(positions[0]))
    return function(*args, **fn_kwargs)


def _chunks(positions, batched, batch_size):
    step = batch_size if batched else 1
    return [positions[i:i + step] for i in range(0, len(positions), step)]


def _concatenate(chunks):
    """Per-batch outputs of one column -> all values (one array when they stack, else a list)."""
    if all(isinstance(c, np.ndarray) and c.dtype != object for c in chunks) and \
            len({c.shape[1:] for c in chunks}) == 1:
        return np.concatenate(chunks)
    return list(itertools.chain.from_iterable(chunks))


def _run(ds, function, chunks, batched, with_indices, input_columns, fn_kwargs, bar=None):
    """Call the function on each chunk of positions -> (outputs, sizes, all_none).

    outputs: {name: per-row values (batched=False) or per-batch chunks (batched=True)}; sizes: (rows in, rows
    out) of each batch; all_none: the function returned None every time (run for its side effects).
    """
    outputs, sizes, all_none = {}, [], True
    ds = _all_columns(ds)
    for done, chunk in enumerate(chunks):
        result = _call(ds, function, chunk, batched, with_indices, input_columns, fn_kwargs)
        if result is not None and not isinstance(result, Mapping):
            raise TypeError(f"Provided `function` which is applied to all elements of table returns a variable "
                            f"of type {type(result)}. Make sure provided `function` returns a variable of type "
                            "`dict` to update the dataset or `None` if you are only interested in side effects.")
        all_none = all_none and result is None
        _collect(outputs, result or {}, batched, done)
        if batched and result:
            sizes.append((len(chunk), len(next(iter(result.values())))))
        if bar is not None:
            bar.update(len(chunk))
    return outputs, sizes, all_none


def _output_columns(outputs, batched, declared):
    """Collected outputs -> {name: column}, with declared features applied."""
    return {name: column_from_values(_concatenate(chunks) if batched else chunks, name, declared.get(name))
            for name, chunks in outputs.items()}


def map_dataset(ds, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
                drop_last_batch=False, remove_columns=None, load_from_cache_file=None, fn_kwargs=None,
                features=None, desc=None, num_proc=None):
    """See `Dataset.map`."""
    remove_columns, input_columns = _as_list(remove_columns), _as_list(input_columns)
    _check_columns(ds, input_columns, "Input column")
    _check_columns(ds, remove_columns, "Column to remove")
    if len(ds) == 0:
        return ds.remove_columns(remove_columns) if remove_columns else ds
    function = function if function is not None else (lambda x: x)
    fn_kwargs = fn_kwargs or {}
    if batched and (batch_size is None or batch_size <= 0):
        batch_size = len(ds)
    load_from_cache_file = True if load_from_cache_file is None else load_from_cache_file
    # num_proc is not part of the fingerprint: the result does not depend on it.
    fingerprint = _fingerprint(ds, "map", function, with_indices, input_columns, batched,
                               batch_size if batched else None, drop_last_batch, remove_columns, fn_kwargs,
                               repr(features))
    path = None
    if fingerprint is not None and cache.is_caching_enabled():
        path = os.path.join(cache.default_cache_dir(), f"map-{fingerprint}")
        if load_from_cache_file and (loaded := cache.load_table(path)) is not None:
            columns, loaded_features, num_rows = loaded
            return type(ds)(columns, loaded_features, num_rows, fingerprint=fingerprint,
                            format=ds._format_for(columns), cache_files=cache.table_files(path))

    n = len(ds) - len(ds) % batch_size if batched and drop_last_batch else len(ds)
    chunks = _chunks(np.arange(n, dtype=np.int64), batched, batch_size)
    declared = Features(features or {})
    def job(group, bar=None):
        outputs, sizes, all_none = _run(ds, function, group, batched, with_indices, input_columns, fn_kwargs, bar)
        return _output_columns(outputs, batched, declared), sizes, all_none

    if num_proc is not None and num_proc > 1 and len(chunks) > 1:
        new_columns, sizes, all_none = run_in_workers(job, chunks, num_proc, desc or "Map", _progress_bars, declared)
    else:
        bar = tqdm(total=n, desc=desc or "Map", unit=" examples", disable=not _progress_bars)
        try:
            new_columns, sizes, all_none = job(chunks, bar)
        finally:
            bar.close()
    if all_none:
        return ds.remove_columns(remove_columns) if remove_columns else ds
    return _assemble(ds, new_columns, sizes, n, remove_columns, declared, fingerprint, path)


def _assemble(ds, outputs, sizes, n, remove_columns, declared, fingerprint, path):
    """The function's output columns + the kept input columns -> the result Dataset (cached at `path`)."""
    num_rows = n
    if outputs:
        lengths = {name: len(column) for name, column in outputs.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"The function returned columns of different lengths: {lengths}")
        num_rows = next(iter(lengths.values()))
    kept = [c for c in ds.column_names if c not in (remove_columns or []) and c not in outputs]
    changed = [(rows_in, rows_out) for rows_in, rows_out in sizes if rows_in != rows_out]
    if kept and (changed or num_rows != n):
        rows_in, rows_out = changed[0] if changed else (n, num_rows)
        raise ValueError(
            f"map(batched=True): the function returned {rows_out} rows for a batch of {rows_in}, so the input "
            f"columns {kept} no longer line up with its output. Remove them with remove_columns={kept} (or "
            "return them too, repeated to match the new rows).")

    columns, new_features = {}, Features()
    stored = ds._storage_rows(np.arange(n, dtype=np.int64))
    for name in ds.column_names:  # input order first: an overwritten column keeps its place
        if name in kept:
            columns[name] = ds._columns[name].take(stored)
            new_features[name] = ds._features[name]
        elif name in outputs:
            columns[name] = None
    for name, column in outputs.items():
        columns[name] = column
        inferred = column.feature()
        old = ds._features.get(name)
        new_features[name] = declared.get(name) or (old if old is not None and same_storage(old, inferred)
                                                     else inferred)
    return _finish(ds, columns, new_features, num_rows, fingerprint, path)


def _collect(outputs, result, batched, done):
    """Add one function result to `outputs` (per column); `done` results were collected before it."""
    if batched:
        for name, value in result.items():
            if not isinstance(value, (list, tuple, np.ndarray)):
                raise TypeError(f"Provided `function` which is applied to all elements of table returns a `dict` "
                                f"whose value {name!r} is a {type(value).__name__}. When using `batched=True`, "
                                "make sure provided `function` returns a `dict` of lists (or arrays).")
            outputs.setdefault(name, []).append(value)
        return
    for name in result:  # a key the earlier examples did not return: None for them
        outputs.setdefault(name, [None] * done)
    for name, values in outputs.items():
        values.append(result.get(name))


def _finish(ds, columns, features, num_rows, fingerprint, path):
    """The result Dataset: saved to `path` and memory-mapped back, or kept in memory when path is None."""
    if fingerprint is None:
        fingerprint = hash_value(os.urandom(16))
    if path is not None:
        # We computed although the folder may exist: it was not to be used, or it is damaged. Replace it.
        try:
            cache.save_table(path, columns, features, num_rows, overwrite=True)
        except cache.NotCacheable as error:
            warnings.warn(f"map: the result is kept in memory, not cached: {error}", stacklevel=4)
        else:
            loaded_columns, loaded_features, num_rows = cache.load_table(path)
            return type(ds)(loaded_columns, loaded_features, num_rows, fingerprint=fingerprint,
                            format=ds._format_for(loaded_columns), cache_files=cache.table_files(path))
    return type(ds)(columns, features, num_rows, fingerprint=fingerprint, format=ds._format_for(columns))


def _kept_positions(ds, function, chunks, batched, with_indices, input_columns, fn_kwargs, bar=None):
    """The positions (int64 array) of the rows of `chunks` the filter function keeps."""
    keep, inputs = [], _all_columns(ds)
    for chunk in chunks:
        mask = _call(inputs, function, chunk, batched, with_indices, input_columns, fn_kwargs)
        if batched:
            mask = np.asarray(mask, dtype=bool).reshape(-1)
            if len(mask) != len(chunk):
                raise ValueError(f"filter(batched=True): the function returned {len(mask)} booleans for a batch "
                                 f"of {len(chunk)} examples; return one per example.")
            keep.append(chunk[mask])
        elif mask:
            keep.append(chunk)
        if bar is not None:
            bar.update(len(chunk))
    return np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)


def filter_dataset(ds, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
                   fn_kwargs=None, load_from_cache_file=None, desc=None, num_proc=None):
    """See `Dataset.filter`."""
    input_columns = _as_list(input_columns)
    _check_columns(ds, input_columns, "Input column")
    if len(ds) == 0:
        return ds
    function = function if function is not None else (lambda x: True)
    fn_kwargs = fn_kwargs or {}
    if batched and (batch_size is None or batch_size <= 0):
        batch_size = len(ds)
    load_from_cache_file = True if load_from_cache_file is None else load_from_cache_file
    fingerprint = _fingerprint(ds, "filter", function, with_indices, input_columns, batched,
                               batch_size if batched else None, fn_kwargs)
    path = None
    if fingerprint is not None and cache.is_caching_enabled():
        path = os.path.join(cache.default_cache_dir(), f"filter-{fingerprint}")
        if load_from_cache_file and (loaded := cache.load_table(path)) is not None and "indices" in loaded[0]:
            keep = np.asarray(loaded[0]["indices"].data)
            return ds.select(keep)._derive(fingerprint=fingerprint)

    chunks = _chunks(np.arange(len(ds), dtype=np.int64), batched, batch_size)
    if num_proc is not None and num_proc > 1 and len(chunks) > 1:
        def job(group):
            kept = _kept_positions(ds, function, group, batched, with_indices, input_columns, fn_kwargs)
            return {"indices": column_from_values(kept, "indices")}, [], False

        columns, _, _ = run_in_workers(job, chunks, num_proc, desc or "Filter", _progress_bars)
        keep = np.asarray(columns["indices"].data, dtype=np.int64)
    else:
        bar = tqdm(total=len(ds), desc=desc or "Filter", unit=" examples", disable=not _progress_bars)
        try:
            keep = _kept_positions(ds, function, chunks, batched, with_indices, input_columns, fn_kwargs, bar)
        finally:
            bar.close()
    if path is not None:
        indices = column_from_values(keep, "indices")
        cache.save_table(path, {"indices": indices}, {"indices": indices.feature()}, len(keep), overwrite=True)
    return ds.select(keep)._derive(fingerprint=fingerprint or hash_value(os.urandom(16)))

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
from .dataset import Dataset
from .features import Features, same_storage
from .fingerprint import Unhashable, hash_value

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


def map_dataset(ds, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
                drop_last_batch=False, remove_columns=None, load_from_cache_file=None, fn_kwargs=None,
                features=None, desc=None):
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
    fingerprint = _fingerprint(ds, "map", function, with_indices, input_columns, batched,
                               batch_size if batched else None, drop_last_batch, remove_columns, fn_kwargs,
                               repr(features))
    path = None
    if fingerprint is not None and cache.is_caching_enabled():
        path = os.path.join(cache.default_cache_dir(), f"map-{fingerprint}")
        if load_from_cache_file and (loaded := cache.load_table(path)) is not None:
            columns, loaded_features, num_rows = loaded
            return Dataset(columns, loaded_features, num_rows, fingerprint=fingerprint,
                           format=ds._format_for(columns), cache_files=[path])

    n = len(ds) - len(ds) % batch_size if batched and drop_last_batch else len(ds)
    positions = np.arange(n, dtype=np.int64)
    outputs = {}  # name -> list of per-row values (batched=False) or per-batch chunks (batched=True)
    all_none = True  # a function run only for its side effects returns None: the data stay as they are
    sizes = []  # (rows in, rows out) of each batch
    bar = tqdm(total=n, desc=desc or "Map", unit=" examples", disable=not _progress_bars)
    try:
        for done, chunk in enumerate(_chunks(positions, batched, batch_size)):
            result = _call(ds, function, chunk, batched, with_indices, input_columns, fn_kwargs)
            if result is not None and not isinstance(result, Mapping):
                raise TypeError(f"Provided `function` which is applied to all elements of table returns a variable "
                                f"of type {type(result)}. Make sure provided `function` returns a variable of type "
                                "`dict` to update the dataset or `None` if you are only interested in side effects.")
            all_none = all_none and result is None
            _collect(outputs, result or {}, batched, done)
            if batched and result:
                sizes.append((len(chunk), len(next(iter(result.values())))))
            bar.update(len(chunk))
    finally:
        bar.close()
    if all_none:
        return ds.remove_columns(remove_columns) if remove_columns else ds

    # Rows the function produced; kept input columns must line up with them.
    num_rows = n
    if outputs:
        lengths = {name: sum(map(len, chunks)) if batched else len(chunks) for name, chunks in outputs.items()}
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
    stored = ds._storage_rows(positions)
    declared = Features(features or {})
    for name in ds.column_names:  # input order first: an overwritten column keeps its place
        if name in kept:
            columns[name] = ds._columns[name].take(stored)
            new_features[name] = ds._features[name]
        elif name in outputs:
            columns[name] = None
    for name, chunks in outputs.items():
        values = _concatenate(chunks) if batched else chunks
        columns[name] = column_from_values(values, name, declared.get(name))
        inferred = columns[name].feature()
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
    if path is None:
        return Dataset(columns, features, num_rows, fingerprint=fingerprint, format=ds._format_for(columns))
    # We computed although the folder may exist: it was not to be used, or it is damaged. Either way, replace it.
    cache.save_table(path, columns, features, num_rows, overwrite=True)
    loaded_columns, loaded_features, num_rows = cache.load_table(path)
    return Dataset(loaded_columns, loaded_features, num_rows, fingerprint=fingerprint,
                   format=ds._format_for(loaded_columns), cache_files=[path])


def filter_dataset(ds, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
                   fn_kwargs=None, load_from_cache_file=None, desc=None):
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
        if load_from_cache_file and (loaded := cache.load_table(path)) is not None:
            keep = np.asarray(loaded[0]["indices"].data)
            return ds.select(keep)._derive(fingerprint=fingerprint)

    keep = []
    bar = tqdm(total=len(ds), desc=desc or "Filter", unit=" examples", disable=not _progress_bars)
    try:
        for chunk in _chunks(np.arange(len(ds), dtype=np.int64), batched, batch_size):
            mask = _call(ds, function, chunk, batched, with_indices, input_columns, fn_kwargs)
            if batched:
                mask = np.asarray(mask, dtype=bool).reshape(-1)
                if len(mask) != len(chunk):
                    raise ValueError(f"filter(batched=True): the function returned {len(mask)} booleans for a batch "
                                     f"of {len(chunk)} examples; return one per example.")
                keep.append(chunk[mask])
            elif mask:
                keep.append(chunk)
            bar.update(len(chunk))
    finally:
        bar.close()
    keep = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    if path is not None:
        indices = column_from_values(keep, "indices")
        cache.save_table(path, {"indices": indices}, {"indices": indices.feature()}, len(keep),
                         overwrite=True)
    return ds.select(keep)._derive(fingerprint=fingerprint or hash_value(os.urandom(16)))

"""`Dataset`: a table of examples stored column by column in NumPy arrays, with 🤗 datasets' API.

    ds = Dataset.from_dict({"sentence": ["a b", "c"], "label": [0, 1]})
    ds[0]             # {"sentence": "a b", "label": 0}           one row, a dict
    ds[:2]            # {"sentence": ["a b", "c"], "label": [0, 1]}  a slice, a dict of lists
    ds["label"]       # [0, 1]                                     a column
    ds.map(tokenize, batched=True).remove_columns(["sentence"]).with_format("numpy")

A data set never changes: every transform returns a new one. Reordering transforms (select, shuffle, sort,
filter, train_test_split) do not copy any column: the new data set shares the columns and keeps an *indices
mapping*, row i of the result being row indices[i] of the storage, as in 🤗 datasets. `map` (mapping.py)
materialises its result, normally into the disk cache (cache.py), memory-mapped.
"""

import os

import numpy as np

from .. import random as nanohf_random
from . import cache
from .columns import column_from_values
from .dataset_dict import DatasetDict
from .export import DatasetIOMixin, load_saved, require_pandas
from .features import Features
from .fingerprint import hash_columns, hash_value
from .mapping import filter_dataset, map_dataset
from .ordering import sort_order, split_sizes
from .readers import csv_features, read_csv, read_json, read_parquet, read_text
from .search import IndexableMixin
from .streaming import dataset_to_iterable

FORMAT_TYPES = {None: None, "python": None, "numpy": "numpy", "np": "numpy", "pandas": "pandas", "pd": "pandas"}


def _check_format_type(type):
    if type not in FORMAT_TYPES:
        hint = " nanohf returns NumPy arrays only: use 'numpy'." if type in ("torch", "pt", "tf", "jax") else ""
        raise ValueError(f"Unknown format type {type!r}; choose None (Python objects), 'numpy' or 'pandas'.{hint}")
    if FORMAT_TYPES[type] == "pandas":
        require_pandas("with_format('pandas')")
    return FORMAT_TYPES[type]


_STORAGE_ARGUMENTS = {"keep_in_memory", "cache_file_name", "writer_batch_size", "disable_nullable",
                      "new_fingerprint", "suffix_template", "with_rank", "try_original_type"}


def _check_ignored(method, ignored):
    unknown = set(ignored) - _STORAGE_ARGUMENTS
    if unknown:
        raise TypeError(f"Dataset.{method}() got unexpected keyword arguments {sorted(unknown)}")


class Dataset(DatasetIOMixin, IndexableMixin):
    """Rows of examples with named columns; build one with `from_dict`, `from_list` or `load_dataset`.

    The constructor is internal: `columns` maps names to stored columns (columns.py), `indices` (or None)
    maps row positions to stored rows, `fingerprint` identifies the content (fingerprint.py).
    """

    def __init__(self, columns, features=None, num_rows=None, indices=None, fingerprint=None, format=None,
                 cache_files=None):
        self._columns = dict(columns)
        if num_rows is None:
            num_rows = len(next(iter(self._columns.values()))) if self._columns else 0
        self._num_rows = num_rows  # stored rows (before the indices mapping)
        for name, column in self._columns.items():
            if len(column) != num_rows:
                raise ValueError(f"All columns must have the same length: column {name!r} has {len(column)} "
                                 f"rows, expected {num_rows}")
        features = features or {}
        self._features = Features({name: features.get(name) or column.feature()
                                   for name, column in self._columns.items()})
        self._indices = None if indices is None else np.asarray(indices, dtype=np.int64)
        if fingerprint is None:  # the content: values and declared features (label names, dtypes)
            fingerprint = hash_value(hash_columns(self._columns), repr(self._features))
        self._fingerprint = fingerprint
        self._format = dict(format) if format else {"type": None, "columns": None, "output_all_columns": False}
        self.cache_files = list(cache_files or [])

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_dict(cls, mapping, features=None):
        """{column: list of values} -> Dataset. `features` (optional) declares the columns' types."""
        features = Features(features or {})
        if mapping:
            lengths = {name: len(values) for name, values in mapping.items()}
            if len(set(lengths.values())) > 1:
                raise ValueError(f"All columns must have the same number of rows, got {lengths}")
        columns = {name: column_from_values(values, name, features.get(name)) for name, values in mapping.items()}
        return cls(columns, features)

    @classmethod
    def from_list(cls, rows, features=None):
        """[{column: value}, ...] -> Dataset. The first row's keys are the columns (missing values are None)."""
        names = list(rows[0].keys()) if rows else list(features or {})
        return cls.from_dict({name: [row.get(name) for row in rows] for name in names}, features)

    @classmethod
    def from_generator(cls, generator, features=None, gen_kwargs=None, **ignored):
        """The rows `generator(**gen_kwargs)` yields (dicts), read at once."""
        return cls.from_list(list(generator(**(gen_kwargs or {}))), features)

    @classmethod
    def _from_files(cls, kind, path_or_paths, features, options):
        paths = [path_or_paths] if isinstance(path_or_paths, (str, os.PathLike)) else list(path_or_paths)
        paths = [os.fspath(p) for p in paths]
        if kind == "parquet":
            data, stored = read_parquet(paths, **options)
            return cls.from_dict(data, features=features or stored)
        data = {"csv": read_csv, "json": read_json, "text": read_text}[kind](paths, **options)
        return cls.from_dict(data, features=csv_features(data, features) if kind == "csv" else features)

    @classmethod
    def from_csv(cls, path_or_paths, features=None, **kwargs):
        """Rows of CSV file(s), read as load_dataset("csv") reads them (in memory, not cached)."""
        return cls._from_files("csv", path_or_paths, features, kwargs)

    @classmethod
    def from_json(cls, path_or_paths, features=None, **kwargs):
        """Rows of JSON / JSON Lines file(s) (field= for the list under a key)."""
        return cls._from_files("json", path_or_paths, features, kwargs)

    @classmethod
    def from_text(cls, path_or_paths, features=None, **kwargs):
        """One row per line of text file(s), column "text"."""
        return cls._from_files("text", path_or_paths, features, kwargs)

    @classmethod
    def from_parquet(cls, path_or_paths, features=None, **kwargs):
        """Rows of parquet file(s) (needs pyarrow)."""
        return cls._from_files("parquet", path_or_paths, features, kwargs)

    def _derive(self, **changes):
        """A new Dataset sharing this one's columns, with some of its attributes replaced."""
        state = {"columns": self._columns, "features": self._features, "num_rows": self._num_rows,
                 "indices": self._indices, "fingerprint": self._fingerprint, "format": self._format,
                 "cache_files": self.cache_files}
        state.update(changes)
        return Dataset(**state)

    # ------------------------------------------------------------------ description
    @property
    def features(self):
        """{column: Value / ClassLabel / List}."""
        return self._features.copy()

    @property
    def column_names(self):
        return list(self._columns)

    @property
    def num_rows(self):
        return self._num_rows if self._indices is None else len(self._indices)

    @property
    def num_columns(self):
        return len(self._columns)

    @property
    def shape(self):
        return (self.num_rows, self.num_columns)

    @property
    def fingerprint(self):
        """32 hex characters that change whenever the content changes (names the map cache)."""
        return self._fingerprint

    @property
    def dataset_size(self):
        """Bytes of the data: the cache files' size when memory-mapped from the disk cache, else the arrays'."""
        folders = {os.path.dirname(entry["filename"]) for entry in self.cache_files}
        if folders and all(os.path.isdir(folder) for folder in folders):
            return sum(cache.folder_size(folder) for folder in folders)
        total = 0
        for column in self._columns.values():
            for name in ("data", "values", "offsets"):
                array = getattr(column, name, None)
                if array is not None:
                    total += array.nbytes if array.dtype != object else sum(len(str(v)) for v in array)
        return total

    def __len__(self):
        return self.num_rows

    def __nanohf_hash__(self):
        """What identifies this data set when a map function refers to it (see fingerprint.py)."""
        return self._fingerprint, self._format

    def __repr__(self):
        return f"Dataset({{\n    features: {self.column_names},\n    num_rows: {self.num_rows}\n}})"

    # ------------------------------------------------------------------ reading rows
    def _storage_rows(self, positions):
        """Row positions (int64 array) -> rows of the stored columns."""
        return positions if self._indices is None else self._indices[positions]

    def _positions(self, key):
        """An int, a slice or a sequence of ints -> an int64 array of row positions (negatives allowed)."""
        n = self.num_rows
        if isinstance(key, slice):
            return np.arange(*key.indices(n), dtype=np.int64)
        positions = np.asarray(key, dtype=np.int64).reshape(-1)
        bad = (positions < -n) | (positions >= n)
        if bad.any():
            raise IndexError(f"Index {int(positions[bad][0])} out of range for dataset of size {n}.")
        return np.where(positions < 0, positions + n, positions)

    def _output_columns(self):
        """(column, numpy?) pairs that formatted rows contain, in order."""
        fmt = self._format
        numpy = fmt["type"] == "numpy"
        wanted = fmt["columns"]
        if wanted is None:
            return [(name, numpy) for name in self._columns]
        chosen = [(name, numpy) for name in self._columns if name in wanted]
        if fmt["output_all_columns"]:  # the other columns follow, as Python objects
            chosen += [(name, False) for name in self._columns if name not in wanted]
        return chosen

    def _row(self, position):
        """Row `position` (already non-negative) as a formatted dict."""
        stored = position if self._indices is None else int(self._indices[position])
        return {name: (self._columns[name].row_numpy(stored) if numpy else self._columns[name].row_python(stored))
                for name, numpy in self._output_columns()}

    def _batch(self, positions):
        """Rows `positions` as a formatted dict of columns (lists, or arrays with format "numpy")."""
        rows = self._storage_rows(positions)
        return {name: (self._columns[name].numpy(rows) if numpy else self._columns[name].python(rows))
                for name, numpy in self._output_columns()}

    def _pandas(self, positions, column=None):
        """Rows `positions` as a pandas DataFrame (format "pandas"), or one column of them as a Series."""
        names = [name for name, _ in self._output_columns()]
        rows = self._derive(indices=self._storage_rows(positions), format=None).select_columns(names)
        frame = rows.to_pandas()
        return frame if column is None else frame[column]

    def __getitem__(self, key):
        """ds[i] -> dict (one row); ds[a:b] or ds[[i, j]] -> dict of lists; ds["column"] -> list (or array).

        With format "pandas": a DataFrame (one row for ds[i]), and a Series for ds["column"].
        """
        if self._format["type"] == "pandas" and isinstance(key, (str, int, np.integer, slice, range, list, tuple,
                                                                  np.ndarray)):
            if isinstance(key, str):
                if key not in self._columns:
                    raise KeyError(f"Column {key!r} not in the dataset. Current columns in the dataset: "
                                   f"{self.column_names}")
                return self._pandas(np.arange(self.num_rows, dtype=np.int64), key)
            return self._pandas(self._positions([key] if isinstance(key, (int, np.integer)) else key))
        if isinstance(key, str):
            if key not in self._columns:
                raise KeyError(f"Column {key!r} not in the dataset. Current columns in the dataset: "
                               f"{self.column_names}")
            fmt = self._format
            numpy = fmt["type"] == "numpy" and (fmt["columns"] is None or key in fmt["columns"])
            rows = self._storage_rows(np.arange(self.num_rows, dtype=np.int64))
            return self._columns[key].numpy(rows) if numpy else self._columns[key].python(rows)
        if isinstance(key, (int, np.integer)):
            return self._row(int(self._positions(key)[0]))
        if isinstance(key, (slice, range, list, tuple, np.ndarray)):
            return self._batch(self._positions(key))
        raise TypeError(f"Dataset indices must be int, slice, a list of ints or a column name, not "
                        f"{type(key).__name__}")

    def __getitems__(self, keys):
        """A list of rows (what a batch iterator needs), fetched column by column."""
        positions = self._positions(keys)
        batch = self._batch(positions)
        return [{name: values[i] for name, values in batch.items()} for i in range(len(positions))]

    def __iter__(self):
        for position in range(self.num_rows):
            yield self._row(position)

    def iter(self, batch_size, drop_last_batch=False):
        """Batches of `batch_size` rows as dicts of columns (the last one smaller unless dropped)."""
        stop = self.num_rows - self.num_rows % batch_size if drop_last_batch else self.num_rows
        for start in range(0, stop, batch_size):
            yield self._batch(np.arange(start, min(start + batch_size, stop), dtype=np.int64))

    def to_dict(self):
        """{column: list of values} (Python objects whatever the format)."""
        rows = self._storage_rows(np.arange(self.num_rows, dtype=np.int64))
        return {name: column.python(rows) for name, column in self._columns.items()}

    def to_list(self):
        """[{column: value}, ...]."""
        data = self.to_dict()
        return [{name: values[i] for name, values in data.items()} for i in range(self.num_rows)]

    def unique(self, column):
        """The distinct values of a column, in order of first appearance."""
        return list(dict.fromkeys(self.with_format(None)[column]))

    # ------------------------------------------------------------------ format
    @property
    def format(self):
        return {"type": self._format["type"], "format_kwargs": {}, "columns": self._format["columns"] or
                self.column_names, "output_all_columns": self._format["output_all_columns"]}

    def with_format(self, type=None, columns=None, output_all_columns=False):
        """A copy returning rows as NumPy arrays (`type="numpy"`) or Python objects (None).

        columns: only these columns are returned (and formatted) unless output_all_columns=True, in
        which case the others come back as Python objects.
        """
        type = _check_format_type(type)
        if isinstance(columns, str):
            columns = [columns]
        if columns is not None:
            missing = [c for c in columns if c not in self._columns]
            if missing:
                raise ValueError(f"Columns {missing} not in the dataset. Current columns in the dataset: "
                                 f"{self.column_names}")
            columns = list(columns)
        return self._derive(format={"type": type, "columns": columns, "output_all_columns": output_all_columns})

    def set_format(self, type=None, columns=None, output_all_columns=False):
        """Like `with_format`, but changes this data set (the only in-place method, as in 🤗 datasets)."""
        self._format = self.with_format(type, columns, output_all_columns)._format

    def reset_format(self):
        """Back to Python objects and all columns."""
        self.set_format(None)

    def _format_for(self, names):
        """This data set's format carried over to a transform's result with columns `names`, as 🤗 datasets'
        `transmit_format` does: every column is formatted except those that were left unformatted here (so a
        column `map` adds joins the formatted ones), in sorted order."""
        fmt = dict(self._format)
        if fmt["columns"] is not None:
            unformatted = set(self.column_names) - set(fmt["columns"])
            fmt["columns"] = sorted(set(names) - unformatted)
        return fmt

    # ------------------------------------------------------------------ columns
    def rename_column(self, original_column_name, new_column_name):
        return self.rename_columns({original_column_name: new_column_name})

    def rename_columns(self, column_mapping):
        """Rename columns: {old name: new name}."""
        for old, new in column_mapping.items():
            if old not in self._columns:
                raise ValueError(f"Original column name {old} not in the dataset. Current columns in the dataset: "
                                 f"{self.column_names}")
            if new in self._columns and new not in column_mapping:
                raise ValueError(f"New column name {new} already in the dataset. Please choose a column name which "
                                 f"is not already in the dataset. Current columns in the dataset: {self.column_names}")
            if not new:
                raise ValueError("New column name is empty.")
        rename = lambda name: column_mapping.get(name, name)  # noqa: E731
        fmt = dict(self._format)
        if fmt["columns"] is not None:
            fmt["columns"] = [rename(c) for c in fmt["columns"]]
        return self._derive(columns={rename(n): c for n, c in self._columns.items()},
                            features={rename(n): f for n, f in self._features.items()}, format=fmt,
                            fingerprint=hash_value(self._fingerprint, "rename_columns", column_mapping))

    def remove_columns(self, column_names):
        """Drop one column (a str) or several (a list)."""
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        missing = [n for n in names if n not in self._columns]
        if missing:
            raise ValueError(f"Column name {missing} not in the dataset. Current columns in the dataset: "
                             f"{self.column_names}")
        keep = [n for n in self._columns if n not in names]
        return self.select_columns(keep)._derive(
            fingerprint=hash_value(self._fingerprint, "remove_columns", names))

    def select_columns(self, column_names):
        """Keep only these columns, in the order given."""
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        missing = [n for n in names if n not in self._columns]
        if missing:
            raise ValueError(f"Column name {missing} not in the dataset. Current columns in the dataset: "
                             f"{self.column_names}")
        keep = list(dict.fromkeys(names))
        return self._derive(columns={n: self._columns[n] for n in keep},
                            features={n: self._features[n] for n in keep}, format=self._format_for(keep),
                            fingerprint=hash_value(self._fingerprint, "select_columns", keep))

    def add_column(self, name, column, feature=None):
        """A copy with one more column (`column` has one value per row)."""
        if name in self._columns:
            raise ValueError(f"Column {name!r} already in the dataset.")
        if len(column) != self.num_rows:
            raise ValueError(f"Column {name!r} has {len(column)} values for {self.num_rows} rows.")
        flat = self.flatten_indices()
        new = column_from_values(column, name, feature)
        return flat._derive(columns={**flat._columns, name: new},
                            features={**flat._features, name: feature or new.feature()},
                            fingerprint=hash_value(self._fingerprint, "add_column", name, hash_columns({name: new})))

    def cast_column(self, column, feature):
        """Declare a column's feature, converting its values: e.g. `ClassLabel(names=[...])` on a column of
        names (turned into ids) or of ids (checked against the names), or `Value("float32")`."""
        if column not in self._columns:
            raise ValueError(f"Column {column!r} not in the dataset. Current columns in the dataset: "
                             f"{self.column_names}")
        stored = self._columns[column]
        values = stored.python(np.arange(len(stored), dtype=np.int64))
        if hasattr(feature, "int2str"):  # ClassLabel: every id must name a class
            feature.int2str([v for v in values if not isinstance(v, str) and v is not None])
        new = column_from_values(values, column, feature)
        return self._derive(columns={**self._columns, column: new}, features={**self._features, column: feature},
                            fingerprint=hash_value(self._fingerprint, "cast_column", column, repr(feature)))

    def flatten_indices(self):
        """A copy whose columns are stored in row order (no indices mapping)."""
        if self._indices is None:
            return self
        columns = {name: column.take(self._indices) for name, column in self._columns.items()}
        return self._derive(columns=columns, num_rows=len(self._indices), indices=None, cache_files=[])

    # ------------------------------------------------------------------ functions over examples
    def map(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
            drop_last_batch=False, remove_columns=None, load_from_cache_file=None, fn_kwargs=None, features=None,
            desc=None, num_proc=None, **ignored):
        """Apply `function` to every example (or batch) and add/replace the columns it returns.

        Args:
            function: example dict -> dict of new values (batched=False), or {column: list} -> {column: list}
                (batched=True, may change the number of rows if the input columns are removed). Returning
                None leaves the data unchanged (a function run for its side effects).
            with_indices: also pass the row index (a list of indices when batched).
            input_columns: pass these columns as positional arguments instead of one dict.
            batched, batch_size: call the function on batches of batch_size rows (None or <= 0: one batch).
            drop_last_batch: skip a last batch smaller than batch_size.
            remove_columns: input columns to drop from the result (columns the function returns stay).
            load_from_cache_file: reuse a cached result of the same data, function and arguments (default
                True); False recomputes and rewrites the cache.
            fn_kwargs: keyword arguments for the function.
            features: declared features of (some of) the output columns.
            desc: label of the progress bar (default "Map").
            num_proc: run the function in this many worker processes (same result and fingerprint).
            **ignored: 🤗 datasets' storage arguments (keep_in_memory, cache_file_name, writer_batch_size, ...),
                accepted without effect.
        """
        _check_ignored("map", ignored)
        return map_dataset(self, function, with_indices, input_columns, batched, batch_size, drop_last_batch,
                           remove_columns, load_from_cache_file, fn_kwargs, features, desc, num_proc)

    def filter(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
               fn_kwargs=None, load_from_cache_file=None, desc=None, num_proc=None, **ignored):
        """Keep the examples for which `function(example)` is true (with batched=True the function returns one
        bool per example of the batch). Arguments as in `map`; the kept row indices are cached."""
        _check_ignored("filter", ignored)
        return filter_dataset(self, function, with_indices, input_columns, batched, batch_size, fn_kwargs,
                              load_from_cache_file, desc, num_proc)

    @staticmethod
    def load_from_disk(dataset_path, keep_in_memory=None, storage_options=None):
        """A Dataset (or DatasetDict) written by save_to_disk, memory-mapped from its folder."""
        return load_saved(dataset_path, Dataset, DatasetDict)

    def to_iterable_dataset(self, num_shards=1):
        """The rows as an IterableDataset (streaming API) of `num_shards` contiguous shards."""
        return dataset_to_iterable(self, num_shards)

    # ------------------------------------------------------------------ reordering
    def select(self, indices):
        """The rows at `indices` (a list, range or array of ints), in that order."""
        positions = np.asarray(list(indices) if isinstance(indices, (range, tuple)) else indices, dtype=np.int64)
        positions = positions.reshape(-1)
        bad = (positions < 0) | (positions >= self.num_rows)
        if bad.any():
            raise IndexError(f"Index {int(positions[bad][0])} out of range for dataset of size {self.num_rows}.")
        return self._derive(indices=self._storage_rows(positions),
                            fingerprint=hash_value(self._fingerprint, "select", positions))

    def take(self, n):
        """The first n rows."""
        return self.select(range(min(int(n), self.num_rows)))

    def skip(self, n):
        """All rows but the first n."""
        return self.select(range(min(int(n), self.num_rows), self.num_rows))

    def shard(self, num_shards, index, contiguous=True, **ignored):
        """Shard `index` of `num_shards`: a contiguous block (the first len % num_shards blocks one row longer),
        or every num_shards-th row from `index` (contiguous=False), as 🤗 datasets cuts them."""
        if not 0 <= index < num_shards:
            raise ValueError("index should be in [0, num_shards-1]")
        if not contiguous:
            return self.select(np.arange(index, self.num_rows, num_shards))
        size, extra = divmod(self.num_rows, num_shards)
        start = size * index + min(index, extra)
        return self.select(range(start, start + size + (1 if index < extra else 0)))

    def repeat(self, num_times):
        """The rows num_times over."""
        if num_times < 0:
            raise ValueError("num_times must be non-negative")
        return self.select(np.tile(np.arange(self.num_rows, dtype=np.int64), int(num_times)))

    def shuffle(self, seed=None, generator=None):
        """The rows in a random order: `np.random.default_rng(seed).permutation(len(self))`, as 🤗 datasets
        (so the same seed gives the same order). Without seed or generator, nanohf's generator is used
        (`nanohf.random.set_seed` makes it reproducible)."""
        if seed is not None and generator is not None:
            raise ValueError("Both `seed` and `generator` were provided. Please specify just one of them.")
        if self.num_rows == 0:
            return self
        if generator is None:
            generator = np.random.default_rng(seed) if seed is not None else nanohf_random.get_generator()
        return self.select(generator.permutation(self.num_rows))

    def sort(self, column_names, reverse=False):
        """Rows ordered by one column (or several, the first deciding), ties keeping their order (stable).

        reverse: descending order (one bool, or one per column). Missing values (None) go last.
        """
        names = [column_names] if isinstance(column_names, str) else list(column_names)
        reverses = [reverse] * len(names) if isinstance(reverse, bool) else list(reverse)
        if len(reverses) != len(names):
            raise ValueError("Parameter 'reverse' must be a bool or a list of bools with one per column.")
        for name in names:
            if name not in self._columns:
                raise ValueError(f"Column '{name}' not found in the dataset. Please provide a column selected in: "
                                 f"{self.column_names}")
        plain = self.with_format(None)
        return self.select(sort_order([plain[name] for name in names], reverses))

    def train_test_split(self, test_size=None, train_size=None, shuffle=True, seed=None, generator=None):
        """{"train": ..., "test": ...} as a DatasetDict; sizes and seeded order as 🤗 datasets'.

        test_size/train_size: a fraction in (0, 1) or a number of rows; test_size defaults to 0.25. The
        test rows are the first ceil(test_size * n) of the permutation, the train rows the next ones.
        """
        n = self.num_rows
        if n == 0:
            return DatasetDict({"train": self, "test": self})
        n_train, n_test = split_sizes(n, test_size, train_size)
        if not shuffle:
            train_idx, test_idx = np.arange(n_train), np.arange(n_train, n_train + n_test)
        else:
            if seed is not None and generator is not None:
                raise ValueError("Both `seed` and `generator` were provided. Please specify just one of them.")
            if generator is None:
                generator = np.random.default_rng(seed) if seed is not None else nanohf_random.get_generator()
            permutation = generator.permutation(n)
            test_idx, train_idx = permutation[:n_test], permutation[n_test:n_test + n_train]
        return DatasetDict({"train": self.select(train_idx), "test": self.select(test_idx)})


DatasetDict.dataset_class = Dataset

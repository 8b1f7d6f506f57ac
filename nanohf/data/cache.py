"""The on-disk cache: loaded files and `map`/`filter` results, one folder per table, named by a fingerprint.

    ~/.cache/nanohf/datasets/            (or $NANOHF_CACHE)
        map-3f2a...c1/
            table.json                   rows, and per column: name, layout, files, feature
            0.json                       an object column (strings, structs) as one JSON list
            1.values.npy  1.offsets.npy  a ragged column (token ids): flat values + row offsets
            2.npy                        a numeric column (labels)
        csv-9b1e...07/train/             load_dataset's tables, one per split (loading.py)

Numeric files are opened with `np.load(mmap_mode="r")`: the operating system pages them in when they are
read, so a large tokenized data set costs no memory until used, and the pages are shared between processes.

The format is safe to read from a folder someone else wrote: only .npy files (plain arrays, never object
arrays: `allow_pickle=False`) and JSON. Nothing is unpickled, and a file named in table.json must lie inside
the table's folder (no "../" or absolute path): a table.json naming anything else is refused. Values JSON
cannot hold exactly (sets, tuples, custom objects) are not cached at all (`NotCacheable`; map then keeps
its result in memory).

A folder is written under a temporary name and renamed into place when complete (a rename is atomic), so a
crash or a second process never leaves a half-written result that a later run would trust.
"""

import json
import os
import shutil
import tempfile

import numpy as np

from .columns import NumericColumn, ObjectColumn, RaggedColumn, object_array
from .features import feature_from_dict, feature_to_dict

FORMAT_VERSION = 2  # 2: no pickle layout (a version-1 folder is recomputed, never read)
TABLE_FILE = "table.json"
_caching_enabled = True


class NotCacheable(ValueError):
    """A column holds values that the safe cache format (JSON) cannot store exactly."""


class UnsafeCacheError(ValueError):
    """A table.json names a layout or a file nanohf refuses to read (outside its folder, or pickle)."""


def default_cache_dir():
    """$NANOHF_CACHE if set, else ~/.cache/nanohf/datasets (read at each call, so tests can change it)."""
    return os.environ.get("NANOHF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "nanohf", "datasets")


def enable_caching():
    """Let `map`/`filter`/`load_dataset` read and write the disk cache (the default)."""
    global _caching_enabled
    _caching_enabled = True


def disable_caching():
    """Make `map`/`filter`/`load_dataset` compute in memory: nothing is read from or written to the disk cache."""
    global _caching_enabled
    _caching_enabled = False


def is_caching_enabled():
    return _caching_enabled


def json_values(values, what):
    """`values` as JSON text, checked to read back equal (tuples, sets, numpy scalars, int dict keys do not)."""
    try:
        text = json.dumps(values, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise NotCacheable(f"{what}: values cannot be stored as JSON ({error})") from None
    loaded = json.loads(text)
    if loaded != values and not _nan_equal(loaded, values):
        raise NotCacheable(f"{what}: values do not survive a JSON round trip (tuples, non-string dict keys?)")
    return text


def _nan_equal(a, b):
    """Equality where NaN equals NaN (JSON keeps NaN, but NaN != NaN)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (a != a and b != b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_nan_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_nan_equal(a[k], b[k]) for k in a)
    return a == b


def _save_column(folder, i, column):
    """Write one column as file(s) named after its position; returns (layout, file names)."""
    if isinstance(column, NumericColumn):
        np.save(os.path.join(folder, f"{i}.npy"), np.ascontiguousarray(column.data), allow_pickle=False)
        return "numeric", [f"{i}.npy"]
    if isinstance(column, RaggedColumn):
        np.save(os.path.join(folder, f"{i}.values.npy"), np.ascontiguousarray(column.values), allow_pickle=False)
        np.save(os.path.join(folder, f"{i}.offsets.npy"), np.ascontiguousarray(column.offsets), allow_pickle=False)
        return "ragged", [f"{i}.values.npy", f"{i}.offsets.npy"]
    text = json_values(column.data.tolist(), f"column {i}")
    with open(os.path.join(folder, f"{i}.json"), "w", encoding="utf-8") as f:
        f.write(text)
    return "object", [f"{i}.json"]


def _inside(folder, name, manifest):
    """The path of file `name` of a table, refused unless it lies inside the table's folder."""
    if not isinstance(name, str) or not name:
        raise UnsafeCacheError(f"{manifest}: file entry {name!r} is not a file name")
    root = os.path.realpath(folder)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.isabs(name) or os.path.dirname(path) != root:
        raise UnsafeCacheError(f"{manifest} names the file {name!r}, which is not inside its folder {root}: "
                               "refused (a cache table only reads its own files)")
    return path


def _load_column(folder, layout, files, manifest):
    paths = [_inside(folder, name, manifest) for name in files]
    expected = {"numeric": 1, "ragged": 2, "object": 1}
    if layout not in expected:
        raise UnsafeCacheError(f"{manifest}: column layout {layout!r} is refused; nanohf reads only "
                               f"{sorted(expected)} (never pickle)")
    if len(paths) != expected[layout]:
        raise UnsafeCacheError(f"{manifest}: layout {layout!r} needs {expected[layout]} file(s), got {files}")
    if layout == "numeric":
        return NumericColumn(np.load(paths[0], mmap_mode="r", allow_pickle=False))
    if layout == "ragged":
        return RaggedColumn(np.load(paths[0], mmap_mode="r", allow_pickle=False),
                            np.load(paths[1], mmap_mode="r", allow_pickle=False))
    with open(paths[0], encoding="utf-8") as f:
        return ObjectColumn(object_array(json.load(f)))


def write_table(folder, columns, features, num_rows, extra=None):
    """Write {name: column} into the existing empty `folder` (no atomicity: see `save_table`)."""
    entries = []
    for i, (name, column) in enumerate(columns.items()):
        try:
            layout, files = _save_column(folder, i, column)
        except NotCacheable as error:
            raise NotCacheable(f"column {name!r}: {error}") from None
        entries.append({"name": name, "layout": layout, "files": files, "feature": feature_to_dict(features.get(name))})
    table = {"version": FORMAT_VERSION, "num_rows": int(num_rows), "columns": entries, **(extra or {})}
    with open(os.path.join(folder, TABLE_FILE), "w", encoding="utf-8") as f:
        json.dump(table, f, ensure_ascii=False, indent=1)


def save_table(path, columns, features, num_rows, overwrite=False, extra=None):
    """Write {name: column} with its features into the folder `path`, atomically.

    If `path` already exists it is kept (another process wrote the same result), unless `overwrite`.
    extra: more JSON fields for table.json (load_dataset records its source files there).
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.path.basename(path)}-")
    try:
        write_table(tmp, columns, features, num_rows, extra)
        if os.path.exists(path):
            if not overwrite and os.path.isfile(os.path.join(path, TABLE_FILE)):
                shutil.rmtree(tmp)  # a complete copy is already there
                return
            # Move the old result aside first: rename() cannot replace a non-empty folder.
            trash = tempfile.mkdtemp(dir=parent, prefix=".trash-")
            os.rename(path, os.path.join(trash, "old"))
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.rename(tmp, path)
        except OSError:  # another process renamed its copy in first: theirs is as good as ours
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_manifest(path):
    """The parsed table.json of folder `path`, or None if absent, unreadable or of another format version."""
    manifest = os.path.join(path, TABLE_FILE)
    if not os.path.isfile(manifest):
        return None
    try:
        with open(manifest, encoding="utf-8") as f:
            table = json.load(f)
    except (OSError, ValueError):
        return None
    return table if isinstance(table, dict) and table.get("version") == FORMAT_VERSION else None


def load_table(path):
    """(columns, features, num_rows) of a saved folder, numeric columns memory-mapped; None if absent.

    Raises UnsafeCacheError for a table.json naming a refused layout or a file outside the folder.
    """
    table = read_manifest(path)
    if table is None:
        return None
    manifest = os.path.join(path, TABLE_FILE)
    columns, features = {}, {}
    try:
        for entry in table["columns"]:
            columns[entry["name"]] = _load_column(path, entry["layout"], entry["files"], manifest)
            features[entry["name"]] = feature_from_dict(entry["feature"])
        num_rows = int(table["num_rows"])
    except UnsafeCacheError:
        raise
    except (OSError, ValueError, KeyError, TypeError):  # files removed or damaged by hand: recompute
        return None
    if any(len(column) != num_rows for column in columns.values()):
        return None
    return columns, features, num_rows


def table_files(path):
    """cache_files entries (🤗 datasets' [{"filename": ...}]) of a saved table folder."""
    return [{"filename": os.path.join(os.path.abspath(path), TABLE_FILE)}]


def folder_size(path):
    """Bytes of the files of a saved table (what `dataset_size` reports for a cached data set)."""
    return sum(entry.stat().st_size for entry in os.scandir(path) if entry.is_file())

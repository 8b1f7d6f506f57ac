"""The on-disk cache of `map` and `filter` results, one folder per result, named by its fingerprint.

    ~/.cache/nanohf/datasets/            (or $NANOHF_CACHE)
        map-3f2a...c1/
            table.json                   rows, and per column: name, layout, feature
            0.json                       an object column (strings) as a JSON list
            1.values.npy  1.offsets.npy  a ragged column (token ids): flat values + row offsets
            2.npy                        a numeric column (labels)

Numeric files are opened with `np.load(mmap_mode="r")`: the operating system pages them in when they are
read, so a large tokenized data set costs no memory until used, and the pages are shared between processes.

A folder is written under a temporary name and renamed into place when complete (a rename is atomic), so a
crash or a second process never leaves a half-written result that a later run would trust.
"""

import json
import os
import pickle
import shutil
import tempfile

import numpy as np

from .columns import NumericColumn, ObjectColumn, RaggedColumn, object_array
from .features import feature_from_dict, feature_to_dict

FORMAT_VERSION = 1
_caching_enabled = True


def default_cache_dir():
    """$NANOHF_CACHE if set, else ~/.cache/nanohf/datasets (read at each call, so tests can change it)."""
    return os.environ.get("NANOHF_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "nanohf", "datasets")


def enable_caching():
    """Let `map`/`filter` read and write the disk cache (the default)."""
    global _caching_enabled
    _caching_enabled = True


def disable_caching():
    """Make `map`/`filter` compute in memory: nothing is read from or written to the disk cache."""
    global _caching_enabled
    _caching_enabled = False


def is_caching_enabled():
    return _caching_enabled


def _save_column(folder, i, column):
    """Write one column as file(s) named after its position; returns (layout, file names)."""
    if isinstance(column, NumericColumn):
        np.save(os.path.join(folder, f"{i}.npy"), np.ascontiguousarray(column.data))
        return "numeric", [f"{i}.npy"]
    if isinstance(column, RaggedColumn):
        np.save(os.path.join(folder, f"{i}.values.npy"), np.ascontiguousarray(column.values))
        np.save(os.path.join(folder, f"{i}.offsets.npy"), np.ascontiguousarray(column.offsets))
        return "ragged", [f"{i}.values.npy", f"{i}.offsets.npy"]
    values = column.data.tolist()
    try:
        text = json.dumps(values, ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON (sets, custom objects): fall back to pickle
        with open(os.path.join(folder, f"{i}.pkl"), "wb") as f:
            pickle.dump(values, f, protocol=4)
        return "pickle", [f"{i}.pkl"]
    with open(os.path.join(folder, f"{i}.json"), "w", encoding="utf-8") as f:
        f.write(text)
    return "object", [f"{i}.json"]


def _load_column(folder, layout, files):
    paths = [os.path.join(folder, name) for name in files]
    if layout == "numeric":
        return NumericColumn(np.load(paths[0], mmap_mode="r"))
    if layout == "ragged":
        return RaggedColumn(np.load(paths[0], mmap_mode="r"), np.load(paths[1], mmap_mode="r"))
    if layout == "object":
        with open(paths[0], encoding="utf-8") as f:
            return ObjectColumn(object_array(json.load(f)))
    if layout == "pickle":
        with open(paths[0], "rb") as f:
            return ObjectColumn(object_array(pickle.load(f)))
    raise ValueError(f"unknown column layout {layout!r}")


def save_table(path, columns, features, num_rows, overwrite=False):
    """Write {name: column} with its features into the folder `path`, atomically.

    If `path` already exists it is kept (another process wrote the same result), unless `overwrite`.
    """
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=parent, prefix=f".tmp-{os.path.basename(path)}-")
    try:
        entries = []
        for i, (name, column) in enumerate(columns.items()):
            layout, files = _save_column(tmp, i, column)
            entries.append({"name": name, "layout": layout, "files": files,
                            "feature": feature_to_dict(features.get(name))})
        with open(os.path.join(tmp, "table.json"), "w", encoding="utf-8") as f:
            json.dump({"version": FORMAT_VERSION, "num_rows": int(num_rows), "columns": entries}, f,
                      ensure_ascii=False, indent=1)
        if os.path.exists(path):
            if not overwrite and os.path.isfile(os.path.join(path, "table.json")):
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


def load_table(path):
    """(columns, features, num_rows) of a saved folder, numeric columns memory-mapped; None if absent."""
    manifest = os.path.join(path, "table.json")
    if not os.path.isfile(manifest):
        return None
    with open(manifest, encoding="utf-8") as f:
        table = json.load(f)
    if table.get("version") != FORMAT_VERSION:
        return None
    columns, features = {}, {}
    try:
        for entry in table["columns"]:
            columns[entry["name"]] = _load_column(path, entry["layout"], entry["files"])
            features[entry["name"]] = feature_from_dict(entry["feature"])
    except (OSError, ValueError, KeyError):  # files removed or damaged by hand: recompute
        return None
    return columns, features, table["num_rows"]

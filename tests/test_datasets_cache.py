"""The disk cache is safe to read (no pickle, no file outside the table's folder), and map/filter(num_proc=N)
run in real worker processes with the result and fingerprint of num_proc=1 (and 🤗 datasets' result)."""

import importlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from nanohf.data import Dataset, disable_progress_bars
from nanohf.data.cache import UnsafeCacheError, load_table, save_table

SAMPLE = {"text": [f"sentence {i} " * (i % 4 + 1) for i in range(40)], "label": [i % 3 for i in range(40)]}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "nanohf-cache"
    monkeypatch.setenv("NANOHF_CACHE", str(folder))
    disable_progress_bars()
    return folder


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


def cached_map(ds):
    out = ds.map(lambda b: {"n": [len(t) for t in b["text"]]}, batched=True)
    return out, Path(out.cache_files[0]["filename"])


def test_no_pickle_layout_is_ever_read(tmp_path):
    """Issue 20: a table.json naming a pickle file must be refused, never unpickled."""
    ds, manifest = cached_map(Dataset.from_dict(SAMPLE))
    marker = tmp_path / "pwned"

    class Boom:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    (manifest.parent / "evil.pkl").write_bytes(pickle.dumps([Boom()]))
    table = json.loads(manifest.read_text())
    table["columns"][0].update(layout="pickle", files=["evil.pkl"])
    manifest.write_text(json.dumps(table))
    with pytest.raises(UnsafeCacheError, match="layout 'pickle' is refused"):
        load_table(str(manifest.parent))
    with pytest.raises(UnsafeCacheError, match="never pickle"):
        Dataset.from_dict(SAMPLE).map(lambda b: {"n": [len(t) for t in b["text"]]}, batched=True)
    assert not marker.exists()


@pytest.mark.parametrize("name", ["../outside.npy", "/etc/passwd", "sub/1.npy", ""])
def test_files_outside_the_folder_are_refused(tmp_path, name):
    ds, manifest = cached_map(Dataset.from_dict(SAMPLE))
    np.save(tmp_path / "outside.npy", np.arange(40))
    table = json.loads(manifest.read_text())
    numeric = next(c for c in table["columns"] if c["layout"] == "numeric")
    numeric["files"] = [name]
    manifest.write_text(json.dumps(table))
    with pytest.raises(UnsafeCacheError, match="refused|not a file name"):
        load_table(str(manifest.parent))


def test_npy_object_arrays_are_not_loaded(tmp_path):
    """An .npy holding an object array is itself a pickle: np.load(allow_pickle=False) refuses it."""
    ds, manifest = cached_map(Dataset.from_dict(SAMPLE))
    table = json.loads(manifest.read_text())
    numeric = next(c for c in table["columns"] if c["layout"] == "numeric")
    np.save(manifest.parent / numeric["files"][0], np.array([{"a": 1}] * 40, dtype=object), allow_pickle=True)
    assert load_table(str(manifest.parent)) is None  # unreadable: recomputed, not unpickled


def test_values_json_cannot_hold_stay_in_memory():
    ds = Dataset.from_dict({"x": [1, 2]})
    with pytest.warns(UserWarning, match="kept in memory"):
        out = ds.map(lambda x: {"z": complex(x["x"], 1)})
    assert out["z"] == [1 + 1j, 2 + 1j] and out.cache_files == []
    pairs = ds.map(lambda x: {"pair": (x["x"], x["x"] + 1)})  # a tuple is stored as Arrow stores it: a list
    assert pairs["pair"] == [[1, 2], [2, 3]] and pairs.cache_files != []
    folder = Path(os.environ["NANOHF_CACHE"]) / "t"
    from nanohf.data.cache import NotCacheable
    from nanohf.data.columns import column_from_values

    with pytest.raises(NotCacheable, match="column 's'"):
        save_table(str(folder), {"s": column_from_values([{1, 2}])}, {}, 1)


# ---------------------------------------------------------------------- num_proc
def tokenize_like(batch):
    words = [t.split() for t in batch["text"]]
    return {"ids": [[len(w) for w in ws] for ws in words], "first": [ws[0] for ws in words]}


def test_map_num_proc_same_result_and_fingerprint(hf, monkeypatch, cache_dir):
    ds = Dataset.from_dict(SAMPLE)
    one = ds.map(tokenize_like, batched=True, batch_size=7)
    monkeypatch.setenv("NANOHF_CACHE", str(cache_dir / "other"))  # no cache hit: the workers really compute
    pids = []
    many = ds.map(lambda b: {**tokenize_like(b), "pid": [os.getpid()] * len(b["text"])}, batched=True,
                  batch_size=7, num_proc=3)
    pids = set(many["pid"])
    assert len(pids) > 1 and os.getpid() not in pids  # real worker processes (a fast one may take two groups)
    two = ds.map(tokenize_like, batched=True, batch_size=7, num_proc=2)
    assert two.to_dict() == one.to_dict() and two.fingerprint == one.fingerprint
    assert two.features == one.features
    theirs = hf.Dataset.from_dict(SAMPLE).map(tokenize_like, batched=True, batch_size=7, num_proc=2)
    assert two.to_dict() == theirs.to_dict()
    # Indices are the global ones, rows change number (overflow-style), a key only some examples return.
    kwargs = {"with_indices": True, "batched": True, "batch_size": 5, "remove_columns": ["text", "label"]}

    def explode(batch, idx):
        return {"i": [i for i in idx for _ in range(i % 2 + 1)]}

    assert ds.map(explode, num_proc=4, **kwargs).to_dict() == ds.map(explode, **kwargs).to_dict()
    late = lambda x, i: {"late": i} if i > 30 else {}  # noqa: E731
    assert ds.map(late, with_indices=True, num_proc=2)["late"] == ds.map(late, with_indices=True)["late"]


def test_filter_num_proc(hf):
    ds = Dataset.from_dict(SAMPLE)
    keep = lambda x: x["label"] != 1 and len(x["text"]) > 12  # noqa: E731
    ours = ds.filter(keep, num_proc=3)
    theirs = hf.Dataset.from_dict(SAMPLE).filter(keep, num_proc=2)
    assert ours.to_dict() == ds.filter(keep).to_dict() == theirs.to_dict()


def test_worker_error_is_raised():
    def fail(batch):
        if 20 in batch["label"] or any("sentence 30" in t for t in batch["text"]):
            raise RuntimeError("bad batch")
        return {"y": batch["label"]}

    with pytest.raises(RuntimeError, match="bad batch"):
        Dataset.from_dict(SAMPLE).map(fail, batched=True, batch_size=4, num_proc=2)


def test_no_import_circle_in_nanohf_data():
    """Issue 19 found data/dataset.py <-> data/mapping.py; no module of nanohf/data imports one that imports it
    back (imports inside functions count too)."""
    import ast

    folder = Path(__file__).resolve().parents[1] / "nanohf" / "data"
    graph = {}
    for path in folder.glob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names |= {node.module} if node.module else {alias.name for alias in node.names}
        graph[path.stem] = {n.split(".")[0] for n in names if (folder / f"{n.split('.')[0]}.py").exists()}

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, (*seen, n))) for n in graph.get(start, ()))

    circles = sorted(name for name in graph if name != "__init__" and reaches(name, name))
    assert not circles, f"modules in an import circle: {circles} ({ {n: sorted(graph[n]) for n in circles} })"

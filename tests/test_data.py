"""nanohf.data.Dataset / DatasetDict / load_dataset / load_glue / DataLoader against 🤗 datasets.

🤗 datasets judges wherever it can: the same files read by both libraries must give the same rows, and
transforms whose result is deterministic (select, sort, filter, map, and shuffle/train_test_split with a
seed, which use the same NumPy permutation) must give the same rows in the same order.
"""

import csv
import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from nanohf.data import (
    ClassLabel,
    DataLoader,
    Dataset,
    DatasetDict,
    Features,
    List,
    Value,
    default_data_collator,
    disable_caching,
    disable_progress_bars,
    enable_caching,
    enable_progress_bars,
    load_dataset,
    load_glue,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    """Every test gets its own empty map cache and no progress bars."""
    folder = tmp_path / "nanohf-cache"
    monkeypatch.setenv("NANOHF_CACHE", str(folder))
    disable_progress_bars()
    yield folder
    enable_progress_bars()
    enable_caching()


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


def hf_load(hf, tmp_path, *args, **kwargs):
    return hf.load_dataset(*args, cache_dir=str(tmp_path / "hf-cache"), **kwargs)


SAMPLE = {"text": ["b", "a", "c", "a", "d", "b"], "label": [1, 0, 1, 1, 0, 0], "score": [0.5, 2.0, -1.0, 2.0, 3.5, 0.0],
          "ids": [[1, 2], [3], [4, 5, 6], [], [7], [8, 9]]}


@pytest.fixture
def pair(hf):
    """The same small table in both libraries."""
    return Dataset.from_dict(SAMPLE), hf.Dataset.from_dict(SAMPLE)


def assert_same_rows(ours, theirs):
    assert ours.column_names == theirs.column_names
    assert len(ours) == len(theirs)
    assert ours.to_dict() == theirs.to_dict()
    assert [ours[i] for i in range(len(ours))] == [theirs[i] for i in range(len(theirs))]


# ---------------------------------------------------------------------- construction and indexing
def test_indexing_like_hf(pair):
    ours, theirs = pair
    assert_same_rows(ours, theirs)
    assert ours[-1] == theirs[-1]
    assert ours[1:4] == theirs[1:4]
    assert ours[::2] == theirs[::2]
    assert ours[[4, 0, 4]] == theirs[[4, 0, 4]]
    assert ours["ids"] == list(theirs["ids"])
    assert list(ours) == list(theirs)
    assert (ours.num_rows, ours.num_columns, ours.shape) == (theirs.num_rows, theirs.num_columns, theirs.shape)
    assert repr(ours) == repr(theirs)
    assert str(ours.features) == str(theirs.features)
    with pytest.raises(IndexError):
        ours[6]
    with pytest.raises(KeyError, match="nope"):
        ours["nope"]


def test_from_list_and_features(hf):
    rows = [{"a": 1, "b": "x", "c": [0.5]}, {"a": 2, "b": None, "c": [1.5, 2.5]}]
    ours, theirs = Dataset.from_list(rows), hf.Dataset.from_list(rows)
    assert_same_rows(ours, theirs)
    assert str(ours.features) == str(theirs.features)
    labels = Features({"label": ClassLabel(names=["neg", "pos"])})
    ds = Dataset.from_dict({"label": ["pos", "neg", "pos"]}, features=labels)
    assert ds["label"] == [1, 0, 1]
    feature = ds.features["label"]
    assert (feature.num_classes, feature.int2str(1), feature.str2int("neg")) == (2, "pos", 0)
    assert feature.int2str([0, 1]) == ["neg", "pos"] and repr(feature) == "ClassLabel(names=['neg', 'pos'])"
    with pytest.raises(ValueError, match="Invalid integer class label 5"):
        feature.int2str(5)
    with pytest.raises(ValueError, match="Invalid string class label x"):
        feature.str2int("x")
    assert ClassLabel(num_classes=3).names == ["0", "1", "2"]
    assert repr(List(Value("int32"))) == repr(hf.List(hf.Value("int32")))


def test_token_columns_get_small_dtypes_like_hf(hf):
    data = {"input_ids": [[101, 7592, 102], [101, 102]], "attention_mask": [[1, 1, 1], [1, 1]],
            "token_type_ids": [[0, 0, 0], [0, 0]], "labels": [[1, 2, 3], [4, 5]]}
    ours = Dataset.from_dict({"x": [0, 1]}).map(lambda b: data, batched=True, remove_columns=["x"])
    theirs = hf.Dataset.from_dict({"x": [0, 1]}).map(lambda b: data, batched=True, remove_columns=["x"])
    assert str(ours.features) == str(theirs.features)
    assert_same_rows(ours, theirs)


def test_numpy_format(pair):
    ours, theirs = pair
    for kwargs in ({}, {"columns": ["label", "ids"]}, {"columns": ["label"], "output_all_columns": True}):
        a, b = ours.with_format("numpy", **kwargs), theirs.with_format("numpy", **kwargs)
        assert a.format == b.format
        row_a, row_b = a[2], b[2]
        assert list(row_a) == list(row_b)
        for key in row_a:
            np.testing.assert_array_equal(row_a[key], row_b[key])
    numpy = ours.with_format("numpy")
    assert numpy["label"].dtype == np.int64 and numpy["text"].dtype.kind == "U"
    assert numpy[0:2]["ids"].dtype == object  # ragged rows: an array of arrays
    assert numpy[[0, 5]]["ids"].shape == (2, 2)  # equal lengths: one 2-D array
    ours.set_format("numpy", columns=["label"])
    assert list(ours[0]) == ["label"]
    ours.reset_format()
    assert ours[0] == theirs[0]
    with pytest.raises(ValueError, match="numpy"):
        ours.with_format("torch")


# ---------------------------------------------------------------------- transforms
def test_select_shuffle_split_match_hf(pair):
    ours, theirs = pair
    assert_same_rows(ours.select([5, 0, 2]), theirs.select([5, 0, 2]))
    assert_same_rows(ours.select(range(2, 5)), theirs.select(range(2, 5)))
    for seed in (0, 42):
        assert_same_rows(ours.shuffle(seed=seed), theirs.shuffle(seed=seed))
        assert_same_rows(ours.shuffle(seed=seed).select([1, 3]), theirs.shuffle(seed=seed).select([1, 3]))
    for kwargs in ({"test_size": 0.2, "seed": 1}, {"test_size": 2, "seed": 7}, {"train_size": 0.5, "seed": 3},
                   {"test_size": 0.34, "shuffle": False}, {"test_size": 1, "train_size": 2, "seed": 0}):
        a, b = ours.train_test_split(**kwargs), theirs.train_test_split(**kwargs)
        assert isinstance(a, DatasetDict) and list(a) == ["train", "test"]
        assert_same_rows(a["train"], b["train"])
        assert_same_rows(a["test"], b["test"])
    with pytest.raises(ValueError, match="test_size=6"):
        ours.train_test_split(test_size=6)
    with pytest.raises(IndexError):
        ours.select([6])


def test_sort_matches_hf(pair):
    ours, theirs = pair
    for args in (("text",), ("score",), (["text", "score"],), (["label", "text"],)):
        for reverse in (False, True):
            assert_same_rows(ours.sort(*args, reverse=reverse), theirs.sort(*args, reverse=reverse))
    assert_same_rows(ours.sort(["label", "score"], reverse=[True, False]),
                     theirs.sort(["label", "score"], reverse=[True, False]))
    assert_same_rows(ours.shuffle(seed=3).sort("label"), theirs.shuffle(seed=3).sort("label"))
    with_none = {"x": ["b", None, "a", None, "c"], "y": [1, 2, 3, 4, 5]}
    for reverse in (False, True):
        assert_same_rows(Dataset.from_dict(with_none).sort("x", reverse=reverse),
                         theirs.from_dict(with_none).sort("x", reverse=reverse))


def test_filter_map_rename_remove_match_hf(pair):
    ours, theirs = pair

    def both(fn):
        a, b = fn(ours), fn(theirs)
        assert_same_rows(a, b)
        return a

    both(lambda d: d.filter(lambda x: x["label"] == 1))
    both(lambda d: d.filter(lambda b: [s > 0 for s in b["score"]], batched=True, batch_size=4))
    both(lambda d: d.filter(lambda x, i: i % 2 == 0, with_indices=True))
    both(lambda d: d.filter(lambda t: t != "a", input_columns="text"))
    both(lambda d: d.shuffle(seed=5).filter(lambda x: len(x["ids"]) > 1))
    both(lambda d: d.map(lambda x: {"upper": x["text"].upper(), "label": 1 - x["label"]}))
    both(lambda d: d.map(lambda x, i: {"i": i * 10}, with_indices=True))
    both(lambda d: d.map(lambda b: {"n": [len(v) for v in b["ids"]]}, batched=True, batch_size=4))
    both(lambda d: d.map(lambda b: {"n": np.array([len(v) for v in b["ids"]])}, batched=True, batch_size=2,
                         remove_columns=["ids", "text"]))
    # A batched function may return more rows than it got, once no input column is kept.
    both(lambda d: d.map(lambda b: {"id": [i for ids in b["ids"] for i in ids]}, batched=True, batch_size=4,
                         remove_columns=d.column_names))
    both(lambda d: d.map(lambda b: {"x": b["label"][:1]}, batched=True, batch_size=2, remove_columns=d.column_names,
                         drop_last_batch=True))
    both(lambda d: d.map(lambda x: {**x, "text": x["text"] + "!"}, remove_columns=["score"]))
    both(lambda d: d.rename_column("text", "sentence").remove_columns(["ids"]))
    both(lambda d: d.rename_columns({"text": "label", "label": "text"}))
    both(lambda d: d.select_columns(["score", "text"]))
    both(lambda d: d.map(lambda x: None))  # side effects only: data unchanged
    both(lambda d: d.add_column("new", list(range(6))))
    both(lambda d: d.shuffle(seed=1).add_column("new", list(range(6))))
    assert ours.unique("text") == theirs.unique("text")
    assert ours.to_list() == theirs.to_list()
    with pytest.raises(ValueError, match="Original column name nope not in the dataset"):
        ours.rename_column("nope", "x")
    with pytest.raises(ValueError, match="New column name label already in the dataset"):
        ours.rename_column("text", "label")
    with pytest.raises(ValueError, match=r"Column name \['nope'\] not in the dataset"):
        ours.remove_columns(["nope"])


def test_map_keeps_class_labels_and_formats():
    features = Features({"label": ClassLabel(names=["neg", "pos"]), "text": Value("string")})
    ds = Dataset.from_dict({"label": [0, 1], "text": ["a", "b"]}, features=features)
    mapped = ds.map(lambda x: {"label": x["label"], "n": len(x["text"])})
    assert mapped.features["label"] == ClassLabel(names=["neg", "pos"])
    assert mapped.features["n"] == Value("int64")
    numpy = ds.with_format("numpy").map(lambda x: {"kind": type(x["label"]).__name__})
    assert numpy.format["type"] == "numpy" and numpy.with_format(None)["kind"] == ["int64", "int64"]
    cast = Dataset.from_dict({"label": ["pos", "neg"]}).cast_column("label", ClassLabel(names=["neg", "pos"]))
    assert cast["label"] == [1, 0] and cast.features["label"].names == ["neg", "pos"]
    with pytest.raises(ValueError, match="Invalid integer class label 2"):
        Dataset.from_dict({"label": [0, 2]}).cast_column("label", ClassLabel(names=["neg", "pos"]))


def test_map_errors():
    ds = Dataset.from_dict(SAMPLE)
    with pytest.raises(ValueError, match=r"returned 9 rows for a batch of 6.*remove_columns="):
        ds.map(lambda b: {"id": [i for ids in b["ids"] for i in ids]}, batched=True)
    plus_minus = lambda b: {"t": b["text"] + ["x"] if b["label"][0] == 1 else b["text"][1:]}  # noqa: E731
    with pytest.raises(ValueError, match=r"returned 4 rows for a batch of 3"):  # 6 rows in all, yet misaligned
        ds.map(plus_minus, batched=True, batch_size=3)
    with pytest.raises(TypeError, match="returns a variable of type"):
        ds.map(lambda x: 3)
    with pytest.raises(TypeError, match="dict` of lists"):
        ds.map(lambda b: {"x": 1}, batched=True)
    with pytest.raises(ValueError, match=r"Column to remove \['nope'\]"):
        ds.map(lambda x: x, remove_columns="nope")


def test_dataset_dict():
    small = Dataset.from_dict({k: v[:2] for k, v in SAMPLE.items()})
    dd = DatasetDict({"train": Dataset.from_dict(SAMPLE), "test": small})
    mapped = dd.map(lambda b: {"n": [len(v) for v in b["ids"]]}, batched=True, remove_columns=["ids"])
    assert mapped.column_names == {"train": ["text", "label", "score", "n"], "test": ["text", "label", "score", "n"]}
    assert mapped.num_rows == {"train": 6, "test": 2}
    assert mapped.shuffle(seed=0)["train"]["text"] == dd["train"].shuffle(seed=0)["text"]
    mapped.set_format("numpy", columns=["n"])
    assert list(mapped["test"][0]) == ["n"]
    assert "DatasetDict({\n    train: Dataset({" in repr(dd)


# ---------------------------------------------------------------------- files
def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_load_csv_like_hf(hf, tmp_path):
    text = ('id,text,score,flag,maybe\n1,"quoted, with comma",0.5,True,x\n2,plain,1,False,\n'
            '3,"say ""hi""",-2.5e3,True,NA\n\n4,last,7,False,null\n')
    path = write(tmp_path / "a.csv", "\ufeff" + text)
    ours, theirs = load_dataset("csv", data_files=path), hf_load(hf, tmp_path, "csv", data_files=path)
    assert list(ours) == ["train"]
    assert_same_rows(ours["train"], theirs["train"])
    assert [str(f) for f in ours["train"].features.values()] == \
        [str(f).replace("large_string", "string") for f in theirs["train"].features.values()]
    tsv = write(tmp_path / "b.tsv", "a\tb\n1\tx y\n2\tz\n")
    files = {"train": [path, path], "test": path}
    ours, theirs = load_dataset("csv", data_files=files), hf_load(hf, tmp_path, "csv", data_files=files)
    assert_same_rows(ours["train"], theirs["train"])
    assert_same_rows(ours["test"], theirs["test"])
    assert_same_rows(load_dataset("csv", data_files=tsv, delimiter="\t", split="train"),
                     hf_load(hf, tmp_path, "csv", data_files=tsv, delimiter="\t", split="train"))
    assert_same_rows(load_dataset("csv", data_files=tsv, sep="\t", column_names=["x", "y"])["train"],
                     hf_load(hf, tmp_path, "csv", data_files=tsv, sep="\t", column_names=["x", "y"])["train"])


def test_load_sst2_and_mrpc_tsv_like_hf(hf, tmp_path):
    dev = str(DATA / "glue_sst2" / "dev.tsv")
    assert_same_rows(load_dataset("csv", data_files=dev, delimiter="\t", split="train"),
                     hf_load(hf, tmp_path, "csv", data_files=dev, delimiter="\t", split="train"))
    # MRPC needs quoting switched off (QUOTE_NONE = 3), in both libraries.
    mrpc = str(DATA / "glue_mrpc" / "train.tsv")
    ours = load_dataset("csv", data_files=mrpc, delimiter="\t", quoting=csv.QUOTE_NONE, split="train")
    theirs = hf_load(hf, tmp_path, "csv", data_files=mrpc, delimiter="\t", quoting=csv.QUOTE_NONE, split="train")
    assert_same_rows(ours, theirs)
    assert ours.column_names[0] == "Quality" and len(ours) == 3668
    assert ours["#2 String"] == load_glue("mrpc", split="train")["sentence2"]


def test_load_json_and_text_like_hf(hf, tmp_path):
    rows = [{"a": 1, "b": "x", "c": [1, 2]}, {"a": 2, "b": "y", "c": []}, {"a": 3, "c": [5]}]
    lines = write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    listed = write(tmp_path / "b.json", json.dumps(rows))
    nested = write(tmp_path / "c.json", json.dumps({"version": 1, "data": rows}))
    columns = write(tmp_path / "d.json", json.dumps({"data": {"a": [1, 2], "b": ["x", "y"]}}))
    for path, kwargs in ((lines, {}), (listed, {}), (nested, {"field": "data"}), (columns, {"field": "data"})):
        assert_same_rows(load_dataset("json", data_files=path, **kwargs)["train"],
                         hf_load(hf, tmp_path, "json", data_files=path, **kwargs)["train"])
    squad = [{"id": "1", "answers": {"text": ["Denver Broncos"], "answer_start": [177]}},
             {"id": "2", "answers": {"text": ["a", "b"], "answer_start": [0, 4]}}]
    path = write(tmp_path / "squad.jsonl", "\n".join(json.dumps(r) for r in squad))
    ours = load_dataset("json", data_files=path, split="train")
    theirs = hf_load(hf, tmp_path, "json", data_files=path, split="train")
    assert_same_rows(ours, theirs)
    assert str(ours.features) == str(theirs.features).replace("large_string", "string")
    text = write(tmp_path / "t.txt", "first line\n\n  indented  \r\nlast without newline")
    for kwargs in ({}, {"keep_linebreaks": True}, {"sample_by": "document"}):
        assert_same_rows(load_dataset("text", data_files=[text, text], split="train", **kwargs),
                         hf_load(hf, tmp_path, "text", data_files=[text, text], split="train", **kwargs))


def test_load_dataset_splits_and_errors(tmp_path):
    path = write(tmp_path / "a.csv", "x\n" + "\n".join(str(i) for i in range(10)) + "\n")
    assert load_dataset("csv", data_files=path, split="train[:3]")["x"] == [0, 1, 2]
    assert load_dataset("csv", data_files=path, split="train[-2:]")["x"] == [8, 9]
    assert load_dataset("csv", data_files=path, split="train[:20%]")["x"] == [0, 1]
    assert load_dataset("csv", data_files=str(tmp_path / "*.csv"))["train"].num_rows == 10  # a glob
    with pytest.raises(ValueError, match='Unknown split "test"'):
        load_dataset("csv", data_files=path, split="test")
    with pytest.raises(FileNotFoundError, match="Unable to find"):
        load_dataset("csv", data_files=str(tmp_path / "missing.csv"))
    with pytest.raises(ValueError, match="load_glue"):
        load_dataset("glue", "mrpc")
    with pytest.raises(TypeError, match="unexpected options"):
        load_dataset("csv", data_files=path, field="x")
    named = write(tmp_path / "named.csv", "text,label\ngood,pos\nbad,neg\n")
    labels = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    ds = load_dataset("csv", data_files=named, features=labels, split="train")
    assert ds["label"] == [1, 0] and ds.features["label"].int2str(1) == "pos"
    bad = write(tmp_path / "bad.csv", "a,b\n1,2,3\n")
    with pytest.raises(ValueError, match="expected 2 fields"):
        load_dataset("csv", data_files=bad)


# ---------------------------------------------------------------------- GLUE
def test_glue_sst2():
    raw = load_glue("sst2")
    assert list(raw) == ["train", "validation"]
    assert raw.num_rows == {"train": 67349, "validation": 872}
    train, dev = raw["train"], raw["validation"]
    assert train.column_names == ["sentence", "label", "idx"]
    assert str(train.features) == ("{'sentence': Value('string'), 'label': ClassLabel(names=['negative', "
                                   "'positive']), 'idx': Value('int32')}")
    assert train[0] == {"sentence": "hide new secretions from the parental units", "label": 0, "idx": 0}
    assert dev[0] == {"sentence": "it 's a charming and often affecting journey .", "label": 1, "idx": 0}
    assert sum(train["label"]) == 37569 and sum(dev["label"]) == 444
    assert not any(s != s.strip() for s in dev["sentence"])
    assert train["idx"][-1] == 67348


def test_glue_mrpc_bom_and_quotes(tmp_path):
    raw = load_glue("mrpc")
    assert raw.num_rows == {"train": 3668, "validation": 408}
    train = raw["train"]
    assert train.column_names == ["sentence1", "sentence2", "label", "idx"]
    assert train.features["label"].names == ["not_equivalent", "equivalent"]
    assert train[0] == {
        "sentence1": 'Amrozi accused his brother , whom he called " the witness " , of deliberately distorting his '
                     "evidence .",
        "sentence2": 'Referring to him as only " the witness " , Amrozi accused his brother of deliberately '
                     "distorting his evidence .",
        "label": 1, "idx": 0}
    # File line 93 (row 91): the second sentence opens with a quote a CSV reader would take for quoting.
    assert train[91]["sentence2"] == ('" This is an extremely heartrending time for the entire Brandeis University '
                                      "community .")
    assert train[91]["sentence1"].startswith("Officials at Brandeis said")
    assert train[92]["sentence1"].startswith('" If that ain \'t a Democrat')
    assert sum(train["label"]) == 2474 and sum(raw["validation"]["label"]) == 279
    # What a default CSV reader makes of it: the quote opens a field that swallows tabs and lines.
    with open(DATA / "glue_mrpc" / "train.tsv", encoding="utf-8-sig", newline="") as f:
        naive = list(csv.reader(f, delimiter="\t"))
    assert len(naive) - 1 == 3570 and len(naive[92]) == 6 and naive[92][4] != train[91]["sentence2"]
    assert load_glue("mrpc", data_dir=DATA, split="validation").num_rows == 408
    with pytest.raises(FileNotFoundError, match="data_dir"):
        load_glue("mrpc", data_dir=tmp_path)
    with pytest.raises(ValueError, match="sst2"):
        load_glue("cola")


# ---------------------------------------------------------------------- the map cache
def counting_file_function(log):
    """A batched map function that appends one line to `log` per call (a file: counting in a Python
    variable would change what the fingerprint hashes)."""

    def add_length(batch):
        with open(log, "a") as f:
            f.write("call\n")
        return {"length": [len(t) for t in batch["text"]]}

    return add_length


def calls(log):
    return len(Path(log).read_text().splitlines()) if Path(log).exists() else 0


def test_map_cache_reused_and_invalidated(cache_dir, tmp_path):
    log = str(tmp_path / "calls.log")
    ds = Dataset.from_dict(SAMPLE)
    first = ds.map(counting_file_function(log), batched=True, batch_size=2)
    assert calls(log) == 3
    assert first.cache_files and Path(first.cache_files[0]["filename"]).parent.parent == cache_dir
    again = ds.map(counting_file_function(log), batched=True, batch_size=2)  # a new function object, same code
    assert calls(log) == 3 and again.to_dict() == first.to_dict() and again.fingerprint == first.fingerprint
    ds.map(counting_file_function(log), batched=True, batch_size=2, load_from_cache_file=False)
    assert calls(log) == 6
    ds.map(counting_file_function(log), batched=True, batch_size=3)  # other arguments
    assert calls(log) == 8
    Dataset.from_dict({**SAMPLE, "text": ["z"] + SAMPLE["text"][1:]}).map(
        counting_file_function(log), batched=True, batch_size=2)  # other data
    assert calls(log) == 11
    ds.shuffle(seed=0).map(counting_file_function(log), batched=True, batch_size=2)  # other order
    assert calls(log) == 14
    named = Dataset.from_dict(SAMPLE, features=Features({"label": ClassLabel(names=["bad", "good"])}))
    assert named.map(counting_file_function(log), batched=True, batch_size=2).features["label"].names == ["bad", "good"]
    assert calls(log) == 17  # same values, other features: other data

    def other(batch):  # other code
        return {"length": [len(t) + 1 for t in batch["text"]]}

    assert ds.map(other, batched=True, batch_size=2)["length"] != first["length"]
    offset = 1
    closure = lambda x: {"y": x["label"] + offset}  # noqa: E731
    assert ds.map(closure)["y"][0] == 2
    offset = 5
    assert ds.map(closure)["y"][0] == 6  # the closure's value is part of the fingerprint

    disable_caching()
    before = sorted(os.listdir(cache_dir))
    ds.map(counting_file_function(log), batched=True, batch_size=2)
    assert calls(log) == 20 and sorted(os.listdir(cache_dir)) == before
    enable_caching()
    assert not [name for name in os.listdir(cache_dir) if name.startswith(".")]  # no leftover temporaries


def test_function_fingerprints():
    from nanohf.data.fingerprint import hash_value

    def compile_function(source, blank_lines):
        namespace = {}
        exec(compile("\n" * blank_lines + source, f"script{blank_lines}.py", "exec"), namespace)
        return namespace["f"]

    source = "def f(x):\n    return {'n': len(x['text']) + 1}\n"
    assert hash_value(compile_function(source, 0)) == hash_value(compile_function(source, 9))  # moved, same code
    assert hash_value(compile_function(source, 0)) != hash_value(compile_function(source.replace("+ 1", "+ 2"), 0))

    def recursive(n):
        return 1 if n == 0 else recursive(n - 1)

    assert len(hash_value(recursive)) == 32
    ds = Dataset.from_dict(SAMPLE)
    uses_ds = lambda x: {"m": len(ds)}  # noqa: E731
    before = hash_value(uses_ds)
    ds = ds.select([0, 1])  # the closure now refers to other data
    assert hash_value(uses_ds) != before


def test_progress_bar(capsys):
    enable_progress_bars()
    Dataset.from_dict(SAMPLE).map(lambda x: {"y": 1}, desc="Tokenizing the data")
    assert "Tokenizing the data: 100%" in capsys.readouterr().err


def test_cached_columns_are_memory_mapped(cache_dir):
    ds = Dataset.from_dict(SAMPLE).map(lambda b: {"ids2": [[i * 2 for i in v] for v in b["ids"]]}, batched=True)
    folder = Path(ds.cache_files[0]["filename"]).parent
    assert sorted(p.name for p in folder.iterdir()) == [
        "0.json", "1.npy", "2.npy", "3.offsets.npy", "3.values.npy", "4.offsets.npy", "4.values.npy", "table.json"]
    columns = ds._columns
    assert isinstance(columns["label"].data, np.memmap) and isinstance(columns["score"].data, np.memmap)
    assert isinstance(columns["ids2"].values, np.memmap) and isinstance(columns["ids2"].offsets, np.memmap)
    assert columns["ids2"].values.tolist() == [2, 4, 6, 8, 10, 12, 14, 16, 18]
    assert columns["ids2"].offsets.tolist() == [0, 2, 3, 6, 6, 7, 9]
    assert json.loads((folder / "0.json").read_text()) == SAMPLE["text"]
    assert ds["ids2"][2] == [8, 10, 12] and ds.filter(lambda x: x["label"] == 1)["ids2"] == [[2, 4], [8, 10, 12], []]
    assert isinstance(ds.filter(lambda x: x["label"] == 1)._columns["ids2"].values, np.memmap)  # shared, not copied


def test_failed_map_leaves_no_cache(cache_dir):
    def explode(batch):
        if batch["label"][0] == 1 and len(batch["label"]) == 2 and batch["text"][0] == "c":
            raise RuntimeError("boom")
        return {"n": [1] * len(batch["label"])}

    with pytest.raises(RuntimeError, match="boom"):
        Dataset.from_dict(SAMPLE).map(explode, batched=True, batch_size=2)
    assert not cache_dir.exists() or not os.listdir(cache_dir)


def test_damaged_cache_is_recomputed_and_filter_is_cached(tmp_path):
    log = str(tmp_path / "calls.log")
    ds = Dataset.from_dict(SAMPLE)
    first = ds.map(counting_file_function(log), batched=True, batch_size=2)
    (Path(first.cache_files[0]["filename"]).parent / "2.npy").unlink()  # someone deletes a file of the cached result
    again = ds.map(counting_file_function(log), batched=True, batch_size=2)
    assert calls(log) == 6 and again.to_dict() == first.with_format(None).to_dict()

    def keep_positive(example):
        with open(log, "a") as f:
            f.write("filter\n")
        return example["score"] > 0

    kept = ds.filter(keep_positive)
    assert calls(log) == 12 and kept["score"] == [0.5, 2.0, 2.0, 3.5]
    assert ds.filter(keep_positive)["score"] == kept["score"] and calls(log) == 12
    assert ds.filter(keep_positive, load_from_cache_file=False).num_rows == 4 and calls(log) == 18


def test_unhashable_function_still_maps(tmp_path):
    handle = open(tmp_path / "f.txt", "w")  # an open file cannot be fingerprinted
    try:
        with pytest.warns(UserWarning, match="could not be hashed"):
            out = Dataset.from_dict(SAMPLE).map(lambda x: {"n": handle.closed})
    finally:
        handle.close()
    assert out["n"] == [False] * 6 and not out.cache_files


def test_map_cache_across_processes(tmp_path):
    """Re-running a script (a new process, new function objects) reuses the cache. The tokenizer the function
    uses is part of the fingerprint, its memo cache is not. (Edits invalidating it: see the test above.)"""
    data = write(tmp_path / "d.csv", "sentence,label\nhello world,1\nthe cat sat,0\n")
    script = textwrap.dedent(f"""
        import sys
        from nanohf.data import load_dataset, disable_progress_bars
        from nanohf.tokenizers import BertTokenizer
        disable_progress_bars()
        tokenizer = BertTokenizer({str(DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt")!r})
        if {{warm}}:
            tokenizer("warm the tokenizer's word cache up")
        calls = 0

        def tokenize(batch):
            global calls
            calls += 1
            return tokenizer(batch["sentence"], truncation=True)

        ds = load_dataset("csv", data_files={data!r})["train"].map(tokenize, batched=True)
        print(calls, ds[0]["input_ids"])
    """)
    env = {**os.environ, "NANOHF_CACHE": str(tmp_path / "cache")}

    def run(warm=False):
        code = script.replace("{warm}", str(warm))
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return out.stdout.split(maxsplit=1)

    assert run() == ["1", "[101, 7592, 2088, 102]\n"]
    assert run(warm=True) == ["0", "[101, 7592, 2088, 102]\n"]  # reused, though the tokenizer's memo differs


# ---------------------------------------------------------------------- batching
def test_dataloader(hf):
    rows = [{"x": i, "y": [i, i]} for i in range(10)]
    for dataset in (rows, Dataset.from_list(rows), hf.Dataset.from_list(rows)):
        loader = DataLoader(dataset, batch_size=4)
        batches = list(loader)
        assert len(loader) == len(batches) == 3
        np.testing.assert_array_equal(batches[2]["x"], [8, 9])
        assert batches[0]["y"].shape == (4, 2)
        assert len(DataLoader(dataset, batch_size=4, drop_last=True)) == 2
        assert [len(b["x"]) for b in DataLoader(dataset, batch_size=4, drop_last=True)] == [4, 4]

    loader = DataLoader(Dataset.from_list(rows), batch_size=3, shuffle=True, seed=7, collate_fn=default_data_collator)
    epoch0 = np.concatenate([b["x"] for b in loader])
    epoch1 = np.concatenate([b["x"] for b in loader])  # the next pass is the next epoch: a new order
    assert sorted(epoch0) == sorted(epoch1) == list(range(10)) and not np.array_equal(epoch0, epoch1)
    loader.set_epoch(0)
    np.testing.assert_array_equal(np.concatenate([b["x"] for b in loader]), epoch0)
    again = DataLoader(Dataset.from_list(rows), batch_size=3, shuffle=True, seed=7)
    np.testing.assert_array_equal(np.concatenate(again.index_batches(epoch=1)), epoch1)
    assert loader.fetch([2, 5])["x"].tolist() == [2, 5]
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(rows, batch_size=0)

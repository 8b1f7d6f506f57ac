"""save_to_disk / load_from_disk, to_json / to_csv / to_parquet, to_pandas / from_pandas and the "pandas"
format, against 🤗 datasets 5 and pandas on the same rows."""

import importlib
import io
import json

import numpy as np
import pandas as pd
import pytest

from nanohf.data import (
    ClassLabel,
    Dataset,
    DatasetDict,
    Features,
    Value,
    disable_progress_bars,
    load_dataset,
    load_from_disk,
)
from nanohf.data import List as ListFeature

DATA = {"text": ["a b", "é c", None, "d"], "label": [1, 0, 1, 0], "score": [0.5, None, 2.25, -1.0],
        "ids": [[1, 2], [], [3], [4, 5, 6]], "flag": [True, False, True, True]}  # fmt: skip
FEATURES = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"]), "score": Value("float64"),
                     "ids": ListFeature(Value("int32")), "flag": Value("bool")})  # fmt: skip


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path / "nanohf-cache"))
    disable_progress_bars()


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


@pytest.fixture
def pair(hf):
    hf_features = hf.Features({"text": hf.Value("string"), "label": hf.ClassLabel(names=["neg", "pos"]),
                               "score": hf.Value("float64"), "ids": hf.List(hf.Value("int32")),
                               "flag": hf.Value("bool")})  # fmt: skip
    return Dataset.from_dict(DATA, features=FEATURES), hf.Dataset.from_dict(DATA, features=hf_features)


def test_save_to_disk_and_load_from_disk(pair, tmp_path):
    ours, _ = pair
    shuffled = ours.shuffle(seed=1)
    shuffled.set_format("numpy", columns=["label"], output_all_columns=True)
    shuffled.save_to_disk(tmp_path / "one")
    back = load_from_disk(tmp_path / "one")
    assert back.with_format(None).to_dict() == shuffled.with_format(None).to_dict()
    assert back.features == shuffled.features and back.format == shuffled.format
    assert back.fingerprint == shuffled.fingerprint and back.cache_files[0]["filename"].startswith(str(tmp_path))
    assert isinstance(back._columns["label"].data, np.memmap)
    splits = DatasetDict({"train": ours, "test": ours.select([3, 1])})
    splits.save_to_disk(str(tmp_path / "dict"))
    loaded = DatasetDict.load_from_disk(str(tmp_path / "dict"))
    assert isinstance(loaded, DatasetDict) and list(loaded) == ["train", "test"]
    assert loaded["test"].to_dict() == ours.select([3, 1]).to_dict()
    back.save_to_disk(tmp_path / "one")  # overwriting the folder it is mapped from is fine
    assert load_from_disk(tmp_path / "one").to_dict() == shuffled.with_format(None).to_dict()
    with pytest.raises(FileNotFoundError, match="neither a `Dataset` directory nor a `DatasetDict`"):
        load_from_disk(tmp_path)


def test_load_from_disk_of_a_datasets_folder_says_what_to_do(pair, tmp_path):
    _, theirs = pair
    theirs.save_to_disk(str(tmp_path / "hf"))
    with pytest.raises(FileNotFoundError, match="🤗 datasets save_to_disk folder"):
        load_from_disk(tmp_path / "hf")


def test_dict_file_naming_a_folder_outside_is_refused(pair, tmp_path):
    ours, _ = pair
    DatasetDict({"train": ours}).save_to_disk(tmp_path / "d")
    (tmp_path / "d" / "dataset_dict.json").write_text(json.dumps({"splits": ["../elsewhere"]}))
    with pytest.raises(ValueError, match="not a folder inside"):
        load_from_disk(tmp_path / "d")


def test_to_json_and_back_like_hf(hf, pair, tmp_path):
    ours, theirs = pair
    written = ours.to_json(tmp_path / "ours.jsonl")
    assert written == (tmp_path / "ours.jsonl").stat().st_size
    theirs.to_json(str(tmp_path / "theirs.jsonl"))
    for name in ("ours.jsonl", "theirs.jsonl"):  # each library reads back the other's file to the same rows
        path = str(tmp_path / name)
        back = load_dataset("json", data_files=path, split="train")
        hf_back = hf.load_dataset("json", data_files=path, split="train", cache_dir=str(tmp_path / "c"))
        assert back.to_dict() == hf_back.to_dict() == theirs.to_dict()
    ours.to_json(tmp_path / "list.json", lines=False)
    assert json.loads((tmp_path / "list.json").read_text()) == ours.to_list()
    buffer = io.BytesIO()
    ours.to_json(buffer)
    assert buffer.getvalue() == (tmp_path / "ours.jsonl").read_bytes()


def test_to_csv_like_hf(hf, pair, tmp_path):
    ours, theirs = pair
    plain = {k: v for k, v in DATA.items() if k != "ids"}
    ours, theirs = Dataset.from_dict(plain), hf.Dataset.from_dict(plain)
    ours.to_csv(tmp_path / "ours.csv")
    theirs.to_csv(str(tmp_path / "theirs.csv"))
    assert (tmp_path / "ours.csv").read_text() == (tmp_path / "theirs.csv").read_text()
    back = load_dataset("csv", data_files=str(tmp_path / "ours.csv"), split="train")
    assert back.to_dict() == theirs.to_dict()


def test_to_parquet_like_hf(hf, pair, tmp_path):
    ours, theirs = pair
    ours.to_parquet(tmp_path / "ours.parquet")
    theirs.to_parquet(str(tmp_path / "theirs.parquet"))
    hf_back = hf.Dataset.from_parquet(str(tmp_path / "ours.parquet"))
    assert hf_back.to_dict() == theirs.to_dict() and hf_back.features == theirs.features  # datasets reads ours
    back = load_dataset("parquet", data_files=str(tmp_path / "theirs.parquet"), split="train")
    assert back.to_dict() == ours.to_dict() and back.features == ours.features  # and we read theirs


def test_to_pandas_from_pandas_like_hf(hf, pair):
    ours, theirs = pair
    pd.testing.assert_frame_equal(ours.to_pandas(), theirs.to_pandas())
    pd.testing.assert_frame_equal(ours.select([2, 0]).to_pandas(), theirs.select([2, 0]).to_pandas())
    chunks = list(ours.to_pandas(batch_size=3, batched=True))
    assert [len(c) for c in chunks] == [3, 1]
    df = pd.DataFrame({"x": [1, 2, 3], "y": [np.nan, 1.0, 2.0], "z": ["a", "b", None]})
    for frame in (df, df[df.x > 1], df.set_index("z"), df.set_index(pd.Index([5, 7, 9]))):
        a, b = Dataset.from_pandas(frame), hf.Dataset.from_pandas(frame)
        assert a.column_names == b.column_names and a.to_dict() == b.to_dict()
        assert {k: str(v) for k, v in a.features.items()} == {k: str(v).replace("large_string", "string")
                                                                for k, v in b.features.items()}
    assert Dataset.from_pandas(df, preserve_index=False).column_names == ["x", "y", "z"]


def test_pandas_format_like_hf(pair):
    ours, theirs = pair
    ours.set_format("pandas")
    theirs.set_format("pandas")
    for key in (slice(None), slice(1, 3), 2, [3, 0]):
        pd.testing.assert_frame_equal(ours[key], theirs[key])
    pd.testing.assert_series_equal(ours["score"], theirs["score"])
    assert ours.format["type"] == theirs.format["type"] == "pandas"
    ours.reset_format()
    theirs.reset_format()
    assert ours[0] == theirs[0] and ours.format["type"] is theirs.format["type"] is None
    frame = ours.with_format("pandas")[:2]
    assert isinstance(frame, pd.DataFrame) and isinstance(ours[:2], dict)


def test_optional_packages_missing_give_clear_errors(monkeypatch, pair, tmp_path):
    import sys

    ours, _ = pair
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="optional `pandas` package"):
        ours.to_pandas()
    with pytest.raises(ImportError, match="optional `pandas` package"):
        ours.with_format("pandas")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ImportError, match="optional `pyarrow` package"):
        ours.to_parquet(tmp_path / "x.parquet")


def test_take_skip_shard_repeat_like_hf(pair):
    ours, theirs = pair
    for make in (lambda d: d.take(2), lambda d: d.take(9), lambda d: d.skip(1), lambda d: d.skip(9),
                 lambda d: d.shard(3, 0), lambda d: d.shard(3, 2), lambda d: d.shard(3, 1, contiguous=False),
                 lambda d: d.repeat(2), lambda d: d.repeat(0)):  # fmt: skip
        assert make(ours).to_dict() == make(theirs).to_dict()
    with pytest.raises(ValueError, match="index should be in"):
        ours.shard(2, 2)


def test_from_files_and_generator_like_hf(hf, pair, tmp_path):
    ours, theirs = pair
    theirs.to_json(str(tmp_path / "a.jsonl"))
    theirs.to_parquet(str(tmp_path / "a.parquet"))
    (tmp_path / "a.csv").write_text(",x,y\n0,1,\n1,2,b\n", encoding="utf-8")
    (tmp_path / "a.txt").write_text("one\ntwo\n", encoding="utf-8")
    cache = str(tmp_path / "hf")
    for method, name in (("from_json", "a.jsonl"), ("from_parquet", "a.parquet"), ("from_csv", "a.csv"),
                         ("from_text", "a.txt")):  # fmt: skip
        a = getattr(Dataset, method)(str(tmp_path / name))
        b = getattr(hf.Dataset, method)(str(tmp_path / name), cache_dir=cache)
        assert a.to_dict() == b.to_dict() and a.column_names == b.column_names, method

    def gen(n):
        yield from ({"i": i, "s": str(i)} for i in range(n))

    assert Dataset.from_generator(gen, gen_kwargs={"n": 3}).to_dict() == hf.Dataset.from_generator(
        gen, gen_kwargs={"n": 3}, cache_dir=cache).to_dict()

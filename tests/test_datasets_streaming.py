"""IterableDataset (streaming=True, to_iterable_dataset), interleave_datasets and concatenate_datasets against
🤗 datasets 5 on the same data: the same examples in the same order, buffer shuffles included."""

import gzip
import importlib
import json
from itertools import islice

import pytest

from nanohf.data import (
    Dataset,
    IterableDataset,
    Value,
    concatenate_datasets,
    disable_progress_bars,
    interleave_datasets,
    load_dataset,
)

ROWS = [{"x": i, "text": f"t{i}"} for i in range(57)]


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
def streams(hf, tmp_path):
    path = str(tmp_path / "rows.jsonl.gz")
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(r) + "\n" for r in ROWS))
    ours = load_dataset("json", data_files=path, split="train", streaming=True)
    theirs = hf.load_dataset("json", data_files=path, split="train", streaming=True)
    return ours, theirs


def test_streaming_load_and_transforms_like_hf(streams):
    ours, theirs = streams
    assert isinstance(ours, IterableDataset) and ours.num_shards == theirs.num_shards == 1
    assert next(iter(ours)) == next(iter(theirs))
    assert list(ours) == list(theirs)
    double = lambda b: {"y": [v * 2 for v in b["x"]]}  # noqa: E731
    for make in (lambda d: d.take(5), lambda d: d.skip(50), lambda d: d.skip(3).take(4),
                 lambda d: d.map(lambda x: {"n": len(x["text"])}),
                 lambda d: d.map(double, batched=True, batch_size=4),
                 lambda d: d.map(lambda b: {"z": b["x"] * 2}, batched=True, batch_size=5, remove_columns=["x", "text"]),
                 lambda d: d.map(lambda x, i: {"i": i}, with_indices=True),
                 lambda d: d.filter(lambda x: x["x"] % 3 == 0),
                 lambda d: d.filter(lambda b: [v > 40 for v in b["x"]], batched=True, batch_size=8),
                 lambda d: d.remove_columns("text"), lambda d: d.rename_column("x", "label"),
                 lambda d: d.select_columns(["text"])):  # fmt: skip
        assert list(make(ours)) == list(make(theirs))


@pytest.mark.parametrize("buffer_size", [1, 7, 10, 56, 1000])
def test_buffer_shuffle_same_order_as_hf(streams, buffer_size):
    ours, theirs = streams
    assert list(ours.shuffle(seed=42, buffer_size=buffer_size)) == list(theirs.shuffle(seed=42,
                                                                                        buffer_size=buffer_size))
    a, b = ours.shuffle(seed=3, buffer_size=buffer_size), theirs.shuffle(seed=3, buffer_size=buffer_size)
    for epoch in (1, 2):  # set_epoch reseeds as datasets does
        a.set_epoch(epoch)
        b.set_epoch(epoch)
        assert list(a) == list(b)
    assert list(ours.shuffle(seed=1, buffer_size=buffer_size).take(9)) == list(
        theirs.shuffle(seed=1, buffer_size=buffer_size).take(9))
    # Arrow batches of buffer_size // 10 rows from the files, of buffer_size after take/skip, single rows after map.
    for make in (lambda d: d.take(40), lambda d: d.skip(5), lambda d: d.map(lambda x: {"y": x["x"] + 1})):
        assert list(make(ours).shuffle(seed=5, buffer_size=buffer_size)) == list(
            make(theirs).shuffle(seed=5, buffer_size=buffer_size))


def test_to_iterable_dataset_like_hf(hf):
    ours, theirs = Dataset.from_list(ROWS), hf.Dataset.from_list(ROWS)
    assert list(ours.to_iterable_dataset()) == list(theirs.to_iterable_dataset())
    assert list(ours.to_iterable_dataset().shuffle(seed=7, buffer_size=16)) == list(
        theirs.to_iterable_dataset().shuffle(seed=7, buffer_size=16))
    assert ours.to_iterable_dataset(num_shards=4).num_shards == theirs.to_iterable_dataset(num_shards=4).num_shards
    assert list(ours.to_iterable_dataset(num_shards=4)) == list(theirs.to_iterable_dataset(num_shards=4))
    assert ours.to_iterable_dataset().column_names == theirs.to_iterable_dataset().column_names
    batches = list(ours.to_iterable_dataset().iter(batch_size=20))
    assert [len(b["x"]) for b in batches] == [20, 20, 17]


def test_streaming_text_and_csv_like_hf(hf, tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n\nthree", encoding="utf-8")
    (tmp_path / "a.csv").write_text("a,b\n1,x\n2,\n", encoding="utf-8")
    for kind, name in (("text", "a.txt"), ("csv", "a.csv")):
        path = str(tmp_path / name)
        assert list(load_dataset(kind, data_files=path, split="train", streaming=True)) == list(
            hf.load_dataset(kind, data_files=path, split="train", streaming=True))
    stream_dict = load_dataset("csv", data_files={"train": str(tmp_path / "a.csv")}, streaming=True)
    assert list(stream_dict) == ["train"] and list(stream_dict["train"].take(1)) == [{"a": 1, "b": "x"}]


SOURCES = [[{"a": i, "src": "p"} for i in range(5)], [{"a": 100 + i, "src": "q"} for i in range(8)],
           [{"a": 200 + i, "src": "r"} for i in range(3)]]  # fmt: skip


@pytest.mark.parametrize("strategy", ["first_exhausted", "all_exhausted", "all_exhausted_without_replacement"])
@pytest.mark.parametrize("probabilities", [None, [0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
def test_interleave_like_hf(hf, strategy, probabilities):
    ours = interleave_datasets([Dataset.from_list(s) for s in SOURCES], probabilities=probabilities, seed=42,
                               stopping_strategy=strategy)
    theirs = hf.interleave_datasets([hf.Dataset.from_list(s) for s in SOURCES], probabilities=probabilities,
                                    seed=42, stopping_strategy=strategy)
    assert ours.to_dict() == theirs.to_dict()
    ours = interleave_datasets([Dataset.from_list(s).to_iterable_dataset() for s in SOURCES],
                               probabilities=probabilities, seed=42, stopping_strategy=strategy)
    theirs = hf.interleave_datasets([hf.Dataset.from_list(s).to_iterable_dataset() for s in SOURCES],
                                    probabilities=probabilities, seed=42, stopping_strategy=strategy)
    assert list(ours) == list(theirs)


def test_interleave_errors():
    with pytest.raises(ValueError, match="not supported"):
        interleave_datasets([Dataset.from_list(s) for s in SOURCES], stopping_strategy="never")
    with pytest.raises(ValueError, match="IterableDataset"):
        interleave_datasets([Dataset.from_list(SOURCES[0]), Dataset.from_list(SOURCES[1]).to_iterable_dataset()])


def test_concatenate_like_hf(hf):
    a, b = {"x": [1, 2], "y": ["a", "b"]}, {"x": [3], "y": ["c"]}
    ours = concatenate_datasets([Dataset.from_dict(a), Dataset.from_dict(b).shuffle(seed=0)])
    theirs = hf.concatenate_datasets([hf.Dataset.from_dict(a), hf.Dataset.from_dict(b).shuffle(seed=0)])
    assert ours.to_dict() == theirs.to_dict()
    missing = {"x": [4], "z": [True]}  # a column missing from one side is None there
    assert concatenate_datasets([Dataset.from_dict(a), Dataset.from_dict(missing)]).to_dict() == \
        hf.concatenate_datasets([hf.Dataset.from_dict(a), hf.Dataset.from_dict(missing)]).to_dict()
    side = {"z": [0.5, 1.5]}
    ours = concatenate_datasets([Dataset.from_dict(a).select([1, 0]), Dataset.from_dict(side)], axis=1)
    theirs = hf.concatenate_datasets([hf.Dataset.from_dict(a).select([1, 0]), hf.Dataset.from_dict(side)], axis=1)
    assert ours.to_dict() == theirs.to_dict()
    with pytest.raises(ValueError, match="Number of rows must match"):
        concatenate_datasets([Dataset.from_dict(a), Dataset.from_dict(b)], axis=1)
    with pytest.raises(ValueError, match="can't be aligned"):
        concatenate_datasets([Dataset.from_dict(a), Dataset.from_dict({"x": ["text"]})])
    streamed = concatenate_datasets([Dataset.from_dict(a).to_iterable_dataset(),
                                     Dataset.from_dict(b).to_iterable_dataset()])
    assert list(streamed) == list(hf.concatenate_datasets([hf.Dataset.from_dict(a).to_iterable_dataset(),
                                                           hf.Dataset.from_dict(b).to_iterable_dataset()]))
    assert list(islice(streamed, 2)) == [{"x": 1, "y": "a"}, {"x": 2, "y": "b"}]


def test_from_generator():
    def gen(n):
        yield from ({"k": i} for i in range(n))

    stream = IterableDataset.from_generator(gen, gen_kwargs={"n": 4})
    assert list(stream) == list(stream) == [{"k": i} for i in range(4)]


def test_streamed_file_features_like_hf(streams, hf, tmp_path):
    ours, theirs = streams
    assert ours.column_names == list(theirs.features)
    assert ours.features == {"x": Value("int64"), "text": Value("string")}
    assert ours.remove_columns("x").column_names == theirs.remove_columns("x").column_names
    assert "features: ['x', 'text']" in repr(ours)

"""load_dataset on local files against 🤗 datasets 5 on the same files: compressed files, JSON Lines and
field=, splits, globs, delimiter/names/column_names, split slicing and sums, pandas' column naming; and the
on-disk cache (written once, memory-mapped, reused, refreshed when a file changes)."""

import bz2
import csv
import gzip
import importlib
import json
import lzma
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nanohf.data import ClassLabel, Features, Value, disable_progress_bars, load_dataset, load_glue

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "data"  # the shipped copies of ../shared/data (data/README.md)
ROWS = [{"id": i, "text": f"row {i} é", "score": i / 4, "tags": ["a"] * (i % 3)} for i in range(20)]


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


def both(hf, tmp_path, *args, **kwargs):
    theirs = hf.load_dataset(*args, cache_dir=str(tmp_path / "hf-cache"), **kwargs)
    return load_dataset(*args, **kwargs), theirs


def plain_features(features):
    return {name: str(f).replace("large_string", "string") for name, f in features.items()}


def assert_same(ours, theirs):
    if isinstance(theirs, dict):
        assert list(ours) == list(theirs)
        for split in theirs:
            assert_same(ours[split], theirs[split])
        return
    assert ours.column_names == theirs.column_names
    assert ours.to_dict() == theirs.to_dict()
    assert {k: str(v) for k, v in ours.features.items()} == plain_features(theirs.features)


def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# ---------------------------------------------------------------------- compressed files
@pytest.mark.parametrize("opener,suffix", [(gzip.open, ".gz"), (bz2.open, ".bz2"), (lzma.open, ".xz")])
def test_compressed_json_csv_text_like_hf(hf, tmp_path, opener, suffix):
    """.json.gz failed with a bare UnicodeDecodeError before: every compressed file is read as 🤗 datasets does."""
    path = str(tmp_path / f"rows.jsonl{suffix}")
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(jsonl(ROWS))
    assert_same(*both(hf, tmp_path, "json", data_files=path))
    csv_path = str(tmp_path / f"rows.csv{suffix}")
    with opener(csv_path, "wt", encoding="utf-8") as f:
        f.write("a,b\n1,x\n2,\n")
    assert_same(*both(hf, tmp_path, "csv", data_files=csv_path))
    text_path = str(tmp_path / f"lines.txt{suffix}")
    with opener(text_path, "wt", encoding="utf-8") as f:
        f.write("one\ntwo\n\nthree\n")
    assert_same(*both(hf, tmp_path, "text", data_files=text_path))


def test_zip_archive_like_hf(hf, tmp_path):
    path = str(tmp_path / "archive.zip")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data/b.jsonl", jsonl(ROWS[10:]))
        archive.writestr("data/a.jsonl", jsonl(ROWS[:10]))
    ours, theirs = both(hf, tmp_path, "json", data_files=path, split="train")
    assert len(ours) == 20
    assert_same(ours, theirs)


def test_zstd_without_the_package_is_a_clear_error(tmp_path):
    path = tmp_path / "rows.jsonl.zst"
    path.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 16)  # a zstandard frame header
    try:
        import zstandard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="zstandard"):
            load_dataset("json", data_files=str(path))
    else:  # pragma: no cover - the package is not installed here
        pytest.fail("zstandard is installed: write a real .zst file and compare with datasets instead")


def test_undecodable_file_names_the_file(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a\ncafé\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.csv.*encoding="):
        load_dataset("csv", data_files=str(path))
    assert load_dataset("csv", data_files=str(path), encoding="latin-1", split="train")["a"] == ["café"]


# ---------------------------------------------------------------------- json, csv, splits
def test_json_lines_list_and_field_like_hf(hf, tmp_path):
    (tmp_path / "a.jsonl").write_text(jsonl(ROWS), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps({"version": "1", "data": ROWS}), encoding="utf-8")
    assert_same(*both(hf, tmp_path, "json", data_files=str(tmp_path / "a.jsonl")))
    assert_same(*both(hf, tmp_path, "json", data_files=str(tmp_path / "b.json"), field="data"))
    with pytest.raises(ValueError, match="no field 'missing'"):
        load_dataset("json", data_files=str(tmp_path / "b.json"), field="missing")


def test_csv_column_names_as_pandas_names_them(hf, tmp_path):
    """An empty header is 'Unnamed: <i>' and a repeated one 'a.1' in datasets (pandas): the same here."""
    cases = {"index.csv": ",name,val\n0,x,1.5\n1,y,2\n2,z,\n", "dup.csv": "a,,a,a\n1,2,3,4\n",
             "noheader.csv": "1,x,,2\n3,y,5,\n"}  # fmt: skip
    for name, text in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    ours, theirs = both(hf, tmp_path, "csv", data_files=str(tmp_path / "index.csv"), split="train")
    assert ours.column_names == ["Unnamed: 0", "name", "val"] and ours["val"] == [1.5, 2.0, None]
    assert_same(ours, theirs)
    assert_same(*both(hf, tmp_path, "csv", data_files=str(tmp_path / "dup.csv")))
    for kwargs in ({"header": None}, {"names": ["p", "q", "r", "s"]}, {"column_names": ["p", "q", "r", "s"]},
                   {"names": ["p", "q", "r", "s"], "usecols": ["q", "s"]}, {"header": None, "skiprows": 1},
                   {"header": None, "nrows": 1}):  # fmt: skip
        assert_same(*both(hf, tmp_path, "csv", data_files=str(tmp_path / "noheader.csv"), **kwargs))


def test_tsv_delimiter_sep_and_shipped_files(hf, tmp_path):
    sst2 = str(SHARED / "glue_sst2" / "dev.tsv")
    for kwargs in ({"delimiter": "\t"}, {"sep": "\t"}):
        assert_same(*both(hf, tmp_path, "csv", data_files=sst2, **kwargs))
    mrpc = str(SHARED / "glue_mrpc" / "dev.tsv")
    ours, theirs = both(hf, tmp_path, "csv", data_files=mrpc, delimiter="\t", quoting=csv.QUOTE_NONE, split="train")
    assert_same(ours, theirs)
    assert ours["#1 String"] == load_glue("mrpc", split="validation")["sentence1"]
    squad = str(SHARED / "squad_v2_dev_subset" / "dev-subset.json")
    ours, theirs = both(hf, tmp_path, "json", data_files=squad, field="data", split="train")
    assert ours.column_names == theirs.column_names and ours["title"] == theirs["title"]
    assert ours[0]["paragraphs"][0]["qas"][0]["question"] == theirs[0]["paragraphs"][0]["qas"][0]["question"]


def test_dict_of_splits_lists_and_globs_like_hf(hf, tmp_path):
    for i in range(3):
        (tmp_path / f"part-{i}.jsonl").write_text(jsonl(ROWS[i * 5:(i + 1) * 5]), encoding="utf-8")
    files = {"train": [str(tmp_path / "part-0.jsonl"), str(tmp_path / "part-1.jsonl")],
             "test": str(tmp_path / "part-2.jsonl")}
    assert_same(*both(hf, tmp_path, "json", data_files=files))
    assert_same(*both(hf, tmp_path, "json", data_files=str(tmp_path / "part-*.jsonl")))
    assert_same(*both(hf, tmp_path, "json", data_files={"train": str(tmp_path / "part-[01].jsonl")}))
    assert_same(load_dataset("json", data_dir=str(tmp_path), data_files="part-2.jsonl"),
                load_dataset("json", data_files=str(tmp_path / "part-2.jsonl")))


@pytest.mark.parametrize("split", ["train", "train[:10%]", "train[10:20]", "train[-5:]", "train[:-15]",
                                   "train[33%:67%]", "train+test", "test+train[:3]", "train[:1]+test[-1:]",
                                   "test[5:3]", "train[50%:]"])  # fmt: skip
def test_split_slicing_like_hf(hf, tmp_path, split):
    (tmp_path / "train.jsonl").write_text(jsonl(ROWS), encoding="utf-8")
    (tmp_path / "test.jsonl").write_text(jsonl(ROWS[:7]), encoding="utf-8")
    files = {"train": str(tmp_path / "train.jsonl"), "test": str(tmp_path / "test.jsonl")}
    ours, theirs = both(hf, tmp_path, "json", data_files=files, split=split)
    assert ours["id"] == list(theirs["id"]) and ours.to_dict() == theirs.to_dict()


def test_split_errors_like_hf(hf, tmp_path):
    (tmp_path / "a.jsonl").write_text(jsonl(ROWS[:3]), encoding="utf-8")
    path = str(tmp_path / "a.jsonl")
    for split, message in (("validation", 'Unknown split "validation"'),
                           ("train[:10%](pct1_dropremainder)", "pct1_dropremainder")):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
            load_dataset("json", data_files=path, split=split)
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
            hf.load_dataset("json", data_files=path, split=split, cache_dir=str(tmp_path / "hf"))


def test_features_declared_like_hf(hf, tmp_path):
    (tmp_path / "l.csv").write_text("text,label\ngood,1\nbad,0\n", encoding="utf-8")
    ours = load_dataset("csv", data_files=str(tmp_path / "l.csv"), split="train",
                        features=Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])}))
    theirs = hf.load_dataset("csv", data_files=str(tmp_path / "l.csv"), split="train", cache_dir=str(tmp_path / "h"),
                             features=hf.Features({"text": hf.Value("string"),
                                                   "label": hf.ClassLabel(names=["neg", "pos"])}))
    assert ours.to_dict() == theirs.to_dict() and ours.features["label"].names == theirs.features["label"].names


def test_parquet_like_hf(hf, tmp_path):
    theirs = hf.Dataset.from_list(ROWS).cast_column("id", hf.ClassLabel(names=[str(i) for i in range(20)]))
    theirs.to_parquet(str(tmp_path / "rows.parquet"))
    ours, loaded = both(hf, tmp_path, "parquet", data_files=str(tmp_path / "rows.parquet"), split="train")
    assert_same(ours, loaded)
    assert ours.features["id"].names == loaded.features["id"].names  # the features travel in the file's metadata
    assert_same(*both(hf, tmp_path, "parquet", data_files=str(tmp_path / "rows.parquet"), columns=["text"]))


def test_hub_names_and_list_datasets_are_clear_offline_errors(tmp_path):
    from nanohf.data import list_datasets

    with pytest.raises(ValueError, match="does not download from the Hub"):
        load_dataset("rotten_tomatoes")
    with pytest.raises(ValueError, match="load_glue"):
        load_dataset("glue", "mrpc")
    with pytest.raises(ConnectionError, match="needs the network"):
        list_datasets()
    with pytest.raises(ConnectionError, match="does not download"):
        load_dataset("json", data_files="https://example.org/a.jsonl")


# ---------------------------------------------------------------------- the cache
def test_loaded_data_is_cached_memory_mapped_and_reused(hf, tmp_path, cache_dir, monkeypatch):
    path = tmp_path / "rows.jsonl"
    path.write_text(jsonl(ROWS), encoding="utf-8")
    ds = load_dataset("json", data_files=str(path), split="train")
    table = Path(ds.cache_files[0]["filename"])
    assert table.name == "table.json" and table.parent.name == "train" and cache_dir in table.parents
    assert isinstance(ds._columns["id"].data, np.memmap) and isinstance(ds._columns["score"].data, np.memmap)
    assert (table.parent / "3.json").is_file()  # the lists of strings: JSON, never pickle
    files = sorted(p.name for p in table.parent.iterdir())
    assert ds.dataset_size == sum((table.parent / name).stat().st_size for name in files)
    theirs = hf.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert len(theirs.cache_files) == 1 and theirs.dataset_size > 0  # both libraries report a file and a size

    # A second load reads nothing but table.json: break the reader to prove it.
    import nanohf.data.loading as loading

    monkeypatch.setitem(loading._READERS, "json", lambda *a, **k: pytest.fail("the files were read again"))
    again = load_dataset("json", data_files=str(path), split="train")
    assert again.to_dict() == ds.to_dict() and again.cache_files == ds.cache_files
    assert again.fingerprint == ds.fingerprint
    monkeypatch.undo()
    monkeypatch.setenv("NANOHF_CACHE", str(cache_dir))

    # Other options or an edited file: read again, into another folder.
    other = load_dataset("json", data_files=str(path), split="train", field=None, encoding="utf-8")
    assert other.cache_files != ds.cache_files
    path.write_text(jsonl(ROWS[:4]), encoding="utf-8")
    os.utime(path, ns=(1, 1))
    changed = load_dataset("json", data_files=str(path), split="train")
    assert len(changed) == 4 and changed.cache_files != ds.cache_files and changed.fingerprint != ds.fingerprint
    forced = load_dataset("json", data_files=str(path), split="train", download_mode="force_redownload")
    assert forced.to_dict() == changed.to_dict()
    assert len(load_dataset("json", data_files=str(path), split="train", keep_in_memory=True).cache_files) == 0
    assert not [p for p in cache_dir.iterdir() if p.name.startswith(".")]  # no leftover temporaries

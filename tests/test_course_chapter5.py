"""The course's chapter 5 ("The 🤗 Datasets library"), cell by cell, with `datasets` -> `nanohf.data` and
`"pt"` -> `"np"`: written afresh, on shipped data and small files made here instead of downloads. Where a
cell needs the network (the Hub, a URL), nanohf fails there as 🤗 datasets 5 fails offline. Each section
also runs the cells' calls with 🤗 datasets on the same files and compares the results.
"""

import gzip
import html
import importlib
import json
import shutil
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nanohf
from nanohf.data import (
    Dataset,
    DatasetDict,
    disable_progress_bars,
    interleave_datasets,
    load_dataset,
    load_from_disk,
    load_glue,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "data"  # the shipped copies of ../shared/data (data/README.md)
CONDITIONS = ["Depression", "ADHD", "birth Control", "Acne", None, "Anxiety", "insomnia"]


@pytest.fixture(autouse=True)
def quiet(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("nanohf-cache")))
    disable_progress_bars()


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Chapter 5's files, made from shipped data: SQuAD-it-style JSON (plain and .gz), drug-review TSVs."""
    root = tmp_path_factory.mktemp("chapter5")
    squad = SHARED / "squad_v2_dev_subset" / "dev-subset.json"
    shutil.copy(squad, root / "SQuAD_it-train.json")
    with open(squad, "rb") as src, gzip.open(root / "SQuAD_it-train.json.gz", "wb") as dst:
        dst.write(src.read())
    sentences = load_glue("sst2", split="validation")["sentence"]
    for split, offset, n in (("Train", 0, 300), ("Test", 300, 100)):
        lines = ["\tdrugName\tcondition\treview\trating\tdate\tusefulCount"]
        for i in range(n):
            text = sentences[offset + i].replace("'", "&#039;")
            condition = CONDITIONS[(i * 3 + offset) % len(CONDITIONS)] or ""
            lines.append(f'{10000 + offset + i}\tdrug{i % 13}\t{condition}\t"""{text}"""\t{(i % 10) + 1}.0\t'
                         f"May {i % 28 + 1}, 2012\t{i % 40}")
        (root / f"drugsCom{split}_raw.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tokenizer(minilm_dir):
    return nanohf.AutoTokenizer.from_pretrained(minilm_dir)


# ---------------------------------------------------------------------- 5.2 What if my dataset isn't on the Hub?
def test_section_2_local_and_remote_files(hf, files, tmp_path):
    squad_it_dataset = load_dataset("json", data_files=str(files / "SQuAD_it-train.json"), field="data")
    assert list(squad_it_dataset) == ["train"] and squad_it_dataset["train"].column_names == ["title", "paragraphs"]
    data_files = {"train": str(files / "SQuAD_it-train.json"), "test": str(files / "SQuAD_it-train.json.gz")}
    squad_it_dataset = load_dataset("json", data_files=data_files, field="data")
    theirs = hf.load_dataset("json", data_files=data_files, field="data", cache_dir=str(tmp_path / "hf"))
    assert squad_it_dataset["test"].to_dict() == theirs["test"].to_dict()  # the .gz, read directly
    assert squad_it_dataset["train"][0]["title"] == theirs["train"][0]["title"]
    url = "https://github.com/crux82/squad-it/raw/master/"
    with pytest.raises(ConnectionError):  # datasets, offline, fails here too (it cannot fetch the URL)
        load_dataset("json", data_files={"train": url + "SQuAD_it-train.json.gz"}, field="data")


# ---------------------------------------------------------------------- 5.3 Time to slice and dice
@pytest.fixture(scope="module")
def drug_dataset(files):
    data_files = {"train": str(files / "drugsComTrain_raw.tsv"), "test": str(files / "drugsComTest_raw.tsv")}
    return load_dataset("csv", data_files=data_files, delimiter="\t"), data_files


def lowercase_condition(example):
    return {"condition": example["condition"].lower()}


def compute_review_length(example):
    return {"review_length": len(example["review"].split())}


def test_section_3_slice_and_dice(hf, drug_dataset, tokenizer, tmp_path):
    drug_dataset, data_files = drug_dataset
    theirs = hf.load_dataset("csv", data_files=data_files, delimiter="\t", cache_dir=str(tmp_path / "hf"))
    assert drug_dataset["train"].column_names[0] == "Unnamed: 0" == theirs["train"].column_names[0]
    assert drug_dataset["train"].to_dict() == theirs["train"].to_dict()

    drug_sample = drug_dataset["train"].shuffle(seed=42).select(range(100))
    assert drug_sample[:3] == theirs["train"].shuffle(seed=42).select(range(100))[:3]
    for split in drug_dataset.keys():
        assert len(drug_dataset[split]) == len(drug_dataset[split].unique("Unnamed: 0"))
    drug_dataset = drug_dataset.rename_column(original_column_name="Unnamed: 0", new_column_name="patient_id")
    theirs = theirs.rename_column("Unnamed: 0", "patient_id")
    assert drug_dataset.num_rows == theirs.num_rows
    assert sorted(drug_dataset["train"].unique("drugName")) == sorted(theirs["train"].unique("drugName"))

    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'lower'"):
        drug_dataset.map(lowercase_condition)  # as in the course: some conditions are missing
    drug_dataset = drug_dataset.filter(lambda x: x["condition"] is not None)
    theirs = theirs.filter(lambda x: x["condition"] is not None)
    drug_dataset = drug_dataset.map(lowercase_condition)
    theirs = theirs.map(lowercase_condition)
    assert drug_dataset["train"]["condition"][:3] == theirs["train"]["condition"][:3]

    drug_dataset = drug_dataset.map(compute_review_length)
    theirs = theirs.map(compute_review_length)
    assert drug_dataset["train"].sort("review_length")[:3] == theirs["train"].sort("review_length")[:3]
    drug_dataset = drug_dataset.filter(lambda x: x["review_length"] > 10)
    theirs = theirs.filter(lambda x: x["review_length"] > 10)
    assert drug_dataset.num_rows == theirs.num_rows

    drug_dataset = drug_dataset.map(lambda x: {"review": [html.unescape(o) for o in x["review"]]}, batched=True)
    theirs = theirs.map(lambda x: {"review": [html.unescape(o) for o in x["review"]]}, batched=True)
    assert "&#039;" not in "".join(drug_dataset["train"]["review"])
    assert drug_dataset["train"].to_dict() == theirs["train"].to_dict()

    def tokenize_function(examples):
        return tokenizer(examples["review"], truncation=True)

    tokenized_dataset = drug_dataset.map(tokenize_function, batched=True, num_proc=2)
    assert tokenized_dataset["train"]["input_ids"] == drug_dataset.map(tokenize_function, batched=True)["train"][
        "input_ids"]

    def tokenize_and_split(examples):
        result = tokenizer(examples["review"], truncation=True, max_length=16, return_overflowing_tokens=True)
        sample_map = result.pop("overflow_to_sample_mapping")
        for key, values in examples.items():
            result[key] = [values[i] for i in sample_map]
        return result

    with pytest.raises(ValueError, match="no longer line up"):  # datasets: "Column lengths mismatch"
        drug_dataset["train"].map(lambda x: tokenizer(x["review"], truncation=True, max_length=16,
                                                      return_overflowing_tokens=True), batched=True)
    tokenized_dataset = drug_dataset.map(tokenize_and_split, batched=True)
    assert tokenized_dataset["train"].num_rows > drug_dataset["train"].num_rows
    overflow = drug_dataset["train"].map(
        lambda x: tokenizer(x["review"], truncation=True, max_length=16, return_overflowing_tokens=True),
        batched=True, remove_columns=drug_dataset["train"].column_names)
    assert len(overflow) == tokenized_dataset["train"].num_rows

    # From Datasets to DataFrames and back
    drug_dataset.set_format("pandas")
    train_df = drug_dataset["train"][:]
    assert isinstance(train_df, pd.DataFrame) and len(train_df) == drug_dataset["train"].num_rows
    frequencies = (train_df["condition"].value_counts().to_frame().reset_index()
                   .rename(columns={"index": "condition", "count": "frequency"}))  # fmt: skip
    freq_dataset = Dataset.from_pandas(frequencies)
    theirs_freq = hf.Dataset.from_pandas(frequencies)
    assert freq_dataset.to_dict() == theirs_freq.to_dict() and freq_dataset.column_names == ["condition", "frequency"]
    drug_dataset.reset_format()
    assert isinstance(drug_dataset["train"][0], dict)

    # Creating a validation set
    drug_dataset_clean = drug_dataset["train"].train_test_split(train_size=0.8, seed=42)
    theirs_clean = theirs["train"].train_test_split(train_size=0.8, seed=42)
    drug_dataset_clean["validation"] = drug_dataset_clean.pop("test")
    drug_dataset_clean["test"] = drug_dataset["test"]
    assert isinstance(drug_dataset_clean, DatasetDict)
    assert drug_dataset_clean["validation"]["patient_id"] == theirs_clean["test"]["patient_id"]

    # Saving a dataset
    drug_dataset_clean.save_to_disk(str(tmp_path / "drug-reviews"))
    drug_dataset_reloaded = load_from_disk(str(tmp_path / "drug-reviews"))
    assert drug_dataset_reloaded.num_rows == drug_dataset_clean.num_rows
    for split, dataset in drug_dataset_clean.items():
        dataset.to_json(str(tmp_path / f"drug-reviews-{split}.jsonl"))
    data_files = {split: str(tmp_path / f"drug-reviews-{split}.jsonl") for split in ("train", "validation", "test")}
    drug_dataset_reloaded = load_dataset("json", data_files=data_files)
    assert drug_dataset_reloaded["validation"].to_dict() == drug_dataset_clean["validation"].to_dict()
    assert drug_dataset_reloaded["test"].to_dict() == hf.load_dataset(
        "json", data_files=data_files, cache_dir=str(tmp_path / "hf2"))["test"].to_dict()


# ---------------------------------------------------------------------- 5.4 Big data? 🤗 Datasets to the rescue!
def test_section_4_big_data_and_streaming(hf, tmp_path, tokenizer):
    lines = (SHARED / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").split("\n\n")[:400]
    pubmed = tmp_path / "PUBMED_title_abs.jsonl.gz"
    with gzip.open(pubmed, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps({"meta": {"pmid": i, "language": "eng"}, "text": t}) + "\n"
                     for i, t in enumerate(lines))
    law = tmp_path / "FreeLaw_Opinions.jsonl.gz"
    with gzip.open(law, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps({"meta": {"pmid": -i, "language": "en"}, "text": t[::-1]}) + "\n"
                     for i, t in enumerate(lines))
    zst = tmp_path / "PUBMED_title_abs.jsonl.zst"
    zst.write_bytes(b"\x28\xb5\x2f\xfd" + b"\x00" * 8)
    with pytest.raises(ValueError, match="zstandard"):  # the course's .zst file: datasets 5 here raises
        load_dataset("json", data_files=str(zst), split="train")  # "Compression type zstd not supported"

    pubmed_dataset = load_dataset("json", data_files=str(pubmed), split="train")
    assert pubmed_dataset[0]["meta"] == {"pmid": 0, "language": "eng"}
    assert pubmed_dataset.dataset_size > 0 and pubmed_dataset.cache_files  # on disk, memory-mapped
    size_gb = pubmed_dataset.dataset_size / (1024**3)
    assert f"Dataset size (cache file) : {size_gb:.2f} GB".endswith("GB")

    pubmed_dataset_streamed = load_dataset("json", data_files=str(pubmed), split="train", streaming=True)
    theirs_streamed = hf.load_dataset("json", data_files=str(pubmed), split="train", streaming=True)
    assert next(iter(pubmed_dataset_streamed)) == next(iter(theirs_streamed))
    tokenized_dataset = pubmed_dataset_streamed.map(lambda x: tokenizer(x["text"]))
    assert next(iter(tokenized_dataset))["input_ids"][0] == tokenizer.cls_token_id
    shuffled_dataset = pubmed_dataset_streamed.shuffle(buffer_size=100, seed=42)
    assert next(iter(shuffled_dataset)) == next(iter(theirs_streamed.shuffle(buffer_size=100, seed=42)))
    dataset_head = pubmed_dataset_streamed.take(5)
    assert list(dataset_head) == list(theirs_streamed.take(5))
    train_dataset = shuffled_dataset.skip(100)
    validation_dataset = shuffled_dataset.take(100)
    assert len(list(validation_dataset)) == 100 and len(list(train_dataset)) == len(lines) - 100

    law_dataset_streamed = load_dataset("json", data_files=str(law), split="train", streaming=True)
    combined_dataset = interleave_datasets([pubmed_dataset_streamed, law_dataset_streamed])
    theirs_combined = hf.interleave_datasets(
        [theirs_streamed, hf.load_dataset("json", data_files=str(law), split="train", streaming=True)])
    assert list(islice(combined_dataset, 2)) == list(islice(theirs_combined, 2))
    pile = load_dataset("json", data_files={"train": [str(pubmed), str(law)], "validation": str(law)}, streaming=True)
    assert next(iter(pile["train"]))["text"] == lines[0] and next(iter(pile["validation"]))["text"] == lines[0][::-1]


# ---------------------------------------------------------------------- 5.5 Creating your own dataset
def test_section_5_own_dataset(hf, tmp_path):
    issues = [{"url": f"u{i}", "number": i, "title": f"Issue {i}", "comments": i % 4, "state": "open",
               "pull_request": {"url": f"p{i}"} if i % 3 == 0 else None, "body": None if i % 5 == 0 else "text"}
              for i in range(30)]  # fmt: skip
    path = tmp_path / "datasets-issues.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in issues), encoding="utf-8")
    issues_dataset = load_dataset("json", data_files=str(path), split="train")
    theirs = hf.load_dataset("json", data_files=str(path), split="train", cache_dir=str(tmp_path / "hf"))
    assert issues_dataset.to_dict() == theirs.to_dict()
    issues_dataset = issues_dataset.map(lambda x: {"is_pull_request": x["pull_request"] is not None})
    sample = issues_dataset.shuffle(seed=666).select(range(3))
    theirs_sample = theirs.map(lambda x: {"is_pull_request": x["pull_request"] is not None}).shuffle(seed=666)
    assert sample["is_pull_request"] == theirs_sample.select(range(3))["is_pull_request"]
    with pytest.raises(ConnectionError, match="does not upload"):  # the Hub: offline
        issues_dataset.push_to_hub("github-issues")


# ---------------------------------------------------------------------- 5.6 Semantic search with FAISS
def test_section_6_semantic_search(hf, tmp_path, minilm_dir, tokenizer):
    with pytest.raises(ConnectionError, match="Couldn't reach"):  # datasets offline: the same ConnectionError
        load_dataset("lewtun/github-issues", split="train")
    sentences = load_glue("sst2", split="validation")["sentence"][:40]
    rows = [{"html_url": f"https://issues/{i}", "title": f"Issue {i}", "comments": sentences[i:i + 1 + i % 3],
             "body": sentences[-i - 1], "number": i, "is_pull_request": i % 4 == 0} for i in range(24)]  # fmt: skip
    issues_dataset = Dataset.from_list(rows)
    issues_dataset = issues_dataset.filter(lambda x: (x["is_pull_request"] is False and len(x["comments"]) > 0))
    columns = issues_dataset.column_names
    columns_to_keep = ["title", "body", "html_url", "comments"]
    columns_to_remove = set(columns_to_keep).symmetric_difference(columns)
    issues_dataset = issues_dataset.remove_columns(columns_to_remove)
    issues_dataset.set_format("pandas")
    df = issues_dataset[:]
    comments_df = df.explode("comments", ignore_index=True)
    comments_dataset = Dataset.from_pandas(comments_df)
    theirs = hf.Dataset.from_pandas(comments_df)
    assert comments_dataset.to_dict() == theirs.to_dict()
    comments_dataset = comments_dataset.map(lambda x: {"comment_length": len(x["comments"].split())})
    comments_dataset = comments_dataset.filter(lambda x: x["comment_length"] > 3)

    def concatenate_text(examples):
        return {"text": examples["title"] + " \n " + examples["body"] + " \n " + examples["comments"]}

    comments_dataset = comments_dataset.map(concatenate_text)
    model = nanohf.AutoModel.from_pretrained(minilm_dir)

    def cls_pooling(model_output):
        return model_output.last_hidden_state[:, 0]

    def get_embeddings(text_list):
        encoded_input = tokenizer(text_list, padding=True, truncation=True, return_tensors="np")
        return cls_pooling(model(**encoded_input))

    embedding = get_embeddings(comments_dataset["text"][0])
    assert embedding.shape == (1, 384)
    embeddings_dataset = comments_dataset.map(lambda x: {"embeddings": np.asarray(get_embeddings(x["text"]))[0]})
    embeddings_dataset.add_faiss_index(column="embeddings")
    question = "Which film is the most moving?"
    question_embedding = np.asarray(get_embeddings([question]))
    assert question_embedding.shape == (1, 384)
    scores, samples = embeddings_dataset.get_nearest_examples("embeddings", question_embedding, k=5)
    samples_df = pd.DataFrame.from_dict(samples)
    samples_df["scores"] = scores
    samples_df.sort_values("scores", ascending=False, inplace=True)
    assert len(samples_df) == 5

    hf_embeddings = hf.Dataset.from_dict(embeddings_dataset.with_format(None).to_dict())
    hf_embeddings.add_faiss_index(column="embeddings")
    hf_scores, hf_samples = hf_embeddings.get_nearest_examples("embeddings", question_embedding, k=5)
    assert samples["html_url"] == hf_samples["html_url"]
    np.testing.assert_allclose(scores, hf_scores, rtol=1e-4)


def test_a_restricted_format_carries_over_as_in_datasets(hf):
    """set_format(columns=...) then map/filter/remove_columns: the function sees every column, a column map adds
    joins the formatted ones, and the result's format columns are 🤗 datasets' (the book's chapter 2 relies on
    it: `encoded.set_format("torch", columns=...)`, then `encoded.map(extract_hidden_states, batched=True)`)."""
    rows = {"a": [1, 2, 3], "b": [4, 5, 6], "c": [7, 8, 9]}

    def transforms(lib):
        d = lib.Dataset.from_dict(rows)
        d.set_format("numpy", columns=["c", "a"])
        mapped = d.map(lambda batch: {"h": [x * 2 for x in batch["b"]]}, batched=True)
        yield mapped.format["columns"], type(mapped["h"][:]).__name__, sorted(mapped[0].items())
        yield d.map(lambda x: {"h": x["b"] * 2}).format["columns"]
        yield d.map(lambda batch: {"h": batch["b"]}, batched=True, remove_columns=["a"]).format["columns"]
        yield d.filter(lambda x: x["b"] > 4).format["columns"], len(d.filter(lambda x: x["b"] > 4))
        yield d.remove_columns(["c"]).format["columns"]

    assert list(transforms(nanohf)) == list(transforms(hf))

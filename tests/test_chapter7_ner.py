"""The course's chapter 7 token classification (NER) on WNUT-17, against 🤗 datasets / transformers.

* the CoNLL reader (nanohf/data/conll.py) gives 🤗 `wnut_17`'s splits, columns, features and rows (the loading
  script's parsing is re-done here, and the rows put into a 🤗 datasets Dataset with its Features);
* DataCollatorForTokenClassification equals transformers' on the same features (padding sides,
  pad_to_multiple_of, max_length, label_pad_token_id, `label` / `labels`, no labels);
* examples/ner_wnut17.py's `tokenize_and_align_labels` equals the course's code run with transformers' fast
  tokenizer on the same rows (input ids, masks, aligned labels);
* bad input (malformed CoNLL lines, labels longer than the words) names the file and line, or the row;
* the example trains on a tiny slice, and the token-classification pipeline on its saved folder equals
  transformers' pipeline on that folder.
"""

import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nanohf
from nanohf.data import ClassLabel, DataCollatorForTokenClassification, Features, List, Value, load_dataset
from nanohf.data.conll import infer_label_names, load_wnut17

ROOT = Path(__file__).resolve().parents[1]
WNUT = ROOT / "data" / "wnut17"
FILES = {"train": "wnut17train.conll", "validation": "emerging.dev.conll", "test": "emerging.test.annotated"}
HF_WNUT17_NAMES = ["O", "B-corporation", "I-corporation", "B-creative-work", "I-creative-work", "B-group", "I-group",
                   "B-location", "I-location", "B-person", "I-person", "B-product", "I-product"]  # fmt: skip


def load_example():
    spec = importlib.util.spec_from_file_location("ner_wnut17", ROOT / "examples" / "ner_wnut17.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_rows(path):
    """🤗 `wnut_17`'s loading script's parse: a tab between token and tag, a blank line ends a sentence."""
    rows, tokens, tags = [], [], []
    for line in Path(path).read_text(encoding="utf-8").split("\n"):
        if line.startswith("-DOCSTART-") or line.strip() == "":
            if tokens:
                rows.append((tokens, tags))
            tokens, tags = [], []
        else:
            token, tag = line.split("\t")
            tokens.append(token)
            tags.append(tag.rstrip())
    if tokens:
        rows.append((tokens, tags))
    return rows


@pytest.fixture(scope="module")
def wnut():
    return load_dataset("wnut_17")


@pytest.fixture(scope="module")
def tokenizers(minilm_dir):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    assert theirs.is_fast
    return nanohf.AutoTokenizer.from_pretrained(minilm_dir), theirs


# ---------------------------------------------------------------------------------------------- the reader
def test_wnut17_splits_rows_and_features_as_hf_wnut_17(wnut):
    import datasets

    theirs_features = datasets.Features({"id": datasets.Value("string"), "tokens": datasets.Sequence(datasets.Value(
        "string")), "ner_tags": datasets.Sequence(datasets.ClassLabel(names=HF_WNUT17_NAMES))})  # fmt: skip
    assert repr(dict(wnut["train"].features)) == repr(dict(theirs_features))
    assert wnut["train"].features == Features({"id": Value("string"), "tokens": List(Value("string")),
                                               "ner_tags": List(ClassLabel(names=HF_WNUT17_NAMES))})  # fmt: skip
    sizes = {split: (len(ds), sum(map(len, ds["tokens"]))) for split, ds in wnut.items()}
    assert sizes == {"train": (3394, 62730), "validation": (1009, 15733), "test": (1287, 23394)}  # data/README.md
    for split, name in FILES.items():
        rows = reference_rows(WNUT / name)
        reference = datasets.Dataset.from_dict(
            {"id": [str(i) for i in range(len(rows))], "tokens": [t for t, _ in rows],
             "ner_tags": [[HF_WNUT17_NAMES.index(tag) for tag in tags] for _, tags in rows]},
            features=theirs_features)  # fmt: skip
        assert wnut[split].to_dict() == reference.to_dict(), split
    assert "Dubbz\ufeff" in wnut["validation"]["tokens"][[i for i, t in enumerate(wnut["validation"]["tokens"])
                                                          if "Dubbz\ufeff" in t][0]]  # fmt: skip


def test_conll_builder_infers_hf_order_and_slices(wnut):
    files = {split: str(WNUT / name) for split, name in FILES.items()}
    raw = load_dataset("conll", data_files=files)
    assert raw["train"].features["ner_tags"].feature.names == HF_WNUT17_NAMES  # inferred: O, then types, B before I
    assert raw["test"].to_dict() == wnut["test"].to_dict()
    head = load_dataset("conll", data_files=files, split="validation[:5]+test[-2:]")
    assert head["tokens"] == wnut["validation"]["tokens"][:5] + wnut["test"]["tokens"][-2:]
    assert load_wnut17(split="validation").to_dict() == wnut["validation"].to_dict()
    assert infer_label_names(["I-b", "O", "B-b", "B-a", "S-a", "I-a"]) == ["O", "B-a", "I-a", "S-a", "B-b", "I-b"]


def test_conll2003_layout_docstart_spaces_and_declared_names(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text("-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP B-MISC\n\n\n"
                    "Peter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n-DOCSTART- -X- -X- O\n\n"
                    "BRUSSELS NNP B-NP B-LOC\n", encoding="utf-8")  # fmt: skip
    names = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]  # 🤗 conll2003's order
    raw = load_dataset("conll", data_files=str(path), label_names=names)["train"]
    assert raw.column_names == ["id", "tokens", "pos_tags", "chunk_tags", "ner_tags"]
    assert raw["tokens"] == [["EU", "rejects", "German"], ["Peter", "Blackburn"], ["BRUSSELS"]]
    assert raw["ner_tags"] == [[3, 0, 7], [1, 2], [5]]
    assert raw.features["pos_tags"].feature.names == ["JJ", "NNP", "VBZ"]
    with pytest.raises(ValueError, match=r"eng\.train, line 3: the ner_tags tag 'B-ORG' is not one of"):
        load_dataset("conll", data_files=str(path), label_names=["O", "B-PER", "I-PER"])


@pytest.mark.parametrize(
    ("text", "line", "what"),
    [
        ("a\tO\nb\tB-x\textra\n", 2, "3 columns separated by a tab, but the file's first token line has 2"),
        ("a\tO\n\n\tB-x\n", 3, "an empty column"),
        ("a\tO\nb\n", 2, "1 columns separated by a tab"),
        ("a O\nb  O\n", 2, "3 columns separated by ' '"),
        ("a O\nb \n", 2, "an empty column"),
    ],
)
def test_malformed_conll_line_names_file_and_line(tmp_path, text, line, what):
    path = tmp_path / "bad.conll"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=rf"bad\.conll, line {line}: malformed CoNLL line .*{what}"):
        load_dataset("conll", data_files={"train": str(path)})


def test_conll_unknown_options_and_column_counts(tmp_path):
    path = tmp_path / "three.conll"
    path.write_text("a\tNN\tO\nb\tNN\tB-x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"three\.conll, line 1: 3 columns per line; pass column_names="):
        load_dataset("conll", data_files=str(path))
    raw = load_dataset("conll", data_files=str(path), column_names=["tokens", "pos_tags", "ner_tags"])["train"]
    assert raw["ner_tags"] == [[0, 1]] and raw.features["ner_tags"].feature.names == ["O", "B-x"]
    raw = load_dataset("conll", data_files=str(path), column_names=["words", "pos", "tags"], label_names=["B-x", "O"])
    assert raw["train"]["tags"] == [[1, 0]] and raw["train"].features["pos"].feature.names == ["NN"]
    with pytest.raises(TypeError, match="accepts"):
        load_dataset("conll", data_files=str(path), sep=",")
    latin = tmp_path / "latin1.conll"
    latin.write_bytes("caf\u00e9\tO\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.conll: not utf-8-sig text \(byte 3"):
        load_dataset("conll", data_files=str(latin))
    assert load_dataset("conll", data_files=str(latin), encoding="latin-1")["train"]["tokens"] == [["caf\u00e9"]]


# ---------------------------------------------------------------------------------------------- the collator
def tokenized_rows(tokenizer, wnut, count, with_labels=True):
    example = load_example()
    names = wnut["train"].features["ner_tags"].feature.names
    batch = wnut["train"][:count]
    encoded = example.make_tokenize_and_align_labels(tokenizer, names)(batch)
    keys = list(encoded) if with_labels else [k for k in encoded if k != "labels"]
    return [{k: list(encoded[k][i]) for k in keys} for i in range(count)]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding_side": "left"},
        {"pad_to_multiple_of": 8},
        {"pad_to_multiple_of": 8, "padding_side": "left", "label_pad_token_id": -1},
        {"padding": "max_length", "max_length": 64},
        {"label_name": "label"},
        {"no_labels": True},
    ],
)
def test_collator_equals_transformers(tokenizers, wnut, options):
    import transformers

    ours_tok, theirs_tok = tokenizers
    options = dict(options)
    side = options.pop("padding_side", "right")
    label_name = options.pop("label_name", "labels")
    rows = tokenized_rows(ours_tok, wnut, 7, with_labels=not options.pop("no_labels", False))
    if label_name != "labels":
        rows = [{(label_name if k == "labels" else k): v for k, v in row.items()} for row in rows]
    results = []
    for tok, collator_class in ((ours_tok, DataCollatorForTokenClassification),
                                (theirs_tok, transformers.DataCollatorForTokenClassification)):  # fmt: skip
        tok.padding_side = side
        try:
            results.append(collator_class(tokenizer=tok, return_tensors="np", **options)([dict(r) for r in rows]))
        finally:
            tok.padding_side = "right"
    ours, theirs = results
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        a, b = np.asarray(ours[key]), np.asarray(theirs[key])
        assert a.dtype == b.dtype and a.shape == b.shape, f"{key}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        assert np.array_equal(a, b), f"{key}: {int((a != b).sum())} entries differ"
    if "label_pad_token_id" in options:
        assert (ours["labels"] == -1).any()


def test_collator_labels_longer_than_tokens(tokenizers, wnut):
    rows = tokenized_rows(tokenizers[0], wnut, 3)
    rows[2]["labels"] = rows[2]["labels"] + [0] * 200
    with pytest.raises(ValueError, match=r"example 2 has \d+ labels for \d+ tokens"):
        DataCollatorForTokenClassification(tokenizers[0])(rows)
    # padding=False on rows of different lengths: transformers fails with "IndexError: tuple index out of range"
    with pytest.raises(ValueError, match="different lengths"):
        DataCollatorForTokenClassification(tokenizers[0], padding=False)(tokenized_rows(tokenizers[0], wnut, 3))


# ---------------------------------------------------------------------------------------------- label alignment
def course_align_labels_with_tokens(labels, word_ids):
    """The course's chapter 7 code, as printed (the reference for the example's version)."""
    new_labels = []
    current_word = None
    for word_id in word_ids:
        if word_id != current_word:
            current_word = word_id
            label = -100 if word_id is None else labels[word_id]
            new_labels.append(label)
        elif word_id is None:
            new_labels.append(-100)
        else:
            label = labels[word_id]
            if label % 2 == 1:
                label += 1
            new_labels.append(label)
    return new_labels


def course_tokenize_and_align_labels(tokenizer, examples, max_length):
    tokenized_inputs = tokenizer(examples["tokens"], truncation=True, is_split_into_words=True, max_length=max_length)
    all_labels = examples["ner_tags"]
    new_labels = []
    for i, labels in enumerate(all_labels):
        word_ids = tokenized_inputs.word_ids(i)
        new_labels.append(course_align_labels_with_tokens(labels, word_ids))
    tokenized_inputs["labels"] = new_labels
    return tokenized_inputs


@pytest.mark.parametrize(("split", "rows", "max_length"), [("train", 600, 128), ("test", 300, 128), ("train", 200, 12)])
def test_alignment_equals_course_code_with_transformers(tokenizers, wnut, split, rows, max_length):
    ours_tok, theirs_tok = tokenizers
    names = wnut[split].features["ner_tags"].feature.names
    batch = wnut[split][:rows]
    ours = load_example().make_tokenize_and_align_labels(ours_tok, names, max_length)(batch)
    theirs = course_tokenize_and_align_labels(theirs_tok, batch, max_length)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        differ = [i for i in range(rows) if list(ours[key][i]) != list(theirs[key][i])]
        assert not differ, f"{split} {key}: rows {differ[:5]} differ, e.g. {ours[key][differ[0]]} vs " \
                           f"{theirs[key][differ[0]]}"  # fmt: skip
    continued = sum(1 for row in theirs["labels"] for a, b in zip(row, row[1:], strict=False) if a != -100 and b == a)
    assert continued > 0  # some words span several pieces (and keep their I- label)


def test_alignment_b_to_i_by_name_in_any_label_order():
    example = load_example()
    shuffled = ["B-x", "O", "I-y", "I-x", "B-y", "S-z"]
    b_to_i = example.b_to_i_ids(shuffled)
    assert b_to_i == {0: 3, 4: 2}
    assert example.align_labels_with_tokens([0, 1, 4], [None, 0, 0, 1, 2, 2, None], b_to_i) == [-100, 0, 3, 1, 4, 2,
                                                                                               -100]  # fmt: skip


def test_labels_longer_than_words_name_the_row(tokenizers, wnut):
    example = load_example()
    names = wnut["train"].features["ner_tags"].feature.names
    rows = wnut["train"].select(range(12)).to_dict()
    rows["ner_tags"][9] = rows["ner_tags"][9] + [0]
    broken = nanohf.data.Dataset.from_dict(rows, features=wnut["train"].features)
    function = example.make_tokenize_and_align_labels(tokenizers[0], names)
    with pytest.raises(ValueError, match=r"row 9: \d+ ner_tags for \d+ tokens"):
        broken.map(function, batched=True, batch_size=4, with_indices=True)


# ---------------------------------------------------------------------------------------------- the example
@pytest.fixture(scope="module")
def trained_folder(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ner_example")
    env = {**os.environ, "NANOHF_CACHE": str(tmp / "cache"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    command = [sys.executable, str(ROOT / "examples" / "ner_wnut17.py"), "--max-train-samples", "48",
               "--max-eval-samples", "24", "--epochs", "1", "--output-dir", str(tmp / "out")]  # fmt: skip
    result = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"ner_wnut17.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return tmp / "out", result


def test_example_runs_on_a_slice(trained_folder):
    import re

    folder, result = trained_folder
    assert "{'train': 48, 'validation': 24, 'test': 24} sentences; 13 labels" in result.stdout
    for split in ("validation", "test"):
        assert re.search(rf"WNUT-17 {split} \(24 sentences\): entity precision \d\.\d{{4}}, recall \d\.\d{{4}}, "
                         r"F1 \d\.\d{4}, token accuracy \d\.\d{4}", result.stdout), result.stdout  # fmt: skip
    assert "train:" in result.stderr  # the Trainer's progress bar
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    assert "Brooklyn." in result.stdout and "  -> " in result.stdout


def _sharpened_copy(folder, target):
    """The saved folder with a larger classifier (seeded): an un-trained-enough head predicts only O, which would
    leave the aggregation untested."""
    import shutil

    from safetensors.numpy import load_file, save_file

    shutil.copytree(folder, target)
    tensors = load_file(str(target / "model.safetensors"))
    rng = np.random.default_rng(0)
    tensors["classifier.weight"] = (rng.standard_normal(tensors["classifier.weight"].shape) * 0.5).astype(np.float32)
    tensors["classifier.bias"] = np.zeros_like(tensors["classifier.bias"])
    save_file(tensors, str(target / "model.safetensors"), metadata={"format": "pt"})
    return target


def test_pipeline_on_saved_folder_equals_transformers(trained_folder, tmp_path):
    import transformers

    folder, result = trained_folder
    sentences = load_example().SENTENCES + [" ".join(t) for t in load_wnut17(split="test")["tokens"][:6]]
    for model_dir in (folder, _sharpened_copy(folder, tmp_path / "sharp")):
        ours = nanohf.pipeline("token-classification", model=str(model_dir), aggregation_strategy="simple")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = transformers.pipeline("token-classification", model=str(model_dir), aggregation_strategy="simple")
        found = 0
        for sentence in sentences:
            a, b = ours(sentence), theirs(sentence)
            assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in a] == \
                   [(e["entity_group"], e["word"], e["start"], e["end"]) for e in b], sentence  # fmt: skip
            delta = max((abs(float(x["score"]) - float(y["score"])) for x, y in zip(a, b, strict=True)), default=0.0)
            assert delta <= 1e-4, f"{sentence}: score max |Δ| = {delta:.2e}"
            found += len(a)
        assert model_dir == folder or found > 0, "the sharpened head must find entities"
    assert ours.model.config.id2label[1] == "B-corporation"

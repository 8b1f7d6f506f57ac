"""The course's chapter 7 extractive question answering on the shipped SQuAD 2.0 subset, against 🤗 datasets /
transformers.

* the SQuAD reader (nanohf/data/squad.py, `load_dataset("squad_v2")`) gives the rows and features of 🤗's
  `squad_v2` loading script (re-done here, the rows put into a 🤗 datasets Dataset with its Features);
* examples/question_answering_squad.py's preprocessing, run with nanohf's tokenizer through nanohf's `map`,
  equals the course's code run with transformers' fast tokenizer (the MiniLM vocabulary) through 🤗's `map`:
  windows, ids, masks, start/end labels, example ids, masked offsets -- on all 1,407 questions;
* post-processing: the n-best search equals an exhaustive search over every valid span (n_best = the window),
  logits that point at the gold answers score 100, the no-answer rule of SQuAD 2.0, max_answer_length;
* bad input: an `answer_start` that does not point at its text names the question id; malformed SQuAD files
  name the place; logits that do not match the features are refused;
* the example runs end to end on a tiny slice (a tiny random BERT with MiniLM's vocabulary, made with
  transformers), and the question-answering pipeline answers from its saved folder.
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nanohf
from nanohf import load_dataset

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / "data" / "squad_v2_dev_subset" / "dev-subset.json"


def load_example():
    spec = importlib.util.spec_from_file_location("question_answering_squad",
                                                  ROOT / "examples" / "question_answering_squad.py")  # fmt: skip
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


@pytest.fixture(scope="module")
def squad():
    return load_dataset("squad_v2", split="validation")


@pytest.fixture(scope="module")
def tokenizers(minilm_dir):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    assert theirs.is_fast
    return nanohf.AutoTokenizer.from_pretrained(minilm_dir), theirs


def hf_squad_v2_rows(path):
    """🤗 `squad_v2`'s loading script: one row per question, answers as {text: [...], answer_start: [...]}."""
    with open(path, encoding="utf-8") as f:
        squad = json.load(f)
    for article in squad["data"]:
        title = article.get("title", "")
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]  # do not strip leading blank spaces GH-2585
            for qa in paragraph["qas"]:
                yield {"id": qa["id"], "title": title, "context": context, "question": qa["question"],
                       "answers": {"answer_start": [a["answer_start"] for a in qa["answers"]],
                                   "text": [a["text"] for a in qa["answers"]]}}  # fmt: skip


# ---------------------------------------------------------------------------------------------- the reader
def test_squad_v2_rows_and_features_as_hf(squad):
    import datasets

    features = datasets.Features({
        "id": datasets.Value("string"), "title": datasets.Value("string"), "context": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answers": datasets.Sequence({"text": datasets.Value("string"), "answer_start": datasets.Value("int32")}),
    })  # fmt: skip
    theirs = datasets.Dataset.from_list(list(hf_squad_v2_rows(SQUAD)), features=features)
    assert len(squad) == len(theirs) == 1407
    assert repr(squad.features) == repr(theirs.features)
    assert squad.to_dict() == theirs.to_dict()
    assert sum(not a["text"] for a in squad["answers"]) == 702  # the unanswerable ones (data/README.md)
    both = load_dataset("squad", data_files={"train": str(SQUAD), "validation": [str(SQUAD), str(SQUAD)]})
    assert {s: len(d) for s, d in both.items()} == {"train": 1407, "validation": 2814}
    assert load_dataset("squad_v2", split="validation[:5]")["id"] == squad["id"][:5]


def test_reader_errors_name_the_place(tmp_path):
    with pytest.raises(ValueError, match=r"needs data_files="):
        load_dataset("squad")
    with pytest.raises(TypeError, match=r"no streaming"):
        load_dataset("squad_v2", streaming=True)
    cases = {
        "not json": r"not a JSON file",
        json.dumps({"version": "v2.0"}): r"'data' list of articles",
        json.dumps({"data": [{"title": "T", "paragraphs": [{"qas": []}]}]}):
            r"data\[0\]\.paragraphs\[0\]: missing 'context'",
        json.dumps({"data": [{"paragraphs": [{"context": "abc", "qas": [{"question": "q?", "answers": []}]}]}]}):
            r"data\[0\]\.paragraphs\[0\]\.qas\[0\]: missing 'id'",
        json.dumps({"data": [{"paragraphs": [{"context": "abc", "qas": [{"id": "x", "question": "q?", "answers": [
            {"text": "b", "answer_start": "1"}]}]}]}]}): r"qas\[0\]\.answers\[0\]\.answer_start: expected int, got str",
    }  # fmt: skip
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"bad{i}.json"
        path.write_text(text)
        with pytest.raises(ValueError, match=message) as error:
            load_dataset("squad_v2", data_files=str(path))
        assert str(path) in str(error.value)


# ---------------------------------------------------------------------------------------------- 1. preprocessing
def course_training_features(tokenizer, max_length, stride):
    """The course's preprocess_training_examples (plus SQuAD 2.0's empty answers -> [CLS], as run_qa.py)."""

    def preprocess_training_examples(examples):
        questions = [q.strip() for q in examples["question"]]
        inputs = tokenizer(questions, examples["context"], max_length=max_length, truncation="only_second",
                           stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                           padding="max_length")  # fmt: skip
        offset_mapping = inputs.pop("offset_mapping")
        sample_map = inputs.pop("overflow_to_sample_mapping")
        answers = examples["answers"]
        start_positions = []
        end_positions = []
        for i, offset in enumerate(offset_mapping):
            sample_idx = sample_map[i]
            answer = answers[sample_idx]
            if len(answer["answer_start"]) == 0:
                start_positions.append(0)
                end_positions.append(0)
                continue
            start_char = answer["answer_start"][0]
            end_char = answer["answer_start"][0] + len(answer["text"][0])
            sequence_ids = inputs.sequence_ids(i)
            idx = 0
            while sequence_ids[idx] != 1:
                idx += 1
            context_start = idx
            while sequence_ids[idx] == 1:
                idx += 1
            context_end = idx - 1
            if offset[context_start][0] > start_char or offset[context_end][1] < end_char:
                start_positions.append(0)
                end_positions.append(0)
            else:
                idx = context_start
                while idx <= context_end and offset[idx][0] <= start_char:
                    idx += 1
                start_positions.append(idx - 1)
                idx = context_end
                while idx >= context_start and offset[idx][1] >= end_char:
                    idx -= 1
                end_positions.append(idx + 1)
        inputs["start_positions"] = start_positions
        inputs["end_positions"] = end_positions
        return inputs

    return preprocess_training_examples


def course_validation_features(tokenizer, max_length, stride):
    """The course's preprocess_validation_examples."""

    def preprocess_validation_examples(examples):
        questions = [q.strip() for q in examples["question"]]
        inputs = tokenizer(questions, examples["context"], max_length=max_length, truncation="only_second",
                           stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                           padding="max_length")  # fmt: skip
        sample_map = inputs.pop("overflow_to_sample_mapping")
        example_ids = []
        for i in range(len(inputs["input_ids"])):
            sample_idx = sample_map[i]
            example_ids.append(examples["id"][sample_idx])
            sequence_ids = inputs.sequence_ids(i)
            offset = inputs["offset_mapping"][i]
            inputs["offset_mapping"][i] = [o if sequence_ids[k] == 1 else None for k, o in enumerate(offset)]
        inputs["example_id"] = example_ids
        return inputs

    return preprocess_validation_examples


@pytest.fixture(scope="module")
def hf_squad():
    import datasets

    return datasets.Dataset.from_list(list(hf_squad_v2_rows(SQUAD)))


def as_lists(column):
    """A column's rows with tuples as lists and arrays as lists (🤗's Arrow gives lists, nanohf keeps tuples)."""
    def norm(value):
        if isinstance(value, (list, tuple, np.ndarray)):
            return [norm(v) for v in value]
        return value.item() if isinstance(value, np.generic) else value

    return [norm(row) for row in column]


@pytest.mark.parametrize("max_length, stride", [(384, 128), (96, 32)])
def test_training_features_equal_the_course_with_transformers(example, squad, hf_squad, tokenizers, max_length,
                                                              stride):  # fmt: skip
    ours_tok, theirs_tok = tokenizers
    rows = slice(None) if max_length == 384 else slice(0, 300)  # all 1,407 questions at the course's size
    raw, hf_raw = squad.select(range(len(squad))[rows]), hf_squad.select(range(len(hf_squad))[rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = raw.map(example.make_preprocess_training_examples(ours_tok, max_length, stride), batched=True,
                       remove_columns=raw.column_names)  # fmt: skip
        theirs = hf_raw.map(course_training_features(theirs_tok, max_length, stride), batched=True,
                            remove_columns=hf_raw.column_names, load_from_cache_file=False)  # fmt: skip
    assert ours.column_names == theirs.column_names
    assert len(ours) == len(theirs) > len(raw)  # some questions have several windows
    for name in theirs.column_names:
        assert as_lists(ours[name]) == as_lists(theirs[name]), name
    # The labels are not all [CLS]: the answerable windows point at tokens that spell the answer.
    starts, ends = np.array(ours["start_positions"]), np.array(ours["end_positions"])
    labelled = np.flatnonzero(starts > 0)
    assert len(labelled) > len(ours) // 5 and (ends[labelled] >= starts[labelled]).all()
    ids = ours["input_ids"]
    spelled = [ours_tok.decode(ids[i][starts[i] : ends[i] + 1]) for i in labelled[:40]]
    assert sum(s.replace(" ", "") != "" for s in spelled) == len(spelled)


@pytest.mark.parametrize("max_length, stride", [(384, 128), (96, 32)])
def test_validation_features_equal_the_course_with_transformers(example, squad, hf_squad, tokenizers, max_length,
                                                                stride):  # fmt: skip
    ours_tok, theirs_tok = tokenizers
    n = len(squad) if max_length == 384 else 300
    raw, hf_raw = squad.select(range(n)), hf_squad.select(range(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = raw.map(example.make_preprocess_validation_examples(ours_tok, max_length, stride), batched=True,
                       remove_columns=raw.column_names)  # fmt: skip
        theirs = hf_raw.map(course_validation_features(theirs_tok, max_length, stride), batched=True,
                            remove_columns=hf_raw.column_names, load_from_cache_file=False)  # fmt: skip
    assert sorted(ours.column_names) == sorted(theirs.column_names)
    for name in theirs.column_names:
        assert as_lists(ours[name]) == as_lists(theirs[name]), name
    offsets = ours["offset_mapping"]
    assert all(row[0] is None for row in offsets)  # [CLS] never part of an answer
    assert len(set(ours["example_id"])) == n


# ---------------------------------------------------------------------------------------------- 2. post-processing
def exhaustive_answers(start_logits, end_logits, features, examples, max_answer_length):
    """The best valid span over every (start, end) of every window (no n-best cut), and SQuAD 2.0's null rule."""
    predictions = {}
    for example in examples:
        best, best_text, null = -np.inf, "", np.inf
        for i, example_id in enumerate(features["example_id"]):
            if example_id != example["id"]:
                continue
            offsets = features["offset_mapping"][i]
            null = min(null, float(start_logits[i][0] + end_logits[i][0]))
            for s in range(len(offsets)):
                for e in range(s, min(len(offsets), s + max_answer_length)):
                    if offsets[s] is not None and offsets[e] is not None:
                        score = float(start_logits[i][s] + end_logits[i][e])
                        if score > best:
                            best, best_text = score, example["context"][offsets[s][0] : offsets[e][1]]
        predictions[example["id"]] = best_text if best >= null else ""
    return predictions


@pytest.fixture(scope="module")
def small_validation(example, squad, tokenizers):
    """40 questions as windows of 64 tokens (many questions have several)."""
    raw = squad.select(range(40))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        features = raw.map(example.make_preprocess_validation_examples(tokenizers[0], 64, 16), batched=True,
                           remove_columns=raw.column_names)  # fmt: skip
    return raw, features


def test_postprocess_equals_an_exhaustive_search(example, small_validation):
    raw, features = small_validation
    assert len(features) > 2 * len(raw)
    rng = np.random.default_rng(0)
    start_logits, end_logits = rng.standard_normal((2, len(features), 64)).astype(np.float32) * 3
    # A strong "no answer" in every window of every other question, so that both outcomes occur.
    null_heavy = np.isin(features["example_id"], raw["id"][::2])
    start_logits[null_heavy, 0] += 8.0
    end_logits[null_heavy, 0] += 8.0
    predicted = example.postprocess_predictions(start_logits, end_logits, features, raw, n_best=64,
                                                max_answer_length=7)  # fmt: skip
    expected = exhaustive_answers(start_logits, end_logits, features, raw, max_answer_length=7)
    assert {p["id"]: p["prediction_text"] for p in predicted} == expected
    assert 0 < sum(p["prediction_text"] == "" for p in predicted) < len(raw)  # both outcomes are exercised
    # A smaller n_best only ever looks at fewer spans: its best is one of the exhaustive candidates or worse.
    short = example.postprocess_predictions(start_logits, end_logits, features, raw, n_best=3, max_answer_length=7)
    assert [p["id"] for p in short] == raw["id"] and all(p["no_answer_probability"] == 0.0 for p in short)


def test_logits_at_the_gold_answers_score_100(example, squad, tokenizers):
    """One-hot logits at each window's training labels: every answerable question gets its first annotator's
    text, every unanswerable one (and every window without the answer) "[CLS]" -> "" -- EM = F1 = 100."""
    raw = squad.select(range(120))
    ours_tok = tokenizers[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        train = raw.map(example.make_preprocess_training_examples(ours_tok, 96, 32), batched=True,
                        remove_columns=raw.column_names)  # fmt: skip
        valid = raw.map(example.make_preprocess_validation_examples(ours_tok, 96, 32), batched=True,
                        remove_columns=raw.column_names)  # fmt: skip
    assert len(train) == len(valid)
    start_logits = np.full((len(train), 96), -10.0, dtype=np.float32)
    end_logits = start_logits.copy()
    rows = np.arange(len(train))
    start_logits[rows, train["start_positions"]] = 10.0
    end_logits[rows, train["end_positions"]] = 10.0
    # Windows holding the answer: make their span beat the other windows' [CLS] (the null score is a minimum).
    answer_windows = np.asarray(train["start_positions"]) > 0
    start_logits[answer_windows, 0] = -10.0
    end_logits[answer_windows, 0] = -10.0
    metrics = example.compute_metrics(start_logits, end_logits, valid, raw)
    assert metrics["exact"] == metrics["f1"] == 100.0, metrics
    assert metrics["HasAns_total"] + metrics["NoAns_total"] == 120 and metrics["HasAns_total"] > 20
    # SQuAD 1.1's metric on the answerable ones (the course's `squad`).
    answerable = [i for i, a in enumerate(raw["answers"]) if a["text"]]
    sub_raw = raw.select(answerable)
    keep = [i for i, e in enumerate(valid["example_id"]) if e in set(sub_raw["id"])]
    v1 = example.compute_metrics(start_logits[keep], end_logits[keep], valid.select(keep), sub_raw,
                                 version_2_with_negative=False)  # fmt: skip
    assert v1 == {"exact_match": 100.0, "f1": 100.0}
    # Everything pointing at [CLS]: SQuAD 2.0 answers "" everywhere, scoring exactly the unanswerable share.
    cls = np.zeros_like(start_logits)
    cls[:, 0] = 10.0
    metrics = example.compute_metrics(cls, cls, valid, raw)
    assert metrics["HasAns_exact"] == 0.0 and metrics["NoAns_exact"] == 100.0
    assert metrics["exact"] == pytest.approx(100.0 * metrics["NoAns_total"] / 120)


def test_max_answer_length_and_the_null_threshold(example, small_validation):
    raw, features = small_validation
    first = [i for i, e in enumerate(features["example_id"]) if e == raw[0]["id"]]
    sub_raw, sub = raw.select([0]), features.select(first)
    offsets = sub["offset_mapping"][0]
    context_tokens = [k for k, o in enumerate(offsets) if o is not None]
    s, e = context_tokens[0], context_tokens[9]  # a 10-token span
    start_logits = np.zeros((len(first), 64), dtype=np.float32)
    end_logits = start_logits.copy()
    start_logits[0, s], end_logits[0, e] = 5.0, 5.0
    start_logits[:, 0] = end_logits[:, 0] = 4.0  # null score 8 < 10
    text = raw[0]["context"][offsets[s][0] : offsets[e][1]]

    def answer(**options):
        return example.postprocess_predictions(start_logits, end_logits, sub, sub_raw, **options)[0]["prediction_text"]

    assert answer(max_answer_length=10) == text
    assert answer(max_answer_length=9) != text  # the span is too long now
    assert answer(max_answer_length=10, null_score_diff_threshold=-3.0) == ""  # 8 - 10 > -3: "no answer"
    assert answer(max_answer_length=10, version_2_with_negative=False) == text


# ---------------------------------------------------------------------------------------------- bad input
def test_answer_start_that_misses_its_text_names_the_question(example, squad, tokenizers):
    row = squad[0]
    good = {k: [v] for k, v in row.items()}
    preprocess = example.make_preprocess_training_examples(tokenizers[0], 64, 16)
    assert preprocess(good)["start_positions"]
    for start, shown in ((row["answers"]["answer_start"][0] + 2, "does not start at character"),
                         (len(row["context"]) + 5, "does not start at character"), (-1, "does not start")):
        bad = {**good, "answers": [{"text": row["answers"]["text"], "answer_start": [start] * 4}]}
        with pytest.raises(ValueError, match=rf"question '{row['id']}': answer 'France' {shown}"):
            preprocess(bad)
    # Through Dataset.map, as the example runs it.
    rows = squad.select(range(3)).to_dict()
    rows["answers"][2] = {"text": rows["answers"][2]["text"], "answer_start": [s + 1 for s in rows["answers"][2][
        "answer_start"]]}  # fmt: skip
    broken = nanohf.Dataset.from_dict(rows, features=squad.features)
    with pytest.raises(ValueError, match=rf"question '{squad[2]['id']}'"):
        broken.map(preprocess, batched=True, remove_columns=broken.column_names)


def test_postprocess_refuses_logits_that_do_not_fit(example, small_validation):
    raw, features = small_validation
    logits = np.zeros((len(features) - 1, 64), dtype=np.float32)
    with pytest.raises(ValueError, match=rf"one row per window \({len(features)} windows\)"):
        example.postprocess_predictions(logits, logits, features, raw)
    other = load_dataset("squad_v2", split="validation[100:101]")
    logits = np.zeros((len(features), 64), dtype=np.float32)
    with pytest.raises(ValueError, match=rf"question '{other[0]['id']}' has no window"):
        example.postprocess_predictions(logits, logits, features, other)
    with pytest.raises(ValueError, match=r"--eval-article 'Nowhere' is not in the data"):
        example.split_by_article(load_dataset("squad_v2", split="validation"), "Nowhere")


# ---------------------------------------------------------------------------------------------- the example
@pytest.fixture(scope="module")
def tiny_qa_folder(tmp_path_factory, minilm_dir):
    """A tiny random BertForQuestionAnswering (transformers, seeded) with MiniLM's tokenizer files."""
    import torch
    import transformers

    folder = tmp_path_factory.mktemp("tiny_qa")
    config = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=37, max_position_embeddings=512)  # fmt: skip
    torch.manual_seed(0)
    transformers.BertForQuestionAnswering(config).save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (minilm_dir / name).is_file():
            shutil.copy(minilm_dir / name, folder / name)
    return folder


def test_example_runs_on_a_slice(tmp_path, tiny_qa_folder):
    env = {**os.environ, "NANOHF_CACHE": str(tmp_path / "cache")}
    command = [sys.executable, str(ROOT / "examples" / "question_answering_squad.py"), "--model", str(tiny_qa_folder),
               "--max-train-samples", "16", "--max-eval-samples", "8", "--epochs", "1", "--batch-size", "8",
               "--max-length", "96", "--stride", "32", "--output-dir", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the example failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    out = result.stdout
    assert "train: 16 questions" in out and "validation: 8 questions" in out and "['Normans']" in out, out
    score = r"exact \d+\.\d\d, F1 \d+\.\d\d"
    assert re.search(rf"SQuAD 2\.0 on 'Normans' \(held out\): {score} \(8 questions\); HasAns {score} \(\d\); "
                     rf"NoAns {score} \(\d\)", out), out  # fmt: skip
    assert "train:" in result.stderr  # the Trainer's progress bar
    folder = tmp_path / "out"
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
    # The pipeline on the saved folder: three answers, each a piece of its context.
    answers = re.findall(r"  -> '(.*)' \(score ([\d.]+), characters (\d+)-(\d+); annotators", out)
    assert len(answers) == 3, out
    qa = nanohf.pipeline("question-answering", model=str(folder))
    row = load_dataset("squad_v2", split="validation[0:1]")[0]
    answer = qa(question=row["question"], context=row["context"])
    assert (answer["answer"], f"{answer['score']:.3f}", str(answer["start"]), str(answer["end"])) == answers[0]
    assert row["context"][answer["start"] : answer["end"]] == answer["answer"]

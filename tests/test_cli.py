"""The main job (``nanohf demo``), the example script, and AutoTokenizer's choice of class."""

import json
import runpy
import shutil
from pathlib import Path

import numpy as np
import transformers

import nanohf
from nanohf.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_similarity_prints_similarities_of_the_real_minilm(capsys):
    main(["similarity"])
    out = capsys.readouterr().out
    assert "embeddings (5, 384)" in out
    assert "most similar pair: [3] and [4]" in out  # the two sentences about spring in Paris


def test_similarity_embeddings_match_transformers(minilm_dir, capsys):
    import torch

    sentences = ["A cat sits on the mat.", "A kitten rests on a rug.", "Stock markets fell sharply today."]
    main(["similarity", *sentences])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  [") and "]  " in line]
    ours = np.array([[float(v) for v in line.split("]")[1].split()] for line in rows[-3:]])

    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    model = transformers.AutoModel.from_pretrained(minilm_dir).eval()
    batch = tokenizer(sentences, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None]
    emb = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    diff = np.abs(ours - emb @ emb.T).max()
    assert diff <= 0.006, f"printed similarities (2 decimals) differ from transformers' by {diff:.3f}"


def test_example_script_runs(capsys):
    runpy.run_path(str(ROOT / "examples" / "sentence_similarity.py"), run_name="__main__")
    assert "'A man is eating food.'" in capsys.readouterr().out


def test_auto_tokenizer_picks_bert_or_distilbert(minilm_dir, tmp_path):
    bert = nanohf.AutoTokenizer.from_pretrained(minilm_dir)
    assert type(bert) is nanohf.BertTokenizer
    assert list(bert("hello world").keys()) == ["input_ids", "token_type_ids", "attention_mask"]

    folder = tmp_path / "distil"
    shutil.copytree(minilm_dir, folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "distilbert"}))
    distil = nanohf.AutoTokenizer.from_pretrained(folder)
    assert type(distil) is nanohf.DistilBertTokenizer
    encoded = distil(["hello world", "hi"], padding=True, return_tensors="np")
    assert list(encoded.keys()) == ["input_ids", "attention_mask"]
    reference = transformers.AutoTokenizer.from_pretrained(minilm_dir)(["hello world", "hi"], padding=True)
    assert encoded["input_ids"].tolist() == reference["input_ids"]


def test_demo_fine_tunes_and_classifies(tmp_path, capsys):
    """The main job on a tiny slice: trains, evaluates, saves, and runs the sentiment pipeline."""
    out = tmp_path / "sst2-model"
    main(["demo", "--train-size", "64", "--dev-size", "32", "--batch-size", "16", "--output-dir", str(out)])
    printed = capsys.readouterr().out
    assert "SST-2 dev accuracy:" in printed
    assert (out / "model.safetensors").is_file() and (out / "vocab.txt").is_file()
    for sentence in ("I've been waiting for a HuggingFace course my whole life.", "I hate this so much!"):
        line = next(line for line in printed.splitlines() if sentence in line)
        assert line.split()[0] in ("POSITIVE", "NEGATIVE")
    reloaded = transformers.AutoModelForSequenceClassification.from_pretrained(out)
    assert reloaded.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}

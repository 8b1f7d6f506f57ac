"""`nanohf compare DIR`: the per-layer |Δ| it prints is small on a faithful checkpoint, large at a tampered layer."""

import re
import shutil

import numpy as np
import pytest
from conftest import TINY_BERT, TINY_DISTILBERT

from nanohf.cli import main
from nanohf.models.safetensors_io import load_safetensors, save_safetensors

ROW = re.compile(r"^(embeddings|layer \d+|pooler_output|logits)\s+\(([\d, ]+)\)\s+(\S+)", re.M)


def report(capsys, *argv) -> tuple[dict[str, float], str]:
    """Run the command; returns ``{row name: max |Δ|}`` and everything it printed."""
    status = 0
    try:
        main(["compare", *map(str, argv)])
    except SystemExit as exit_:
        status = exit_.code
    out = capsys.readouterr().out
    rows = {name: float(value) for name, _, value in ROW.findall(out)}
    return rows, out + f"\nexit status {status}"


@pytest.mark.parametrize(
    "class_name, config",
    [("BertForSequenceClassification", TINY_BERT), ("DistilBertForMaskedLM", TINY_DISTILBERT),
     ("GPT2LMHeadModel", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64))],
)  # fmt: skip
def test_random_checkpoint_agrees(make_checkpoint, capsys, class_name, config):
    rows, out = report(capsys, make_checkpoint(class_name, config))
    assert list(rows)[:3] == ["embeddings", "layer 0", "layer 1"] and "logits" in rows, out
    assert max(rows.values()) <= 1e-4, out
    assert "random ids" in out and "all outputs agree" in out and out.endswith("exit status 0"), out


def test_folder_tokenizer_is_used(make_checkpoint, minilm_dir, tmp_path, capsys):
    folder = tmp_path / "bert"
    shutil.copytree(make_checkpoint("BertForSequenceClassification", {**TINY_BERT, "vocab_size": 30522}), folder)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder / name)
    rows, out = report(capsys, folder)
    assert "3 sentences through the folder's BertTokenizer" in out, out
    assert len(rows) == 4 and max(rows.values()) <= 1e-4, out  # embeddings, 2 layers, logits


def test_tampered_layer_is_found(make_checkpoint, tmp_path, capsys):
    original = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    tampered = tmp_path / "tampered"
    shutil.copytree(original, tampered)
    tensors = load_safetensors(tampered / "model.safetensors")
    name = "bert.encoder.layer.1.attention.output.dense.weight"
    tensors[name] = tensors[name] + np.float32(0.05) * np.random.default_rng(0).standard_normal(tensors[name].shape)
    save_safetensors({k: v.astype(np.float32) for k, v in tensors.items()}, tampered / "model.safetensors")

    rows, out = report(capsys, tampered, "--reference", original)
    assert rows["embeddings"] <= 1e-4 and rows["layer 0"] <= 1e-4, out
    assert rows["layer 1"] > 1e-2 and rows["logits"] > 1e-4, out
    assert "first difference at: layer 1" in out and out.endswith("exit status 1"), out

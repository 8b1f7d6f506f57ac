"""The GPT-2 Tiny Shakespeare example runs end to end on a slice (``--tiny``): the loss falls, text comes out."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "train_gpt2_shakespeare.py"


def test_train_gpt2_shakespeare_tiny():
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--tiny"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"the example failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    out = result.stdout
    assert "65 characters in the vocabulary" in out
    pattern = r"step (\d+): train loss ([\d.]+), val loss ([\d.]+)"
    losses = [(int(s), float(t), float(v)) for s, t, v in re.findall(pattern, out)]
    assert len(losses) >= 3, out
    (_, first_train, first_val), (_, last_train, last_val) = losses[0], losses[-1]
    assert 3.9 < first_val < 4.5  # an untrained model guesses among 65 characters: ln 65 ≈ 4.17
    assert last_train < first_train - 0.5 and last_val < first_val - 0.5, losses
    assert re.search(r"final: train loss [\d.]+, val loss [\d.]+; \d+ iterations in [\d.]+s", out)
    sample = re.search(r"--- sample \((\d+) characters\) ---\n(.*)\n--- end of sample ---", out, re.S)
    assert sample and int(sample.group(1)) >= 200 and len(sample.group(2)) >= 200
    assert "training" in result.stderr  # the tqdm progress bar

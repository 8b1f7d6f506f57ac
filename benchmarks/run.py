"""Race nanohf against transformers + PyTorch on the same weights: the project's speed benchmark.

    python benchmarks/run.py                     # everything, 7 repeats (several minutes)
    python benchmarks/run.py --quick             # 3 repeats, one cold-start round: a smoke run
    python benchmarks/run.py --only bert-1x16,wordpiece --repeats 11
    python benchmarks/run.py --tiny              # tiny configs: checks that every workload runs

How it measures:
  * timing: both libraries load the same checkpoint folder (written by transformers with a fixed seed,
    or the real all-MiniLM-L6-v2) in this process; after one warm-up call each, the calls alternate
    nanohf, transformers, nanohf, … (--repeats each). The table gives medians and min-max; torch
    runs one thread per core, as nanohf's Numba kernels and OpenBLAS do.
  * GFLOP/s: matrix-product FLOPs counted from each config (see inference.py), over the median time,
    and as a share of a measured NumPy float32 GEMM (2048 × 2048 @ 2048 × 2048, best of several).
  * memory: each (workload, library) runs again alone in a fresh process (this script with --child):
    load, warm-up, one call; its peak resident memory includes the import and the loading.
  * cold start: fresh processes that import, load MiniLM and compute a first output (coldstart.py).

Outputs: a printed table and benchmarks/results/latest.json (with the machine), latest.md (the README
includes it) and latest.png (ratio bars; needs matplotlib, an optional extra).
"""

import argparse
import gc
import json
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

# Run as a script, this folder is already first on the import path; imported (tests), make it so.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import inference  # noqa: E402
import llama  # noqa: E402
import tokenization  # noqa: E402
import tokenizer_training  # noqa: E402
import training  # noqa: E402
from common import (  # noqa: E402
    Workload,
    build_checkpoint,
    gemm_peak_gflops,
    machine_info,
    peak_rss_mib,
    run_python,
    summarize,
    time_interleaved,
    torch_with_all_cores,
)
from report import LIBRARIES, text_table, write_outputs  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
COLD_START = "cold-start"


def all_workloads(tiny: bool) -> list[Workload]:
    return (
        inference.workloads(tiny)
        + training.workloads(tiny)
        + llama.workloads(tiny)
        + tokenization.workloads(tiny)
        + tokenizer_training.workloads(tiny)
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    keys = [w.key for w in all_workloads(tiny=True)] + [COLD_START]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats and one cold-start round (a smoke run)")
    parser.add_argument("--tiny", action="store_true",
                        help="tiny configs and inputs; cold start with the kernel cache as it is (tests)")  # fmt: skip
    parser.add_argument("--only", help=f"comma-separated workloads among: {', '.join(keys)}")
    parser.add_argument("--repeats", type=int, help="timed calls per library (default 7; 3 with --quick or --tiny)")
    parser.add_argument("--skip-memory", action="store_true", help="no per-process peak memory runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json/.md/.png")
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "LIBRARY", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.only = args.only.split(",") if args.only else keys
    unknown = sorted(set(args.only) - set(keys))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose among {', '.join(keys)}")
    args.repeats = args.repeats or (3 if args.quick or args.tiny else 7)
    return args


def run_child(key: str, library: str, folder: str, tiny: bool) -> None:
    """The --child process: set up one library's side of one workload, warm up, call once, print the peak MiB."""
    workload = next(w for w in all_workloads(tiny) if w.key == key)
    run = workload.setup(library, Path(folder))
    run()
    run()
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


def result_row(fields: dict, times: list[list[float]], gemm_gflops: float | None = None) -> dict:
    """One row of the record (see report.py): `fields` plus each library's timings and the ratio."""
    row = dict(fields)
    for library, seconds in zip(LIBRARIES, times, strict=True):
        row[library] = summarize(seconds)
        if row.get("flops") and gemm_gflops:
            row[library]["gflops"] = row["flops"] / row[library]["median_s"] / 1e9
            row[library]["pct_of_peak"] = 100 * row[library]["gflops"] / gemm_gflops
    row["ratio"] = row["nanohf"]["median_s"] / row["transformers"]["median_s"]
    # Each repeat timed nanohf and then transformers back to back: their ratio cancels a slow spell of the
    # shared machine that lasts longer than the pair, which the ratio of medians does not.
    row["paired_ratio"] = statistics.median(n / t for n, t in zip(*times, strict=True))
    return row


def workload_fields(workload: Workload, folder: Path) -> dict:
    return {"key": workload.key, "title": workload.title, "kind": workload.kind, "unit": workload.unit,
            "items": workload.items, "flops": workload.flops(folder) if workload.flops else None}  # fmt: skip


def cold_start_rows(rounds: int, empty_kernel_cache: bool) -> list[dict]:
    from coldstart import measure_cold_start

    rows = []
    for state, times in measure_cold_start(rounds, empty_kernel_cache).items():
        fields = {"key": COLD_START, "title": f"cold start MiniLM, {state}", "kind": COLD_START, "unit": "s",
                  "items": None, "flops": None}  # fmt: skip
        rows.append(result_row(fields, [times[library] for library in LIBRARIES]))
    return rows


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.child:
        run_child(*args.child, tiny=args.tiny)
        return {}
    warnings.simplefilter("ignore")  # transformers' notes on newly initialised heads, generation defaults, …
    torch_with_all_cores()
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    selected = [w for w in all_workloads(args.tiny) if w.key in args.only]
    gemm_size = 256 if args.tiny else 2048
    gemm_gflops = gemm_peak_gflops(gemm_size, repeats=max(args.repeats, 3))
    print(f"NumPy float32 GEMM {gemm_size}^3: {gemm_gflops:.1f} GFLOP/s", flush=True)
    results = []
    with tempfile.TemporaryDirectory() as root:
        folders = {w.key: w.folder or build_checkpoint(*w.checkpoint, Path(root) / w.key) for w in selected}
        for w in selected:
            print(f"timing {w.title} ...", flush=True)
            runs = [w.setup(library, folders[w.key]) for library in LIBRARIES]
            times = time_interleaved(runs, args.repeats)
            results.append(result_row(workload_fields(w, folders[w.key]), times, gemm_gflops))
            del runs
            gc.collect()  # free both models before the next workload loads its own
        if not args.skip_memory:
            for w, row in zip(selected, results, strict=True):
                print(f"peak memory {w.title} ...", flush=True)
                for library in LIBRARIES:
                    child = [__file__, "--child", w.key, library, str(folders[w.key])] + (["--tiny"] * args.tiny)
                    stdout = run_python(child)[1]
                    row[library]["peak_rss_mib"] = json.loads(stdout.splitlines()[-1])["peak_rss_mib"]
    if COLD_START in args.only:
        print("cold start ...", flush=True)
        results += cold_start_rows(rounds=1 if args.quick or args.tiny else 3, empty_kernel_cache=not args.tiny)

    record = {
        "machine": machine_info(),
        "gemm_peak_gflops": gemm_gflops,
        "gemm_size": gemm_size,
        "settings": {"repeats": args.repeats, "quick": args.quick, "tiny": args.tiny, "only": args.only},
        "workloads": results,
    }
    print("\n" + text_table(record) + "\n")
    write_outputs(record, args.out)
    return record


if __name__ == "__main__":
    main()

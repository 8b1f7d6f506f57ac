"""Race nanohf against transformers + PyTorch on the same weights: the project's speed benchmark.

    python benchmarks/run.py                     # everything, 7 repeats (several minutes)
    python benchmarks/run.py --quick             # 3 repeats, one cold-start round: a smoke run
    python benchmarks/run.py --only bert-1x16,wordpiece --repeats 11
    python benchmarks/run.py --tiny              # tiny configs: checks that every workload runs
    python benchmarks/run.py --busy              # also every workload beside one process spinning on one core

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
  * busy machine (--busy): after a workload's quiet timing, the same interleaved timing again while a
    background process spins on one core (busy.py); the table gives the ratio under load beside the quiet one.
  * load: every row records what the machine's other processes used while it was timed (in cores, from
    /proc/stat minus this process and the spinner) and the 1-minute load average (busy.py).
  * memory bandwidth: streaming read bandwidth measured in the same run (bandwidth.py); batch-1 decoding rows
    give bytes of weights per token × tokens/s and its fraction of that bandwidth.
  * rows of an earlier full run that this run did not measure (--only) are kept in latest.json/.md with their
    own date and load, so the table stays whole.

Outputs: a printed table and benchmarks/results/latest.json (with the machine), latest.md (the README
includes it) and latest.png (ratio bars; needs matplotlib, an optional extra). While it runs, partial.json
holds the rows timed so far (removed at the end).
"""

import argparse
import datetime
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
from bandwidth import decode_fractions, measure_bandwidth, weight_bytes_per_token  # noqa: E402
from busy import BackgroundLoad, CpuMeter  # noqa: E402
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
    parser.add_argument("--busy", action="store_true",
                        help="time every workload a second time beside one process spinning on one core")  # fmt: skip
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
    for _ in range(1 + workload.warmup):
        run()
    print(json.dumps({"peak_rss_mib": peak_rss_mib()}))


def timing(times: list[list[float]], measured: dict, cpu: list[list[float]] | None = None) -> dict:
    """Each library's summary (with the median CPU seconds of its calls if `cpu`), the ratio of medians, the
    paired ratio, and `measured` (date and load)."""
    out = {library: summarize(seconds) for library, seconds in zip(LIBRARIES, times, strict=True)}
    for library, seconds in zip(LIBRARIES, cpu, strict=True) if cpu else ():
        out[library]["cpu_median_s"] = statistics.median(seconds)
    out["ratio"] = out["nanohf"]["median_s"] / out["transformers"]["median_s"]
    # Each repeat timed nanohf and then transformers back to back: their ratio cancels a slow spell of the
    # shared machine that lasts longer than the pair, which the ratio of medians does not.
    out["paired_ratio"] = statistics.median(n / t for n, t in zip(*times, strict=True))
    out["measured"] = measured
    return out


def result_row(fields: dict, times: list[list[float]], gemm_gflops: float | None = None,
               measured: dict | None = None, cpu: list[list[float]] | None = None) -> dict:  # fmt: skip
    """One row of the record (see report.py): `fields` plus each library's timings and the ratio."""
    row = {**fields, **timing(times, measured or {"date": now()}, cpu)}
    for library in LIBRARIES:
        if row.get("flops") and gemm_gflops:
            row[library]["gflops"] = row["flops"] / row[library]["median_s"] / 1e9
            row[library]["pct_of_peak"] = 100 * row[library]["gflops"] / gemm_gflops
    return row


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def timed(runs: list, repeats: int, warmup: bool, load: BackgroundLoad | None = None) -> tuple[list, dict, list]:
    """time_interleaved(runs, ...), what the machine did meanwhile ({"date", "other_cores", "loadavg_1min"})
    and each call's CPU seconds."""
    meter, cpu = CpuMeter(load), [[] for _ in runs]
    times = time_interleaved(runs, repeats, warmup, cpu)
    return times, {"date": now(), **meter.read()}, cpu


def workload_fields(workload: Workload, folder: Path) -> dict:
    return {"key": workload.key, "title": workload.title, "kind": workload.kind, "unit": workload.unit,
            "items": workload.items, "flops": workload.flops(folder) if workload.flops else None}  # fmt: skip


def cold_start_rows(rounds: int, empty_kernel_cache: bool, busy: bool) -> list[dict]:
    """The cold-start rows; with `busy`, each also measured beside the spinning process (row["loaded"])."""
    from coldstart import measure_cold_start

    def measure(load: BackgroundLoad | None) -> tuple[dict, dict]:
        meter = CpuMeter(load)
        times = measure_cold_start(rounds, empty_kernel_cache)
        return times, {"date": now(), **meter.read()}  # (its children's CPU counts as others': a rough load)

    quiet, measured = measure(None)
    if busy:
        with BackgroundLoad() as load:
            loaded, loaded_measured = measure(load)
    rows = []
    for state, times in quiet.items():
        fields = {"key": COLD_START, "title": f"cold start MiniLM, {state}", "kind": COLD_START, "unit": "s",
                  "items": None, "flops": None}  # fmt: skip
        rows.append(result_row(fields, [times[library] for library in LIBRARIES], measured=measured))
        if busy:
            rows[-1]["loaded"] = timing([loaded[state][library] for library in LIBRARIES], loaded_measured)
    return rows


def checkpoint_folders(selected: list[Workload], root: Path) -> dict[str, Path]:
    """Each workload's folder; workloads with the same (class, config) share one checkpoint, built once."""
    built, folders = {}, {}
    for w in selected:
        if w.folder:
            folders[w.key] = w.folder
            continue
        ident = json.dumps(w.checkpoint, sort_keys=True)
        if ident not in built:
            built[ident] = build_checkpoint(*w.checkpoint, root / w.key)
        folders[w.key] = built[ident]
    return folders


def keep_earlier_rows(record: dict, previous: Path, order: list[str]) -> None:
    """Add to `record` the rows of `previous` (an earlier latest.json of the same kind, tiny or full) for workloads
    this run did not measure, each with its own date; all rows then follow the order of `order`."""
    try:
        earlier = json.loads(previous.read_text())
    except (OSError, ValueError):
        return
    if earlier.get("settings", {}).get("tiny") != record["settings"]["tiny"]:
        return
    measured = {row["key"] for row in record["workloads"]}
    for row in earlier.get("workloads", []):
        if row["key"] not in measured and row["key"] in order:
            row.setdefault("measured", {"date": earlier["machine"]["date"]})
            row.setdefault("kept_from", earlier["machine"]["date"])
            record["workloads"].append(row)
    record["workloads"].sort(key=lambda row: order.index(row["key"]))
    if "bandwidth" not in record and "bandwidth" in earlier:
        record["bandwidth"] = earlier["bandwidth"]


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
    print(f"load before the run: {CpuMeter().read()['loadavg_1min']:.2f} (1-minute average)", flush=True)
    gemm_size = 256 if args.tiny else 2048
    gemm_gflops = gemm_peak_gflops(gemm_size, repeats=max(args.repeats, 3))
    print(f"NumPy float32 GEMM {gemm_size}^3: {gemm_gflops:.1f} GFLOP/s", flush=True)
    bandwidth = None
    if any(w.memory_bound for w in selected):
        bandwidth = measure_bandwidth(megabytes=16 if args.tiny else 512)
        print(f"read bandwidth: {bandwidth['read_1_thread_gbs']:.1f} GB/s on 1 thread, "
              f"{bandwidth['read_all_threads_gbs']:.1f} on {bandwidth['threads']}; sgemv "
              f"{bandwidth['gemv_gbs']:.1f}; copy {bandwidth['copy_gbs']:.1f}", flush=True)  # fmt: skip
    results = []
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as root:
        folders = checkpoint_folders(selected, Path(root))
        for w in selected:
            print(f"timing {w.title} ...", flush=True)
            runs = [w.setup(library, folders[w.key]) for library in LIBRARIES]
            repeats = min(args.repeats, w.max_repeats or args.repeats)
            times, measured, cpu = timed(runs, repeats, w.warmup)
            row = result_row(workload_fields(w, folders[w.key]), times, gemm_gflops, measured, cpu)
            if args.busy:
                print(f"timing {w.title} under load ...", flush=True)
                with BackgroundLoad() as load:  # (both runs are warm already)
                    row["loaded"] = timing(*timed(runs, repeats, False, load))
            if w.memory_bound:
                row["weight_bytes_per_token"] = weight_bytes_per_token(folders[w.key])
                row["bandwidth"] = decode_fractions(row, bandwidth)
            results.append(row)
            # The rows so far, in case the run is stopped (a long run on a busy machine); removed at the end.
            (args.out / "partial.json").write_text(json.dumps({"bandwidth": bandwidth, "workloads": results}) + "\n")
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
        rounds = 1 if args.quick or args.tiny else 3
        results += cold_start_rows(rounds, empty_kernel_cache=not args.tiny, busy=args.busy)

    record = {
        "machine": machine_info(),
        "gemm_peak_gflops": gemm_gflops,
        "gemm_size": gemm_size,
        "settings": {"repeats": args.repeats, "quick": args.quick, "tiny": args.tiny, "busy": args.busy,
                     "only": args.only},
        "workloads": results,
    }  # fmt: skip
    if bandwidth:
        record["bandwidth"] = bandwidth
    keep_earlier_rows(record, args.out / "latest.json", [w.key for w in all_workloads(args.tiny)] + [COLD_START])
    print("\n" + text_table(record) + "\n")
    write_outputs(record, args.out)
    (args.out / "partial.json").unlink(missing_ok=True)
    return record


if __name__ == "__main__":
    main()

"""The benchmark's outputs: a printed table, a Markdown table, the JSON record and a PNG chart.

A result row (one per workload) is a dict: key, title, kind, unit ("ms", "s" or a rate such as
"tokens/s"), items (per call, for rates), flops (per call, or None), ratio (median time nanohf /
median time transformers: below 1 means nanohf is faster), paired_ratio (the median over repeats of
nanohf's time / transformers' time in the same repeat, which a slow spell of a shared machine
affects less), measured ({"date", "other_cores", "loadavg_1min", "wall_s"}: see busy.py) and, per
library ("nanohf", "transformers"), times_s, median_s, min_s, max_s and, when measured, cpu_median_s
(CPU seconds of a call, all threads of the process), gflops, pct_of_peak, peak_rss_mib. Optional:
loaded (the same timing fields, measured beside one spinning process: run.py --busy),
weight_bytes_per_token and bandwidth (batch-1 decoding against the memory bandwidth: bandwidth.py),
kept_from (the date of the earlier run a row was kept from).
"""

import json
from pathlib import Path

LIBRARIES = ("nanohf", "transformers")
HEADER = ["workload", "unit", "nanohf median (min-max)", "transformers median (min-max)", "ratio n/t",
          "paired ratio", "CPU-time ratio", "under load: ratio (paired)", "GFLOP/s n / t", "% GEMM peak n / t",
          "peak MiB n / t", "measured: date UTC, others' cores, load avg"]  # fmt: skip
BANDWIDTH_HEADER = ["batch-1 decoding", "MB of weights per token", "tokens/s n / t", "weight reads GB/s n / t",
                    "% of read bandwidth n / t"]  # fmt: skip


def timing_cell(row: dict, library: str) -> str:
    """Median (min-max) in the row's unit; a rate's range runs from the slowest call to the fastest."""
    stats = row[library]
    if row["unit"] == "ms":
        return f"{stats['median_s'] * 1e3:.1f} ({stats['min_s'] * 1e3:.1f}-{stats['max_s'] * 1e3:.1f})"
    if row["unit"] == "s":
        return f"{stats['median_s']:.2f} ({stats['min_s']:.2f}-{stats['max_s']:.2f})"
    items = row["items"]
    rates = [items / stats["median_s"], items / stats["max_s"], items / stats["min_s"]]
    fmt = ",.1f" if rates[0] < 10 else ",.0f"  # (decoding on a busy machine can fall below 10 tokens/s)
    return "{} ({}-{})".format(*(format(rate, fmt) for rate in rates))


def pair_cell(row: dict, field: str, fmt: str) -> str:
    values = [row[library].get(field) for library in LIBRARIES]
    return "" if None in values else " / ".join(format(v, fmt) for v in values)


def cpu_cell(row: dict) -> str:
    """nanohf's median CPU seconds per call (all threads) over transformers': what a busy machine stretches less."""
    values = [row[library].get("cpu_median_s") for library in LIBRARIES]
    return "" if None in values or not values[1] else f"{values[0] / values[1]:.2f}"


def loaded_cell(row: dict) -> str:
    loaded = row.get("loaded")
    return f"{loaded['ratio']:.2f} ({loaded['paired_ratio']:.2f})" if loaded else ""


def measured_cell(row: dict) -> str:
    """When the row was timed, the other processes' cores meanwhile, the load average: "12-03 09:05, 0.1, 1.9"."""
    measured = row.get("measured", {})
    date = measured.get("date", "")
    cells = [f"{date[5:10]} {date[11:16]}".strip()]
    if measured.get("other_cores") is not None:
        cells += [f"{measured['other_cores']:.1f}", f"{measured['loadavg_1min']:.1f}"]
    return ", ".join(cells)


def table_rows(results: list[dict]) -> list[list[str]]:
    return [
        [row["title"], row["unit"], timing_cell(row, "nanohf"), timing_cell(row, "transformers"), f"{row['ratio']:.2f}",
         f"{row['paired_ratio']:.2f}", cpu_cell(row), loaded_cell(row), pair_cell(row, "gflops", ".1f"),
         pair_cell(row, "pct_of_peak", ".0f"), pair_cell(row, "peak_rss_mib", ".0f"), measured_cell(row)]
        for row in results
    ]  # fmt: skip


def bandwidth_rows(results: list[dict]) -> list[list[str]]:
    rows = []
    for row in results:
        if "bandwidth" in row:
            fractions, rates = row["bandwidth"], [row["items"] / row[lib]["median_s"] for lib in LIBRARIES]
            rows.append([row["title"], f"{fractions['weight_mb_per_token']:.0f}", " / ".join(f"{r:.1f}" for r in rates),
                         " / ".join(f"{fractions[lib]['gbs']:.1f}" for lib in LIBRARIES),
                         " / ".join(f"{100 * fractions[lib]['fraction']:.0f}" for lib in LIBRARIES)])  # fmt: skip
    return rows


def bandwidth_line(record: dict) -> str:
    b = record.get("bandwidth")
    if not b:
        return ""
    return (f"Streaming read bandwidth {b['read_1_thread_gbs']:.1f} GB/s on 1 thread, {b['read_all_threads_gbs']:.1f} "
            f"GB/s on {b['threads']} (the denominator); OpenBLAS sgemv {b['gemv_gbs']:.1f} GB/s, copy "
            f"{b['copy_gbs']:.1f} GB/s ({b['method']}).")  # fmt: skip


def machine_line(record: dict) -> str:
    machine, versions = record["machine"], record["machine"]["versions"]
    return (f"{machine['cpu']}, {machine['cores']} cores, NumPy float32 GEMM peak {record['gemm_peak_gflops']:.0f} "
            f"GFLOP/s; numpy {versions['numpy']}, numba {versions['numba']}, torch {versions['torch']}, "
            f"transformers {versions['transformers']}; {machine['date']}")  # fmt: skip


def aligned(rows: list[list[str]]) -> list[str]:
    """Plain-text columns: the first (names) aligned left, the numbers right, a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)])
             for row in rows]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    return lines


def text_table(record: dict) -> str:
    lines = aligned([HEADER, *table_rows(record["workloads"])])
    notes = (f"ratio: median time nanohf / transformers (< 1: nanohf faster); paired ratio: median of the per-repeat "
             f"ratios; under load: beside one process spinning on one core\n{machine_line(record)}")  # fmt: skip
    decoding = bandwidth_rows(record["workloads"])
    if decoding:
        notes += "\n\n" + "\n".join(aligned([BANDWIDTH_HEADER, *decoding])) + "\n" + bandwidth_line(record)
    return "\n".join(lines) + "\n\n" + notes


def markdown_lines(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)] + [
        "| " + " | ".join(row) + " |" for row in rows
    ]


def markdown_table(record: dict) -> str:
    lines = markdown_lines(HEADER, table_rows(record["workloads"]))
    lines[1] = "|---|---|" + "---:|" * (len(HEADER) - 2)
    text = "\n".join(lines) + (
        f"\n\nRatio: median time nanohf / transformers (below 1: nanohf is faster); paired ratio: the median of "
        f"the ratios of each repeat's back-to-back pair, less sensitive to a slow spell of the shared machine; "
        f"CPU-time ratio: the same for the median CPU seconds of a call (all threads of the process; a spinning "
        f"thread counts); under load: the same race beside one process spinning on one core (`--busy`); "
        f"measured: when, the CPU the machine's other processes used meanwhile (in cores) and the 1-minute "
        f"load average (which counts the benchmark's own threads too). {record['settings']['repeats']} "
        f"interleaved repeats (tokenizer training at most 3). {machine_line(record)}.\n"
    )
    decoding = bandwidth_rows(record["workloads"])
    if decoding:
        text += "\n" + "\n".join(markdown_lines(BANDWIDTH_HEADER, decoding)) + "\n\n" + bandwidth_line(record) + "\n"
    return text


def write_chart(record: dict, path: Path) -> bool:
    """Horizontal ratio bars with a line at 1.0; False (and a note) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"note: matplotlib is not installed, so {path} was not drawn (pip install matplotlib)")
        return False
    rows = record["workloads"][::-1]  # matplotlib draws the first bar at the bottom
    ratios = [row["ratio"] for row in rows]
    loaded = [row["loaded"]["ratio"] if "loaded" in row else None for row in rows]
    any_loaded = any(r is not None for r in loaded)
    fig, ax = plt.subplots(figsize=(9, (0.6 if any_loaded else 0.45) * len(rows) + 1.6))
    places = list(range(len(rows)))
    height = 0.4 if any_loaded else 0.8
    bars = ax.barh([p + (height / 2 if any_loaded else 0) for p in places], ratios, height=height,
                   color=["tab:green" if r < 1 else "tab:red" for r in ratios], label="quiet")  # fmt: skip
    ax.bar_label(bars, labels=[f"{r:.2f}" for r in ratios], padding=3, fontsize=8)
    if any_loaded:
        shown = [(p - height / 2, r) for p, r in zip(places, loaded, strict=True) if r is not None]
        bars = ax.barh([p for p, _ in shown], [r for _, r in shown], height=height, color="tab:gray",
                       label="beside one spinning process")  # fmt: skip
        ax.bar_label(bars, labels=[f"{r:.2f}" for _, r in shown], padding=3, fontsize=8)
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(places, [row["title"] for row in rows], fontsize=8)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("median time nanohf / transformers (log scale; left of 1: nanohf faster)")
    ax.set_title(f"nanohf vs transformers + PyTorch, {record['machine']['cpu']}, {record['machine']['cores']} cores",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def write_outputs(record: dict, folder: Path) -> None:
    """latest.json, latest.md and latest.png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "latest.json").write_text(json.dumps(record, indent=1) + "\n")
    (folder / "latest.md").write_text(markdown_table(record))
    written = ["latest.json", "latest.md"] + (["latest.png"] if write_chart(record, folder / "latest.png") else [])
    print(f"wrote {', '.join(written)} in {folder}")

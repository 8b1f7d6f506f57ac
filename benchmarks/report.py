"""The benchmark's outputs: a printed table, a Markdown table, the JSON record and a PNG chart.

A result row (one per workload) is a dict: key, title, kind, unit ("ms", "s" or a rate such as
"tokens/s"), items (per call, for rates), flops (per call, or None), ratio (median time nanohf /
median time transformers: below 1 means nanohf is faster), paired_ratio (the median over repeats of
nanohf's time / transformers' time in the same repeat, which a slow spell of a shared machine
affects less) and, per library ("nanohf",
"transformers"), times_s, median_s, min_s, max_s and, when measured, gflops, pct_of_peak, peak_rss_mib.
"""

import json
from pathlib import Path

LIBRARIES = ("nanohf", "transformers")
HEADER = ["workload", "unit", "nanohf median (min-max)", "transformers median (min-max)", "ratio n/t",
          "paired ratio", "GFLOP/s n / t", "% GEMM peak n / t", "peak MiB n / t"]  # fmt: skip


def timing_cell(row: dict, library: str) -> str:
    """Median (min-max) in the row's unit; a rate's range runs from the slowest call to the fastest."""
    stats = row[library]
    if row["unit"] == "ms":
        return f"{stats['median_s'] * 1e3:.1f} ({stats['min_s'] * 1e3:.1f}-{stats['max_s'] * 1e3:.1f})"
    if row["unit"] == "s":
        return f"{stats['median_s']:.2f} ({stats['min_s']:.2f}-{stats['max_s']:.2f})"
    items = row["items"]
    return f"{items / stats['median_s']:,.0f} ({items / stats['max_s']:,.0f}-{items / stats['min_s']:,.0f})"


def pair_cell(row: dict, field: str, fmt: str) -> str:
    values = [row[library].get(field) for library in LIBRARIES]
    return "" if None in values else " / ".join(format(v, fmt) for v in values)


def table_rows(results: list[dict]) -> list[list[str]]:
    return [
        [row["title"], row["unit"], timing_cell(row, "nanohf"), timing_cell(row, "transformers"), f"{row['ratio']:.2f}",
         f"{row['paired_ratio']:.2f}", pair_cell(row, "gflops", ".1f"), pair_cell(row, "pct_of_peak", ".0f"),
         pair_cell(row, "peak_rss_mib", ".0f")]
        for row in results
    ]  # fmt: skip


def machine_line(record: dict) -> str:
    machine, versions = record["machine"], record["machine"]["versions"]
    return (f"{machine['cpu']}, {machine['cores']} cores, NumPy float32 GEMM peak {record['gemm_peak_gflops']:.0f} "
            f"GFLOP/s; numpy {versions['numpy']}, numba {versions['numba']}, torch {versions['torch']}, "
            f"transformers {versions['transformers']}; {machine['date']}")  # fmt: skip


def text_table(record: dict) -> str:
    rows = [HEADER, *table_rows(record["workloads"])]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    # The first column (names) aligns left, the numbers right.
    lines = ["  ".join([row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)])
             for row in rows]  # fmt: skip
    lines.insert(1, "-" * len(lines[0]))
    notes = (f"ratio: median time nanohf / transformers (< 1: nanohf faster); paired ratio: median of the per-repeat "
             f"ratios\n{machine_line(record)}")  # fmt: skip
    return "\n".join(lines) + "\n\n" + notes


def markdown_table(record: dict) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * 2 + "---:|" * (len(HEADER) - 2)]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows(record["workloads"])]
    return "\n".join(lines) + (
        f"\n\nRatio: median time nanohf / transformers (below 1: nanohf is faster); paired ratio: the median of "
        f"the ratios of each repeat's back-to-back pair, less sensitive to a slow spell of the shared machine; "
        f"{record['settings']['repeats']} interleaved repeats. {machine_line(record)}.\n"
    )


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
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
    bars = ax.barh([row["title"] for row in rows], ratios, color=["tab:green" if r < 1 else "tab:red" for r in ratios])
    ax.bar_label(bars, labels=[f"{r:.2f}" for r in ratios], padding=3)
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

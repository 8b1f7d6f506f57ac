"""``Trainer.log_metrics`` / ``save_metrics``: the end-of-run metrics, printed and written as transformers does.

``trainer.log_metrics("train", metrics)`` prints "***** train metrics *****" and one aligned line per metric;
``trainer.save_metrics("train", metrics)`` writes output_dir/train_results.json and merges all_results.json.
"""

import datetime
import json
from pathlib import Path

from nanohf.jsonfile import read_json
from nanohf.trainer import checkpoint as ckpt


def metrics_format(metrics: dict) -> dict:
    """Readable values: runtimes as h:mm:ss.ss, memory in MB, FLOPs in GF, floats to 4 decimals."""
    out = dict(metrics)
    for key, value in metrics.items():
        if "_mem_" in key:
            out[key] = f"{value >> 20}MB"
        elif "_runtime" in key:
            out[key] = _seconds_to_timedelta(value)
        elif key == "total_flos":
            out[key] = f"{int(value) >> 30}GF"
        elif isinstance(value, float):
            out[key] = round(value, 4)
    return out


def _seconds_to_timedelta(seconds: float) -> str:
    """12.345 -> "0:00:12.34" (hours:minutes:seconds, hundredths cut, not rounded)."""
    hundredths = int(abs(seconds - int(seconds)) * 100)
    return f"{datetime.timedelta(seconds=int(seconds))}.{hundredths:02d}"


def log_metrics(trainer, split: str, metrics: dict) -> None:
    """Print ``metrics`` (rank 0 only), sorted by name, names and values in aligned columns."""
    if not trainer.is_world_process_zero():
        return
    print(f"***** {split} metrics *****")
    formatted = metrics_format(metrics)
    key_width = max(len(str(k)) for k in formatted)
    value_width = max(len(str(v)) for v in formatted.values())
    for key in sorted(formatted):
        print(f"  {key: <{key_width}} = {formatted[key]:>{value_width}}")


def save_metrics(trainer, split: str, metrics: dict, combined: bool = True) -> None:
    """``output_dir/{split}_results.json``; with ``combined``, also merged into ``all_results.json`` (rank 0)."""
    if not trainer.is_world_process_zero():
        return
    folder = Path(trainer.args.output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ckpt.write_text_atomic(folder / f"{split}_results.json", json.dumps(metrics, indent=4, sort_keys=True))
    if combined:
        path = folder / "all_results.json"
        everything = read_json(path) if path.exists() else {}
        everything.update(metrics)
        ckpt.write_text_atomic(path, json.dumps(everything, indent=4, sort_keys=True))

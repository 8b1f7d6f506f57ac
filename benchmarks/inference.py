"""Race nanohf against transformers + PyTorch on BERT inference, interleaved in one run.

    python benchmarks/inference.py [--repeats 7]

The same randomly initialised weights (written once by transformers) are loaded into both
libraries; each workload runs A B A B … after a warm-up, and the table gives medians, min/max
and the ratio nanohf / transformers (below 1 means nanohf is faster). Needs the test extras.
"""

import argparse
import os
import tempfile
import time

import numpy as np


def build_checkpoints(root: str) -> dict[str, str]:
    import torch
    import transformers

    torch.manual_seed(0)
    folders = {}
    for name, model_class, config in [
        ("bert-base", transformers.BertForSequenceClassification, transformers.BertConfig()),
        ("distilbert-base", transformers.DistilBertForSequenceClassification, transformers.DistilBertConfig()),
    ]:
        folders[name] = os.path.join(root, name)
        model_class(config).save_pretrained(folders[name])
    return folders


def time_interleaved(run_a, run_b, repeats: int) -> tuple[list[float], list[float]]:
    run_a(), run_b()  # warm-up: Numba compile / cache load, torch's first-call overheads
    times_a, times_b = [], []
    for _ in range(repeats):
        for run, times in ((run_a, times_a), (run_b, times_b)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return times_a, times_b


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import torch
    import transformers

    import nanohf

    torch.set_num_threads(os.cpu_count() or 1)
    rows = []
    with tempfile.TemporaryDirectory() as root:
        folders = build_checkpoints(root)
        for name, batch, seq in [("bert-base", 1, 16), ("bert-base", 8, 128), ("distilbert-base", 8, 128)]:
            ours = nanohf.AutoModelForSequenceClassification.from_pretrained(folders[name])
            theirs = transformers.AutoModelForSequenceClassification.from_pretrained(folders[name]).eval()
            input_ids = np.random.default_rng(0).integers(1000, 30000, (batch, seq))
            attention_mask = np.ones_like(input_ids)
            t_ids, t_mask = torch.tensor(input_ids), torch.tensor(attention_mask)

            def run_ours(model=ours, ids=input_ids, mask=attention_mask):
                with nanohf.no_grad():
                    model(ids, mask)

            def run_theirs(model=theirs, ids=t_ids, mask=t_mask):
                with torch.no_grad():
                    model(input_ids=ids, attention_mask=mask)

            a, b = time_interleaved(run_ours, run_theirs, args.repeats)
            rows.append((f"{name} seq-cls {batch}x{seq}", a, b))

    print(f"\n{'workload':<30} {'nanohf ms (min-max)':>24} {'transformers ms (min-max)':>28} {'ratio':>7}")
    for label, a, b in rows:
        ma, mb = np.median(a) * 1e3, np.median(b) * 1e3
        print(
            f"{label:<30} {ma:9.1f} ({min(a) * 1e3:6.1f}-{max(a) * 1e3:6.1f}) "
            f"{mb:12.1f} ({min(b) * 1e3:6.1f}-{max(b) * 1e3:6.1f}) {ma / mb:7.2f}"
        )
    print(f"\nmachine: {os.cpu_count()} cores, torch {torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()

"""One training step (forward + loss + backward + AdamW) of nanohf and transformers + PyTorch.

    python benchmarks/training.py [--steps 5]

Workloads: DistilBERT-base seq-cls at 8×128, and a small BERT (4 layers, hidden 256, 4 heads,
intermediate 1024) at 32×128. Each (library, workload) runs in its own process, so the peak
resident memory (ru_maxrss) is that workload's alone; the step times are medians after one
warm-up step. The two libraries alternate process by process.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

WORKLOADS = {
    "distilbert-base 8x128": ("DistilBertForSequenceClassification", {}, 8, 128),
    "small-bert 32x128": (
        "BertForSequenceClassification",
        dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024),
        32,
        128,
    ),
}


def run_one(library: str, folder: str, class_name: str, batch: int, seq: int, steps: int) -> dict:
    rng = np.random.default_rng(0)
    input_ids = rng.integers(1000, 30000, (batch, seq))
    attention_mask = np.ones_like(input_ids)
    labels = rng.integers(0, 2, batch)
    if library == "nanohf":
        import nanohf

        model = getattr(nanohf, class_name).from_pretrained(folder).train()
        optimizer = nanohf.AdamW(model.parameters(), lr=5e-5)

        def step():
            model(input_ids, attention_mask, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    else:
        import torch
        import transformers

        torch.set_num_threads(os.cpu_count() or 1)
        model = getattr(transformers, class_name).from_pretrained(folder).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
        t_ids, t_mask, t_labels = (torch.tensor(a) for a in (input_ids, attention_mask, labels))

        def step():
            model(input_ids=t_ids, attention_mask=t_mask, labels=t_labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

    step()  # warm-up: kernel compile or cache load, allocator growth
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_s": float(np.median(times)), "min_s": min(times), "max_s": max(times), "peak_mib": peak_mib}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        library, folder, class_name, batch, seq = args.child
        print(json.dumps(run_one(library, folder, class_name, int(batch), int(seq), args.steps)))
        return

    import torch
    import transformers

    results = {}
    with tempfile.TemporaryDirectory() as root:
        for label, (class_name, config, batch, seq) in WORKLOADS.items():
            folder = os.path.join(root, label.split()[0])
            model_class = getattr(transformers, class_name)
            torch.manual_seed(0)
            model_class(model_class.config_class(**config)).save_pretrained(folder)
            for library in ("nanohf", "transformers"):
                command = [sys.executable, __file__, "--steps", str(args.steps), "--child", library, folder,
                           class_name, str(batch), str(seq)]  # fmt: skip
                out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
                results[(label, library)] = json.loads(out.strip().splitlines()[-1])

    print(f"\n{'training step':<24} {'nanohf s':>10} {'torch s':>9} {'ratio':>6} {'nanohf MiB':>11} {'torch MiB':>10}")
    for label in WORKLOADS:
        ours, theirs = results[(label, "nanohf")], results[(label, "transformers")]
        print(
            f"{label:<24} {ours['median_s']:10.2f} {theirs['median_s']:9.2f} "
            f"{ours['median_s'] / theirs['median_s']:6.2f} {ours['peak_mib']:11.0f} {theirs['peak_mib']:10.0f}"
        )
    print(f"\nmachine: {os.cpu_count()} cores, torch {torch.__version__}, transformers {transformers.__version__}")


if __name__ == "__main__":
    main()

"""Race one AdamW step: nanohf's fused Numba kernel against torch.optim.AdamW, interleaved.

    python benchmarks/optimizer.py [--repeats 7]

The parameters have the shapes of bert-base (BertConfig(): 30522-word vocabulary, 12 layers of
768, ~109.5M float32 weights), with random weights and gradients. Each repeat runs nanohf, then
torch's default (single-tensor) AdamW, then foreach=True, then fused=True (if this torch build
has a fused CPU AdamW), after a warm-up step each. The table gives medians, min/max, the ratio to
nanohf and the effective memory traffic: an AdamW step reads θ, g, m, v and writes θ, m, v, so
28 bytes per float32 weight at best. A plain copy of the same bytes gives the memory-speed floor.
Needs the test extras (torch).
"""

import argparse
import os
import statistics
import time

import numpy as np


def bert_base_shapes(vocab=30522, hidden=768, layers=12, intermediate=3072, positions=512, types=2):
    """Every parameter shape of BertModel(BertConfig()) with its pooler, as transformers lays them out."""
    shapes = [(vocab, hidden), (positions, hidden), (types, hidden), (hidden,), (hidden,)]
    for _ in range(layers):
        shapes += [(hidden, hidden), (hidden,)] * 4  # query, key, value, attention output dense
        shapes += [(hidden,), (hidden,)]  # attention output LayerNorm
        shapes += [(intermediate, hidden), (intermediate,), (hidden, intermediate), (hidden,)]
        shapes += [(hidden,), (hidden,)]  # output LayerNorm
    shapes += [(hidden, hidden), (hidden,)]  # pooler
    return shapes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import torch

    from nanohf.nn.module import Parameter
    from nanohf.optim import AdamW

    torch.set_num_threads(os.cpu_count() or 1)
    shapes = bert_base_shapes()
    n = sum(int(np.prod(s)) for s in shapes)
    rng = np.random.default_rng(0)
    ours = []
    for shape in shapes:
        p = Parameter(rng.standard_normal(shape, dtype=np.float32) * 0.02)
        p.grad = rng.standard_normal(shape, dtype=np.float32) * 1e-3
        ours.append(p)
    theirs = [torch.nn.Parameter(torch.from_numpy(p.data.copy())) for p in ours]
    for t, p in zip(theirs, ours, strict=True):
        t.grad = torch.from_numpy(p.grad.copy())

    runners = {"nanohf (fused Numba)": AdamW(ours, lr=5e-5).step}
    runners["torch default"] = torch.optim.AdamW(theirs, lr=5e-5).step
    runners["torch foreach=True"] = torch.optim.AdamW(theirs, lr=5e-5, foreach=True).step
    try:
        fused = torch.optim.AdamW(theirs, lr=5e-5, fused=True)
        fused.step()
        runners["torch fused=True"] = fused.step
    except (RuntimeError, ValueError) as error:
        print(f"torch fused=True not available on this build: {error}")

    src, dst = np.ones(n, np.float32), np.empty(n, np.float32)
    runners["memory floor: np.copyto of θ"] = lambda: np.copyto(dst, src)

    with torch.no_grad():
        for run in runners.values():
            run()  # warm-up: Numba compile or cache load, torch's lazy state
        times = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, run in runners.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)

    base = statistics.median(times["nanohf (fused Numba)"])
    print(f"AdamW step over {len(shapes)} bert-base tensors, {n / 1e6:.1f}M float32 weights, {os.cpu_count()} cores")
    print(f"{'':32s} {'median ms':>10s} {'min':>8s} {'max':>8s} {'/ nanohf':>9s} {'GB/s':>6s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        traffic = 8 * n if name.startswith("memory") else 28 * n  # bytes read + written
        print(
            f"{name:32s} {med * 1e3:10.1f} {min(ts) * 1e3:8.1f} {max(ts) * 1e3:8.1f} "
            f"{med / base:9.2f} {traffic / med / 1e9:6.1f}"
        )


if __name__ == "__main__":
    main()

"""Data parallelism on this machine: training-step time of all-MiniLM-L6-v2 alone and on 2 MPI ranks.

    python benchmarks/distributed.py                 # MiniLM, batch 16 x 64 tokens per rank, 8 timed steps
    python benchmarks/distributed.py --json out.json --steps 12 --batch 8 --seq 128

Three runs of the same loop (forward, backward, gradient all-reduce, AdamW), each a fresh process:

    1 process,  1 thread,  batch B        the per-core baseline
    1 process,  2 threads, batch 2B       the same work per step as 2 ranks, without MPI
    2 ranks,    1 thread each, batch B    mpiexec -n 2: data parallel

Per step it reports the compute (forward + backward), the wait for the slower rank (a barrier), the
all-reduce itself, the optimizer step, and the bytes each rank hands to the all-reduce (every gradient,
float32). Scaling efficiency = time per step of the baseline / time per step of 2 ranks (1.0: two
ranks do twice the work in the same time). The machine's other load shows in the numbers: run it idle.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RUNS = [  # (name, ranks, threads per rank, batch multiplier)
    ("1 process, 1 thread, batch B", 0, 1, 1),
    ("1 process, 2 threads, batch 2B", 0, 2, 2),
    ("2 ranks x 1 thread, batch B each", 2, 1, 1),
]


def worker(args) -> None:
    """One training run; rank 0 prints ``RESULT {json}`` with the per-step medians of every rank."""
    import nanohf
    from nanohf import distributed as dist
    from nanohf.cli import minilm_dir

    world = dist.get_world()
    nanohf.set_seed(0)
    model = nanohf.BertForSequenceClassification.from_pretrained(minilm_dir(), num_labels=2).train()
    dist.broadcast_parameters(model.parameters())
    optimizer = nanohf.AdamW(model.parameters(), lr=5e-5)
    rng = np.random.default_rng(world.rank)  # each rank its own shard of (random) data
    vocab = model.config.vocab_size
    phases = {"compute": [], "wait": [], "all_reduce": [], "optimizer": [], "step": []}
    sent = 0
    for step in range(args.warmup + args.steps):
        ids = rng.integers(1000, vocab, (args.batch, args.seq))
        labels = rng.integers(0, 2, args.batch)
        t0 = time.perf_counter()
        model(ids, np.ones_like(ids), labels=labels).loss.backward()
        t1 = time.perf_counter()
        dist.barrier()  # time spent waiting for the slower rank, kept apart from the all-reduce proper
        t2 = time.perf_counter()
        sent = dist.all_reduce_gradients(model.parameters())
        t3 = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad()
        t4 = time.perf_counter()
        if step >= args.warmup:
            for key, seconds in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
                phases[key].append(seconds)
    mine = {key: statistics.median(values) for key, values in phases.items()}
    everyone = dist.all_gather_object(mine)
    if world.is_main_process:
        result = {key: max(rank[key] for rank in everyone) for key in mine}  # the slowest rank sets the pace
        result.update(ranks=world.size, batch_per_rank=args.batch, bytes_all_reduced_per_rank=sent,
                      parameters=sum(p.data.size for p in model.parameters()))  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)


def launch(ranks: int, threads: int, batch: int, args) -> dict:
    from nanohf.distributed import find_mpiexec

    command = [sys.executable, __file__, "--worker", "--batch", str(batch), "--seq", str(args.seq),
               "--steps", str(args.steps), "--warmup", str(args.warmup)]  # fmt: skip
    if ranks:
        command = [find_mpiexec(), "-n", str(ranks), *command]
    threads = str(threads)
    env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads,
           "NUMBA_NUM_THREADS": threads}  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    line = next((line for line in result.stdout.splitlines() if line.startswith("RESULT ")), None)
    if result.returncode or line is None:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    return json.loads(line[len("RESULT "):])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16, help="B: sentences per rank per step")
    parser.add_argument("--seq", type=int, default=64, help="tokens per sentence")
    parser.add_argument("--steps", type=int, default=8, help="timed steps (medians are reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed first steps (Numba cache load, allocator)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    from common import machine_info

    rows = []
    for name, ranks, threads, multiplier in RUNS:
        row = launch(ranks, threads, args.batch * multiplier, args)
        row["name"], row["sentences_per_s"] = name, args.batch * multiplier * max(ranks, 1) / row["step"]
        rows.append(row)
        print(f"{name:<34} step {row['step']:.3f} s = compute {row['compute']:.3f} + wait {row['wait']:.3f} + "
              f"all-reduce {row['all_reduce']:.3f} + AdamW {row['optimizer']:.3f}; "
              f"{row['sentences_per_s']:.1f} sentences/s", flush=True)  # fmt: skip
    base, two_threads, parallel = rows
    efficiency = base["step"] / parallel["step"]
    mib = parallel["bytes_all_reduced_per_rank"] / 2**20
    print(f"\nscaling efficiency, 2 ranks vs 1 (same batch per rank): {efficiency:.2f} "
          f"(speed-up {parallel['sentences_per_s'] / base['sentences_per_s']:.2f}x in sentences/s)")
    print(f"2 ranks vs 1 process with 2 threads on batch 2B: "
          f"{parallel['sentences_per_s'] / two_threads['sentences_per_s']:.2f}x the sentences/s")
    print(f"all-reduced per step and rank: {mib:.1f} MiB ({parallel['parameters']:,} float32 gradients); "
          f"{mib / 2**10 / max(parallel['all_reduce'], 1e-9):.2f} GiB/s, "
          f"{parallel['all_reduce'] / parallel['step']:.0%} of the step")  # fmt: skip
    if args.json:
        summary = {"machine": machine_info(), "batch": args.batch, "seq": args.seq, "rows": rows,
                   "scaling_efficiency": efficiency}  # fmt: skip
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])

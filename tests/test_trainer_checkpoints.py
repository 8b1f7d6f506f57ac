"""Trainer checkpoints under stress: corrupted state files, killed runs, a full disk, a bad output_dir.

- Every state file a resume reads, broken in each way a disk, a kill or a hand edit can break it (missing,
  empty, truncated, not JSON, wrong shape, inconsistent with the other files): a clear error naming the
  file (and, for JSON, the key) — never a silent restart of the schedule or re-initialised tensor.
- Leftovers of a kill (.checkpoint-N.tmp, .checkpoint-N.deleting, a half folder) are never resumed from.
- SIGKILL at injected points of the save path (while writing, rotating, re-saving) and after random delays,
  in a subprocess (a tiny BERT, dropout on, save_steps=1, save_total_limit=2); resume_from_checkpoint=True
  then ends with the uninterrupted run's weights, bit for bit.
"""

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import TINY_BERT
from safetensors.numpy import load_file, save_file

import nanohf
from nanohf import Dataset, Trainer, TrainerCallback, TrainingArguments
from nanohf.data import disable_progress_bars, enable_progress_bars


@pytest.fixture(autouse=True)
def quiet(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("map-cache")))
    disable_progress_bars()
    yield
    enable_progress_bars()


def toy_data() -> Dataset:
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 99, (48, 10))
    return Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": np.ones_like(ids).tolist(),
                              "label": (ids[:, 0] > 50).astype(int).tolist()})  # fmt: skip


@pytest.fixture(scope="module")
def model_dir(make_checkpoint):
    return make_checkpoint("BertForSequenceClassification", TINY_BERT)  # dropout 0.1: the generators matter


def make_trainer(model_dir, out, callbacks=None, **kwargs):
    settings = dict(per_device_train_batch_size=8, max_steps=4, save_strategy="steps", save_steps=3,
                    learning_rate=1e-3, logging_steps=2, disable_tqdm=True)  # fmt: skip
    args = TrainingArguments(str(out), **{**settings, **kwargs})
    model = nanohf.BertForSequenceClassification.from_pretrained(model_dir)
    return Trainer(model, args, train_dataset=toy_data(), callbacks=callbacks)


def weights(model) -> dict[str, np.ndarray]:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def identical(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def finished(model_dir, tmp_path_factory):
    """A run of 4 steps with checkpoints at steps 3 and 4; its final weights."""
    out = tmp_path_factory.mktemp("finished")
    trainer = make_trainer(model_dir, out)
    trainer.train()
    return out, weights(trainer.model)


# --- corrupted state files -----------------------------------------------------------------------------------
def edit_json(name, change):
    def apply(folder):
        path = folder / name
        value = json.loads(path.read_text())
        path.write_text(json.dumps(change(value)))

    return apply


def write(name, data: bytes):
    return lambda folder: (folder / name).write_bytes(data)


def truncate(name):
    def apply(folder):
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])

    return apply


def delete(name):
    return lambda folder: (folder / name).unlink()


def edit_tensors(name, change):
    def apply(folder):
        tensors = load_file(str(folder / name))
        change(tensors)
        save_file(tensors, str(folder / name))

    return apply


def without(key):
    def change(d):
        d.pop(key)
        return d

    return change


def setting(path: str, value):
    def change(d):
        target, *keys = d, *path.split(".")
        for key in keys[:-1]:
            target = target[int(key) if isinstance(target, list) else key]
        target[int(keys[-1]) if isinstance(target, list) else keys[-1]] = value
        return d

    return change


def put(key, value):
    return lambda t: t.update({key: value})


def drop_tensor(key):
    return lambda t: t.pop(key)


def first_matching(suffix):
    def change(t):
        t.pop(next(k for k in sorted(t) if k.endswith(suffix)))

    return change


SCHED, RNG, STATE, ARGS = "scheduler.json", "rng_state.json", "trainer_state.json", "training_args.json"
OPT_J, OPT_T, MODEL = "optimizer.json", "optimizer.safetensors", "model.safetensors"
# (case id, the damage, the file the error must name, a pattern the message must hold)
# fmt: off
CASES = [
    ("scheduler {}", write(SCHED, b"{}"), SCHED, r"key '\w+' is missing.*restart the learning-rate schedule"),
    ("scheduler empty", write(SCHED, b""), SCHED, "not valid JSON"),
    ("scheduler truncated", truncate(SCHED), SCHED, "not valid JSON"),
    ("scheduler a list", write(SCHED, b"[1, 2]"), SCHED, "must hold a JSON (object|dict)"),
    ("scheduler not UTF-8", write(SCHED, b'{"last_epoch": "\xff"}'), SCHED, "not UTF-8"),
    ("scheduler no last_epoch", edit_json(SCHED, without("last_epoch")), SCHED, "key 'last_epoch' is missing"),
    ("scheduler last_epoch a string", edit_json(SCHED, setting("last_epoch", "3")), SCHED, "key 'last_epoch'"),
    ("scheduler last_epoch edited", edit_json(SCHED, setting("last_epoch", 1)), SCHED, "is 1.*global_step"),
    ("scheduler _step_count edited", edit_json(SCHED, setting("_step_count", 9)), SCHED, "key '_step_count'"),
    ("scheduler base_lrs short", edit_json(SCHED, setting("base_lrs", [1e-3])), SCHED, "key 'base_lrs'"),
    ("scheduler missing", delete(SCHED), SCHED, "is missing"),
    ("state global_step -1", edit_json(STATE, setting("global_step", 2)), OPT_J, r"state\.\d+\.step.*global_step is 2"),
    ("state global_step +1", edit_json(STATE, setting("global_step", 4)), OPT_J, "taken 3 steps.*global_step is 4"),
    ("state no global_step", edit_json(STATE, without("global_step")), STATE, "key 'global_step' is missing"),
    ("state global_step a float", edit_json(STATE, setting("global_step", 3.5)), STATE, "key 'global_step'"),
    ("state log_history a string", edit_json(STATE, setting("log_history", "x")), STATE, "key 'log_history'"),
    ("state epoch null", edit_json(STATE, setting("epoch", None)), STATE, "key 'epoch'"),
    ("state truncated", truncate(STATE), STATE, "not valid JSON"),
    ("state empty", write(STATE, b""), STATE, "not valid JSON"),
    ("state missing", delete(STATE), STATE, "not a checkpoint folder"),
    ("rng {}", write(RNG, b"{}"), RNG, "key 'nanohf' is missing"),
    ("rng truncated", truncate(RNG), RNG, "not valid JSON"),
    ("rng nanohf garbage", edit_json(RNG, setting("nanohf", {"state": 3})), RNG, "key 'nanohf'"),
    ("rng numpy short", edit_json(RNG, setting("numpy", ["MT19937", [1, 2]])), RNG, "key 'numpy'"),
    ("rng python wrong", edit_json(RNG, setting("python", [3, [1], None])), RNG, "key 'python'"),
    ("rng missing", delete(RNG), RNG, "is missing"),
    ("optimizer.json no state", edit_json(OPT_J, without("state")), OPT_J, "key 'state' is missing"),
    ("optimizer.json no lr", edit_json(OPT_J, lambda d: (d["param_groups"][0].pop("lr"), d)[1]), OPT_J,
     r"key 'param_groups\[0\]\.lr' is missing"),
    ("optimizer.json lr a string", edit_json(OPT_J, setting("param_groups.0.lr", "abc")), OPT_J,
     r"param_groups\[0\]\.lr"),
    ("optimizer.json one group", edit_json(OPT_J, lambda d: {**d, "param_groups": d["param_groups"][:1]}), OPT_J,
     "1 groups, the optimizer has 2"),
    ("optimizer.json a step edited", edit_json(OPT_J, setting("state.0.step", 7)), OPT_J, r"'state\.0\.step'"),
    ("optimizer.json a param's step gone", edit_json(OPT_J, setting("state.1", {})), OPT_T, "lacks 'step'"),
    ("optimizer.json unknown index", edit_json(OPT_J, lambda d: {**d, "state": {**d["state"], "9999": {}}}), OPT_J,
     r"'state\.9999' is not the index"),
    ("optimizer.json truncated", truncate(OPT_J), OPT_J, "not valid JSON"),
    ("optimizer.json missing", delete(OPT_J), OPT_J, "is missing"),
    ("optimizer moment missing", edit_tensors(OPT_T, drop_tensor("0.exp_avg")), OPT_T,
     r"parameter '[\w.]+' \(index 0\) lacks 'exp_avg'"),
    ("optimizer moment wrong shape", edit_tensors(OPT_T, put("2.exp_avg_sq", np.zeros(3, np.float32))), OPT_T,
     r"tensor '2\.exp_avg_sq' of parameter '[\w.]+' .*shape \(3,\)"),
    ("optimizer moment not float", edit_tensors(OPT_T, lambda t: t.update({"0.exp_avg": t["0.exp_avg"].astype(
        np.int32)})), OPT_T, "int32"),
    ("optimizer stray tensor", edit_tensors(OPT_T, put("9999.exp_avg", np.zeros(3, np.float32))), OPT_T,
     "belongs to no parameter"),
    ("optimizer.safetensors truncated", truncate(OPT_T), OPT_T, ""),
    ("optimizer.safetensors empty", write(OPT_T, b""), OPT_T, "too short"),
    ("optimizer.safetensors missing", delete(OPT_T), OPT_T, "is missing"),
    ("model tensor missing", edit_tensors(MODEL, first_matching("attention.self.query.weight")), MODEL,
     r"missing tensors \['bert\.encoder\.layer\.\d\.attention\.self\.query\.weight'\]"),
    ("model stray tensor", edit_tensors(MODEL, put("extra.weight", np.zeros(3, np.float32))), MODEL,
     r"unexpected tensors \['extra\.weight'\]"),
    ("model tensor wrong shape", edit_tensors(MODEL, put("classifier.bias", np.zeros(5, np.float32))), MODEL,
     "classifier.bias"),
    ("model.safetensors truncated", truncate(MODEL), MODEL, ""),
    ("model.safetensors missing", delete(MODEL), MODEL, "no model.safetensors"),
    ("training_args not JSON", write(ARGS, b"{'a': 1}"), ARGS, "not valid JSON"),
    ("training_args missing", delete(ARGS), ARGS, "is missing"),
]
# fmt: on


def test_an_undamaged_copy_resumes_exactly(model_dir, finished, tmp_path):
    out, final = finished
    shutil.copytree(out / "checkpoint-3", tmp_path / "ck")
    trainer = make_trainer(model_dir, tmp_path / "run")
    trainer.train(resume_from_checkpoint=str(tmp_path / "ck"))
    assert identical(weights(trainer.model), final)


@pytest.mark.parametrize("case, damage, filename, pattern", CASES, ids=[c[0] for c in CASES])
def test_a_damaged_state_file_is_a_clear_error(model_dir, finished, tmp_path, case, damage, filename, pattern):
    folder = tmp_path / "checkpoint-3"
    shutil.copytree(finished[0] / "checkpoint-3", folder)
    damage(folder)
    trainer = make_trainer(model_dir, tmp_path / "run")
    with pytest.raises((ValueError, OSError)) as error:
        trainer.train(resume_from_checkpoint=str(folder))
    message = str(error.value)
    print(f"{case}: {type(error.value).__name__}: {message[:200]}")
    assert str(folder) in message and filename in message, message
    assert pattern == "" or re.search(pattern, message), message


def test_counts_of_the_corruption_cases():
    """The report's numbers: every case above is one corrupted checkpoint, each must give a clear error."""
    assert len(CASES) == len({c[0] for c in CASES}) >= 45


# --- leftovers of a kill ---------------------------------------------------------------------------------------
def test_leftovers_are_never_resumed_from_and_are_cleaned(model_dir, finished, tmp_path):
    """checkpoint-4 half deleted (only config.json left), its complete twin .checkpoint-4.tmp, a .deleting folder
    and an orphaned temporary file: resume puts the twin in place, removes the rest, and ends exactly."""
    out, final = finished
    run = tmp_path / "run"
    shutil.copytree(out / "checkpoint-3", run / "checkpoint-3")
    shutil.copytree(out / "checkpoint-4", run / ".checkpoint-4.tmp")
    shutil.copytree(out / "checkpoint-3", run / ".checkpoint-2.deleting")
    (run / "checkpoint-3" / ".model.safetensors.abc.tmp").write_bytes(b"half")
    (run / "checkpoint-5").mkdir()
    shutil.copy(out / "checkpoint-4" / "config.json", run / "checkpoint-5")  # a half-deleted folder
    trainer = make_trainer(model_dir, run)
    trainer.train(resume_from_checkpoint=True)
    assert trainer.state.global_step == 4 and identical(weights(trainer.model), final)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-3", "checkpoint-4", "checkpoint-5"]
    assert not list((run / "checkpoint-3").glob(".*.tmp"))


def test_an_incomplete_twin_is_removed_and_the_older_checkpoint_used(model_dir, finished, tmp_path):
    out, final = finished
    run = tmp_path / "run"
    shutil.copytree(out / "checkpoint-3", run / "checkpoint-3")
    shutil.copytree(out / "checkpoint-4", run / ".checkpoint-4.tmp")
    (run / ".checkpoint-4.tmp" / "trainer_state.json").unlink()  # killed before the folder was complete
    trainer = make_trainer(model_dir, run)
    trainer.train(resume_from_checkpoint=True)
    assert identical(weights(trainer.model), final)
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-3", "checkpoint-4"]


def test_re_saving_a_step_replaces_the_folder(model_dir, finished, tmp_path):
    """A second run in the same output_dir writes checkpoint-3 and -4 again: replaced whole, no leftovers."""
    run = tmp_path / "run"
    shutil.copytree(finished[0], run)
    (run / "checkpoint-3" / "stale.txt").write_text("from the first run")
    make_trainer(model_dir, run).train()
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-3", "checkpoint-4"]
    assert not (run / "checkpoint-3" / "stale.txt").exists()


# --- full disk, bad output_dir ----------------------------------------------------------------------------
class FullDiskAfter(TrainerCallback):
    def __init__(self, step, monkeypatch):
        self.step, self.monkeypatch = step, monkeypatch

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:

            def no_space(path, data):
                raise OSError(errno.ENOSPC, "No space left on device")

            self.monkeypatch.setattr("nanohf.models.safetensors_io.write_atomically", no_space)


def test_a_full_disk_fails_the_save_naming_the_folder_and_keeps_the_earlier_checkpoint(model_dir, tmp_path, finished,
                                                                                        monkeypatch):  # fmt: skip
    trainer = make_trainer(model_dir, tmp_path, save_steps=2, callbacks=[FullDiskAfter(3, monkeypatch)])
    with pytest.raises(OSError, match="checkpoint-4") as error:
        trainer.train()
    assert error.value.errno == errno.ENOSPC and str(tmp_path) in str(error.value)
    assert "No space left on device" in str(error.value) and "checkpoint-2" in str(error.value)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-2"]  # no half folder, no leftover
    resumed = make_trainer(model_dir, tmp_path, save_steps=2)
    resumed.train(resume_from_checkpoint=True)
    uninterrupted = make_trainer(model_dir, tmp_path / "other", save_steps=2)
    uninterrupted.train()
    assert identical(weights(resumed.model), weights(uninterrupted.model))


def test_an_output_dir_that_cannot_be_created_fails_at_init(model_dir, tmp_path):
    """As transformers' Trainer creates output_dir in __init__, a bad one fails there (the tests run as root, who
    may write anywhere: a folder under a regular file stands for a read-only place)."""
    (tmp_path / "a-file").write_text("")
    bad = tmp_path / "a-file" / "out"
    with pytest.raises(OSError, match=f"output_dir '{bad}' cannot be created"):
        make_trainer(model_dir, bad)


def test_a_save_into_an_output_dir_gone_bad_names_it(model_dir, tmp_path):
    out = tmp_path / "out"
    trainer = make_trainer(model_dir, out, max_steps=1, save_steps=1)
    shutil.rmtree(out)
    out.write_text("now a file")  # e.g. a mount that went away
    with pytest.raises(OSError, match=f"could not save the checkpoint {out / 'checkpoint-1'}"):
        trainer.train()


def test_save_model_on_a_full_disk_names_the_folder(model_dir, tmp_path, monkeypatch):
    trainer = make_trainer(model_dir, tmp_path / "out")

    def no_space(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("nanohf.models.safetensors_io.write_atomically", no_space)
    with pytest.raises(OSError, match=f"could not save the model in {tmp_path / 'final'}") as error:
        trainer.save_model(str(tmp_path / "final"))
    assert error.value.errno == errno.ENOSPC


def test_orphaned_temporary_files_beside_the_checkpoints_are_removed_at_the_next_save(model_dir, tmp_path):
    (tmp_path / ".trainer_state.json.x1y2.tmp").write_text("{")
    (tmp_path / "notes.tmp").write_text("a user's file")  # not one of ours: kept
    make_trainer(model_dir, tmp_path, max_steps=3).train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-3", "notes.tmp"]


def test_save_metrics_with_a_damaged_all_results_names_it(model_dir, tmp_path):
    trainer = make_trainer(model_dir, tmp_path)
    (tmp_path / "all_results.json").write_text('{"train_loss": 0.5,')
    with pytest.raises(ValueError, match=f"{tmp_path / 'all_results.json'} is not valid JSON"):
        trainer.save_metrics("eval", {"eval_loss": 0.3})


# --- kill -9 ------------------------------------------------------------------------------------------------
SCRIPT = """
import sys
from pathlib import Path
import numpy as np
from safetensors.numpy import save_file
from nanohf import BertForSequenceClassification, Dataset, Trainer, TrainingArguments

model_dir, out, resume = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
ids = rng.integers(5, 99, (48, 10))
data = Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": np.ones_like(ids).tolist(),
                          "label": (ids[:, 0] > 50).astype(int).tolist()})
args = TrainingArguments(str(out), per_device_train_batch_size=8, max_steps=6, save_strategy="steps", save_steps=1,
                         save_total_limit=2, learning_rate=1e-3, logging_steps=2, disable_tqdm=True)
trainer = Trainer(BertForSequenceClassification.from_pretrained(model_dir), args, train_dataset=data)
if resume == "auto":  # as a user's script does: resume if a checkpoint is there, else start
    resume = True if list(out.glob("checkpoint-*")) else None
elif resume == "none":
    resume = None
trainer.train(resume_from_checkpoint=resume)
save_file({n: p.data for n, p in trainer.model.named_parameters()}, str(out / "final.safetensors"))
"""


def launch(script, model_dir, out, resume, kill_at=None):
    env = {**os.environ, "NANOHF_CACHE": str(out.parent / "cache")}
    env.pop("NANOHF_TRAINER_KILL_AT", None)
    if kill_at:
        env["NANOHF_TRAINER_KILL_AT"] = kill_at
    return subprocess.Popen([sys.executable, str(script), str(model_dir), str(out), str(resume)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def finish(process, timeout=120):
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err.decode(errors="replace")


def test_sigkill_at_random_moments_then_resume_is_bit_identical(model_dir, tmp_path):
    """Kill points: in a fresh run, after the weights of a checkpoint are written, after its training state,
    when its folder is complete but not renamed in, after rotation renamed the oldest away; re-saving the
    last step of a finished run (resumed from checkpoint-5), after the old folder went away and before the new
    one came in; and two random delays after the first checkpoint appeared. The step of each is drawn from a
    seeded generator. Each killed run is resumed with resume_from_checkpoint=True."""
    rng = np.random.default_rng(20)
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    started = time.time()
    reference = tmp_path / "reference"
    code, err = finish(launch(script, model_dir, reference, "none"))
    assert code == 0, err
    final = load_file(str(reference / "final.safetensors"))

    scenarios = [(f"{point}:{rng.integers(1, 7)}", None) for point in
                 ("model_written", "training_state_written", "tmp_complete")]  # fmt: skip
    scenarios.append((f"renamed_away:{rng.integers(1, 5)}", None))  # rotation starts at the 3rd save
    scenarios += [("renamed_away:1", "resave"), ("before_swap:1", "resave")]
    scenarios += [(f"delay:{rng.uniform(0.0, 0.3):.2f}", None) for _ in range(3)]
    runs = []
    for n, (kill_at, kind) in enumerate(scenarios):
        out = tmp_path / f"run{n}"
        if kind == "resave":  # a finished run's folder, trained again from checkpoint-5: checkpoint-6 re-saved
            shutil.copytree(reference, out)
            (out / "final.safetensors").unlink()
            resume = out / "checkpoint-5"
        else:
            resume = "auto"
        point = None if kill_at.startswith("delay") else kill_at
        runs.append((kill_at, out, launch(script, model_dir, out, resume, kill_at=point)))
    # The random delays run from the moment the run's first checkpoint appears (all runs go at once).
    kill_times = {n: None for n, (kill_at, _, _) in enumerate(runs) if kill_at.startswith("delay")}
    deadline = time.time() + 90
    while kill_times and time.time() < deadline:
        for n in list(kill_times):
            kill_at, out, process = runs[n]
            if kill_times[n] is None and (out / "checkpoint-1").exists():
                kill_times[n] = time.time() + float(kill_at.split(":")[1])
            if process.poll() is not None or (kill_times[n] is not None and time.time() >= kill_times[n]):
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                del kill_times[n]
        time.sleep(0.002)
    outcomes = []
    for kill_at, out, process in runs:
        code, err = finish(process)
        assert code in (-signal.SIGKILL, 0), f"{kill_at}: exit {code}\n{err}"
        outcomes.append((kill_at, code, sorted(p.name for p in out.iterdir())))
    resumes = [(kill_at, out, launch(script, model_dir, out, "auto")) for kill_at, out, _ in runs]
    same = 0
    for (kill_at, out, process), outcome in zip(resumes, outcomes, strict=True):
        code, err = finish(process)
        assert code == 0, f"resume after kill at {kill_at} (left {outcome[2]}) failed:\n{err}"
        resumed = load_file(str(out / "final.safetensors"))
        assert identical(resumed, final), f"kill at {kill_at}: resumed weights differ from the uninterrupted run"
        same += 1
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")], f"{kill_at}: leftovers remain"
    killed = sum(code == -signal.SIGKILL for _, code, _ in outcomes)
    print(
        f"kill -9: {len(scenarios)} kill points ({killed} killed mid-run), {same} bit-identical resumes, "
        f"{time.time() - started:.1f}s; left behind: {[o[2] for o in outcomes]}"
    )
    injected = [code for kill_at, code, _ in outcomes if not kill_at.startswith("delay")]
    assert injected == [-signal.SIGKILL] * len(injected)  # an injected point always fires (a delay may come too late)

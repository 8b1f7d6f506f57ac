"""Checkpoint folders: ``output_dir/checkpoint-N`` holds everything needed to resume exactly.

    model.safetensors, config.json      the weights (loadable by transformers too)
    optimizer.safetensors, optimizer.json   AdamW's moments per parameter, and its param groups
    scheduler.json                      the learning-rate schedule's state
    rng_state.json                      nanohf's, NumPy's and Python's random generators (rng_state_<rank>.json
                                        for the other ranks of an MPI run)
    training_args.json
    trainer_state.json                  step, epoch, log history, best metric — written last

With ``save_only_model=True`` only the weights (and tokenizer), trainer_state.json and
training_args.json are written: smaller, but training cannot resume from it (as in transformers).
The file formats are in nanohf/trainer/state_files.py, with the checks a resume makes on them.

Nothing half-written is ever trusted. A kill at any moment leaves only folders that are complete
or that no reader takes for a checkpoint:

- a checkpoint is written into ``.checkpoint-N.tmp`` (every file atomically; trainer_state.json last,
  after everything else is fsynced, so its presence marks the folder complete) and renamed to
  ``checkpoint-N`` only then;
- re-saving an existing step renames the old folder to ``.checkpoint-N.deleting`` first, then the new
  one into place; rotation (``save_total_limit``) likewise renames before it deletes;
- at the next save or resume, a complete ``.checkpoint-N.tmp`` whose ``checkpoint-N`` is gone (a kill
  between the two renames of a re-save) is put in place, and every other ``.tmp`` / ``.deleting``
  leftover is removed;
- ``resume_from_checkpoint=True`` takes the newest ``checkpoint-N`` that holds trainer_state.json and
  its weights, skipping any other (a folder a crashed older version or another tool left).
"""

import os
import re
import shutil
from pathlib import Path

import numpy as np

from nanohf import distributed as dist
from nanohf.models.hub import write_atomically
from nanohf.models.modeling_utils import load_checkpoint
from nanohf.trainer import state_files as files

PREFIX = "checkpoint-"
CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
# Leftovers of a killed save, re-save or rotation (and checkpoint-N.tmp, the temporary name of older versions).
LEFTOVER_NAME = re.compile(r"\.?checkpoint-(\d+)\.(tmp|deleting)")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")

rng_state, set_rng_state = files.rng_state, files.set_rng_state  # importable from here (nanohf.accelerate)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, fsync it, then rename it: never half a file."""
    write_atomically(path, text.encode("utf-8"))


def named_os_error(err: OSError, message: str) -> OSError:
    """``err`` again (same class and errno, so ``except PermissionError`` still works) with ``message``."""
    return type(err)(err.errno, message) if err.errno is not None else type(err)(message)


def _kill_point(name: str) -> None:
    """Test hook: ``NANOHF_TRAINER_KILL_AT=<name>:<n>`` SIGKILLs this process the n-th time it gets here, to test
    that a kill at that moment leaves a usable output_dir (tests/test_trainer_checkpoints.py). Unset: nothing."""
    spec = os.environ.get("NANOHF_TRAINER_KILL_AT")
    if not spec or spec.rpartition(":")[0] != name:
        return
    _kill_point.counts[name] = _kill_point.counts.get(name, 0) + 1
    if _kill_point.counts[name] == int(spec.rpartition(":")[2]):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


_kill_point.counts = {}


def _fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` (some writers, a tokenizer's, do not fsync) and the folder itself."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    """Rename ``path`` away (one atomic step: it stops being a checkpoint), then delete it."""
    if not path.exists():
        return
    doomed = path.with_name(f".{path.name}.deleting")
    if doomed.exists():
        shutil.rmtree(doomed)
    os.replace(path, doomed)
    _kill_point("renamed_away")
    shutil.rmtree(doomed)


def save_checkpoint(folder: Path, model, optimizer, scheduler, state, args, tokenizer=None,
                    only_model: bool = False, other_rng_states: list | None = None) -> None:  # fmt: skip
    """Write the checkpoint ``folder`` (replacing one of the same step) so that it appears complete or not
    at all. ``other_rng_states``: the generator states of ranks 1, 2, ... of an MPI run."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp")
    try:
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        model.save_pretrained(tmp)
        _kill_point("model_written")
        if tokenizer is not None and hasattr(tokenizer, "save_pretrained"):
            tokenizer.save_pretrained(tmp)
        write_text_atomic(tmp / files.TRAINING_ARGS, args.to_json_string())
        if not only_model:
            files.save_optimizer(tmp, optimizer)
            files.write_json(tmp / files.SCHEDULER, scheduler.state_dict())
            files.write_json(tmp / files.RNG, rng_state())
            for rank, rng in enumerate(other_rng_states or [], start=1):
                files.write_json(tmp / f"rng_state_{rank}.json", rng)
        _kill_point("training_state_written")
        _fsync_tree(tmp)
        write_text_atomic(tmp / files.TRAINER_STATE, state.to_json_string())  # last: the folder is complete
        _kill_point("tmp_complete")
        _remove(folder)  # a re-save: the old folder goes away in one rename
        _kill_point("before_swap")
        os.replace(tmp, folder)
        _fsync_dir(folder.parent)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        earlier = [p.name for p in sorted_checkpoints(folder.parent)]
        raise named_os_error(err, f"could not save the checkpoint {folder} in {folder.parent} ({err}); nothing was "
                             f"changed in the earlier checkpoints {earlier or '(none)'}") from err  # fmt: skip
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def is_complete(folder: Path) -> bool:
    """A checkpoint folder a reader can trust: trainer_state.json (written last) and the weights."""
    return (folder / files.TRAINER_STATE).is_file() and any((folder / name).is_file() for name in WEIGHT_FILES)


def _step(path: Path) -> int | None:
    match = CHECKPOINT_NAME.fullmatch(path.name)
    return int(match.group(1)) if match and path.is_dir() else None


def sorted_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Checkpoint folders of a run, oldest (lowest step) first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _step(p) is not None]
    return sorted(found, key=_step)


def clean_leftovers(output_dir: str | os.PathLike) -> None:
    """Finish what a killed save, re-save or rotation left: put a complete ``.checkpoint-N.tmp`` in place when
    ``checkpoint-N`` is gone, delete every other ``.tmp`` / ``.deleting`` folder or file."""
    root = Path(output_dir)
    if not root.is_dir():
        return
    for path in sorted(root.iterdir()):
        match = LEFTOVER_NAME.fullmatch(path.name)
        if match is None:
            continue
        final = root / f"{PREFIX}{match.group(1)}"
        if match.group(2) == "tmp" and path.is_dir() and is_complete(path) and not final.exists():
            os.replace(path, final)
        elif path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    # Orphaned temporary files of atomic writes (".<name>.<random>.tmp"), beside the checkpoints and inside them.
    for folder in [root, *sorted_checkpoints(root)]:
        for path in folder.glob(".*.tmp"):
            if path.is_file():
                path.unlink()


def rotate_checkpoints(output_dir, limit: int | None, keep: str | None = None) -> None:
    """Delete the oldest checkpoints beyond ``limit``, never the newest (to resume from) nor the one
    named ``keep`` (the best): with limit=1 and an older best, two remain, as in transformers."""
    if not limit:
        return
    checkpoints = sorted_checkpoints(output_dir)
    removable = [p for p in checkpoints[:-1] if keep is None or Path(keep).resolve() != p.resolve()]
    excess = len(checkpoints) - limit
    for path in removable[: max(0, excess)]:
        _remove(path)


def save_trainer_checkpoint(trainer) -> None:
    """``output_dir/checkpoint-{global_step}``: written by rank 0, after every rank's generator state is
    gathered (each rank's dropout stream, for an exact resume); refused if a weight is NaN or inf."""
    args, state, model = trainer.args, trainer.state, trainer.model
    folder = Path(args.output_dir) / f"{PREFIX}{state.global_step}"
    bad = next((name for name, p in model.named_parameters() if not np.isfinite(p.data).all()), None)
    if bad is not None:  # never write (nor rotate in) a checkpoint that cannot be resumed from
        last = sorted_checkpoints(args.output_dir)
        raise FloatingPointError(
            f"parameter {bad!r} holds NaN or inf at step {state.global_step}: {folder} not saved. "
            f"Last good checkpoint: {last[-1] if last else 'none saved'}."
        )
    # Every rank keeps the same state (best checkpoint included); rank 0 alone writes the folder.
    if args.metric_for_best_model is not None and state.best_global_step == state.global_step:
        state.best_model_checkpoint = str(folder)
    rng_states = dist.all_gather_object(rng_state())
    if trainer.is_world_process_zero():
        clean_leftovers(args.output_dir)
        save_checkpoint(folder, model, trainer.optimizer, trainer.lr_scheduler, state, args, trainer.processing_class,
                        only_model=args.save_only_model, other_rng_states=rng_states[1:])  # fmt: skip
        rotate_checkpoints(args.output_dir, args.save_total_limit, keep=state.best_model_checkpoint)
    dist.barrier("barrier after rank 0 saved a checkpoint")  # before anyone reads it (load_best_model_at_end)


def make_output_dir(output_dir: str | os.PathLike) -> None:
    """Create ``output_dir`` (as transformers' Trainer does at init), with an error naming it if it cannot be."""
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as err:
        raise named_os_error(err, f"output_dir {output_dir!r} cannot be created ({err}): checkpoints and the "
                             "model could not be saved there; pass a writable folder") from err  # fmt: skip


def load_weights(model, folder: str | os.PathLike) -> None:
    """The checkpoint's weights into ``model``: every parameter present in the file, nothing else, each of its
    shape — a tensor missing from the file is an error naming it, never a silent re-initialisation."""
    folder = Path(folder)
    source = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), folder)
    tensors = load_checkpoint(folder)
    try:
        info = model.load_state_dict(tensors, strict=False)
    except ValueError as err:  # a tensor of the wrong shape: say which file it is in
        raise ValueError(f"{source}: {err}") from None
    kinds = (("missing", "missing_keys"), ("unexpected", "unexpected_keys"))
    faults = [f"{what} tensors {info[key]}" for what, key in kinds if info[key]]
    if faults:
        raise ValueError(f"{source} does not hold this model's weights: {', '.join(faults)}")


def newest_complete(output_dir) -> Path:
    found = [p for p in sorted_checkpoints(output_dir) if is_complete(p)]
    if not found:
        raise FileNotFoundError(f"resume_from_checkpoint=True but {output_dir} holds no checkpoint-N (none complete)")
    return found[-1]


def resume_trainer(trainer, resume_from_checkpoint) -> None:
    """Load weights, optimizer, schedule, generators and state from a checkpoint (True: the newest complete one).
    Every file is checked before anything is restored from it (nanohf/trainer/state_files.py)."""
    from nanohf.trainer.callbacks import TrainerState

    output_dir = trainer.args.output_dir
    if trainer.is_world_process_zero():
        clean_leftovers(output_dir)
    dist.barrier("barrier after rank 0 cleaned the output_dir")
    if resume_from_checkpoint is True:
        folder = newest_complete(output_dir)
    else:
        folder = Path(resume_from_checkpoint)
        if not (folder / files.TRAINER_STATE).is_file():
            raise FileNotFoundError(f"{folder} is not a checkpoint folder (no trainer_state.json)")
    if not any((folder / name).exists() for name in files.TRAINING_FILES):
        raise ValueError(
            f"{folder} holds the model only (saved with save_only_model=True): no optimizer, schedule or random "
            "state to resume training from. Load the weights with from_pretrained and start a new run instead."
        )
    state = files.load_trainer_state(folder / files.TRAINER_STATE, TrainerState)
    files.load_training_args(folder / files.TRAINING_ARGS)
    names = {id(p): name for name, p in trainer.model.named_parameters()}
    optimizer_state = files.load_optimizer(folder, trainer.optimizer, names, state.global_step)
    scheduler_state = files.load_scheduler(folder, trainer.lr_scheduler, state.global_step)
    own_rng = folder / f"rng_state_{trainer.world.rank}.json"
    # A rank without its own file (resuming with more ranks than saved) takes rank 0's generators.
    rng_path = own_rng if own_rng.is_file() else folder / files.RNG
    trainer._load_weights(folder)  # checked too: every tensor present, of its shape
    trainer.optimizer.load_state_dict(optimizer_state)
    trainer.lr_scheduler.load_state_dict(scheduler_state)
    files.load_rng(rng_path)
    trainer.state = state

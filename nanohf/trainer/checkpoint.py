"""Checkpoint folders: ``output_dir/checkpoint-N`` holds everything needed to resume exactly.

    model.safetensors, config.json      the weights (loadable by transformers too)
    optimizer.safetensors, optimizer.json   AdamW's moments per parameter, and its param groups
    scheduler.json                      the learning-rate schedule's state
    rng_state.json                      nanohf's, NumPy's and Python's random generators
    trainer_state.json                  step, epoch, log history, best metric
    training_args.json

With ``save_only_model=True`` only the weights (and tokenizer), trainer_state.json and
training_args.json are written: smaller, but training cannot resume from it (as in transformers).
The folder is written under a temporary name and renamed when complete, so a crash mid-save
never leaves a half checkpoint behind.
"""

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from nanohf import distributed as dist
from nanohf import random as nanohf_random

PREFIX = "checkpoint-"


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def rng_state() -> dict:
    return {
        "nanohf": nanohf_random.get_generator().bit_generator.state,
        "numpy": [v.tolist() if isinstance(v, np.ndarray) else v for v in np.random.get_state()],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }


def set_rng_state(state: dict) -> None:
    nanohf_random.get_generator().bit_generator.state = state["nanohf"]
    numpy_state = state["numpy"]
    np.random.set_state((numpy_state[0], np.array(numpy_state[1], dtype=np.uint32), *numpy_state[2:]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it: never half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_checkpoint(folder: Path, model, optimizer, scheduler, state, args, tokenizer=None,
                    only_model: bool = False) -> None:  # fmt: skip
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    if tokenizer is not None and hasattr(tokenizer, "save_pretrained"):
        tokenizer.save_pretrained(tmp)
    (tmp / "trainer_state.json").write_text(state.to_json_string())
    (tmp / "training_args.json").write_text(args.to_json_string())
    if not only_model:
        _save_training_state(tmp, optimizer, scheduler)
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def _save_training_state(tmp: Path, optimizer, scheduler) -> None:
    """The optimizer's moments, the schedule and the random generators: what an exact resume needs."""
    opt_state = optimizer.state_dict()
    tensors, per_param = {}, {}
    for index, values in opt_state["state"].items():
        per_param[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                tensors[f"{index}.{key}"] = value
            else:
                per_param[str(index)][key] = value
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    _write_json(tmp / "optimizer.json", {"param_groups": opt_state["param_groups"], "state": per_param})
    _write_json(tmp / "scheduler.json", scheduler.state_dict())
    _write_json(tmp / "rng_state.json", rng_state())


def load_optimizer_state(folder: Path) -> dict:
    folder = Path(folder)
    meta = json.loads((folder / "optimizer.json").read_text())
    tensors = load_file(str(folder / "optimizer.safetensors"))
    state: dict[int, dict] = {int(i): dict(values) for i, values in meta["state"].items()}
    for name, array in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = array
    return {"state": state, "param_groups": meta["param_groups"]}


def sorted_checkpoints(output_dir: str | os.PathLike) -> list[Path]:
    """Checkpoint folders of a run, oldest (lowest step) first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX) :].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX) :]))


def rotate_checkpoints(output_dir, limit: int | None, keep: str | None = None) -> None:
    """Delete the oldest checkpoints beyond ``limit``, never the newest (to resume from) nor the one
    named ``keep`` (the best): with limit=1 and an older best, two remain, as in transformers."""
    if not limit:
        return
    checkpoints = sorted_checkpoints(output_dir)
    removable = [p for p in checkpoints[:-1] if keep is None or Path(keep).resolve() != p.resolve()]
    excess = len(checkpoints) - limit
    for path in removable[: max(0, excess)]:
        shutil.rmtree(path)


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
        save_checkpoint(folder, model, trainer.optimizer, trainer.lr_scheduler, state, args, trainer.processing_class,
                        only_model=args.save_only_model)  # fmt: skip
        if not args.save_only_model:
            for rank, rng in enumerate(rng_states[1:], start=1):
                (folder / f"rng_state_{rank}.json").write_text(json.dumps(rng))
        rotate_checkpoints(args.output_dir, args.save_total_limit, keep=state.best_model_checkpoint)
    dist.barrier("barrier after rank 0 saved a checkpoint")  # before anyone reads it (load_best_model_at_end)


def resume_trainer(trainer, resume_from_checkpoint) -> None:
    """Load weights, optimizer, schedule, generators and state from a checkpoint (True: the newest one)."""
    from nanohf.trainer.callbacks import TrainerState

    output_dir = trainer.args.output_dir
    if resume_from_checkpoint is True:
        found = sorted_checkpoints(output_dir)
        if not found:
            raise FileNotFoundError(f"resume_from_checkpoint=True but {output_dir} holds no checkpoint-N")
        folder = found[-1]
    else:
        folder = Path(resume_from_checkpoint)
        if not (folder / "trainer_state.json").is_file():
            raise FileNotFoundError(f"{folder} is not a checkpoint folder (no trainer_state.json)")
    if not (folder / "optimizer.json").is_file():
        raise ValueError(
            f"{folder} holds the model only (saved with save_only_model=True): no optimizer, schedule or random "
            "state to resume training from. Load the weights with from_pretrained and start a new run instead."
        )
    trainer._load_weights(folder)
    trainer.optimizer.load_state_dict(load_optimizer_state(folder))
    trainer.lr_scheduler.load_state_dict(json.loads((folder / "scheduler.json").read_text()))
    # A rank without its own file (resuming with more ranks than saved) takes rank 0's generators.
    own_rng = folder / f"rng_state_{trainer.world.rank}.json"
    set_rng_state(json.loads((own_rng if own_rng.is_file() else folder / "rng_state.json").read_text()))
    trainer.state = TrainerState.from_json((folder / "trainer_state.json").read_text())

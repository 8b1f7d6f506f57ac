"""Checkpoint folders: ``output_dir/checkpoint-N`` holds everything needed to resume exactly.

    model.safetensors, config.json      the weights (loadable by transformers too)
    optimizer.safetensors, optimizer.json   AdamW's moments per parameter, and its param groups
    scheduler.json                      the learning-rate schedule's state
    rng_state.json                      nanohf's, NumPy's and Python's random generators
    trainer_state.json                  step, epoch, log history, best metric
    training_args.json

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


def save_checkpoint(folder: Path, model, optimizer, scheduler, state, args, tokenizer=None) -> None:
    folder = Path(folder)
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    if tokenizer is not None and hasattr(tokenizer, "save_pretrained"):
        tokenizer.save_pretrained(tmp)
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
    (tmp / "trainer_state.json").write_text(state.to_json_string())
    (tmp / "training_args.json").write_text(args.to_json_string())
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)


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
    found = [p for p in root.iterdir() if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX):].isdigit()]
    return sorted(found, key=lambda p: int(p.name[len(PREFIX):]))


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

"""``save_state`` / ``load_state`` files: accelerate's folder layout, with formats that need no pickle.

    model.safetensors, model_1.safetensors, ...      each prepared model's weights (state_dict names)
    gradients.safetensors, ...                        gradients not yet used by a step (saved mid-accumulation)
    optimizer.json (+ optimizer.safetensors)          an optimizer's state_dict: the arrays in safetensors,
    scheduler.json, sampler.json, ...                 the rest (param groups, counters) in JSON
    custom_checkpoint_0.json, ...                     objects given to register_for_checkpointing
    random_states_<rank>.json                         nanohf's, NumPy's and Python's generators, per rank

accelerate writes ``optimizer.bin`` and friends with torch.save (pickle); nanohf never unpickles, so each
state dict is split into a JSON tree and the arrays it holds, each array replaced in the tree by
``{"__safetensors__": key}``. JSON turns tuples into lists and dict keys into strings; the load_state_dict
methods here accept both. Every file is written under a temporary name and renamed when complete.
"""

import json
import os
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

ARRAY_MARK = "__safetensors__"


def _atomic(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def save_tree(tree, folder: Path, name: str) -> None:
    """Write ``tree`` (nested dicts/lists of numbers, strings and arrays) as ``name.json`` (+ ``name.safetensors``)."""
    arrays: dict[str, np.ndarray] = {}

    def pack(value):
        if isinstance(value, np.ndarray):
            key = str(len(arrays))
            arrays[key] = np.ascontiguousarray(value)
            return {ARRAY_MARK: key}
        if isinstance(value, dict):
            return {str(k): pack(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [pack(v) for v in value]
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise TypeError(
            f"save_state: cannot write a {type(value).__name__} found in the state of {name!r} "
            "(only numbers, strings, arrays and lists/dicts of them)"
        )

    packed = pack(tree)
    if arrays:
        _atomic(folder / f"{name}.safetensors", lambda p: save_file(arrays, str(p)))
    _atomic(folder / f"{name}.json", lambda p: p.write_text(json.dumps(packed, indent=1) + "\n"))


def load_tree(folder: Path, name: str):
    """The tree ``save_tree`` wrote (arrays back in place)."""
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"load_state: {path} is missing (was the state saved with the same objects prepared?)")
    packed = json.loads(path.read_text())
    arrays_path = Path(folder) / f"{name}.safetensors"
    arrays = load_file(str(arrays_path)) if arrays_path.is_file() else {}

    def unpack(value):
        if isinstance(value, dict):
            if set(value) == {ARRAY_MARK}:
                return arrays[value[ARRAY_MARK]]
            return {k: unpack(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unpack(v) for v in value]
        return value

    return unpack(packed)


def weights_of(model) -> dict[str, np.ndarray]:
    """A model's parameters by state_dict name (tied names once each, as transformers writes them)."""
    return {name: p.data for name, p in model.named_parameters()}


def save_weights(weights: dict[str, np.ndarray], path: Path) -> None:
    contiguous = {name: np.ascontiguousarray(array) for name, array in weights.items()}
    _atomic(Path(path), lambda p: save_file(contiguous, str(p)))


def save_gradients(model, path: Path) -> None:
    """The gradients accumulated so far, when a state is saved between the sync steps of an accumulation group
    (accelerate loses them; kept here so that resuming from any batch is exact)."""
    grads = {name: np.ascontiguousarray(p.grad) for name, p in model.named_parameters() if p.grad is not None}
    if grads:
        _atomic(Path(path), lambda p: save_file(grads, str(p)))


def load_gradients(model, path: Path) -> None:
    """Gradients as ``save_gradients`` wrote them (none saved: every gradient is None)."""
    saved = load_file(str(path)) if Path(path).is_file() else {}
    for name, param in model.named_parameters():
        param.grad = saved[name].copy() if name in saved else None


def load_weights(model, path: Path) -> None:
    """Copy saved weights into ``model``'s parameters, in place (tied parameters stay one array)."""
    saved = load_file(str(path))
    params = dict(model.named_parameters())
    missing, unexpected = sorted(set(params) - set(saved)), sorted(set(saved) - set(params))
    if missing or unexpected:
        raise KeyError(
            f"{path}: the weights do not match the model: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for name, param in params.items():
        if saved[name].shape != param.data.shape:
            raise ValueError(f"{path}: {name} has shape {saved[name].shape}, the model's is {param.data.shape}")
        param.data[...] = saved[name]


def state_folder(config, output_dir, saving: bool, is_main_process: bool) -> Path:
    """The folder save_state writes (``saving``) or load_state reads: ``output_dir``, or with automatic naming
    ``project_dir/checkpoints/checkpoint_<iteration>`` (the newest, to load), the oldest deleted past total_limit."""
    if not config.automatic_checkpoint_naming:
        if output_dir is None:
            raise ValueError(
                "save_state/load_state need an output_dir (or a ProjectConfiguration with "
                "automatic_checkpoint_naming=True)"
            )
        return Path(output_dir)
    root = Path(config.project_dir) / "checkpoints"
    if not saving:
        found = sorted(root.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[-1]))
        if output_dir is not None:
            return Path(output_dir)
        if not found:
            raise FileNotFoundError(f"load_state: no checkpoint_<i> folder in {root}")
        return found[-1]
    root.mkdir(parents=True, exist_ok=True)
    if config.total_limit is not None and is_main_process:
        folders = sorted(root.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[-1]))
        for old in folders[: max(0, len(folders) + 1 - config.total_limit)]:
            shutil.rmtree(old)
    folder = root / f"checkpoint_{config.iteration}"
    if folder.exists():
        raise ValueError(
            f"Checkpoint directory {folder} ({config.iteration}) already exists. Please manually "
            "override `self.save_iteration` with what iteration to start with."
        )
    return folder

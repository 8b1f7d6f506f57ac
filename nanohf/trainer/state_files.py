"""The files of a checkpoint's training state, written atomically and read back with every fault named.

A resume trusts nothing it reads: each file may have been truncated by a full disk, edited by hand or
left over from another run. Every reader here checks the file against the *live* objects it is about
to restore (the optimizer just built over the model's parameters, the scheduler, the model) and raises
an error naming the file — and, for JSON, the key — instead of loading a partial state:

    optimizer.json / optimizer.safetensors   param groups; per parameter its non-array state (AdamW's
                                             ``step``) and its arrays (``<index>.exp_avg`` ...), every
                                             stepped parameter with the same keys, each of its shape
    scheduler.json                           every key the live scheduler's ``state_dict()`` has
    rng_state.json (rng_state_<rank>.json)   nanohf's, NumPy's and Python's generator states
    trainer_state.json                       TrainerState's fields, of the right JSON types
    training_args.json                       a JSON object (what the run was started with)

and across files: the step counts agree (``global_step`` = the scheduler's ``last_epoch`` = the largest
per-parameter ``step`` of the optimizer), so an edited ``global_step`` is caught.
"""

import json
import math
import random
from dataclasses import fields
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

from nanohf import random as nanohf_random
from nanohf.jsonfile import read_json
from nanohf.models.hub import write_atomically
from nanohf.models.safetensors_io import read_header, save_safetensors

OPTIMIZER_TENSORS, OPTIMIZER_JSON = "optimizer.safetensors", "optimizer.json"
SCHEDULER, RNG = "scheduler.json", "rng_state.json"
TRAINER_STATE, TRAINING_ARGS = "trainer_state.json", "training_args.json"
TRAINING_FILES = (OPTIMIZER_TENSORS, OPTIMIZER_JSON, SCHEDULER, RNG)  # absent with save_only_model=True
# TrainerState fields a resume cannot do without (the rest default, for files of older versions).
REQUIRED_STATE = ("epoch", "global_step", "max_steps", "log_history", "best_metric", "best_model_checkpoint")


def write_json(path: Path, obj) -> None:
    write_atomically(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the checkpoint {path.parent} cannot be resumed from")
    return path


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# --- optimizer -------------------------------------------------------------------------------------------
def save_optimizer(folder: Path, optimizer) -> None:
    """Arrays to optimizer.safetensors as ``<index>.<key>``; the rest (groups, ``step``) to optimizer.json."""
    opt_state = optimizer.state_dict()
    tensors, per_param = {}, {}
    for index, values in opt_state["state"].items():
        per_param[str(index)] = {}
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                tensors[f"{index}.{key}"] = value
            else:
                per_param[str(index)][key] = value
    save_safetensors(tensors, folder / OPTIMIZER_TENSORS)
    write_json(folder / OPTIMIZER_JSON, {"param_groups": opt_state["param_groups"], "state": per_param})


def _check_groups(path: Path, saved, live: list[dict]) -> list[dict]:
    if not isinstance(saved, list):
        raise ValueError(f"{path}: key 'param_groups' must be a list, found {type(saved).__name__}")
    if len(saved) != len(live):
        raise ValueError(f"{path}: 'param_groups' has {len(saved)} groups, the optimizer has {len(live)}")
    groups = []
    for n, (group, own) in enumerate(zip(saved, live, strict=True)):
        where = f"{path}: key 'param_groups[{n}]"
        if not isinstance(group, dict):
            raise ValueError(f"{where}' must be an object, found {type(group).__name__}")
        params = group.get("params")
        if not isinstance(params, list) or not all(_is_int(i) for i in params) or len(params) != len(own["params"]):
            raise ValueError(f"{where}.params' must list the group's {len(own['params'])} parameter indices")
        group = dict(group)
        for key, value in own.items():
            if key in ("params", "param_names"):
                continue
            if key not in group:
                raise ValueError(f"{where}.{key}' is missing (the optimizer's {key} = {value!r})")
            saved_value = group[key]
            if isinstance(value, tuple | list):  # betas: a JSON list
                ok = isinstance(saved_value, list) and len(saved_value) == len(value)
                ok = ok and all(_is_number(v) and math.isfinite(v) for v in saved_value)
                group[key] = tuple(saved_value) if ok and isinstance(value, tuple) else saved_value
            elif isinstance(value, bool) or value is None:
                ok = isinstance(saved_value, bool) or saved_value is None
            elif _is_number(value):
                ok = _is_number(saved_value) and math.isfinite(saved_value) and saved_value >= 0
            else:
                ok = type(saved_value) is type(value)
            if not ok:
                raise ValueError(f"{where}.{key}' is {saved_value!r}, not a valid value like the optimizer's {value!r}")
        # Decoupled decay multiplies each weight by (1 - lr * weight_decay): past 1 it flips signs, no decay.
        lr, decay = group.get("lr"), group.get("weight_decay")
        if _is_number(lr) and _is_number(decay) and lr * decay > 1:
            raise ValueError(f"{where}': lr * weight_decay = {lr * decay:.3g} > 1, so the decay step "
                             "(1 - lr * weight_decay) would flip the weights' signs")
        groups.append(group)
    return groups


def load_optimizer(folder: Path, optimizer, param_names: dict[int, str], global_step: int) -> dict:
    """The optimizer's state dict from the two files, checked against ``optimizer`` (just built, same params).

    ``param_names``: id(parameter) -> its name in the model, to name a parameter whose state is wrong.
    """
    json_path, tensor_path = _need(folder / OPTIMIZER_JSON), _need(folder / OPTIMIZER_TENSORS)
    meta = read_json(json_path)
    for key in ("param_groups", "state"):
        if key not in meta:
            raise ValueError(f"{json_path}: key {key!r} is missing")
    groups = _check_groups(json_path, meta["param_groups"], optimizer.param_groups)
    params = {i: p for group, own in zip(groups, optimizer.param_groups, strict=True)
              for i, p in zip(group["params"], own["params"], strict=True)}  # fmt: skip
    if not isinstance(meta["state"], dict):
        raise ValueError(f"{json_path}: key 'state' must be an object, found {type(meta['state']).__name__}")
    state: dict[int, dict] = {}
    for key, values in meta["state"].items():
        if not key.isdigit() or int(key) not in params:
            raise ValueError(f"{json_path}: key 'state.{key}' is not the index of one of the optimizer's parameters")
        if not isinstance(values, dict):
            raise ValueError(f"{json_path}: key 'state.{key}' must be an object, found {type(values).__name__}")
        state[int(key)] = dict(values)
    read_header(tensor_path)  # every way the file can be broken, named (truncated, bad header, ...)
    try:
        tensors = load_file(str(tensor_path))  # dtypes as saved (float64 moments stay float64)
    except Exception as err:  # noqa: BLE001 - the header was fine; anything else is still this file's fault
        raise ValueError(f"{tensor_path} cannot be read: {err}") from None
    for name, array in tensors.items():
        index, _, key = name.partition(".")
        if not index.isdigit() or int(index) not in state or not key:
            raise ValueError(f"{tensor_path}: tensor {name!r} belongs to no parameter listed in {json_path}'s 'state'")
        state[int(index)][key] = array
    # Every stepped parameter carries the same keys (AdamW: step, exp_avg, exp_avg_sq): one that lacks a
    # key would be silently re-initialised at its next step.
    all_keys = set().union(*state.values()) if state else set()
    for index, values in sorted(state.items()):
        name = param_names.get(id(params[index]), f"#{index}")
        for key in sorted(all_keys - set(values)):
            raise ValueError(f"{tensor_path}: the optimizer state of parameter {name!r} (index {index}) lacks "
                             f"{key!r} (tensor {index}.{key} or key 'state.{index}.{key}' in {json_path})")  # fmt: skip
        for key, value in values.items():
            shape = params[index].data.shape
            if isinstance(value, np.ndarray) and (value.shape != shape or value.dtype.kind != "f"):
                raise ValueError(f"{tensor_path}: tensor '{index}.{key}' of parameter {name!r} is {value.dtype} "
                                 f"of shape {value.shape}; the parameter is float of shape {shape}")  # fmt: skip
        step = values.get("step")
        if step is not None and not (_is_int(step) and 0 < step <= global_step):
            raise ValueError(f"{json_path}: key 'state.{index}.step' of parameter {name!r} is {step!r}, but "
                             f"trainer_state.json's global_step is {global_step}")  # fmt: skip
    steps = [v["step"] for v in state.values() if "step" in v]
    if steps and max(steps) != global_step:
        raise ValueError(f"{json_path}: the optimizer has taken {max(steps)} steps, but trainer_state.json's "
                         f"global_step is {global_step}: the files disagree (edited, or from two runs)")  # fmt: skip
    return {"state": state, "param_groups": groups}


# --- scheduler ----------------------------------------------------------------------------------------------
def load_scheduler(folder: Path, scheduler, global_step: int) -> dict:
    """scheduler.json with every key of ``scheduler.state_dict()``, of the same JSON kind and length."""
    path = _need(folder / SCHEDULER)
    saved, live = read_json(path), scheduler.state_dict()
    missing = [key for key in live if key not in saved]
    if missing:
        raise ValueError(f"{path}: key {missing[0]!r} is missing (a {type(scheduler).__name__} state has "
                         f"{sorted(live)}); resuming would restart the learning-rate schedule")  # fmt: skip
    for key, value in live.items():
        got = saved[key]
        if isinstance(value, list):
            ok = isinstance(got, list) and len(got) == len(value) and all(_is_number(v) for v in got)
        elif _is_int(value):
            ok = _is_int(got)
        elif _is_number(value):
            ok = _is_number(got)
        else:
            ok = True
        if not ok:
            raise ValueError(f"{path}: key {key!r} is {got!r}, not like the scheduler's own {value!r}")
    if "last_epoch" in live and saved["last_epoch"] != global_step:
        raise ValueError(f"{path}: key 'last_epoch' is {saved['last_epoch']}, but trainer_state.json's global_step "
                         f"is {global_step}: the files disagree (edited or from different runs)")  # fmt: skip
    if "_step_count" in live and "last_epoch" in live and saved["_step_count"] != saved["last_epoch"] + 1:
        raise ValueError(f"{path}: key '_step_count' is {saved['_step_count']}, but 'last_epoch' + 1 is "
                         f"{saved['last_epoch'] + 1}")  # fmt: skip
    return saved


# --- random generators -------------------------------------------------------------------------------------
def rng_state() -> dict:
    python = random.getstate()
    return {
        "nanohf": nanohf_random.get_generator().bit_generator.state,
        "numpy": [v.tolist() if isinstance(v, np.ndarray) else v for v in np.random.get_state()],
        "python": [python[0], list(python[1]), python[2]],
    }


def set_rng_state(state: dict, source: str = "the random state") -> None:
    """Restore the three generators; any part missing or malformed is an error naming ``source`` and the key.
    The states are tried on scratch generators first, so a bad one changes none of them."""
    if not isinstance(state, dict):
        raise ValueError(f"{source} must be a JSON object, found {type(state).__name__}")
    for key in ("nanohf", "numpy", "python"):
        if key not in state:
            raise ValueError(f"{source}: key {key!r} is missing")
    own = nanohf_random.get_generator().bit_generator
    try:
        scratch = type(own)()
        scratch.state = state["nanohf"]
    except Exception as err:  # noqa: BLE001 - numpy raises TypeError/ValueError/KeyError for a bad state
        raise ValueError(f"{source}: key 'nanohf' is not a {type(own).__name__} state ({err!r})") from None
    try:
        numpy_state = state["numpy"]
        numpy_tuple = (numpy_state[0], np.array(numpy_state[1], dtype=np.uint32), *numpy_state[2:])
        np.random.RandomState().set_state(numpy_tuple)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"{source}: key 'numpy' is not a NumPy random state ({err!r})") from None
    try:
        version, internal, gauss = state["python"]
        python_tuple = (version, tuple(internal), gauss)
        random.Random().setstate(python_tuple)
    except Exception as err:  # noqa: BLE001
        raise ValueError(f"{source}: key 'python' is not a Python random state ({err!r})") from None
    own.state = state["nanohf"]
    np.random.set_state(numpy_tuple)
    random.setstate(python_tuple)


def load_rng(path: Path) -> None:
    """Restore the generators from rng_state.json (or a rank's rng_state_<rank>.json)."""
    set_rng_state(read_json(_need(path)), str(path))


# --- trainer state, training arguments ---------------------------------------------------------------------
def _kind_ok(annotation: str, value) -> bool:
    """Whether a JSON value fits a TrainerState field annotated ``annotation`` (e.g. "int | None")."""
    if value is None:
        return "None" in annotation
    if annotation.startswith("int"):
        return _is_int(value) and value >= 0
    if annotation.startswith("float"):
        return _is_number(value) and math.isfinite(value)
    if annotation.startswith("bool"):
        return isinstance(value, bool)
    if annotation.startswith("str"):
        return isinstance(value, str)
    if annotation.startswith("list[dict]"):
        return isinstance(value, list) and all(isinstance(v, dict) for v in value)
    if annotation.startswith("list"):
        return isinstance(value, list)
    if annotation.startswith("dict"):
        return isinstance(value, dict)
    return True


def load_trainer_state(path: Path, state_class):
    """A ``TrainerState`` from ``path``: the required fields present, every known field of its type."""
    saved = read_json(_need(path))
    missing = [key for key in REQUIRED_STATE if key not in saved]
    if missing:
        raise ValueError(f"{path}: key {missing[0]!r} is missing")
    kwargs = {}
    for field in fields(state_class):
        if field.name in saved:
            annotation = field.type.__name__ if type(field.type) is type else str(field.type)  # "int | None"
            if not _kind_ok(annotation, saved[field.name]):
                raise ValueError(f"{path}: key {field.name!r} is {saved[field.name]!r}, not a valid {annotation}")
            kwargs[field.name] = saved[field.name]
    return state_class(**kwargs)


def load_training_args(path: Path) -> dict:
    """training_args.json as a dict (its content only informs: the current TrainingArguments rule)."""
    return read_json(_need(path))

"""Writing a model's weights as transformers 5 does: ``model.safetensors``, or shards and their index.

Sharding (``max_shard_size``) follows huggingface_hub's rule, on tensors taken in name order (transformers 5
sorts the state dict by name when it restores the checkpoint's original names): a shard is closed when the
next tensor would take it past the limit; a tensor larger than the limit gets a shard of its own. With more
than one shard the files are ``model-00001-of-0000N.safetensors`` and ``model.safetensors.index.json`` maps
each tensor to its file (``metadata``: ``total_parameters``, ``total_size`` in bytes).

Tied weights are one array under several names; safetensors stores no aliases, so each array is
written once, under the name the model loads it from (not a ``_tied_weights_keys`` target).
"""

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nanohf.models.configuration_utils import TRANSFORMERS_FORMAT_VERSION
from nanohf.models.hub import remove_orphaned_temporaries, write_atomically
from nanohf.models.safetensors_io import save_safetensors

if TYPE_CHECKING:
    from nanohf.models.modeling_utils import PreTrainedModel

SIZE_UNITS = {"TB": 10**12, "GB": 10**9, "MB": 10**6, "KB": 10**3}  # decimal units, as huggingface_hub
SHARD_NAME = re.compile(r"(.*?)-\d{5}-of-\d{5}")


def parse_size(size: int | str) -> int:
    """``"50GB"`` -> 50_000_000_000 bytes; an int is already bytes."""
    if isinstance(size, int):
        return size
    text = str(size).strip()
    unit = text[-2:].upper()
    if unit not in SIZE_UNITS:
        raise ValueError(f"Unit '{unit}' not supported. Supported units are TB, GB, MB, KB. Got '{size}'.")
    try:
        value = float(text[:-2].strip())
    except ValueError as err:
        raise ValueError(f"Could not parse the size value from '{size}': {err}") from None
    return int(value * SIZE_UNITS[unit])


def without_aliases(model: "PreTrainedModel", state_dict: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each array once: of names sharing an array, keep the one that is not a tied-weights target."""
    targets = set(model._tied_weights_keys)
    groups: dict[int, list[str]] = {}
    for name, array in state_dict.items():
        groups.setdefault(id(array), []).append(name)
    keep = set()
    for names in groups.values():
        keep.add(next((n for n in names if n not in targets), names[0]))
    return {name: array for name, array in state_dict.items() if name in keep}


def split_into_shards(tensors: dict[str, np.ndarray], max_shard_size: int) -> list[list[str]]:
    """Tensor names grouped into shards of at most ``max_shard_size`` bytes (huggingface_hub's greedy rule)."""
    shards: list[list[str]] = []
    current: list[str] = []
    current_size = 0
    for name, array in tensors.items():
        size = array.nbytes
        if size > max_shard_size:
            shards.append([name])
            continue
        if current_size + size > max_shard_size:
            shards.append(current)
            current, current_size = [], 0
        current.append(name)
        current_size += size
    if current:
        shards.append(current)
    return shards


def write_weights(
    model: "PreTrainedModel",
    save_directory: str | os.PathLike,
    tensors: dict[str, np.ndarray],
    max_shard_size: int | str,
    variant: str | None,
) -> list[str]:
    """Write ``tensors`` (no aliases) into ``save_directory``; returns the weight files written."""
    folder = Path(save_directory)
    remove_orphaned_temporaries(folder)  # what a save killed mid-write left behind
    weights_name = "model.safetensors" if variant is None else f"model.{variant}.safetensors"
    index_name = "model.safetensors.index.json" if variant is None else f"model.safetensors.index.{variant}.json"
    stem = weights_name[: -len(".safetensors")]
    tensors = dict(sorted(tensors.items()))
    shards = split_into_shards(tensors, parse_size(max_shard_size))
    if len(shards) == 1:
        files = {weights_name: shards[0]}
    else:
        files = {f"{stem}-{i + 1:05d}-of-{len(shards):05d}.safetensors": names for i, names in enumerate(shards)}

    # Files of an earlier save that this one does not replace: old shards (as transformers removes them), and
    # also the single file or the index of the other layout, which transformers leaves behind and which would
    # then be loaded instead of the new weights.
    for path in folder.iterdir():
        stale_shard = SHARD_NAME.fullmatch(path.name.removesuffix(".safetensors")) and path.name.startswith(stem)
        other_layout = path.name == (index_name if len(files) == 1 else weights_name)
        if path.is_file() and path.name not in files and (stale_shard or other_layout):
            path.unlink()

    for filename, names in files.items():
        save_safetensors({name: tensors[name] for name in names}, folder / filename)
    if len(files) > 1:
        index = {
            "metadata": {
                "total_parameters": model.num_parameters(),
                "total_size": sum(array.nbytes for array in tensors.values()),
            },
            "weight_map": {name: filename for filename, names in files.items() for name in names},
        }
        write_atomically(folder / index_name, (json.dumps(index, indent=2, sort_keys=True) + "\n").encode())
    return list(files)


def write_generation_config(model: "PreTrainedModel", save_directory: str | os.PathLike) -> None:
    """``generation_config.json`` beside the weights of a model that can generate, as transformers writes it.

    A generation config that is just the model config's token ids (no ``generation_config.json`` was loaded,
    or it held nothing else) is written as transformers writes one: ``"_from_model_config": true``, those
    ids, and the model config's ``output_attentions`` / ``output_hidden_states`` / ``use_cache``. Any other
    is written as its settings that differ from what the model config gives (both libraries fill the rest from
    the model config again), so a reloaded model generates the same way.
    """
    from dataclasses import asdict

    from nanohf.generation import GenerationConfig  # generation.py is imported only for models that generate

    settings = asdict(model.generation_config)
    from_model = asdict(GenerationConfig.from_model_config(model.config))
    if settings == from_model:
        out: dict = {"_from_model_config": True}
        out.update({k: v for k, v in from_model.items() if v is not None and v != getattr(GenerationConfig, k, None)})
        for key in ("output_attentions", "output_hidden_states", "use_cache"):
            if hasattr(model.config, key):
                out[key] = getattr(model.config, key)
    else:  # the settings beyond what the model config gives (it is read again with the model)
        out = {k: v for k, v in settings.items() if v != from_model[k]}
    out["transformers_version"] = TRANSFORMERS_FORMAT_VERSION
    text = json.dumps(out, indent=2, sort_keys=True) + "\n"
    write_atomically(Path(save_directory) / "generation_config.json", text.encode())

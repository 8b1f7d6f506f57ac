"""PreTrainedModel: what every model shares — weight init, input checks, from_pretrained and
save_pretrained in transformers' file formats and tensor names.

Loading, step by step (``from_pretrained``):

1. find the weights: ``model.safetensors``, or the shards listed in
   ``model.safetensors.index.json`` (a ``pytorch_model.bin`` pickle is never opened);
2. rename checkpoint keys onto ours: add or strip the base-model prefix (``bert.``) when a
   head model loads a base checkpoint or the other way round, legacy ``LayerNorm.gamma/beta``;
3. copy each tensor into its Parameter, checking its shape against the config;
4. report keys the checkpoint lacks (freshly initialised, e.g. a new classifier head) and keys
   the model does not use, as transformers does.
"""

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from nanohf.models.config_validation import validate_config
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.hub import resolve_checkpoint_dir
from nanohf.models.inputs import check_model_inputs
from nanohf.models.safetensors_io import load_safetensors, save_safetensors
from nanohf.nn.layers import Embedding, LayerNorm, Linear
from nanohf.nn.module import Module, ModuleList, Parameter
from nanohf.random import get_generator

logger = logging.getLogger("nanohf")

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PICKLE_NAMES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


class PreTrainedModel(Module):
    config_class: type[PretrainedConfig] = PretrainedConfig
    base_model_prefix: str = ""
    # Patterns of checkpoint keys that are buffers, not weights, in transformers' files: skipped silently.
    _keys_to_ignore_on_load: tuple[str, ...] = (r"\.position_ids$", r"\.token_type_ids$")
    # target name -> source name of parameters shared with the input embeddings.
    _tied_weights_keys: dict[str, str] = {}

    def __init__(self, config: PretrainedConfig):
        validate_config(config)  # types, ranges, token ids, size: before any layer is built
        self.config = config

    @property
    def base_model(self) -> "PreTrainedModel":
        """The model a head sits on (``self.bert``, ``self.distilbert``, …), or the model itself when it has none."""
        return getattr(self, self.base_model_prefix, self)

    # --- construction ------------------------------------------------------------------------
    def post_init(self) -> None:
        """Called at the end of a model's ``__init__``: tie weights, then initialise them."""
        self.tie_weights()
        if not _skip_init:
            for _, module in self.named_modules():
                self._init_weights(module)
        self.eval()

    def tie_weights(self) -> None:
        """Make each tied target the same Parameter object as its source (one weight, two names)."""
        if not getattr(self.config, "tie_word_embeddings", True):
            return
        for target, source in self._tied_weights_keys.items():
            owner_name, attr = target.rsplit(".", 1)
            setattr(self.get_submodule(owner_name), attr, self.get_parameter(source))

    def _init_weights(self, module: Module) -> None:
        """transformers' init: normal(0, initializer_range) weights, zero biases, unit LayerNorm.

        A module may carry ``init_std_scale`` (GPT-2 scales its residual projections by 1/√(2·layers)).
        """
        std = self.config.initializer_range * getattr(module, "init_std_scale", 1.0)
        rng = get_generator()
        if isinstance(module, Linear):
            module.weight.data[...] = rng.normal(0.0, std, module.weight.shape)
            if module.bias is not None:
                module.bias.data[...] = 0.0
        elif isinstance(module, Embedding):
            module.weight.data[...] = rng.normal(0.0, std, module.weight.shape)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx] = 0.0
        elif isinstance(module, LayerNorm):
            module.weight.data[...] = 1.0
            module.bias.data[...] = 0.0
        else:  # parameters a module owns directly (e.g. BERT's MLM output bias) start at zero
            for value in vars(module).values():
                if isinstance(value, Parameter):
                    value.data[...] = 0.0

    def get_submodule(self, name: str) -> Module:
        module: Module = self
        for part in name.split(".") if name else []:
            module = getattr(module, part)
        return module

    def get_parameter(self, name: str) -> Parameter:
        owner, attr = name.rsplit(".", 1) if "." in name else ("", name)
        return getattr(self.get_submodule(owner), attr)

    def to(self, dtype) -> "PreTrainedModel":
        """Cast every parameter to ``dtype`` (float32 by default; float64 for gradient checks)."""
        for param in self.parameters():
            param.data = param.data.astype(dtype)
        return self

    @property
    def dtype(self) -> np.dtype:
        return next(iter(self.parameters())).data.dtype

    # --- inputs -----------------------------------------------------------------------------------
    def check_inputs(
        self,
        input_ids: np.ndarray,
        attention_mask: np.ndarray | None = None,
        token_type_ids: np.ndarray | None = None,
        position_ids: np.ndarray | None = None,
        **kwargs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Validate the model inputs; returns ``(input_ids, attention_mask)`` as arrays (models/inputs.py;
        ``past_length=`` for a decoder with a cache, ``prefix="decoder_"`` for an encoder-decoder's decoder)."""
        return check_model_inputs(self.config, input_ids, attention_mask, token_type_ids, position_ids, **kwargs)

    # --- loading --------------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        config: PretrainedConfig | None = None,
        output_loading_info: bool = False,
        ignore_mismatched_sizes: bool = False,
        dtype: Any = None,
        **config_overrides: Any,
    ):
        """Build the model from ``config.json`` (plus ``config_overrides`` such as ``num_labels=3``)
        and load ``model.safetensors``; returns the model in eval mode."""
        folder = resolve_checkpoint_dir(pretrained_model_name_or_path)
        if config is None:
            config = cls.config_class.from_pretrained(folder, **config_overrides)
            config._name_or_path = str(pretrained_model_name_or_path)
        state_dict = load_checkpoint(folder)

        global _skip_init
        _skip_init = True  # every weight is about to be overwritten or initialised below
        try:
            model = cls(config)
        finally:
            _skip_init = False

        # The arrays were just read from the file and belong to nobody else: the parameters adopt them.
        info = model.load_state_dict(state_dict, strict=False, ignore_mismatched_sizes=ignore_mismatched_sizes,
                                     assign=True)  # fmt: skip
        _report_loading(model, pretrained_model_name_or_path, info)
        if dtype not in (None, "auto"):
            model.to(np.dtype(dtype))
        model.eval()
        return (model, info) if output_loading_info else model

    def load_state_dict(
        self,
        state_dict: dict[str, np.ndarray],
        strict: bool = True,
        ignore_mismatched_sizes: bool = False,
        assign: bool = False,
    ) -> dict[str, list]:
        """Copy checkpoint tensors into the parameters; returns transformers' loading info.

        A parameter with several names (tied weights) is loaded from whichever name the
        checkpoint has. Parameters the checkpoint lacks are initialised as a new model's would be.
        ``assign=True`` (torch's name) makes a parameter take the array itself, without a copy, when it
        already has the parameter's dtype and is contiguous and writable: for arrays nobody else holds.
        """
        checkpoint_name = self._map_checkpoint_keys(state_dict)  # our name -> the file's name
        names_of: dict[int, list[str]] = {}
        params: dict[int, Parameter] = {}
        for name, param in self.named_parameters(remove_duplicate=False):
            names_of.setdefault(id(param), []).append(name)
            params[id(param)] = param
        param_by_name = {name: params[pid] for pid, names in names_of.items() for name in names}

        loaded: set[int] = set()
        adopted: set[int] = set()  # arrays a parameter took as its own (assign=True): never given to two
        mismatched: list[tuple[str, tuple, tuple]] = []
        for key, file_key in checkpoint_name.items():
            param, array = param_by_name.get(key), state_dict[file_key]
            if param is None or id(param) in loaded:
                continue
            if array.shape != param.data.shape:
                if not ignore_mismatched_sizes:
                    raise ValueError(
                        f"checkpoint tensor {file_key!r} has shape {array.shape}, but the model (from its config) "
                        f"expects {param.data.shape}; pass ignore_mismatched_sizes=True to re-initialise it"
                    )
                mismatched.append((key, array.shape, param.data.shape))
                continue
            adoptable = (assign and array.dtype == param.data.dtype and array.flags.c_contiguous
                         and array.flags.writeable and id(array) not in adopted)  # fmt: skip
            param.data = array if adoptable else np.array(array, dtype=param.data.dtype)  # own, writable copy
            adopted.add(id(array))
            loaded.add(id(param))

        not_loaded = [names_of[pid][0] for pid in names_of if pid not in loaded]
        mismatched_names = {key for key, _, _ in mismatched}
        missing = [name for name in not_loaded if name not in mismatched_names]
        unexpected = [
            file_key
            for key, file_key in checkpoint_name.items()
            if key not in param_by_name and not self._is_ignored(key)
        ]
        if strict and (missing or unexpected):
            raise ValueError(f"loading state dict: missing keys {missing}, unexpected keys {unexpected}")
        self._init_missing(not_loaded, loaded)
        self.tie_weights()
        return {
            "missing_keys": missing,
            "unexpected_keys": unexpected,
            "mismatched_keys": mismatched,
            "error_msgs": [],
        }

    def _init_missing(self, names: list[str], loaded: set[int]) -> None:
        """Initialise the named parameters as a new model would, leaving every loaded one untouched.

        ``_init_weights`` works a module at a time, so the loaded parameters of a module that also
        owns missing ones (a shared, tied embedding; a bias present without its weight) are set aside
        and put back.
        """
        owners = {name.rsplit(".", 1)[0] if "." in name else "" for name in names}
        for owner in sorted(owners):
            module = self.get_submodule(owner)
            kept = {
                attr: value.data.copy()
                for attr, value in vars(module).items()
                if isinstance(value, Parameter) and id(value) in loaded
            }
            self._init_weights(module)
            for attr, data in kept.items():
                getattr(module, attr).data = data

    def _map_checkpoint_keys(self, state_dict: dict[str, np.ndarray]) -> dict[str, str]:
        """Our parameter name for each checkpoint key (base-model prefix, legacy LayerNorm names)."""
        own = {name for name, _ in self.named_parameters(remove_duplicate=False)}
        prefix = self.base_model_prefix + "."
        model_has_prefix = any(name.startswith(prefix) for name in own)
        ckpt_has_prefix = any(key.startswith(prefix) for key in state_dict)
        mapping = {}
        for file_key in state_dict:
            key = file_key
            for old, new in ((".gamma", ".weight"), (".beta", ".bias")):  # TF-era LayerNorm names
                if key.endswith(old) and key not in own:
                    key = key[: -len(old)] + new
            if model_has_prefix and not ckpt_has_prefix:
                key = prefix + key  # a head model loading a base-model checkpoint
            elif not model_has_prefix and ckpt_has_prefix and key.startswith(prefix):
                key = key[len(prefix) :]  # a base model loading a head-model checkpoint
            mapping[key] = file_key
        return mapping

    def _is_ignored(self, key: str) -> bool:
        return any(re.search(pattern, key) for pattern in self._keys_to_ignore_on_load)

    # --- saving ---------------------------------------------------------------------------
    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        """Write ``config.json`` and ``model.safetensors`` (tied copies omitted, as transformers does)."""
        os.makedirs(save_directory, exist_ok=True)
        self.config.architectures = [type(self).__name__]
        self.config.dtype = str(self.dtype)  # what is written, whatever the loaded file held
        self.config.save_pretrained(save_directory)
        tensors = {name: param.data for name, param in self.named_parameters()}
        save_safetensors(tensors, Path(save_directory) / WEIGHTS_NAME)


_skip_init = False


class LayerStack(Module):
    """``layer``: a list of layers, each ``(hidden_states, mask) -> (hidden_states, attention probs)``, run in
    order (BERT's ``encoder``, DistilBERT's ``transformer``); the backward runs them in reverse."""

    def __init__(self, layers: list[Module]):
        self.layer = ModuleList(layers)

    def forward(self, hidden_states, mask, output_hidden_states=False, output_attentions=False):
        return run_layers(self.layer, hidden_states, mask, output_hidden_states, output_attentions)

    def backward(self, d_hidden_states) -> np.ndarray:
        for layer in reversed(list(self.layer)):
            d_hidden_states = layer.backward(d_hidden_states)
        return d_hidden_states


def run_layers(layers, hidden_states, mask, output_hidden_states=False, output_attentions=False):
    """Run a stack of layers, each ``(hidden_states, mask) -> (hidden_states, attention probs)``.

    Returns ``(last_hidden_state, hidden_states or None, attentions or None)``; like transformers,
    ``hidden_states`` holds the embeddings followed by every layer's output.
    """
    all_hidden = [hidden_states] if output_hidden_states else None
    all_attentions = [] if output_attentions else None
    for layer in layers:
        hidden_states, probs = layer(hidden_states, mask)
        if output_hidden_states:
            all_hidden.append(hidden_states)
        if output_attentions:
            all_attentions.append(probs)
    return (
        hidden_states,
        None if all_hidden is None else tuple(all_hidden),
        None if all_attentions is None else tuple(all_attentions),
    )


def load_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """All tensors of a checkpoint folder: one safetensors file or its shards."""
    single, index = folder / WEIGHTS_NAME, folder / WEIGHTS_INDEX_NAME
    if single.is_file():
        return load_safetensors(single)
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ValueError(f"{index} is not a valid shard index (JSON with a 'weight_map'): {err!r}") from None
        state_dict: dict[str, np.ndarray] = {}
        for shard in sorted(set(weight_map.values())):
            state_dict.update(load_safetensors(folder / shard))
        return state_dict
    pickles = [name for name in PICKLE_NAMES if (folder / name).is_file()]
    if pickles:
        raise OSError(
            f"{folder} has only {pickles[0]}, a pickle, which nanohf never unpickles (it can run arbitrary "
            f"code). Convert it once with transformers: AutoModel.from_pretrained(folder)"
            f".save_pretrained(folder) writes model.safetensors beside it."
        )
    raise FileNotFoundError(f"{folder} has no {WEIGHTS_NAME} (nor {WEIGHTS_INDEX_NAME}): no weights to load")


def _report_loading(model: PreTrainedModel, source: Any, info: dict[str, list]) -> None:
    name = type(model).__name__
    if info["unexpected_keys"]:
        logger.warning(
            f"Some weights of the checkpoint at {source} were not used when initializing {name}: "
            f"{info['unexpected_keys']}"
        )
    if info["missing_keys"]:
        logger.warning(
            f"Some weights of {name} were not initialized from the checkpoint at {source} and are newly "
            f"initialized: {info['missing_keys']}\nYou should probably TRAIN this model on a down-stream task "
            f"to be able to use it for predictions and inference."
        )
    for key, ckpt_shape, model_shape in info["mismatched_keys"]:
        logger.warning(f"{key}: checkpoint shape {ckpt_shape} != model shape {model_shape}; newly initialized")

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

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from nanohf.jsonfile import read_json
from nanohf.models.config_validation import validate_config
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.embedding_access import EmbeddingAccessMixin
from nanohf.models.hub import hub_upload_error, resolve_checkpoint_dir
from nanohf.models.inputs import check_model_inputs
from nanohf.models.safetensors_io import load_safetensors
from nanohf.models.saving import without_aliases, write_generation_config, write_weights
from nanohf.nn.layers import Embedding
from nanohf.nn.module import Module, Parameter, check_cpu_device, is_device

logger = logging.getLogger("nanohf")

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
PICKLE_NAMES = ("pytorch_model.bin", "pytorch_model.bin.index.json")


class PreTrainedModel(EmbeddingAccessMixin, Module):
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

    def tie_weights(self, missing_keys: set[str] | None = None, recompute_mapping: bool = True) -> None:
        """Make each tied target the same Parameter object as its source (one weight, two names).

        (transformers' two arguments steer its loader's bookkeeping; here the ties are always those of
        ``_tied_weights_keys``, so they change nothing.)"""
        if not getattr(self.config, "tie_word_embeddings", True):
            return
        for target, source in self._tied_weights_keys.items():
            owner_name, attr = target.rsplit(".", 1)
            setattr(self.get_submodule(owner_name), attr, self.get_parameter(source))

    def _init_weights(self, module: Module) -> None:
        """transformers' init, by the module's type: its own ``reset_parameters(std)`` (torch's name) with
        ``std = config.initializer_range`` — Linear and Embedding normal(0, std) with zero biases and padding
        row, LayerNorm 1 and 0 (nanohf/nn/layers.py), a model's extra parameters in its own class (BERT's MLM
        bias, BART's ``final_logits_bias``: 0). A module type without ``reset_parameters`` keeps the values
        its constructor gave (a new norm class starts at its ones, never at 0).

        A module may carry ``init_std_scale`` (GPT-2 scales its residual projections by 1/√(2·layers)).
        """
        reset = getattr(module, "reset_parameters", None)
        if reset is not None:
            reset(self.config.initializer_range * getattr(module, "init_std_scale", 1.0))

    # to(), float(), double(), half(), cpu(), cuda(): nanohf/nn/module.py (a model is always on the CPU).
    @property
    def dtype(self) -> np.dtype:
        return next(iter(self.parameters())).data.dtype

    @property
    def device(self) -> str:
        """Always ``"cpu"``: nanohf has no other device (``model.to(model.device)`` and ``.to("cpu")`` work)."""
        return "cpu"

    def num_parameters(self, only_trainable: bool = False, exclude_embeddings: bool = False) -> int:
        """Number of parameters, each tied weight counted once (as transformers), buffers not at all.

        ``exclude_embeddings`` leaves out the weights of every Embedding (token, position and type tables);
        ``only_trainable`` counts only ``requires_grad`` parameters.
        """
        embedding_names = set()
        if exclude_embeddings:
            embedding_names = {f"{name}.weight" if name else "weight" for name, module in self.named_modules()
                               if isinstance(module, Embedding)}  # fmt: skip
        total = 0
        for name, param in self.named_parameters():
            if param.is_buffer or name in embedding_names or (only_trainable and not param.requires_grad):
                continue
            total += param.numel()
        return total

    def get_memory_footprint(self, return_buffers: bool = True) -> int:
        """Bytes held by the parameters (each tied weight once), and by the buffers unless ``return_buffers=False``.
        (transformers' number also counts its integer index buffers, ``position_ids``, which nanohf computes.)"""
        return sum(p.data.nbytes for p in self.parameters() if return_buffers or not p.is_buffer)

    def get_parameter_or_buffer(self, target: str) -> Parameter:
        """The parameter or buffer at a dotted name (buffers are Parameters here, see ``named_buffers``)."""
        return self.get_parameter(target)

    def initialize_weights(self) -> None:
        """Initialise every module as a new model is (``_init_weights`` on each)."""
        for module in self.modules():
            self._init_weights(module)

    def init_weights(self) -> None:
        """Initialise the weights, then tie them (transformers' ``init_weights``)."""
        self.initialize_weights()
        self.tie_weights()

    def get_position_embeddings(self):
        raise NotImplementedError(f"`get_position_embeddings` is not implemented for {type(self).__name__}")

    def resize_position_embeddings(self, new_num_position_embeddings: int):
        raise NotImplementedError(f"`resize_position_embeddings` is not implemented for {type(self).__name__}")

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None, **kwargs: Any) -> None:
        """Accepted, and changes nothing: nanohf has no activation checkpointing. Its layers keep what their
        backward needs and recompute a few large activations already (docs/speed.md); memory use stays as it is,
        so ``is_gradient_checkpointing`` stays False."""
        logger.warning(
            f"{type(self).__name__}.gradient_checkpointing_enable(): nanohf does not checkpoint activations (its "
            f"layers already recompute the largest ones); memory use does not change"
        )

    def gradient_checkpointing_disable(self) -> None:
        """Nothing to turn off (see ``gradient_checkpointing_enable``)."""

    @property
    def is_gradient_checkpointing(self) -> bool:
        return False

    @classmethod
    def is_remote_code(cls) -> bool:
        """False: nanohf never runs code that comes with a checkpoint."""
        return False

    @classmethod
    def is_custom_code(cls) -> bool:
        """Whether the class is defined outside nanohf (a user's own model class)."""
        return not cls.__module__.startswith("nanohf.")

    def warn_if_padding_and_no_attention_mask(self, input_ids: np.ndarray, attention_mask: np.ndarray | None) -> None:
        """Warn (once) when no attention mask is given but the first or last column holds the pad id."""
        pad = self.config.pad_token_id
        if attention_mask is not None or pad is None:
            return
        if pad in np.asarray(input_ids)[:, [-1, 0]]:
            message = (
                "We strongly recommend passing in an `attention_mask` since your input_ids may be padded. See "
                "https://huggingface.co/docs/transformers/troubleshooting"
                "#incorrect-output-when-padding-tokens-arent-masked."
            )
            specials = (self.config.bos_token_id, self.config.eos_token_id, getattr(self.config, "sep_token_id", None))
            if pad in [t for t in specials if t is not None]:
                message += (
                    f"\nYou may ignore this warning if your `pad_token_id` ({pad}) is identical to the `bos_token_id` "
                    f"({specials[0]}), `eos_token_id` ({specials[1]}), or the `sep_token_id` ({specials[2]}), and your "
                    f"input is not padded."
                )
            if message not in _WARNED:
                _WARNED.add(message)
                logger.warning(message)

    @classmethod
    def can_generate(cls) -> bool:
        """Whether ``generate()`` works: the class inherits ``GenerationMixin`` (GPT-2's LM head, BART's
        conditional generation), as transformers decides it."""
        from nanohf.generation import GenerationMixin  # generation.py is imported only when asked about

        return issubclass(cls, GenerationMixin)

    def push_to_hub(self, repo_id: str | None = None, *args: Any, **kwargs: Any):
        raise hub_upload_error("model")

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
        if dtype is None:
            dtype = config_overrides.pop("torch_dtype", None)  # the name before transformers 5
        check_loading_kwargs(cls, config_overrides)
        if config is None:
            config, unused = cls.config_class.from_pretrained(folder, return_unused_kwargs=True, **config_overrides)
            config._name_or_path = str(pretrained_model_name_or_path)
            unused = {k: v for k, v in unused.items() if k not in MODEL_LOADING_KWARGS}
            if unused:  # transformers hands these to the model's __init__, which refuses them
                raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument {next(iter(unused))!r}")
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
            model.to(dtype=dtype)
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
    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        is_main_process: bool = True,
        state_dict: dict[str, np.ndarray] | None = None,
        push_to_hub: bool = False,
        max_shard_size: int | str = "50GB",
        variant: str | None = None,
        token: str | bool | None = None,
        save_peft_format: bool = True,
        save_original_format: bool = True,
        distributed_checkpoint: bool = False,
        **kwargs: Any,
    ) -> None:
        """Write ``config.json`` and the weights: ``model.safetensors``, or shards of at most ``max_shard_size``
        with ``model.safetensors.index.json`` (nanohf/models/saving.py); tied copies are written once.

        As in transformers 5: ``is_main_process=False`` writes nothing (the other ranks of a distributed run);
        ``state_dict`` is saved instead of the model's own; ``variant`` names ``model.<variant>.safetensors``.
        transformers 5 always writes safetensors and takes ``save_function`` and ``safe_serialization`` only
        for compatibility (its ``**kwargs``), never calling ``save_function``: the same here. ``push_to_hub``
        is an error (nanohf never uploads). The peft and distributed options have nothing to act on here.
        """
        if push_to_hub:
            raise hub_upload_error("model")
        if os.path.isfile(save_directory):
            logger.error(f"Provided path ({save_directory}) should be a directory, not a file")
            return
        os.makedirs(save_directory, exist_ok=True)
        if not is_main_process:
            return
        if state_dict is None:
            state_dict = self.state_dict()
        tensors = {name: np.asarray(array) for name, array in state_dict.items()}
        # The weights first, config.json last: every file is replaced atomically, so a save killed part way
        # through a first save never leaves a config without its weights (a folder that says it is a model).
        write_weights(self, save_directory, without_aliases(self, tensors), max_shard_size, variant)
        self.config.architectures = [type(self).__name__]
        self.config.dtype = str(self.dtype)  # what is written, whatever the loaded file held
        if self.can_generate():
            write_generation_config(self, save_directory)
        self.config.save_pretrained(save_directory)


_skip_init = False
_WARNED: set[str] = set()  # messages given once per process (transformers' warning_once)


# transformers' from_pretrained options that have nothing to act on here (the hub, devices, torch): accepted.
MODEL_LOADING_KWARGS = frozenset({
    "cache_dir", "force_download", "local_files_only", "token", "revision", "use_safetensors", "weights_only",
    "proxies", "trust_remote_code", "device_map", "max_memory", "offload_folder", "offload_state_dict",
    "offload_buffers", "low_cpu_mem_usage", "variant", "subfolder", "attn_implementation", "_from_auto",
    "_from_pipeline", "_commit_hash", "key_mapping", "tp_plan", "tp_size", "device_mesh", "adapter_kwargs",
    "adapter_name", "use_auth_token",
})  # fmt: skip
QUANTIZATION_KWARGS = ("load_in_8bit", "load_in_4bit", "quantization_config", "gguf_file")


def check_loading_kwargs(cls: type, kwargs: dict[str, Any]) -> None:
    """A ``device_map`` must keep everything on the CPU; quantized loading is refused with the reason."""
    for key in QUANTIZATION_KWARGS:
        if kwargs.get(key):
            raise TypeError(
                f"{cls.__name__}.from_pretrained({key}=...): quantized weights (bitsandbytes, GPTQ, GGUF, ...) need "
                f"their torch kernels; nanohf computes in float32 (float64 for checks) and loads float checkpoints only"
            )
    device_map = kwargs.get("device_map")
    devices = list(device_map.values()) if isinstance(device_map, dict) else [device_map]
    for device in devices:
        if device is not None and device not in ("auto", "balanced", "balanced_low_0", "sequential", "disk"):
            if is_device(device):
                check_cpu_device(device)


def load_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """All tensors of a checkpoint folder: one safetensors file or its shards."""
    single, index = folder / WEIGHTS_NAME, folder / WEIGHTS_INDEX_NAME
    if single.is_file():
        return load_safetensors(single)
    if index.is_file():
        weight_map = read_json(index).get("weight_map")
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise ValueError(f"{index} is not a valid shard index: 'weight_map' must map tensor names to file names")
        if not weight_map:
            raise ValueError(f"{index}: 'weight_map' lists no tensors, so the shards it indexes cannot be found")
        state_dict: dict[str, np.ndarray] = {}
        for shard in sorted(set(weight_map.values())):
            # A shard's name is data: a plain file name in this folder, never a path out of it.
            if Path(shard).name != shard or shard in ("", ".", ".."):
                raise ValueError(f"{index}: shard {shard!r} is not a file name in {folder}; refusing to read it")
            if not (folder / shard).is_file():
                raise FileNotFoundError(f"{index} lists the shard {shard!r}, which is not in {folder}")
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

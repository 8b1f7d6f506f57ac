"""PretrainedConfig: a model's hyper-parameters, read from and written to ``config.json``.

The same fields, defaults and JSON as transformers, so a config written by either library
loads in the other. Keys a config class does not know are kept as attributes and written
back on save (a round trip loses nothing).
"""

import copy
import inspect
import json
import logging
import math
import os
from typing import Any

import numpy as np

from nanohf.jsonfile import read_json
from nanohf.models.config_validation import id2label_from_json
from nanohf.models.hub import hub_upload_error, resolve_file, write_atomically

logger = logging.getLogger("nanohf")

CONFIG_NAME = "config.json"
PROBLEM_TYPES = ("regression", "single_label_classification", "multi_label_classification")


class PretrainedConfig:
    model_type: str = ""
    # Alternative names for fields, as transformers' ``attribute_map`` (DistilBERT: hidden_size -> dim).
    attribute_map: dict[str, str] = {}

    def __init__(
        self,
        *,
        id2label: dict | None = None,
        label2id: dict | None = None,
        num_labels: int | None = None,
        problem_type: str | None = None,
        architectures: list[str] | None = None,
        return_dict: bool = True,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
        dtype: str | None = None,
        chunk_size_feed_forward: int = 0,
        is_encoder_decoder: bool = False,
        pad_token_id: int | None = None,
        bos_token_id: int | None = None,
        eos_token_id: int | list[int] | None = None,
        tie_word_embeddings: bool = True,
        **kwargs: Any,
    ):
        self.architectures = architectures
        self.return_dict = return_dict
        self.output_hidden_states = output_hidden_states
        self.output_attentions = output_attentions
        # Older configs say "torch_dtype"; transformers 5 renamed it "dtype".
        self.dtype = dtype if dtype is not None else kwargs.pop("torch_dtype", None)
        self.chunk_size_feed_forward = chunk_size_feed_forward
        self.is_encoder_decoder = is_encoder_decoder
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.eos_token_id = eos_token_id
        self.tie_word_embeddings = tie_word_embeddings

        # Labels: id2label is the source of truth; num_labels is derived from it.
        if id2label is None:
            self.num_labels = num_labels if num_labels is not None else 2
        else:
            self.id2label = id2label_from_json(id2label)  # JSON keys are strings
            self.label2id = label2id
            if num_labels is not None and num_labels != len(self.id2label):
                logger.warning(f"num_labels={num_labels} disagrees with id2label of length {len(self.id2label)}")
        if problem_type is not None and problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type must be one of {PROBLEM_TYPES}, got {problem_type!r}")
        if problem_type == "single_label_classification" and self.num_labels == 1:
            raise ValueError('problem_type="single_label_classification" needs num_labels > 1')
        self.problem_type = problem_type

        self._name_or_path = str(kwargs.pop("name_or_path", kwargs.pop("_name_or_path", "")))
        # Everything else (transformers_version, fields of newer versions, user keys) is kept as is.
        for key, value in kwargs.items():
            setattr(self, key, value)

    # --- labels ---------------------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @num_labels.setter
    def num_labels(self, num_labels: int) -> None:
        if getattr(self, "id2label", None) is None or len(self.id2label) != num_labels:
            self.id2label = {i: f"LABEL_{i}" for i in range(num_labels)}
            self.label2id = {label: i for i, label in self.id2label.items()}

    # --- aliases (attribute_map) ------------------------------------------------------------
    def __setattr__(self, key: str, value: Any) -> None:
        key = type(self).attribute_map.get(key, key)
        super().__setattr__(key, value)

    def __getattr__(self, key: str) -> Any:
        # Only called when normal lookup fails: try the alias.
        attribute_map = type(self).attribute_map
        if key in attribute_map:
            return getattr(self, attribute_map[key])
        raise AttributeError(f"{type(self).__name__} has no attribute {key!r}")

    @property
    def name_or_path(self) -> str:
        return self._name_or_path

    # --- dict and JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Every field, as transformers' ``to_dict``: ``model_type``, ``_name_or_path`` and ``transformers_version``
        included, label ids as ints (JSON writes them as strings), tuples as lists."""
        out = {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_")}
        out["_name_or_path"] = self._name_or_path
        out["model_type"] = self.model_type
        out["transformers_version"] = TRANSFORMERS_FORMAT_VERSION
        out = {k: _lists_for_tuples(v) for k, v in out.items()}
        _dtype_to_str(out)
        return dict(sorted(out.items()))

    def to_diff_dict(self) -> dict[str, Any]:
        """What ``config.json`` holds (transformers' rule): every field of this model type, and of the fields all
        configs share (``TRANSFORMERS_BASE_FIELDS``) those that differ from the shared default or from this class's
        own default; ``transformers_version`` always, ``_name_or_path`` never."""
        base_defaults = {k: v for k, v in PretrainedConfig().to_dict().items() if k in TRANSFORMERS_BASE_FIELDS}
        class_defaults = type(self)._init_defaults()
        diff = {}
        for key, value in self.to_dict().items():
            if (
                key not in base_defaults
                or key == "transformers_version"
                or value != base_defaults[key]
                or value != class_defaults.get(key, value)
            ):
                diff[key] = value
        diff.pop("_name_or_path", None)
        return diff

    @classmethod
    def _init_defaults(cls) -> dict[str, Any]:
        """The non-None defaults of the ``__init__`` parameters of this class and its bases (subclass first):
        what transformers' dataclass configs call their field defaults."""
        defaults: dict[str, Any] = {}
        for klass in cls.__mro__:
            init = klass.__dict__.get("__init__")
            if init is None or not issubclass(klass, PretrainedConfig):
                continue
            for name, param in inspect.signature(init).parameters.items():
                if param.default is not inspect.Parameter.empty and param.default is not None:
                    defaults.setdefault(name, param.default)
        return defaults

    def to_json_string(self, use_diff: bool = True) -> str:
        """JSON of ``to_diff_dict()`` (``use_diff=True``, what ``save_pretrained`` writes) or of ``to_dict()``;
        infinities and NaN written as ``{"__float__": "Infinity"}`` as transformers writes them."""
        config_dict = self.to_diff_dict() if use_diff else self.to_dict()
        return json.dumps(_encode_special_floats(config_dict), indent=2, sort_keys=True) + "\n"

    def to_json_file(self, json_file_path: str | os.PathLike, use_diff: bool = True) -> None:
        """Write ``to_json_string(use_diff)`` to ``json_file_path`` (atomically)."""
        write_atomically(json_file_path, self.to_json_string(use_diff=use_diff).encode("utf-8"))

    def update(self, config_dict: dict[str, Any]) -> None:
        """Set every ``key: value`` of ``config_dict`` as an attribute (aliases and ``num_labels`` included)."""
        for key, value in config_dict.items():
            setattr(self, key, value)

    def update_from_string(self, update_str: str) -> None:
        """``"n_embd=10,resid_pdrop=0.2,scale_attn_weights=false"``: each key must exist; the value is parsed as
        the type of the current value (bool, int, float or str)."""
        for item in update_str.split(","):
            key, text = item.split("=")
            if not hasattr(self, key):
                raise ValueError(f"key {key} isn't in the original config dict")
            old = getattr(self, key)
            if isinstance(old, bool):
                if text.lower() not in ("true", "1", "y", "yes", "false", "0", "n", "no"):
                    raise ValueError(f"can't derive true or false from {text} (key {key})")
                value: Any = text.lower() in ("true", "1", "y", "yes")
            elif isinstance(old, int):
                value = int(text)
            elif isinstance(old, float):
                value = float(text)
            elif isinstance(old, str):
                value = text
            else:
                raise TypeError(f"You can only update int, float, bool or string values in the config, got {text} "
                                f"for key {key}")  # fmt: skip
            setattr(self, key, value)

    def get_text_config(self, decoder: bool | None = None, encoder: bool | None = None) -> "PretrainedConfig":
        """The config of the text model: this config itself for every model here (none nests a text config).

        With exactly one of ``decoder=True`` / ``encoder=True`` on an encoder-decoder config (BART), a copy in which
        that side's fields take the plain names, as transformers does: ``decoder_layers`` -> ``num_hidden_layers``
        (then through ``attribute_map``), ``decoder_attention_heads`` -> ``num_attention_heads``,
        ``decoder_ffn_dim`` -> ``ffn_dim``, ...
        """
        if decoder == encoder or not self.is_encoder_decoder:
            return self
        config = copy.deepcopy(self)
        side = "decoder" if decoder else "encoder"
        for key in config.to_dict():
            if not key.startswith(side):
                continue
            if key == f"{side}_layers":
                new_key = "num_hidden_layers"
            elif key == f"{side}_attention_heads":
                new_key = "num_attention_heads"
            else:
                new_key = key[len(side) + 1 :]
            new_key = type(config).attribute_map.get(new_key, new_key)
            value = getattr(config, key)
            delattr(config, key)
            setattr(config, new_key, value)
        return config

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **kwargs: Any):
        """Build from a dict, then apply ``kwargs`` as transformers does: a key the config has (``num_labels``,
        ``hidden_dropout_prob``, ...) is set; any other is unused — dropped, or returned with
        ``return_unused_kwargs=True`` as ``(config, unused)``."""
        return_unused_kwargs = kwargs.pop("return_unused_kwargs", False)
        config_dict = {k: v for k, v in config_dict.items() if k != "model_type"}
        for key in ("dtype", "torch_dtype"):  # given to the constructor, as transformers ("auto" is set as is below)
            if kwargs.get(key, "auto") != "auto":
                config_dict.pop("torch_dtype", None)
                config_dict["dtype"] = _dtype_name(kwargs.pop(key))
        if "torch_dtype" in kwargs:  # the old name of dtype
            kwargs["dtype"] = kwargs.pop("torch_dtype")
        if "name_or_path" in kwargs:
            config_dict["_name_or_path"] = kwargs.pop("name_or_path")
        config = cls(**config_dict)
        unused = {}
        for key, value in kwargs.items():
            if key in IGNORED_KWARGS:
                continue
            if hasattr(config, key) or key in ("num_labels", "output_attentions"):
                setattr(config, key, value)  # num_labels after construction: it resets id2label when sizes differ
            else:
                unused[key] = value
        return (config, unused) if return_unused_kwargs else config

    @classmethod
    def from_json_file(cls, json_file: str | os.PathLike) -> "PretrainedConfig":
        return cls(**{k: v for k, v in read_config_dict(json_file).items() if k != "model_type"})

    @classmethod
    def is_remote_code(cls) -> bool:
        """False: nanohf never runs code that comes with a checkpoint."""
        return False

    @classmethod
    def is_custom_code(cls) -> bool:
        """Whether the class is defined outside nanohf (a user's own config class)."""
        return not cls.__module__.startswith("nanohf.")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any):
        """Read ``config.json`` from a folder (or a cached hub name, or a JSON file's path), then apply ``kwargs``
        as ``from_dict`` does (``return_unused_kwargs=True`` returns ``(config, unused)``). The hub options
        (``cache_dir``, ``revision``, ``token``, ...) have nothing to do offline; ``subfolder`` is honoured."""
        name_or_path = pretrained_model_name_or_path
        config_dict, kwargs = cls.get_config_dict(name_or_path, **kwargs)
        if cls.model_type and config_dict.get("model_type", cls.model_type) != cls.model_type:
            raise ValueError(
                f"{name_or_path}: config.json has model_type {config_dict['model_type']!r}, "
                f"but {cls.__name__} is for {cls.model_type!r}"
            )
        kwargs.setdefault("name_or_path", str(name_or_path))
        return cls.from_dict(config_dict, **kwargs)

    @classmethod
    def get_config_dict(
        cls, pretrained_model_name_or_path: str | os.PathLike, **kwargs: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(the parsed config.json, the kwargs left for from_dict)``: a folder (``subfolder`` inside it), a cached
        hub name, or the JSON file's path."""
        name_or_path = pretrained_model_name_or_path
        subfolder = kwargs.pop("subfolder", "") or ""
        if os.path.isfile(name_or_path):
            path = name_or_path
        elif subfolder and os.path.isdir(name_or_path):
            path = resolve_file(os.path.join(name_or_path, subfolder), CONFIG_NAME)
        else:
            path = resolve_file(name_or_path, CONFIG_NAME)
        return read_config_dict(path), kwargs

    def save_pretrained(self, save_directory: str | os.PathLike, push_to_hub: bool = False, **kwargs: Any) -> None:
        """Write ``config.json`` (``to_json_file(use_diff=True)``, as transformers) into ``save_directory``."""
        if os.path.isfile(save_directory):
            raise AssertionError(f"Provided path ({save_directory}) should be a directory, not a file")
        if push_to_hub:
            raise hub_upload_error("config")
        os.makedirs(save_directory, exist_ok=True)
        self.to_json_file(os.path.join(save_directory, CONFIG_NAME), use_diff=True)

    def push_to_hub(self, repo_id: str | None = None, *args: Any, **kwargs: Any):
        raise hub_upload_error("config")

    def __eq__(self, other: object) -> bool:
        """Same fields and values (where the config was read from does not count)."""
        if not isinstance(other, PretrainedConfig):
            return False
        ours, theirs = self.to_dict(), other.to_dict()
        ours.pop("_name_or_path"), theirs.pop("_name_or_path")
        return ours == theirs

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"


# The fields transformers' PreTrainedConfig itself has (nanohf's base class also holds the token ids and
# tie_word_embeddings, which transformers 5 declares per model): only these may be left out of config.json.
TRANSFORMERS_BASE_FIELDS = frozenset({
    "_name_or_path", "architectures", "chunk_size_feed_forward", "dtype", "id2label", "is_encoder_decoder",
    "label2id", "model_type", "output_attentions", "output_hidden_states", "problem_type", "return_dict",
    "transformers_version",
})  # fmt: skip
# The transformers release whose config.json format nanohf writes, stored as "transformers_version" (as transformers
# stores its own version): loaders read it to know which conventions a file follows.
TRANSFORMERS_FORMAT_VERSION = "5.24.0"
# from_pretrained keywords for the hub or for torch, with nothing to do here: accepted, used, ignored.
IGNORED_KWARGS = frozenset({
    "cache_dir", "force_download", "local_files_only", "token", "revision", "proxies", "resume_download",
    "trust_remote_code", "code_revision", "_from_auto", "_from_pipeline", "_commit_hash", "user_agent",
    "attn_implementation", "experts_implementation",
})  # fmt: skip
_FLOAT_TAG = "__float__"


def _lists_for_tuples(value: Any) -> Any:
    return [_lists_for_tuples(v) for v in value] if isinstance(value, tuple) else value


def _dtype_name(dtype: Any) -> Any:
    """``torch.float32`` / ``np.float32`` / ``"float32"`` -> ``"float32"`` (what config.json holds)."""
    if dtype is None or isinstance(dtype, str | int):
        return dtype
    text = str(dtype)
    return text.split(".", 1)[1] if text.startswith("torch.") else str(np.dtype(dtype))


def _dtype_to_str(d: dict[str, Any]) -> None:
    if d.get("dtype") is not None:
        d["dtype"] = _dtype_name(d["dtype"])


def _encode_special_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        if math.isnan(obj):
            return {_FLOAT_TAG: "NaN"}
        if math.isinf(obj):
            return {_FLOAT_TAG: "Infinity" if obj > 0 else "-Infinity"}
        return obj
    if isinstance(obj, dict):
        return {k: _encode_special_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode_special_floats(v) for v in obj]
    return obj


def _decode_special_floats(obj: Any) -> Any:
    if isinstance(obj, dict):
        if set(obj) == {_FLOAT_TAG} and obj[_FLOAT_TAG] in ("NaN", "Infinity", "-Infinity"):
            return float({"NaN": "nan", "Infinity": "inf", "-Infinity": "-inf"}[obj[_FLOAT_TAG]])
        return {k: _decode_special_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode_special_floats(v) for v in obj]
    return obj


PreTrainedConfig = PretrainedConfig  # transformers 5 spelling


def read_config_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a ``config.json``; a broken file gets an error that names it."""
    return _decode_special_floats(read_json(path))

"""PretrainedConfig: a model's hyper-parameters, read from and written to ``config.json``.

The same fields, defaults and JSON as transformers, so a config written by either library
loads in the other. Keys a config class does not know are kept as attributes and written
back on save (a round trip loses nothing).
"""

import copy
import json
import logging
import os
from typing import Any

from nanohf.models.config_validation import id2label_from_json
from nanohf.models.hub import resolve_file, write_atomically

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
        """Every public field, ``model_type`` included; label ids as JSON strings want them."""
        out = {k: copy.deepcopy(v) for k, v in vars(self).items() if not k.startswith("_")}
        out["model_type"] = self.model_type
        out["id2label"] = {str(k): v for k, v in self.id2label.items()}
        return dict(sorted(out.items()))

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, config_dict: dict[str, Any], **overrides: Any) -> "PretrainedConfig":
        """Build from a dict, then set ``overrides`` one by one (so ``num_labels=5`` resets the labels)."""
        config = cls(**{k: v for k, v in config_dict.items() if k != "model_type"})
        for key, value in overrides.items():
            setattr(config, key, value)
        return config

    @classmethod
    def from_json_file(cls, path: str | os.PathLike) -> "PretrainedConfig":
        return cls.from_dict(read_config_dict(path))

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **overrides: Any) -> "PretrainedConfig":
        """Read ``config.json`` from a folder (or a cached hub name) and apply ``overrides``."""
        config_dict = read_config_dict(resolve_file(name_or_path, CONFIG_NAME))
        if cls.model_type and config_dict.get("model_type", cls.model_type) != cls.model_type:
            raise ValueError(
                f"{name_or_path}: config.json has model_type {config_dict['model_type']!r}, "
                f"but {cls.__name__} is for {cls.model_type!r}"
            )
        config = cls.from_dict(config_dict, **overrides)
        config._name_or_path = str(name_or_path)
        return config

    def save_pretrained(self, save_directory: str | os.PathLike) -> None:
        os.makedirs(save_directory, exist_ok=True)
        write_atomically(os.path.join(save_directory, CONFIG_NAME), self.to_json_string().encode())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PretrainedConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"{type(self).__name__} {self.to_json_string()}"



PreTrainedConfig = PretrainedConfig  # transformers 5 spelling

def read_config_dict(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a ``config.json``; a broken file gets an error that names it."""
    try:
        with open(path, encoding="utf-8") as f:
            config_dict = json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(config_dict, dict):
        raise ValueError(f"{path} must hold a JSON object, found {type(config_dict).__name__}")
    return config_dict

"""Auto classes: read ``model_type`` from ``config.json`` and pick the matching class.

The mappings hold class *names*; a model family's module is imported only when a checkpoint of that
family is loaded (loading MiniLM never imports BART or GPT-2: part of a fast cold start).
"""

import importlib
import os
from typing import Any

from nanohf.models.configuration_utils import CONFIG_NAME, PretrainedConfig, read_config_dict
from nanohf.models.hub import resolve_file

# model_type -> the module that holds that family (config, models, heads)
MODEL_MODULES = {
    family: f"nanohf.models.{family}"
    for family in ("bart", "bert", "distilbert", "gpt2", "llama", "mistral", "qwen2", "roberta")
}
CONFIG_MAPPING: dict[str, str] = {
    "bart": "BartConfig",
    "bert": "BertConfig",
    "distilbert": "DistilBertConfig",
    "gpt2": "GPT2Config",
    "llama": "LlamaConfig",
    "mistral": "MistralConfig",
    "qwen2": "Qwen2Config",
    "roberta": "RobertaConfig",
}


def _import_class(model_type: str, class_name: str) -> type:
    return getattr(importlib.import_module(MODEL_MODULES[model_type]), class_name)


def _config_class(name_or_path: str | os.PathLike) -> tuple[type[PretrainedConfig], dict[str, Any]]:
    path = name_or_path if os.path.isfile(name_or_path) else resolve_file(name_or_path, CONFIG_NAME)
    config_dict = read_config_dict(path)
    model_type = config_dict.get("model_type")
    if model_type not in CONFIG_MAPPING:
        raise ValueError(f"{path}: model_type {model_type!r} is not supported; nanohf knows {sorted(CONFIG_MAPPING)}")
    return _import_class(model_type, CONFIG_MAPPING[model_type]), config_dict


class AutoConfig:
    @staticmethod
    def for_model(model_type: str, **kwargs: Any) -> PretrainedConfig:
        if model_type not in CONFIG_MAPPING:
            raise ValueError(f"model_type {model_type!r} is not supported; nanohf knows {sorted(CONFIG_MAPPING)}")
        return _import_class(model_type, CONFIG_MAPPING[model_type])(**kwargs)

    @staticmethod
    def from_pretrained(name_or_path: str | os.PathLike, **kwargs: Any):
        """The config class ``config.json``'s ``model_type`` names, read from a folder (or a cached hub name, or the
        JSON file's path), ``kwargs`` applied as transformers does: a field the config has is set (``num_labels=5``,
        ``hidden_dropout_prob=0.3``), any other is unused — dropped, or returned as ``(config, unused)`` with
        ``return_unused_kwargs=True``; the hub options (``cache_dir``, ``revision``, ``trust_remote_code``, ...) are
        accepted and have nothing to do offline."""
        config_class, _ = _config_class(name_or_path)
        return config_class.from_pretrained(name_or_path, **kwargs)


class _AutoModel:
    """Base of the Auto model classes; each subclass maps ``model_type`` to a model class name."""

    _model_mapping: dict[str, str] = {}

    def __init__(self):
        raise OSError(f"{type(self).__name__} is built with from_pretrained(...) or from_config(config)")

    @classmethod
    def _class_for(cls, model_type: str) -> type:
        if model_type not in cls._model_mapping:
            raise ValueError(f"{cls.__name__} has no model for model_type {model_type!r}")
        return _import_class(model_type, cls._model_mapping[model_type])

    @classmethod
    def model_classes(cls) -> tuple[type, ...]:
        """Every class this Auto class can load (imports each family)."""
        return tuple(_import_class(model_type, name) for model_type, name in cls._model_mapping.items())

    @classmethod
    def from_config(cls, config: PretrainedConfig):
        """A randomly initialised model for ``config``."""
        return cls._class_for(config.model_type)(config)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any):
        config = kwargs.get("config")
        model_type = config.model_type if config is not None else _config_class(name_or_path)[1]["model_type"]
        return cls._class_for(model_type).from_pretrained(name_or_path, **kwargs)


class AutoModel(_AutoModel):
    _model_mapping = {
        "bart": "BartModel",
        "bert": "BertModel",
        "distilbert": "DistilBertModel",
        "gpt2": "GPT2Model",
        "llama": "LlamaModel",
        "mistral": "MistralModel",
        "qwen2": "Qwen2Model",
        "roberta": "RobertaModel",
    }


class AutoModelForSequenceClassification(_AutoModel):
    _model_mapping = {
        "bart": "BartForSequenceClassification",
        "bert": "BertForSequenceClassification",
        "distilbert": "DistilBertForSequenceClassification",
        "gpt2": "GPT2ForSequenceClassification",
        "llama": "LlamaForSequenceClassification",
        "mistral": "MistralForSequenceClassification",
        "qwen2": "Qwen2ForSequenceClassification",
        "roberta": "RobertaForSequenceClassification",
    }


class AutoModelForMaskedLM(_AutoModel):
    _model_mapping = {
        "bert": "BertForMaskedLM",
        "distilbert": "DistilBertForMaskedLM",
        "roberta": "RobertaForMaskedLM",
    }


class AutoModelForTokenClassification(_AutoModel):
    _model_mapping = {
        "bert": "BertForTokenClassification",
        "distilbert": "DistilBertForTokenClassification",
        "llama": "LlamaForTokenClassification",
        "mistral": "MistralForTokenClassification",
        "qwen2": "Qwen2ForTokenClassification",
        "roberta": "RobertaForTokenClassification",
    }


class AutoModelForQuestionAnswering(_AutoModel):
    _model_mapping = {
        "bert": "BertForQuestionAnswering",
        "distilbert": "DistilBertForQuestionAnswering",
        "llama": "LlamaForQuestionAnswering",
        "qwen2": "Qwen2ForQuestionAnswering",
        "roberta": "RobertaForQuestionAnswering",
    }


class AutoModelForCausalLM(_AutoModel):
    _model_mapping = {
        "gpt2": "GPT2LMHeadModel",
        "llama": "LlamaForCausalLM",
        "mistral": "MistralForCausalLM",
        "qwen2": "Qwen2ForCausalLM",
    }


class AutoModelForSeq2SeqLM(_AutoModel):
    _model_mapping = {"bart": "BartForConditionalGeneration"}

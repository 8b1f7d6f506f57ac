"""Model outputs, named and shaped as transformers names them.

A ModelOutput is a dataclass that also behaves like transformers' ordered dict: fields set to
``None`` are absent, ``out.logits``, ``out["logits"]`` and ``out[0]`` (position among the
fields present) all work, and ``to_tuple()`` gives the present fields in order.
"""

from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass
class ModelOutput:
    def keys(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def values(self) -> list[Any]:
        return [getattr(self, k) for k in self.keys()]

    def items(self) -> list[tuple[str, Any]]:
        return [(k, getattr(self, k)) for k in self.keys()]

    def to_tuple(self) -> tuple:
        return tuple(self.values())

    def __getitem__(self, key: str | int | slice) -> Any:
        if isinstance(key, str):
            if key not in self.keys():
                raise KeyError(f"{type(self).__name__} has no field {key!r} set; it has {self.keys()}")
            return getattr(self, key)
        return self.to_tuple()[key]

    def __iter__(self):
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        return key in self.keys()

    def __len__(self) -> int:
        return len(self.keys())


@dataclass
class BaseModelOutput(ModelOutput):
    """``last_hidden_state`` (batch, seq, hidden); optional per-layer ``hidden_states`` and ``attentions``."""

    last_hidden_state: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class BaseModelOutputWithPoolingAndCrossAttentions(ModelOutput):
    """BERT's output: adds ``pooler_output`` (batch, hidden), the tanh-dense of the first token."""

    last_hidden_state: np.ndarray | None = None
    pooler_output: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    past_key_values: Any = None
    attentions: tuple[np.ndarray, ...] | None = None
    cross_attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class SequenceClassifierOutput(ModelOutput):
    """``logits`` (batch, num_labels)."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class MaskedLMOutput(ModelOutput):
    """``logits`` (batch, seq, vocab_size)."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class TokenClassifierOutput(ModelOutput):
    """``logits`` (batch, seq, num_labels)."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class QuestionAnsweringModelOutput(ModelOutput):
    """``start_logits`` and ``end_logits``, each (batch, seq)."""

    loss: np.ndarray | None = None
    start_logits: np.ndarray | None = None
    end_logits: np.ndarray | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class BaseModelOutputWithPastAndCrossAttentions(ModelOutput):
    """GPT-2's output: ``past_key_values`` holds each layer's (keys, values) for the next step."""

    last_hidden_state: np.ndarray | None = None
    past_key_values: tuple | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None
    cross_attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class CausalLMOutputWithCrossAttentions(ModelOutput):
    """``logits (batch, seq, vocab_size)``: at each position, the scores of the next token."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    past_key_values: tuple | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None
    cross_attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class SequenceClassifierOutputWithPast(ModelOutput):
    """``logits (batch, num_labels)`` read at each sequence's last real token."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    past_key_values: tuple | None = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class BaseModelOutputWithPast(ModelOutput):
    """A decoder's output (Llama, Qwen2, Mistral): ``past_key_values`` is the ``KVCache`` for the next step."""

    last_hidden_state: np.ndarray | None = None
    past_key_values: Any = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None


@dataclass
class CausalLMOutputWithPast(ModelOutput):
    """``logits (batch, seq, vocab_size)``: at each position, the scores of the next token."""

    loss: np.ndarray | None = None
    logits: np.ndarray | None = None
    past_key_values: Any = None
    hidden_states: tuple[np.ndarray, ...] | None = None
    attentions: tuple[np.ndarray, ...] | None = None

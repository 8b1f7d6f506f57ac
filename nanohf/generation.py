"""Text generation: the decoding loop, the KV cache, and the logits processors, as transformers does.

One step of auto-regressive decoding::

    logits  = model(last token(s), past_key_values).logits[:, -1]     (batch, vocab)
    scores  = processors(logits)       repetition penalty; when sampling: temperature, top-k, top-p
    token   = argmax(scores)           or a draw from softmax(scores) when do_sample
    append token; the model also returned its keys and values, so the next step runs 1 token

Batched prompts are left-padded: every prompt then ends at the last column and the new tokens
line up. Positions come from the attention mask (cumsum − 1), so padding does not shift them.
"""

import json
import os
from dataclasses import asdict, dataclass, fields

import numpy as np

from nanohf.autograd import no_grad
from nanohf.random import get_generator

GENERATION_CONFIG_NAME = "generation_config.json"
DEFAULT_NEW_TOKENS = 20  # when neither max_new_tokens nor max_length is set


@dataclass
class GenerationConfig:
    """Generation defaults (transformers' defaults); a checkpoint's ``generation_config.json`` overrides them.

    With neither ``max_new_tokens`` nor ``max_length`` set, generate() adds ``DEFAULT_NEW_TOKENS``
    (20) tokens, capped at the model's ``n_positions`` — as transformers 5 does.
    """

    max_length: int | None = None
    max_new_tokens: int | None = None
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 1.0
    repetition_penalty: float = 1.0
    num_return_sequences: int = 1
    use_cache: bool = True
    bos_token_id: int | None = None
    eos_token_id: int | list[int] | None = None
    pad_token_id: int | None = None

    @classmethod
    def from_model_config(cls, config) -> "GenerationConfig":
        return cls(bos_token_id=config.bos_token_id, eos_token_id=config.eos_token_id, pad_token_id=config.pad_token_id)

    def update(self, **kwargs) -> "GenerationConfig":
        """A copy with the keyword arguments that are generation settings replaced (None leaves a value)."""
        known = {f.name for f in fields(self)}
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"generate() got unknown arguments {sorted(unknown)}")
        values = asdict(self)
        values.update({k: v for k, v in kwargs.items() if v is not None})
        return GenerationConfig(**values)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, model_config=None) -> "GenerationConfig":
        base = cls.from_model_config(model_config) if model_config is not None else cls()
        path = os.path.join(folder, GENERATION_CONFIG_NAME)
        if not os.path.isfile(path):
            return base
        with open(path, encoding="utf-8") as f:
            saved = json.load(f)
        known = {f.name for f in fields(cls)}
        return base.update(**{k: v for k, v in saved.items() if k in known})


# --- logits processors: (batch, vocab) scores in, scores out ------------------------------------------


def repetition_penalty(scores: np.ndarray, input_ids: np.ndarray, penalty: float) -> np.ndarray:
    """Make tokens already in the sequence less likely: a positive score / penalty, a negative one × penalty."""
    rows = np.arange(scores.shape[0])[:, None]
    seen = scores[rows, input_ids]
    scores[rows, input_ids] = np.where(seen < 0, seen * penalty, seen / penalty)
    return scores


def temperature_warp(scores: np.ndarray, temperature: float) -> np.ndarray:
    """scores / T: T < 1 sharpens the distribution, T > 1 flattens it."""
    return scores / scores.dtype.type(temperature)


def top_k_filter(scores: np.ndarray, top_k: int, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Keep the k highest scores (ties with the k-th included); the rest become -inf."""
    k = min(max(top_k, min_tokens_to_keep), scores.shape[-1])
    kth = np.partition(scores, -k, axis=-1)[:, -k, None]
    return np.where(scores < kth, -np.inf, scores).astype(scores.dtype)


def top_p_filter(scores: np.ndarray, top_p: float, min_tokens_to_keep: int = 1) -> np.ndarray:
    """Nucleus filtering: keep the smallest set of most likely tokens whose probability reaches top_p.

    Sorted ascending, a token is dropped when the cumulative probability up to and including it
    is ≤ 1 - top_p (so the tokens above it already hold ≥ top_p); the top ``min_tokens_to_keep`` stay.
    """
    order = np.argsort(scores, axis=-1, kind="stable")
    sorted_scores = np.take_along_axis(scores, order, axis=-1)
    probs = np.exp(sorted_scores - sorted_scores.max(axis=-1, keepdims=True))
    cumulative = np.cumsum(probs / probs.sum(axis=-1, keepdims=True), axis=-1)
    remove_sorted = cumulative <= 1 - top_p
    remove_sorted[:, -min_tokens_to_keep:] = False
    remove = np.zeros_like(remove_sorted)
    np.put_along_axis(remove, order, remove_sorted, axis=-1)
    return np.where(remove, -np.inf, scores).astype(scores.dtype)


def sample(scores: np.ndarray) -> np.ndarray:
    """One token per row drawn from softmax(scores), with nanohf's seeded generator."""
    probs = np.exp(scores - scores.max(axis=-1, keepdims=True)).astype(np.float64)
    probs /= probs.sum(axis=-1, keepdims=True)
    u = get_generator().random((scores.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=-1) < u).sum(axis=-1), scores.shape[-1] - 1)


# --- the decoding loop --------------------------------------------------------------------------------


class GenerationMixin:
    """``generate()`` for decoder-only models whose forward takes ``past_key_values`` and returns logits."""

    @property
    def generation_config(self) -> GenerationConfig:
        if getattr(self, "_generation_config", None) is None:
            folder = self.config.name_or_path
            if folder and os.path.isdir(folder):
                self._generation_config = GenerationConfig.from_pretrained(folder, self.config)
            else:
                self._generation_config = GenerationConfig.from_model_config(self.config)
        return self._generation_config

    @generation_config.setter
    def generation_config(self, value: GenerationConfig) -> None:
        self._generation_config = value

    def generate(self, input_ids, attention_mask=None, generation_config: GenerationConfig | None = None, **kwargs):
        """Extend each prompt of ``input_ids (batch, prompt_len)``; returns ``(batch·n, total_len)`` ids.

        Keyword arguments as transformers': ``max_new_tokens``, ``max_length``, ``do_sample``,
        ``temperature``, ``top_k``, ``top_p``, ``repetition_penalty``, ``num_return_sequences``,
        ``eos_token_id``, ``pad_token_id``, ``use_cache``. Sampling draws from nanohf's generator
        (``nanohf.set_seed`` makes it repeatable).
        """
        cfg = (generation_config or self.generation_config).update(**kwargs)
        input_ids = np.asarray(input_ids, dtype=np.int64)
        if input_ids.ndim == 1:
            input_ids = input_ids[None, :]
        eos = [] if cfg.eos_token_id is None else np.atleast_1d(cfg.eos_token_id).tolist()
        pad = cfg.pad_token_id if cfg.pad_token_id is not None else (eos[0] if eos else None)
        if attention_mask is None:
            # As transformers: padding can be inferred only when the pad id is not also the eos id.
            infer = pad is not None and pad not in eos and (input_ids == pad).any()
            attention_mask = (input_ids != pad).astype(np.int64) if infer else np.ones_like(input_ids)
        attention_mask = np.asarray(attention_mask, dtype=np.int64)
        if attention_mask.shape != input_ids.shape:
            raise ValueError(
                f"attention_mask has shape {attention_mask.shape}, expected {input_ids.shape} like input_ids"
            )
        if cfg.num_return_sequences > 1:
            input_ids = np.repeat(input_ids, cfg.num_return_sequences, axis=0)
            attention_mask = np.repeat(attention_mask, cfg.num_return_sequences, axis=0)
        if cfg.num_return_sequences > 1 and not cfg.do_sample:
            raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy decoding gives one answer)")
        prompt_len = input_ids.shape[1]
        n_positions = getattr(self.config, "max_position_embeddings", None)
        if cfg.max_new_tokens is not None:
            max_length = prompt_len + cfg.max_new_tokens
        elif cfg.max_length is not None:
            max_length = cfg.max_length
        else:
            max_length = prompt_len + DEFAULT_NEW_TOKENS
            max_length = max_length if n_positions is None else min(max_length, n_positions)
        # Every token needs a position embedding: fail now, not in the middle of the loop.
        longest = int(attention_mask.sum(axis=-1).max(initial=0))  # real tokens of the longest prompt
        if n_positions is not None and longest > n_positions:
            raise ValueError(f"the prompt has {longest} tokens, more than the model's n_positions={n_positions}")
        new_tokens = max(max_length - prompt_len, 0)  # the last one is returned, never fed back
        if n_positions is not None and longest + new_tokens - 1 > n_positions:
            raise ValueError(
                f"a {longest}-token prompt plus {new_tokens} new tokens needs {longest + new_tokens - 1} positions, "
                f"more than the model's n_positions={n_positions}; lower max_new_tokens/max_length"
            )

        unfinished = np.ones(input_ids.shape[0], dtype=bool)
        past = None
        with no_grad():
            while input_ids.shape[1] < max_length:
                # Positions count only real tokens, so a left-padded prompt starts at position 0.
                position_ids = np.cumsum(attention_mask, axis=-1) - 1
                position_ids[attention_mask == 0] = 1
                step_ids, step_positions = input_ids, position_ids
                if past is not None:
                    step_ids, step_positions = input_ids[:, -1:], position_ids[:, -1:]
                out = self(step_ids, past_key_values=past, attention_mask=attention_mask,
                           position_ids=step_positions, use_cache=cfg.use_cache)  # fmt: skip
                past = out.past_key_values if cfg.use_cache else None
                scores = self._process_scores(out.logits[:, -1, :].copy(), input_ids, cfg)
                next_tokens = sample(scores) if cfg.do_sample else scores.argmax(axis=-1)
                if pad is not None:
                    next_tokens = np.where(unfinished, next_tokens, pad)
                input_ids = np.concatenate([input_ids, next_tokens[:, None]], axis=1)
                attention_mask = np.concatenate([attention_mask, np.ones_like(next_tokens)[:, None]], axis=1)
                unfinished &= ~np.isin(next_tokens, eos)
                if not unfinished.any():
                    break
        return input_ids

    @staticmethod
    def _process_scores(scores: np.ndarray, input_ids: np.ndarray, cfg: GenerationConfig) -> np.ndarray:
        if cfg.repetition_penalty != 1.0:
            scores = repetition_penalty(scores, input_ids, cfg.repetition_penalty)
        if cfg.do_sample:
            if cfg.temperature != 1.0:
                scores = temperature_warp(scores, cfg.temperature)
            if cfg.top_k:
                scores = top_k_filter(scores, cfg.top_k)
            if cfg.top_p < 1.0:
                scores = top_p_filter(scores, cfg.top_p)
        return scores

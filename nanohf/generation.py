"""Text generation: the decoding loop, the KV cache, and the logits processors, as transformers does.

One step of auto-regressive decoding::

    logits  = model(last token(s), past_key_values).logits[:, -1]     (batch, vocab)
    scores  = processors(logits)       repetition penalty, n-gram ban, min length, forced bos/eos;
                                       when sampling: temperature, top-k, top-p
    token   = argmax(scores)           or a draw from softmax(scores) when do_sample
    append token; the model also returned its keys and values, so the next step runs 1 token

Decoder-only models (GPT-2) continue the prompt. Batched prompts are left-padded: every prompt
then ends at the last column and the new tokens line up; positions come from the attention mask
(cumsum − 1), so padding does not shift them. Encoder-decoder models (BART) run the encoder once;
the decoder starts from ``decoder_start_token_id`` and steps with its self-attention cache and the
encoder keys/values it projected on the first step. The cache is a ``KVCache`` (nanohf/nn/kv_cache.py);
beam search moves its rows with ``KVCache.reorder``. ``num_beams > 1`` is beam search
(nanohf/generation_beam.py).
"""

import functools
import inspect
import logging
import os
import typing
from dataclasses import asdict, dataclass, fields

import numpy as np

from nanohf.autograd import no_grad
from nanohf.generation_beam import beam_search
from nanohf.generation_processors import (
    Limits,
    force_tokens,
    no_repeat_ngram_ban,
    process_scores,
    repetition_penalty,
    sample,
    temperature_warp,
    top_k_filter,
    top_p_filter,
)
from nanohf.jsonfile import read_json
from nanohf.models.config_validation import value_fits
from nanohf.models.inputs import check_ids_in_range

# The logits processors live in generation_processors.py (beam search uses them too); importable from here.
__all__ = [
    "GenerationConfig", "GenerationMixin", "CausalSteps", "Seq2SeqSteps", "greedy_or_sample", "Limits",
    "process_scores", "repetition_penalty", "temperature_warp", "top_k_filter", "top_p_filter",
    "no_repeat_ngram_ban", "force_tokens", "sample",
]  # fmt: skip

logger = logging.getLogger("nanohf")

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
    num_beams: int = 1
    length_penalty: float = 1.0
    early_stopping: bool | str = False  # True, False or "never" (see generation_beam.py)
    no_repeat_ngram_size: int = 0
    min_length: int = 0
    min_new_tokens: int | None = None
    forced_bos_token_id: int | None = None
    forced_eos_token_id: int | list[int] | None = None
    decoder_start_token_id: int | None = None

    @classmethod
    def from_model_config(cls, config) -> "GenerationConfig":
        """The token ids a model's config carries (BART's also names its decoder start and forced eos)."""
        names = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id",
                 "forced_bos_token_id", "forced_eos_token_id")  # fmt: skip
        return cls(**{name: getattr(config, name, None) for name in names})

    def update(self, **kwargs) -> "GenerationConfig":
        """A copy with the keyword arguments that are generation settings replaced (None leaves a value)."""
        known = {f.name for f in fields(self)}
        unknown = set(kwargs) - known
        if unknown:
            raise TypeError(f"generate() got unknown arguments {sorted(unknown)}")
        values = asdict(self)
        values.update({k: v for k, v in kwargs.items() if v is not None})
        return GenerationConfig(**values)

    def validate(self) -> None:
        """Refuse settings that would give NaN scores or nonsense, with transformers' messages.

        transformers checks most of these when it builds its logits processors (so only when the
        setting is used: temperature, top-k and top-p only when sampling); ``num_beams`` ≤ 0 and a
        negative ``no_repeat_ngram_size`` it does not check (a ZeroDivisionError, or silently nothing):
        nanohf refuses them too.
        """
        for field, annotation in typing.get_type_hints(GenerationConfig).items():
            value = getattr(self, field)
            if value_fits(annotation, value) is False:
                raise ValueError(f"`{field}` must be {annotation}, but is {type(value).__name__} {value!r}")

        def positive_int(name: str, value) -> None:
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"`{name}` has to be a strictly positive integer, but is {value!r}")

        if self.max_new_tokens is not None and self.max_new_tokens <= 0:
            raise ValueError(f"`max_new_tokens` must be greater than 0, but is {self.max_new_tokens}.")
        positive_int("num_beams", self.num_beams)
        positive_int("num_return_sequences", self.num_return_sequences)
        if self.min_length is not None and self.min_length < 0:
            raise ValueError(f"`min_length` has to be a non-negative integer, but is {self.min_length}")
        if self.min_new_tokens is not None and self.min_new_tokens < 0:
            raise ValueError(f"`min_new_tokens` has to be a non-negative integer, but is {self.min_new_tokens}")
        if self.no_repeat_ngram_size:
            positive_int("no_repeat_ngram_size", self.no_repeat_ngram_size)
        if self.repetition_penalty != 1.0 and not self.repetition_penalty > 0:
            raise ValueError(f"`penalty` has to be a strictly positive float, but is {self.repetition_penalty}")
        if self.do_sample:
            if self.temperature != 1.0 and not self.temperature > 0:
                hint = " If you're looking for greedy decoding strategies, set `do_sample=False`."
                raise ValueError(
                    f"`temperature` (={self.temperature}) has to be a strictly positive float, otherwise your next "
                    f"token scores will be invalid.{hint if self.temperature == 0 else ''}"
                )
            if self.top_k:
                positive_int("top_k", self.top_k)
            if not self.top_p >= 0:  # 0 keeps just the most likely token (min_tokens_to_keep), as transformers
                raise ValueError(f"`top_p` has to be a float > 0 and < 1, but is {self.top_p}")

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, model_config=None) -> "GenerationConfig":
        base = cls.from_model_config(model_config) if model_config is not None else cls()
        path = os.path.join(folder, GENERATION_CONFIG_NAME)
        if not os.path.isfile(path):
            return base
        saved = read_json(path)
        known = {f.name for f in fields(cls)}
        return base.update(**{k: v for k, v in saved.items() if k in known})


# --- the model, one step at a time -------------------------------------------------------------------


class CausalSteps:
    """A decoder-only model stepped token by token: keeps the attention mask and the KV cache.

    ``sequences (rows, cur_len)`` are the prompts and everything generated so far.
    """

    def __init__(self, model, attention_mask: np.ndarray, use_cache: bool):
        self.model, self.attention_mask, self.use_cache, self.past = model, attention_mask, use_cache, None
        self.max_positions = getattr(model.config, "max_position_embeddings", None)
        self.steps = 0
        # As transformers' generate: a model that takes logits_to_keep scores only the last position (the
        # prompt's others would cost a (vocab × hidden) product each, and only the next token is needed).
        keeps = "logits_to_keep" in inspect.signature(model.forward).parameters
        self.score_last = {"logits_to_keep": 1} if keeps else {}

    def next_logits(self, sequences: np.ndarray) -> np.ndarray:
        """The scores of the next token after each row: ``(rows, vocab)``."""
        # transformers' MaxLengthCriteria: once a generated token takes the sequence (padding included) past
        # max_position_embeddings, and generation goes on, say so once (a model that may go there: scaled RoPE).
        if self.steps and self.max_positions is not None and sequences.shape[1] > self.max_positions:
            _warn_once(
                "This is a friendly reminder - the current text generation call has exceeded the model's predefined "
                f"maximum length ({self.max_positions}). Depending on the model, you may observe exceptions, "
                "performance degradation, or nothing at all."
            )
        self.steps += 1
        missing = sequences.shape[1] - self.attention_mask.shape[1]  # generated tokens are all real
        if missing:
            ones = np.ones((sequences.shape[0], missing), dtype=self.attention_mask.dtype)
            self.attention_mask = np.concatenate([self.attention_mask, ones], axis=1)
        # Positions count only real tokens, so a left-padded prompt starts at position 0.
        positions = np.cumsum(self.attention_mask, axis=-1) - 1
        positions[self.attention_mask == 0] = 1
        ids = sequences
        if self.past is not None:
            ids, positions = sequences[:, -1:], positions[:, -1:]
        out = self.model(ids, past_key_values=self.past, attention_mask=self.attention_mask,
                         position_ids=positions, use_cache=self.use_cache, **self.score_last)  # fmt: skip
        self.past = out.past_key_values if self.use_cache else None
        return out.logits[:, -1, :]

    def reorder(self, rows: np.ndarray) -> None:
        """Beam search kept ``rows``: the cache follows the beams it belongs to."""
        self.attention_mask = self.attention_mask[rows]
        if self.past is not None:
            self.past.reorder(rows)


class Seq2SeqSteps:
    """An encoder-decoder model's decoder stepped token by token over fixed encoder states."""

    def __init__(self, model, encoder_hidden: np.ndarray, encoder_mask: np.ndarray, use_cache: bool):
        self.model, self.use_cache, self.past = model, use_cache, None
        self.encoder_outputs, self.encoder_mask = (encoder_hidden,), encoder_mask

    def next_logits(self, sequences: np.ndarray) -> np.ndarray:
        ids = sequences if self.past is None else sequences[:, -1:]
        out = self.model(None, self.encoder_mask, ids, encoder_outputs=self.encoder_outputs,
                         past_key_values=self.past, use_cache=self.use_cache)  # fmt: skip
        self.past = out.past_key_values if self.use_cache else None
        return out.logits[:, -1, :]

    def reorder(self, rows: np.ndarray) -> None:
        # Beams never leave their input's block of rows, whose encoder states (and cross-attention
        # keys/values) are identical: only the self-attention cache moves.
        if self.past is not None:
            self.past.reorder(rows, cross_attention=False)


@functools.cache
def _warn_once(message: str) -> None:
    """transformers' ``logger.warning_once``: each message once per process."""
    logger.warning(message)


def greedy_or_sample(steps, sequences: np.ndarray, cfg: GenerationConfig, limits: Limits, eos: list, pad):
    """One token per row per step until ``max_length`` or every row has produced an eos."""
    unfinished = np.ones(sequences.shape[0], dtype=bool)
    while sequences.shape[1] < limits.max_length:
        scores = process_scores(steps.next_logits(sequences).copy(), sequences, cfg, limits, eos)
        next_tokens = sample(scores) if cfg.do_sample else scores.argmax(axis=-1)
        if pad is not None:
            next_tokens = np.where(unfinished, next_tokens, pad)
        sequences = np.concatenate([sequences, next_tokens[:, None]], axis=1)
        unfinished &= ~np.isin(next_tokens, eos)
        if not unfinished.any():
            break
    return sequences


class GenerationMixin:
    """``generate()`` for models whose forward takes ``past_key_values`` and returns logits:
    decoder-only (GPT-2) or, with ``config.is_encoder_decoder``, encoder-decoder (BART)."""

    # Appended to the error for a sequence past the position limit (Llama: how to reach further).
    _position_limit_hint = ""

    def _position_limit(self) -> int | None:
        """How many positions the model can place: its position table's rows (GPT-2, BART), or None when it
        computes a position's embedding for any position (Llama with RoPE scaling)."""
        return getattr(self.config, "max_position_embeddings", None)

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
        """Generate from ``input_ids (batch, prompt_len)``; returns ``(batch·n, length)`` ids.

        Decoder-only: each row is its prompt followed by the new tokens. Encoder-decoder: the inputs
        are encoded and each row is ``decoder_start_token_id`` followed by the new tokens.
        Keyword arguments as transformers': ``max_new_tokens``, ``max_length``, ``min_length``,
        ``min_new_tokens``, ``do_sample``, ``temperature``, ``top_k``, ``top_p``,
        ``repetition_penalty``, ``no_repeat_ngram_size``, ``num_beams``, ``length_penalty``,
        ``early_stopping``, ``num_return_sequences``, ``forced_bos_token_id``,
        ``forced_eos_token_id``, ``decoder_start_token_id``, ``eos_token_id``, ``pad_token_id``,
        ``use_cache``. Sampling draws from nanohf's generator (``nanohf.set_seed`` makes it repeatable).
        """
        cfg = (generation_config or self.generation_config).update(**kwargs)
        cfg.validate()
        input_ids = np.asarray(input_ids)
        if input_ids.ndim == 1:
            input_ids = input_ids[None, :]
        # Checked before anything runs: the encoder of an encoder-decoder is called directly below.
        if input_ids.ndim != 2 or not np.issubdtype(input_ids.dtype, np.integer):
            raise ValueError(
                f"input_ids must be an integer array of shape (batch, seq); got {input_ids.dtype} {input_ids.shape}"
            )
        check_ids_in_range("input_ids", input_ids, self.config.vocab_size, "vocab_size")
        input_ids = input_ids.astype(np.int64, copy=False)
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
        if cfg.num_beams > 1:
            if cfg.do_sample:
                raise NotImplementedError("beam sampling (num_beams > 1 with do_sample=True) is not implemented")
            if cfg.num_return_sequences > cfg.num_beams:
                raise ValueError(
                    f"num_return_sequences={cfg.num_return_sequences} is more than num_beams={cfg.num_beams}"
                )
        elif cfg.num_return_sequences > 1 and not cfg.do_sample:
            raise ValueError("num_return_sequences > 1 needs do_sample=True (greedy decoding gives one answer)")
        copies = cfg.num_beams if cfg.num_beams > 1 else cfg.num_return_sequences

        with no_grad():
            if getattr(self.config, "is_encoder_decoder", False):
                steps, sequences = self._start_seq2seq(input_ids, attention_mask, cfg, copies)
            else:
                steps = CausalSteps(self, np.repeat(attention_mask, copies, axis=0), cfg.use_cache)
                sequences = np.repeat(input_ids, copies, axis=0)
            limits = self._lengths(sequences.shape[1], attention_mask, cfg)
            if cfg.num_beams > 1:
                return beam_search(steps, sequences, cfg, limits, eos, pad)
            return greedy_or_sample(steps, sequences, cfg, limits, eos, pad)

    @staticmethod
    def _process_scores(scores: np.ndarray, input_ids: np.ndarray, cfg: GenerationConfig) -> np.ndarray:
        """The processor chain on its own, away from any length limit (max_length/min_length not reached)."""
        eos = [] if cfg.eos_token_id is None else np.atleast_1d(cfg.eos_token_id).tolist()
        return process_scores(scores, input_ids, cfg, Limits(input_ids.shape[1], np.iinfo(np.int64).max, 0), eos)

    def _start_seq2seq(self, input_ids, attention_mask, cfg: GenerationConfig, copies: int):
        """Encode once; every row's decoder input is the start token."""
        start = cfg.decoder_start_token_id if cfg.decoder_start_token_id is not None else cfg.bos_token_id
        if start is None:
            raise ValueError("an encoder-decoder model needs decoder_start_token_id (or bos_token_id) to generate")
        encoder_hidden = self.get_encoder()(input_ids, attention_mask).last_hidden_state
        steps = Seq2SeqSteps(self, np.repeat(encoder_hidden, copies, axis=0),
                             np.repeat(attention_mask, copies, axis=0), cfg.use_cache)  # fmt: skip
        return steps, np.full((input_ids.shape[0] * copies, 1), start, dtype=np.int64)

    def _lengths(self, prompt_len: int, attention_mask: np.ndarray, cfg: GenerationConfig) -> Limits:
        """max_length and min_length as transformers derives them; positions checked up front."""
        n_positions = getattr(self.config, "max_position_embeddings", None)
        if cfg.max_new_tokens is not None:
            max_length = prompt_len + cfg.max_new_tokens
        elif cfg.max_length is not None:
            max_length = cfg.max_length
        else:
            max_length = prompt_len + DEFAULT_NEW_TOKENS
            max_length = max_length if n_positions is None else min(max_length, n_positions)
        min_length = cfg.min_length
        if cfg.min_new_tokens is not None:
            min_length = max(min_length, prompt_len + cfg.min_new_tokens)
        if getattr(self.config, "is_encoder_decoder", False):
            # The decoder reads positions 0 .. max_length - 2 (the last token is never fed back).
            if n_positions is not None and max_length - 1 > n_positions:
                raise ValueError(f"max_length={max_length} needs {max_length - 1} decoder positions, more than "
                                 f"the model's max_position_embeddings={n_positions}")  # fmt: skip
            return Limits(prompt_len, max_length, min_length)
        if max_length <= prompt_len:  # transformers' message: nothing would be generated
            raise ValueError(
                f"Input length of input_ids is {prompt_len}, but `max_length` is set to {max_length}. This can lead "
                f"to unexpected behavior. You should consider increasing `max_length` or, better yet, setting "
                f"`max_new_tokens`."
            )
        # Every token needs a position embedding: fail now, not in the middle of the loop. (transformers only warns,
        # then a position table fails mid-loop; a model without a limit gets that warning, see CausalSteps.)
        limit = self._position_limit()
        if limit is None:
            return Limits(prompt_len, max_length, min_length)
        field = f"{type(self.config).attribute_map.get('max_position_embeddings', 'max_position_embeddings')}={limit}"
        longest = int(attention_mask.sum(axis=-1).max(initial=0))  # real tokens of the longest prompt
        if longest > limit:
            raise ValueError(
                f"the prompt has {longest} tokens, more than the model's {field}{self._position_limit_hint}"
            )
        new_tokens = max(max_length - prompt_len, 0)  # the last one is returned, never fed back
        if longest + new_tokens - 1 > limit:
            raise ValueError(
                f"a {longest}-token prompt plus {new_tokens} new tokens needs {longest + new_tokens - 1} positions, "
                f"more than the model's {field}; lower max_new_tokens/max_length{self._position_limit_hint}"
            )
        return Limits(prompt_len, max_length, min_length)

"""Logits processors: the scores of the next token, ``(batch, vocab)`` in, scores out — transformers' chain.

Used by both decoding loops: greedy/sampling (nanohf/generation.py) and beam search
(nanohf/generation_beam.py); ``process_scores`` applies them in transformers' order.
"""

from dataclasses import dataclass

import numpy as np

from nanohf.random import get_generator

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


def no_repeat_ngram_ban(scores: np.ndarray, sequences: np.ndarray, n: int) -> np.ndarray:
    """-inf for every token that would complete an n-gram already present in its row."""
    length = sequences.shape[1]
    if length < n:  # no complete n-gram yet
        return scores
    for row, tokens in enumerate(sequences.tolist()):
        prefix = tuple(tokens[length - n + 1 :])
        banned = [tokens[i + n - 1] for i in range(length - n + 1) if tuple(tokens[i : i + n - 1]) == prefix]
        scores[row, banned] = -np.inf
    return scores


def force_tokens(scores: np.ndarray, token_ids) -> np.ndarray:
    """Only ``token_ids`` stay possible (score 0); everything else becomes -inf."""
    forced = np.full_like(scores, -np.inf)
    forced[:, token_ids] = 0.0
    return forced


def sample(scores: np.ndarray) -> np.ndarray:
    """One token per row drawn from softmax(scores), with nanohf's seeded generator."""
    probs = np.exp(scores - scores.max(axis=-1, keepdims=True)).astype(np.float64)
    probs /= probs.sum(axis=-1, keepdims=True)
    u = get_generator().random((scores.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=-1) < u).sum(axis=-1), scores.shape[-1] - 1)


@dataclass
class Limits:
    """Lengths count every column of ``sequences``: the prompt for GPT-2, the start token for BART."""

    prompt_len: int
    max_length: int
    min_length: int


def process_scores(scores: np.ndarray, sequences: np.ndarray, cfg, limits: Limits, eos: list):
    """transformers' processor order: penalties and bans, then forced tokens, then (sampling) warpers."""
    cur_len = sequences.shape[1]
    if cfg.repetition_penalty != 1.0:
        scores = repetition_penalty(scores, sequences, cfg.repetition_penalty)
    if cfg.no_repeat_ngram_size:
        scores = no_repeat_ngram_ban(scores, sequences, cfg.no_repeat_ngram_size)
    if eos and cur_len < limits.min_length:  # an eos id outside the vocabulary can never come: nothing to ban
        scores[:, [e for e in eos if 0 <= e < scores.shape[-1]]] = -np.inf
    if cfg.forced_bos_token_id is not None and cur_len == 1:
        scores = force_tokens(scores, cfg.forced_bos_token_id)
    if cfg.forced_eos_token_id is not None and cur_len == limits.max_length - 1:
        scores = force_tokens(scores, cfg.forced_eos_token_id)
    if cfg.do_sample:
        if cfg.temperature != 1.0:
            scores = temperature_warp(scores, cfg.temperature)
        if cfg.top_k:
            scores = top_k_filter(scores, cfg.top_k)
        if cfg.top_p < 1.0:
            scores = top_p_filter(scores, cfg.top_p)
    return scores

"""Beam search: keep the ``num_beams`` most likely continuations of each input, as transformers 5 does.

Every step, for each input (a block of ``num_beams`` rows)::

    log_probs  = processors(log_softmax(logits))                     (beams, vocab)
    candidates = running_score[beam] + log_probs[beam, token]        beams · vocab of them
    top K      = the K best candidates, K = max(2, 1 + #eos) · num_beams

A candidate that ends in eos (or reaches ``max_length``) is finished: if it is among the first
``num_beams`` of the top K, it enters the finished list with the score
``sum of log-probs / generated_length ** length_penalty``; the finished list keeps the
``num_beams`` best. The ``num_beams`` best *unfinished* candidates run on (K ≥ 2·num_beams
guarantees there are enough), and the model's cache is reordered to follow them.

The search stops at ``max_length``, or when no running beam can beat the worst finished one
(``early_stopping``: ``True`` stops as soon as ``num_beams`` are finished; ``False`` compares the
best running score at the current length; ``"never"`` at the best length a positive
``length_penalty`` could reach). Returned: the best ``num_return_sequences`` finished beams per
input, padded with ``pad_token_id`` to the longest.
"""

import numpy as np

from nanohf.generation_processors import process_scores

NEG = np.float32(-1.0e9)  # "impossible" score of empty or excluded slots, as transformers uses


def _topk(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values per row, best first (ties: the lower index first)."""
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def _gather(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``array[b, index[b, j]]`` for arrays ``(batch, beams, ...)`` and ``index (batch, k)``."""
    return array[np.arange(array.shape[0])[:, None], index]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def beam_search(steps, input_ids: np.ndarray, cfg, limits, eos: list, pad) -> np.ndarray:
    """``input_ids (batch · num_beams, prompt_len)``, each input repeated ``num_beams`` times;
    returns ``(batch · num_return_sequences, length)``."""
    num_beams, length_penalty, early_stopping = cfg.num_beams, cfg.length_penalty, cfg.early_stopping
    rows, prompt_len = input_ids.shape
    batch, max_length = rows // num_beams, limits.max_length
    keep = max(2, 1 + len(eos)) * num_beams
    is_top_beam = np.arange(keep) < num_beams
    fill = (pad or eos[0]) if eos else -1  # transformers' fill value (a pad id of 0 gives way to eos)

    running = np.full((batch, num_beams, max_length), fill, dtype=np.int64)
    running[:, :, :prompt_len] = input_ids.reshape(batch, num_beams, prompt_len)
    finished_seqs = running.copy()
    running_scores = np.zeros((batch, num_beams), dtype=np.float32)
    running_scores[:, 1:] = NEG  # identical beams at first: only the first one may expand
    finished_scores = np.full((batch, num_beams), NEG, dtype=np.float32)
    is_finished = np.zeros((batch, num_beams), dtype=bool)
    can_improve = np.ones((batch, 1), dtype=bool)
    # For every generated position, the row each beam came from (-1: not generated).
    running_origin = np.full((batch, num_beams, max_length - prompt_len), -1, dtype=np.int64)
    finished_origin = running_origin.copy()
    row_offset = (np.arange(batch) * num_beams)[:, None]

    cur_len = prompt_len
    while cur_len < max_length:
        flat = running[:, :, :cur_len].reshape(rows, cur_len)
        log_probs = log_softmax(steps.next_logits(flat).astype(np.float32))
        log_probs = process_scores(log_probs, flat, cfg, limits, eos)
        vocab = log_probs.shape[-1]
        totals = (log_probs.reshape(batch, num_beams, vocab) + running_scores[:, :, None]).reshape(batch, -1)

        # The K best continuations over all beams of each input.
        best = _topk(totals, keep)
        cand_scores = np.take_along_axis(totals, best, axis=1)
        cand_beam, cand_token = best // vocab, best % vocab
        cand_seqs = _gather(running, cand_beam)
        cand_seqs[:, :, cur_len] = cand_token
        cand_origin = _gather(running_origin, cand_beam)
        cand_origin[:, :, cur_len - prompt_len] = cand_beam + row_offset
        ends = np.isin(cand_token, eos) | (cur_len + 1 >= max_length)

        # The best num_beams candidates that did not end run on.
        open_scores = cand_scores + ends * NEG
        chosen = _topk(open_scores, num_beams)
        running, running_scores = _gather(cand_seqs, chosen), _gather(open_scores, chosen)
        running_origin = _gather(cand_origin, chosen)

        # Candidates that ended (among the top num_beams) compete for the finished list.
        just_finished = ends & is_top_beam[None, :]
        scores = cand_scores / np.float32((cur_len + 1 - prompt_len) ** length_penalty)
        full = is_finished.all(axis=1, keepdims=True) & (early_stopping is True)
        scores = scores + full * NEG + ~can_improve * NEG + ~just_finished * NEG
        merged = np.concatenate([finished_scores, scores], axis=1)
        best = _topk(merged, num_beams)
        finished_seqs = _gather(np.concatenate([finished_seqs, cand_seqs], axis=1), best)
        finished_scores = _gather(merged, best)
        finished_origin = _gather(np.concatenate([finished_origin, cand_origin], axis=1), best)
        is_finished = _gather(np.concatenate([is_finished, just_finished], axis=1), best)

        steps.reorder(running_origin[:, :, cur_len - prompt_len].reshape(-1))
        cur_len += 1
        can_improve = _can_improve(can_improve, running_scores, finished_scores, is_finished, cur_len, limits, cfg)
        if not can_improve.any() or (is_finished.all() and early_stopping is True) or ends.all():
            break

    n = cfg.num_return_sequences
    sequences = finished_seqs[:, :n].reshape(batch * n, max_length)
    generated = (finished_origin[:, :n].reshape(batch * n, -1) >= 0).sum(axis=1).max()
    return sequences[:, : prompt_len + generated]


def _can_improve(can_improve, running_scores, finished_scores, is_finished, cur_len, limits, cfg) -> np.ndarray:
    """Whether the best running beam could still beat the worst finished one, per input ``(batch, 1)``."""
    if cfg.early_stopping == "never" and cfg.length_penalty > 0.0:
        best_length = limits.max_length - limits.prompt_len  # a longer sequence can only score better
    else:
        best_length = cur_len - limits.prompt_len
    best_running = running_scores[:, :1] / np.float32(best_length**cfg.length_penalty)
    worst_finished = np.where(is_finished, finished_scores.min(axis=1, keepdims=True), NEG)
    return can_improve & (best_running > worst_finished).any(axis=1, keepdims=True)

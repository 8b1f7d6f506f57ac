"""Unigram language-model training (SentencePiece's algorithm, as the Rust `tokenizers` UnigramTrainer runs it).

A Unigram tokenizer gives each piece p a probability P(p) and segments a word into the pieces x1..xk that
maximise P(x1)·...·P(xk). Training starts from far too many candidate pieces and removes the least useful
ones until `vocab_size` remain:

1. Seeds. Every character, scored by its count in the corpus, and every frequent substring: each substring
   of 2..max_piece_length characters that occurs at least twice among the distinct words and is followed
   by at least two different characters (a node of the suffix tree of the words joined by "\\0", which
   the Rust trainer builds with a suffix array; nanohf counts the substrings directly, lattice.substring_stats,
   which finds the same nodes with the same counts), scored by occurrences · length. Scores become log
   probabilities: log(score / sum of scores). At most 1,000,000 seeds, best scores first.
2. EM (n_sub_iterations rounds). E-step: the expected number of times each piece is used, over all
   segmentations of every word weighted by their probability (forward-backward on each word's lattice,
   see lattice.py), times the word's count. M-step: pieces expected fewer than 0.5 times are dropped; the
   others get log P(p) = digamma(expected(p)) - digamma(sum of expected): the Bayesian ("DP") EM, whose
   digamma acts as a sparse prior that pushes rare pieces further down.
3. Prune. For each piece, its loss: how much the corpus likelihood falls if it is removed and its
   occurrences in the best segmentations are re-segmented without it,
       loss(p) = freq(p)/N · (log P(p) - sum over alternative pieces q of log P'(q)),
   with P'(q) = (freq(q) + freq(p)) / (sum + freq(p) · (|pieces| - 1)) (the Rust trainer's formula).
   Keep the pieces without an alternative, then the highest losses, down to
   max(shrinking_factor · |pieces|, 1.1 · vocab_size). Repeat 2-3 until at most 1.1 · vocab_size remain.
4. Finalize. Every character of the corpus is kept (a missing one gets a score just above the lowest),
   then the best pieces fill the vocabulary; pieces are sorted by score, special tokens (and unk_token)
   go first with score 0.

Where the Rust trainer's order comes from a hash map (the required characters), nanohf uses code point
order, so its training is deterministic; its parallel sums add in a different order, so scores agree to
float rounding, and pieces of equal score may sort differently.
"""

import math
from collections.abc import Iterable

import numpy as np

from .lattice import UNK_PENALTY, build_trie, expected_counts, piece_alternatives, substring_stats, viterbi_counts

SEED_SIZE = 1_000_000
TRAINING_UNK = "<UNK>"  # the piece 0 used while training, whatever the final unk_token


def digamma(x: float) -> float:
    """ψ(x) = d/dx log Γ(x): the recurrence ψ(x) = ψ(x + 1) - 1/x up to x ≥ 7, then the asymptotic series
    ψ(x) ≈ log(x') + 1/(24 x'²) - 7/(960 x'⁴) + 31/(8064 x'⁶) - 127/(30720 x'⁸), x' = x - 1/2."""
    result = 0.0
    while x < 7.0:
        result -= 1.0 / x
        x += 1.0
    x -= 0.5
    xx = 1.0 / x
    xx2 = xx * xx
    xx4 = xx2 * xx2
    series = xx2 / 24.0 - 7.0 / 960.0 * xx4 + 31.0 / 8064.0 * xx4 * xx2 - 127.0 / 30720.0 * xx4 * xx4
    return result + math.log(x) + series


def _code_points(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings -> (all code points as int64, offsets): string i is chars[offsets[i]:offsets[i+1]]."""
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    chars = np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return chars, offsets


def seed_pieces(word_counts: dict[str, int], max_piece_length: int = 16, seed_size: int = SEED_SIZE):
    """Step 1: [(piece, log probability)], the characters first (by count, then code point, both descending),
    then the frequent substrings (by occurrences · length, then the string, both descending)."""
    char_count: dict[str, int] = {}
    for word, count in word_counts.items():
        for c in word:
            if c != "\0":
                char_count[c] = char_count.get(c, 0) + count
    seeds = sorted(((n, c) for c, n in char_count.items()), reverse=True)
    pieces = [(c, float(n)) for n, c in seeds]
    # the substrings that are suffix-tree nodes: twice or more among the distinct words, followed by two
    # different characters somewhere (the end of a word, "\0" in Rust's joined string, counts as one)
    chars, starts = _code_points(list(word_counts))
    rep, length, count, branching = substring_stats(chars, starts, max_piece_length)
    keep = np.flatnonzero((count >= 2) & branching)
    text = chars.astype(np.uint32).tobytes().decode("utf-32-le")
    rep, length, score = rep[keep].tolist(), length[keep].tolist(), (count[keep] * length[keep]).tolist()
    substrings = sorted(((sc, text[r : r + n]) for sc, r, n in zip(score, rep, length, strict=True)), reverse=True)
    for score, s in substrings[: max(0, seed_size - len(pieces))]:
        pieces.append((s, float(score)))
    log_total = math.log(sum(score for _, score in pieces))
    return [(p, math.log(score) - log_total) for p, score in pieces]


class _Model:
    """The pieces of one EM round as arrays for the kernels: trie, scores, unknown-node score."""

    def __init__(self, pieces: list[tuple[str, float]], max_piece_length: int):
        self.pieces = pieces
        self.chars, self.offsets = _code_points([p for p, _ in pieces])
        self.children, self.piece_at = build_trie(self.chars, self.offsets)
        self.scores = np.array([s for _, s in pieces], dtype=np.float64)
        finite = self.scores[~np.isnan(self.scores)]
        self.min_score = float(finite.min()) if len(finite) else math.inf
        self.unk_score = self.min_score - UNK_PENALTY
        self.max_len = max(max_piece_length, int(np.diff(self.offsets).max()) if len(pieces) else 1)

    def kernel_args(self):
        return self.children, self.piece_at, self.scores, 0, self.unk_score, self.max_len


def m_step(pieces: list[tuple[str, float]], expected: np.ndarray) -> list[tuple[str, float]]:
    """Step 2's M-step: drop pieces expected < 0.5 times (piece 0, the unknown, stays), then
    log P(p) = digamma(expected(p)) - digamma(sum of the kept expected counts)."""
    kept = [(pieces[0][0], math.nan)]
    total = 0.0
    for (piece, _), freq in zip(pieces[1:], expected[1:].tolist(), strict=True):
        if freq < 0.5:
            continue
        kept.append((piece, freq))
        total += freq
    log_total = digamma(total)
    return [(kept[0][0], math.nan)] + [(p, digamma(f) - log_total) for p, f in kept[1:]]


def prune(model: _Model, words: tuple, vocab_size: int, shrinking_factor: float) -> list[tuple[str, float]]:
    """Step 3: keep the pieces that cannot be removed, then those whose removal costs the most likelihood."""
    pieces = model.pieces
    args = model.kernel_args()
    always_keep, alt_offsets, alt_ids = piece_alternatives(model.chars, model.offsets, *args)
    chars, starts, counts = words
    freq = viterbi_counts(chars, starts, counts, *args)
    n_total = float(counts.sum())  # every word counted by its occurrences
    total = float(freq.sum())
    log_total = math.log(total)
    kept = [pieces[0]]
    candidates = []
    freq_list = freq.tolist()
    for p in range(1, len(pieces)):
        a, b = alt_offsets[p], alt_offsets[p + 1]
        if freq_list[p] == 0.0 and not always_keep[p]:
            continue  # never in a best segmentation, and not needed for one: safe to remove
        if a == b:
            kept.append(pieces[p])  # no alternative segmentation: keep
            continue
        # The Rust trainer's f sums the counts of the words where p occurs, once per occurrence: freq(p).
        f = freq_list[p] / n_total
        if f == 0.0:
            continue
        log_p = math.log(freq_list[p]) - log_total
        # (Rust multiplies freq(p) by the number of pieces minus one here, not of alternatives: kept.)
        log_total_alt = math.log(total + freq_list[p] * (len(pieces) - 1))
        log_alt = sum(math.log(freq_list[q] + freq_list[p]) - log_total_alt for q in alt_ids[a:b].tolist())
        candidates.append((p, f * (log_p - log_alt)))
    desired = vocab_size * 11 // 10
    pruned_size = max(desired, int(len(pieces) * shrinking_factor))
    candidates.sort(key=lambda c: -c[1])  # stable: equal losses keep piece order
    for p, _ in candidates:
        if len(kept) == pruned_size:
            break
        kept.append(pieces[p])
    return kept


def _finalize(model: _Model, required_chars: list[str], vocab_size: int, special_tokens: list[str],
              unk_token: str | None) -> tuple[list[tuple[str, float]], int | None]:  # fmt: skip
    """Step 4: the final [(piece, score)] and the unknown token's id."""
    scores = {p: s for p, s in model.pieces}
    pieces: list[tuple[str, float]] = []
    inserted = {TRAINING_UNK}
    penalty = 0.0
    for c in required_chars:
        inserted.add(c)
        if c in scores:
            pieces.append((c, scores[c]))
        else:
            pieces.append((c, model.min_score + penalty))
            penalty += 0.0001
    if unk_token is not None and unk_token in special_tokens:
        unk_id, add_unk = special_tokens.index(unk_token), False
    elif unk_token is not None:
        unk_id, add_unk = 0, True
    else:
        unk_id, add_unk = None, False
    room = vocab_size - len(special_tokens) - (1 if add_unk else 0)
    for piece, score in model.pieces:
        if piece in inserted:
            continue
        inserted.add(piece)
        pieces.append((piece, 0.0 if math.isnan(score) else score))
        if len(pieces) == room:
            break
    pieces.sort(key=lambda ps: -ps[1])  # stable sort, by decreasing score
    head = ([(unk_token, 0.0)] if add_unk else []) + [(t, 0.0) for t in special_tokens]
    return head + pieces, unk_id


def train_unigram(
    word_counts: dict[str, int],
    vocab_size: int = 8000,
    special_tokens: Iterable[str] = (),
    initial_alphabet: Iterable[str] = (),
    unk_token: str | None = None,
    shrinking_factor: float = 0.75,
    max_piece_length: int = 16,
    n_sub_iterations: int = 2,
    seed_size: int = SEED_SIZE,
    progress=None,
) -> tuple[list[tuple[str, float]], int | None]:
    """Learn a Unigram vocabulary from {word: count}: returns ([(piece, log probability)], unk_id)."""
    special_tokens = list(special_tokens)
    required = {c for word in word_counts for c in word}
    required.update(s[0] for s in initial_alphabet if s)
    if len(required) > vocab_size:
        raise ValueError(
            f"UnigramTrainer: vocab_size={vocab_size} is smaller than the {len(required)} characters of the corpus "
            "(and initial_alphabet), which must all be in the vocabulary (the Rust trainer: 'The vocabulary is "
            "not large enough to contain all chars')"
        )
    required_chars = sorted(required)
    words = list(word_counts)
    chars, starts = _code_points(words)
    counts = np.array([word_counts[w] for w in words], dtype=np.float64)
    corpus = (chars, starts, counts)

    pieces = [(TRAINING_UNK, math.nan)] + seed_pieces(word_counts, max_piece_length, seed_size)
    desired = vocab_size * 11 // 10
    model = _Model(pieces, max_piece_length)
    while True:
        for _ in range(n_sub_iterations):
            expected, _objective = expected_counts(chars, starts, counts, *model.kernel_args())
            pieces = m_step(pieces, expected)
            model = _Model(pieces, max_piece_length)
            if progress is not None:
                progress.update(1)
        if len(pieces) <= desired:
            break
        pieces = prune(model, corpus, vocab_size, shrinking_factor)
        model = _Model(pieces, max_piece_length)
    return _finalize(model, required_chars, vocab_size, special_tokens, unk_token)

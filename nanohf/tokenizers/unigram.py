"""The Unigram model (SentencePiece's): every token has a log-probability; a word is cut into the pieces
whose scores add up to the most (Viterbi over all ways of cutting it).

    vocab [("<unk>", 0), ("▁", -2), ("▁he", -5), ("llo", -6), ("▁hel", -7), ("lo", -4), ...]
    "▁hello": ▁he + llo = -11 beats ▁hel + lo = -11.5 -> ["▁he", "llo"]

As in the Rust library (models/unigram/model.rs, `encode_optimized`): for each start position, every
vocabulary piece starting there is tried (shortest first); a character no piece covers is the unknown token
with score min(scores) - 10; a later candidate must score strictly higher to replace an earlier one.
Consecutive unknown characters are fused into one unknown token whose string is the original text, and
with byte_fallback it becomes the "<0x..>" tokens of its bytes when they are all in the vocabulary.
"""

import json
import os

from .models import Model, _write_atomic

UNK_PENALTY = 10.0


class Unigram(Model):
    """Args:
        vocab: [(piece, score)] in id order (score: log-probability).
        unk_id: index of the unknown token in `vocab` (needed as soon as a character is not covered).
        byte_fallback: unknown text becomes its UTF-8 bytes "<0xE2>" ... when those pieces exist.
    """

    _fields = ("vocab", "unk_id", "byte_fallback")

    def __init__(self, vocab: list[tuple[str, float]] | None = None, unk_id: int | None = None,
                 byte_fallback: bool | None = None, alpha: float | None = None, nbest_size: int | None = None):
        if alpha is not None or nbest_size is not None:
            raise ValueError("nanohf's Unigram has no sampling (alpha / nbest_size must be None)")
        object.__setattr__(self, "_ready", False)
        if vocab is None:
            vocab, unk_id = [("<unk>", 0.0)], 0
        self.vocab = [(str(piece), float(score)) for piece, score in vocab]
        if unk_id is not None and not 0 <= unk_id < len(self.vocab):
            raise ValueError(f"Unigram: unk_id {unk_id} is not an index of the vocabulary "
                             f"({len(self.vocab)} pieces)")
        self.unk_id = unk_id
        object.__setattr__(self, "_ready", True)
        self.byte_fallback = bool(byte_fallback)

    def _rebuild(self) -> None:
        if not self.__dict__.get("_ready"):
            return
        # {piece: id}: a piece listed twice keeps its last id (a hash map filled in order).
        self._ids = {piece: i for i, (piece, _) in enumerate(self.vocab)}
        self._vocab_r = dict(enumerate(piece for piece, _ in self.vocab))
        self._scores = [score for _, score in self.vocab]
        self._max_len = max((len(piece) for piece, _ in self.vocab), default=0)
        self._min_score = min(self._scores, default=0.0)

    # The base class looks tokens up in `self.vocab` as a dict; here it is the list of (piece, score).
    def token_to_id(self, token: str) -> int | None:
        return self._ids.get(token)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._ids)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def _best_path(self, word: str) -> list[tuple[int, int, bool]]:
        """Viterbi: [(start, end, is_unknown)] of the best segmentation of `word` (characters)."""
        n, ids, scores, max_len = len(word), self._ids, self._scores, self._max_len
        unk_score = self._min_score - UNK_PENALTY
        # best[i] = (score of the best path covering word[:i], start of its last piece, id of that piece)
        best: list = [None] * (n + 1)
        best[0] = (0.0, 0, -1)
        for start in range(n):
            base = best[start][0]
            has_single = False
            for end in range(start + 1, min(n, start + max_len) + 1):
                token_id = ids.get(word[start:end])
                if token_id is None:
                    continue
                score = base + scores[token_id]
                if best[end] is None or score > best[end][0]:
                    best[end] = (score, start, token_id)
                if end == start + 1:
                    has_single = True
            if not has_single:
                if self.unk_id is None:
                    raise ValueError(f"Unigram: no piece covers the character {word[start]!r} and the model has no "
                                     "unk_id to stand for it (a tokenizer.json without model.unk_id, or "
                                     "Unigram(unk_id=None))")
                score = base + unk_score
                if best[start + 1] is None or score > best[start + 1][0]:
                    best[start + 1] = (score, start, self.unk_id)
        path, end = [], n
        while end > 0:
            _, start, token_id = best[end]
            path.append((start, end, token_id == self.unk_id))
            end = start
        path.reverse()
        return path

    def _tokenize(self, word: str):
        ids, tokens, spans = [], [], []
        pieces = []  # fuse consecutive unknown pieces into one
        for start, end, unknown in self._best_path(word):
            if unknown and pieces and pieces[-1][2]:
                pieces[-1] = (pieces[-1][0], end, True)
            else:
                pieces.append((start, end, unknown))
        for start, end, _ in pieces:
            text = word[start:end]
            token_id = self._ids.get(text)
            if token_id is None:  # unknown text (the unknown token's string is the text itself)
                if self.byte_fallback:
                    byte_ids = [self._ids.get(f"<0x{b:02X}>") for b in text.encode("utf-8")]
                    if None not in byte_ids:
                        ids += byte_ids
                        tokens += [self._vocab_r[b] for b in byte_ids]
                        spans += [(start, end)] * len(byte_ids)
                        continue
                token_id = self.unk_id
            ids.append(token_id)
            tokens.append(text)
            spans.append((start, end))
        return tuple(ids), tuple(tokens), tuple(spans)

    def save(self, folder: str, prefix: str | None = None, name: str | None = None) -> list[str]:
        path = os.path.join(folder, f"{prefix}-unigram.json" if prefix else "unigram.json")
        _write_atomic(path, json.dumps(self.to_dict(), ensure_ascii=False))
        return [path]

    def to_dict(self) -> dict:
        return {"type": "Unigram", "unk_id": self.unk_id, "vocab": [[p, s] for p, s in self.vocab],
                "byte_fallback": self.byte_fallback}

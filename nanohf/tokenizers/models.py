"""Models: one pre-tokenized word -> tokens. BPE, WordPiece and WordLevel here, Unigram in unigram.py.

    from nanohf.tokenizers import models
    models.WordPiece({"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3}).tokenize("unaffable")  # un ##aff ##able

Names, arguments, defaults and rules are those of the Rust `tokenizers` library (models/*). The algorithms
themselves are the ones nanohf's transformers-style tokenizers already run: the BPE merge loop
(`bpe.merge_pairs`, in Numba) and WordPiece's greedy longest match (`wordpiece.WordpieceTokenizer`).

CONTRACT with trainers (nanohf/tokenizers/trainers.py): a trainer builds its result with these public
constructors, exactly as `tokenizers` does,
    models.BPE(vocab: dict[str, int], merges: list[tuple[str, str]], unk_token=None,
               continuing_subword_prefix=None, end_of_word_suffix=None, fuse_unk=False, byte_fallback=False,
               ignore_merges=False)
    models.WordPiece(vocab: dict[str, int], unk_token="[UNK]", max_input_chars_per_word=100,
                     continuing_subword_prefix="##")
    models.Unigram(vocab: list[tuple[str, float]], unk_id=None, byte_fallback=False)
    models.WordLevel(vocab: dict[str, int], unk_token=None)
and sets it as `tokenizer.model`; the attributes keep those names (model.vocab, model.merges, ...).
"""

import json
import os
from typing import NamedTuple

import numpy as np

from nanohf.jsonfile import read_json as read_json_file

from .bpe import load_merges, merge_pairs
from .wordpiece import WordpieceTokenizer, load_vocab

CACHE_SIZE = 10_000  # words remembered per model (the Rust library's default capacity)


class Token(NamedTuple):
    """What Model.tokenize returns: id, token string, (start, end) BYTE offsets in the word (as `tokenizers`)."""

    id: int
    value: str
    offsets: tuple[int, int]


def _byte_offsets(word: str, spans) -> list[tuple[int, int]]:
    if word.isascii():
        return list(spans)
    starts = [0]
    for ch in word:
        starts.append(starts[-1] + len(ch.encode("utf-8")))
    return [(starts[a], starts[b]) for a, b in spans]


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


class Model:
    """Base class. Subclasses implement `_tokenize(word) -> (ids, tokens, spans)` (spans: characters of the
    word) and keep `vocab` ({token: id}) and `_vocab_r` ({id: token})."""

    _fields: tuple[str, ...] = ()  # constructor arguments: changing one after use clears the word cache

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        if name in self._fields:
            object.__setattr__(self, "_cache", {})
            self._rebuild()

    def _rebuild(self) -> None:
        """Recompute derived tables after a constructor argument changed."""

    def _word(self, word: str):
        """Cached `_tokenize`: (ids, tokens, spans) as tuples."""
        entry = self._cache.get(word)
        if entry is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            entry = self._cache[word] = self._tokenize(word)
        return entry

    def tokenize(self, sequence: str) -> list[Token]:
        """One word -> its tokens (offsets in bytes of `sequence`, like `tokenizers`)."""
        if not sequence:
            return []
        ids, tokens, spans = self._word(sequence)
        return [Token(*t) for t in zip(ids, tokens, _byte_offsets(sequence, spans), strict=True)]

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, id: int) -> str | None:
        return self._vocab_r.get(id)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def get_vocab_size(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.get_vocab_size()})"

    def _unk_id(self, unk_token: str | None) -> int:
        if unk_token is None or unk_token not in self.vocab:
            raise ValueError(f"{type(self).__name__} error: Missing {unk_token} token from the vocabulary")
        return self.vocab[unk_token]


def _vocab_dict(vocab, name: str) -> dict[str, int]:
    if vocab is None:
        return {}
    if isinstance(vocab, (str, os.PathLike)):
        raise TypeError(f"{name}: pass a vocabulary dict, or use {name}.from_file(path)")
    return dict(vocab)


class BPE(Model):
    """Byte-pair encoding: start from single characters, merge adjacent pairs by rank (merges order).

    Args:
        vocab: {token: id}. merges: [(left, right)] in the order they were learned.
        unk_token: stands for characters outside the vocabulary (None: they are dropped, as in `tokenizers`).
        continuing_subword_prefix / end_of_word_suffix: marks on non-first / last characters ("##", "</w>").
        fuse_unk: consecutive unknown characters become one unk token.
        byte_fallback: an unknown character becomes its UTF-8 bytes "<0xE2>" ... when those are in the vocab.
        ignore_merges: a word that is itself in the vocabulary is one token, merges skipped.
        dropout: only None / 0 (no dropout); BPE-dropout is a training-time regulariser.
    """

    _fields = ("vocab", "merges", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk",
               "byte_fallback", "ignore_merges")

    def __init__(self, vocab: dict[str, int] | None = None, merges: list[tuple[str, str]] | None = None,
                 cache_capacity: int | None = None, dropout: float | None = None, unk_token: str | None = None,
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None,
                 fuse_unk: bool = False, byte_fallback: bool = False, ignore_merges: bool = False):
        if dropout not in (None, 0, 0.0):
            raise ValueError("nanohf's BPE has no dropout (dropout must be None): it is a training-time option")
        if dropout is not None and not 0.0 <= dropout <= 1.0:
            raise ValueError("dropout must be between 0 and 1")
        object.__setattr__(self, "dropout", dropout)
        object.__setattr__(self, "_ready", False)
        self.vocab = _vocab_dict(vocab, "BPE")
        self.merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges or []]
        self.unk_token = unk_token
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.fuse_unk = fuse_unk
        self.byte_fallback = byte_fallback
        object.__setattr__(self, "_ready", True)
        self.ignore_merges = ignore_merges

    def _rebuild(self) -> None:
        if not self.__dict__.get("_ready"):
            return
        vocab = self.vocab
        self._vocab_r = {i: t for t, i in vocab.items()}
        prefix_len = len(self.continuing_subword_prefix or "")
        n = max(vocab.values(), default=-1) + 1
        # (left id, right id) -> (rank, merged id); a pair listed twice keeps its last rank (a hash map filled
        # in order, as in `tokenizers`). The merged token drops the right part's continuing prefix.
        table = {}
        for rank, pair in enumerate(self.merges):
            if len(pair) != 2:
                raise ValueError(f"BPE merges: each merge must be a pair of tokens, got {pair!r}")
            a, b = pair
            for token in (a, b, a + b[prefix_len:]):
                if token not in vocab:
                    raise ValueError(f"BPE merges: merge {rank} ({a!r}, {b!r}) uses {token!r}, which is not in "
                                     "the vocabulary")
            table[vocab[a] * n + vocab[b]] = (rank, vocab[a + b[prefix_len:]])
        keys = np.array(sorted(table), dtype=np.int64)
        self._pair_keys = keys
        self._pair_ranks = np.array([table[k][0] for k in keys.tolist()], dtype=np.int64)
        self._pair_ids = np.array([table[k][1] for k in keys.tolist()], dtype=np.int64)
        self._n = max(n, 1)
        # How many starting symbols each token covers: 1 for a character, the sum of its parts for a merge.
        units = {}
        for rank in np.argsort(self._pair_ranks, kind="stable").tolist():
            key = int(keys[rank])
            units[int(self._pair_ids[rank])] = units.get(key // self._n, 1) + units.get(key % self._n, 1)
        self._units = units

    def _symbols(self, word: str):
        """The word's starting symbols: [(id, length in bytes)], unknown characters handled as `tokenizers`
        does (byte fallback, then unk_token, else dropped)."""
        vocab, prefix, suffix = self.vocab, self.continuing_subword_prefix, self.end_of_word_suffix
        symbols, unk, last = [], None, len(word) - 1
        for i, ch in enumerate(word):
            s = ch
            if prefix and i:
                s = prefix + s
            if suffix and i == last:
                s = s + suffix
            size = len(ch.encode("utf-8")) if ch >= "\x80" else 1
            token_id = vocab.get(s)
            if token_id is not None:
                if unk is not None:
                    symbols.append(unk)
                    unk = None
                symbols.append((token_id, size))
                continue
            if self.byte_fallback:
                byte_ids = [vocab.get(f"<0x{b:02X}>") for b in s.encode("utf-8")]
                if None not in byte_ids:
                    symbols += [(b, 1) for b in byte_ids]
                    continue
            if self.unk_token is not None:
                unk_id = self._unk_id(self.unk_token)
                if unk is not None and self.fuse_unk:
                    unk = (unk_id, unk[1] + size)
                else:
                    if unk is not None:
                        symbols.append(unk)
                    unk = (unk_id, size)
        if unk is not None:
            symbols.append(unk)
        return symbols

    def _tokenize_bytes(self, word: str):
        """(ids, tokens, spans) with spans in bytes of `word`, laid end to end (as `tokenizers` computes them:
        a dropped unknown character shifts the spans after it)."""
        if self.ignore_merges and word in self.vocab:
            return (self.vocab[word],), (word,), ((0, len(word.encode("utf-8"))),)
        symbols = self._symbols(word)
        if not symbols:
            return (), (), ()
        ids = merge_pairs(np.array([s[0] for s in symbols], dtype=np.int64), self._pair_keys, self._pair_ranks,
                          self._pair_ids, self._n).tolist()
        spans, at, offset, units = [], 0, 0, self._units
        for token_id in ids:
            k = 1 if len(ids) == len(symbols) else units.get(token_id, 1)  # starting symbols this token covers
            size = sum(symbol[1] for symbol in symbols[at:at + k])
            spans.append((offset, offset + size))
            at, offset = at + k, offset + size
        if at != len(symbols):
            raise RuntimeError(f"BPE: inconsistent merges for {word!r} (a token reachable by merges of different "
                               "lengths)")
        vocab_r = self._vocab_r
        return tuple(ids), tuple(vocab_r[i] for i in ids), tuple(spans)

    def _tokenize(self, word: str):
        ids, tokens, spans = self._tokenize_bytes(word)
        if word.isascii():
            return ids, tokens, spans
        char_of_byte = [i for i, ch in enumerate(word) for _ in ch.encode("utf-8")]
        last = len(word)
        return ids, tokens, tuple((char_of_byte[a] if a < len(char_of_byte) else last,
                                   char_of_byte[b - 1] + 1 if b > a else (char_of_byte[a] if a < len(char_of_byte)
                                                                          else last)) for a, b in spans)

    def tokenize(self, sequence: str) -> list[Token]:
        if not sequence:
            return []
        return [Token(*t) for t in zip(*self._tokenize_bytes(sequence), strict=True)]

    # ------------------------------------------------------------------ files
    @staticmethod
    def read_file(vocab: str, merges: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """vocab.json + merges.txt -> (vocab, merges)."""
        return read_json_file(vocab, allow_nan=False), load_merges(merges)

    @classmethod
    def from_file(cls, vocab: str, merges: str, **kwargs) -> "BPE":
        return cls(*cls.read_file(vocab, merges), **kwargs)

    def save(self, folder: str, prefix: str | None = None, name: str | None = None) -> list[str]:
        stem = f"{prefix}-" if prefix else ""
        vocab_path, merges_path = os.path.join(folder, f"{stem}vocab.json"), os.path.join(folder, f"{stem}merges.txt")
        _write_atomic(vocab_path, json.dumps(dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                                             ensure_ascii=False))
        _write_atomic(merges_path, "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges))
        return [vocab_path, merges_path]

    def to_dict(self) -> dict:
        return {"type": "BPE", "dropout": self.dropout, "unk_token": self.unk_token,
                "continuing_subword_prefix": self.continuing_subword_prefix,
                "end_of_word_suffix": self.end_of_word_suffix, "fuse_unk": self.fuse_unk,
                "byte_fallback": self.byte_fallback, "ignore_merges": self.ignore_merges,
                "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                "merges": [list(m) for m in self.merges]}


class WordPiece(Model):
    """Greedy longest-match-first: "unaffable" -> un ##aff ##able; a word with an uncoverable part is unk."""

    _fields = ("vocab", "unk_token", "max_input_chars_per_word", "continuing_subword_prefix")

    def __init__(self, vocab: dict[str, int] | None = None, unk_token: str = "[UNK]",
                 max_input_chars_per_word: int = 100, continuing_subword_prefix: str = "##"):
        object.__setattr__(self, "_ready", False)
        self.vocab = _vocab_dict(vocab, "WordPiece")
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word
        object.__setattr__(self, "_ready", True)
        self.continuing_subword_prefix = continuing_subword_prefix

    def _rebuild(self) -> None:
        if self.__dict__.get("_ready"):
            self._vocab_r = {i: t for t, i in self.vocab.items()}
            self._greedy = WordpieceTokenizer(self.vocab, self.unk_token, self.max_input_chars_per_word,
                                              self.continuing_subword_prefix)

    def _tokenize(self, word: str):
        pieces, spans = self._greedy.tokenize_with_spans(word)
        if pieces == [self.unk_token]:
            self._unk_id(self.unk_token)
        return tuple(self.vocab[p] for p in pieces), tuple(pieces), tuple(spans)

    @staticmethod
    def read_file(vocab: str) -> dict[str, int]:
        return load_vocab(vocab)

    @classmethod
    def from_file(cls, vocab: str, **kwargs) -> "WordPiece":
        return cls(load_vocab(vocab), **kwargs)

    def save(self, folder: str, prefix: str | None = None, name: str | None = None) -> list[str]:
        path = os.path.join(folder, f"{prefix}-vocab.txt" if prefix else "vocab.txt")
        _write_atomic(path, "".join(t + "\n" for t in sorted(self.vocab, key=self.vocab.get)))
        return [path]

    def to_dict(self) -> dict:
        return {"type": "WordPiece", "unk_token": self.unk_token,
                "continuing_subword_prefix": self.continuing_subword_prefix,
                "max_input_chars_per_word": self.max_input_chars_per_word,
                "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1]))}


class WordLevel(Model):
    """Each word is one token: its vocabulary id, or unk_token's."""

    _fields = ("vocab", "unk_token")

    def __init__(self, vocab: dict[str, int] | None = None, unk_token: str | None = None):
        object.__setattr__(self, "_ready", False)
        self.vocab = _vocab_dict(vocab, "WordLevel")
        object.__setattr__(self, "_ready", True)
        self.unk_token = "<unk>" if unk_token is None else unk_token

    def _rebuild(self) -> None:
        if self.__dict__.get("_ready"):
            self._vocab_r = {i: t for t, i in self.vocab.items()}

    def _tokenize(self, word: str):
        token_id = self.vocab.get(word)
        if token_id is None:
            return (self._unk_id(self.unk_token),), (self.unk_token,), ((0, len(word)),)
        return (token_id,), (word,), ((0, len(word)),)

    @staticmethod
    def read_file(vocab: str) -> dict[str, int]:
        return read_json_file(vocab, allow_nan=False)

    @classmethod
    def from_file(cls, vocab: str, unk_token: str | None = None) -> "WordLevel":
        return cls(cls.read_file(vocab), unk_token)

    def save(self, folder: str, prefix: str | None = None, name: str | None = None) -> list[str]:
        path = os.path.join(folder, f"{prefix}-vocab.json" if prefix else "vocab.json")
        _write_atomic(path, json.dumps(dict(sorted(self.vocab.items(), key=lambda kv: kv[1])), ensure_ascii=False))
        return [path]

    def to_dict(self) -> dict:
        return {"type": "WordLevel", "vocab": dict(sorted(self.vocab.items(), key=lambda kv: kv[1])),
                "unk_token": self.unk_token}


from .unigram import Unigram  # noqa: E402  (Unigram subclasses Model)

__all__ = ["BPE", "Model", "Token", "Unigram", "WordLevel", "WordPiece"]

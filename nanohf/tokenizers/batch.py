"""`BatchEncoding`: what a tokenizer call returns. A dict {"input_ids": ..., "attention_mask": ...} that also
remembers each row's `Encoding`, so one can ask which word or which characters a token came from.

    enc = tok(["Hello world", "Hi"], padding=True)
    enc.input_ids          # [[101, 7592, 2088, 102], [101, 7632, 102, 0]]
    enc.tokens(1)          # ['[CLS]', 'hi', '[SEP]', '[PAD]']
    enc.word_ids(0)        # [None, 0, 1, None]
    enc.char_to_token(0, 6)  # 2: character 6 ("w") is inside token 2 ("world")
"""

from itertools import chain
from typing import NamedTuple

import numpy as np


class CharSpan(NamedTuple):
    """Characters start..end (end excluded) of the original text."""

    start: int
    end: int


class TokenSpan(NamedTuple):
    """Tokens start..end (end excluded) of an encoded row."""

    start: int
    end: int


class BatchEncoding(dict):
    """A dict of model inputs with attribute access (`enc.input_ids`) and token/word/character lookups.

    Args:
        data: {name: values}; values are lists of ints (one row), lists of lists (rows) or arrays (B, seq).
        encodings: the `Encoding` of each row (None when built from plain lists, e.g. by `pad()`).
        tensor_type: None to keep lists, "np" to turn every value into an int64 array.
        n_sequences: 1 for single texts, 2 for pairs.

    The lookups take `(batch_index, index)`, or just `(index)` for row 0, like transformers:
    `enc.char_to_token(5)` is `enc.char_to_token(0, 5)`.
    """

    def __init__(self, data=None, encodings=None, tensor_type=None, n_sequences=None):
        super().__init__(data or {})
        self._encodings = encodings
        if n_sequences is None and encodings:
            n_sequences = encodings[0].n_sequences
        self._n_sequences = n_sequences
        self.convert_to_tensors(tensor_type)

    @classmethod
    def from_encodings(cls, encodings, is_batched=True, tensor_type=None, return_token_type_ids=True,
                       return_attention_mask=True, return_overflowing_tokens=False, return_special_tokens_mask=False,
                       return_offsets_mapping=False, return_length=False):
        """The output of a tokenizer call: one row per Encoding (and per overflow window if asked for), keys in
        transformers' order. A single example (is_batched=False) without tensors or overflow loses its batch
        dimension, except `length`, which stays a list (as in transformers).
        """
        rows, sample_of_row = encodings, None
        if return_overflowing_tokens:
            rows = [row for encoding in encodings for row in [encoding, *encoding.overflowing]]
            sample_of_row = [i for i, encoding in enumerate(encodings) for _ in range(1 + len(encoding.overflowing))]
        data = {"input_ids": [row.ids for row in rows]}
        for key, wanted, column in (("token_type_ids", return_token_type_ids, "type_ids"),
                                    ("attention_mask", return_attention_mask, "attention_mask"),
                                    ("special_tokens_mask", return_special_tokens_mask, "special_tokens_mask"),
                                    ("offset_mapping", return_offsets_mapping, "offsets")):
            if wanted:
                data[key] = [getattr(row, column) for row in rows]
        if return_length:
            data["length"] = [len(row.ids) for row in rows]
        if sample_of_row is not None:
            data["overflow_to_sample_mapping"] = sample_of_row
        if not is_batched and tensor_type is None and not return_overflowing_tokens:
            data = {key: value[0] if value and isinstance(value[0], list) else value for key, value in data.items()}
        return cls(data, rows, tensor_type=tensor_type)

    def __getitem__(self, key):
        """enc["input_ids"] -> values; enc[i] -> the Encoding of row i; enc[a:b] -> {name: values[a:b]}."""
        if isinstance(key, str):
            return super().__getitem__(key)
        if self._encodings is not None:
            return self._encodings[key]
        if isinstance(key, slice):
            return {name: values[key] for name, values in self.items()}
        raise KeyError("Invalid key: use a str (an input name), an int (a row's Encoding) or a slice.")

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    # A BatchEncoding is pickled and copied like the dict it is, plus its encodings.
    def __getstate__(self):
        return {"encodings": self._encodings, "n_sequences": self._n_sequences}

    def __setstate__(self, state):
        self._encodings = state["encodings"]
        self._n_sequences = state["n_sequences"]

    @property
    def encodings(self):
        """The `Encoding` of each row, or None."""
        return self._encodings

    @property
    def is_fast(self):
        """True when token-level information is available (transformers' name for it)."""
        return self._encodings is not None

    @property
    def n_sequences(self):
        return self._n_sequences

    # ------------------------------------------------------------------ token-level lookups
    def _encoding(self, batch_index, what):
        if not self._encodings:
            raise ValueError(f"{what}() needs the token-level information of a tokenizer call; "
                             "this BatchEncoding was built from plain lists")
        return self._encodings[batch_index]

    @staticmethod
    def _split(first, second):
        """(batch_index, index) from the (index) or (batch_index, index) calling conventions."""
        return (0, first) if second is None else (first, second)

    def tokens(self, batch_index=0):
        """Token strings of row `batch_index`, e.g. ['[CLS]', 'hello', '[SEP]']."""
        return self._encoding(batch_index, "tokens").tokens

    def word_ids(self, batch_index=0):
        """For each token: the index of the word it belongs to, or None (special tokens, padding)."""
        return self._encoding(batch_index, "word_ids").words

    def sequence_ids(self, batch_index=0):
        """For each token: 0 (first text), 1 (second text) or None (special tokens, padding)."""
        return self._encoding(batch_index, "sequence_ids").sequence_ids

    def token_to_sequence(self, batch_or_token_index, token_index=None):
        batch, token = self._split(batch_or_token_index, token_index)
        return self._encoding(batch, "token_to_sequence").token_to_sequence(token)

    def token_to_word(self, batch_or_token_index, token_index=None):
        batch, token = self._split(batch_or_token_index, token_index)
        return self._encoding(batch, "token_to_word").token_to_word(token)

    def token_to_chars(self, batch_or_token_index, token_index=None):
        """CharSpan(start, end) of the characters a token covers, or None for special tokens."""
        batch, token = self._split(batch_or_token_index, token_index)
        span = self._encoding(batch, "token_to_chars").token_to_chars(token)
        return None if span is None else CharSpan(*span)

    def word_to_tokens(self, batch_or_word_index, word_index=None, sequence_index=0):
        """TokenSpan(start, end) of the tokens of one word of text `sequence_index`, or None."""
        batch, word = self._split(batch_or_word_index, word_index)
        span = self._encoding(batch, "word_to_tokens").word_to_tokens(word, sequence_index)
        return None if span is None else TokenSpan(*span)

    def word_to_chars(self, batch_or_word_index, word_index=None, sequence_index=0):
        batch, word = self._split(batch_or_word_index, word_index)
        span = self._encoding(batch, "word_to_chars").word_to_chars(word, sequence_index)
        if span is None:
            raise ValueError(f"word {word} has no tokens in text {sequence_index}")
        return CharSpan(*span)

    def char_to_token(self, batch_or_char_index, char_index=None, sequence_index=0):
        """Index of the token containing character `char_index` of text `sequence_index`, or None (spaces)."""
        batch, char = self._split(batch_or_char_index, char_index)
        return self._encoding(batch, "char_to_token").char_to_token(char, sequence_index)

    def char_to_word(self, batch_or_char_index, char_index=None, sequence_index=0):
        batch, char = self._split(batch_or_char_index, char_index)
        return self._encoding(batch, "char_to_word").char_to_word(char, sequence_index)

    # ------------------------------------------------------------------ arrays
    def convert_to_tensors(self, tensor_type=None):
        """Turn every value into a NumPy array (int64; offsets become (B, seq, 2)). Rows must be equally long."""
        if tensor_type is None:
            return self
        if tensor_type != "np":
            raise ValueError(f"return_tensors={tensor_type!r} is not supported; nanohf only returns 'np' arrays")
        for key, value in self.items():
            if isinstance(value, np.ndarray):
                continue
            if not isinstance(value, (list, tuple)):  # e.g. the int label of a single example given to pad()
                raise ValueError(f"Unable to create tensor from `{key}`={value!r}: values must be lists of ints "
                                 "(one example) or lists of lists (a batch).")
            lengths = {len(row) for row in value if isinstance(row, (list, tuple, np.ndarray))}
            if len(lengths) > 1:
                raise ValueError(
                    f"Rows of `{key}` have different lengths ({sorted(lengths)}), so they cannot form one array: "
                    "pass padding=True (and maybe truncation=True) together with return_tensors='np'.")
            self[key] = _as_array(value)
        return self


def _as_array(values):
    """A list of ints, of equally long rows of ints, or of rows of (start, end) pairs -> an int64 array.

    Telling NumPy the type up front is 3x faster than letting it inspect 100,000s of Python ints; values
    that are not ints (float labels, ...) get NumPy's usual type inference.
    """
    rows = bool(values) and isinstance(values[0], (list, tuple))
    first = next(chain.from_iterable(values) if rows else iter(values), None)
    if first is None or type(first) in (int, tuple):  # (no values at all: int64 too, like transformers)
        return np.array(values, dtype=np.int64)
    return np.asarray(values)

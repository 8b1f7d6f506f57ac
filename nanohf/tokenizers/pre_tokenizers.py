"""Pre-tokenizers: cut the normalized text into words; the model then tokenizes each word on its own.

    from nanohf.tokenizers import pre_tokenizers
    pre_tokenizers.Whitespace().pre_tokenize_str("Hello, how are  you?")
    # [('Hello', (0, 5)), (',', (5, 6)), ('how', (7, 10)), ('are', (11, 14)), ('you', (16, 19)), ('?', (19, 20))]

Each word keeps the span of the original text it covers. Names, arguments and rules are those of the Rust
`tokenizers` library (pre_tokenizers/*.rs); the splitting behaviours are explained in normalized.py.
"""


import regex

from .bpe import BYTE_TO_CHAR, GPT2_PATTERN
from .normalized import SPLIT_BEHAVIORS, Invert, NormalizedString, PreTokenizedString
from .pattern import Regex, pattern_to_dict
from .wordpiece import _code_points, category, is_punctuation

# Rust's char::is_numeric: the number categories; Rust's Unicode 16 knows these digits, Python 3.11's does not.
_NUMERIC = frozenset(("Nd", "Nl", "No"))
_NEWER_DIGITS = frozenset(map(chr, _code_points("""
    10D40-10D49 116D0-116E3 11BF0-11BF9 11DE0-11DE9 11F50-11F59 16130-16139 16D70-16D79 16FF4-16FF6 1CCF0-1CCF9
    1D2C0-1D2D3 1E4F0-1E4F9 1E5F1-1E5FA""")))


def is_numeric(ch: str) -> bool:
    return category(ch) in _NUMERIC or ch in _NEWER_DIGITS


# `tokenizers`' Whitespace pre-tokenizer: runs of word characters, or runs of other non-space characters. The
# `regex` package's \w knows Unicode 17; Rust's regex crate (Unicode 16) sees these as other characters.
_UNICODE_17_WORD = ("\u088f\u0c5c\u0cdc\u1acf-\u1add\u1ae0-\u1aeb\ua7ce-\ua7cf\ua7d2\ua7d4\ua7f1"
                    "\U00010940-\U00010959\U00010ec5-\U00010ec7\U00010efa-\U00010efb\U00011b60-\U00011b67"
                    "\U00011db0-\U00011ddb\U00011de0-\U00011de9\U00016ea0-\U00016eb8\U00016ebb-\U00016ed3"
                    "\U00016ff2-\U00016ff6\U000187f8-\U000187ff\U00018d09-\U00018d1e\U00018d80-\U00018df2"
                    "\U0001e6c0-\U0001e6de\U0001e6e0-\U0001e6f5\U0001e6fe-\U0001e6ff\U0002b73a-\U0002b73f"
                    "\U0002cea2-\U0002cead\U000323b0-\U00033479")
_WHITESPACE_RE = regex.compile(rf"[\w--[{_UNICODE_17_WORD}]]+|[[^\w\s][{_UNICODE_17_WORD}]]+", regex.V1)
# BertPreTokenizer on ASCII text in one pass: runs that are neither whitespace nor ASCII punctuation, or one
# punctuation character (whitespace as Rust sees it: no U+001C..U+001F).
_BERT_ASCII_RE = regex.compile(r"[^\t\n\x0b\x0c\r !-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")
# Rust's char::is_whitespace (Unicode White_Space), and the runs between such characters.
_RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_NOT_WHITESPACE_RUN = regex.compile(f"[^{_RUST_WHITESPACE}]+")
# Bytes 0..127 -> GPT-2's printable characters, for ASCII words (one character per byte, spans unchanged).
_ASCII_BYTE_TABLE = str.maketrans({chr(b): BYTE_TO_CHAR[b] for b in range(128)})


def _behavior(behavior: str) -> str:
    """Accept "merged_with_next" as well as tokenizer.json's "MergedWithNext"."""
    snake = {v: k for k, v in SPLIT_BEHAVIORS.items()}.get(behavior, behavior)
    if snake not in SPLIT_BEHAVIORS:
        raise ValueError(f"unknown split behavior {behavior!r}; expected one of {sorted(SPLIT_BEHAVIORS)}")
    return snake


class PreTokenizer:
    """Base class: `pre_tokenize(PreTokenizedString)` cuts in place; `pre_tokenize_str` is the string version."""

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        raise NotImplementedError

    def pre_tokenize_str(self, sequence: str) -> list[tuple[str, tuple[int, int]]]:
        """[(word, (start, end))]: the words of `sequence` and the characters of `sequence` each covers."""
        pretok = PreTokenizedString(sequence)
        self.pre_tokenize(pretok)
        return pretok.get_splits()

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


class Whitespace(PreTokenizer):
    """Words are runs of letters/digits/underscore or runs of other non-space characters: "it's" -> it ' s."""

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(lambda _, piece: piece.split(Invert(_WHITESPACE_RE), "removed"))


class WhitespaceSplit(PreTokenizer):
    """Split on whitespace only."""

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        # = piece.split(rust_is_whitespace, "removed"), in one regex pass
        pretok.split(lambda _, piece: [piece.slice(*m.span()) for m in _NOT_WHITESPACE_RUN.finditer(piece.normalized)])


class BertPreTokenizer(PreTokenizer):
    """Split on whitespace, then make every punctuation character (ASCII symbols included) its own word."""

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(self._split)

    @staticmethod
    def _split(_, piece: NormalizedString) -> list[NormalizedString]:
        text = piece.normalized
        if text.isascii():
            return [piece.slice(*m.span()) for m in _BERT_ASCII_RE.finditer(text)]
        return [word for m in _NOT_WHITESPACE_RUN.finditer(text)
                for word in piece.slice(*m.span()).split(is_punctuation, "isolated")]


class Punctuation(PreTokenizer):
    def __init__(self, behavior: str = "isolated"):
        self.behavior = _behavior(behavior)

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(lambda _, piece: piece.split(is_punctuation, self.behavior))

    def to_dict(self) -> dict:
        return {"type": "Punctuation", "behavior": SPLIT_BEHAVIORS[self.behavior]}


class Digits(PreTokenizer):
    """Isolate runs of digits ("abc123" -> abc 123), or each digit (individual_digits=True)."""

    def __init__(self, individual_digits: bool = False):
        self.individual_digits = individual_digits

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        behavior = "isolated" if self.individual_digits else "contiguous"
        pretok.split(lambda _, piece: piece.split(is_numeric, behavior))

    def to_dict(self) -> dict:
        return {"type": "Digits", "individual_digits": self.individual_digits}


class CharDelimiterSplit(PreTokenizer):
    def __init__(self, delimiter: str):
        if len(delimiter) != 1:
            raise ValueError(f"CharDelimiterSplit expects a single character, got {delimiter!r}")
        self.delimiter = delimiter

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(lambda _, piece: piece.split(lambda c: c == self.delimiter, "removed"))

    def to_dict(self) -> dict:
        return {"type": "CharDelimiterSplit", "delimiter": self.delimiter}


class Split(PreTokenizer):
    """Split on a pattern (a str matched literally, or a Regex) with a behavior; invert splits on the gaps."""

    def __init__(self, pattern: str | Regex, behavior: str, invert: bool = False):
        self.pattern, self.behavior, self.invert = pattern, _behavior(behavior), invert

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pattern = Invert(self.pattern) if self.invert else self.pattern
        pretok.split(lambda _, piece: piece.split(pattern, self.behavior))

    def to_dict(self) -> dict:
        return {"type": "Split", "pattern": pattern_to_dict(self.pattern), "behavior": SPLIT_BEHAVIORS[self.behavior],
                "invert": self.invert}


class Metaspace(PreTokenizer):
    """SentencePiece's view of spaces: " " becomes `replacement` ("▁"), one is put in front of the text
    (prepend_scheme "always"; "first": only before the first piece of the text; "never"), and with split=True
    every "▁" starts a new word: "Hey friend" -> ▁Hey ▁friend."""

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True):
        if len(replacement) != 1:
            raise ValueError(f"Metaspace replacement must be one character, got {replacement!r}")
        if prepend_scheme not in ("always", "never", "first"):
            raise ValueError(f"{prepend_scheme!r} is not a valid prepend_scheme: 'always', 'never' or 'first'")
        self.replacement, self.prepend_scheme, self.split = replacement, prepend_scheme, split

    def _pieces(self, _, piece: NormalizedString) -> list[NormalizedString]:
        piece.replace(" ", self.replacement)
        if not piece.normalized.startswith(self.replacement) and (
                self.prepend_scheme == "always" or (self.prepend_scheme == "first" and piece.start == 0)):
            piece.prepend(self.replacement)
        return piece.split(self.replacement, "merged_with_next") if self.split else [piece]

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(self._pieces)

    def to_dict(self) -> dict:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split}


def byte_level_transform(piece: NormalizedString) -> None:
    """Rewrite a piece as GPT-2's byte characters: each UTF-8 byte becomes one printable character; the
    bytes of one character all keep that character's span."""
    text = piece.normalized
    if text.isascii():
        piece.normalized = text.translate(_ASCII_BYTE_TABLE)
        return
    piece.transform((BYTE_TO_CHAR[b], int(k > 0)) for ch in text for k, b in enumerate(ch.encode("utf-8")))


class ByteLevel(PreTokenizer):
    """GPT-2's pre-tokenizer: optionally a space in front, GPT-2's regex split (use_regex), then every byte
    as a printable character ("Ġ" is the space). trim_offsets is used by the ByteLevel post-processor."""

    def __init__(self, add_prefix_space: bool = True, use_regex: bool = True, trim_offsets: bool = True):
        self.add_prefix_space, self.use_regex, self.trim_offsets = add_prefix_space, use_regex, trim_offsets

    @staticmethod
    def alphabet() -> list[str]:
        """The 256 characters byte-level tokens are made of."""
        return list(BYTE_TO_CHAR.values())

    def _pieces(self, _, piece: NormalizedString) -> list[NormalizedString]:
        if self.add_prefix_space and not piece.normalized.startswith(" "):
            piece.prepend(" ")
        return piece.split(GPT2_PATTERN, "isolated") if self.use_regex else [piece]

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        pretok.split(self._pieces)
        pretok.normalize(byte_level_transform)

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}


class Sequence(PreTokenizer):
    def __init__(self, pre_tokenizers: list):
        self.pre_tokenizers = list(pre_tokenizers)

    def pre_tokenize(self, pretok: PreTokenizedString) -> None:
        for pre_tokenizer in self.pre_tokenizers:
            pre_tokenizer.pre_tokenize(pretok)

    def __getitem__(self, index: int) -> PreTokenizer:
        return self.pre_tokenizers[index]

    def __len__(self) -> int:
        return len(self.pre_tokenizers)

    def to_dict(self) -> dict:
        return {"type": "Sequence", "pretokenizers": [p.to_dict() for p in self.pre_tokenizers]}


__all__ = ["BertPreTokenizer", "ByteLevel", "CharDelimiterSplit", "Digits", "Metaspace", "PreTokenizer",
           "Punctuation", "Sequence", "Split", "Whitespace", "WhitespaceSplit"]

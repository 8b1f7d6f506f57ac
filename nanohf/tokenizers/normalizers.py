"""Normalizers: the first step of the pipeline, rewriting the text before it is cut into words.

    from nanohf.tokenizers import normalizers
    normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()]) \\
        .normalize_str("Héllò hôw are ü?")   # 'hello how are u?'

Each normalizer works on a `NormalizedString`, which keeps for every character the span of the original text
it came from, so tokens still point at the right characters afterwards (see normalized.py). The names,
arguments and rules are those of the Rust `tokenizers` library (normalizers/*.rs).
"""

import unicodedata

from .normalized import NormalizedString, find_matches, rust_is_whitespace
from .pattern import Regex, pattern_to_dict
from .precompiled import Precompiled
from .wordpiece import _ASCII_CONTROL, _NEWER_LOWERCASE, _code_points, category, is_cjk, is_control

# The Unicode normalization tables of `tokenizers` (the unicode-normalization-alignments crate) are older than
# Python's: these characters it does not decompose (compatibility forms added since, and U+11938), and these
# marks it sees as starters (combining class 0), so never reorders. Found by running every code point through both.
_NO_DECOMPOSITION = frozenset(map(chr, _code_points("32FF A7F2-A7F4 AB69 10781-10785 10787-107B0 107B2-107BA 11938 "
                                                    "1F16C 1FBF0-1FBF9")))
_STARTERS_FOR_RUST = frozenset(map(chr, _code_points("""
    07FD 0898-089F 08CA-08D3 09FE 0C3C 0D3B-0D3C 0EBA 1715 1ABF-1ACE 1DF6-1DFA A82C 10D24-10D27 10EAB-10EAC
    10F46-10F50 10F82-10F85 11070 1133B 1145E 11839-1183A 1193D-1193E 11943 119E0 11A34 11A47 11A99 11D42
    11D44-11D45 11D97 16FF0-16FF1 1E130-1E136 1E2AE 1E2EC-1E2EF""")))


def _combining(ch: str) -> int:
    """The canonical combining class, as `tokenizers` sees it."""
    return 0 if ch in _STARTERS_FOR_RUST else unicodedata.combining(ch)


# StripAccents asks the `unicode-normalization` crate whether a character is a mark; its tables and Python's
# disagree on these (newer or re-categorised marks). Found by running every code point through both.
_MARK_DISAGREEMENTS = frozenset(map(chr, _code_points("""
    08D4-08E1 1715 1885-1886 1CF2-1CF3 1CF7 1DFB A8C5 A9BD 11145-11146 111CE 1123E 11438-1143F 11442-11444 11446
    1182C-1182E 11838 11930-11935 11937-11938 1193D 11940 11942 119D1-119D3 119DC-119DF 119E4 11A39 11A57-11A58
    11A97 11C30-11C36 11C38-11C3D 11C3F 11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 11D8A-11D8E 11D93-11D94
    11D96 11EF5-11EF6 16F7F-16F87 16FF0-16FF1 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024 1E026-1E02A
    1E944-1E94A
""")))


def is_combining_mark(ch: str) -> bool:
    """Whether `ch` is a mark (Mn, Mc, Me) for `tokenizers`' StripAccents."""
    return (category(ch)[0] == "M") != (ch in _MARK_DISAGREEMENTS)


def rust_lower(ch: str) -> str:
    """Rust's char::to_lowercase: Python's, plus the capitals its newer Unicode knows (see wordpiece.py)."""
    cp = ord(ch)
    return chr(_NEWER_LOWERCASE[cp]) if cp in _NEWER_LOWERCASE else ch.lower()


def _decompose(text: str, compat: bool) -> list[list]:
    """text -> [[char, change]] of its canonical (compat=False) or compatibility decomposition.

    Each character's decomposition replaces it (first char, change 0) and inserts the rest (+1); then
    combining marks are put in canonical order, each carrying its change along (as the Rust library does).
    """
    form = "NFKD" if compat else "NFD"
    out = []
    for ch in text:
        if ch < "\x80" or ch in _NO_DECOMPOSITION:
            out.append([ch, 0])
            continue
        out += [[c, int(k > 0)] for k, c in enumerate(unicodedata.normalize(form, ch))]
    # Canonical ordering: stable sort of every run of non-starters by combining class.
    i, n = 0, len(out)
    while i < n:
        if _combining(out[i][0]) == 0:
            i += 1
            continue
        j = i
        while j < n and _combining(out[j][0]) != 0:
            j += 1
        if j - i > 1:
            out[i:j] = sorted(out[i:j], key=lambda item: _combining(item[0]))
        i = j
    return out


_COMPOSE_CACHE: dict[tuple[str, str], str | None] = {}


def _compose_pair(a: str, b: str) -> str | None:
    """The primary composite of starter `a` followed by `b` ("e" + U+0301 -> "é"), or None."""
    key = (a, b)
    if key not in _COMPOSE_CACHE:
        composed = unicodedata.normalize("NFC", a + b)
        _COMPOSE_CACHE[key] = composed if len(composed) == 1 and a not in _NO_DECOMPOSITION else None
    return _COMPOSE_CACHE[key]


def _compose(chars: list[list]) -> list[list]:
    """Canonical composition (UAX #15) of decomposed [[char, change]]: a mark absorbed into its starter
    takes its change with it, minus one (one character fewer)."""
    out, starter, last_class = [], None, 0
    for ch, change in chars:
        ccc = _combining(ch)
        if starter is not None and (last_class < ccc or last_class == 0):
            composite = _compose_pair(out[starter][0], ch)
            if composite is not None:
                out[starter] = [composite, out[starter][1] + change - 1]
                continue
        if ccc == 0:
            starter = len(out)
        last_class = ccc
        out.append([ch, change])
    return out


class Normalizer:
    """Base class: `normalize(NormalizedString)` rewrites in place; `normalize_str` is the string version."""

    def normalize(self, normalized: NormalizedString) -> None:
        raise NotImplementedError

    def normalize_str(self, sequence: str) -> str:
        """The normalized text of `sequence` (the alignment is dropped)."""
        normalized = NormalizedString(sequence)
        self.normalize(normalized)
        return normalized.normalized

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


class _Unicode(Normalizer):
    """NFD / NFKD / NFC / NFKC with alignments (ASCII and already-normalized text are left alone)."""

    form = "NFD"

    def normalize(self, normalized: NormalizedString) -> None:
        text = normalized.normalized
        if text.isascii() or (not any(c in _NO_DECOMPOSITION for c in text)
                              and unicodedata.is_normalized(self.form, text)):
            return
        chars = _decompose(text, compat="K" in self.form)
        if self.form.endswith("C"):
            chars = _compose(chars)
        normalized.transform((c, change) for c, change in chars)


class NFD(_Unicode):
    form = "NFD"


class NFKD(_Unicode):
    form = "NFKD"


class NFC(_Unicode):
    form = "NFC"


class NFKC(_Unicode):
    form = "NFKC"


class Lowercase(Normalizer):
    def normalize(self, normalized: NormalizedString) -> None:
        if normalized.normalized.isascii():
            normalized.normalized = normalized.normalized.lower()
        else:
            normalized.map_chars(rust_lower)


class StripAccents(Normalizer):
    """Delete combining marks (categories Mn, Mc, Me); usually after NFD, which splits "é" into "e" + mark."""

    def normalize(self, normalized: NormalizedString) -> None:
        if not normalized.normalized.isascii():
            normalized.filter(lambda c: not is_combining_mark(c))


class Strip(Normalizer):
    def __init__(self, left: bool = True, right: bool = True):
        self.left, self.right = left, right

    def normalize(self, normalized: NormalizedString) -> None:
        normalized.strip(self.left, self.right)

    def to_dict(self) -> dict:
        return {"type": "Strip", "strip_left": self.left, "strip_right": self.right}


class Replace(Normalizer):
    """Replace every match of `pattern` (a str, or a Regex) by `content`."""

    def __init__(self, pattern: str | Regex, content: str):
        self.pattern, self.content = pattern, content

    def normalize(self, normalized: NormalizedString) -> None:
        normalized.replace(self.pattern, self.content)

    def to_dict(self) -> dict:
        return {"type": "Replace", "pattern": pattern_to_dict(self.pattern), "content": self.content}


class Prepend(Normalizer):
    """Put `prepend` in front of a non-empty text (SentencePiece's "▁" before the first word)."""

    def __init__(self, prepend: str = "▁"):
        self.prepend = prepend

    def normalize(self, normalized: NormalizedString) -> None:
        normalized.prepend(self.prepend)

    def to_dict(self) -> dict:
        return {"type": "Prepend", "prepend": self.prepend}


_TAB_NEWLINE_TO_SPACE = str.maketrans("\t\n\r", "   ")


class BertNormalizer(Normalizer):
    """BERT's clean-up: delete control characters (and NUL, U+FFFD), turn whitespace into spaces, put spaces
    around CJK ideographs, strip accents (None: when lower-casing), lower-case."""

    def __init__(self, clean_text: bool = True, handle_chinese_chars: bool = True, strip_accents: bool | None = None,
                 lowercase: bool = True):
        self.clean_text, self.handle_chinese_chars = clean_text, handle_chinese_chars
        self.strip_accents, self.lowercase = strip_accents, lowercase

    def normalize(self, normalized: NormalizedString) -> None:
        text = normalized.normalized
        if text.isascii():  # the common case: no CJK, no accents, only ASCII control characters to handle
            if self.clean_text:
                if _ASCII_CONTROL.search(text):  # NUL and the other control characters go (not tab/newline/CR)
                    normalized.filter(lambda c: c != "\0" and not is_control(c))
                normalized.normalized = normalized.normalized.translate(_TAB_NEWLINE_TO_SPACE)
            if self.lowercase:
                normalized.normalized = normalized.normalized.lower()
            return
        if self.clean_text:
            normalized.filter(lambda c: c not in "\0\ufffd" and not is_control(c))
            normalized.map(lambda c: " " if c in "\t\n\r" or rust_is_whitespace(c) else c)
        if self.handle_chinese_chars and any(is_cjk(c) for c in normalized.normalized):
            dest = []
            for c in normalized.normalized:
                dest += ((" ", 0), (c, 1), (" ", 1)) if is_cjk(c) else ((c, 0),)
            normalized.transform(dest)
        if self.strip_accents if self.strip_accents is not None else self.lowercase:
            NFD().normalize(normalized)
            normalized.filter(lambda c: category(c) != "Mn")
        if self.lowercase:
            normalized.map_chars(rust_lower)

    def to_dict(self) -> dict:
        return {"type": "BertNormalizer", "clean_text": self.clean_text,
                "handle_chinese_chars": self.handle_chinese_chars, "strip_accents": self.strip_accents,
                "lowercase": self.lowercase}


class Sequence(Normalizer):
    def __init__(self, normalizers: list):
        self.normalizers = list(normalizers)

    def normalize(self, normalized: NormalizedString) -> None:
        for normalizer in self.normalizers:
            normalizer.normalize(normalized)

    def __getitem__(self, index: int) -> Normalizer:
        return self.normalizers[index]

    def __len__(self) -> int:
        return len(self.normalizers)

    def to_dict(self) -> dict:
        return {"type": "Sequence", "normalizers": [n.to_dict() for n in self.normalizers]}


__all__ = ["BertNormalizer", "Lowercase", "NFC", "NFD", "NFKC", "NFKD", "Normalizer", "Precompiled", "Prepend",
           "Replace", "Sequence", "Strip", "StripAccents", "find_matches"]

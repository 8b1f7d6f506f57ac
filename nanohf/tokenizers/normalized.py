"""A string that remembers where each of its characters came from, and a text cut into such strings.

Every step of the `tokenizers` pipeline (normalizers, pre-tokenizers) rewrites the text, yet each final token
must point back at characters of the ORIGINAL text (the offsets mapping). `NormalizedString` carries, for each
character of the current (normalized) text, the (start, end) character span of the original it stands for:

    original "Héllo"  --NFD-->  "He\u0301llo"   align [(0,1), (1,2), (1,2), (2,3), (3,4), (4,5)]
                      --drop marks-->  "Hello"  align [(0,1), (1,2), (2,3), (3,4), (4,5)]

All rewrites go through `transform`, which follows the Rust library's rule (`NormalizedString::transform_range`):
each new character comes with a `change`: 0 replaces the next original character (and takes its span), -n
replaces it and deletes the n after it (their spans are lost), +1 is inserted and takes the span of the
character just before it (or an empty span at the start). Spans are in characters here (the Rust library
keeps bytes and converts at the end; on character boundaries the two agree).

`PreTokenizedString` is the text cut into pieces (splits), each a NormalizedString and, once the model has
run (or for an added token), its tokens.
"""

from collections.abc import Callable, Iterable

Span = tuple[int, int]


def rust_is_whitespace(ch: str) -> bool:
    """Rust's `char::is_whitespace` (Unicode White_Space): like str.isspace() but without U+001C..U+001F."""
    return ch.isspace() and not "\x1c" <= ch <= "\x1f"


class NormalizedString:
    """`normalized` text plus `align[i]`, the original-text (start, end) span of normalized character i.

    Spans are absolute: characters of the whole input text, whatever piece this string is. `start`/`end`
    are the span of original text this piece covers (fixed when the piece is cut, like the Rust library's
    original_shift + len_original). `align` None means "character i is original character start + i",
    the common case that costs nothing until a rewrite changes the length.
    """

    __slots__ = ("normalized", "_align", "start", "end")

    def __init__(self, normalized: str, align: list[Span] | None = None, start: int = 0, end: int | None = None):
        self.normalized = normalized
        self._align = align
        self.start = start
        self.end = start + len(normalized) if end is None else end

    @property
    def align(self) -> list[Span]:
        if self._align is None:
            s = self.start
            self._align = [(s + i, s + i + 1) for i in range(len(self.normalized))]
        return self._align

    def get(self) -> str:
        return self.normalized

    def __len__(self) -> int:
        return len(self.normalized)

    def __repr__(self) -> str:
        return f"NormalizedString({self.normalized!r}, original span ({self.start}, {self.end}))"

    def original_span(self, start: int, end: int) -> Span:
        """Normalized characters start..end -> the span of original text they stand for."""
        if start == end:  # an empty token: the Rust library adds its normalized offsets to the piece's start
            return self.start + start, self.start + end
        if self._align is None:
            return self.start + start, self.start + end
        return self._align[start][0], self._align[end - 1][1]

    def slice(self, start: int, end: int) -> "NormalizedString":
        """Normalized characters start..end as a new piece (its original span is what they cover)."""
        if self._align is None:
            return NormalizedString(self.normalized[start:end], None, self.start + start, self.start + end)
        align = self._align[start:end]
        return NormalizedString(self.normalized[start:end], align, align[0][0], align[-1][1])

    # ------------------------------------------------------------------ rewriting
    def transform(self, dest: Iterable[tuple[str, int]], initial_offset: int = 0) -> None:
        """Replace the text by `dest`, a sequence of (character, change); see the module docstring.

        `initial_offset` original characters at the start are deleted before the first new one.
        """
        old = self.align
        empty = (self.start, self.start)  # an insertion before everything points at the piece's start
        chars, align, i = [], [], initial_offset
        for ch, change in dest:
            if change > 0:
                align.append(old[i - 1] if i >= 1 else empty)
            else:
                align.append(old[i])
                i += 1 - change
            chars.append(ch)
        self.normalized = "".join(chars)
        self._align = align

    def map(self, fn: Callable[[str], str]) -> None:
        """Each character -> one character (spans unchanged)."""
        self.normalized = "".join(map(fn, self.normalized))

    def map_chars(self, fn: Callable[[str], str]) -> None:
        """Each character -> zero or more characters (the first replaces it, the others are inserted after)."""
        if all(len(fn(c)) == 1 for c in set(self.normalized)):
            self.map(fn)
            return
        self.transform((c, int(k > 0)) for ch in self.normalized for k, c in enumerate(fn(ch)))

    def filter(self, keep: Callable[[str], bool]) -> None:
        """Delete the characters `keep` rejects (each kept one absorbs the deleted ones after it)."""
        text = self.normalized
        if all(keep(c) for c in set(text)):
            return
        dest, removed, removed_start, last = [], 0, 0, None
        for c in text:
            if keep(c):
                if last is None:
                    removed_start = removed
                else:
                    dest.append((last, -removed))
                last, removed = c, 0
            else:
                removed += 1
        if last is None:
            removed_start = removed
        else:
            dest.append((last, -removed))
        self.transform(dest, removed_start)

    def prepend(self, s: str) -> None:
        """Insert `s` before the text: its characters take the span of the first character."""
        if self.normalized:
            first = self.align[0]
            self._align = [first] * len(s) + self._align
            self.normalized = s + self.normalized

    def append(self, s: str) -> None:
        """Add `s` after the text: its characters take the span of the last character."""
        last = self.align[-1] if self.normalized else (self.start, self.start)
        self._align = self.align + [last] * len(s)
        self.normalized += s

    def replace(self, pattern, content: str) -> None:
        """Replace every match of `pattern` (str or Regex) by `content`: the new characters are inserted
        after the deleted match, so they take the span of the character before it (empty at the start)."""
        if isinstance(pattern, str) and pattern not in self.normalized:
            return  # the common case (no space left after a whitespace split): nothing to do
        matches = find_matches(pattern, self.normalized)
        if not any(is_match for _, is_match in matches):
            return
        old, text = self.align, self.normalized
        chars, align = [], []
        empty = (self.start, self.start)
        for (a, b), is_match in matches:
            if is_match:
                span = old[b - 1] if b >= 1 else empty
                chars.append(content)
                align += [span] * len(content)
            else:
                chars.append(text[a:b])
                align += old[a:b]
        self.normalized = "".join(chars)
        self._align = align

    def strip(self, left: bool = True, right: bool = True) -> None:
        """Remove leading and/or trailing whitespace (Rust's char::is_whitespace)."""
        text = self.normalized
        n = len(text)
        lead = 0
        if left:
            while lead < n and rust_is_whitespace(text[lead]):
                lead += 1
        trail = 0
        if right:
            while trail < n - lead and rust_is_whitespace(text[n - 1 - trail]):
                trail += 1
        if lead or trail:
            self._align = self.align[lead:n - trail]
            self.normalized = text[lead:n - trail]

    # ------------------------------------------------------------------ cutting into pieces
    def split(self, pattern, behavior: str) -> list["NormalizedString"]:
        """Cut on the matches of `pattern` (str, Regex, Invert or a character predicate).

        behavior: "removed" (drop the matches), "isolated" (each match is a piece), "merged_with_previous" /
        "merged_with_next" (a match joins the piece before / after it), "contiguous" (consecutive matches
        form one piece).
        """
        matches = find_matches(pattern, self.normalized)
        if behavior == "isolated":
            spans = [span for span, _ in matches]
        elif behavior == "removed":
            spans = [span for span, is_match in matches if not is_match]
        elif behavior == "contiguous":
            spans, previous = [], False
            for span, is_match in matches:
                if is_match == previous and spans:
                    spans[-1] = (spans[-1][0], span[1])
                else:
                    spans.append(span)
                previous = is_match
        elif behavior == "merged_with_previous":
            spans, previous = [], False
            for span, is_match in matches:
                if is_match and not previous and spans:
                    spans[-1] = (spans[-1][0], span[1])
                else:
                    spans.append(span)
                previous = is_match
        elif behavior == "merged_with_next":
            spans, previous = [], False
            for span, is_match in reversed(matches):
                if is_match and not previous and spans:
                    spans[-1] = (span[0], spans[-1][1])
                else:
                    spans.append(span)
                previous = is_match
            spans.reverse()
        else:
            raise ValueError(f"unknown split behavior {behavior!r}; expected one of {sorted(SPLIT_BEHAVIORS)}")
        return [self.slice(a, b) for a, b in spans if a < b]


SPLIT_BEHAVIORS = {"removed": "Removed", "isolated": "Isolated", "merged_with_previous": "MergedWithPrevious",
                   "merged_with_next": "MergedWithNext", "contiguous": "Contiguous"}


class Invert:
    """A pattern whose matches are the other pattern's gaps (and the other way round)."""

    def __init__(self, pattern):
        self.pattern = pattern


def find_matches(pattern, text: str) -> list[tuple[Span, bool]]:
    """`text` cut into consecutive (span, is_match) pieces covering all of it, in characters.

    pattern: a str (literal), a compiled regex (anything with .finditer), an Invert, or a predicate on one
    character (each matching character is a match of its own).
    """
    if isinstance(pattern, Invert):
        return [(span, not is_match) for span, is_match in find_matches(pattern.pattern, text)]
    if not text:
        return [((0, 0), False)]
    out, previous = [], 0
    if callable(pattern) and not hasattr(pattern, "finditer"):
        for i, ch in enumerate(text):
            if pattern(ch):
                if previous < i:
                    out.append(((previous, i), False))
                out.append(((i, i + 1), True))
                previous = i + 1
    else:
        if isinstance(pattern, str):
            if not pattern:
                return [((0, len(text)), False)]
            starts, n, i = [], len(pattern), text.find(pattern)
            while i >= 0:
                starts.append((i, i + n))
                i = text.find(pattern, i + n)
        else:
            starts = [m.span() for m in pattern.finditer(text)]
        for a, b in starts:
            if previous != a:
                out.append(((previous, a), False))
            out.append(((a, b), True))
            previous = b
    if previous != len(text):
        out.append(((previous, len(text)), False))
    return out


class PreTokenizedString:
    """The input text cut into pieces: `splits` is a list of [NormalizedString, tokens or None].

    tokens, once set, is a list of (id, token, (start, end)) with start/end in the piece's normalized
    characters; pieces holding an added token get theirs before the pre-tokenizer runs and are left alone.
    """

    __slots__ = ("original", "splits")

    def __init__(self, original: str, splits: list | None = None):
        self.original = original
        self.splits = splits if splits is not None else [[NormalizedString(original), None]]

    def split(self, fn: Callable[[int, NormalizedString], list[NormalizedString]]) -> None:
        """Cut every piece without tokens with fn(index, piece) -> pieces; empty pieces are dropped."""
        out = []
        for i, (piece, tokens) in enumerate(self.splits):
            if tokens is not None:
                out.append([piece, tokens])
                continue
            out += [[p, None] for p in fn(i, piece) if p.normalized]
        self.splits = out

    def normalize(self, fn: Callable[[NormalizedString], None]) -> None:
        for piece, tokens in self.splits:
            if tokens is None:
                fn(piece)

    def get_splits(self) -> list[tuple[str, Span]]:
        """[(normalized piece, (start, end) in the original text)], what `pre_tokenize_str` returns."""
        return [(piece.normalized, (piece.start, piece.end)) for piece, _ in self.splits]

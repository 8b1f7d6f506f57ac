"""Added tokens for nanohf's own (Python-fast) tokenizers: strings that are never split, found in the text
before the model sees it.

`tokenizer.add_tokens(["new_tok"])`, `add_special_tokens({"pad_token": "[PAD]"})` and every special token
([CLS], <mask>, <|endoftext|>) live here, following the Rust `tokenizers` library's AddedVocabulary:

    "a  bar  b<ent>x"  --raw pass: tokens with normalized=False (special tokens) cut out of the raw text-->
                       --normalized pass: tokens with normalized=True cut out of each remaining piece
                         after normalisation ("NewCased" matches "newcased" in an uncased BERT)-->
                       ["a", "  bar  " (lstrip+rstrip took the spaces), "b", "<ent>", "x"]

At each position the longest token wins (leftmost-longest, like Aho-Corasick); a `single_word` token is
skipped when a word character touches it; `lstrip`/`rstrip` make a token swallow the whitespace beside it.
A token that is already in the model's vocabulary keeps its id; a new one gets the next free id.

(The `tokenizers`-library re-telling, nanohf.tokenizers.tokenizer, has its own added vocabulary over its
NormalizedString, in added_tokens.py; this one works on plain strings, which keeps the encoding fast path.)
"""

import re

import regex

# What Rust's regex calls \w (Unicode word characters) and \s (Unicode White_Space), which `tokenizers`
# uses for single_word and lstrip/rstrip.
_WORD_CHAR = regex.compile(r"[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]")
WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
              "\u2028\u2029\u202f\u205f\u3000")


class AddedToken:
    """A token added on top of the vocabulary (the `tokenizers.AddedToken` of transformers).

    Args:
        content: the token's text.
        single_word: only match when no word character is right before or after it.
        lstrip, rstrip: also take the whitespace on the left / right (the token's span includes it).
        normalized: match against the normalised text (lower-cased for uncased BERT). Unless given, it
            follows `special` (not normalised when special), also when the token is made special later
            (add_special_tokens does), as in `tokenizers`.
        special: skipped by decode(skip_special_tokens=True).
    """

    __slots__ = ("content", "single_word", "lstrip", "rstrip", "_normalized", "special")

    def __init__(self, content: str = "", single_word: bool = False, lstrip: bool = False, rstrip: bool = False,
                 normalized: bool | None = None, special: bool = False):
        if not isinstance(content, str):
            raise TypeError(f"AddedToken content must be a str, not {type(content).__name__}")
        self.content = content
        self.single_word, self.lstrip, self.rstrip = bool(single_word), bool(lstrip), bool(rstrip)
        self.special = bool(special)
        self._normalized = None if normalized is None else bool(normalized)

    @property
    def normalized(self) -> bool:
        return not self.special if self._normalized is None else self._normalized

    @normalized.setter
    def normalized(self, value: bool) -> None:
        self._normalized = bool(value)

    def _fields(self):
        return (self.content, self.single_word, self.lstrip, self.rstrip, self.normalized, self.special)

    def __eq__(self, other):
        return isinstance(other, AddedToken) and self._fields() == other._fields()

    def __hash__(self):
        return hash(self.content)

    def __str__(self):
        return self.content

    def __repr__(self):
        flags = ", ".join(f"{name}={getattr(self, name)}" for name in
                          ("rstrip", "lstrip", "single_word", "normalized", "special"))
        return f'AddedToken("{self.content}", {flags})'

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        for name in self.__slots__:
            setattr(self, name, state.get(name))

    def to_dict(self) -> dict:
        """The token as tokenizer files store it (tokenizer_config.json's added_tokens_decoder)."""
        return {"content": self.content, "lstrip": self.lstrip, "normalized": self.normalized, "rstrip": self.rstrip,
                "single_word": self.single_word, "special": self.special}


def as_added_token(value, special: bool) -> AddedToken:
    """A str, a dict from a tokenizer file, or an AddedToken (ours or the `tokenizers` package's) -> AddedToken.
    A plain str becomes a token that is normalised unless it is special, as in `tokenizers`."""
    if isinstance(value, AddedToken):
        return AddedToken(value.content, value.single_word, value.lstrip, value.rstrip, value._normalized,
                          value.special)
    if isinstance(value, str):
        return AddedToken(value, special=special, normalized=not special)
    if isinstance(value, dict):
        if "content" not in value:
            raise ValueError(f"an added token given as a dict needs a 'content' key: {value!r}")
        fields = {k: value[k] for k in ("single_word", "lstrip", "rstrip", "normalized", "special") if k in value}
        return AddedToken(value["content"], **{"special": special, **fields})
    if hasattr(value, "content"):  # tokenizers.AddedToken, which transformers users pass
        # It does not tell whether `normalized` was given; its default value is taken as "not given".
        normalized = None if value.normalized == (not value.special) else value.normalized
        return AddedToken(value.content, value.single_word, value.lstrip, value.rstrip, normalized, value.special)
    raise TypeError(f"a token must be a str or an AddedToken, not {type(value).__name__}: {value!r}")


class AddedVocabulary:
    """The added tokens of one tokenizer: ids, flags, and the two passes that cut them out of a text.

    Args:
        normalize: the tokenizer's normaliser as str -> str (None when it has none, like GPT-2); the
            patterns of normalized tokens are the normalised contents.
    """

    def __init__(self, normalize=None):
        self.normalize = normalize
        self.encoder: dict[str, int] = {}  # content -> id
        self.decoder: dict[int, AddedToken] = {}  # id -> token (the last one given for that id)
        self.special: set[str] = set()  # contents of the special tokens (skipped when decoding)
        self._order: list[AddedToken] = []  # special tokens first, then the others, in the order given
        self._raw = self._normalized = None  # (compiled pattern, {matched text: id}) per pass

    def __len__(self):
        return len(self.encoder)

    def add(self, tokens, vocab: dict[str, int]) -> int:
        """Add AddedTokens; returns how many were not already there with the very same flags.

        A token of the model's vocabulary keeps its id; a new one gets max(len(vocab), largest added id + 1).
        """
        for token in tokens:
            if token.special and token.content:
                self.special.add(token.content)
        ignored = 0
        for token in tokens:
            if not token.content or token in self.decoder.values():
                ignored += 1
                continue
            new_id = self.encoder.get(token.content, vocab.get(token.content))
            if new_id is None:
                largest = max(self.encoder.values(), default=None)
                new_id = len(vocab) if largest is None or (largest < len(vocab) and vocab) else largest + 1
            self.encoder[token.content] = new_id
            self.decoder[new_id] = token
            if token not in self._order:
                self._order.append(token)
        self._refresh()
        return len(tokens) - ignored

    def set(self, token_id: int, token: AddedToken) -> None:
        """Put a token at a given id (loading a tokenizer file that says where each added token goes)."""
        self.encoder[token.content] = token_id
        self.decoder[token_id] = token
        if token.special:
            self.special.add(token.content)
        if token not in self._order:
            self._order.append(token)
        self._refresh()

    def token_string(self, token_id: int) -> str | None:
        """What `id_to_token` gives for an added id: a normalized token's normalised content (as `tokenizers`)."""
        token = self.decoder.get(token_id)
        if token is None:
            return None
        return self.normalize(token.content) if token.normalized and self.normalize else token.content

    # ------------------------------------------------------------------ matching
    def _refresh(self):
        """Rebuild the two patterns: longest first, so that an alternation finds the leftmost-longest match
        (special tokens first: among equal normalised patterns the first one added wins)."""
        self._order.sort(key=lambda t: t.content not in self.special)  # stable
        raw, normalized = {}, {}
        for token in self._order:
            token_id = self.encoder[token.content]
            if self.decoder[token_id].normalized:
                key = self.normalize(token.content) if self.normalize else token.content
                if key:
                    normalized.setdefault(key, token_id)
            else:
                raw.setdefault(token.content, token_id)
        self._raw, self._normalized = (
            (re.compile("|".join(map(re.escape, sorted(table, key=len, reverse=True)))), table) if table else None
            for table in (raw, normalized))

    @property
    def has_normalized(self) -> bool:
        return self._normalized is not None

    def find(self, sentence: str, normalized: bool = False,
             skip_special: bool = False) -> list[tuple[int | None, int, int]] | None:
        """Split `sentence` into [(id or None, start, end)] covering it, or None when no added token occurs.
        skip_special: special tokens are not cut out (their matches are passed over, as `tokenizers` does with
        encode_special_tokens)."""
        matcher = self._normalized if normalized else self._raw
        if matcher is None or not sentence:
            return None
        pattern, ids = matcher
        splits, offset = [], 0
        for match in pattern.finditer(sentence):
            start, stop = match.span()
            token_id = ids[match.group()]
            token = self.decoder[token_id]
            if skip_special and token.content in self.special:
                continue
            if token.single_word and ((start > 0 and _WORD_CHAR.match(sentence[start - 1]))
                                      or (stop < len(sentence) and _WORD_CHAR.match(sentence[stop]))):
                continue  # a word character touches it: not a single word
            if token.lstrip:
                start = max(len(sentence[:start].rstrip(WHITESPACE)), offset)
            if token.rstrip:
                stop = len(sentence) - len(sentence[stop:].lstrip(WHITESPACE))
            if offset < start:
                splits.append((None, offset, start))
            splits.append((token_id, start, stop))
            offset = stop
        if not splits:
            return None
        if offset != len(sentence):
            splits.append((None, offset, len(sentence)))
        return splits

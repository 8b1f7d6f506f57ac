"""Added tokens: strings ("[CLS]", "<|endoftext|>", new words) found in the text before the model runs.

    tokenizer.add_special_tokens(["[CLS]"])        # matched in the raw text, skipped by decode()
    tokenizer.add_tokens([AddedToken("yesterday", single_word=True)])  # matched in the normalized text

As in the Rust library (tokenizer/added_vocabulary.rs): tokens with normalized=False (special tokens by
default) are cut out of the original text first; the rest is normalized, then tokens with normalized=True
are cut out of the normalized text (their own content normalized the same way when added). Matching is
leftmost-longest; `single_word` refuses a match touching a word character, `lstrip`/`rstrip` swallow the
whitespace on that side. An added token keeps the model's id if the model has it, else gets the next free id.
"""

import regex

from .added_vocabulary import AddedToken, as_added_token
from .normalized import NormalizedString, PreTokenizedString

_WORD_AT_END = regex.compile(r"\w$")
_WORD_AT_START = regex.compile(r"^\w")
_SPACES_AT_END = regex.compile(r"\s*$")
_SPACES_AT_START = regex.compile(r"^\s*")


class AddedVocabulary:
    """The added tokens of one `Tokenizer` (the library pipeline; AddedToken itself is shared with the
    transformers-style tokenizers, added_vocabulary.py): {content: id}, {id: AddedToken}, and the two matchers."""

    def __init__(self):
        self.token_ids: dict[str, int] = {}
        self.tokens: dict[int, AddedToken] = {}
        self.special: set[str] = set()
        self.normalized_form: dict[int, str] = {}  # id -> content as the normalizer rewrote it
        self.encode_special_tokens = False
        self._matchers = (None, None)

    def __len__(self) -> int:
        return len(self.token_ids)

    def add(self, tokens, model, normalizer, special: bool) -> int:
        """Add AddedTokens (or strs); returns how many were not already there."""
        vocab_size = model.get_vocab_size()
        if self.tokens:
            top = max(self.tokens)
            next_id = top + 1 if top >= vocab_size or vocab_size == 0 else vocab_size
        else:
            next_id = vocab_size
        added = 0
        for token in tokens:
            token = as_added_token(token, special=special)
            if special and not token.special:  # add_special_tokens makes a given AddedToken special
                token = AddedToken(token.content, token.single_word, token.lstrip, token.rstrip, token.normalized,
                                   special=True)
            if not token.content:
                continue
            known = self.token_ids.get(token.content)
            if known is not None and self.tokens.get(known) == token:
                continue
            token_id = known if known is not None else model.token_to_id(token.content)
            if token_id is None:
                token_id, next_id = next_id, next_id + 1
            if token.normalized and normalizer is not None:
                normalized = NormalizedString(token.content)
                normalizer.normalize(normalized)
                if normalized.normalized != token.content:
                    self.normalized_form[token_id] = normalized.normalized
            self.token_ids[token.content] = token_id
            if token.special:
                self.special.add(token.content)
            self.tokens[token_id] = token
            added += 1
        self._refresh()
        return added

    def _refresh(self) -> None:
        """Rebuild the two matchers: an alternation, longest first, is a leftmost-longest match."""
        groups = ([], [])
        for token_id, token in self.tokens.items():
            pattern = self.normalized_form.get(token_id, token.content) if token.normalized else token.content
            groups[token.normalized].append((pattern, token_id))
        matchers = []
        for group in groups:
            if not group:
                matchers.append(None)
                continue
            by_pattern = {}
            for pattern, token_id in group:
                by_pattern.setdefault(pattern, token_id)
            alternatives = sorted(by_pattern, key=len, reverse=True)
            compiled = regex.compile("|".join(regex.escape(p) for p in alternatives))
            matchers.append((compiled, by_pattern))
        self._matchers = tuple(matchers)

    def id_to_token(self, token_id: int) -> str | None:
        """The string of an added token for decoding (its normalized form when it has one)."""
        token = self.tokens.get(token_id)
        return None if token is None else self.normalized_form.get(token_id, token.content)

    def _find(self, text: str, matcher) -> list[tuple[int | None, int, int]]:
        """text -> [(id or None, start, end)] covering it: added-token matches and the text between."""
        if matcher is None or not text:
            return [(None, 0, len(text))]
        compiled, ids = matcher
        out, done = [], 0
        for match in compiled.finditer(text):
            start, stop = match.span()
            token_id = ids[match.group()]
            token = self.tokens[token_id]
            if self.encode_special_tokens and token.content in self.special:
                continue
            if token.single_word and ((start > 0 and _WORD_AT_END.search(text[:start]))
                                      or (stop < len(text) and _WORD_AT_START.search(text[stop:]))):
                continue
            if token.lstrip:
                start = max(_SPACES_AT_END.search(text[:start]).start(), done)
            if token.rstrip:
                stop += _SPACES_AT_START.search(text[stop:]).end()
            if done < start:
                out.append((None, done, start))
            out.append((token_id, start, stop))
            done = stop
        if done != len(text):
            out.append((None, done, len(text)))
        return out

    def _split(self, piece: NormalizedString, matcher) -> list[tuple[NormalizedString, list | None]]:
        out = []
        for token_id, start, stop in self._find(piece.normalized, matcher):
            part = piece.slice(start, stop) if (start, stop) != (0, len(piece)) else piece
            tokens = None if token_id is None else [(token_id, part.normalized, (0, len(part)))]
            out.append((part, tokens))
        return out

    def extract_and_normalize(self, normalizer, sequence: str) -> PreTokenizedString:
        """The text cut around added tokens, the other pieces normalized (see the module docstring)."""
        pretok = PreTokenizedString(sequence)
        raw, normalized = self._matchers
        if raw is not None:
            self._split_pieces(pretok, lambda piece: self._split(piece, raw))
        if normalizer is not None:
            pretok.normalize(normalizer.normalize)
        if normalized is not None:
            self._split_pieces(pretok, lambda piece: self._split(piece, normalized))
        return pretok

    @staticmethod
    def _split_pieces(pretok: PreTokenizedString, fn) -> None:
        out = []
        for piece, tokens in pretok.splits:
            if tokens is not None:
                out.append([piece, tokens])
                continue
            out += [[part, part_tokens] for part, part_tokens in fn(piece) if part.normalized]
        pretok.splits = out

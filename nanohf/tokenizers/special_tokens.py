"""The vocabulary side of a tokenizer: special tokens by name, added tokens, and token <-> id lookups.

    tok.add_tokens(["new_tok1", AddedToken("<ent>", single_word=True)])  # -> 2; ids 30522, 30523
    tok.add_special_tokens({"pad_token": "<pad>", "extra_special_tokens": ["<x>"]})
    tok.pad_token, tok.pad_token_id, tok.all_special_tokens, len(tok), tok.added_tokens_decoder

Everything follows transformers 5's fast tokenizers, which delegate to the `tokenizers` library: the
number returned counts the tokens that were not already added with the same flags (a token of the base
vocabulary counts too, and keeps its id); decode(skip_special_tokens=True) skips the tokens added as
special, while convert_ids_to_tokens(..., skip_special_tokens=True) skips `all_special_ids`.
"""

import numpy as np

from .added_vocabulary import AddedToken, as_added_token
from .backend import backend_tokenizer

SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _special_token(name):
    """`tok.pad_token` as a str (set from a str or an AddedToken; setting it does not add it to the vocabulary)."""

    def getter(self):
        return self._special_tokens.get(name)

    def setter(self, value):
        if value is not None and not isinstance(value, (str, AddedToken)) and not hasattr(value, "content"):
            raise ValueError(f"Cannot set a non-string value as the {name}")
        self._special_tokens[name] = None if value is None else str(as_added_token(value, special=True))

    return property(getter, setter, doc=f"The `{name}` string, or None when the tokenizer has none.")


def _special_token_id(name):
    """`tok.pad_token_id`: the id of `pad_token` (None when unset); setting an id sets the token."""

    def getter(self):
        token = getattr(self, name)
        return None if token is None else self.convert_tokens_to_ids(token)

    def setter(self, value):
        setattr(self, name, None if value is None else self.convert_ids_to_tokens(int(value)))

    return property(getter, setter, doc=f"Id of `{name}` (None when the tokenizer has no such token).")


class SpecialTokensMixin:
    """Special and added tokens of a tokenizer with `self.vocab` ({token: id}) and `self.added_vocab`."""

    bos_token, bos_token_id = _special_token("bos_token"), _special_token_id("bos_token")
    eos_token, eos_token_id = _special_token("eos_token"), _special_token_id("eos_token")
    unk_token, unk_token_id = _special_token("unk_token"), _special_token_id("unk_token")
    sep_token, sep_token_id = _special_token("sep_token"), _special_token_id("sep_token")
    pad_token, pad_token_id = _special_token("pad_token"), _special_token_id("pad_token")
    cls_token, cls_token_id = _special_token("cls_token"), _special_token_id("cls_token")
    mask_token, mask_token_id = _special_token("mask_token"), _special_token_id("mask_token")

    # ------------------------------------------------------------------ special tokens
    @property
    def extra_special_tokens(self) -> list[str]:
        """The special tokens without a name (transformers 4 called them additional_special_tokens)."""
        return list(self._extra_special_tokens)

    @extra_special_tokens.setter
    def extra_special_tokens(self, values):
        self._extra_special_tokens = [str(as_added_token(v, special=True)) for v in values or ()]

    @property
    def extra_special_tokens_ids(self) -> list[int]:
        return self.convert_tokens_to_ids(self.extra_special_tokens)

    @property
    def all_special_tokens(self) -> list[str]:
        """The special token strings, each once, named ones first."""
        named = [getattr(self, name) for name in SPECIAL_TOKEN_NAMES]
        return list(dict.fromkeys(t for t in named + self._extra_special_tokens if t is not None))

    @property
    def all_special_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(t) for t in self.all_special_tokens]

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """The named special tokens, e.g. {"unk_token": "[UNK]", ...} (extra ones not included, as in v5)."""
        return {name: getattr(self, name) for name in SPECIAL_TOKEN_NAMES if getattr(self, name) is not None}

    # ------------------------------------------------------------------ vocabulary
    @property
    def vocab_size(self) -> int:
        """Size of the base vocabulary, without added tokens (like transformers)."""
        return len(self.vocab)

    def __len__(self) -> int:
        """Size of the full vocabulary, added tokens included."""
        return len(self.vocab) + sum(token not in self.vocab for token in self.added_vocab.encoder)

    def get_vocab(self) -> dict[str, int]:
        return {**self.vocab, **self.added_vocab.encoder}

    @property
    def added_tokens_decoder(self) -> dict[int, AddedToken]:
        """{id: AddedToken} of every added token (special tokens included), by id."""
        return {i: self.added_vocab.decoder[i] for i in sorted(self.added_vocab.decoder)}

    @property
    def added_tokens_encoder(self) -> dict[str, int]:
        """{content: id} of every added token, by id."""
        return {token.content: i for i, token in self.added_tokens_decoder.items()}

    def get_added_vocab(self) -> dict[str, int]:
        return self.added_tokens_encoder

    def convert_tokens_to_ids(self, tokens):
        """One token -> one id, or a list of tokens -> a list of ids; unknown tokens map to unk_token_id."""
        if isinstance(tokens, str):
            token_id = self.added_vocab.encoder.get(tokens)
            if token_id is None:
                token_id = self.vocab.get(tokens)
            if token_id is None and self.unk_token is not None:
                token_id = self.added_vocab.encoder.get(self.unk_token, self.vocab.get(self.unk_token))
            return token_id
        return [self.convert_tokens_to_ids(t) for t in tokens]

    @property
    def ids_to_tokens(self) -> dict[int, str]:
        """{id: token} of the vocabulary and the added tokens. Built when first needed (decoding; BPE's pieces):
        a BERT tokenizer built only to encode a dataset never pays for inverting 30,000 entries."""
        if self._ids_to_tokens_cache is None:
            table = {i: t for t, i in self.vocab.items()}
            table.update({i: self.added_vocab.token_string(i) for i in self.added_vocab.decoder})
            self._ids_to_tokens_cache = table
        return self._ids_to_tokens_cache

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        """One id -> its token (None if out of range), or a list of ids -> a list of tokens."""
        if isinstance(ids, (int, np.integer)):
            return self.ids_to_tokens.get(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self.ids_to_tokens.get(int(i)) for i in ids if int(i) not in special]

    def _decoded_tokens(self, ids, skip_special_tokens):
        """The tokens `decode` turns into text: unknown ids dropped, and with skip_special_tokens the tokens
        that were added as special (the `tokenizers` rule, which differs from `all_special_ids`)."""
        table = self.ids_to_tokens
        if skip_special_tokens:
            special = {i for i, t in self.added_vocab.decoder.items() if t.content in self.added_vocab.special}
            ids = [i for i in ids if int(i) not in special]
        return [t for t in (table.get(int(i)) for i in ids) if t is not None]

    # ------------------------------------------------------------------ adding tokens
    def _vocabulary_changed(self):
        self._ids_to_tokens_cache = None
        self._backend_cache = None
        self._special_encodings = {}

    _backend_cache = None
    _backend_state = None  # tokenizer.json's truncation and padding, until the backend is built (see backend.py)
    backend_tokenizer = property(backend_tokenizer, doc="The tokenizer as the `tokenizers` library's Tokenizer "
                                 "(normalizer, pre_tokenizer, model, ...): see backend.py.")

    def add_tokens(self, new_tokens, special_tokens: bool = False) -> int:
        """Add tokens (str or AddedToken) that the text is split on; returns how many were added.

        A plain str is normalised before matching (so "NewWord" also matches "newword" in an uncased BERT)
        unless special_tokens=True. New tokens get the ids after the vocabulary: resize the model's
        embeddings to len(tokenizer).
        """
        if not new_tokens:
            return 0
        if not isinstance(new_tokens, (list, tuple)):
            new_tokens = [new_tokens]
        tokens = []
        for value in new_tokens:
            token = as_added_token(value, special=special_tokens)
            if special_tokens:
                token.special = True
            tokens.append(token)
        added = self.added_vocab.add(tokens, self.vocab)
        self._vocabulary_changed()
        return added

    def add_special_tokens(self, special_tokens_dict: dict, replace_extra_special_tokens: bool = True) -> int:
        """Set named special tokens ({"pad_token": "[PAD]"}) and/or extra ones ({"extra_special_tokens": [...]},
        old name additional_special_tokens) and add them to the vocabulary; returns how many were added."""
        if not special_tokens_dict:
            return 0
        special_tokens_dict = dict(special_tokens_dict)
        if "additional_special_tokens" in special_tokens_dict and not special_tokens_dict.get("extra_special_tokens"):
            special_tokens_dict["extra_special_tokens"] = special_tokens_dict.pop("additional_special_tokens")
        allowed = {*SPECIAL_TOKEN_NAMES, "extra_special_tokens"}
        tokens = []
        for key, value in special_tokens_dict.items():
            if key not in allowed:
                raise ValueError(f"Key {key} is not a valid special token. Valid keys are: {allowed}")
            if key == "extra_special_tokens":
                if not isinstance(value, (list, tuple)) or not all(isinstance(t, str) or hasattr(t, "content")
                                                                   for t in value):
                    raise ValueError(f"Tokens {value} for key {key} should all be str or AddedToken instances")
                new = [as_added_token(t, special=True) for t in value
                       if replace_extra_special_tokens or str(t) not in self._extra_special_tokens]
                if replace_extra_special_tokens and new:
                    self._extra_special_tokens = [t.content for t in new]
                else:
                    self._extra_special_tokens += [t.content for t in new]
                tokens += new
            else:
                if not isinstance(value, str) and not hasattr(value, "content"):
                    raise ValueError(f"Token {value} for key {key} should be a str or an AddedToken instance")
                token = as_added_token(value, special=True)
                setattr(self, key, token.content)
                tokens.append(token)
        return self.add_tokens(tokens, special_tokens=True)

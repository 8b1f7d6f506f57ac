"""`Tokenizer`: the pipeline of the Rust `tokenizers` library, block by block.

    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", 102), ("[CLS]", 101))
    tokenizer.decoder = decoders.WordPiece()
    encoding = tokenizer.encode("Hello, y'all!")   # .ids .tokens .offsets .word_ids ...

encode() runs, for each text: added tokens cut out and the rest normalized (added_tokens.py), the
pre-tokenizer cuts words, the model tokenizes each word (cached), every token gets the span of the
original text it covers (normalized.py) and the index of its word; then truncation, the post-processor
(special tokens) and padding, as `TokenizerImpl::encode` / `post_process` do (tokenizer/mod.rs).

Training: `train(files, trainer)` / `train_from_iterator(iterator, trainer, length)` hand the texts to
`trainer.train_tokenizer(self, iterator, length)` (nanohf/tokenizers/trainers.py), which reads
self.normalizer / self.pre_tokenizer, learns, sets self.model (built with the public constructors of
models.py) and adds its special tokens with self.add_special_tokens.
"""

import json
import os
import tempfile
from collections.abc import Iterable, Iterator

from nanohf.jsonfile import not_a_json_number

from . import tokenizer_json
from .added_tokens import AddedVocabulary
from .added_vocabulary import AddedToken
from .base import cycle_collector_paused
from .encoding import Encoding, pad_batch, truncate_pair
from .processors import default_process

_STRATEGIES = ("longest_first", "only_first", "only_second")


class Tokenizer:
    """A normalizer, pre-tokenizer, model, post-processor and decoder, plus added tokens, padding and truncation.

    Args:
        model: a models.BPE / WordPiece / Unigram / WordLevel.
    """

    def __init__(self, model):
        self.model = model
        self.normalizer = None
        self.pre_tokenizer = None
        self.post_processor = None
        self.decoder = None
        self._added = AddedVocabulary()
        self._padding = None
        self._truncation = None

    def __repr__(self) -> str:
        return f"Tokenizer(model={self.model!r}, vocab_size={self.get_vocab_size()})"

    # ------------------------------------------------------------------ vocabulary and added tokens
    def add_tokens(self, tokens: list) -> int:
        """Add words (str or AddedToken) found whole in the normalized text; returns how many were new."""
        return self._added.add(tokens, self.model, self.normalizer, special=False)

    def add_special_tokens(self, tokens: list) -> int:
        """Add special tokens (matched in the raw text, skipped by decode); returns how many were new."""
        return self._added.add(tokens, self.model, self.normalizer, special=True)

    def get_added_tokens_decoder(self) -> dict[int, AddedToken]:
        return dict(sorted(self._added.tokens.items()))

    @property
    def encode_special_tokens(self) -> bool:
        """True: special tokens typed in the text are encoded as ordinary text."""
        return self._added.encode_special_tokens

    @encode_special_tokens.setter
    def encode_special_tokens(self, value: bool) -> None:
        self._added.encode_special_tokens = bool(value)

    def token_to_id(self, token: str) -> int | None:
        token_id = self._added.token_ids.get(token)
        return self.model.token_to_id(token) if token_id is None else token_id

    def id_to_token(self, id: int) -> str | None:
        token = self._added.id_to_token(id)
        return self.model.id_to_token(id) if token is None else token

    def get_vocab(self, with_added_tokens: bool = True) -> dict[str, int]:
        vocab = self.model.get_vocab()
        if with_added_tokens:
            vocab.update(self._added.token_ids)
        return vocab

    def get_vocab_size(self, with_added_tokens: bool = True) -> int:
        size = self.model.get_vocab_size()
        if with_added_tokens:
            size += sum(self.model.token_to_id(t) is None for t in self._added.token_ids)
        return size

    # ------------------------------------------------------------------ padding and truncation
    def enable_padding(self, direction: str = "right", pad_id: int = 0, pad_type_id: int = 0, pad_token: str = "[PAD]",
                       length: int | None = None, pad_to_multiple_of: int | None = None) -> None:
        """Pad every encoding to `length`, or (None) each batch to its longest encoding."""
        if direction not in ("left", "right"):
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`")
        self._padding = {"length": length, "pad_to_multiple_of": pad_to_multiple_of, "pad_id": pad_id,
                         "pad_token": pad_token, "pad_type_id": pad_type_id, "direction": direction}

    def no_padding(self) -> None:
        self._padding = None

    @property
    def padding(self) -> dict | None:
        return None if self._padding is None else dict(self._padding)

    def enable_truncation(self, max_length: int, stride: int = 0, strategy: str = "longest_first",
                          direction: str = "right") -> None:
        """Cut encodings to `max_length` tokens (special tokens included); the rest goes to `overflowing`."""
        if strategy not in _STRATEGIES:
            raise ValueError(f"Unknown `strategy`: `{strategy}`. Use one of `longest_first`, `only_first`, or "
                             "`only_second`")
        if direction not in ("left", "right"):
            raise ValueError(f"Unknown `direction`: `{direction}`. Use one of `left` or `right`.")
        if stride >= max_length - self.num_special_tokens_to_add(False) and stride:
            raise ValueError(f"tokenizer stride set to {stride}, which is greater than or equal to its effective max "
                             f"length of {max_length - self.num_special_tokens_to_add(False)}")
        self._truncation = {"max_length": max_length, "stride": stride, "strategy": strategy, "direction": direction}

    def no_truncation(self) -> None:
        self._truncation = None

    @property
    def truncation(self) -> dict | None:
        return None if self._truncation is None else dict(self._truncation)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        processor = self.post_processor
        return 0 if processor is None else processor.num_special_tokens_to_add(is_pair)

    # ------------------------------------------------------------------ encoding
    def _encode_text(self, text: str, type_id: int, word_index: int | None, columns) -> None:
        """Append the tokens of one text (or one word of a pre-tokenized input) to columns."""
        if not isinstance(text, str):
            raise TypeError(f"TextEncodeInput must be a str (or, with is_pretokenized=True, a list of str), got "
                            f"{type(text).__name__}")
        pretok = self._added.extract_and_normalize(self.normalizer, text)
        if self.pre_tokenizer is not None:
            self.pre_tokenizer.pre_tokenize(pretok)
        ids, tokens, offsets, words = columns
        model_word = self.model._word
        for index, (piece, piece_tokens) in enumerate(pretok.splits):
            word = index if word_index is None else word_index
            if piece_tokens is None:
                piece_ids, piece_strs, spans = model_word(piece.normalized)
            else:
                piece_ids, piece_strs, spans = zip(*piece_tokens, strict=True)
            ids += piece_ids
            tokens += piece_strs
            words += [word] * len(piece_ids)
            if piece._align is None:  # characters map one to one
                shift = piece.start
                offsets += [(shift + a, shift + b) for a, b in spans]
            else:
                offsets += [piece.original_span(a, b) for a, b in spans]

    def _encode_sequence(self, sequence, type_id: int, is_pretokenized: bool) -> Encoding:
        columns = ([], [], [], [])
        if is_pretokenized:
            if isinstance(sequence, str) or not isinstance(sequence, (list, tuple)):
                raise TypeError("with is_pretokenized=True, each sequence must be a list of str")
            for i, word in enumerate(sequence):
                self._encode_text(word, type_id, i, columns)
        else:
            self._encode_text(sequence, type_id, None, columns)
        ids, tokens, offsets, words = columns
        n = len(ids)
        return Encoding(ids, [type_id] * n, tokens, offsets, words, [0] * n, [1] * n)

    def post_process(self, encoding: Encoding, pair: Encoding | None = None,
                     add_special_tokens: bool = True) -> Encoding:
        """Truncate, add special tokens (post-processor) and pad, as encode() does after tokenizing."""
        if self._truncation is not None:
            trunc = self._truncation
            budget = trunc["max_length"]
            n_added = self.num_special_tokens_to_add(pair is not None)
            if add_special_tokens and n_added:
                budget -= n_added
            if budget >= 0:  # the Rust library subtracts on unsigned integers: a negative room cuts nothing
                truncate_pair(encoding, pair, budget, trunc["strategy"], trunc["stride"], trunc["direction"])
        encodings = [encoding] if pair is None else [encoding, pair]
        if self.post_processor is None:
            final = Encoding.merge(default_process(encodings)) if pair is not None else encoding
        else:
            final = self.post_processor.process(encoding, pair, add_special_tokens)
        if self._padding is not None:
            self._pad([final])
        return final

    def _pad(self, encodings: list[Encoding]) -> None:
        p = self._padding
        pad_batch(encodings, p["length"], p["pad_id"], p["pad_token"], p["pad_type_id"], p["direction"],
                  p["pad_to_multiple_of"])

    def encode(self, sequence, pair=None, is_pretokenized: bool = False, add_special_tokens: bool = True) -> Encoding:
        """One text (or a pair) -> Encoding. With is_pretokenized, `sequence` is a list of words (offsets are then
        relative to each word, word_ids index the words)."""
        if sequence is None:
            raise TypeError("encode() needs a sequence")
        first = self._encode_sequence(sequence, 0, is_pretokenized)
        second = None if pair is None else self._encode_sequence(pair, 1, is_pretokenized)
        return self.post_process(first, second, add_special_tokens)

    @staticmethod
    def _split_input(item, is_pretokenized: bool):
        """A batch item -> (sequence, pair): a str, or a 2-item tuple/list of texts (of word lists)."""
        if is_pretokenized:
            if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, (list, tuple)) for x in item):
                return item[0], item[1]
            return item, None
        if isinstance(item, str):
            return item, None
        if isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(x, str) for x in item):
            return item[0], item[1]
        raise TypeError(f"TextEncodeInput must be a str or a pair of str, got {item!r}")

    def encode_batch(self, input: Iterable, is_pretokenized: bool = False,
                     add_special_tokens: bool = True) -> list[Encoding]:
        """Many texts (or pairs) -> Encodings; with padding to the batch's longest, all the same length."""
        padding, self._padding = self._padding, None
        try:
            with cycle_collector_paused():
                encodings = [self.encode(*self._split_input(item, is_pretokenized), is_pretokenized,
                                         add_special_tokens) for item in input]
        finally:
            self._padding = padding
        if padding is not None:
            self._pad(encodings)
        return encodings

    encode_batch_fast = encode_batch

    # ------------------------------------------------------------------ decoding
    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        """Ids -> text through the decoder (tokens joined by spaces without one); special tokens skipped."""
        tokens = []
        for token_id in ids:
            token = self.id_to_token(int(token_id))
            if token is None or (skip_special_tokens and token in self._added.special):
                continue
            tokens.append(token)
        return " ".join(tokens) if self.decoder is None else self.decoder.decode(tokens)

    def decode_batch(self, sequences: list[list[int]], skip_special_tokens: bool = True) -> list[str]:
        return [self.decode(ids, skip_special_tokens) for ids in sequences]

    # ------------------------------------------------------------------ tokenizer.json
    def to_dict(self) -> dict:
        return tokenizer_json.to_dict(self)

    def to_str(self, pretty: bool = False) -> str:
        """The tokenizer.json text (`pretty`: indented, as `save` writes it)."""
        return tokenizer_json.dumps(self.to_dict(), pretty)

    def save(self, path: str, pretty: bool = True) -> None:
        """Write tokenizer.json atomically (a temporary file renamed over `path`: never half-written)."""
        text = self.to_str(pretty)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tokenizer-", suffix=".json.tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    @classmethod
    def from_str(cls, json_str: str, source: str = "<string>") -> "Tokenizer":
        """A Tokenizer from tokenizer.json text; errors name `source`, the component and the field."""
        try:
            data = json.loads(json_str, parse_constant=not_a_json_number)  # the Rust library refuses NaN too
        except ValueError as error:
            raise ValueError(f"{source}: invalid JSON ({error})") from None
        parts = tokenizer_json.read(data, source)
        tokenizer = cls(parts["model"])
        for name in ("normalizer", "pre_tokenizer", "post_processor", "decoder"):
            setattr(tokenizer, name, parts[name])
        tokenizer._truncation, tokenizer._padding = parts["truncation"], parts["padding"]
        # As the Rust library does: the tokens are added again, in file order, and get their ids by the usual
        # rule (the model's id, else the next free one), which gives back the stored ids for any file it wrote.
        tokenizer._added.add([token for _, token in parts["added_tokens"]], tokenizer.model, tokenizer.normalizer,
                             special=False)
        return tokenizer

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "Tokenizer":
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not UTF-8 text ({error})") from None
        return cls.from_str(text, source=str(path))

    @classmethod
    def from_buffer(cls, buffer: bytes) -> "Tokenizer":
        return cls.from_str(buffer.decode("utf-8"), source="<buffer>")

    # ------------------------------------------------------------------ training
    def train_from_iterator(self, iterator: Iterable, trainer=None, length: int | None = None) -> None:
        """Learn this tokenizer's model from texts (an iterator of str, or of lists of str)."""
        if trainer is None:
            trainer = self._default_trainer()
        trainer.train_tokenizer(self, iter(iterator), length)

    def train(self, files: list[str], trainer=None) -> None:
        """Learn this tokenizer's model from text files, read line by line."""
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        for path in files:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"training file not found: {path}")
        if trainer is None:
            trainer = self._default_trainer()
        trainer.train_tokenizer(self, _lines(files), None)

    def _default_trainer(self):
        """The model's own trainer with its defaults, as the Rust library's ``model.get_trainer()``."""
        from .trainers import trainer_for_model  # trainers build models: imported when first needed

        return trainer_for_model(self.model)


def _lines(files: list[str]) -> Iterator[str]:
    for path in files:
        with open(path, encoding="utf-8") as f:
            yield from f

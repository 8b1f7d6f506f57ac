"""Trainers, under the `tokenizers` library's names: BpeTrainer, WordPieceTrainer, UnigramTrainer, WordLevelTrainer.

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=30000, special_tokens=["<|endoftext|>"])
    tokenizer.train_from_iterator(texts, trainer=trainer)

A trainer holds the settings (the `tokenizers` parameters and defaults); `Tokenizer.train_from_iterator`
and `Tokenizer.train` call `trainer.train_tokenizer(tokenizer, iterator, length)`, which

  1. normalises and pre-tokenises every text with the tokenizer's own normalizer and pre-tokenizer and
     counts the words (training/counting.py),
  2. learns the model from the word counts (training/bpe.py, wordpiece.py, unigram.py, wordlevel.py),
  3. replaces `tokenizer.model` with the trained model (keeping the old model's other settings, such as
     its unk_token, as the Rust trainers do) and adds the special tokens to the tokenizer.

Where the Rust trainers silently do something surprising, nanohf refuses with an error instead: an empty
corpus (Rust returns a vocabulary of special tokens only), and a vocab_size smaller than the special tokens
plus the alphabet (Rust returns a vocabulary larger than asked for; its UnigramTrainer errors too).
"""

import importlib
from collections.abc import Iterable

from tqdm.auto import tqdm

from .training.bpe import train_bpe
from .training.counting import (
    added_token_splitter,
    bert_word_splitter,
    byte_level_word_counts,
    count_words,
    iter_texts,
    metaspace_word_splitter,
    word_splitter,
)
from .training.unigram import train_unigram
from .training.wordlevel import train_wordlevel
from .training.wordpiece import train_wordpiece


def token_content(token) -> str:
    """A special token given as "[CLS]" or as an AddedToken (anything with `.content`) -> its string."""
    if isinstance(token, str):
        return token
    content = getattr(token, "content", None)
    if not isinstance(content, str):
        raise TypeError(f"special_tokens: {token!r} is neither a str nor an AddedToken")
    return content


def _models():
    """nanohf.tokenizers.models, imported on first use (it imports nothing from here)."""
    return importlib.import_module("nanohf.tokenizers.models")


def _pre_tokenizers():
    return importlib.import_module("nanohf.tokenizers.pre_tokenizers")


def _is_bert_pipeline(normalizer, pre_tokenizer) -> bool:
    """BERT's BertNormalizer(clean_text=True) + BertPreTokenizer, which has a fast word splitter."""
    normalizer_class = importlib.import_module("nanohf.tokenizers.normalizers").BertNormalizer
    return (type(normalizer) is normalizer_class and normalizer.clean_text
            and type(pre_tokenizer) is _pre_tokenizers().BertPreTokenizer)  # fmt: skip


class Trainer:
    """What every trainer shares: the special tokens, the progress bars and the training entry point."""

    model_name = ""  # the model type this trainer trains ("BPE", ...), also the serialized "type"

    def __init__(self, vocab_size: int, show_progress: bool, special_tokens: Iterable):
        if not isinstance(vocab_size, int) or isinstance(vocab_size, bool) or vocab_size < 0:
            raise ValueError(f"{type(self).__name__}: vocab_size must be a non-negative int, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.show_progress = show_progress
        self.special_tokens = list(special_tokens)

    @property
    def special_token_contents(self) -> list[str]:
        return [token_content(t) for t in self.special_tokens]

    def _bar(self, total, desc: str):
        return tqdm(total=total, desc=desc, disable=not self.show_progress, leave=False)

    def count(self, tokenizer, iterator: Iterable, length: int | None = None) -> dict[str, int]:
        """{word: count} of the corpus, seen through the tokenizer's normalizer and pre-tokenizer."""
        normalizer, pre_tokenizer = getattr(tokenizer, "normalizer", None), getattr(tokenizer, "pre_tokenizer", None)
        with self._bar(length, "Pre-processing sequences") as bar:
            added = getattr(tokenizer, "_added", None)  # nanohf's Tokenizer: its added tokens (AddedVocabulary)
            if added is not None and tokenizer.get_added_tokens_decoder():
                split = added_token_splitter(added, normalizer, pre_tokenizer)
                words = count_words(iter_texts(iterator, bar), split)
            elif normalizer is None and type(pre_tokenizer) is _pre_tokenizers().ByteLevel and pre_tokenizer.use_regex:
                words = byte_level_word_counts(iter_texts(iterator, bar), pre_tokenizer.add_prefix_space)
            elif type(pre_tokenizer) is _pre_tokenizers().Metaspace and pre_tokenizer.split:
                prepend = pre_tokenizer.prepend_scheme != "never"
                split = metaspace_word_splitter(pre_tokenizer.replacement, prepend, normalizer)
                words = count_words(iter_texts(iterator, bar), split)
            elif _is_bert_pipeline(normalizer, pre_tokenizer):
                split = bert_word_splitter(
                    normalizer.lowercase, normalizer.handle_chinese_chars, normalizer.strip_accents
                )
                words = count_words(iter_texts(iterator, bar), split)
            else:
                words = count_words(iter_texts(iterator, bar), word_splitter(normalizer, pre_tokenizer))
        if not words:
            raise ValueError(
                f"{type(self).__name__}: the training corpus is empty (no words after normalization and "
                "pre-tokenization); the Rust trainer would return a vocabulary of special tokens only"
            )
        return words

    def train_tokenizer(self, tokenizer, iterator: Iterable, length: int | None = None) -> None:
        """Train `tokenizer.model` on the texts of `iterator` (strings or lists of strings), in place."""
        model_class = getattr(_models(), self.model_name)
        if not isinstance(tokenizer.model, model_class):
            raise TypeError(f"{type(self).__name__} can only train a {self.model_name}, "
                            f"not a {type(tokenizer.model).__name__}")  # fmt: skip
        words = self.count(tokenizer, iterator, length)
        tokenizer.model = self.train_model(words, tokenizer.model)
        tokenizer.add_special_tokens(self.special_tokens)

    def train_model(self, word_counts: dict[str, int], old_model=None):
        """The trained model (nanohf.tokenizers.models) from {word: count}; `old_model` gives the settings
        the trainer does not own (unk_token, dropout, ...)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class BpeTrainer(Trainer):
    """Trains a BPE model (see training/bpe.py for the algorithm). Same parameters and defaults as
    `tokenizers.trainers.BpeTrainer`."""

    model_name = "BPE"

    def __init__(self, *, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens: Iterable = (), limit_alphabet: int | None = None, initial_alphabet: Iterable[str] = (),
                 continuing_subword_prefix: str | None = None, end_of_word_suffix: str | None = None,
                 max_token_length: int | None = None):  # fmt: skip
        super().__init__(vocab_size, show_progress, special_tokens)
        self.min_frequency = min_frequency
        self.limit_alphabet = limit_alphabet
        self.initial_alphabet = [s[0] for s in initial_alphabet if s]
        self.continuing_subword_prefix = continuing_subword_prefix
        self.end_of_word_suffix = end_of_word_suffix
        self.max_token_length = max_token_length

    def learn(self, word_counts: dict[str, int]) -> tuple[dict[str, int], list[tuple[str, str]]]:
        """(vocab, merges) learnt from {word: count}."""
        with self._bar(self.vocab_size, "Compute merges") as bar:
            return train_bpe(
                word_counts, self.vocab_size, self.min_frequency, self.special_token_contents,
                self.limit_alphabet, self.initial_alphabet, self.continuing_subword_prefix,
                self.end_of_word_suffix, self.max_token_length, progress=bar,
            )  # fmt: skip

    def train_model(self, word_counts, old_model=None):
        vocab, merges = self.learn(word_counts)
        keep = {k: getattr(old_model, k, None) for k in ("dropout", "unk_token", "fuse_unk")}
        return _models().BPE(
            vocab=vocab, merges=merges, continuing_subword_prefix=self.continuing_subword_prefix,
            end_of_word_suffix=self.end_of_word_suffix, byte_fallback=bool(getattr(old_model, "byte_fallback", False)),
            ignore_merges=bool(getattr(old_model, "ignore_merges", False)), **keep,
        )  # fmt: skip


class WordPieceTrainer(BpeTrainer):
    """Trains a WordPiece model: BPE merges with the "##" prefix, the vocabulary kept (training/wordpiece.py).
    Same parameters and defaults as `tokenizers.trainers.WordPieceTrainer`."""

    model_name = "WordPiece"

    def __init__(self, *, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens: Iterable = (), limit_alphabet: int | None = None, initial_alphabet: Iterable[str] = (),
                 continuing_subword_prefix: str | None = "##", end_of_word_suffix: str | None = None):  # fmt: skip
        super().__init__(vocab_size=vocab_size, min_frequency=min_frequency, show_progress=show_progress,
                         special_tokens=special_tokens, limit_alphabet=limit_alphabet,
                         initial_alphabet=initial_alphabet, continuing_subword_prefix=continuing_subword_prefix,
                         end_of_word_suffix=end_of_word_suffix)  # fmt: skip
        del self.max_token_length  # not a WordPiece setting

    def learn(self, word_counts: dict[str, int]) -> dict[str, int]:
        """{token: id} learnt from {word: count}."""
        with self._bar(self.vocab_size, "Compute merges") as bar:
            return train_wordpiece(
                word_counts, self.vocab_size, self.min_frequency, self.special_token_contents,
                self.limit_alphabet, self.initial_alphabet, self.continuing_subword_prefix,
                self.end_of_word_suffix, progress=bar,
            )  # fmt: skip

    def train_model(self, word_counts, old_model=None):
        vocab = self.learn(word_counts)
        kwargs = {"unk_token": getattr(old_model, "unk_token", None) or "[UNK]"}
        if getattr(old_model, "max_input_chars_per_word", None) is not None:
            kwargs["max_input_chars_per_word"] = old_model.max_input_chars_per_word
        # Like WordPiece::from_bpe: the trainer's prefix when it has one, else the model's own.
        prefix = self.continuing_subword_prefix or getattr(old_model, "continuing_subword_prefix", None) or "##"
        return _models().WordPiece(vocab=vocab, continuing_subword_prefix=prefix, **kwargs)


class WordLevelTrainer(Trainer):
    """Trains a WordLevel model: the `vocab_size` most frequent words (training/wordlevel.py). Same parameters
    and defaults as `tokenizers.trainers.WordLevelTrainer`."""

    model_name = "WordLevel"

    def __init__(self, *, vocab_size: int = 30000, min_frequency: int = 0, show_progress: bool = True,
                 special_tokens: Iterable = ()):  # fmt: skip
        super().__init__(vocab_size, show_progress, special_tokens)
        self.min_frequency = min_frequency

    def learn(self, word_counts: dict[str, int]) -> dict[str, int]:
        specials = self.special_token_contents
        if self.vocab_size < len(dict.fromkeys(specials)):
            raise ValueError(f"WordLevelTrainer: vocab_size={self.vocab_size} is smaller than the {len(specials)} "
                             "special tokens (the Rust trainer would silently drop some of them)")  # fmt: skip
        return train_wordlevel(word_counts, self.vocab_size, self.min_frequency, specials)

    def train_model(self, word_counts, old_model=None):
        return _models().WordLevel(vocab=self.learn(word_counts), unk_token=getattr(old_model, "unk_token", None))


class UnigramTrainer(Trainer):
    """Trains a Unigram model (SentencePiece's EM; training/unigram.py). Same parameters and defaults as
    `tokenizers.trainers.UnigramTrainer`."""

    model_name = "Unigram"

    def __init__(self, *, vocab_size: int = 8000, show_progress: bool = True, special_tokens: Iterable = (),
                 initial_alphabet: Iterable[str] = (), shrinking_factor: float = 0.75, unk_token: str | None = None,
                 max_piece_length: int = 16, n_sub_iterations: int = 2):  # fmt: skip
        super().__init__(vocab_size, show_progress, special_tokens)
        self.initial_alphabet = [s[0] for s in initial_alphabet if s]
        if not 0.0 < shrinking_factor < 1.0:
            raise ValueError(f"UnigramTrainer: shrinking_factor must be in (0, 1), got {shrinking_factor!r}")
        self.shrinking_factor = shrinking_factor
        self.unk_token = unk_token
        self.max_piece_length = max_piece_length
        self.n_sub_iterations = n_sub_iterations

    def learn(self, word_counts: dict[str, int]) -> tuple[list[tuple[str, float]], int | None]:
        """([(piece, score)], unk_id) learnt from {word: count}."""
        with self._bar(None, "EM training") as bar:
            return train_unigram(
                word_counts, self.vocab_size, self.special_token_contents, self.initial_alphabet, self.unk_token,
                self.shrinking_factor, self.max_piece_length, self.n_sub_iterations, progress=bar,
            )  # fmt: skip

    def train_model(self, word_counts, old_model=None):
        vocab, unk_id = self.learn(word_counts)
        # The Rust trainer replaces the whole model: byte_fallback is off in the trained one.
        return _models().Unigram(vocab=vocab, unk_id=unk_id, byte_fallback=False)


_TRAINERS = {cls.model_name: cls for cls in (BpeTrainer, WordPieceTrainer, WordLevelTrainer, UnigramTrainer)}


def trainer_for_model(model) -> Trainer:
    """The default trainer of a model (what `Tokenizer.train_from_iterator(..., trainer=None)` uses)."""
    for name, cls in _TRAINERS.items():
        if isinstance(model, getattr(_models(), name)):
            return cls()
    raise TypeError(f"no trainer for a {type(model).__name__} model")


__all__ = ["BpeTrainer", "Trainer", "UnigramTrainer", "WordLevelTrainer", "WordPieceTrainer", "trainer_for_model"]

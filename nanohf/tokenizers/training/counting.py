"""Corpus -> {word: count}: what every trainer learns from.

The Rust `tokenizers` library trains on words, not on text: each text of the corpus is normalised
(`normalizer.normalize_str`), split into words (`pre_tokenizer.pre_tokenize_str`), and the words are
counted. A corpus of 20 MB has only some 100k different words, which is what makes BPE training fast:
every later step works on the distinct words, each weighted by its count.

The texts come from a user's iterator, so this is where bad input is caught: an item that is neither a
string nor a batch (list/tuple) of strings is refused with its position, as the Rust binding refuses it.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import regex

from ..bpe import BYTE_TO_CHAR, GPT2_PATTERN


def iter_texts(iterator: Iterable, progress=None) -> Iterator[str]:
    """The texts of `iterator`, which yields strings or batches (list/tuple) of strings, as
    `Tokenizer.train_from_iterator` accepts. A non-string raises TypeError naming its position.
    `progress` (a tqdm bar) advances by one per item of `iterator`, as `length` counts them."""
    for i, item in enumerate(iterator):
        if progress is not None:
            progress.update(1)
        if isinstance(item, str):
            yield item
        elif isinstance(item, (list, tuple)):
            for j, text in enumerate(item):
                if not isinstance(text, str):
                    raise TypeError(
                        f"training corpus: item {i}, element {j} is a {type(text).__name__}, not a str "
                        "(the iterator must yield strings or lists of strings)"
                    )
                yield text
        else:
            raise TypeError(
                f"training corpus: item {i} is a {type(item).__name__}, not a str "
                "(the iterator must yield strings or lists of strings)"
            )


def word_splitter(normalizer=None, pre_tokenizer=None) -> Callable[[str], list[str]]:
    """text -> its words, as the Rust trainer feeds them: normalise, then pre-tokenise (either may be None;
    without a pre-tokenizer the whole normalised text is one word)."""

    def split(text: str) -> list[str]:
        if normalizer is not None:
            text = normalizer.normalize_str(text)
        if pre_tokenizer is None:
            return [text] if text else []
        return [word for word, _ in pre_tokenizer.pre_tokenize_str(text)]

    return split


def bert_word_splitter(
    lowercase: bool = True, handle_chinese_chars: bool = True, strip_accents: bool | None = None
) -> Callable[[str], list[str]]:
    """word_splitter(BertNormalizer(clean_text=True, ...), BertPreTokenizer()) without the offsets: the
    words of BertTokenizer's own BasicTokenizer, which follows the same rules with an ASCII fast path
    (same words: tests/test_tokenizer_trainers.py)."""
    from ..wordpiece import BasicTokenizer

    basic = BasicTokenizer(lowercase, None, handle_chinese_chars, strip_accents)
    return lambda text: [word for word, _, _ in basic.split(text)]


def metaspace_word_splitter(
    replacement: str = "▁", prepend: bool = True, normalizer=None
) -> Callable[[str], list[str]]:
    """word_splitter(normalizer, Metaspace(replacement, prepend_scheme, split=True)) without the offsets:
    spaces become `replacement`, one goes in front (prepend_scheme "always", or "first", which is the same
    on a whole text), and every `replacement` starts a new word (same words: tests/test_tokenizer_trainers.py)."""
    word = regex.compile(f"{regex.escape(replacement)}[^{regex.escape(replacement)}]*|[^{regex.escape(replacement)}]+")

    def split(text: str) -> list[str]:
        if normalizer is not None:
            text = normalizer.normalize_str(text)
        if not text:
            return []
        text = text.replace(" ", replacement)
        if prepend and not text.startswith(replacement):
            text = replacement + text
        return word.findall(text)

    return split


def added_token_splitter(added_vocabulary, normalizer=None, pre_tokenizer=None) -> Callable[[str], list[str]]:
    """text -> its words when the tokenizer already has added tokens: as the Rust Tokenizer.train does, an
    added token found in the text is cut out first and counted as one word of its own (neither normalised
    nor pre-tokenised: "[MASK]" stays "[MASK]"), the rest is normalised and pre-tokenised as usual.

    `added_vocabulary` is the tokenizer's (nanohf.tokenizers.added_tokens.AddedVocabulary)."""

    def split(text: str) -> list[str]:
        pretok = added_vocabulary.extract_and_normalize(normalizer, text)
        if pre_tokenizer is not None:
            pre_tokenizer.pre_tokenize(pretok)
        return [word for word, _ in pretok.get_splits() if word]

    return split


def count_words(texts: Iterable[str], split: Callable[[str], list[str]]) -> dict[str, int]:
    """{word: number of occurrences} over all texts, in order of first appearance (deterministic).

    Each distinct text is split once: corpora repeat lines (empty lines, headers, repeated sentences),
    and the Counter of texts costs far less than splitting them again.
    """
    lines = Counter(texts)
    words: dict[str, int] = {}
    for text, n in lines.items():
        for word in split(text):
            words[word] = words.get(word, 0) + n
    return words


def byte_level_word_counts(texts: Iterable[str], add_prefix_space: bool = True) -> dict[str, int]:
    """count_words for the ByteLevel pre-tokenizer (with its regex) and no normalizer, the GPT-2 case, fast.

    The byte-level words are the GPT-2 regex's matches written byte by byte in GPT-2's alphabet; the
    offsets that pre_tokenize_str also builds are not needed here. So: match the raw text (one C-level
    findall per text), count the raw words, and convert each distinct word once. Same counts as
    count_words(texts, word_splitter(None, ByteLevel(add_prefix_space))) (tests/test_tokenizer_trainers.py).
    """
    raw: Counter = Counter()
    findall = GPT2_PATTERN.findall
    for text, n in Counter(texts).items():
        if not text:
            continue
        if add_prefix_space and not text.startswith(" "):
            text = " " + text
        if n == 1:
            raw.update(findall(text))
        else:
            for word in findall(text):
                raw[word] += n
    words: dict[str, int] = {}
    for word, n in raw.items():
        byte_word = "".join([BYTE_TO_CHAR[b] for b in word.encode("utf-8")])
        words[byte_word] = words.get(byte_word, 0) + n
    return words

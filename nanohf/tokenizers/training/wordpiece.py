"""WordPiece training: BPE with a continuation prefix, keeping only the vocabulary.

The Rust `tokenizers` WordPieceTrainer is a BpeTrainer whose `continuing_subword_prefix` defaults to "##":
a character inside a word is the token "##c", so a merge ("##i", "##n") makes "##in" and ("h", "##e")
makes "he". BERT's original WordPiece training scored a pair by count(xy) / (count(x) · count(y)) (the
course's chapter 6 shows that score); the Rust library, and so transformers, merges by count like BPE, and
so does this. The merges are then thrown away: a WordPiece model encodes greedily, longest match first,
with the vocabulary alone.
"""

from collections.abc import Iterable

from .bpe import train_bpe


def train_wordpiece(
    word_counts: dict[str, int],
    vocab_size: int = 30000,
    min_frequency: int = 0,
    special_tokens: Iterable[str] = (),
    limit_alphabet: int | None = None,
    initial_alphabet: Iterable[str] = (),
    continuing_subword_prefix: str | None = "##",
    end_of_word_suffix: str | None = None,
    progress=None,
) -> dict[str, int]:
    """{token: id} of a WordPiece vocabulary learnt from {word: count} (see bpe.train_bpe for the steps)."""
    vocab, _merges = train_bpe(
        word_counts,
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=special_tokens,
        limit_alphabet=limit_alphabet,
        initial_alphabet=initial_alphabet,
        continuing_subword_prefix=continuing_subword_prefix,
        end_of_word_suffix=end_of_word_suffix,
        progress=progress,
    )
    return vocab

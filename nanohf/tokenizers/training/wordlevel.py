"""WordLevel training: one token per word, the most frequent words first."""

from collections.abc import Iterable


def train_wordlevel(
    word_counts: dict[str, int], vocab_size: int = 30000, min_frequency: int = 0, special_tokens: Iterable[str] = ()
) -> dict[str, int]:
    """{token: id}: the special tokens, then the words seen at least `min_frequency` times by decreasing count
    (equal counts in code point order of the word, as the Rust trainer sorts them), `vocab_size` in all.

    As in the Rust trainer, a special token that is also a word takes the word's (later) id.
    """
    ordered = sorted(word_counts.items(), key=lambda wc: (-wc[1], wc[0]))
    tokens = list(special_tokens) + [w for w, n in ordered if n >= min_frequency]
    return {token: i for i, token in enumerate(tokens[:vocab_size])}

"""The initial alphabet of BPE and WordPiece: which characters the merges start from."""

from collections.abc import Iterable


def compute_alphabet(
    word_counts: dict[str, int], initial_alphabet: Iterable[str] = (), limit_alphabet: int | None = None
) -> list[str]:
    """The characters kept as initial tokens, sorted by code point.

    Each character of the corpus is weighted by the counts of the words it occurs in; the characters of
    `initial_alphabet` (only the first character of each string, as the Rust trainer does) get an infinite
    weight. With `limit_alphabet`, the least frequent characters are dropped until `limit_alphabet` remain
    (initial ones included, last); equal weights drop the smaller code point first (Rust's order there is
    its hash map's, i.e. arbitrary).
    """
    weight: dict[str, float] = {}
    for word, count in word_counts.items():
        for c in word:
            weight[c] = weight.get(c, 0) + count
    for s in initial_alphabet:
        if s:
            weight[s[0]] = float("inf")
    kept = list(weight)
    if limit_alphabet is not None and len(kept) > limit_alphabet:
        kept.sort(key=lambda c: (weight[c], c))
        kept = kept[len(kept) - limit_alphabet :]
    return sorted(kept)

"""Byte-pair encoding training: start from characters, merge the most frequent adjacent pair, repeat.

The algorithm of the Rust `tokenizers` BpeTrainer, step by step (the numbers match it exactly):

1. The vocabulary starts with the special tokens, in the order given (a repeated one is kept once).
2. The alphabet: every character of the corpus, weighted by its word counts, plus `initial_alphabet`
   (which always survives the limit). With `limit_alphabet`, only the `limit_alphabet` most frequent
   characters are kept; the others are dropped from the words altogether (they become unknown at
   encoding time). The kept characters enter the vocabulary sorted by code point.
3. Each distinct word becomes a list of symbol ids, one per kept character. A character after the first
   one is written `continuing_subword_prefix + c` ("##c" for WordPiece), the last one gets
   `end_of_word_suffix` ("c</w>"); those forms are new tokens too.
4. Every adjacent pair (x, y) is counted: count(x, y) = sum over words w of (occurrences of x y in w) ·
   count(w). The pairs go into a max-priority queue keyed by (count, then the smaller pair (id_x, id_y)
   first) — the Rust trainer's tie-break, so equal counts merge in the same order.
5. Repeat until the vocabulary has `vocab_size` tokens: pop the best pair; if its count in the queue is
   stale (it changed since it was pushed), push it back with the current count and pop again (lazy
   update: no search through the queue). Stop when the best count is 0 or below `min_frequency`.
   Otherwise the new token is x + y (y without its continuation prefix), the merge (x, y) is recorded,
   and in every word where the pair occurs, x y becomes xy. Only the neighbours change:
       a x y b  ->  a xy b :   count(a, x) -= c,  count(y, b) -= c,  count(a, xy) += c,  count(xy, b) += c
   (c = the word's count), so one merge costs time proportional to the words that contain the pair,
   not to the corpus: pair counts are updated incrementally, never recounted. The new pairs go into the
   queue with the words they occur in. With `max_token_length`, a new pair longer than the limit (in
   characters, prefix and suffix not counted) is not counted at all, so it never merges.

One detail of the Rust trainer kept on purpose: a queue entry carries the set of words where its pair
was created when it was pushed, and merges only there. When two different merges produce the same string
(ab + c and a + bc both give "abc"), a pair with "abc" can have two entries, and the same merge can be
recorded twice; the model keeps its last rank, as the Rust trainer's merge table does.

Steps 1-3 are below; steps 4-5 run as one Numba kernel, bpe_kernel.merge_loop (30,000 merges on 2 MB of text
in about half a second; the same loop in Python took five).

Only the ids of the "##c" / "c</w>" forms differ from Rust's: it numbers them in its hash map's order (a
different order each run); nanohf numbers them by how many distinct words they occur in, then by code point
(deterministic, and close to the order Rust tends to meet them in: see step 3).
"""

from collections.abc import Iterable

import numpy as np

from .alphabet import compute_alphabet
from .bpe_kernel import merge_loop


def _code_points(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings -> (their code points as int64, offsets): string i is chars[offsets[i]:offsets[i+1]]."""
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    chars = np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    return chars, offsets


def _add(token: str, token_to_id: dict[str, int], id_to_token: list[str]) -> int:
    """The id of `token`, appended to the vocabulary if it is new."""
    token_id = token_to_id.get(token)
    if token_id is None:
        token_id = token_to_id[token] = len(id_to_token)
        id_to_token.append(token)
    return token_id


def _symbol_forms(word: str, alphabet: set[str], prefix: str | None, suffix: str | None) -> list[str]:
    """The initial symbols of `word`: its characters in the alphabet, with the continuation prefix on all but
    the first character and the end-of-word suffix on the last one (positions in the original word)."""
    forms = []
    last = len(word) - 1
    for i, c in enumerate(word):
        if c not in alphabet:
            continue
        if i > 0 and prefix is not None:
            c = prefix + c
        if i == last and suffix is not None:
            c = c + suffix
        forms.append(c)
    return forms


def train_bpe(
    word_counts: dict[str, int],
    vocab_size: int = 30000,
    min_frequency: int = 0,
    special_tokens: Iterable[str] = (),
    limit_alphabet: int | None = None,
    initial_alphabet: Iterable[str] = (),
    continuing_subword_prefix: str | None = None,
    end_of_word_suffix: str | None = None,
    max_token_length: int | None = None,
    progress=None,
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Learn a BPE vocabulary and merges from {word: count}.

    Returns (vocab {token: id}, merges [(left, right)] in rank order). `progress`, if given, is a tqdm-like
    object whose `update(1)` is called per merge.
    """
    special_tokens = list(special_tokens)
    token_to_id: dict[str, int] = {}
    id_to_token: list[str] = []
    # 1. special tokens first, in order
    for token in special_tokens:
        _add(token, token_to_id, id_to_token)
    # 2. the alphabet, sorted by code point
    for c in compute_alphabet(word_counts, initial_alphabet, limit_alphabet):
        _add(c, token_to_id, id_to_token)
    # Rust tests "is the character in the vocabulary", so a special token of one character also counts.
    alphabet = {t for t in token_to_id if len(t) == 1}

    # 3. words -> symbol ids; the prefixed/suffixed forms become tokens
    word_forms = [_symbol_forms(w, alphabet, continuing_subword_prefix, end_of_word_suffix) for w in word_counts]
    # Rust numbers them as it meets them walking its words in hash-map order, so a form found in many words
    # tends to come early; nanohf numbers them by the number of distinct words they occur in (then code
    # point): a deterministic order with the same tendency, so equal-count merges tie-break alike.
    in_words: dict[str, int] = {}
    for forms in word_forms:
        for f in set(forms):
            in_words[f] = in_words.get(f, 0) + 1
    new_forms = sorted(in_words.keys() - token_to_id.keys(), key=lambda f: (-in_words[f], f))
    for form in new_forms:
        _add(form, token_to_id, id_to_token)
    if len(id_to_token) > vocab_size:
        # The Rust trainer would return this larger vocabulary without a word; refuse instead.
        n_special = len(dict.fromkeys(special_tokens))
        n_chars = len(id_to_token) - n_special - len(new_forms)
        raise ValueError(
            f"vocab_size={vocab_size} is smaller than the initial vocabulary of {len(id_to_token)} tokens "
            f"({n_special} special tokens + {n_chars} characters + {len(new_forms)} prefixed/suffixed character "
            "forms); raise vocab_size or set limit_alphabet"
        )
    # 4-5. count the pairs and merge, in Numba (bpe_kernel.py); words and token strings as flat arrays
    lengths = np.fromiter((len(forms) for forms in word_forms), dtype=np.int64, count=len(word_forms))
    word_start = np.zeros(len(word_forms), dtype=np.int64)
    np.cumsum(lengths[:-1], out=word_start[1:])
    symbols = np.fromiter((token_to_id[f] for forms in word_forms for f in forms), dtype=np.int64,
                          count=int(lengths.sum()))  # fmt: skip
    counts = np.fromiter(word_counts.values(), dtype=np.int64, count=len(word_counts))
    chars, token_start = _code_points(id_to_token)
    token_length = np.diff(token_start)
    # Length of each token in characters of the corpus (prefix/suffix not counted), for max_token_length.
    char_len = np.ones(len(id_to_token), dtype=np.int64)
    prefix = _code_points([continuing_subword_prefix or ""])[0]
    max_len = -1 if max_token_length is None else max_token_length
    merge_ids, n_tokens, chars, token_start, token_length = merge_loop(
        symbols, word_start, lengths.copy(), counts, chars, token_start[:-1].copy(), token_length, len(id_to_token),
        char_len, vocab_size, min_frequency, max_len, prefix,
    )  # fmt: skip
    text = chars.astype(np.uint32).tobytes().decode("utf-32-le")
    for t in range(len(id_to_token), n_tokens):
        token = text[token_start[t] : token_start[t] + token_length[t]]
        token_to_id[token] = t
        id_to_token.append(token)
    if progress is not None:
        progress.update(len(merge_ids))
    merges = [tuple(pair) for pair in merge_ids.tolist()]

    # A merge recorded twice keeps its last rank (the Rust model's merge table is a map pair -> rank).
    rank = {pair: r for r, pair in enumerate(merges)}
    ordered = sorted(rank, key=rank.__getitem__)
    return token_to_id, [(id_to_token[x], id_to_token[y]) for x, y in ordered]

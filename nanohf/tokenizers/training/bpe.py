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

Only the ids of the "##c" / "c</w>" forms differ from Rust's: it numbers them in its hash map's order (a
different order each run); nanohf numbers them by code point, so training is deterministic.
"""

import heapq
from collections.abc import Iterable

from .alphabet import compute_alphabet


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

    # 3. words -> symbol ids; the prefixed/suffixed forms become tokens, numbered by code point order
    word_forms = [_symbol_forms(w, alphabet, continuing_subword_prefix, end_of_word_suffix) for w in word_counts]
    new_forms = sorted({f for forms in word_forms for f in forms} - token_to_id.keys())
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
    words = [[token_to_id[f] for f in forms] for forms in word_forms]
    counts = list(word_counts.values())
    # Length of each token in characters of the corpus (prefix/suffix not counted), for max_token_length.
    char_len = [1] * len(id_to_token)
    max_len = max_token_length if max_token_length is not None else None

    # 4. count every adjacent pair; pair (x, y) is the integer key x << 32 | y, which sorts as (x, y) does
    pair_counts: dict[int, int] = {}
    where: dict[int, set[int]] = {}
    for w, (word, c) in enumerate(zip(words, counts, strict=True)):
        for x, y in zip(word, word[1:], strict=False):
            key = x << 32 | y
            pair_counts[key] = pair_counts.get(key, 0) + c
            s = where.get(key)
            if s is None:
                where[key] = {w}
            else:
                s.add(w)
    # max-heap on count, then the smaller pair first: heapq is a min-heap on (-count, key, push number)
    seq = 0
    queue = []
    for key, positions in where.items():
        if pair_counts[key] > 0:
            queue.append((-pair_counts[key], key, seq, positions))
            seq += 1
    heapq.heapify(queue)

    # 5. merge until the vocabulary is full
    merges: list[tuple[int, int]] = []
    prefix = continuing_subword_prefix
    while len(id_to_token) < vocab_size and queue:
        neg_count, key, _, positions = heapq.heappop(queue)
        count = pair_counts[key]
        if -neg_count != count:  # stale entry: re-queue with the current count
            heapq.heappush(queue, (-count, key, seq, positions))
            seq += 1
            continue
        if count < 1 or count < min_frequency:
            break
        x, y = key >> 32, key & 0xFFFFFFFF
        right = id_to_token[y]
        if prefix is not None and right.startswith(prefix):
            right = right[len(prefix) :]
        new = _add(id_to_token[x] + right, token_to_id, id_to_token)
        new_len = char_len[x] + char_len[y]
        if new == len(char_len):
            char_len.append(new_len)
        merges.append((x, y))

        # Replace x y by `new` in every word of this entry; update the neighbours' pair counts.
        created: dict[int, set[int]] = {}
        for w in positions:
            word = words[w]
            n = len(word)
            if n < 2:
                continue
            c = counts[w]
            out = []
            i = 0
            while i < n:
                if word[i] == x and i + 1 < n and word[i + 1] == y:
                    if out:  # a symbol before: (a, x) -> (a, new)
                        a = out[-1]
                        k = a << 32 | x
                        # (a pair too long for max_token_length was never counted: it goes below 0, as in Rust)
                        pair_counts[k] = pair_counts.get(k, 0) - c
                        if max_len is None or char_len[a] + new_len < max_len:
                            k = a << 32 | new
                            pair_counts[k] = pair_counts.get(k, 0) + c
                            created.setdefault(k, set()).add(w)
                    if i + 2 < n:  # a symbol after: (y, b) -> (new, b)
                        b = word[i + 2]
                        k = y << 32 | b
                        pair_counts[k] = pair_counts.get(k, 0) - c
                        if max_len is None or char_len[b] + new_len < max_len:
                            k = new << 32 | b
                            pair_counts[k] = pair_counts.get(k, 0) + c
                            created.setdefault(k, set()).add(w)
                    out.append(new)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            if len(out) != n:
                words[w] = out
        for k, ws in created.items():
            if pair_counts[k] > 0:
                heapq.heappush(queue, (-pair_counts[k], k, seq, ws))
                seq += 1
        if progress is not None:
            progress.update(1)

    # A merge recorded twice keeps its last rank (the Rust model's merge table is a map pair -> rank).
    rank = {pair: r for r, pair in enumerate(merges)}
    ordered = sorted(rank, key=rank.__getitem__)
    return token_to_id, [(id_to_token[x], id_to_token[y]) for x, y in ordered]

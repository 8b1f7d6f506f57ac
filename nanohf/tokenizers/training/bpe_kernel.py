"""The BPE merge loop (steps 4 and 5 of bpe.py) as one Numba kernel.

Data, all flat arrays (ids are int64):
  * words: symbols[start[w] : start[w] + length[w]], merged in place (a merge shortens the word).
  * pair (x, y) is the key x << 32 | y; `pair_counts` maps it to sum over words of occurrences · count.
  * the queue: a binary heap of rows (count, key, push number, positions start, positions length), ordered
    by larger count, then smaller key (the Rust tie-break), then earlier push. A row's positions are the
    words it merges in: positions[start : start + length], a slice of one append-only pool.
  * tokens: their strings as code points in another pool (token_start[t], token_length[t]), and a dict
    from a 64-bit hash of the code points to the id (collisions checked by comparing the code points),
    so that two merges making the same string give the same token, as in the Rust trainer.
"""

import numpy as np
from numba import njit, types
from numba.typed import Dict

LOW = (1 << 32) - 1
# FNV-1a hashing of token strings, kept to 63 bits: the same value whether the product wraps (compiled int64)
# or not (plain Python with NUMBA_DISABLE_JIT), and never negative.
FNV_OFFSET, FNV_PRIME, MASK63 = 1469598103934665603, 1099511628211, (1 << 63) - 1


@njit(cache=True)
def _grow(array, needed):
    """`array` (1-D) with room for `needed` items (doubling), its items kept."""
    if needed <= len(array):
        return array
    bigger = np.empty(max(needed, 2 * len(array)), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


@njit(cache=True)
def _grow_rows(array, needed):
    """`array` (rows of 5) with room for `needed` rows (doubling), its rows kept."""
    if needed <= len(array):
        return array
    bigger = np.empty((max(needed, 2 * len(array)), 5), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


@njit(cache=True)
def _before(heap, i, j):
    """Does heap row i pop before row j? (count desc, key asc, push number asc)"""
    if heap[i, 0] != heap[j, 0]:
        return heap[i, 0] > heap[j, 0]
    if heap[i, 1] != heap[j, 1]:
        return heap[i, 1] < heap[j, 1]
    return heap[i, 2] < heap[j, 2]


@njit(cache=True)
def _push(heap, size, count, key, seq, pos_start, pos_length):
    heap = _grow_rows(heap, size + 1)
    heap[size, 0], heap[size, 1], heap[size, 2], heap[size, 3], heap[size, 4] = count, key, seq, pos_start, pos_length
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _before(heap, i, parent):
            break
        for k in range(5):
            heap[i, k], heap[parent, k] = heap[parent, k], heap[i, k]
        i = parent
    return heap, size + 1


@njit(cache=True)
def _pop(heap, size):
    """Move the top row to heap[size - 1] and restore the heap on the first size - 1 rows."""
    last = size - 1
    for k in range(5):
        heap[0, k], heap[last, k] = heap[last, k], heap[0, k]
    i = 0
    while True:
        left, right, best = 2 * i + 1, 2 * i + 2, i
        if left < last and _before(heap, left, best):
            best = left
        if right < last and _before(heap, right, best):
            best = right
        if best == i:
            break
        for k in range(5):
            heap[i, k], heap[best, k] = heap[best, k], heap[i, k]
        i = best
    return last


@njit(cache=True)
def _hash(chars, start, length):
    h = FNV_OFFSET
    for k in range(start, start + length):
        h = ((h ^ int(chars[k])) * FNV_PRIME) & MASK63
    return h


@njit(cache=True)
def _find(table, chars, token_start, token_length, start, length):
    """(id of the token whose code points are chars[start:start+length] or -1, the free table key)."""
    key = _hash(chars, start, length)
    while key in table:
        t = table[key]
        if token_length[t] == length:
            same = True
            for k in range(length):
                if chars[token_start[t] + k] != chars[start + k]:
                    same = False
                    break
            if same:
                return t, key
        key += 1
    return -1, key


@njit(cache=True)
def _count_new_pair(k, w, c, stamp, pair_counts, created_at, created_key, created_word, n_created):
    """A merge made pair ``k`` in word ``w`` (counted ``c`` times): add ``c`` to its count, and note (k, w)
    once per word and step (``stamp``) so the caller can push ``k`` with its word positions afterwards.

    Returns the (possibly grown) ``created_key``, ``created_word`` and the new ``n_created``."""
    pair_counts[k] = pair_counts.get(k, 0) + c
    if not (k in created_at and created_at[k] == stamp):
        created_at[k] = stamp
        created_key = _grow(created_key, n_created + 1)
        created_word = _grow(created_word, n_created + 1)
        created_key[n_created], created_word[n_created] = k, w
        n_created += 1
    return created_key, created_word, n_created


@njit(cache=True)
def merge_loop(symbols, word_start, word_length, counts, chars, token_start, token_length, n_tokens, char_len,
               vocab_size, min_frequency, max_len, prefix):  # fmt: skip
    """Count the pairs, then merge until `vocab_size` tokens (see bpe.py). `chars`/`token_*`/`char_len` hold
    the initial tokens and get the new ones; `max_len` < 0 means no max_token_length.

    Returns (merges as an (n, 2) array of ids, n_tokens, chars, token_start, token_length).
    """
    n_words = len(word_start)
    token_start = _grow(token_start, vocab_size + 1)
    token_length = _grow(token_length, vocab_size + 1)
    char_len = _grow(char_len, vocab_size + 1)
    table = Dict.empty(key_type=types.int64, value_type=types.int64)
    n_chars = 0
    for t in range(n_tokens):
        found, key = _find(table, chars, token_start, token_length, token_start[t], token_length[t])
        if found < 0:
            table[key] = t
        n_chars = max(n_chars, token_start[t] + token_length[t])

    # 4. count the pairs, and for each pair the distinct words it occurs in
    pair_counts = Dict.empty(key_type=types.int64, value_type=types.int64)
    last_word = Dict.empty(key_type=types.int64, value_type=types.int64)
    n_occ = 0
    for w in range(n_words):
        n_occ += max(word_length[w] - 1, 0)
    occ_key = np.empty(n_occ, dtype=np.int64)
    occ_word = np.empty(n_occ, dtype=np.int64)
    m = 0
    for w in range(n_words):
        s = word_start[w]
        for i in range(s, s + word_length[w] - 1):
            key = symbols[i] << 32 | symbols[i + 1]
            pair_counts[key] = pair_counts.get(key, 0) + counts[w]
            if key in last_word and last_word[key] == w:
                continue
            last_word[key] = w
            occ_key[m], occ_word[m] = key, w
            m += 1
    order = np.argsort(occ_key[:m], kind="mergesort")
    positions = occ_word[:m][order].copy()
    keys = occ_key[:m][order]
    n_pos = m
    heap = np.empty((max(m, 16), 5), dtype=np.int64)
    size, seq = 0, 0
    i = 0
    while i < m:
        j = i
        while j < m and keys[j] == keys[i]:
            j += 1
        if pair_counts[keys[i]] > 0:
            heap, size = _push(heap, size, pair_counts[keys[i]], keys[i], seq, i, j - i)
            seq += 1
        i = j

    # 5. merge
    merges = np.empty((vocab_size + 1, 2), dtype=np.int64)
    n_merges = 0
    created_key = np.empty(64, dtype=np.int64)
    created_word = np.empty(64, dtype=np.int64)
    created_at = Dict.empty(key_type=types.int64, value_type=types.int64)
    step = 0
    while n_tokens < vocab_size and size > 0:
        size = _pop(heap, size)
        count, key, pos_start, pos_length = heap[size, 0], heap[size, 1], heap[size, 3], heap[size, 4]
        current = pair_counts[key]
        if count != current:  # stale: back in with the current count
            heap, size = _push(heap, size, current, key, seq, pos_start, pos_length)
            seq += 1
            continue
        if count < 1 or count < min_frequency:
            break
        x, y = key >> 32, key & LOW
        # the new token's string: x's, then y's without its continuation prefix
        y_start, y_length = token_start[y], token_length[y]
        if len(prefix) > 0 and y_length >= len(prefix):
            has_prefix = True
            for k in range(len(prefix)):
                if chars[y_start + k] != prefix[k]:
                    has_prefix = False
                    break
            if has_prefix:
                y_start += len(prefix)
                y_length -= len(prefix)
        length = token_length[x] + y_length
        chars = _grow(chars, n_chars + length)
        chars[n_chars : n_chars + token_length[x]] = chars[token_start[x] : token_start[x] + token_length[x]]
        chars[n_chars + token_length[x] : n_chars + length] = chars[y_start : y_start + y_length]
        new, table_key = _find(table, chars, token_start, token_length, n_chars, length)
        new_len = char_len[x] + char_len[y]
        if new < 0:
            new = n_tokens
            table[table_key] = new
            token_start[new], token_length[new], char_len[new] = n_chars, length, new_len
            n_chars += length
            n_tokens += 1
        merges[n_merges, 0], merges[n_merges, 1] = x, y
        n_merges += 1

        # x y -> new in the entry's words; neighbours' counts down, new pairs' counts up
        n_created = 0
        step += 1
        for p in range(pos_start, pos_start + pos_length):
            w = positions[p]
            s, n = word_start[w], word_length[w]
            if n < 2:
                continue
            c = counts[w]
            i, j = s, s  # read at i, write at j (j <= i)
            while i < s + n:
                if symbols[i] == x and i + 1 < s + n and symbols[i + 1] == y:
                    if j > s:  # a symbol before: (a, x) -> (a, new)
                        a = symbols[j - 1]
                        k = a << 32 | x
                        pair_counts[k] = pair_counts.get(k, 0) - c
                        if max_len < 0 or char_len[a] + new_len < max_len:
                            created_key, created_word, n_created = _count_new_pair(
                                a << 32 | new, w, c, step * n_words + w, pair_counts, created_at,
                                created_key, created_word, n_created)  # fmt: skip
                    if i + 2 < s + n:  # a symbol after: (y, b) -> (new, b)
                        b = symbols[i + 2]
                        k = y << 32 | b
                        pair_counts[k] = pair_counts.get(k, 0) - c
                        if max_len < 0 or char_len[b] + new_len < max_len:
                            created_key, created_word, n_created = _count_new_pair(
                                new << 32 | b, w, c, step * n_words + w, pair_counts, created_at,
                                created_key, created_word, n_created)  # fmt: skip
                    symbols[j] = new
                    i += 2
                else:
                    symbols[j] = symbols[i]
                    i += 1
                j += 1
            word_length[w] = j - s
        # one queue entry per new pair, with the words it was created in (in order of first creation)
        order = np.argsort(created_key[:n_created], kind="mergesort")
        i = 0
        while i < n_created:
            k = created_key[order[i]]
            j = i
            while j < n_created and created_key[order[j]] == k:
                j += 1
            if pair_counts[k] > 0:
                positions = _grow(positions, n_pos + j - i)
                for q in range(i, j):
                    positions[n_pos + q - i] = created_word[order[q]]
                heap, size = _push(heap, size, pair_counts[k], k, seq, n_pos, j - i)
                n_pos += j - i
                seq += 1
            i = j
    return merges[:n_merges], n_tokens, chars[:n_chars], token_start[:n_tokens], token_length[:n_tokens]

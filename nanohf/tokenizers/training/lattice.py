"""Numba kernels for Unigram training: the pieces' trie and the lattice of every word.

A word of L characters and a vocabulary of pieces with log-probabilities define a lattice: one node per
occurrence of a piece in the word, from position s to position e (character positions 0..L). A
segmentation of the word is a path of nodes from 0 to L, with probability the product of its pieces'
probabilities (the sum of their log-probabilities). Where no one-character piece starts at a position, an
unknown node of one character is added with score min_score - 10, so every word has a segmentation.

  * forward-backward (E-step):  A[0] = 0,  A[e] = logsumexp over nodes (s, e) of A[s] + score
                                B[L] = 0,  B[s] = logsumexp over nodes (s, e) of score + B[e]
    The posterior probability that a node (s, e) is used is exp(A[s] + score + B[e] - A[L]): the
    expected count of its piece gains that times the word's count.
  * Viterbi:                    V[e] = max over nodes (s, e) of V[s] + score, the best segmentation.

The order of the sums follows the Rust trainer's lattice (nodes ending at a position taken by start
position, nodes starting at a position by length, the unknown node last) and its logsumexp (which returns
the larger term alone when the other is 50 nats below), so the float results agree closely.

Characters are Unicode code points in int64 arrays; words are slices chars[starts[i]:starts[i + 1]].
The trie maps (node, code point) to a child node through one dict keyed node * 2**21 + code point.
"""

import math

import numpy as np
from numba import njit, types
from numba.typed import Dict

CODE_POINTS = 1 << 21  # every code point is below 0x110000 < 2**21
UNK_PENALTY = 10.0  # the unknown node scores min_score - 10, as in the Rust model
# FNV-1a hashing of substrings, kept to 63 bits: the same value whether the product wraps (compiled int64)
# or not (plain Python with NUMBA_DISABLE_JIT), and never negative.
FNV_OFFSET, FNV_PRIME, MASK63 = 1469598103934665603, 1099511628211, (1 << 63) - 1


@njit(cache=True)
def build_trie(chars, offsets):
    """Pieces (chars[offsets[p]:offsets[p+1]]) -> (children dict, piece id of each trie node or -1)."""
    children = Dict.empty(key_type=types.int64, value_type=types.int64)
    piece_at = np.full(len(chars) + 1, -1, dtype=np.int64)
    n_nodes = 1  # node 0 is the root
    for p in range(len(offsets) - 1):
        node = 0
        for k in range(offsets[p], offsets[p + 1]):
            key = node * CODE_POINTS + chars[k]
            if key in children:
                node = children[key]
            else:
                children[key] = n_nodes
                node = n_nodes
                n_nodes += 1
        piece_at[node] = p
    return children, piece_at[:n_nodes]


@njit(cache=True)
def _lattice(chars, a, b, children, piece_at, unk_id, unk_score, scores, node_start, node_end, node_id, node_score):
    """Fill the node arrays with the lattice of chars[a:b]; return the number of nodes.

    Nodes come out sorted by start position, and for one start by length, the unknown node last.
    """
    n = 0
    for s in range(a, b):
        node = 0
        has_single = False
        for e in range(s, b):
            key = node * CODE_POINTS + chars[e]
            if key not in children:
                break
            node = children[key]
            p = piece_at[node]
            if p >= 0:
                node_start[n] = s - a
                node_end[n] = e + 1 - a
                node_id[n] = p
                node_score[n] = scores[p]
                n += 1
                if e == s:
                    has_single = True
        if not has_single and unk_id >= 0:
            node_start[n] = s - a
            node_end[n] = s + 1 - a
            node_id[n] = unk_id
            node_score[n] = unk_score
            n += 1
    return n


@njit(cache=True)
def _log_sum_exp(x, y, first):
    """log(exp(x) + exp(y)), the Rust trainer's way: the first term alone, or the larger one when they are
    more than 50 apart."""
    if first:
        return y
    vmin, vmax = (y, x) if x > y else (x, y)
    if vmax > vmin + 50.0:
        return vmax
    return vmax + math.log(math.exp(vmin - vmax) + 1.0)


@njit(cache=True)
def _buffers(max_len, max_piece_len):
    size = max_len * (max_piece_len + 1) + 1
    return (np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.float64))


@njit(cache=True)
def expected_counts(chars, starts, counts, children, piece_at, scores, unk_id, unk_score, max_piece_len):
    """E-step: expected[p] = sum over words w of count(w) · E[number of times piece p is used in w].

    Returns (expected, objective) with objective = -sum count(w) · log Z(w) / sum count(w).
    """
    n_words = len(starts) - 1
    max_len = 0
    for w in range(n_words):
        max_len = max(max_len, starts[w + 1] - starts[w])
    node_start, node_end, node_id, node_score = _buffers(max_len, max_piece_len)
    alpha = np.zeros(max_len + 1)
    beta = np.zeros(max_len + 1)
    seen = np.zeros(max_len + 1, dtype=np.bool_)
    expected = np.zeros(len(scores))
    objective = 0.0
    total = 0.0
    for w in range(n_words):
        total += counts[w]
    for w in range(n_words):
        a, b = starts[w], starts[w + 1]
        length = b - a
        if length == 0:
            continue
        n = _lattice(chars, a, b, children, piece_at, unk_id, unk_score, scores, node_start, node_end, node_id,
                     node_score)  # fmt: skip
        # forward: nodes are sorted by start, so A[s] is final before any node starting at s is read
        seen[: length + 1] = False
        alpha[0] = 0.0
        seen[0] = True
        for i in range(n):
            e = node_end[i]
            alpha[e] = _log_sum_exp(alpha[e], alpha[node_start[i]] + node_score[i], not seen[e])
            seen[e] = True
        # backward: walk the nodes from the last start to the first
        seen[: length + 1] = False
        beta[length] = 0.0
        seen[length] = True
        i = n - 1
        while i >= 0:
            s = node_start[i]
            j = i  # nodes starting at s are i0..i; sum them in their own order (by length)
            while j > 0 and node_start[j - 1] == s:
                j -= 1
            for k in range(j, i + 1):
                beta[s] = _log_sum_exp(beta[s], node_score[k] + beta[node_end[k]], not seen[s])
                seen[s] = True
            i = j - 1
        z = alpha[length]
        c = counts[w]
        for i in range(n):
            expected[node_id[i]] += c * math.exp(alpha[node_start[i]] + node_score[i] + beta[node_end[i]] - z)
        objective -= c * z / total
    return expected, objective


@njit(cache=True)
def _viterbi(n, length, node_start, node_end, node_score, skip, best, best_node):
    """Best path through the lattice's n nodes (skipping node `skip`): fills best[]/best_node[]; returns
    False if no path exists. Ties keep the node that starts first, as the Rust lattice does."""
    has = np.zeros(length + 1, dtype=np.bool_)
    has[0] = True
    best[0] = 0.0
    # Nodes are sorted by start, and a node's predecessors end where it starts, so they all come before it:
    # best[s] is final when the first node starting at s is read.
    for i in range(n):
        if i == skip:
            continue
        s, e = node_start[i], node_end[i]
        if not has[s]:
            continue
        score = best[s] + node_score[i]
        # strict > keeps the earliest-starting node among equal scores
        if not has[e] or score > best[e]:
            best[e] = score
            best_node[e] = i
            has[e] = True
    return has[length]


@njit(cache=True)
def viterbi_counts(chars, starts, counts, children, piece_at, scores, unk_id, unk_score, max_piece_len):
    """freq[p] = sum over words of count(w) · (occurrences of piece p in the word's best segmentation),
    and the number of tokens of all best segmentations (weighted by count)."""
    n_words = len(starts) - 1
    max_len = 0
    for w in range(n_words):
        max_len = max(max_len, starts[w + 1] - starts[w])
    node_start, node_end, node_id, node_score = _buffers(max_len, max_piece_len)
    best = np.zeros(max_len + 1)
    best_node = np.zeros(max_len + 1, dtype=np.int64)
    freq = np.zeros(len(scores))
    for w in range(n_words):
        a, b = starts[w], starts[w + 1]
        length = b - a
        if length == 0:
            continue
        n = _lattice(chars, a, b, children, piece_at, unk_id, unk_score, scores, node_start, node_end, node_id,
                     node_score)  # fmt: skip
        if not _viterbi(n, length, node_start, node_end, node_score, -1, best, best_node):
            continue
        e = length
        while e > 0:
            i = best_node[e]
            freq[node_id[i]] += counts[w]
            e = node_start[i]
    return freq


@njit(cache=True)
def piece_alternatives(chars, offsets, children, piece_at, scores, unk_id, unk_score, max_piece_len):
    """For each piece p (a string of the vocabulary), how it is segmented if p itself were removed.

    Returns (always_keep[p], alt_offsets, alt_ids): alt_ids[alt_offsets[p]:alt_offsets[p+1]] is the best
    segmentation of p's string that does not use p — the second best path of its lattice when the best one
    is p alone (the Rust trainer takes the 2-best list of the lattice). A piece whose best segmentation is
    not itself is not always kept; a one-character piece has no alternative and is always kept.
    """
    n_pieces = len(offsets) - 1
    max_len = 1
    for p in range(n_pieces):
        max_len = max(max_len, offsets[p + 1] - offsets[p])
    node_start, node_end, node_id, node_score = _buffers(max_len, max_piece_len)
    best = np.zeros(max_len + 1)
    best_node = np.zeros(max_len + 1, dtype=np.int64)
    always_keep = np.ones(n_pieces, dtype=np.bool_)
    alt_offsets = np.zeros(n_pieces + 1, dtype=np.int64)
    alt_ids = np.empty(int(offsets[-1]) + 1, dtype=np.int64)
    m = 0
    for p in range(n_pieces):
        a, b = offsets[p], offsets[p + 1]
        length = b - a
        if length > 1:
            n = _lattice(chars, a, b, children, piece_at, unk_id, unk_score, scores, node_start, node_end,
                         node_id, node_score)  # fmt: skip
            _viterbi(n, length, node_start, node_end, node_score, -1, best, best_node)
            whole = best_node[length]
            if node_start[whole] != 0 or node_id[whole] != p:
                always_keep[p] = False  # its best segmentation has two or more pieces
            elif _viterbi(n, length, node_start, node_end, node_score, whole, best, best_node):
                start = m
                e = length
                while e > 0:
                    i = best_node[e]
                    alt_ids[m] = node_id[i]
                    m += 1
                    e = node_start[i]
                alt_ids[start:m] = alt_ids[start:m][::-1].copy()
        alt_offsets[p + 1] = m
    return always_keep, alt_offsets, alt_ids[:m]


@njit(cache=True)
def _same(chars, a, b, length):
    for k in range(length):
        if chars[a + k] != chars[b + k]:
            return False
    return True


@njit(cache=True)
def _double(array):
    bigger = np.empty(2 * len(array), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


@njit(cache=True)
def substring_stats(chars, starts, max_len):
    """Every substring of 2..max_len characters of the words (none containing code point 0): where one
    occurrence is (start in chars, length), its number of occurrences, and whether two different characters
    follow it somewhere (the end of a word counts as the character 0).

    Substrings are found through a dict from a 64-bit FNV hash (extended one character at a time) to the
    entry, each hit checked character by character, so a hash collision cannot merge two substrings.
    """
    table = Dict.empty(key_type=types.int64, value_type=types.int64)
    rep = np.empty(1024, dtype=np.int64)
    length = np.empty(1024, dtype=np.int64)
    count = np.empty(1024, dtype=np.int64)
    first_next = np.empty(1024, dtype=np.int64)
    branching = np.empty(1024, dtype=np.bool_)
    n = 0
    for w in range(len(starts) - 1):
        a, b = starts[w], starts[w + 1]
        for i in range(a, b - 1):
            if chars[i] == 0:
                continue
            h = ((FNV_OFFSET ^ int(chars[i])) * FNV_PRIME) & MASK63
            for end in range(i + 2, min(b, i + max_len) + 1):
                c = chars[end - 1]
                if c == 0:
                    break
                h = ((h ^ int(c)) * FNV_PRIME) & MASK63
                after = chars[end] if end < b else 0
                size = end - i
                key = h
                while True:
                    if key not in table:
                        if n == len(rep):
                            rep, length, count = _double(rep), _double(length), _double(count)
                            first_next, branching = _double(first_next), _double(branching)
                        table[key] = n
                        rep[n], length[n], count[n], first_next[n], branching[n] = i, size, 1, after, False
                        n += 1
                        break
                    e = table[key]
                    if length[e] == size and _same(chars, rep[e], i, size):
                        count[e] += 1
                        if first_next[e] != after:
                            branching[e] = True
                        break
                    key += 1
    return rep[:n], length[:n], count[:n], branching[:n]

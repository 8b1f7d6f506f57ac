"""`Encoding`: one encoded input with everything that is known about each token, and the three operations
that shape it into a model input: truncation (with overflow windows), merging (adding special tokens,
joining a pair) and padding.

This is the data model of the Rust `tokenizers` library, which transformers 5 runs on; its quirks (the
order of overflow windows of a pair, what happens when no room is left, which padding target a batch
uses) decide what transformers returns, so they are reproduced here on purpose.

    "a b c" --tokenize--> ids [a, b, c], offsets [(0,1), (2,3), (4,5)], words [0, 1, 2]
            --truncate(2, stride=1)--> [a, b] + overflowing [[b, c]]
            --merge with [CLS], [SEP]--> [CLS] a b [SEP] + overflowing [[CLS] b c [SEP]]
            --pad(6)--> [CLS] a b [SEP] [PAD] [PAD] (and the overflow window alike)
"""

from itertools import repeat


class Encoding:
    """Token-level columns of one sequence (or pair) of length seq, plus the windows cut off by truncation.

    Attributes (all lists of length seq):
        ids: vocabulary ids.
        type_ids: segment of each token (0 for the first text, 1 for the second, as the template says).
        tokens: the token strings ("hello", "##ing", "Ġworld", "[CLS]").
        offsets: (start, end) character span of each token in its original text; (0, 0) for added tokens.
        words: index of the word each token comes from, None for special tokens and padding.
        special_tokens_mask: 1 for tokens added by the template or by padding, 0 for tokens from the text.
        attention_mask: 1 for real tokens, 0 for padding.
    Other attributes:
        sequence_ranges: {sequence index: (start, end)} token range of each text; empty means "all of it
            is sequence 0".
        overflowing: list of Encoding, the extra windows produced by truncation (return_overflowing_tokens).
    """

    __slots__ = ("ids", "type_ids", "tokens", "offsets", "words", "special_tokens_mask", "attention_mask",
                 "sequence_ranges", "overflowing")

    def __init__(self, ids, type_ids, tokens, offsets, words, special_tokens_mask, attention_mask,
                 sequence_ranges=None, overflowing=None):
        self.ids = ids
        self.type_ids = type_ids
        self.tokens = tokens
        self.offsets = offsets
        self.words = words
        self.special_tokens_mask = special_tokens_mask
        self.attention_mask = attention_mask
        self.sequence_ranges = sequence_ranges if sequence_ranges is not None else {}
        self.overflowing = overflowing if overflowing is not None else []

    @classmethod
    def from_tokens(cls, ids, tokens, offsets, words):
        """A plain text's tokens: segment 0, no special tokens, all attended."""
        n = len(ids)
        return cls(ids, [0] * n, tokens, offsets, words, [0] * n, [1] * n)

    @classmethod
    def special(cls, token, token_id, type_id):
        """The one-token encoding of a special token inserted by a template, e.g. [CLS]."""
        return cls([token_id], [type_id], [token], [(0, 0)], [None], [1], [1])

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        return f"Encoding(num_tokens={len(self)}, overflowing={len(self.overflowing)})"

    def _slice(self, start, stop):
        """Tokens start..stop as a new Encoding (no sequence ranges, no overflow)."""
        return Encoding(self.ids[start:stop], self.type_ids[start:stop], self.tokens[start:stop],
                        self.offsets[start:stop], self.words[start:stop], self.special_tokens_mask[start:stop],
                        self.attention_mask[start:stop])

    # ------------------------------------------------------------------ per-token views
    @property
    def word_ids(self):
        """`words` under the name `tokenizers` gives it (Encoding.word_ids)."""
        return self.words

    @property
    def n_sequences(self):
        return max(1, len(self.sequence_ranges))

    def sequence_range(self, sequence_index):
        """(start, end) token range of one text; the whole encoding when no ranges are recorded."""
        return self.sequence_ranges.get(sequence_index, (0, len(self.ids)))

    @property
    def sequence_ids(self):
        """For each token: 0 or 1 (which text it comes from), or None (special token, padding)."""
        out = [None] * len(self.ids)
        for seq in range(self.n_sequences):
            start, end = self.sequence_range(seq)
            out[start:end] = repeat(seq, end - start)
        return out

    def set_type_id(self, type_id):
        """Mark every token, overflow windows included, as belonging to segment `type_id`."""
        self.type_ids = [type_id] * len(self.ids)
        for window in self.overflowing:
            window.set_type_id(type_id)

    def set_sequence_id(self, sequence_index):
        """Record that the whole encoding (and each overflow window) is text number `sequence_index`."""
        self.sequence_ranges = {sequence_index: (0, len(self.ids))}
        for window in self.overflowing:
            window.set_sequence_id(sequence_index)

    # ------------------------------------------------------------------ truncation
    def truncate(self, max_len, stride=0, direction="right"):
        """Keep `max_len` tokens; what is cut off becomes overflow windows of max_len tokens each, every
        window repeating the last `stride` tokens of the previous one (so no context is lost at the seams).

        direction "right" keeps the start of the text, "left" keeps its end (windows then walk backwards).
        max_len 0 moves everything into a single overflow window and leaves this encoding empty.
        """
        n = len(self.ids)
        if max_len >= n:
            return
        if max_len == 0:
            whole = self._slice(0, n)
            whole.sequence_ranges = self.sequence_ranges
            self.__init__([], [], [], [], [], [], [], overflowing=[whole])
            return
        if stride >= max_len:
            raise ValueError(f"`stride` must be strictly less than `max_len={max_len}` (note that `max_len` may be "
                             "shorter than the max length of the original model, as it subtracts the number of "
                             "special characters")
        step = max_len - stride
        windows = []
        if direction == "right":
            for start in range(0, n, step):
                windows.append((start, min(start + max_len, n)))
                if windows[-1][1] == n:
                    break
        else:
            for stop in range(n, 0, -step):
                windows.append((max(stop - max_len, 0), stop))
                if windows[-1][0] == 0:
                    break
        first = self._slice(*windows[0])
        self.__init__(first.ids, first.type_ids, first.tokens, first.offsets, first.words,
                      first.special_tokens_mask, first.attention_mask,
                      overflowing=[self._slice(start, stop) for start, stop in windows[1:]])

    # ------------------------------------------------------------------ merging
    def _append(self, other):
        """Concatenate `other`'s tokens after ours (its sequence ranges shifted along); overflow untouched."""
        shift = len(self.ids)
        for seq, (start, end) in other.sequence_ranges.items():
            self.sequence_ranges[seq] = (start + shift, end + shift)
        self.ids += other.ids
        self.type_ids += other.type_ids
        self.tokens += other.tokens
        self.offsets += other.offsets
        self.words += other.words
        self.special_tokens_mask += other.special_tokens_mask
        self.attention_mask += other.attention_mask

    def copy(self):
        """A copy of the main window (lists copied, overflow dropped)."""
        return Encoding(self.ids[:], self.type_ids[:], self.tokens[:], self.offsets[:], self.words[:],
                        self.special_tokens_mask[:], self.attention_mask[:], dict(self.sequence_ranges))

    def merge_with(self, other):
        """Append `other` to this encoding, combining overflow windows like `tokenizers` does.

        The new windows are, in this order: each of our windows followed by other's main part and then by
        each of other's windows; then our main part followed by each of other's windows. (That is why a
        truncated pair yields its windows in a seemingly odd order.)
        """
        windows = []
        for mine in self.overflowing:
            for theirs in [other, *other.overflowing]:
                window = mine.copy()
                window._append(theirs)
                windows.append(window)
        for theirs in other.overflowing:
            window = self.copy()
            window._append(theirs)
            windows.append(window)
        self._append(other)
        self.overflowing = windows

    @classmethod
    def merge(cls, encodings):
        """Concatenate encodings left to right (e.g. [CLS], text A, [SEP]) into a new Encoding."""
        merged = cls([], [], [], [], [], [], [])
        for encoding in encodings:
            if merged.overflowing or encoding.overflowing:
                merged.merge_with(encoding)
            else:  # the usual case: nothing was truncated away, plain concatenation
                merged._append(encoding)
        return merged

    # ------------------------------------------------------------------ padding
    def pad(self, length, pad_id, pad_token, pad_type_id=0, side="right"):
        """Pad this encoding and each overflow window up to `length` tokens (longer ones are left alone)."""
        for window in self.overflowing:
            window.pad(length, pad_id, pad_token, pad_type_id, side)
        n = length - len(self.ids)
        if n <= 0:
            return
        columns = (("ids", pad_id), ("type_ids", pad_type_id), ("tokens", pad_token), ("offsets", (0, 0)),
                   ("words", None), ("special_tokens_mask", 1), ("attention_mask", 0))
        if side == "right":
            for name, value in columns:
                getattr(self, name).extend(repeat(value, n))
        else:
            for name, value in columns:
                setattr(self, name, [value] * n + getattr(self, name))
            self.sequence_ranges = {seq: (start + n, end + n) for seq, (start, end) in self.sequence_ranges.items()}

    # ------------------------------------------------------------------ lookups (used by BatchEncoding)
    def token_to_sequence(self, token_index):
        if token_index > len(self.ids):  # sic: `tokenizers` accepts the index one past the end
            return None
        if not self.sequence_ranges:
            return 0
        for seq, (start, end) in self.sequence_ranges.items():
            if start <= token_index < end:
                return seq
        return None

    def token_to_word(self, token_index):
        if self.token_to_sequence(token_index) is None or not 0 <= token_index < len(self.words):
            return None
        return self.words[token_index]

    def token_to_chars(self, token_index):
        if self.token_to_sequence(token_index) is None or not 0 <= token_index < len(self.offsets):
            return None
        return self.offsets[token_index]

    def word_to_tokens(self, word_index, sequence_index=0):
        """(first token, last token + 1) of a word of one text, or None."""
        start, end = self.sequence_range(sequence_index)
        found = []
        for i in range(start, min(end, len(self.words))):
            if self.words[i] is not None and self.words[i] > word_index:
                break  # words come in order: stop at the first later one, as `tokenizers` does
            if self.words[i] == word_index:
                found.append(i)
        return (found[0], found[-1] + 1) if found else None

    def word_to_chars(self, word_index, sequence_index=0):
        span = self.word_to_tokens(word_index, sequence_index)
        return None if span is None else (self.offsets[span[0]][0], self.offsets[span[1] - 1][1])

    def char_to_token(self, char_index, sequence_index=0):
        """The first token of one text whose character span contains `char_index`, or None."""
        start, end = self.sequence_range(sequence_index)
        for i in range(start, min(end, len(self.offsets))):
            if self.offsets[i][0] <= char_index < self.offsets[i][1]:
                return i
        return None

    def char_to_word(self, char_index, sequence_index=0):
        token = self.char_to_token(char_index, sequence_index)
        return None if token is None else self.token_to_word(token)


def truncate_pair(first, second, max_length, strategy="longest_first", stride=0, direction="right"):
    """Truncate a text (and optionally its pair) in place so that together they keep at most `max_length`
    tokens, as `tokenizers` does. `max_length` excludes the special tokens that will be added.

    "longest_first": the shorter text keeps everything if that leaves the longer one at least as much
    room; otherwise both get half (the second text gets the odd token). "only_first"/"only_second": cut one
    text and refuse to cut it away completely. max_length 0 empties both, whatever the strategy.
    """
    if max_length == 0:
        first.truncate(0, stride, direction)
        if second is not None:
            second.truncate(0, stride, direction)
        return
    total = len(first) + (len(second) if second is not None else 0)
    if total <= max_length:
        return
    if strategy == "longest_first":
        if second is None:
            first.truncate(max_length, stride, direction)
            return
        short, long = sorted((len(first), len(second)))
        long = short if short > max_length else max(short, max_length - short)
        if short + long > max_length:
            short, long = max_length // 2, max_length // 2 + max_length % 2
        keep_first, keep_second = (long, short) if len(first) > len(second) else (short, long)
        first.truncate(keep_first, stride, direction)
        second.truncate(keep_second, stride, direction)
        return
    if strategy == "only_second" and second is None:
        raise ValueError("Truncation error: Second sequence not provided")
    victim = first if strategy == "only_first" else second
    if len(victim) <= total - max_length:
        raise ValueError("Truncation error: Sequence to truncate too short to respect the provided max_length")
    victim.truncate(len(victim) - (total - max_length), stride, direction)


def pad_batch(encodings, length, pad_id, pad_token, pad_type_id=0, side="right", multiple_of=None):
    """Pad a batch in place: to `length`, or (length None) to the longest main window of the batch, rounded
    up to a multiple of `multiple_of`. Overflow windows are padded to the same length.
    """
    if not encodings:
        return
    if length is None:
        length = max(len(e) for e in encodings)
    if multiple_of and length % multiple_of:
        length += multiple_of - length % multiple_of
    for encoding in encodings:
        encoding.pad(length, pad_id, pad_token, pad_type_id, side)

"""GPT-2's tokenizer: byte-level byte-pair encoding (BPE).

    "Hello wörld"  --pre-tokenize (regex)-->  ["Hello", " wörld"]
                   --UTF-8 bytes, each byte shown as a printable character-->  ["Hello", "ĠwÃ¶rld"]
                   --merge the best-ranked adjacent pair until none is left-->  ["Hello", "Ġw", "Ã¶r", "ld"]

Working on bytes means every string can be encoded (no [UNK]); spaces belong to the word that follows them
("Ġ" is the byte of " "). transformers 5 runs this through the Rust `tokenizers` library (ByteLevel
pre-tokenizer, BPE model, ByteLevel decoder); the rules below reproduce it.
"""

import json
import os

import numpy as np
import regex
from numba import njit

from nanohf.jsonfile import read_json as read_json_file
from nanohf.models.hub import write_atomically

from .base import WORD_CACHE_SIZE, PreTrainedTokenizerBase, read_json
from .loading import check_merges, check_vocab, read_config, read_text, tokenizer_json_model


def bytes_to_unicode():
    """The 256 bytes -> 256 printable characters, the alphabet of GPT-2's vocabulary.

    Printable Latin-1 bytes stand for themselves ("a" is "a"); the others (control characters, space,
    ...) are shifted to code points 256, 257, ... in byte order, so " " (byte 32) becomes "Ġ" (U+0120).
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {char: byte for byte, char in BYTE_TO_CHAR.items()}

# Letters and numbers that Unicode 17 added: the `regex` package knows them, the Oniguruma engine inside
# `tokenizers` (Unicode 16) does not, and treats them as symbols. We do too, by taking them out of \p{L}
# and \p{N}. (Found by running every code point through both; see tests/test_tokenizer_bpe.py. A `regex`
# with Unicode 18 would need Unicode 18's additions here too: pyproject.toml stops below it.)
_UNICODE_17 = ("\u088f\u0c5c\u0cdc\ua7ce-\ua7cf\ua7d2\ua7d4\ua7f1\U00010940-\U00010959\U00010ec5-\U00010ec7"
               "\U00011db0-\U00011ddb\U00011de0-\U00011de9\U00016ea0-\U00016eb8\U00016ebb-\U00016ed3"
               "\U00016ff2-\U00016ff6\U000187f8-\U000187ff\U00018d09-\U00018d1e\U00018d80-\U00018df2"
               "\U0001e6c0-\U0001e6de\U0001e6e0-\U0001e6e2\U0001e6e4-\U0001e6e5\U0001e6e7-\U0001e6ed"
               "\U0001e6f0-\U0001e6f4\U0001e6fe-\U0001e6ff\U0002b73a-\U0002b73f\U0002cea2-\U0002cead"
               "\U000323b0-\U00033479")
_LETTER = rf"[\p{{L}}--[{_UNICODE_17}]]"
_NUMBER = rf"[\p{{N}}--[{_UNICODE_17}]]"
# GPT-2's pre-tokenizer: English contractions, a letter run, a digit run or a symbol run (each with at most
# one leading space), then whitespace: a run of spaces before a word leaves its last space to that word.
GPT2_PATTERN = regex.compile(
    rf"""'s|'t|'re|'ve|'m|'ll|'d| ?{_LETTER}+| ?{_NUMBER}+| ?[^\s{_LETTER}{_NUMBER}]+|\s+(?!\S)|\s+""",
    regex.V1)


@njit(cache=True)
def merge_pairs(ids, pair_keys, pair_ranks, pair_ids, n_vocab):
    """Byte-pair encoding of one word, on token ids.

    Args:
        ids: (n,) int64 ids of the word's single-byte tokens; overwritten.
        pair_keys: (m,) sorted int64 keys left_id * n_vocab + right_id of the mergeable pairs.
        pair_ranks, pair_ids: (m,) the rank of each pair (its line in merges.txt) and the id of the merged token.

    Returns:
        (k,) ids of the word's tokens. Repeatedly: find the adjacent pair with the lowest rank, merge every
        occurrence of it from left to right; stop when no adjacent pair can be merged. (`tokenizers` pops one
        pair at a time from a heap instead; the result is the same, because a pair that a merge creates was
        learned after that merge, so it always ranks later.)
    """
    n = ids.shape[0]
    while n > 1:
        best_rank, best_at, best_id = pair_ranks.shape[0], -1, -1
        for i in range(n - 1):
            key = ids[i] * n_vocab + ids[i + 1]
            j = np.searchsorted(pair_keys, key)
            if j < pair_keys.shape[0] and pair_keys[j] == key and pair_ranks[j] < best_rank:
                best_rank, best_at, best_id = pair_ranks[j], i, pair_ids[j]
        if best_at < 0:
            break
        left, right = ids[best_at], ids[best_at + 1]
        out, i = best_at, best_at  # nothing before the first occurrence changes
        while i < n:
            if i + 1 < n and ids[i] == left and ids[i + 1] == right:
                ids[out] = best_id
                i += 2
            else:
                ids[out] = ids[i]
                i += 1
            out += 1
        n = out
    return ids[:n]


def load_merges(path):
    """merges.txt / vocab.bpe ("#version: 0.2" header, then one "left right" pair per line) -> [(left, right)]."""
    lines = read_text(path).split("\n")
    merges = [line for line in lines if line and not line.startswith("#version")]
    return check_merges(merges, str(path))


class GPT2Tokenizer(PreTrainedTokenizerBase):
    """GPT-2's byte-level BPE tokenizer, producing what transformers' GPT2Tokenizer produces.

    Args:
        vocab_file: vocab.json (or GPT-2's original encoder.json): {token: id}; or pass `vocab=` a dict.
        merges_file: merges.txt (or GPT-2's original vocab.bpe); or pass `merges=` a list of pairs.
        errors: how invalid UTF-8 is decoded ("replace": as U+FFFD, like `tokenizers`).
        unk_token, bos_token, eos_token: all "<|endoftext|>" for GPT-2. (Byte-level BPE never needs unk.)
        pad_token: None: GPT-2 has no padding token, so padding raises until one is set
            (`tok.pad_token = tok.eos_token` is the usual choice).
        add_prefix_space: add a space before the text (and each word of is_split_into_words input), so that
            the first word is encoded like any other ("Hello" -> "ĠHello").
        **kwargs: model_max_length, padding_side, ... (see the base class).

    Usage:
        tok = GPT2Tokenizer.from_pretrained("path/to/gpt2")
        tok("Hello world").input_ids  # [15496, 995]
    """

    model_input_names = ["input_ids", "attention_mask"]

    def __init__(self, vocab_file=None, merges_file=None, errors="replace", unk_token="<|endoftext|>",
                 bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token=None, add_prefix_space=False,
                 vocab=None, merges=None, **kwargs):
        source = str(vocab_file) if vocab is not None and vocab_file is not None else None
        vocab = vocab if vocab is not None else vocab_file
        merges = merges if merges is not None else merges_file
        if vocab is None or merges is None:
            raise ValueError("GPT2Tokenizer needs a vocabulary (vocab.json) and merges (merges.txt)")
        source = source or (str(vocab) if isinstance(vocab, str | os.PathLike) else "the vocabulary")
        if isinstance(vocab, str | os.PathLike):
            vocab = read_json_file(vocab, allow_nan=False)
        if isinstance(merges, str | os.PathLike):
            merges = load_merges(merges)
        check_vocab(vocab, source)
        super().__init__(vocab, unk_token=unk_token, bos_token=bos_token, eos_token=eos_token,
                         pad_token=pad_token, **kwargs)
        self.errors = errors
        self.add_prefix_space = add_prefix_space
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in merges]
        # The rank of a pair is its line in the merges file: lower ranks were learned first and merge first.
        self.bpe_ranks = {pair: rank for rank, pair in enumerate(merges)}
        self._byte_ids = np.array([self.vocab.get(BYTE_TO_CHAR[b], -1) for b in range(256)], dtype=np.int64)
        if (self._byte_ids < 0).any():
            missing = [BYTE_TO_CHAR[b] for b in range(256) if self._byte_ids[b] < 0]
            raise ValueError(f"{source}: not a byte-level vocabulary: {len(missing)} of the 256 byte tokens are "
                             f"missing ({missing[:5]})")
        # The merges as sorted arrays for `merge_pairs`: key left_id * n + right_id -> (rank, merged id).
        # (The first of two identical lines wins: the stable sort keeps it in front.)
        n = len(self.vocab)
        table = np.array([(self.vocab[a] * n + self.vocab[b], rank, self.vocab[a + b])
                          for rank, (a, b) in enumerate(merges)
                          if a in self.vocab and b in self.vocab and a + b in self.vocab], dtype=np.int64)
        table = table.reshape(-1, 3)[np.argsort(table.reshape(-1, 3)[:, 0], kind="stable")]
        self._pair_keys, self._pair_ranks, self._pair_ids = (np.ascontiguousarray(table[:, k]) for k in range(3))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load from a folder holding vocab.json + merges.txt, GPT-2's original encoder.json + vocab.bpe, or
        tokenizer.json, plus optional tokenizer_config.json and special_tokens_map.json. Keyword arguments as
        for BertTokenizer.from_pretrained (add_prefix_space=, pad_token=, model_max_length=, ...)."""
        folder = cls._loading_folder(pretrained_model_name_or_path, kwargs)
        config = read_config(folder)
        settings = {}
        fast = read_json(folder, "tokenizer.json")
        if fast:  # transformers 5 prefers tokenizer.json's vocabulary and merges when both are present
            model = tokenizer_json_model(fast, folder, "vocab", "merges")
            where = f"{os.path.join(folder, 'tokenizer.json')}: model"
            settings.update(vocab_file=os.path.join(folder, "tokenizer.json"), vocab=check_vocab(model["vocab"], where),
                            merges=check_merges(model["merges"], where))  # (vocab_file: the source of errors)
        for vocab_name, merges_name in (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")):
            if fast:
                break
            if os.path.isfile(os.path.join(folder, vocab_name)) and os.path.isfile(os.path.join(folder, merges_name)):
                settings.update(vocab_file=os.path.join(folder, vocab_name),
                                merges_file=os.path.join(folder, merges_name))
                break
        else:
            raise FileNotFoundError(f"no vocab.json + merges.txt, encoder.json + vocab.bpe or tokenizer.json "
                                    f"in {folder}")
        for key in ("errors", "add_prefix_space"):
            if key in config:
                settings[key] = config[key]
        settings.update(cls._common_settings(config, folder))
        tokenizer = cls(**{**settings, **kwargs})
        tokenizer._backend_state = {key: fast.get(key) for key in ("truncation", "padding")}
        return tokenizer

    # ------------------------------------------------------------------ encoding
    def bpe(self, word):
        """A byte-level word ("Ġwörld" in GPT-2's alphabet) -> its tokens, merging pairs by rank.

        Start from single characters (bytes); repeatedly merge every occurrence of the adjacent pair with the
        lowest rank; stop when no adjacent pair is in the merges. (The loop runs in `merge_pairs`, on ids.)
        """
        ids = np.array([CHAR_TO_BYTE[ch] for ch in word], dtype=np.int64)
        return [self.ids_to_tokens[i] for i in self._merge(self._byte_ids[ids]).tolist()]

    def _merge(self, byte_ids):
        return merge_pairs(byte_ids, self._pair_keys, self._pair_ranks, self._pair_ids, len(self.vocab))

    def _bpe_entry(self, word):
        """A pre-tokenized word (plain text) -> (ids, tokens, spans), spans in characters of `word`."""
        data = word.encode("utf-8")
        ids = self._merge(self._byte_ids[np.frombuffer(data, dtype=np.uint8)]).tolist()
        tokens = [self.ids_to_tokens[i] for i in ids]
        # Each token covers some bytes (one character of GPT-2's alphabet per byte); its span is the characters
        # those bytes belong to (a token holding part of a multi-byte character, like half an emoji, spans
        # that whole character).
        if len(data) == len(word):  # ASCII: bytes are characters
            char_of_byte = range(len(word))
        else:
            char_of_byte = [i for i, ch in enumerate(word) for _ in range(len(ch.encode("utf-8")))]
        spans, start = [], 0
        for token in tokens:
            end = start + len(token)
            spans.append((char_of_byte[start], char_of_byte[end - 1] + 1))
            start = end
        return tuple(ids), tuple(tokens), tuple(spans)

    def _words(self, text):
        """Plain text -> [((ids, tokens, spans), where)] per pre-tokenized word (see the base class)."""
        if not text:
            return []
        # The added space stands in for the first character (both map to it), as in `tokenizers`.
        prefixed = self.add_prefix_space and not text.startswith(" ")
        if prefixed:
            text = " " + text
        cache, out = self._cache, []
        for match in GPT2_PATTERN.finditer(text):
            word, start = match.group(), match.start()
            entry = cache.get(word)
            if entry is None:
                if len(cache) >= WORD_CACHE_SIZE:
                    cache.clear()
                entry = cache[word] = self._bpe_entry(word)
            if prefixed:
                where = start - 1 if start else (0, *range(len(word) - 1))
            else:
                where = start
            out.append((entry, where))
        return out

    # ------------------------------------------------------------------ decoding
    def convert_tokens_to_string(self, tokens):
        """Tokens -> bytes -> text (invalid UTF-8 handled per `errors`). A token outside GPT-2's alphabet (an
        added token such as "[PAD]") stands for its own UTF-8 bytes, as in `tokenizers`' ByteLevel decoder."""
        data = bytearray()
        for token in tokens:
            if all(ch in CHAR_TO_BYTE for ch in token):
                data.extend(CHAR_TO_BYTE[ch] for ch in token)
            else:
                data.extend(token.encode("utf-8"))
        return data.decode("utf-8", errors=self.errors)

    def _decode_tokens(self, tokens, clean_up_tokenization_spaces):
        # transformers never applies its clean-up to BPE output (it would delete real spaces before
        # punctuation), whatever clean_up_tokenization_spaces says.
        return self.convert_tokens_to_string(tokens)

    # ------------------------------------------------------------------ the `tokenizers` view
    def _backend_post_processor(self):
        return {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {}}

    def _backend_components(self):
        """normalizer, pre_tokenizer, post_processor, decoder and model as tokenizer.json describes GPT-2's."""
        byte_level = {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": True,
                      "use_regex": True}
        return {
            "normalizer": None, "pre_tokenizer": byte_level, "post_processor": self._backend_post_processor(),
            "decoder": {**byte_level, "add_prefix_space": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": dict(sorted(self.vocab.items(), key=lambda item: item[1])),
                      "merges": [list(pair) for pair in sorted(self.bpe_ranks, key=self.bpe_ranks.get)]},
        }

    # ------------------------------------------------------------------ saving
    def save_vocabulary(self, folder):
        """Write vocab.json and merges.txt (transformers' file names)."""
        vocab_path, merges_path = os.path.join(folder, "vocab.json"), os.path.join(folder, "merges.txt")
        write_atomically(vocab_path, json.dumps(self.vocab, ensure_ascii=False).encode("utf-8"))
        merges = "".join(f"{left} {right}\n" for left, right in sorted(self.bpe_ranks, key=self.bpe_ranks.get))
        write_atomically(merges_path, ("#version: 0.2\n" + merges).encode("utf-8"))
        return vocab_path, merges_path

    def tokenizer_config(self):
        return {**super().tokenizer_config(), "add_prefix_space": self.add_prefix_space, "errors": self.errors}


# transformers 5 has only fast tokenizers: GPT2TokenizerFast is another name of the same class.
GPT2TokenizerFast = GPT2Tokenizer

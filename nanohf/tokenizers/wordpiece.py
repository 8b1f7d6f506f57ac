"""BERT's tokenizer: a BasicTokenizer cuts text into words, a WordpieceTokenizer cuts words into vocab pieces.

    "Héllo, wörld!"  --BasicTokenizer-->  ["hello", ",", "world", "!"]
                     --WordpieceTokenizer-->  ["hello", ",", "world", "!"]  ("unaffable" -> un ##aff ##able)
    BertTokenizer then adds [CLS] ... [SEP] and maps tokens to ids.

transformers 5 runs BERT through the Rust `tokenizers` library (BertNormalizer, BertPreTokenizer, WordPiece);
the rules below reproduce that library, including where it differs from the original Python BERT code.
Every word remembers which characters of the original text it came from, which gives the offsets mapping.
"""

import os
import re
import unicodedata

from nanohf.models.hub import write_atomically

from .base import WORD_CACHE_SIZE, PreTrainedTokenizerBase, read_json
from .loading import check_vocab, read_config, read_text, tokenizer_json_model

# The CJK ideograph blocks that get a space on each side, so that every character becomes its own word.
# These are the ranges `tokenizers` uses: it skips U+2B820..U+2B91F (CJK extension E), so we skip it too.
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B81F),
               (0x2B920, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F))


def _code_points(spec):
    """'0890-0891 08E2' -> [0x890, 0x891, 0x8E2]."""
    points = []
    for item in spec.split():
        first, _, last = item.partition("-")
        points += range(int(first, 16), int(last or first, 16) + 1)
    return points


# `tokenizers` looks up general categories in older Unicode tables than Python 3.11's (Unicode 14). To match
# it we see these characters its way: the marks, format characters and punctuation added since are unknown
# ("Cn") to it, so never stripped, dropped or split off, and three characters keep their old category.
# (Found by running every code point through both; characters Python itself does not know stay "Cn".)
_TOKENIZERS_CATEGORY = dict.fromkeys(_code_points("""
    061D 07FD 0890-0891 0898-089F 08CA-08E2 09FD-09FE 0A76 0AFA-0AFF 0B55 0C04 0C3C 0C77 0C84 0D00 0D3B-0D3C
    0D81 0EBA 180F 1885-1886 1ABF-1ACE 1B7D-1B7E 1DF6-1DFB 2E43-2E4F 2E52-2E5D A82C A8C5 A8FF A9BD
    10D24-10D27 10EAB-10EAD 10F46-10F50 10F55-10F59 10F82-10F89 11070 11073-11074 110C2 110CD 111CF 1123E
    1133B 11438-1143F 11442-11444 11446 1144B-1144F 1145A-1145B 1145D-1145E 11660-1166C 116B9 1182F-11837
    11839-1183B 1193B-1193C 1193E 11943-11946 119D4-119D7 119DA-119DB 119E0 119E2 11A01-11A0A 11A33-11A38
    11A3B-11A47 11A51-11A56 11A59-11A5B 11A8A-11A96 11A98-11A9C 11A9E-11AA2 11C30-11C36 11C38-11C3D 11C3F
    11C41-11C45 11C70-11C71 11C92-11CA7 11CAA-11CB0 11CB2-11CB3 11CB5-11CB6 11D31-11D36 11D3A 11D3C-11D3D
    11D3F-11D45 11D47 11D90-11D91 11D95 11D97 11EF3-11EF4 11EF7-11EF8 11FFF 12FF1-12FF2 13430-13438
    16E97-16E9A 16F4F 16FE2 16FE4 1CF00-1CF2D 1CF30-1CF46 1E000-1E006 1E008-1E018 1E01B-1E021 1E023-1E024
    1E026-1E02A 1E130-1E136 1E2AE 1E2EC-1E2EF 1E944-1E94A 1E95E-1E95F
"""), "Cn")
_TOKENIZERS_CATEGORY.update({0x166D: "Po", 0x111C9: "Po", 0x1734: "Mn"})


# The other way round, Rust's lower-casing knows a newer Unicode than Python 3.11: these capitals are
# unassigned for Python, so str.lower() leaves them alone while `tokenizers` lower-cases them.
_NEWER_LOWERCASE = {0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3, 0xA7D4: 0xA7D5,
                    0xA7DA: 0xA7DB, 0xA7DC: 0x019B}
_NEWER_LOWERCASE.update({cp: cp + 0x20 for cp in range(0x10D50, 0x10D66)})
_NEWER_LOWERCASE.update({cp: cp + 0x1B for cp in range(0x16EA0, 0x16EB9)})


def category(ch):
    """The Unicode general category of `ch` ("Lu", "Mn", "Po", ...) as `tokenizers` sees it."""
    return _TOKENIZERS_CATEGORY.get(ord(ch)) or unicodedata.category(ch)


def is_whitespace(ch):
    """Space-like characters, which only separate words (tab, newline, NBSP, ideographic space, ...)."""
    return ch.isspace()


def is_control(ch):
    """Control, format and private-use characters, which are deleted (tab/newline/CR count as whitespace)."""
    return ch not in "\t\n\r" and category(ch) in ("Cc", "Cf", "Co")


def is_punctuation(ch):
    """ASCII symbols like $ + < ^ ` | ~ (not Unicode punctuation, but BERT splits them) and Unicode P*."""
    cp = ord(ch)
    return 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126 or category(ch)[0] == "P"


def is_cjk(ch):
    """Whether `ch` is a CJK ideograph (Chinese characters, also used in Japanese and Korean)."""
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


# Plain ASCII text needs none of the Unicode machinery: when it holds no control characters (which would be
# deleted), normalising is at most lower-casing, which keeps every character in place, and words are runs
# of characters that are neither whitespace nor ASCII punctuation (every punctuation character is a word).
_ASCII_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ASCII_WORD = re.compile(r"[^\s!-/:-@\[-`{-~]+|[!-/:-@\[-`{-~]")


class BasicTokenizer:
    """Text -> words: clean, isolate CJK characters, lower-case / strip accents, split on spaces and punctuation.

    Args:
        do_lower_case: lower-case the text (uncased models).
        never_split: words (whitespace-delimited) kept exactly as typed: no lower-casing, no splitting.
        tokenize_chinese_chars: put each CJK ideograph in its own word.
        strip_accents: remove accents ("é" -> "e"); None means "do it when lower-casing", like BERT.
    """

    def __init__(self, do_lower_case=True, never_split=None, tokenize_chinese_chars=True, strip_accents=None):
        self.do_lower_case = do_lower_case
        self.never_split = set(never_split or ())
        self.tokenize_chinese_chars = tokenize_chinese_chars
        self.strip_accents = strip_accents

    def fold(self, ch):
        """One character -> its accent-stripped / lower-cased form (zero, one or more characters)."""
        if ch < "\x80":
            return ch.lower() if self.do_lower_case else ch
        if self.strip_accents if self.strip_accents is not None else self.do_lower_case:
            # NFD splits "é" into "e" + U+0301 (a non-spacing mark, category Mn), which we then drop.
            # tokenizers' NFD table predates U+11938 (a Dives Akuru vowel sign), so that one stays whole.
            if ch != "\U00011938":
                ch = unicodedata.normalize("NFD", ch)
            ch = "".join(c for c in ch if category(c) != "Mn")
        if self.do_lower_case:
            # Character by character, like `tokenizers`: "ΟΔΟΣ" -> "οδοσ" (str.lower() would end in "ς").
            ch = "".join(chr(_NEWER_LOWERCASE[ord(c)]) if ord(c) in _NEWER_LOWERCASE else c.lower() for c in ch)
        return ch

    def _clean_words(self, text):
        """Drop control characters, split on whitespace, isolate CJK ideographs (`tokenizers`' clean-up).

        Returns [(word, positions)], positions[i] being the index in `text` of the word's i-th character.
        """
        words, chars, positions = [], [], []
        for i, ch in enumerate(text):
            if ch in "\0\ufffd" or is_control(ch):
                continue
            if is_whitespace(ch) or (self.tokenize_chinese_chars and is_cjk(ch)):
                if chars:
                    words.append(("".join(chars), positions))
                    chars, positions = [], []
                if not is_whitespace(ch):
                    words.append((ch, [i]))
            else:
                chars.append(ch)
                positions.append(i)
        if chars:
            words.append(("".join(chars), positions))
        return words

    def normalize(self, text):
        """Text -> (normalised text, for each of its characters the index in `text` it came from), as
        `tokenizers`' BertNormalizer: control characters dropped, whitespace made " ", a space on each side
        of a CJK ideograph, accents stripped / lower-cased. (Added tokens are matched in this text.)"""
        chars, positions = [], []
        for i, ch in enumerate(text):
            if ch in "\0\ufffd" or is_control(ch):
                continue
            if is_whitespace(ch):
                folded = " "
            elif self.tokenize_chinese_chars and is_cjk(ch):
                folded = " " + ch + " "
            else:
                folded = self.fold(ch)
            chars.append(folded)
            positions += [i] * len(folded)
        return "".join(chars), positions

    def split(self, text):
        """Text -> [(word, where, is_never_split)]: normalised words and single punctuation characters.

        `where` is the start of the word in `text` when its characters map one to one (the ASCII fast path),
        otherwise a tuple with the index in `text` of each character of the word: "Héllo" lower-cased and
        stripped is "hello" with where=(0, 1, 2, 3, 4); "İ" lower-cased is "i̇" (2 characters) with (0, 0).
        """
        if not self.never_split and text.isascii() and not _ASCII_CONTROL.search(text):
            normalized = text.lower() if self.do_lower_case else text
            return [(m.group(), m.start(), False) for m in _ASCII_WORD.finditer(normalized)]
        out = []
        for word, positions in self._clean_words(text):
            if word in self.never_split:
                out.append((word, tuple(positions), True))
                continue
            chars, where = [], []
            for ch, i in zip(word, positions, strict=True):
                for c in self.fold(ch):
                    if is_punctuation(c):  # every punctuation character is a word of its own
                        if chars:
                            out.append(("".join(chars), tuple(where), False))
                            chars, where = [], []
                        out.append((c, (i,), False))
                    else:
                        chars.append(c)
                        where.append(i)
            if chars:
                out.append(("".join(chars), tuple(where), False))
        return out

    def tokenize(self, text):
        """Text -> list of words and single punctuation characters."""
        return [word for word, _, _ in self.split(text)]


class WordpieceTokenizer:
    """Word -> vocabulary pieces by greedy longest-match-first: "unaffable" -> ["un", "##aff", "##able"].

    Args:
        vocab: {token: id}; pieces that continue a word start with `prefix`.
        unk_token: returned for a word that cannot be covered by vocabulary pieces.
        max_input_chars_per_word: longer words are [UNK] straight away (keeps the search cheap).
    """

    def __init__(self, vocab, unk_token="[UNK]", max_input_chars_per_word=100, prefix="##"):
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word
        self.prefix = prefix

    def tokenize_with_spans(self, word):
        """One word -> (pieces, spans): spans[i] is the (start, end) of piece i in `word` ("##" not counted).

        A word that cannot be covered is a single unk_token spanning the whole word.
        """
        n = len(word)
        if n > self.max_input_chars_per_word:
            return [self.unk_token], [(0, n)]
        pieces, spans, start = [], [], 0
        while start < n:
            # Try the longest remaining substring first, shrinking from the right until it is in the vocab.
            for end in range(n, start, -1):
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
            else:
                return [self.unk_token], [(0, n)]  # one uncoverable character spoils the whole word, as in BERT
            pieces.append(piece)
            spans.append((start, end))
            start = end
        return pieces, spans

    def tokenize(self, word):
        """One word (no spaces) -> list of pieces, or [unk_token] if any part of it is not in the vocab."""
        return self.tokenize_with_spans(word)[0]


def load_vocab(path):
    """vocab.txt (one token per line, id = line number) -> {token: id}."""
    text = read_text(path)
    # One split instead of a loop over lines (a third of the time of building a tokenizer); a final newline
    # ends the last line, it does not start an empty one.
    tokens = text.removesuffix("\n").split("\n") if text else []
    vocab = dict(zip(tokens, range(len(tokens)), strict=True))
    if len(vocab) < len(tokens):  # a repeated line leaves an id no text maps to, and ids past it shift in some readers
        seen = {}
        for line, token in enumerate(tokens, 1):
            if token in seen:
                raise ValueError(f"{path}: line {line} repeats the token {token!r:.40} of line {seen[token]}; each "
                                 f"line must be a distinct token (its line number is its id)")
            seen[token] = line
    return vocab


class BertTokenizer(PreTrainedTokenizerBase):
    """BERT's WordPiece tokenizer, producing what transformers' BertTokenizer produces.

    Args:
        vocab_file: path to vocab.txt (or pass `vocab={token: id}` instead).
        do_lower_case, never_split, tokenize_chinese_chars, strip_accents: see BasicTokenizer.
        unk_token, sep_token, pad_token, cls_token, mask_token: the special tokens.
        max_input_chars_per_word: see WordpieceTokenizer.
        **kwargs: model_max_length, padding_side, extra_special_tokens, ... (see the base class).

    Usage:
        tok = BertTokenizer.from_pretrained("path/to/bert-base-uncased")
        enc = tok(["a sentence", "another one"], padding=True, truncation=True, return_tensors="np")
        enc.input_ids.shape  # (2, seq)
    """

    def __init__(self, vocab_file=None, do_lower_case=True, never_split=None, unk_token="[UNK]", sep_token="[SEP]",
                 pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]", tokenize_chinese_chars=True,
                 strip_accents=None, vocab=None, max_input_chars_per_word=100, **kwargs):
        if isinstance(vocab_file, dict):  # transformers 5 takes the vocabulary itself as first argument too
            vocab, vocab_file = vocab_file, None
        if vocab is None:
            if vocab_file is None:
                raise ValueError("BertTokenizer needs a vocab_file (vocab.txt) or a vocab dict")
            vocab = load_vocab(vocab_file)
        # (built first: the added tokens' patterns are normalised as the text will be)
        self.basic_tokenizer = BasicTokenizer(do_lower_case, never_split, tokenize_chinese_chars, strip_accents)
        super().__init__(vocab, unk_token=unk_token, sep_token=sep_token, pad_token=pad_token,
                         cls_token=cls_token, mask_token=mask_token, **kwargs)
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, self.unk_token, max_input_chars_per_word)

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load from a folder holding vocab.txt or tokenizer.json, plus optional tokenizer_config.json and
        special_tokens_map.json (or a name in the local Hugging Face cache). Explicit `kwargs` win over the
        files (do_lower_case=, model_max_length=, pad_token=, ...); cache_dir=, revision=, use_fast=, ... are
        accepted and change nothing (see `_loading_folder`).

        Padding/truncation settings stored in tokenizer.json are ignored, as transformers ignores them
        when it is called.
        """
        folder = cls._loading_folder(pretrained_model_name_or_path, kwargs)
        config_path = os.path.join(folder, "tokenizer_config.json")
        config = read_config(folder)  # tokenizer_config.json updated by special_tokens_map.json, as transformers
        settings = {}
        fast = read_json(folder, "tokenizer.json")
        if fast:  # transformers prefers tokenizer.json's vocabulary when both files are present
            model, normalizer = tokenizer_json_model(fast, folder, "vocab"), fast.get("normalizer") or {}
            vocab = check_vocab(model["vocab"], f"{os.path.join(folder, 'tokenizer.json')}: model")
            settings.update(vocab=vocab, unk_token=model.get("unk_token", "[UNK]"),
                            max_input_chars_per_word=model.get("max_input_chars_per_word", 100))
            if not os.path.isfile(config_path) and normalizer.get("type") == "BertNormalizer":
                # Without tokenizer_config.json transformers runs tokenizer.json's own normalizer; with
                # one, it rebuilds BERT's normalizer from the config (missing keys get the defaults).
                settings.update(do_lower_case=normalizer["lowercase"], strip_accents=normalizer["strip_accents"],
                                tokenize_chinese_chars=normalizer["handle_chinese_chars"])
        elif os.path.isfile(os.path.join(folder, "vocab.txt")):
            settings["vocab_file"] = os.path.join(folder, "vocab.txt")
        else:
            raise FileNotFoundError(f"no vocab.txt or tokenizer.json in {folder}")

        for key in ("do_lower_case", "never_split", "tokenize_chinese_chars", "strip_accents"):
            if key in config:
                settings[key] = config[key]
        settings.update(cls._common_settings(config, folder))
        tokenizer = cls(**{**settings, **kwargs})
        # What backend_tokenizer shows right after loading, as transformers' does (calls ignore it).
        tokenizer._backend_state = {key: fast.get(key) for key in ("truncation", "padding")}
        return tokenizer

    has_normalizer = True

    def _normalize_str(self, text):
        return self.basic_tokenizer.normalize(text)[0]

    def _normalize_with_alignment(self, text):
        return self.basic_tokenizer.normalize(text)

    @property
    def do_lower_case(self):
        return self.basic_tokenizer.do_lower_case

    def _wordpiece(self, word):
        """A word -> (ids, tokens, spans) of its WordPiece tokens."""
        tokens, spans = self.wordpiece_tokenizer.tokenize_with_spans(word)
        vocab = self.vocab  # every piece is in it (an added token of the same text has the same id) but [UNK] may not
        ids = tuple(vocab[t] if t in vocab else self.convert_tokens_to_ids(t) for t in tokens)
        return ids, tuple(tokens), tuple(spans)

    def _words(self, text):
        """Plain text -> [((ids, tokens, spans), where)] per word (see the base class)."""
        cache, out = self._cache, []
        for word, where, never_split in self.basic_tokenizer.split(text):
            if never_split:  # kept whole, as in the original BERT (transformers 5 ignores never_split)
                entry = ((self.convert_tokens_to_ids(word),), (word,), ((0, len(word)),))
            else:
                entry = cache.get(word)
                if entry is None:
                    if len(cache) >= WORD_CACHE_SIZE:
                        cache.clear()
                    entry = cache[word] = self._wordpiece(word)
            out.append((entry, where))
        return out

    def _template(self, pair):
        """[CLS] A [SEP]  or  [CLS] A [SEP] B [SEP], the second text (and its [SEP]) being segment 1."""
        single = [(self.cls_token, 0), (0, 0), (self.sep_token, 0)]
        return single + [(1, 1), (self.sep_token, 1)] if pair else single

    def convert_tokens_to_string(self, tokens):
        """WordPiece tokens -> text, like `tokenizers`' WordPiece decoder: "##" pieces glue to the previous
        token, others get a space; then spaces before . ? ! , and a few contractions are removed token by token.
        """
        pieces = []
        for i, token in enumerate(tokens):
            if i > 0:
                token = token[2:] if token.startswith("##") else " " + token
            for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"),
                                  (" n't", "n't"), (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"),
                                  (" 've", "'ve"), (" 're", "'re")):
                token = token.replace(before, after)
            pieces.append(token)
        return "".join(pieces)

    def _backend_components(self):
        """normalizer, pre_tokenizer, post_processor, decoder and model as tokenizer.json describes BERT's."""
        basic = self.basic_tokenizer
        cls, sep = self.cls_token, self.sep_token
        template = [{"SpecialToken": {"id": cls, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": sep, "type_id": 0}}]
        pair = template + [{"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": sep, "type_id": 1}}]
        special = {t: {"id": t, "ids": [self.convert_tokens_to_ids(t)], "tokens": [t]} for t in (cls, sep)}
        return {
            "normalizer": {"type": "BertNormalizer", "clean_text": True,
                           "handle_chinese_chars": basic.tokenize_chinese_chars, "strip_accents": basic.strip_accents,
                           "lowercase": basic.do_lower_case},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "TemplateProcessing", "single": template, "pair": pair,
                               "special_tokens": special},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": self.wordpiece_tokenizer.unk_token,
                      "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": self.wordpiece_tokenizer.max_input_chars_per_word,
                      "vocab": dict(sorted(self.vocab.items(), key=lambda item: item[1]))},
        }

    def save_vocabulary(self, folder):
        """Write vocab.txt, one token per line in id order."""
        path = os.path.join(folder, "vocab.txt")
        lines = "".join(token + "\n" for token in sorted(self.vocab, key=self.vocab.get))
        write_atomically(path, lines.encode("utf-8"))
        return (path,)

    def tokenizer_config(self):
        basic = self.basic_tokenizer
        return {**super().tokenizer_config(), "do_lower_case": basic.do_lower_case,
                "strip_accents": basic.strip_accents, "tokenize_chinese_chars": basic.tokenize_chinese_chars,
                "never_split": sorted(basic.never_split) or None}


# transformers 5 has only fast tokenizers: BertTokenizerFast is another name of the same class.
BertTokenizerFast = BertTokenizer

"""BERT's tokenizer: a BasicTokenizer cuts text into words, a WordpieceTokenizer cuts words into vocab pieces.

    "Héllo, wörld!"  --BasicTokenizer-->  ["hello", ",", "world", "!"]
                     --WordpieceTokenizer-->  ["hello", ",", "world", "!"]  ("unaffable" -> un ##aff ##able)
    BertTokenizer then adds [CLS] ... [SEP] and maps tokens to ids.

transformers 5 runs BERT through the Rust `tokenizers` library (BertNormalizer, BertPreTokenizer, WordPiece);
the rules below reproduce that library, including where it differs from the original Python BERT code.
"""

import os
import unicodedata

from .base import SPECIAL_TOKEN_NAMES, PreTrainedTokenizerBase, read_json, token_content

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

    def clean(self, text):
        """Drop control characters, turn every whitespace into " ", put spaces around CJK ideographs."""
        out = []
        for ch in text:
            if ch in "\0\ufffd" or is_control(ch):
                continue
            if is_whitespace(ch):
                out.append(" ")
            elif self.tokenize_chinese_chars and is_cjk(ch):
                out.append(f" {ch} ")
            else:
                out.append(ch)
        return "".join(out)

    def fold(self, text):
        """Strip accents and lower-case, as configured."""
        strip = self.strip_accents if self.strip_accents is not None else self.do_lower_case
        if strip:
            # NFD splits "é" into "e" + U+0301 (a non-spacing mark, category Mn), which we then drop.
            # tokenizers' NFD table predates U+11938 (a Dives Akuru vowel sign), so that one stays whole.
            text = "\U00011938".join(unicodedata.normalize("NFD", part) for part in text.split("\U00011938"))
            text = "".join(c for c in text if category(c) != "Mn")
        if self.do_lower_case:
            # Character by character, like `tokenizers`: "ΟΔΟΣ" -> "οδοσ" (str.lower() would end in "ς").
            text = "".join(chr(_NEWER_LOWERCASE[ord(c)]) if ord(c) in _NEWER_LOWERCASE else c.lower() for c in text)
        return text

    def normalize(self, text):
        """The whole character-level clean-up (`tokenizers`' BertNormalizer), e.g. "Héllo\t我" -> "hello  我 "."""
        return self.fold(self.clean(text))

    def tokenize(self, text):
        """Text -> list of words and single punctuation characters."""
        words = []
        for word in self.clean(text).split(" "):
            if word in self.never_split:
                words.append(word)
                continue
            current = ""
            for ch in self.fold(word):
                if is_punctuation(ch):  # every punctuation character is a word of its own
                    words += [current, ch] if current else [ch]
                    current = ""
                else:
                    current += ch
            if current:
                words.append(current)
        return words


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

    def tokenize(self, word):
        """One word (no spaces) -> list of pieces, or [unk_token] if any part of it is not in the vocab."""
        if len(word) > self.max_input_chars_per_word:
            return [self.unk_token]
        pieces, start = [], 0
        while start < len(word):
            # Try the longest remaining substring first, shrinking from the right until it is in the vocab.
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
            else:
                return [self.unk_token]  # one uncoverable character spoils the whole word, as in BERT
            pieces.append(piece)
            start = end
        return pieces


def load_vocab(path):
    """vocab.txt (one token per line, id = line number) -> {token: id}."""
    with open(path, encoding="utf-8") as f:
        return {line.rstrip(): i for i, line in enumerate(f)}


class BertTokenizer(PreTrainedTokenizerBase):
    """BERT's WordPiece tokenizer, producing what transformers' BertTokenizer produces.

    Args:
        vocab_file: path to vocab.txt (or pass `vocab={token: id}` instead).
        do_lower_case, never_split, tokenize_chinese_chars, strip_accents: see BasicTokenizer.
        unk_token, sep_token, pad_token, cls_token, mask_token: the special tokens.
        max_input_chars_per_word: see WordpieceTokenizer.
        **kwargs: model_max_length, clean_up_tokenization_spaces, additional_special_tokens (see base class).

    Usage:
        tok = BertTokenizer.from_pretrained("path/to/bert-base-uncased")
        enc = tok(["a sentence", "another one"], padding=True, truncation=True, return_tensors="np")
        enc.input_ids.shape  # (2, seq)
    """

    def __init__(self, vocab_file=None, do_lower_case=True, never_split=None, unk_token="[UNK]", sep_token="[SEP]",
                 pad_token="[PAD]", cls_token="[CLS]", mask_token="[MASK]", tokenize_chinese_chars=True,
                 strip_accents=None, vocab=None, max_input_chars_per_word=100, **kwargs):
        if vocab is None:
            if vocab_file is None:
                raise ValueError("BertTokenizer needs a vocab_file (vocab.txt) or a vocab dict")
            vocab = load_vocab(vocab_file)
        super().__init__(vocab, unk_token=unk_token, sep_token=sep_token, pad_token=pad_token,
                         cls_token=cls_token, mask_token=mask_token, **kwargs)
        self.basic_tokenizer = BasicTokenizer(do_lower_case, never_split, tokenize_chinese_chars, strip_accents)
        self.wordpiece_tokenizer = WordpieceTokenizer(self.vocab, unk_token, max_input_chars_per_word)

    @classmethod
    def from_pretrained(cls, folder, **kwargs):
        """Load from a folder holding vocab.txt or tokenizer.json, plus optional tokenizer_config.json and
        special_tokens_map.json. Explicit `kwargs` win over the files.

        Padding/truncation settings stored in tokenizer.json are ignored, as transformers ignores them
        when it is called.
        """
        config_path = os.path.join(folder, "tokenizer_config.json")
        config = read_json(folder, "tokenizer_config.json")
        config.update(read_json(folder, "special_tokens_map.json"))  # the map wins, as in transformers
        settings = {}
        fast = read_json(folder, "tokenizer.json")
        if fast:  # transformers prefers tokenizer.json's vocabulary when both files are present
            model, normalizer = fast["model"], fast.get("normalizer") or {}
            settings.update(vocab=model["vocab"], unk_token=model.get("unk_token", "[UNK]"),
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

        for key in ("do_lower_case", "never_split", "tokenize_chinese_chars", "strip_accents",
                    "clean_up_tokenization_spaces", *SPECIAL_TOKEN_NAMES):
            if key in config:
                settings[key] = token_content(config[key])
        if config.get("model_max_length") is not None:
            settings["model_max_length"] = config["model_max_length"]
        extra = config.get("additional_special_tokens") or config.get("extra_special_tokens")
        if isinstance(extra, list):
            settings["additional_special_tokens"] = [token_content(t) for t in extra]
        return cls(**{**settings, **kwargs})

    @property
    def do_lower_case(self):
        return self.basic_tokenizer.do_lower_case

    def _tokenize(self, text):
        """Plain text -> WordPiece tokens (never_split words pass through whole, as in the original BERT)."""
        tokens = []
        for word in self.basic_tokenizer.tokenize(text):
            if word in self.basic_tokenizer.never_split:
                tokens.append(word)
            else:
                tokens += self.wordpiece_tokenizer.tokenize(word)
        return tokens

    def num_special_tokens_to_add(self, pair=False):
        return 3 if pair else 2

    def build_inputs_with_special_tokens(self, ids_a, ids_b=None):
        """[CLS] A [SEP]  or  [CLS] A [SEP] B [SEP]."""
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        return cls + ids_a + sep if ids_b is None else cls + ids_a + sep + ids_b + sep

    def create_token_type_ids(self, ids_a, ids_b=None):
        """0 for [CLS] A [SEP], 1 for B [SEP]: tells BERT which segment each token belongs to."""
        first = [0] * (len(ids_a) + 2)
        return first if ids_b is None else first + [1] * (len(ids_b) + 1)

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

    def save_vocabulary(self, folder):
        """Write vocab.txt, one token per line in id order."""
        path = os.path.join(folder, "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(token + "\n" for token in sorted(self.vocab, key=self.vocab.get))
        return (path,)

    def tokenizer_config(self):
        basic = self.basic_tokenizer
        return {**super().tokenizer_config(), "do_lower_case": basic.do_lower_case,
                "strip_accents": basic.strip_accents, "tokenize_chinese_chars": basic.tokenize_chinese_chars,
                "never_split": sorted(basic.never_split) or None}

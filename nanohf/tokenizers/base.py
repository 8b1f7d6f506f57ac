"""What every tokenizer shares: special tokens, `__call__`, truncation, padding, pairs, decoding, saving.

A concrete tokenizer (WordPiece for BERT, later byte-level BPE for GPT-2) only has to say how one chunk of
plain text becomes tokens (`_tokenize`), how tokens become a string again (`convert_tokens_to_string`) and
where its special tokens go (`build_inputs_with_special_tokens`, `create_token_type_ids`,
`num_special_tokens_to_add`). Everything here follows what `transformers` 5 does (its tokenizers run on
the Rust `tokenizers` library), so ids, masks and decoded strings come out identical.
"""

import json
import os
import re

import numpy as np

# transformers' "no limit" marker for model_max_length, and the threshold above which a limit is ignored.
VERY_LARGE_INTEGER = int(1e30)
LARGE_INTEGER = int(1e20)

SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second")


class BatchEncoding(dict):
    """The output of a tokenizer call: a dict {name: values} that also allows `enc.input_ids`.

    Values are lists of ints (one sequence), lists of lists (batch) or int64 arrays of shape (batch, seq).
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def read_json(folder, name):
    """The parsed content of `folder/name`, or {} when the file does not exist."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def token_content(value):
    """Special tokens are stored either as "[CLS]" or as {"content": "[CLS]", ...}; return the string."""
    return value["content"] if isinstance(value, dict) else value


def _special_token_id(name):
    """A read-only property turning e.g. `pad_token` into `pad_token_id` (None if the token is unset)."""

    def getter(self):
        token = getattr(self, name)
        return None if token is None else self.convert_tokens_to_ids(token)

    return property(getter, doc=f"Id of `{name}` (None when the tokenizer has no such token).")


class PreTrainedTokenizerBase:
    """Vocabulary bookkeeping plus the whole `__call__` pipeline; subclasses provide the tokenization itself.

    Args:
        vocab: {token: id} of the model's base vocabulary.
        model_max_length: longest input the model accepts; the default for `max_length` when truncating
            or padding to "max_length" (VERY_LARGE_INTEGER means "no limit", as in transformers).
        clean_up_tokenization_spaces: whether `decode` also removes spaces before punctuation.
        additional_special_tokens: more strings to treat like [CLS]: never split, skipped when decoding.
        **special_tokens: unk_token, sep_token, pad_token, cls_token, mask_token, bos_token, eos_token.
    """

    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]

    def __init__(self, vocab, model_max_length=VERY_LARGE_INTEGER, clean_up_tokenization_spaces=False,
                 additional_special_tokens=None, **special_tokens):
        unknown = set(special_tokens) - set(SPECIAL_TOKEN_NAMES)
        if unknown:
            raise TypeError(f"unexpected arguments: {sorted(unknown)}")
        for name in SPECIAL_TOKEN_NAMES:
            setattr(self, name, special_tokens.get(name))
        self.additional_special_tokens = list(additional_special_tokens or [])
        self.model_max_length = model_max_length
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces

        self.vocab = dict(vocab)
        self.ids_to_tokens = {i: t for t, i in self.vocab.items()}
        # Special tokens missing from the vocabulary get fresh ids after it, as transformers' added tokens do.
        self.added_tokens_encoder = {}
        for token in self.all_special_tokens:
            if token not in self.vocab and token not in self.added_tokens_encoder:
                self.added_tokens_encoder[token] = len(self.vocab) + len(self.added_tokens_encoder)
        self.ids_to_tokens.update({i: t for t, i in self.added_tokens_encoder.items()})

        # Special tokens are found in the raw text before any normalisation, so "[MASK]" survives
        # lower-casing while "[mask]" is ordinary text. Longest first: at equal start, "[CLS2]" beats "[CLS]".
        by_length = sorted(self.all_special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("|".join(map(re.escape, by_length))) if by_length else None

    # ------------------------------------------------------------------ special tokens and vocabulary
    bos_token_id = _special_token_id("bos_token")
    eos_token_id = _special_token_id("eos_token")
    unk_token_id = _special_token_id("unk_token")
    sep_token_id = _special_token_id("sep_token")
    pad_token_id = _special_token_id("pad_token")
    cls_token_id = _special_token_id("cls_token")
    mask_token_id = _special_token_id("mask_token")

    @property
    def all_special_tokens(self):
        """The special token strings, each once, named ones first."""
        named = [getattr(self, name) for name in SPECIAL_TOKEN_NAMES]
        return list(dict.fromkeys(t for t in named + self.additional_special_tokens if t is not None))

    @property
    def all_special_ids(self):
        return [self.convert_tokens_to_ids(t) for t in self.all_special_tokens]

    @property
    def vocab_size(self):
        """Size of the base vocabulary, without added tokens (like transformers)."""
        return len(self.vocab)

    def __len__(self):
        """Size of the full vocabulary, added tokens included."""
        return len(self.vocab) + len(self.added_tokens_encoder)

    def get_vocab(self):
        return {**self.vocab, **self.added_tokens_encoder}

    def convert_tokens_to_ids(self, tokens):
        """One token -> one id, or a list of tokens -> a list of ids; unknown tokens map to unk_token_id."""
        if isinstance(tokens, str):
            if tokens in self.vocab:
                return self.vocab[tokens]
            if tokens in self.added_tokens_encoder:
                return self.added_tokens_encoder[tokens]
            return None if self.unk_token is None else self.convert_tokens_to_ids(self.unk_token)
        return [self.convert_tokens_to_ids(t) for t in tokens]

    def convert_ids_to_tokens(self, ids, skip_special_tokens=False):
        """One id -> its token (None if out of range), or a list of ids -> a list of tokens."""
        if isinstance(ids, (int, np.integer)):
            return self.ids_to_tokens.get(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self.ids_to_tokens.get(int(i)) for i in ids if int(i) not in special]

    # ------------------------------------------------------------------ hooks for subclasses
    def _tokenize(self, text):
        """Plain text (no special tokens inside) -> list of tokens."""
        raise NotImplementedError

    def convert_tokens_to_string(self, tokens):
        """List of tokens -> readable text."""
        raise NotImplementedError

    def num_special_tokens_to_add(self, pair=False):
        """How many special tokens `build_inputs_with_special_tokens` adds (0 by default, e.g. GPT-2)."""
        return 0

    def build_inputs_with_special_tokens(self, ids_a, ids_b=None):
        """Ids of one sequence (or a pair) -> model input ids; the default just concatenates."""
        return ids_a + (ids_b or [])

    def create_token_type_ids(self, ids_a, ids_b=None):
        """Segment ids aligned with `build_inputs_with_special_tokens`: 0 for the first text, 1 for the second."""
        return [0] * len(ids_a) + [1] * len(ids_b or [])

    # ------------------------------------------------------------------ text -> tokens -> ids
    def tokenize(self, text):
        """Text -> tokens, without [CLS]/[SEP]. Special tokens typed in the text stay whole."""
        if self._special_pattern is None:
            return self._tokenize(text)
        tokens, start = [], 0
        for match in self._special_pattern.finditer(text):
            tokens += self._tokenize(text[start:match.start()]) + [match.group()]
            start = match.end()
        return tokens + self._tokenize(text[start:])

    def encode(self, text, text_pair=None, add_special_tokens=True, **kwargs):
        """Text (or a pair) -> a flat list of input ids; `kwargs` as in `__call__` (truncation, ...)."""
        return self(text, text_pair, add_special_tokens=add_special_tokens, **kwargs)["input_ids"]

    def __call__(self, text, text_pair=None, add_special_tokens=True, padding=False, truncation=None,
                 max_length=None, return_tensors=None, return_token_type_ids=None, return_attention_mask=None):
        """Tokenize one text, a batch of texts, or (batches of) pairs into model inputs.

        Args:
            text: a str, or a list of B strs.
            text_pair: None, a str (with a str `text`) or a list of B strs: encoded as [CLS] A [SEP] B [SEP].
            add_special_tokens: add [CLS]/[SEP] (or whatever the subclass adds).
            padding: False/"do_not_pad", True/"longest" (to the longest in the batch) or "max_length".
            truncation: None/False, True/"longest_first", "only_first" or "only_second".
            max_length: length limit including special tokens; defaults to `model_max_length` when needed.
            return_tensors: None for python lists, "np" for int64 arrays of shape (B, seq).
            return_token_type_ids, return_attention_mask: None follows `model_input_names`.

        Returns:
            BatchEncoding with input_ids, token_type_ids, attention_mask (as selected). For a single str
            and return_tensors=None the values are flat lists of length seq, otherwise (B, seq).
        """
        if text is None:
            raise ValueError("You need to specify `text`.")
        padding, truncation, max_length = self._resolve_strategies(padding, truncation, max_length)

        is_batched = isinstance(text, (list, tuple))
        if is_batched:
            if isinstance(text_pair, str):
                raise TypeError("when `text` is a batch (list), `text_pair` must be a list of the same length")
            if text_pair is not None and len(text_pair) != len(text):
                raise ValueError(f"batch length of `text` ({len(text)}) differs from `text_pair` ({len(text_pair)})")
            pairs = list(zip(text, text_pair if text_pair is not None else [None] * len(text), strict=True))
        else:
            # transformers drops an empty single `text_pair` (it tests `if text_pair`), so we do too.
            pairs = [(text, text_pair or None)]

        rows = [self._encode_one(a, b, add_special_tokens, truncation, max_length) for a, b in pairs]
        rows = self._pad(rows, padding, max_length)

        want = {
            "input_ids": True,
            "token_type_ids": return_token_type_ids if return_token_type_ids is not None
            else "token_type_ids" in self.model_input_names,
            "attention_mask": return_attention_mask if return_attention_mask is not None
            else "attention_mask" in self.model_input_names,
        }
        columns = {key: [row[key] for row in rows] for key in want if want[key]}

        if return_tensors is None:
            return BatchEncoding({k: v if is_batched else v[0] for k, v in columns.items()})
        if return_tensors != "np":
            raise ValueError(f"return_tensors={return_tensors!r} is not supported; nanohf only returns 'np' arrays")
        if len({len(row["input_ids"]) for row in rows}) > 1:
            raise ValueError("Sequences have different lengths, so they cannot form one array: "
                             "pass padding=True (and maybe truncation=True) together with return_tensors='np'.")
        shape = (len(rows), -1 if rows else 0)
        return BatchEncoding({k: np.array(v, dtype=np.int64).reshape(shape) for k, v in columns.items()})

    def _resolve_strategies(self, padding, truncation, max_length):
        """Turn the user's padding/truncation/max_length into (padding, truncation, max_length).

        padding becomes None, "longest" or "max_length"; truncation None or one of TRUNCATION_STRATEGIES.
        """
        # transformers' backward-compatible rule: max_length alone switches truncation on.
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"

        if padding is True:
            padding = "longest"
        if padding in (False, None, "do_not_pad"):
            padding = None
        if padding not in (None, "longest", "max_length"):
            raise ValueError(f"unknown padding {padding!r}; use False, True, 'longest' or 'max_length'")

        if truncation is True:
            truncation = "longest_first"
        if truncation in (False, None, "do_not_truncate"):
            truncation = None
        if truncation not in (None, *TRUNCATION_STRATEGIES):
            raise ValueError(f"unknown truncation {truncation!r}; use True, False or one of {TRUNCATION_STRATEGIES}")

        # A missing max_length falls back to model_max_length, unless that is the "no limit" marker,
        # in which case the step is silently switched off.
        if max_length is None:
            unlimited = self.model_max_length > LARGE_INTEGER
            if padding == "max_length" and unlimited:
                padding = None
            if truncation is not None and unlimited:
                truncation = None
            if padding == "max_length" or truncation is not None:
                max_length = None if unlimited else self.model_max_length

        if padding is not None and self.pad_token is None:
            raise ValueError("Asking to pad but the tokenizer has no pad_token.")
        return padding, truncation, max_length

    def _encode_one(self, text_a, text_b, add_special_tokens, truncation, max_length):
        """One example -> {"input_ids", "token_type_ids", "attention_mask"}, each a list of length seq."""
        ids_a = self.convert_tokens_to_ids(self.tokenize(text_a))
        ids_b = None if text_b is None else self.convert_tokens_to_ids(self.tokenize(text_b))
        if truncation is not None:
            n_special = self.num_special_tokens_to_add(ids_b is not None) if add_special_tokens else 0
            ids_a, ids_b = truncate_pair(ids_a, ids_b, truncation, max_length - n_special)
        if add_special_tokens:
            input_ids = self.build_inputs_with_special_tokens(ids_a, ids_b)
            token_type_ids = self.create_token_type_ids(ids_a, ids_b)
        else:  # the base-class rules: plain concatenation, segments 0 then 1
            input_ids = PreTrainedTokenizerBase.build_inputs_with_special_tokens(self, ids_a, ids_b)
            token_type_ids = PreTrainedTokenizerBase.create_token_type_ids(self, ids_a, ids_b)
        return {"input_ids": input_ids, "token_type_ids": token_type_ids, "attention_mask": [1] * len(input_ids)}

    def _pad(self, rows, padding, max_length):
        """Right-pad every row to the batch's longest ("longest") or to max_length ("max_length").

        Rows already longer than the target are left alone (padding never truncates).
        """
        if padding is None or not rows:
            return rows
        target = max(len(r["input_ids"]) for r in rows) if padding == "longest" else max_length
        fill = {"input_ids": self.pad_token_id, "token_type_ids": 0, "attention_mask": 0}
        return [{k: v + [fill[k]] * max(0, target - len(v)) for k, v in row.items()} for row in rows]

    # ------------------------------------------------------------------ ids -> text
    def decode(self, ids, skip_special_tokens=False, clean_up_tokenization_spaces=None):
        """Ids (list, 1-D array or a single int) -> text. Ids outside the vocabulary are dropped."""
        ids = np.asarray(ids)
        if ids.ndim > 1:
            raise ValueError("decode() takes one sequence of ids; use batch_decode() for a batch")
        ids = ids.reshape(-1).tolist()
        tokens = [t for t in self.convert_ids_to_tokens(ids, skip_special_tokens) if t is not None]
        text = self.convert_tokens_to_string(tokens)
        if clean_up_tokenization_spaces is None:
            clean_up_tokenization_spaces = self.clean_up_tokenization_spaces
        return clean_up_tokenization(text) if clean_up_tokenization_spaces else text

    def batch_decode(self, sequences, **kwargs):
        """A batch of id sequences (list of lists or 2-D array) -> list of texts; kwargs as in `decode`."""
        return [self.decode(ids, **kwargs) for ids in sequences]

    # ------------------------------------------------------------------ saving
    def save_vocabulary(self, folder):
        """Write the vocabulary file(s) into `folder`; returns their paths."""
        raise NotImplementedError

    def tokenizer_config(self):
        """The settings written to tokenizer_config.json (subclasses add theirs)."""
        config = {name: getattr(self, name) for name in SPECIAL_TOKEN_NAMES if getattr(self, name) is not None}
        if self.additional_special_tokens:
            config["additional_special_tokens"] = self.additional_special_tokens
        config["model_max_length"] = self.model_max_length
        config["clean_up_tokenization_spaces"] = self.clean_up_tokenization_spaces
        config["tokenizer_class"] = type(self).__name__
        return config

    def save_pretrained(self, folder):
        """Write the vocabulary, tokenizer_config.json and special_tokens_map.json into `folder`.

        transformers.AutoTokenizer.from_pretrained(folder) then behaves exactly like this tokenizer.
        """
        os.makedirs(folder, exist_ok=True)
        config = self.tokenizer_config()
        special = {k: v for k, v in config.items() if k in SPECIAL_TOKEN_NAMES or k == "additional_special_tokens"}
        paths = []
        for name, content in (("tokenizer_config.json", config), ("special_tokens_map.json", special)):
            paths.append(os.path.join(folder, name))
            with open(paths[-1], "w", encoding="utf-8") as f:
                json.dump(content, f, indent=2, ensure_ascii=False)
                f.write("\n")
        return tuple(paths) + tuple(self.save_vocabulary(folder))


def truncate_pair(ids_a, ids_b, strategy, budget):
    """Shorten ids_a (and ids_b) so that together they hold at most `budget` ids, as `tokenizers` does.

    `budget` is max_length minus the special tokens about to be added. "longest_first" lets the shorter
    sequence keep everything if that leaves the longer one at least as much room; otherwise both get half
    (the longer one, or the second one on a tie, gets the odd id). "only_first"/"only_second" cut one
    sequence and refuse to empty it completely.
    """
    if budget < 0:
        # tokenizers computes max_length - n_special on unsigned ints: it wraps around and nothing is cut.
        return ids_a, ids_b
    total = len(ids_a) + len(ids_b or [])
    if total <= budget:
        return ids_a, ids_b
    if budget == 0:  # tokenizers special-cases "no room at all": everything goes, whatever the strategy.
        return [], None if ids_b is None else []
    if ids_b is None:
        if strategy == "only_second":
            raise ValueError("Truncation error: Second sequence not provided")
        return ids_a[:budget], None
    if strategy == "longest_first":
        long_is_a = len(ids_a) > len(ids_b)
        short = min(len(ids_a), len(ids_b))
        if 2 * short <= budget:
            keep_short, keep_long = short, budget - short
        else:
            keep_short, keep_long = budget // 2, budget - budget // 2
        keep_a, keep_b = (keep_long, keep_short) if long_is_a else (keep_short, keep_long)
        return ids_a[:keep_a], ids_b[:keep_b]
    overflow = total - budget
    victim = ids_a if strategy == "only_first" else ids_b
    if len(victim) <= overflow:
        raise ValueError("Truncation error: Sequence to truncate too short to respect the provided max_length")
    if strategy == "only_first":
        return ids_a[: len(ids_a) - overflow], ids_b
    return ids_a, ids_b[: len(ids_b) - overflow]


def clean_up_tokenization(text):
    """transformers' optional decode clean-up: glue punctuation and English contractions to the word before."""
    for before, after in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                          (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(before, after)
    return text

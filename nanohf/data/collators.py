"""Data collators: a list of examples (dicts from a Dataset) -> one batch of NumPy arrays, as transformers'.

    collator = DataCollatorWithPadding(tokenizer)
    batch = collator([tokenized["train"][i] for i in range(8)])
    batch["input_ids"].shape   # (8, longest of the 8): "dynamic padding", each batch only as long as needed

* `DataCollatorWithPadding`: pads the tokenizer's inputs with `tokenizer.pad`; `label`/`label_ids` -> `labels`.
* `DataCollatorForTokenClassification`: the same, plus per-token labels padded with -100 (ignored by the loss).
* `DataCollatorForLanguageModeling`: masked LM (BERT's 15%, of which 80% [MASK], 10% random, 10% kept; or
  whole words with whole_word_mask=True) or causal LM labels (mlm=False).
* `default_data_collator`: stacks values that already have equal shapes (no tokenizer).

Every collator first checks that each column can become an array, so that the classic mistake of the
course, a text column left in the data set (PyTorch's "too many dimensions 'str'"), fails with a message
naming the column and how to remove it.
"""

import warnings
from collections.abc import Mapping

import numpy as np

from .. import random as nanohf_random

# Columns tokenizer.pad pads; any other list-valued column must already have equal lengths.
PADDED_KEYS = ("attention_mask", "token_type_ids", "special_tokens_mask")


def _first_leaf(value):
    """The first scalar inside a value (nested lists/arrays are followed by their first element)."""
    while True:
        if isinstance(value, np.ndarray):
            if value.dtype.kind in "US":
                return str(value.flat[0]) if value.size else ""
            if value.dtype != object or value.size == 0:
                return 0
            value = value.flat[0]
        elif isinstance(value, (list, tuple)):
            if not value:
                return 0
            value = value[0]
        else:
            return value


def _rows(features):
    """A list of example dicts (also accepted: one dict of lists, a batch)."""
    if isinstance(features, Mapping):
        names = list(features)
        return [dict(zip(names, values, strict=True)) for values in zip(*features.values(), strict=True)]
    rows = list(features)
    if not rows:
        raise ValueError("The collator received an empty list of examples.")
    if not isinstance(rows[0], Mapping):
        raise TypeError(f"The collator expects examples as dicts (rows of a Dataset), not {type(rows[0]).__name__}")
    return rows


def check_features(rows, padded_keys, collator):
    """Raise a clear error for any column that cannot become one array: text, None, or ragged lists that
    nothing pads (padded_keys are padded by the collator itself)."""
    for key in rows[0]:
        values = [row.get(key) for row in rows]
        for value in values:
            leaf = _first_leaf(value)
            if leaf is None or isinstance(leaf, str):
                what = (f"text ({value!r:.60}), which cannot be turned into an array of numbers (PyTorch says "
                        "\"too many dimensions 'str'\")" if isinstance(leaf, str) else
                        f"None values ({value!r:.60}), which cannot be turned into an array of numbers")
                raise ValueError(
                    f"{collator}: column {key!r} holds {what}. The model does not take this column: remove it "
                    f"before batching with dataset.remove_columns([{key!r}]) or map(..., remove_columns=[{key!r}]), "
                    "or let the Trainer drop the columns the model does not accept (remove_unused_columns=True).")
        if key in padded_keys:
            continue
        lengths = sorted({len(v) for v in values if isinstance(v, (list, tuple)) or np.ndim(v) > 0})
        if len(lengths) > 1:
            raise ValueError(
                f"{collator}: column {key!r} has lists of different lengths ({lengths[0]} and {lengths[-1]}) and "
                f"this collator only pads {list(padded_keys)}, so it cannot form one array. Remove the column "
                f"(dataset.remove_columns([{key!r}])) if the model does not need it, or pad it in your map function.")


def _check_return_tensors(return_tensors):
    if return_tensors != "np":
        raise ValueError(f"return_tensors={return_tensors!r}: nanohf collators return NumPy arrays ('np') only")


class DataCollatorWithPadding:
    """Pad a list of tokenized examples to the longest of the batch (or as asked) with `tokenizer.pad`.

    Args:
        tokenizer: a nanohf tokenizer (anything with transformers' `pad`).
        padding: True/"longest", "max_length" (to max_length) or False.
        max_length: target length for padding="max_length".
        pad_to_multiple_of: round the padded length up to a multiple of this.
        return_tensors: "np" (the only kind nanohf makes).

    Returns (from __call__): dict of int64 arrays (B, seq), with `labels` (B,) if the examples had
    `label` or `label_ids`.
    """

    def __init__(self, tokenizer, padding=True, max_length=None, pad_to_multiple_of=None, return_tensors="np"):
        _check_return_tensors(return_tensors)
        self.tokenizer = tokenizer
        self.padding = padding
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_tensors = return_tensors

    def __call__(self, features):
        rows = _rows(features)
        main = self.tokenizer.model_input_names[0]
        check_features(rows, (main, *PADDED_KEYS), type(self).__name__)
        batch = self.tokenizer.pad(rows, padding=self.padding, max_length=self.max_length,
                                   pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="np")
        for name in ("label", "label_ids"):
            if name in batch:
                batch["labels"] = batch.pop(name)
        return batch

    def __repr__(self):
        return (f"DataCollatorWithPadding(padding={self.padding!r}, max_length={self.max_length}, "
                f"pad_to_multiple_of={self.pad_to_multiple_of})")


class DataCollatorForTokenClassification(DataCollatorWithPadding):
    """Like DataCollatorWithPadding, and the per-token labels (`labels`, or `label`) are padded with
    `label_pad_token_id` (-100, which the loss ignores) on the tokenizer's padding side."""

    def __init__(self, tokenizer, padding=True, max_length=None, pad_to_multiple_of=None, label_pad_token_id=-100,
                 return_tensors="np"):
        super().__init__(tokenizer, padding, max_length, pad_to_multiple_of, return_tensors)
        self.label_pad_token_id = label_pad_token_id

    def __call__(self, features):
        rows = _rows(features)
        label_name = "label" if "label" in rows[0] else "labels"
        main = self.tokenizer.model_input_names[0]
        check_features(rows, (main, *PADDED_KEYS, label_name), type(self).__name__)
        labels = [row[label_name] for row in rows] if label_name in rows[0] else None
        inputs = [{k: v for k, v in row.items() if k != label_name} for row in rows]
        batch = self.tokenizer.pad(inputs, padding=self.padding, max_length=self.max_length,
                                   pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="np")
        if labels is None:
            return batch
        length = batch[main].shape[1]
        batch[label_name] = pad_rows(
            labels, length, self.label_pad_token_id, self.tokenizer.padding_side,
            lambda i, n: f"{type(self).__name__}: example {i} has {n} labels for {length} tokens; align the labels "
                         "with the tokens (one per token, -100 for special ones).")  # fmt: skip
        return batch


class DataCollatorForLanguageModeling:
    """Batches for language modelling: masked (BERT) or causal (GPT-2) labels.

    mlm=True: each token that is not special (nor padding) is chosen with probability mlm_probability;
    a chosen token's label is its id (every other label is -100, ignored by the loss) and its input
    becomes [MASK] with probability mask_replace_prob (0.8), a random id with probability
    random_replace_prob (0.1), or stays as it is (the remaining 0.1): the model cannot tell which visible
    tokens are to be predicted. The draws come in the same order as in transformers' NumPy collator, so the
    same `seed` masks the same tokens.

    whole_word_mask=True (transformers 5's spelling; there is no DataCollatorForWholeWordMask any more):
    words are chosen instead of tokens, each with probability mlm_probability, and every token of a chosen
    word becomes [MASK] (no random or kept tokens: mask_replace_prob is set to 1, with a warning, as
    transformers does). A "word" is read from the `offset_mapping` the tokenizer returns
    (`return_offsets_mapping=True`): a token continues the word before it when it starts exactly where the
    previous token ended ("un" + "##believ" + "##able", but also "don" + "'" + "t").

    mlm=False: labels = input_ids with padding set to -100 (the model shifts them itself).

    Args:
        tokenizer: pads the examples; its special tokens are never masked.
        mlm: masked (True) or causal (False) language modelling.
        whole_word_mask: mask whole words (needs `offset_mapping` in the examples; mlm=True only).
        mlm_probability: the share of tokens (or words) chosen for the loss.
        mask_replace_prob / random_replace_prob: of the chosen tokens, the shares turned into [MASK] and into
            a random id (the rest stay as they are); their sum is at most 1.
        pad_to_multiple_of: round the padded length up to a multiple of this.
        return_tensors: "np" (the only kind nanohf makes).
        seed: a private generator for the masking, created on the first call; None draws from
            `nanohf.random.get_generator()` (seeded by `nanohf.set_seed`).

    Returns (from __call__): the padded batch, int64 arrays (B, seq), with `labels` (B, seq); the
    `special_tokens_mask` and `offset_mapping` columns are used and dropped, as in transformers.
    """

    def __init__(self, tokenizer, mlm=True, whole_word_mask=False, mlm_probability=0.15, mask_replace_prob=0.8,
                 random_replace_prob=0.1, pad_to_multiple_of=None, return_tensors="np", seed=None):
        _check_return_tensors(return_tensors)
        if mlm:
            if tokenizer.mask_token is None:
                raise ValueError("This tokenizer does not have a mask token which is necessary for masked language "
                                 "modeling. You should pass `mlm=False` to train on causal language modeling instead.")
            if mlm_probability is None or not 0 <= mlm_probability <= 1:
                raise ValueError("mlm_probability should be between 0 and 1.")
        elif whole_word_mask:
            raise ValueError("Whole word masking can only be used with mlm=True. If you want to use whole word "
                             "masking, please set mlm=True.")
        if mask_replace_prob + random_replace_prob > 1:
            raise ValueError("The sum of mask_replace_prob and random_replace_prob should not exceed 1")
        for name, value in (("mask_replace_prob", mask_replace_prob), ("random_replace_prob", random_replace_prob)):
            if not 0 <= value <= 1:
                raise ValueError(f"{name} should be between 0 and 1.")
        if whole_word_mask:
            if not getattr(tokenizer, "is_fast", True):
                warnings.warn("Whole word masking depends on offset mapping which is only natively available with "
                              "fast tokenizers.", UserWarning, stacklevel=2)
            if mask_replace_prob < 1:
                # A word is masked as a whole: a random id in the middle of a word would make no word at all.
                warnings.warn("Random token replacement is not supported with whole word masking. Setting "
                              "mask_replace_prob to 1.", stacklevel=2)
                mask_replace_prob, random_replace_prob = 1, 0
        self.tokenizer = tokenizer
        self.mlm = mlm
        self.whole_word_mask = whole_word_mask
        self.mlm_probability = float(mlm_probability) if mlm else mlm_probability
        self.mask_replace_prob = float(mask_replace_prob)
        self.random_replace_prob = float(random_replace_prob)
        self.pad_to_multiple_of = pad_to_multiple_of
        self.return_tensors = return_tensors
        self.seed = seed
        self.generator = None

    def _rng(self):
        if self.seed is None:
            return nanohf_random.get_generator()
        if self.generator is None:
            self.generator = np.random.default_rng(self.seed)
        return self.generator

    def _stack_ids(self, examples):
        """Lists of ids (no dicts) -> (B, seq) int64, padded with the pad id on the tokenizer's side."""
        rows = [np.asarray(e, dtype=np.int64) for e in examples]
        length = max(len(r) for r in rows)
        multiple = self.pad_to_multiple_of
        if multiple and length % multiple:
            length = (length // multiple + 1) * multiple
        if all(len(r) == length for r in rows):
            return np.stack(rows)
        if self.tokenizer.pad_token is None:
            raise ValueError("You are attempting to pad samples but the tokenizer you are using "
                             f"({type(self.tokenizer).__name__}) does not have a pad token.")
        out = np.full((len(rows), length), self.tokenizer.pad_token_id, dtype=np.int64)
        for i, r in enumerate(rows):
            if self.tokenizer.padding_side == "left":
                out[i, length - len(r):] = r
            else:
                out[i, :len(r)] = r
        return out

    def _pad_offsets(self, offsets, length):
        """Per-example (start, end) pairs -> (B, length, 2) int64; padding positions get (0, 0).
        (transformers' tokenizer.pad cannot pad this column: there, examples of unequal length fail.)"""
        out = np.zeros((len(offsets), length, 2), dtype=np.int64)
        for i, pairs in enumerate(offsets):
            pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
            if len(pairs) > length:
                raise ValueError(f"{type(self).__name__}: example {i} has {len(pairs)} offset_mapping pairs for "
                                 f"{length} tokens; keep offset_mapping aligned with input_ids.")
            if self.tokenizer.padding_side == "left":
                out[i, length - len(pairs):] = pairs
            else:
                out[i, :len(pairs)] = pairs
        return out

    def __call__(self, examples, return_tensors=None):
        _check_return_tensors(return_tensors or self.return_tensors)
        offsets = offset_mapping = None
        if isinstance(examples, Mapping) or isinstance(examples[0], Mapping):
            rows = _rows(examples)
            main = self.tokenizer.model_input_names[0]
            if "offset_mapping" in rows[0]:  # padded here: tokenizer.pad leaves this column alone
                offsets = [row["offset_mapping"] for row in rows]
                rows = [{k: v for k, v in row.items() if k != "offset_mapping"} for row in rows]
            check_features(rows, (main, *PADDED_KEYS), type(self).__name__)
            batch = dict(self.tokenizer.pad(rows, pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="np"))
            if offsets is not None:
                offset_mapping = self._pad_offsets(offsets, batch[main].shape[1])
        else:
            batch = {"input_ids": self._stack_ids(examples)}
        special_tokens_mask = batch.pop("special_tokens_mask", None)
        if self.mlm:
            batch["input_ids"], batch["labels"] = self.mask_tokens(batch["input_ids"], special_tokens_mask,
                                                                   offset_mapping)
        else:
            labels = batch["input_ids"].copy()
            if self.tokenizer.pad_token_id is not None:
                labels[labels == self.tokenizer.pad_token_id] = -100
            batch["labels"] = labels
        return batch

    def mask_tokens(self, inputs, special_tokens_mask=None, offset_mapping=None):
        """(input_ids (B, seq), optional special mask (B, seq), offsets (B, seq, 2) for whole words)
        -> (masked input_ids, labels), both int64 (B, seq)."""
        rng = self._rng()
        inputs = np.array(inputs, dtype=np.int64)
        labels = inputs.copy()
        if special_tokens_mask is None:  # every special id counts, padding included
            special_tokens_mask = [self.tokenizer.get_special_tokens_mask(row, already_has_special_tokens=True)
                                   for row in labels.tolist()]
        special = np.asarray(special_tokens_mask, dtype=bool)
        if self.whole_word_mask:
            word_start, start_of = self._word_starts(offset_mapping, special, inputs.shape)
            probability = np.where(word_start, self.mlm_probability, 0.0)  # one draw per word: at its first token
        else:
            probability = np.where(special, 0.0, self.mlm_probability)
        chosen = rng.binomial(1, probability, size=inputs.shape).astype(bool)
        if self.whole_word_mask:  # a token is chosen when the first token of its word is
            chosen = np.take_along_axis(chosen, start_of, axis=1) & ~special
        labels[~chosen] = -100  # the loss only looks at the chosen tokens

        to_mask = rng.binomial(1, self.mask_replace_prob, size=inputs.shape).astype(bool) & chosen
        inputs[to_mask] = self.tokenizer.mask_token_id
        if self.mask_replace_prob == 1 or self.random_replace_prob == 0:
            return inputs, labels
        # Of the chosen tokens not masked (a 1 - mask_replace_prob share), this fraction gets a random id.
        random_share = self.random_replace_prob / (1 - self.mask_replace_prob)
        to_randomise = rng.binomial(1, random_share, size=inputs.shape).astype(bool) & chosen & ~to_mask
        inputs[to_randomise] = rng.integers(0, len(self.tokenizer), size=int(to_randomise.sum()), dtype=np.int64)
        return inputs, labels

    @staticmethod
    def _word_starts(offset_mapping, special, shape):
        """Where the words start, from the offsets: (word_start (B, seq) bool, start_of (B, seq) int).

        A non-special token starts a new word unless it begins exactly where the token before it ended
        (and that one was not special). start_of[b, t] is the position of the first token of t's word."""
        if offset_mapping is None:
            raise ValueError("DataCollatorForLanguageModeling(whole_word_mask=True) finds the words from the "
                             "tokens' character offsets, and the examples have no 'offset_mapping': tokenize "
                             "with return_offsets_mapping=True (and keep the column through group_texts).")
        offsets = np.asarray(offset_mapping, dtype=np.int64)
        if offsets.shape != (*shape, 2):
            raise ValueError(f"offset_mapping has shape {offsets.shape}, expected {(*shape, 2)} (one (start, end) "
                             "pair per token of input_ids)")
        starts, ends = offsets[..., 0], offsets[..., 1]
        previous_end = np.concatenate([np.full((shape[0], 1), -1), ends[:, :-1]], axis=1)
        previous_special = np.concatenate([np.zeros((shape[0], 1), dtype=bool), special[:, :-1]], axis=1)
        word_start = ~special & ((starts != previous_end) | previous_special)
        positions = np.broadcast_to(np.arange(shape[1]), shape)
        start_of = np.maximum.accumulate(np.where(word_start, positions, 0), axis=1)
        return word_start, start_of


def pad_rows(rows, length: int, fill: int, side: str, too_long) -> np.ndarray:
    """Ragged id lists -> (B, length) int64, each row written on the padding `side` ("left"/"right") and the rest
    `fill`; a row longer than `length` is a ValueError with the message `too_long(row index, row length)`."""
    out = np.full((len(rows), length), fill, dtype=np.int64)
    for i, row in enumerate(rows):
        row = np.asarray(row, dtype=np.int64)
        if len(row) > length:
            raise ValueError(too_long(i, len(row)))
        if side == "left":
            out[i, length - len(row):] = row
        else:
            out[i, :len(row)] = row
    return out


def default_data_collator(features, return_tensors="np"):
    """Stack examples whose values already have equal shapes (transformers' default_data_collator).

    `label` (one number per example) or `label_ids` (a list per example) becomes `labels`: int64 for
    integers, float32 otherwise. Text values are skipped, as in transformers; None values are skipped.
    """
    _check_return_tensors(return_tensors)
    rows = _rows(features)
    first = rows[0]
    batch = {}
    if first.get("label") is not None:
        label = first["label"].item() if isinstance(first["label"], np.ndarray) else first["label"]
        dtype = np.int64 if isinstance(label, (int, np.integer)) else np.float32
        batch["labels"] = np.array([row["label"] for row in rows], dtype=dtype)
    elif first.get("label_ids") is not None:
        if isinstance(first["label_ids"], np.ndarray):
            batch["labels"] = np.stack([row["label_ids"] for row in rows])
        else:
            dtype = np.int64 if isinstance(first["label_ids"][0], (int, np.integer)) else np.float32
            batch["labels"] = np.array([row["label_ids"] for row in rows], dtype=dtype)
    others = {k: v for k, v in first.items() if k not in ("label", "label_ids") and v is not None
              and not isinstance(v, str)}
    check_features([{k: row[k] for k in others} for row in rows], (), "default_data_collator")
    for key, value in others.items():
        values = [row[key] for row in rows]
        batch[key] = np.stack(values) if isinstance(value, np.ndarray) else np.array(values)
    return batch

"""DataCollatorForSeq2Seq: batches for an encoder-decoder (BART, T5), as transformers' collator makes them.

    collator = DataCollatorForSeq2Seq(tokenizer, model=model)
    batch = collator([tokenized["train"][i] for i in range(8)])
    batch["input_ids"]          # (8, longest source)   padded with the pad id by tokenizer.pad
    batch["labels"]             # (8, longest target)   padded with -100: the loss skips those positions
    batch["decoder_input_ids"]  # (8, longest target)   model.prepare_decoder_input_ids_from_labels(labels)

Why pad the labels here and not with ``tokenizer.pad``: the targets are a different sequence from the inputs
(a summary, a translation), with their own length; and their padding must be -100, not the pad id, so
that the cross-entropy ignores it. The decoder inputs are the labels shifted one step to the right
(the decoder start token first, -100 turned back into the pad id): at position t the decoder sees the
target up to t-1 and is scored on token t ("teacher forcing"). Making them here, rather than in the model,
is what transformers does when it is given the model, so that a label-smoothed loss, which takes the
labels away from the model, still gets the right decoder inputs.
"""

from collections.abc import Mapping, Sequence

import numpy as np

from nanohf.data.collators import PADDED_KEYS, _check_return_tensors, _rows, check_features, pad_rows


def check_fits_positions(model, columns: Mapping[str, Sequence], where: str) -> None:
    """Raise naming the row if a sequence of a column (``input_ids``, ``labels``) is longer than the model's
    position table (``config.max_position_embeddings``; BART: encoder and decoder alike). ``where`` starts the
    message: "train_dataset row", "DataCollatorForSeq2Seq: example". Does nothing without such a limit."""
    limit = getattr(getattr(model, "config", None), "max_position_embeddings", None)
    if limit is None:
        return
    for name, values in columns.items():
        for row, value in enumerate(values):
            if value is not None and np.ndim(value) == 1 and len(value) > limit:
                raise ValueError(
                    f"{where} {row}: {name} has {len(value)} tokens, more than the model allows "
                    f"(config.max_position_embeddings={limit}). Truncate when tokenizing: tokenizer(inputs, "
                    f"text_target=targets, truncation=True, max_length={limit}), or filter the long rows out."
                )


class DataCollatorForSeq2Seq:
    """Pad the inputs with ``tokenizer.pad`` and the labels with ``label_pad_token_id``, on the tokenizer's
    padding side; with a ``model`` that has ``prepare_decoder_input_ids_from_labels``, add
    ``decoder_input_ids``.

    Args:
        tokenizer: a nanohf tokenizer (pads ``input_ids``, ``attention_mask``, ...).
        model: the model being trained (optional). Its ``prepare_decoder_input_ids_from_labels`` makes the
            decoder inputs, and its ``config.max_position_embeddings`` bounds the lengths (checked here, so the
            error names the example).
        padding: True/"longest" (default), "max_length" (to ``max_length``) or False (no padding: ragged
            labels then cannot form one array, as in transformers).
        max_length: the length for padding="max_length" (inputs and labels).
        pad_to_multiple_of: round the padded lengths (inputs and labels, separately) up to a multiple of this.
        label_pad_token_id: what fills the labels' padding (-100: ignored by the loss).
        return_tensors: "np" (the only kind nanohf makes).

    Returns (from __call__): the padded inputs (int64 arrays (B, src)), ``labels`` (B, tgt) int64 (None if the
    examples have no labels, as in transformers) and, with a model, ``decoder_input_ids`` (B, tgt).
    """

    def __init__(self, tokenizer, model=None, padding=True, max_length: int | None = None,
                 pad_to_multiple_of: int | None = None, label_pad_token_id: int = -100,
                 return_tensors: str = "np"):  # fmt: skip
        _check_return_tensors(return_tensors)
        self.tokenizer = tokenizer
        self.model = model
        self.padding = padding
        self.max_length = max_length
        self.pad_to_multiple_of = pad_to_multiple_of
        self.label_pad_token_id = label_pad_token_id
        self.return_tensors = return_tensors

    def __call__(self, features, return_tensors=None) -> dict:
        _check_return_tensors(return_tensors or self.return_tensors)
        rows = _rows(features)
        label_name = "label" if "label" in rows[0] else "labels"
        labels = [row.get(label_name) for row in rows] if label_name in rows[0] else None
        if labels is not None and all(label is None for label in labels):  # {"labels": None}: no labels
            labels = None
        inputs = [{k: v for k, v in row.items() if k != label_name} for row in rows]
        main = self.tokenizer.model_input_names[0]
        check_features(inputs, (main, *PADDED_KEYS), type(self).__name__)
        columns = {main: [row.get(main) for row in inputs], **({"labels": labels} if labels is not None else {})}
        check_fits_positions(self.model, columns, f"{type(self).__name__}: example")
        batch = self.tokenizer.pad(inputs, padding=self.padding, max_length=self.max_length,
                                   pad_to_multiple_of=self.pad_to_multiple_of, return_tensors="np")  # fmt: skip
        batch["labels"] = None if labels is None else self._pad_labels(labels)
        if labels is not None and hasattr(self.model, "prepare_decoder_input_ids_from_labels"):
            batch["decoder_input_ids"] = self.model.prepare_decoder_input_ids_from_labels(labels=batch["labels"])
        return batch

    def _pad_labels(self, labels: list) -> np.ndarray:
        """Per-example label lists -> (B, longest, or max_length, rounded up to pad_to_multiple_of) int64."""
        for i, label in enumerate(labels):
            if label is None or isinstance(label, str) or np.ndim(label) != 1:
                raise ValueError(
                    f"{type(self).__name__}: example {i} has labels {label!r:.60}; expected a list of "
                    "token ids (tokenize the targets: tokenizer(text_target=...)['input_ids'])."
                )
        if self.padding is False or self.padding in ("do_not_pad", "DO_NOT_PAD"):
            lengths = {len(label) for label in labels}
            if len(lengths) > 1:
                raise ValueError(
                    f"{type(self).__name__}(padding=False): the labels have different lengths "
                    f"({min(lengths)} and {max(lengths)}) and cannot form one array; pad them."
                )
            return np.array([list(label) for label in labels], dtype=np.int64)
        to_max = self.padding in ("max_length", "MAX_LENGTH") and self.max_length is not None
        length = self.max_length if to_max else max(len(label) for label in labels)
        multiple = self.pad_to_multiple_of
        if multiple is not None:
            length = -(-length // multiple) * multiple
        # (padding="max_length" with longer targets: transformers cannot stack them either)
        return pad_rows(
            labels, length, self.label_pad_token_id, self.tokenizer.padding_side,
            lambda i, n: f"{type(self).__name__}: example {i} has {n} labels, more than max_length={length}; "
                         "truncate the targets (tokenizer(text_target=..., truncation=True, "
                         f"max_length={length})).")  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"DataCollatorForSeq2Seq(model={type(self.model).__name__ if self.model is not None else None}, "
            f"padding={self.padding!r}, max_length={self.max_length}, "
            f"pad_to_multiple_of={self.pad_to_multiple_of}, label_pad_token_id={self.label_pad_token_id})"
        )

"""Checking the user's arguments, turning padding/truncation options into a plan, and padding already-encoded
inputs.

Both follow transformers 5 (`_get_padding_truncation_strategies`, `pad`, `_pad`) so that a data collator
calling `tokenizer.pad(features, ...)` gets exactly what it would get from transformers.
"""

import warnings
from collections.abc import Mapping

import numpy as np

# transformers' "no limit" marker for model_max_length, and the threshold above which a limit is ignored.
VERY_LARGE_INTEGER = int(1e30)
LARGE_INTEGER = int(1e20)

PADDING_STRATEGIES = ["longest", "max_length", "do_not_pad"]
TRUNCATION_STRATEGIES = ["only_first", "only_second", "longest_first", "do_not_truncate"]
NO_PAD_TOKEN = ("Asking to pad but the tokenizer does not have a padding token. Please select a token to use as "
                "`pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)` or add a new pad token via "
                "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.")


def check_text_input(text, text_pair=None):
    """Raise transformers' ValueError unless each is a str, list[str], list[list[str]] or list[list[list[str]]]."""

    def valid(value):
        for _ in range(3):  # look one level deeper while it is a non-empty list
            if isinstance(value, str) or (isinstance(value, (list, tuple)) and not value):
                return True
            if not isinstance(value, (list, tuple)):
                return False
            value = value[0]
        return isinstance(value, str)

    if not valid(text) or (text_pair is not None and not valid(text_pair)):
        raise ValueError("text input must be of type `str` (single example), `list[str]` (batch or single "
                         "pretokenized example) or `list[list[str]]` (batch of pretokenized examples) or "
                         "`list[tuple[list[str], list[str]]]` (batch of pretokenized sequence pairs).")


def resolve_strategies(tokenizer, padding=False, truncation=None, max_length=None, pad_to_multiple_of=None,
                       verbose=True):
    """(padding, truncation, max_length) from the user's arguments.

    Returns padding in {None, "longest", "max_length"} and truncation in {None, "longest_first", "only_first",
    "only_second"}. A missing max_length falls back to `tokenizer.model_max_length`, unless that is the
    "no limit" marker, in which case padding to max_length and truncation are silently switched off.
    """
    # transformers' backward-compatible rule: max_length alone switches truncation on.
    if max_length is not None and padding is False and truncation is None:
        truncation = "longest_first"

    if padding is True:
        if verbose and max_length is not None and truncation in (None, False, "do_not_truncate"):
            warnings.warn("`max_length` is ignored when `padding`=`True` and there is no truncation strategy. "
                          "To pad to max length, use `padding='max_length'`.", stacklevel=3)
        padding = "longest"
    elif padding is False or padding is None:
        padding = "do_not_pad"
    if padding not in PADDING_STRATEGIES:
        raise ValueError(f"{padding} is not a valid PaddingStrategy, please select one of {PADDING_STRATEGIES}")

    if truncation is True:
        truncation = "longest_first"
    elif truncation is False or truncation is None:
        truncation = "do_not_truncate"
    if truncation not in TRUNCATION_STRATEGIES:
        raise ValueError(f"{truncation} is not a valid TruncationStrategy, please select one of "
                         f"{TRUNCATION_STRATEGIES}")
    padding = None if padding == "do_not_pad" else padding
    truncation = None if truncation == "do_not_truncate" else truncation

    if max_length is None:
        unlimited = tokenizer.model_max_length > LARGE_INTEGER
        if padding == "max_length":
            if unlimited:
                padding = None
            else:
                max_length = tokenizer.model_max_length
        if truncation is not None:
            if unlimited:
                truncation = None
            else:
                max_length = tokenizer.model_max_length

    if padding is not None and (tokenizer.pad_token is None or tokenizer.pad_token_id < 0):
        raise ValueError(NO_PAD_TOKEN)
    if (truncation is not None and padding is not None and pad_to_multiple_of is not None
            and max_length is not None and max_length % pad_to_multiple_of != 0):
        raise ValueError(f"Truncation and padding are both activated but truncation length ({max_length}) is not "
                         f"a multiple of pad_to_multiple_of ({pad_to_multiple_of}).")
    return padding, truncation, max_length


def pad_row(tokenizer, row, padding, max_length, pad_to_multiple_of, padding_side, return_attention_mask):
    """Pad one example {name: list of ints} in place and return it.

    Only `input_ids` (the first model input), `attention_mask`, `token_type_ids` and `special_tokens_mask` are
    padded; other keys (labels, offsets, ...) pass through untouched. Rows longer than the target stay as
    they are: padding never truncates.
    """
    if return_attention_mask is None:
        return_attention_mask = "attention_mask" in tokenizer.model_input_names
    main = tokenizer.model_input_names[0]
    ids = row[main]
    if padding == "longest":
        max_length = len(ids)
    if max_length is not None and pad_to_multiple_of is not None and max_length % pad_to_multiple_of != 0:
        max_length = (max_length // pad_to_multiple_of + 1) * pad_to_multiple_of
    if return_attention_mask and "attention_mask" not in row:
        row["attention_mask"] = [1] * len(ids)
    n = (max_length - len(ids)) if padding is not None and max_length is not None else 0
    if n <= 0:
        return row
    side = padding_side if padding_side is not None else tokenizer.padding_side
    if side not in ("left", "right"):
        raise ValueError(f"Invalid padding strategy:{side}")
    fills = {main: tokenizer.pad_token_id, "token_type_ids": tokenizer.pad_token_type_id,
             "special_tokens_mask": 1}
    if return_attention_mask:
        fills["attention_mask"] = 0
    for key, fill in fills.items():
        if key in row:
            row[key] = row[key] + [fill] * n if side == "right" else [fill] * n + row[key]
    return row


def pad(tokenizer, encoded_inputs, padding=True, max_length=None, pad_to_multiple_of=None, padding_side=None,
        return_attention_mask=None, return_tensors=None, verbose=True):
    """`PreTrainedTokenizerBase.pad`: pad one example or a batch given as a dict of lists or a list of dicts.

    Args:
        encoded_inputs: {"input_ids": [ids...], ...} (one example), {"input_ids": [[ids...], ...], ...} (a
            batch), or a list of per-example dicts (what a DataLoader hands a collate function). Values may
            also be NumPy arrays; the result is then an array too unless return_tensors says otherwise.
        padding: True/"longest" (to the longest row), "max_length", or False/"do_not_pad".
        max_length: target for "max_length" (default: model_max_length).
        pad_to_multiple_of: round the target up to a multiple of this.
        padding_side: "left" or "right" (default: the tokenizer's padding_side).
        return_attention_mask: add/pad attention_mask (default: if the model takes one).
        return_tensors: None for lists, "np" for int64 arrays of shape (B, seq).

    Returns:
        BatchEncoding (without token-level information).
    """
    from .batch import BatchEncoding

    if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], Mapping):
        encoded_inputs = {key: [example[key] for example in encoded_inputs] for key in encoded_inputs[0].keys()}
    encoded_inputs = dict(encoded_inputs)
    main = tokenizer.model_input_names[0]
    if main not in encoded_inputs:
        raise ValueError("You should supply an encoding or a list of encodings to this method that includes "
                         f"{main}, but you provided {list(encoded_inputs.keys())}")
    required = encoded_inputs[main]
    if required is None or len(required) == 0:
        if return_attention_mask:
            encoded_inputs["attention_mask"] = []
        return BatchEncoding(encoded_inputs)

    # Arrays are padded as lists and turned back into arrays at the end (as transformers does).
    first = required[0]
    if isinstance(first, (list, tuple)):
        first = next((row[0] for row in required if len(row)), first)
    if not isinstance(first, (int, list, tuple)):
        if not isinstance(first, np.ndarray):
            raise ValueError(f"type of {first} unknown: {type(first)}. Should be one of a python, numpy, or "
                             "pytorch object.")
        return_tensors = "np" if return_tensors is None else return_tensors
        encoded_inputs = {key: _to_lists(value) for key, value in encoded_inputs.items()}

    padding, _, max_length = resolve_strategies(tokenizer, padding=padding, max_length=max_length,
                                                verbose=verbose)
    required = encoded_inputs[main]
    options = (pad_to_multiple_of, padding_side, return_attention_mask)
    if required and not isinstance(required[0], (list, tuple)):  # one example
        return BatchEncoding(pad_row(tokenizer, encoded_inputs, padding, max_length, *options),
                             tensor_type=return_tensors)

    batch_size = len(required)
    if any(len(values) != batch_size for values in encoded_inputs.values()):
        raise ValueError("Some items in the output dictionary have a different batch size than others.")
    if padding == "longest":
        padding, max_length = "max_length", max(len(ids) for ids in required)
    outputs = {}
    for i in range(batch_size):
        row = {key: _as_list(values[i]) for key, values in encoded_inputs.items()}
        for key, value in pad_row(tokenizer, row, padding, max_length, *options).items():
            outputs.setdefault(key, []).append(value)
    return BatchEncoding(outputs, tensor_type=return_tensors)


def _as_list(value):
    return list(value) if isinstance(value, tuple) else value


def _to_lists(value):
    """A list that may hold arrays -> the same structure with plain Python lists and ints."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_to_lists(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value

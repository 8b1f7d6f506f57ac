"""Checks on the arrays a user hands a model, before any of them reaches a kernel.

Compiled kernels do not check bounds: an id past the end of an embedding table reads memory that
is not the table's (a wrong answer, or a segmentation fault), and a negative one silently reads a
row from the end. So every index array is checked at the entry points, with an error that names
the argument, the offending value and where it sits.
"""

import numpy as np


def check_ids_in_range(name: str, ids: np.ndarray, size: int, size_name: str) -> None:
    """Raise if any of ``ids`` lies outside ``[0, size)``, naming the first one and its position."""
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        bad = np.argwhere((ids < 0) | (ids >= size))[0]
        raise ValueError(
            f"{name} holds id {int(ids[tuple(bad)])} at position {tuple(int(i) for i in bad)}, "
            f"outside [0, {size_name}={size})"
        )


def as_array(name: str, value, *, integer: bool) -> np.ndarray:
    """``value`` as an array of numbers, or an error naming ``name`` (a ragged list, strings, objects).

    ``integer``: ids and positions must be integers (a float id has no row); masks may be bool or float.
    """
    try:
        array = np.asarray(value)
    except ValueError as err:  # a ragged nested list
        raise ValueError(f"{name} must be a rectangular array; {err}") from None
    allowed = "biu" if integer else "biuf"
    if array.dtype.kind not in allowed:
        kind = "an integer" if integer else "a numeric"
        raise ValueError(f"{name} must be {kind} array (got {array.dtype} of shape {array.shape})")
    return array


def check_model_inputs(
    config,
    input_ids,
    attention_mask=None,
    token_type_ids=None,
    position_ids=None,
    *,
    past_length: int = 0,
    prefix: str = "",
) -> tuple[np.ndarray, np.ndarray]:
    """Validate an encoder's or decoder's inputs against ``config``; returns ``(input_ids, attention_mask)``.

    ``input_ids (batch, seq)`` integers in ``[0, vocab_size)``; ``attention_mask (batch, past_length +
    seq)`` of 0s and 1s (a decoder with a cache masks its past tokens too); ``token_type_ids`` and
    ``position_ids`` of the ids' shape (a position row may be shared: ``(1, seq)``), inside their tables.
    ``prefix`` names a decoder's arguments (``decoder_input_ids``). Every problem is a ValueError naming
    the tensor, the shape or the id at fault.
    """
    ids_name, mask_name = f"{prefix}input_ids", f"{prefix}attention_mask"
    input_ids = as_array(ids_name, input_ids, integer=True)
    if input_ids.ndim != 2 or input_ids.dtype == bool:
        raise ValueError(
            f"{ids_name} must be an integer array of shape (batch, seq); got {input_ids.dtype} {input_ids.shape}"
        )
    check_ids_in_range(ids_name, input_ids, config.vocab_size, "vocab_size")
    batch, seq = input_ids.shape
    if past_length + seq > config.max_position_embeddings and position_ids is None:
        raise ValueError(
            f"sequence length {past_length + seq} exceeds max_position_embeddings={config.max_position_embeddings}; "
            f"truncate the input (tokenizer(..., truncation=True))"
        )
    expected = (batch, past_length + seq)
    if attention_mask is None:
        attention_mask = np.ones(expected, dtype=np.int64)
    attention_mask = as_array(mask_name, attention_mask, integer=False)
    if attention_mask.shape != expected:
        cached = " (past tokens and new tokens)" if past_length else f" like {ids_name}"
        raise ValueError(f"{mask_name} has shape {attention_mask.shape}, expected {expected}{cached}")
    if attention_mask.size and not np.isin(attention_mask, (0, 1)).all():
        bad = attention_mask[~np.isin(attention_mask, (0, 1))][0]
        raise ValueError(f"{mask_name} must hold 0 (padding) and 1 (a token), not {bad}")
    if token_type_ids is not None:
        token_type_ids = as_array("token_type_ids", token_type_ids, integer=True)
        if token_type_ids.shape != input_ids.shape:
            raise ValueError(
                f"token_type_ids has shape {token_type_ids.shape}, expected {input_ids.shape} like {ids_name}"
            )
        if hasattr(config, "type_vocab_size"):
            check_ids_in_range("token_type_ids", token_type_ids, config.type_vocab_size, "type_vocab_size")
    if position_ids is not None:
        position_ids = as_array("position_ids", position_ids, integer=True)
        if position_ids.ndim != 2 or position_ids.shape[1] != seq or position_ids.shape[0] not in (1, batch):
            raise ValueError(f"position_ids has shape {position_ids.shape}, expected ({batch}, {seq})")
        check_ids_in_range("position_ids", position_ids, config.max_position_embeddings, "max_position_embeddings")
    return input_ids, attention_mask


def check_labels(labels, shape: tuple[int, ...]) -> np.ndarray:
    """Token labels of exactly ``shape`` (``(batch, seq)``), as integers; their values (class ids or -100) are
    checked by the cross-entropy itself (nanohf/kernels/losses.py), for every head."""
    labels = as_array("labels", labels, integer=True)
    if labels.shape != shape:
        raise ValueError(f"labels has shape {labels.shape}, expected {shape}")
    return labels

"""A config is checked before a model is built from it: types, ranges, names, flags, size.

A config.json is data a user may have edited by hand, and nonsense in it used to pass silently:
``layer_norm_eps: -1`` gave NaN logits, ``hidden_act: null`` dropped the activation, a negative
``pad_token_id`` read embedding rows from the end, ``num_hidden_layers: 1000000`` built layers until
memory ran out. transformers 5 refuses some of these (its configs are strict dataclasses: a
``"32"`` for an int field is an error) and accepts others; nanohf refuses all of them, each with a
message naming the file (or the config class) and the field.

What is checked, and where it is declared:

- **types**, read from the annotations of each config class's ``__init__`` (``hidden_size: int``,
  ``classifier_dropout: float | None``): an int field takes an int (not ``"32"``, ``32.5`` or
  ``true``), a float field a number, a bool field a bool, a str field a string;
- **ranges**, declared per config class in ``rules = ConfigRules(...)``: sizes and counts ≥ 1,
  probabilities in [0, 1], epsilons > 0, heads that divide the width, activation names nanohf
  knows, flags nanohf does not implement (``is_decoder`` on BERT) refused rather than ignored;
- **token ids** (pad, bos, eos, decoder start, forced bos/eos): None or inside the vocabulary;
- **size**: the weights the config asks for must fit in this machine's memory, checked before a
  single layer is allocated.
"""

import os
import types
import typing
from dataclasses import dataclass
from typing import Any

import numpy as np

TOKEN_ID_FIELDS = (
    "pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id",
    "forced_bos_token_id", "forced_eos_token_id", "sep_token_id",
)  # fmt: skip


@dataclass(frozen=True)
class ConfigRules:
    """The ranges of a config class's fields (types come from its ``__init__`` annotations).

    ``required`` names fields that may not be None (RoBERTa counts positions from its pad id).
    ``divides`` pairs ``(width, heads)``: ``heads`` must divide ``width``. ``unsupported`` names bool
    flags nanohf has not implemented for the family: they must be False. ``layers`` and ``width``
    give the weight-size estimate (``12·width²`` floats per layer, a transformer block's share).
    """

    positive: tuple[str, ...] = ()
    probabilities: tuple[str, ...] = ()
    epsilons: tuple[str, ...] = ()
    activations: tuple[str, ...] = ()
    divides: tuple[tuple[str, str], ...] = ()
    unsupported: tuple[str, ...] = ()
    layers: tuple[str, ...] = ()
    width: str = ""
    required: tuple[str, ...] = ()
    # (field, group): ``field`` must be a multiple of ``group`` (query heads of k/v heads in GQA).
    multiples: tuple[tuple[str, str], ...] = ()


class ConfigError(ValueError):
    """A config field with a wrong type or value; the message names the source and the field."""


def _source(config) -> str:
    folder = getattr(config, "name_or_path", "") or ""
    if folder and os.path.isdir(folder):
        return os.path.join(folder, "config.json")
    return type(config).__name__


def _annotations(config_class: type) -> dict[str, Any]:
    """Field -> annotation, from ``__init__`` of the class and its bases (the subclass wins)."""
    hints: dict[str, Any] = {}
    for cls in reversed(config_class.__mro__):
        init = cls.__dict__.get("__init__")
        if init is not None:
            try:
                hints.update(typing.get_type_hints(init))
            except (NameError, TypeError):  # an annotation that cannot be resolved says nothing to check
                pass
    hints.pop("return", None)
    return hints


def value_fits(annotation: Any, value: Any) -> bool | None:
    """Does ``value`` fit ``annotation``? None when the annotation is not one this module checks."""
    if annotation is Any:
        return None
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        verdicts = [value_fits(arg, value) for arg in typing.get_args(annotation)]
        if any(v is None for v in verdicts):
            return None
        return any(verdicts)
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if annotation is float:  # an int is a number too (JSON may write 0 for 0.0)
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if origin is list or annotation is list:
        if not isinstance(value, list | tuple):
            return False
        (item,) = typing.get_args(annotation) or (Any,)
        verdicts = [value_fits(item, v) for v in value]
        return None if any(v is None for v in verdicts) else all(verdicts)
    if origin is dict or annotation is dict:
        return isinstance(value, dict)
    return None


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def validate_config(config) -> None:
    """Raise ConfigError for the first field of ``config`` that is of the wrong type or out of range."""
    source = _source(config)

    def fail(field: str, why: str) -> None:
        raise ConfigError(f"{source}: {field} {why}")

    for field, annotation in _annotations(type(config)).items():
        if field in ("kwargs", "self") or not hasattr(config, field):
            continue
        value = getattr(config, field)
        if value_fits(annotation, value) is False:
            fail(field, f"must be {_type_name(annotation)}, got {type(value).__name__} {value!r}")

    rules: ConfigRules = getattr(type(config), "rules", ConfigRules())
    for field in rules.required:
        if getattr(config, field) is None:
            fail(field, f"must be set: nanohf's {type(config).__name__[: -len('Config')]} needs it")
    for field in rules.positive:
        value = getattr(config, field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            fail(field, f"must be a positive integer, got {value!r}")
    for field in rules.layers:  # zero layers is a model too (embeddings only), as in transformers
        value = getattr(config, field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail(field, f"must be a number of layers >= 0, got {value!r}")
    for field in rules.probabilities:
        value = getattr(config, field)
        if value is not None and not 0.0 <= value <= 1.0:
            fail(field, f"is a probability and must lie in [0, 1], got {value!r}")
    for field in rules.epsilons:
        value = getattr(config, field)
        if not 0 < value <= 1:  # NaN fails too
            fail(field, f"must be a small number > 0 (it keeps a division away from zero), got {value!r}")
    if rules.activations:
        from nanohf.kernels.activations import ACTIVATIONS

        for field in rules.activations:
            if getattr(config, field) not in ACTIVATIONS:
                fail(field, f"is {getattr(config, field)!r}, not an activation nanohf knows: {sorted(ACTIVATIONS)}")
    for width, heads in rules.divides:
        w, h = getattr(config, width), getattr(config, heads)
        if w % h:  # transformers' own message
            raise ConfigError(
                f"{source}: The hidden size ({w}) is not a multiple of the number of attention heads ({h}) "
                f"({width}, {heads})"
            )
    for field, group in rules.multiples:
        n, g = getattr(config, field), getattr(config, group)
        if n % g:
            fail(
                field,
                f"({n}) must be a multiple of {group} ({g}): each key/value head serves a whole group of query heads",
            )
    for flag in rules.unsupported:
        if getattr(config, flag, False):
            fail(flag, f"is true, but nanohf's {type(config).__name__[: -len('Config')]} does not implement it")

    vocab_size = getattr(config, "vocab_size", None)
    for field in TOKEN_ID_FIELDS:
        value = getattr(config, field, None)
        for token_id in value if isinstance(value, list | tuple) else [value]:
            if token_id is None:
                continue
            if isinstance(token_id, bool) or not isinstance(token_id, int):
                fail(field, f"must be None or an integer token id, got {token_id!r}")
            if token_id < 0:
                fail(field, f"must be None or a token id >= 0, got {token_id}")
    # The padding id indexes the embedding tables (RoBERTa's positions count from it): it must be a row.
    # (transformers only warns; other ids may lie outside a small test vocabulary, as GPT-2's 50256 does.)
    pad = getattr(config, "pad_token_id", None)
    if vocab_size is not None and isinstance(pad, int) and pad >= vocab_size:
        fail("pad_token_id", f"must be None or an id inside the vocabulary [0, vocab_size={vocab_size}), got {pad}")

    _check_size(config, rules, source)


def _check_size(config, rules: ConfigRules, source: str) -> None:
    """Refuse a config whose weights alone would not fit in memory, before anything is allocated.

    Two estimates, each a lower bound on what the model allocates: the layer stack (``12·width²``
    floats per layer) and every single table or matrix of ``size × width`` floats (a size field such as
    ``vocab_size`` or ``type_vocab_size`` set to 10¹² asks for one 116 TiB array).
    """
    if not rules.width:
        return
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: nothing to compare with
        return
    width = getattr(config, rules.width)
    layers = sum(getattr(config, name) for name in rules.layers)
    asks = [(f"{', '.join(f'{n}={getattr(config, n)}' for n in rules.layers)} and {rules.width}={width}",
             4 * 12 * layers * width * width)]  # fmt: skip
    for field in rules.positive:
        value = getattr(config, field)
        if value is not None and field != rules.width:
            asks.append((f"{field}={value} and {rules.width}={width}", 4 * value * width))
    for what, n_bytes in asks:
        if n_bytes > memory:
            raise ConfigError(
                f"{source}: {what} ask for about {n_bytes / 2**30:.0f} GiB of float32 weights, more than this "
                f"machine's {memory / 2**30:.0f} GiB of memory"
            )


def id2label_from_json(id2label) -> dict[int, str]:
    """``{"0": "NEGATIVE", ...}`` as config.json stores it -> ``{0: "NEGATIVE", ...}``; junk is refused."""
    if not isinstance(id2label, dict):
        raise ConfigError(f"id2label must map class ids to label names, got {type(id2label).__name__} {id2label!r}")
    labels = {}
    for key, name in id2label.items():
        try:
            labels[int(key)] = name
        except (TypeError, ValueError):
            raise ConfigError(f"id2label has the key {key!r}, which is not a class id (an integer)") from None
    return labels

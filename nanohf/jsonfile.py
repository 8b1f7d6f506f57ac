"""Reading the JSON files a checkpoint, tokenizer, dataset cache or Trainer state is made of.

Every one of them is data a user may have edited, truncated or corrupted, so every reader goes
through :func:`read_json`: the error names the file, and says what is wrong with it (not UTF-8,
not JSON and where, nested too deeply, not the JSON type expected) instead of a bare
``UnicodeDecodeError``, ``JSONDecodeError`` or ``RecursionError`` from deep inside.
"""

import json
import os
from typing import Any

JSON_NAMES = {dict: "object", list: "array", str: "string"}


def not_a_json_number(name: str):
    """``json.loads(..., parse_constant=not_a_json_number)``: NaN, Infinity and -Infinity are refused."""
    raise ValueError(f"{name} is not a JSON number")


def read_json(path: str | os.PathLike, expect: type | None = dict, allow_nan: bool = True) -> Any:
    """The JSON value in ``path``; ``expect`` (dict by default, None for any) is the top-level type.

    ``allow_nan=False`` refuses ``NaN`` / ``Infinity``, which Python's json reads but the JSON standard (and
    the Rust ``tokenizers`` reading the same file) does not: tokenizer files hold ids and flags, never those.

    Raises ValueError naming the file for every way the content can be wrong, and OSError (with
    the path, as open() gives) when the file cannot be read at all.
    """
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text (byte {err.start}: {raw[err.start:err.start + 1]!r})") from None
    try:
        value = json.loads(text) if allow_nan else json.loads(text, parse_constant=not_a_json_number)
    except ValueError as err:  # json.JSONDecodeError is a ValueError, and so is a refused NaN
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    except RecursionError:
        raise ValueError(f"{path} nests JSON arrays or objects too deeply to read") from None
    if expect is not None and not isinstance(value, expect):
        wanted = JSON_NAMES.get(expect, expect.__name__)
        raise ValueError(f"{path} must hold a JSON {wanted}, found {type(value).__name__}")
    return value

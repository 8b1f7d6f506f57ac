"""Reading and running the Python blocks of the docs (used by tests/test_docs_code.py).

A page's ```` ```python ```` blocks run in order in one namespace, like a notebook. The line just
before a block may hold a marker:

- ``<!-- docs-test: setup=NAME -->``: run the named setup first (tests/test_docs_code.py defines them:
  a tiny model, a folder the block loads, a corpus), so the block runs as a reader would run it after
  the steps the page describes;
- ``<!-- docs-test: fragment — why -->``: a piece of a larger program (a method to paste into a
  subclass, a loop with ``...``); it must still parse, and the reason must be given.

Shown output: comment lines right after a statement are what it shows. Under a statement that prints,
they are the printed lines; under an expression, its value, compared as a Python literal (numbers to
the shown precision) or, when they contain ``...``, as doctest compares text with ELLIPSIS.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import io
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<kind>setup=(?P<setup>[\w-]+)|fragment\s*\S.*?)\s*-->\s*$")
INCLUDE = re.compile(r"^--8<--\s")


@dataclass
class Block:
    page: Path
    line: int
    body: str
    setup: str | None = None
    fragment: bool = False

    @property
    def where(self) -> str:
        return f"{self.page.name}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    """The page's ```python blocks, includes of the source left out (those are the source itself)."""
    text = page.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        if match["lang"].strip() not in ("python", "py") or INCLUDE.match(match["body"]):
            continue
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        blocks.append(Block(page, line, match["body"],
                            setup=marker["setup"] if marker else None,
                            fragment=bool(marker and marker["kind"].startswith("fragment"))))
    return blocks


def plain(value):
    """Arrays to lists and mappings to dicts, so a value compares with the literal a page shows."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def same(shown, value, tolerance: float) -> bool:
    if isinstance(shown, float) or (isinstance(shown, int) and isinstance(value, float)):
        return isinstance(value, (int, float)) and math.isclose(shown, value, rel_tol=1e-9, abs_tol=tolerance)
    if isinstance(shown, dict):
        return isinstance(value, dict) and shown.keys() == value.keys() and all(
            same(shown[k], value[k], tolerance) for k in shown)
    if isinstance(shown, (list, tuple)):
        return (isinstance(value, (list, tuple)) and len(shown) == len(value)
                and all(same(a, b, tolerance) for a, b in zip(shown, value, strict=True)))
    return shown == value


def check_shown(shown: str, value, where: str) -> None:
    """``shown`` is the comment text under an expression; ``value`` what the expression gave."""
    value = plain(value)
    if "..." in shown:
        checker = doctest.OutputChecker()
        got = repr(value).replace('"', "'")
        want = shown.replace('"', "'")
        assert checker.check_output(want + "\n", got + "\n", doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE), (
            f"{where}: the page shows {shown!r}, the code gives {got!r}")
        return
    expected = ast.literal_eval(shown)
    decimals = [len(d) for d in re.findall(r"\d\.(\d+)", shown)]
    tolerance = 0.5 * 10.0 ** -min(decimals) if decimals else 0.0
    assert same(expected, value, tolerance), f"{where}: the page shows {shown!r}, the code gives {value!r}"


def check_printed(shown: list[str], printed: str, where: str) -> None:
    """Comment lines under a statement that printed are the lines it printed (``...`` matches anything)."""
    checker = doctest.OutputChecker()
    want, got = "\n".join(shown) + "\n", printed
    assert checker.check_output(want, got, doctest.ELLIPSIS), f"{where}: the page shows\n{want}the code prints\n{got}"


def run_block(block: Block, namespace: dict) -> int:
    """Run ``block`` in ``namespace``; returns how many shown outputs it checked."""
    tree = ast.parse(block.body, filename=block.where)
    lines = block.body.splitlines()
    checked = 0
    for index, statement in enumerate(tree.body):
        where = f"{block.where} (+{statement.lineno})"
        stop = tree.body[index + 1].lineno - 1 if index + 1 < len(tree.body) else len(lines)
        comments = []
        for text in lines[statement.end_lineno:stop]:
            if not text.startswith("#"):
                break
            comments.append(text[1:].strip())
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            if isinstance(statement, ast.Expr):
                value = eval(compile(ast.Expression(statement.value), where, "eval"), namespace)
            else:
                exec(compile(ast.Module([statement], type_ignores=[]), where, "exec"), namespace)
        if comments and printed.getvalue():
            check_printed(comments, printed.getvalue(), where)
            checked += 1
        elif comments and isinstance(statement, ast.Expr):
            check_shown(" ".join(comments), value, where)
            checked += 1
    return checked

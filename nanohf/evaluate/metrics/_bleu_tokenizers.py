"""sacrebleu's "intl" and "char" tokenizers (13a and none are in sacrebleu.py): a line -> its tokens.

"intl"  mteval-v14.pl's international tokenization: every Unicode punctuation character (\\p{P}) is split off
        unless it stands between two numbers (1,000.5 stays whole), and every symbol (\\p{S}: $, €, +, ...) is.
        Unlike 13a there is no space added around the line, so a final "2019." keeps its period (as mteval-v14).
"char"  every character is a token (spaces dropped).
"""

from functools import lru_cache

import regex

_INTL_RULES = [
    (regex.compile(r"(\P{N})(\p{P})"), r"\1 \2 "),  # punctuation after a non-number
    (regex.compile(r"(\p{P})(\P{N})"), r" \1 \2"),  # punctuation before a non-number
    (regex.compile(r"(\p{S})"), r" \1 "),  # every symbol
]


@lru_cache(maxsize=2**16)
def _intl(line: str) -> tuple[str, ...]:
    for pattern, replacement in _INTL_RULES:
        line = pattern.sub(replacement, line)
    return tuple(line.split())


def tokenize_intl(line: str) -> list[str]:
    return list(_intl(line))


def tokenize_char(line: str) -> list[str]:
    return " ".join(line).split()

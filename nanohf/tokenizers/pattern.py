"""`Regex`: a pattern to be read as a regular expression (a plain str is matched literally), as in `tokenizers`.

    normalizers.Replace(Regex(r"\\s+"), " ")      # any run of whitespace -> one space
    normalizers.Replace(" ", "▁")                # the literal space

The Rust library compiles these with Oniguruma; the `regex` package reads the same syntax for the patterns
tokenizer.json files use (character classes, \\p{L}, look-ahead).
"""

import regex


class Regex:
    """A compiled regular expression; `pattern` is the source text (what tokenizer.json stores)."""

    def __init__(self, pattern: str):
        if not isinstance(pattern, str):
            raise TypeError(f"Regex takes a str pattern, not {type(pattern).__name__}")
        try:
            self._compiled = regex.compile(pattern)
        except regex.error as error:
            raise ValueError(f"invalid regular expression {pattern!r}: {error}") from None
        self.pattern = pattern

    def finditer(self, text: str):
        return self._compiled.finditer(text)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r})"


def pattern_to_dict(pattern: "str | Regex") -> dict:
    """The tokenizer.json form: {"String": "..."} or {"Regex": "..."}."""
    return {"Regex": pattern.pattern} if isinstance(pattern, Regex) else {"String": pattern}


def pattern_from_dict(data: dict, where: str) -> "str | Regex":
    """Inverse of `pattern_to_dict`; `where` names the component for the error message."""
    if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in ("String", "Regex"):
        raise ValueError(f"{where}: 'pattern' must be {{\"String\": ...}} or {{\"Regex\": ...}}, got {data!r}")
    kind, value = next(iter(data.items()))
    return Regex(value) if kind == "Regex" else value

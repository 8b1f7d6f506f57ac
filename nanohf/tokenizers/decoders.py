"""Decoders: tokens -> text, undoing what the pre-tokenizer and model did to spaces and bytes.

    decoders.WordPiece().decode(["un", "##aff", "##able", "!"])    # 'unaffable!'
    decoders.ByteLevel().decode(["Hello", "Ġw", "Ã¶r", "ld"])      # 'Hello wörld'
    decoders.Metaspace().decode(["▁Hey", "▁friend"])              # 'Hey friend'

Each decoder maps the list of token strings to a new list (`decode_chain`), so that they can be chained
(`Sequence`); `decode` joins the result. Rules as in the Rust library (decoders/*.rs).
"""

from .bpe import CHAR_TO_BYTE
from .normalized import find_matches
from .pattern import Regex, pattern_to_dict

# WordPiece's clean-up: no space before punctuation and English contractions.
_CLEANUP = ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
            (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"))


def cleanup(text: str) -> str:
    for before, after in _CLEANUP:
        text = text.replace(before, after)
    return text


class Decoder:
    def decode_chain(self, tokens: list[str]) -> list[str]:
        raise NotImplementedError

    def decode(self, tokens: list[str]) -> str:
        return "".join(self.decode_chain(list(tokens)))

    def to_dict(self) -> dict:
        return {"type": type(self).__name__}

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


class WordPiece(Decoder):
    """Pieces starting with `prefix` glue to the previous token, others get a space; optional clean-up."""

    def __init__(self, prefix: str = "##", cleanup: bool = True):
        self.prefix, self.cleanup = prefix, cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, token in enumerate(tokens):
            if i:
                token = token[len(self.prefix):] if token.startswith(self.prefix) else " " + token
            out.append(cleanup(token) if self.cleanup else token)
        return out

    def to_dict(self) -> dict:
        return {"type": "WordPiece", "prefix": self.prefix, "cleanup": self.cleanup}


class ByteLevel(Decoder):
    """GPT-2's characters back to bytes, then UTF-8 (invalid bytes as U+FFFD). A token with a character
    outside the 256 (an added token) stands for its own UTF-8."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True):
        self.add_prefix_space, self.trim_offsets, self.use_regex = add_prefix_space, trim_offsets, use_regex

    def decode_chain(self, tokens: list[str]) -> list[str]:
        data = bytearray()
        for token in tokens:
            try:
                data.extend(CHAR_TO_BYTE[ch] for ch in token)
            except KeyError:
                data.extend(token.encode("utf-8"))
        return [data.decode("utf-8", errors="replace")]

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}


class Metaspace(Decoder):
    """"▁" back to spaces; in the first token they are dropped (unless prepend_scheme is "never")."""

    def __init__(self, replacement: str = "▁", prepend_scheme: str = "always", split: bool = True):
        if prepend_scheme not in ("always", "never", "first"):
            raise ValueError(f"{prepend_scheme!r} is not a valid prepend_scheme: 'always', 'never' or 'first'")
        self.replacement, self.prepend_scheme, self.split = replacement, prepend_scheme, split

    def decode_chain(self, tokens: list[str]) -> list[str]:
        first = "" if self.prepend_scheme != "never" else " "
        return [token.replace(self.replacement, first if i == 0 else " ") for i, token in enumerate(tokens)]

    def to_dict(self) -> dict:
        return {"type": "Metaspace", "replacement": self.replacement, "prepend_scheme": self.prepend_scheme,
                "split": self.split}


class BPEDecoder(Decoder):
    """The end-of-word suffix ("</w>") becomes a space (nothing after the last token)."""

    def __init__(self, suffix: str = "</w>"):
        self.suffix = suffix

    def decode_chain(self, tokens: list[str]) -> list[str]:
        last = len(tokens) - 1
        return [token.replace(self.suffix, "" if i == last else " ") for i, token in enumerate(tokens)]

    def to_dict(self) -> dict:
        return {"type": "BPEDecoder", "suffix": self.suffix}


class ByteFallback(Decoder):
    """Runs of "<0xNN>" tokens become the text of their bytes (or one U+FFFD per byte if not valid UTF-8)."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out, pending = [], bytearray()

        def flush():
            if pending:
                try:
                    out.append(pending.decode("utf-8"))
                except UnicodeDecodeError:
                    out.extend("\ufffd" * len(pending))
                pending.clear()

        for token in tokens:
            byte = None
            if len(token) == 6 and token.startswith("<0x") and token.endswith(">"):
                try:
                    byte = int(token[3:5], 16)
                except ValueError:
                    byte = None
            if byte is None:
                flush()
                out.append(token)
            else:
                pending.append(byte)
        flush()
        return out


class Fuse(Decoder):
    """All tokens into one string (so later decoders see the whole text)."""

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(tokens)]


class Strip(Decoder):
    """Remove up to `left` leading and `right` trailing `content` characters from every token."""

    def __init__(self, content: str = " ", left: int = 0, right: int = 0):
        self.content, self.left, self.right = content, left, right

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for token in tokens:
            start = 0
            while start < min(self.left, len(token)) and token[start] == self.content:
                start += 1
            stop = len(token)
            for _ in range(self.right):
                if stop > start and token[stop - 1] == self.content:
                    stop -= 1
                else:
                    break
            out.append(token[start:stop])
        return out

    def to_dict(self) -> dict:
        return {"type": "Strip", "content": self.content, "start": self.left, "stop": self.right}


class Replace(Decoder):
    """Replace every match of `pattern` (str or Regex) in each token by `content`."""

    def __init__(self, pattern: str | Regex, content: str):
        self.pattern, self.content = pattern, content

    def decode_chain(self, tokens: list[str]) -> list[str]:
        return ["".join(self.content if is_match else token[a:b] for (a, b), is_match in
                        find_matches(self.pattern, token)) for token in tokens]

    def to_dict(self) -> dict:
        return {"type": "Replace", "pattern": pattern_to_dict(self.pattern), "content": self.content}


class CTC(Decoder):
    """Speech models' output: repeated tokens collapse, pad tokens go, the word delimiter becomes a space."""

    def __init__(self, pad_token: str = "<pad>", word_delimiter_token: str = "|", cleanup: bool = True):
        self.pad_token, self.word_delimiter_token, self.cleanup = pad_token, word_delimiter_token, cleanup

    def decode_chain(self, tokens: list[str]) -> list[str]:
        out = []
        for i, token in enumerate(tokens):
            if i and token == tokens[i - 1] or token == self.pad_token:
                continue
            text = cleanup(token) if self.cleanup else token
            out.append(text.replace(self.word_delimiter_token, " "))
        return [t for t in out if t]

    def to_dict(self) -> dict:
        return {"type": "CTC", "pad_token": self.pad_token, "word_delimiter_token": self.word_delimiter_token,
                "cleanup": self.cleanup}


class Sequence(Decoder):
    def __init__(self, decoders: list):
        self.decoders = list(decoders)

    def decode_chain(self, tokens: list[str]) -> list[str]:
        for decoder in self.decoders:
            tokens = decoder.decode_chain(tokens)
        return tokens

    def __getitem__(self, index: int) -> Decoder:
        return self.decoders[index]

    def to_dict(self) -> dict:
        return {"type": "Sequence", "decoders": [d.to_dict() for d in self.decoders]}


__all__ = ["BPEDecoder", "ByteFallback", "ByteLevel", "CTC", "Decoder", "Fuse", "Metaspace", "Replace", "Sequence",
           "Strip", "WordPiece"]

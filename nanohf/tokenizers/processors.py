"""Post-processors: the last step of encoding, adding the special tokens a model expects around the text(s).

    TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                       special_tokens=[("[CLS]", 101), ("[SEP]", 102)])
    "hi" -> [CLS] hi [SEP];  ("hi", "yo") -> [CLS] hi [SEP] yo [SEP] with type ids 0 0 0 1 1

Each processor turns the list of encodings (one text, or a pair) into the list that gets concatenated
(`process_encodings`), as in the Rust library (processors/*.rs); overflow windows are combined the way
`Encoding.merge` explains. Byte-level processors also trim the spaces ("Ġ") off token offsets.
"""

from .bpe import BYTE_TO_CHAR
from .encoding import Encoding
from .normalized import rust_is_whitespace

_SPACE = BYTE_TO_CHAR[ord(" ")]


def _special(ids: list[int], tokens: list[str], type_id: int) -> Encoding:
    n = len(ids)
    return Encoding(list(ids), [type_id] * n, list(tokens), [(0, 0)] * n, [None] * n, [1] * n, [1] * n)


def mark_sequence(encoding: Encoding, sequence_index: int, type_id: int | None = None) -> None:
    """Record that `encoding` is text number `sequence_index` (and set its type ids). As in the Rust library
    this touches the main window only: overflow windows keep what tokenization gave them."""
    encoding.sequence_ranges[sequence_index] = (0, len(encoding.ids))
    if type_id is not None:
        encoding.type_ids = [type_id] * len(encoding.ids)


def default_process(encodings: list[Encoding]) -> list[Encoding]:
    """No post-processor: a pair's texts are marked as sequences 0 and 1 (their type ids stay 0 and 1)."""
    if len(encodings) > 1:
        for i, encoding in enumerate(encodings):
            mark_sequence(encoding, i)
    return encodings


def trim_offsets(encoding: Encoding, add_prefix_space: bool) -> None:
    """Offsets of byte-level tokens exclude their leading/trailing spaces ("Ġhello" covers "hello"), except
    the one space add_prefix_space itself put in front of the first word. Overflow windows too."""
    offsets = encoding.offsets
    for i, token in enumerate(encoding.tokens):
        start, end = offsets[i]
        lead = 0
        while lead < len(token) and (token[lead] == _SPACE or rust_is_whitespace(token[lead])):
            lead += 1
        if not lead:
            if not token or not (token[-1] == _SPACE or rust_is_whitespace(token[-1])):
                continue
        trail = 0
        while trail < len(token) and (token[-1 - trail] == _SPACE or rust_is_whitespace(token[-1 - trail])):
            trail += 1
        if lead:
            if (i == 0 or start == 0) and add_prefix_space and lead == 1:
                lead = 0
            start = min(start + lead, end)
        if trail and end >= trail:
            end = max(end - trail, start)
        offsets[i] = (start, end)
    for window in encoding.overflowing:
        trim_offsets(window, add_prefix_space)


class PostProcessor:
    """Base class. `process(encoding, pair, add_special_tokens)` returns the final, merged Encoding."""

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 0

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        raise NotImplementedError

    def process(self, encoding: Encoding, pair: Encoding | None = None, add_special_tokens: bool = True) -> Encoding:
        encodings = [encoding] if pair is None else [encoding, pair]
        return Encoding.merge(self.process_encodings(encodings, add_special_tokens))

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.to_dict().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in fields.items())})"


class TemplateProcessing(PostProcessor):
    """Special tokens placed by templates.

    Args:
        single / pair: a str ("[CLS] $A [SEP]") or a list of pieces; "$A"/"$B" (or "$0"/"$1", "$") are the
            texts, anything else a special token; ":n" sets the type id (default 0).
        special_tokens: [(token, id)], or dicts {"id": name, "ids": [...], "tokens": [...]} for a special
            "token" standing for several tokens.
    """

    def __init__(self, single=None, pair=None, special_tokens=None):
        self.single = self._parse(single if single is not None else "$A", "single")
        self.pair = self._parse(pair if pair is not None else "$A $B:1", "pair")
        self.special_tokens = {}
        for item in special_tokens or []:
            if isinstance(item, dict):
                missing = {"id", "ids", "tokens"} - set(item)
                if missing:
                    raise ValueError(f"TemplateProcessing special token {item!r} misses {sorted(missing)}")
                if len(item["ids"]) != len(item["tokens"]):
                    raise ValueError(f"TemplateProcessing special token {item['id']!r}: ids and tokens must have "
                                     "the same length")
                self.special_tokens[item["id"]] = (list(item["ids"]), list(item["tokens"]))
            else:
                token, token_id = item
                if isinstance(token, int):
                    token, token_id = token_id, token
                self.special_tokens[token] = ([token_id], [token])
        for name, template in (("single", self.single), ("pair", self.pair)):
            for kind, value, _ in template:
                if kind == "token" and value not in self.special_tokens:
                    raise ValueError(f"TemplateProcessing: missing SpecialToken(s) with id(s) `{value}` "
                                     f"(used in the {name} template)")
        if not any(kind == "seq" and value == 1 for kind, value, _ in self.pair):
            raise ValueError("TemplateProcessing: the pair template must use both $A and $B")

    @staticmethod
    def _parse(template, name: str) -> list[tuple[str, object, int]]:
        """-> [("seq", 0 or 1, type_id) or ("token", name, type_id)]; also accepts tokenizer.json's form."""
        pieces = template.split() if isinstance(template, str) else list(template)
        out = []
        for piece in pieces:
            if isinstance(piece, dict):  # {"Sequence": {"id": "A", "type_id": 0}} / {"SpecialToken": {...}}
                (kind, body), = piece.items()
                if kind == "Sequence":
                    out.append(("seq", 0 if body["id"] == "A" else 1, body["type_id"]))
                else:
                    out.append(("token", body["id"], body["type_id"]))
                continue
            if not isinstance(piece, str):
                raise TypeError(f"TemplateProcessing {name}: pieces are str or dict, not {type(piece).__name__}")
            body, type_id = piece, 0
            head, sep, tail = piece.rpartition(":")
            if sep and head and tail.isdigit():
                body, type_id = head, int(tail)
            if body.startswith("$"):
                seq = {"": 0, "A": 0, "a": 0, "0": 0, "B": 1, "b": 1, "1": 1}.get(body[1:])
                if seq is None:
                    raise ValueError(f"TemplateProcessing {name}: cannot read {piece!r} (expected $A or $B)")
                out.append(("seq", seq, type_id))
            else:
                out.append(("token", body, type_id))
        return out

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return sum(len(self.special_tokens[v][0]) for kind, v, _ in (self.pair if is_pair else self.single)
                   if kind == "token")

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        parts = []
        for kind, value, type_id in self.pair if len(encodings) > 1 else self.single:
            if kind == "seq":
                encoding = encodings[value]
                # As `tokenizers` 0.23 does: the type id on the main window only, the sequence id on the
                # overflow windows too (measured against it; see tests/test_tokenizers_library.py).
                encoding.type_ids = [type_id] * len(encoding.ids)
                encoding.set_sequence_id(value)
                parts.append(encoding)
            elif add_special_tokens:
                ids, tokens = self.special_tokens[value]
                parts.append(_special(ids, tokens, type_id))
        return [Encoding.merge(parts)]

    @staticmethod
    def _template_dict(template) -> list[dict]:
        return [{"Sequence": {"id": "AB"[value], "type_id": type_id}} if kind == "seq"
                else {"SpecialToken": {"id": value, "type_id": type_id}} for kind, value, type_id in template]

    def to_dict(self) -> dict:
        return {"type": "TemplateProcessing", "single": self._template_dict(self.single),
                "pair": self._template_dict(self.pair),
                "special_tokens": {name: {"id": name, "ids": ids, "tokens": tokens}
                                   for name, (ids, tokens) in self.special_tokens.items()}}


def _wrap(encoding: Encoding, before: list, after: list, sequence_index: int, type_ids=None,
          special_type: int = 0) -> Encoding:
    """`before` + encoding + `after` ((token, id) lists) as one Encoding whose sequence range excludes the
    added tokens; each overflow window wrapped the same way (what BertProcessing / RobertaProcessing do).
    type_ids None keeps the encoding's own, else every token gets `type_ids`."""
    windows = [_wrap(w, before, after, sequence_index, type_ids, special_type) for w in encoding.overflowing]
    n_before, n_after, n = len(before), len(after), len(encoding.ids)
    middle_types = encoding.type_ids if type_ids is None else [type_ids] * n
    out = Encoding(
        [i for _, i in before] + encoding.ids + [i for _, i in after],
        [special_type] * n_before + middle_types + [special_type] * n_after,
        [t for t, _ in before] + encoding.tokens + [t for t, _ in after],
        [(0, 0)] * n_before + encoding.offsets + [(0, 0)] * n_after,
        [None] * n_before + encoding.words + [None] * n_after,
        [1] * n_before + [0] * n + [1] * n_after,
        [1] * (n_before + n + n_after),
        {sequence_index: (n_before, n_before + n)}, windows)
    return out


class BertProcessing(PostProcessor):
    """[CLS] A [SEP] (B [SEP], type id 1); without special tokens the encodings pass unchanged."""

    def __init__(self, sep: tuple[str, int], cls: tuple[str, int]):
        self.sep, self.cls = tuple(sep), tuple(cls)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 3 if is_pair else 2

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if not add_special_tokens:
            return encodings
        out = [_wrap(encodings[0], [self.cls], [self.sep], 0)]
        if len(encodings) > 1:
            out.append(_wrap(encodings[1], [], [self.sep], 1, special_type=1))
        return out

    def to_dict(self) -> dict:
        return {"type": "BertProcessing", "sep": list(self.sep), "cls": list(self.cls)}


class RobertaProcessing(PostProcessor):
    """<s> A </s> (</s> B </s>), every type id 0; byte-level offsets trimmed (trim_offsets)."""

    def __init__(self, sep: tuple[str, int], cls: tuple[str, int], trim_offsets: bool = True,
                 add_prefix_space: bool = True):
        self.sep, self.cls = tuple(sep), tuple(cls)
        self.trim_offsets, self.add_prefix_space = trim_offsets, add_prefix_space

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return 4 if is_pair else 2

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if self.trim_offsets:
            for encoding in encodings:
                trim_offsets(encoding, self.add_prefix_space)
        for encoding in encodings:  # "Roberta is weird, and every encoding is type_id=0" (the Rust source)
            encoding.type_ids = [0] * len(encoding.ids)
        if not add_special_tokens:
            return encodings
        out = [_wrap(encodings[0], [self.cls], [self.sep], 0, type_ids=0)]
        if len(encodings) > 1:
            out.append(_wrap(encodings[1], [self.sep], [self.sep], 1, type_ids=0))
        return out

    def to_dict(self) -> dict:
        return {"type": "RobertaProcessing", "sep": list(self.sep), "cls": list(self.cls),
                "trim_offsets": self.trim_offsets, "add_prefix_space": self.add_prefix_space}


class ByteLevel(PostProcessor):
    """Only trims byte-level offsets (see `trim_offsets`); adds no token."""

    def __init__(self, add_prefix_space: bool = True, trim_offsets: bool = True, use_regex: bool = True):
        self.add_prefix_space, self.trim_offsets, self.use_regex = add_prefix_space, trim_offsets, use_regex

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        if self.trim_offsets:
            for encoding in encodings:
                trim_offsets(encoding, self.add_prefix_space)
        for i, encoding in enumerate(encodings):
            mark_sequence(encoding, i)
        return encodings

    def to_dict(self) -> dict:
        return {"type": "ByteLevel", "add_prefix_space": self.add_prefix_space, "trim_offsets": self.trim_offsets,
                "use_regex": self.use_regex}


class Sequence(PostProcessor):
    """Several processors, each working on what the previous one returned (e.g. ByteLevel then a template)."""

    def __init__(self, processors: list):
        self.processors = list(processors)

    def num_special_tokens_to_add(self, is_pair: bool) -> int:
        return sum(p.num_special_tokens_to_add(is_pair) for p in self.processors)

    def process_encodings(self, encodings: list[Encoding], add_special_tokens: bool) -> list[Encoding]:
        for processor in self.processors:
            encodings = processor.process_encodings(encodings, add_special_tokens)
        return encodings

    def __getitem__(self, index: int) -> PostProcessor:
        return self.processors[index]

    def to_dict(self) -> dict:
        return {"type": "Sequence", "processors": [p.to_dict() for p in self.processors]}


__all__ = ["BertProcessing", "ByteLevel", "PostProcessor", "RobertaProcessing", "Sequence", "TemplateProcessing"]

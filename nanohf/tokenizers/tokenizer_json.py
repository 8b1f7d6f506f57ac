"""tokenizer.json both ways: the file format of the Rust `tokenizers` library (tokenizer/serialization.rs).

    {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [{"id": 0, "content": "[PAD]", ...}],
     "normalizer": {"type": "BertNormalizer", ...}, "pre_tokenizer": {...}, "post_processor": {...},
     "decoder": {...}, "model": {"type": "WordPiece", "vocab": {...}, ...}}

Every component is {"type": name, field: value, ...}; `read` builds them from the tables below, with errors
that name the file, the component and the field; `to_dict` writes the keys in the Rust library's order, so
that `tokenizers` and transformers read what nanohf writes.
"""

import json

from . import decoders, models, normalizers, pre_tokenizers, processors
from .added_vocabulary import AddedToken
from .pattern import pattern_from_dict

_REQUIRED = object()  # marks a field without a default


class _Reader:
    """Reads the fields of one component dict, naming file / component / type in every error."""

    def __init__(self, data, where: str):
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        self.data, self.where = data, where

    def __call__(self, field: str, default=_REQUIRED, kind=None):
        if field not in self.data:
            if default is _REQUIRED:
                raise ValueError(f"{self.where}: missing field {field!r}")
            return default
        value = self.data[field]
        if kind is not None and value is not None and not isinstance(value, kind):
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise ValueError(f"{self.where}: field {field!r} must be {names}, got {value!r}")
        return value

    def pattern(self, field: str = "pattern"):
        return pattern_from_dict(self(field), self.where)

    def behavior(self, default=_REQUIRED) -> str:
        return self("behavior", default, str)


def _unknown(kind: str, name, known, where: str):
    return ValueError(f"{where}: unknown {kind} type {name!r}; nanohf knows {sorted(known)}")


def _component(kind: str, data, table: dict, where: str):
    if data is None:
        return None
    r = _Reader(data, where)
    name = r("type", None)
    if not isinstance(name, str) or name not in table:  # (a list or object is no name, and not hashable)
        raise _unknown(kind, name, table, where)
    r.where = f"{where} ({name})"
    return table[name](r, where)


# ------------------------------------------------------------------ normalizers
_NORMALIZERS = {
    "BertNormalizer": lambda r, w: normalizers.BertNormalizer(
        r("clean_text", True, bool), r("handle_chinese_chars", True, bool), r("strip_accents", None, bool),
        r("lowercase", True, bool)),
    "NFD": lambda r, w: normalizers.NFD(), "NFKD": lambda r, w: normalizers.NFKD(),
    "NFC": lambda r, w: normalizers.NFC(), "NFKC": lambda r, w: normalizers.NFKC(),
    "Lowercase": lambda r, w: normalizers.Lowercase(), "StripAccents": lambda r, w: normalizers.StripAccents(),
    "Strip": lambda r, w: normalizers.Strip(r("strip_left", True, bool), r("strip_right", True, bool)),
    "Replace": lambda r, w: normalizers.Replace(r.pattern(), r("content", kind=str)),
    "Prepend": lambda r, w: normalizers.Prepend(r("prepend", kind=str)),
    "Precompiled": lambda r, w: _precompiled(r),
    "Sequence": lambda r, w: normalizers.Sequence(
        [normalizer(d, f"{w}.normalizers[{i}]") for i, d in enumerate(r("normalizers", kind=list))]),
}


def _precompiled(r):
    try:
        return normalizers.Precompiled(r("precompiled_charsmap", kind=str))
    except ValueError as error:  # base64 errors are ValueErrors too
        raise ValueError(f"{r.where}: field 'precompiled_charsmap': {error}") from None


def normalizer(data, where: str):
    return _component("normalizer", data, _NORMALIZERS, where)


# ------------------------------------------------------------------ pre-tokenizers
def _metaspace(r, w):
    scheme = r("prepend_scheme", None, str)
    if scheme is None:  # files older than prepend_scheme: add_prefix_space true/false
        scheme = "always" if r("add_prefix_space", True, bool) else "never"
    replacement = r("replacement", None, str) or r("str_rep", "▁", str)
    return pre_tokenizers.Metaspace(replacement, scheme, r("split", True, bool))


_PRE_TOKENIZERS = {
    "BertPreTokenizer": lambda r, w: pre_tokenizers.BertPreTokenizer(),
    "Whitespace": lambda r, w: pre_tokenizers.Whitespace(),
    "WhitespaceSplit": lambda r, w: pre_tokenizers.WhitespaceSplit(),
    "ByteLevel": lambda r, w: pre_tokenizers.ByteLevel(r("add_prefix_space", True, bool), r("use_regex", True, bool),
                                                       r("trim_offsets", True, bool)),
    "Metaspace": _metaspace,
    "Punctuation": lambda r, w: pre_tokenizers.Punctuation(r.behavior("Isolated")),
    "Digits": lambda r, w: pre_tokenizers.Digits(r("individual_digits", False, bool)),
    "CharDelimiterSplit": lambda r, w: pre_tokenizers.CharDelimiterSplit(r("delimiter", kind=str)),
    "Split": lambda r, w: pre_tokenizers.Split(r.pattern(), r.behavior(), r("invert", False, bool)),
    "Sequence": lambda r, w: pre_tokenizers.Sequence(
        [pre_tokenizer(d, f"{w}.pretokenizers[{i}]") for i, d in enumerate(r("pretokenizers", kind=list))]),
}


def pre_tokenizer(data, where: str):
    return _component("pre_tokenizer", data, _PRE_TOKENIZERS, where)


# ------------------------------------------------------------------ post-processors
def _pair(r, field: str) -> tuple[str, int]:
    value = r(field, kind=list)
    if len(value) != 2 or not isinstance(value[0], str) or not isinstance(value[1], int):
        raise ValueError(f"{r.where}: field {field!r} must be [token, id], got {value!r}")
    return value[0], value[1]


def _template(r, w):
    special = r("special_tokens", {}, dict)
    items = []
    for name, body in special.items():
        body_reader = _Reader(body, f"{r.where}.special_tokens[{name!r}]")
        items.append({"id": body_reader("id", name, str), "ids": body_reader("ids", kind=list),
                      "tokens": body_reader("tokens", kind=list)})
    try:
        return processors.TemplateProcessing(r("single", kind=list), r("pair", kind=list), items)
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{r.where}: {error}") from None


_PROCESSORS = {
    "TemplateProcessing": _template,
    "BertProcessing": lambda r, w: processors.BertProcessing(_pair(r, "sep"), _pair(r, "cls")),
    "RobertaProcessing": lambda r, w: processors.RobertaProcessing(
        _pair(r, "sep"), _pair(r, "cls"), r("trim_offsets", True, bool), r("add_prefix_space", True, bool)),
    "ByteLevel": lambda r, w: processors.ByteLevel(r("add_prefix_space", True, bool), r("trim_offsets", True, bool),
                                                   r("use_regex", True, bool)),
    "Sequence": lambda r, w: processors.Sequence(
        [post_processor(d, f"{w}.processors[{i}]") for i, d in enumerate(r("processors", kind=list))]),
}


def post_processor(data, where: str):
    return _component("post_processor", data, _PROCESSORS, where)


# ------------------------------------------------------------------ decoders
_DECODERS = {
    "WordPiece": lambda r, w: decoders.WordPiece(r("prefix", "##", str), r("cleanup", True, bool)),
    "ByteLevel": lambda r, w: decoders.ByteLevel(r("add_prefix_space", True, bool), r("trim_offsets", True, bool),
                                                 r("use_regex", True, bool)),
    "Metaspace": lambda r, w: decoders.Metaspace(*_metaspace_fields(r)),
    "BPEDecoder": lambda r, w: decoders.BPEDecoder(r("suffix", "</w>", str)),
    "ByteFallback": lambda r, w: decoders.ByteFallback(),
    "Fuse": lambda r, w: decoders.Fuse(),
    "Strip": lambda r, w: decoders.Strip(r("content", " ", str), r("start", 0, int), r("stop", 0, int)),
    "Replace": lambda r, w: decoders.Replace(r.pattern(), r("content", kind=str)),
    "CTC": lambda r, w: decoders.CTC(r("pad_token", "<pad>", str), r("word_delimiter_token", "|", str),
                                     r("cleanup", True, bool)),
    "Sequence": lambda r, w: decoders.Sequence(
        [decoder(d, f"{w}.decoders[{i}]") for i, d in enumerate(r("decoders", kind=list))]),
}


def _metaspace_fields(r):
    m = _metaspace(r, r.where)
    return m.replacement, m.prepend_scheme, m.split


def decoder(data, where: str):
    return _component("decoder", data, _DECODERS, where)


# ------------------------------------------------------------------ models
def _bpe(r, w):
    merges = r("merges", kind=list)
    pairs = []
    for i, merge in enumerate(merges):
        if isinstance(merge, str):  # older files: "left right"
            merge = merge.split(" ")
        if not isinstance(merge, (list, tuple)) or len(merge) != 2:
            raise ValueError(f"{r.where}: merges[{i}] must be a pair of tokens, got {merges[i]!r}")
        pairs.append(tuple(merge))
    try:
        return models.BPE(r("vocab", kind=dict), pairs, dropout=r("dropout", None, (int, float)),
                          unk_token=r("unk_token", None, str),
                          continuing_subword_prefix=r("continuing_subword_prefix", None, str),
                          end_of_word_suffix=r("end_of_word_suffix", None, str), fuse_unk=r("fuse_unk", False, bool),
                          byte_fallback=r("byte_fallback", False, bool),
                          ignore_merges=r("ignore_merges", False, bool))
    except ValueError as error:
        raise ValueError(f"{r.where}: {error}") from None


def _unigram(r, w):
    vocab = r("vocab", kind=list)
    for i, item in enumerate(vocab):
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (int, float))):
            raise ValueError(f"{r.where}: vocab[{i}] must be [piece, score], got {item!r}")
    try:
        return models.Unigram([tuple(item) for item in vocab], r("unk_id", None, int), r("byte_fallback", False, bool))
    except ValueError as error:
        raise ValueError(f"{r.where}: {error}") from None


_MODELS = {
    "BPE": _bpe,
    "WordPiece": lambda r, w: models.WordPiece(r("vocab", kind=dict), r("unk_token", "[UNK]", str),
                                               r("max_input_chars_per_word", 100, int),
                                               r("continuing_subword_prefix", "##", str)),
    "WordLevel": lambda r, w: models.WordLevel(r("vocab", kind=dict), r("unk_token", None, str)),
    "Unigram": _unigram,
}


def model(data, where: str):
    if data is None:
        raise ValueError(f"{where}: missing the model")
    if isinstance(data, dict) and "type" not in data:  # very old files: the type follows from the fields
        kind = ("BPE" if "merges" in data else "Unigram" if isinstance(data.get("vocab"), list)
                else "WordPiece" if "max_input_chars_per_word" in data else "WordLevel")
        data = {"type": kind, **data}
    return _component("model", data, _MODELS, where)


# ------------------------------------------------------------------ the whole file
_STRATEGY = {"LongestFirst": "longest_first", "OnlyFirst": "only_first", "OnlySecond": "only_second"}
_DIRECTION = {"Left": "left", "Right": "right"}


def _truncation(data, where: str):
    if data is None:
        return None
    r = _Reader(data, where)
    strategy, direction = r("strategy", "LongestFirst", str), r("direction", "Right", str)
    if strategy not in _STRATEGY:
        raise ValueError(f"{where}: unknown strategy {strategy!r}; expected one of {sorted(_STRATEGY)}")
    if direction not in _DIRECTION:
        raise ValueError(f"{where}: unknown direction {direction!r}; expected Left or Right")
    return {"max_length": r("max_length", kind=int), "stride": r("stride", 0, int), "strategy": _STRATEGY[strategy],
            "direction": _DIRECTION[direction]}


def _padding(data, where: str):
    if data is None:
        return None
    r = _Reader(data, where)
    strategy = r("strategy", "BatchLongest")
    if strategy == "BatchLongest":
        length = None
    elif isinstance(strategy, dict) and set(strategy) == {"Fixed"} and isinstance(strategy["Fixed"], int):
        length = strategy["Fixed"]
    else:
        raise ValueError(f"{where}: strategy must be \"BatchLongest\" or {{\"Fixed\": n}}, got {strategy!r}")
    direction = r("direction", "Right", str)
    if direction not in _DIRECTION:
        raise ValueError(f"{where}: unknown direction {direction!r}; expected Left or Right")
    return {"length": length, "pad_to_multiple_of": r("pad_to_multiple_of", None, int), "pad_id": r("pad_id", 0, int),
            "pad_token": r("pad_token", "[PAD]", str), "pad_type_id": r("pad_type_id", 0, int),
            "direction": _DIRECTION[direction]}


def _added_tokens(data, where: str) -> list[tuple[int, AddedToken]]:
    out = []
    for i, item in enumerate(data or []):
        r = _Reader(item, f"{where}[{i}]")
        token = AddedToken(r("content", kind=str), r("single_word", False, bool), r("lstrip", False, bool),
                           r("rstrip", False, bool), r("normalized", True, bool), r("special", False, bool))
        out.append((r("id", kind=int), token))
    return out


def read(data, source: str) -> dict:
    """A parsed tokenizer.json -> {"model", "normalizer", ..., "added_tokens": [(id, AddedToken)]}."""
    r = _Reader(data, source)
    return {
        "model": model(r("model"), f"{source}: model"),
        "normalizer": normalizer(r("normalizer", None), f"{source}: normalizer"),
        "pre_tokenizer": pre_tokenizer(r("pre_tokenizer", None), f"{source}: pre_tokenizer"),
        "post_processor": post_processor(r("post_processor", None), f"{source}: post_processor"),
        "decoder": decoder(r("decoder", None), f"{source}: decoder"),
        "truncation": _truncation(r("truncation", None), f"{source}: truncation"),
        "padding": _padding(r("padding", None), f"{source}: padding"),
        "added_tokens": _added_tokens(r("added_tokens", [], list), f"{source}: added_tokens"),
    }


def to_dict(tokenizer) -> dict:
    """A Tokenizer -> the tokenizer.json structure, keys in the Rust library's order."""
    trunc, pad = tokenizer.truncation, tokenizer.padding
    inverse_strategy = {v: k for k, v in _STRATEGY.items()}
    return {
        "version": "1.0",
        "truncation": None if trunc is None else {
            "direction": trunc["direction"].capitalize(), "max_length": trunc["max_length"],
            "strategy": inverse_strategy[trunc["strategy"]], "stride": trunc["stride"]},
        "padding": None if pad is None else {
            "strategy": "BatchLongest" if pad["length"] is None else {"Fixed": pad["length"]},
            "direction": pad["direction"].capitalize(), "pad_to_multiple_of": pad["pad_to_multiple_of"],
            "pad_id": pad["pad_id"], "pad_type_id": pad["pad_type_id"], "pad_token": pad["pad_token"]},
        "added_tokens": [{"id": token_id, "content": token.content, "single_word": token.single_word,
                          "lstrip": token.lstrip, "rstrip": token.rstrip, "normalized": token.normalized,
                          "special": token.special}
                         for token_id, token in tokenizer.get_added_tokens_decoder().items()],
        "normalizer": None if tokenizer.normalizer is None else tokenizer.normalizer.to_dict(),
        "pre_tokenizer": None if tokenizer.pre_tokenizer is None else tokenizer.pre_tokenizer.to_dict(),
        "post_processor": None if tokenizer.post_processor is None else tokenizer.post_processor.to_dict(),
        "decoder": None if tokenizer.decoder is None else tokenizer.decoder.to_dict(),
        "model": tokenizer.model.to_dict(),
    }


def dumps(data: dict, pretty: bool) -> str:
    """JSON text as the Rust library writes it: compact, or indented by two spaces; non-ASCII kept as is."""
    if pretty:
        return json.dumps(data, ensure_ascii=False, indent=2)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

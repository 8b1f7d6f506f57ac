"""Reading a tokenizer folder: where its files are, and the settings every tokenizer takes from them.

    folder = loading_folder("path/or/cached-name", kwargs)   # hub keywords taken out of kwargs
    config = read_config(folder)                               # tokenizer_config.json + special_tokens_map.json
    settings = common_settings(config, folder)                 # special tokens, sides, added tokens, ...

Every value is checked for its type where it is read, and a wrong one is an error naming the file and the
key (``…/special_tokens_map.json: 'pad_token' must be a string or {"content": ...}, got int 2``), not a
``KeyError`` / ``TypeError`` from deep inside the tokenizer, or at the first call.
"""

import codecs
import os

from nanohf.jsonfile import read_json as read_json_file
from nanohf.models.hub import resolve_checkpoint_dir

from .chat_template import read_chat_templates
from .special_tokens import SPECIAL_TOKEN_NAMES

# from_pretrained arguments about where files come from: nanohf reads local folders (and the local Hugging
# Face cache), so it accepts them and has nothing to do with them.
HUB_ARGUMENTS = ("cache_dir", "force_download", "resume_download", "proxies", "revision", "token", "use_auth_token",
                 "local_files_only", "trust_remote_code", "use_fast", "code_revision", "_from_auto", "_commit_hash",
                 "tokenizer_type", "config", "from_slow", "gguf_file")


def read_json(folder, name):
    """The parsed content of `folder/name`, or {} when the file does not exist; a broken file is an error naming
    it (nanohf/jsonfile.py)."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path):
        return {}
    return read_json_file(path, allow_nan=False)


def _is_token(value) -> bool:
    return isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("content"), str))


def _is_tokens(value) -> bool:
    values = value.values() if isinstance(value, dict) else value
    return isinstance(value, list | dict) and all(_is_token(v) for v in values)


def _is_error_handler(value) -> bool:
    try:
        return isinstance(value, str) and codecs.lookup_error(value) is not None
    except LookupError:
        return False


_BOOL = (lambda v: isinstance(v, bool), "true or false")
# What each key of tokenizer_config.json / special_tokens_map.json a tokenizer reads must hold (null: unset).
CONFIG_TYPES = {
    **{name: (_is_token, 'a string or {"content": ...}') for name in SPECIAL_TOKEN_NAMES},
    "extra_special_tokens": (_is_tokens, "a list (or a name -> token object) of tokens"),
    "additional_special_tokens": (_is_tokens, "a list of tokens"),
    "model_max_length": (lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= 0,
                         "a number >= 0"),
    "padding_side": (lambda v: v in ("left", "right"), "'left' or 'right'"),
    "truncation_side": (lambda v: v in ("left", "right"), "'left' or 'right'"),
    "model_input_names": (lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v), "a list of names"),
    "never_split": (lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v), "a list of strings"),
    "tokenizer_class": (lambda v: isinstance(v, str), "a class name"),
    "errors": (_is_error_handler, "a codecs error handler ('replace', 'strict', ...)"),
    "added_tokens_decoder": (lambda v: isinstance(v, dict) and all(isinstance(t, dict) for t in v.values()),
                             "an object of id -> token objects"),
    **{name: _BOOL for name in ("clean_up_tokenization_spaces", "split_special_tokens", "do_lower_case",
                                "tokenize_chinese_chars", "strip_accents", "add_prefix_space", "trim_offsets",
                                "add_bos_token", "add_eos_token", "legacy")},
}  # fmt: skip


def read_config(folder) -> dict:
    """tokenizer_config.json updated by special_tokens_map.json (the map wins, as in transformers), each file's
    keys checked for their type; an absent file counts as empty."""
    config = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        values = read_json(folder, name)
        for key, value in values.items():
            check, wanted = CONFIG_TYPES.get(key, (None, None))
            if check is not None and value is not None and not check(value):
                raise ValueError(f"{os.path.join(folder, name)}: {key!r} must be {wanted}, got "
                                 f"{type(value).__name__} {value!r:.60}")
        config.update(values)
    return config


def _token_id(value, path: str, where: str) -> int:
    """An added token's id: an int >= 0 (JSON may say 5.0 for 5; anything else is the file's fault)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{path}: {where} must be a token id (an integer >= 0), got {value!r:.60}")
    return value


def _added_tokens(config, folder) -> dict[int, dict]:
    """{id: token object} of tokenizer.json's added_tokens, tokenizer_config.json's added_tokens_decoder and a
    legacy added_tokens.json (in this order of precedence, later ones overriding), each entry checked."""
    path = os.path.join(folder, "tokenizer.json")
    listed = read_json(folder, "tokenizer.json").get("added_tokens") or []
    if not isinstance(listed, list):
        raise ValueError(f"{path}: 'added_tokens' must be a list of token objects, got {type(listed).__name__}")
    added = {}
    for i, token in enumerate(listed):
        if not isinstance(token, dict) or not isinstance(token.get("content"), str):
            raise ValueError(f"{path}: added_tokens[{i}] must be an object with a string 'content', got "
                             f"{token!r:.60}")
        added[_token_id(token.get("id"), path, f"added_tokens[{i}].id")] = token
    path = os.path.join(folder, "tokenizer_config.json")
    for key, token in (config.get("added_tokens_decoder") or {}).items():
        if not key.isdigit() or not isinstance(token.get("content"), str):
            raise ValueError(f"{path}: added_tokens_decoder[{key!r}] must map a token id to an object with a "
                             f"string 'content'")
        added[int(key)] = token
    known = {t["content"] for t in added.values()}
    path = os.path.join(folder, "added_tokens.json")
    vocabulary = " / ".join(name for name in ("tokenizer.json", "vocab.txt", "vocab.json")
                            if os.path.isfile(os.path.join(folder, name)))
    for content, token_id in read_json(folder, "added_tokens.json").items():
        token_id = _token_id(token_id, path, repr(content))
        if content not in known:
            added[token_id] = {"content": content, "file": path, "vocabulary": vocabulary}  # ids checked in base.py
    return added


def read_text(path) -> str:
    """A vocabulary / merges text file, with its line ends read as Python's text mode reads them ("\\r\\n" and
    "\\r" are "\\n", as transformers reads these files); bytes that are not UTF-8 are an error naming it."""
    with open(path, "rb") as f:
        raw = f.read()
    try:
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text (byte {err.start}: {raw[err.start:err.start + 1]!r})") from None


def check_vocab(vocab, where: str) -> dict:
    """``vocab`` as a {token: id} dict of strings and ints >= 0, else an error naming ``where`` and the entry."""
    if not isinstance(vocab, dict):
        raise ValueError(f"{where}: the vocabulary must be an object of token -> id, got {type(vocab).__name__}")
    for token, token_id in vocab.items():
        if isinstance(token_id, bool) or not isinstance(token_id, int) or token_id < 0:
            raise ValueError(f"{where}: the id of token {token!r:.40} must be an integer >= 0, got {token_id!r:.40}")
    if len(set(vocab.values())) < len(vocab):  # two tokens on one id: decoding could not tell them apart
        owner = {}
        for token, token_id in vocab.items():
            if token_id in owner:
                raise ValueError(f"{where}: tokens {owner[token_id]!r:.40} and {token!r:.40} both have id {token_id}")
            owner[token_id] = token
    return vocab


def check_merges(merges, where: str) -> list[tuple[str, str]]:
    """BPE merges ("left right" strings or [left, right] pairs) as pairs, else an error naming ``where``."""
    if not isinstance(merges, list):
        raise ValueError(f"{where}: the merges must be a list, got {type(merges).__name__}")
    pairs = []
    for i, merge in enumerate(merges):
        pair = tuple(merge.split(" ")) if isinstance(merge, str) else merge
        if not isinstance(pair, list | tuple) or len(pair) != 2 or not all(isinstance(p, str) for p in pair):
            raise ValueError(f"{where}: merge {i} must be two tokens ('left right' or [left, right]), got "
                             f"{merge!r:.60}")
        pairs.append(tuple(pair))
    return pairs


def token_content(value):
    """Special tokens are stored either as "[CLS]" or as {"content": "[CLS]", ...}; return the string."""
    return value["content"] if isinstance(value, dict) else value


def loading_folder(name_or_path, kwargs):
    """The local folder to load from, after taking out of `kwargs` the arguments about where files come
    from (cache_dir, revision, token, local_files_only, trust_remote_code, use_fast, ...): nanohf reads
    local folders and the local Hugging Face cache only, and its tokenizers are all fast ones (transformers
    5 ignores use_fast too)."""
    for key in HUB_ARGUMENTS:
        kwargs.pop(key, None)
    kwargs.setdefault("name_or_path", str(name_or_path))  # tokenizer.name_or_path, as transformers keeps it
    folder = resolve_checkpoint_dir(name_or_path)
    subfolder = kwargs.pop("subfolder", None)
    return os.path.join(folder, subfolder) if subfolder else str(folder)


def common_settings(config, folder=None):
    """The keys of a tokenizer_config.json (+ special_tokens_map.json) every tokenizer understands, and
    the added tokens of `folder` (tokenizer.json's added_tokens, then tokenizer_config.json's
    added_tokens_decoder, then a legacy added_tokens.json), each with its id."""
    added = _added_tokens(config, folder) if folder is not None else {}
    known = {t["content"] for t in added.values()}
    # A special token's flags come from the added tokens when they list it, else from its own dict. A token the
    # files set to null is None (the class's default does not come back), as transformers reads them.
    settings = {key: None if config[key] is None else
                token_content(config[key]) if token_content(config[key]) in known else config[key]
                for key in SPECIAL_TOKEN_NAMES if key in config}  # fmt: skip
    if added:
        settings["added_tokens"] = sorted(added.items())
    for key in ("clean_up_tokenization_spaces", "padding_side", "truncation_side", "model_input_names",
                "split_special_tokens"):
        if key in config:
            settings[key] = config[key]
    template = read_chat_templates(folder, config)  # chat_template.jinja, or tokenizer_config.json's
    if template is not None:
        settings["chat_template"] = template
    if config.get("model_max_length") is not None:
        settings["model_max_length"] = config["model_max_length"]
    extra = config.get("extra_special_tokens") or config.get("additional_special_tokens")
    if isinstance(extra, dict):  # named model-specific tokens ({"image_token": "<image>"})
        extra = list(extra.values())
    if isinstance(extra, list):
        settings["extra_special_tokens"] = [token_content(t) for t in extra]
    return settings


def tokenizer_json_model(fast: dict, folder, *keys: str) -> dict:
    """tokenizer.json's ``"model"`` object, with ``keys`` present; otherwise an error naming the file and key."""
    path = os.path.join(folder, "tokenizer.json")
    model = fast.get("model")
    if not isinstance(model, dict):
        raise ValueError(f"{path}: 'model' must be a JSON object, got {type(model).__name__} {model!r:.80}")
    for key in keys:
        if key not in model:
            raise ValueError(f"{path}: 'model' has no {key!r}")
    return model

"""Reading a tokenizer folder: where its files are, and the settings every tokenizer takes from them.

    folder = loading_folder("path/or/cached-name", kwargs)   # hub keywords taken out of kwargs
    settings = common_settings(tokenizer_config, folder)       # special tokens, sides, added tokens, ...
"""

import os

from nanohf.jsonfile import read_json as read_json_file
from nanohf.models.hub import resolve_checkpoint_dir

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
    return read_json_file(path)


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
    folder = resolve_checkpoint_dir(name_or_path)
    subfolder = kwargs.pop("subfolder", None)
    return os.path.join(folder, subfolder) if subfolder else str(folder)

def common_settings(config, folder=None):
    """The keys of a tokenizer_config.json (+ special_tokens_map.json) every tokenizer understands, and
    the added tokens of `folder` (tokenizer.json's added_tokens, then tokenizer_config.json's
    added_tokens_decoder, then a legacy added_tokens.json), each with its id."""
    added = {}
    if folder is not None:
        added = {int(t["id"]): t for t in read_json(folder, "tokenizer.json").get("added_tokens", [])}
        added.update({int(i): t for i, t in (config.get("added_tokens_decoder") or {}).items()})
        known = {t["content"] for t in added.values()}
        for content, token_id in read_json(folder, "added_tokens.json").items():
            if content not in known:
                added[int(token_id)] = {"content": content}
    known = {t["content"] for t in added.values()}
    # A special token's flags come from the added tokens when they list it, else from its own dict.
    settings = {key: token_content(config[key]) if token_content(config[key]) in known else config[key]
                for key in SPECIAL_TOKEN_NAMES if config.get(key) is not None}
    if added:
        settings["added_tokens"] = sorted(added.items())
    for key in ("clean_up_tokenization_spaces", "padding_side", "truncation_side", "model_input_names",
                "split_special_tokens"):
        if key in config:
            settings[key] = config[key]
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

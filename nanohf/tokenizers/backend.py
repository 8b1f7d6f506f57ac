"""`tokenizer.backend_tokenizer`: a nanohf tokenizer seen as the `tokenizers` library's Tokenizer.

transformers' fast tokenizers wrap a Rust `tokenizers.Tokenizer`; the course's chapter 6 looks inside it:

    tok.backend_tokenizer.normalizer.normalize_str("Héllò hôw are ü?")      # 'hello how are u?'
    tok.backend_tokenizer.pre_tokenizer.pre_tokenize_str("Hello, how are  you?")
    tok.backend_tokenizer.encode("Hello world").tokens

nanohf's tokenizers run their own fast paths (wordpiece.py, bpe.py), so the backend is built on first
use from the same vocabulary, settings and added tokens, as the tokenizer.json transformers would write,
and loaded into nanohf's re-telling of the library (nanohf.tokenizers.tokenizer.Tokenizer). It encodes
exactly as the tokenizer does; changing it (backend.normalizer = ...) does not change the tokenizer.
"""

import json


def tokenizer_json(tokenizer) -> dict:
    """The tokenizer.json content of `tokenizer` (the `tokenizers` library's serialisation)."""
    added = [{"id": i, **{k: getattr(t, k) for k in ("content", "single_word", "lstrip", "rstrip", "normalized",
                                                     "special")}}
             for i, t in tokenizer.added_tokens_decoder.items()]
    state = getattr(tokenizer, "_backend_state", None) or {}
    return {"version": "1.0", "truncation": state.get("truncation"), "padding": state.get("padding"),
            "added_tokens": added, **tokenizer._backend_components()}


def backend_tokenizer(tokenizer):
    """The Tokenizer equivalent to `tokenizer`, built once (rebuilt after tokens are added)."""
    if tokenizer._backend_cache is None:
        from .tokenizer import Tokenizer  # the library re-telling; only loaded when someone looks inside

        text = json.dumps(tokenizer_json(tokenizer))
        tokenizer._backend_cache = Tokenizer.from_str(text, source=type(tokenizer).__name__)
    return tokenizer._backend_cache


_STRATEGY_NAMES = {"longest_first": "LongestFirst", "only_first": "OnlyFirst", "only_second": "OnlySecond"}


def follow_call(tokenizer, padding, truncation, max_length, stride, pad_to_multiple_of, padding_side) -> None:
    """transformers sets its backend's truncation and padding to each call's and leaves them so (a call without
    padding switches the backend's off): the backend here follows the calls alike, built or not yet."""
    cut = None if truncation is None else {"max_length": max_length, "stride": stride, "strategy": truncation,
                                          "direction": tokenizer.truncation_side}
    pad = None if padding is None else {
        "length": max_length if padding == "max_length" else None, "pad_to_multiple_of": pad_to_multiple_of,
        "pad_id": tokenizer.pad_token_id, "pad_token": tokenizer.pad_token,
        "pad_type_id": tokenizer.pad_token_type_id, "direction": padding_side}
    # Kept as tokenizer.json writes them, for a backend built (or rebuilt, after add_tokens) later.
    tokenizer._backend_state = None if cut is None and pad is None else {
        "truncation": None if cut is None else {
            "direction": cut["direction"].capitalize(), "max_length": max_length,
            "strategy": _STRATEGY_NAMES[truncation], "stride": stride},
        "padding": None if pad is None else {
            "strategy": "BatchLongest" if pad["length"] is None else {"Fixed": pad["length"]},
            "direction": padding_side.capitalize(), "pad_to_multiple_of": pad_to_multiple_of,
            "pad_id": pad["pad_id"], "pad_type_id": pad["pad_type_id"], "pad_token": pad["pad_token"]}}
    backend = tokenizer._backend_cache
    if backend is None:
        return
    if cut is None:
        backend.no_truncation()
    elif backend.truncation != cut:
        backend.enable_truncation(**cut)
    if pad is None:
        backend.no_padding()
    elif backend.padding != pad:
        backend.enable_padding(**pad)

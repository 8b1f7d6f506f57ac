"""`tokenizer.train_new_from_iterator(texts, vocab_size)`: the same tokenizer, trained again on new text.

The course's chapter 6 trains GPT-2's tokenizer on Python code this way: the new tokenizer keeps everything
but the vocabulary — the normalizer, the pre-tokenizer, the special tokens and where they go — and
learns a new model of the same kind with the trainer of that kind. The steps, as transformers 5's
TokenizersBackend.train_new_from_iterator takes them:

1. The pipeline of the old tokenizer with an empty model of the same type (BPE keeps its
   continuation prefix / end-of-word suffix, WordPiece its unk_token).
2. The special tokens: the old tokenizer's special added tokens in id order (renamed through
   `special_tokens_map`), then `new_special_tokens`. They take the first ids of the new vocabulary.
3. The trainer of the model's type, with `vocab_size`, those special tokens and `**kwargs`; a byte-level
   pre-tokenizer adds the 256 byte characters as the initial alphabet, so any text can still be encoded.
4. Training on `text_iterator` (strings or batches of strings), then a tokenizer of the old one's class
   with the old settings (lower-casing, add_prefix_space, model_max_length, ...) and the new vocabulary.
"""

import json
import os
import tempfile

from .added_vocabulary import AddedToken
from .bpe import GPT2Tokenizer
from .wordpiece import BertTokenizer


def _fresh_pipeline(old):
    """A nanohf.tokenizers.Tokenizer with the old tokenizer's normalizer and pre-tokenizer and an empty model."""
    from . import models, normalizers, pre_tokenizers
    from .tokenizer import Tokenizer

    if isinstance(old, BertTokenizer):
        basic, wordpiece = old.basic_tokenizer, old.wordpiece_tokenizer
        tok = Tokenizer(models.WordPiece(unk_token=wordpiece.unk_token,
                                         max_input_chars_per_word=wordpiece.max_input_chars_per_word))  # fmt: skip
        tok.normalizer = normalizers.BertNormalizer(
            clean_text=True,
            handle_chinese_chars=basic.tokenize_chinese_chars,
            strip_accents=basic.strip_accents,
            lowercase=basic.do_lower_case,
        )
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        return tok
    if isinstance(old, GPT2Tokenizer):  # GPT-2 and RoBERTa: byte-level BPE
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=old.add_prefix_space)
        return tok
    raise ValueError(f"train_new_from_iterator does not support a {type(old).__name__} (BERT's WordPiece and "
                     "GPT-2 / RoBERTa's byte-level BPE tokenizers are supported)")  # fmt: skip


def _special_tokens(old, special_tokens_map: dict | None) -> list[AddedToken]:
    """The old tokenizer's special added tokens in id order, renamed through `special_tokens_map`."""
    rename = special_tokens_map or {}
    tokens = []
    for _, token in sorted(old.added_tokens_decoder.items()):
        if not token.special:
            continue
        content = rename.get(token.content, token.content)
        tokens.append(AddedToken(content, single_word=token.single_word, lstrip=token.lstrip, rstrip=token.rstrip,
                                 normalized=token.normalized, special=True))  # fmt: skip
    return tokens


def _write_vocabulary(old, model, folder: str) -> None:
    """The trained model's vocabulary files, in the names and formats the old tokenizer's class reads."""
    vocab = model.get_vocab()
    by_id = sorted(vocab, key=vocab.get)
    if isinstance(old, BertTokenizer):
        text = "".join(token + "\n" for token in by_id)
        _write(os.path.join(folder, "vocab.txt"), text)
    else:
        _write(os.path.join(folder, "vocab.json"), json.dumps({t: vocab[t] for t in by_id}, ensure_ascii=False))
        merges = json.loads(model_json(model))["merges"]
        _write(os.path.join(folder, "merges.txt"), "#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in merges))


def model_json(model) -> str:
    """The model's part of tokenizer.json (as the `tokenizers` package serializes it)."""
    from .tokenizer import Tokenizer

    return json.dumps(json.loads(Tokenizer(model).to_str())["model"])


def _write(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def train_new_from_iterator(old, text_iterator, vocab_size: int, length: int | None = None,
                            new_special_tokens: list | None = None, special_tokens_map: dict | None = None,
                            **kwargs):  # fmt: skip
    """A tokenizer of `old`'s class and settings with a vocabulary of `vocab_size` learnt from `text_iterator`.

    Args:
        text_iterator: texts, or batches (lists) of texts, e.g. a generator over a dataset.
        vocab_size: size of the new vocabulary, special tokens and alphabet included.
        length: number of items of the iterator (for the progress bar).
        new_special_tokens: more special tokens (str or AddedToken), after the old ones.
        special_tokens_map: {old special token: new one}, to rename special tokens.
        kwargs: passed to the trainer (min_frequency, limit_alphabet, show_progress, ...).
    """
    from . import pre_tokenizers, trainers
    from .fast import PreTrainedTokenizerFast

    if isinstance(old, PreTrainedTokenizerFast):  # T5, ALBERT, XLNet, XLM-R, tokenizer_object=...: via tokenizer.json
        return _train_from_backend(old, text_iterator, vocab_size, length, new_special_tokens, special_tokens_map,
                                   **kwargs)  # fmt: skip
    pipeline = _fresh_pipeline(old)
    special_tokens = _special_tokens(old, special_tokens_map) + list(new_special_tokens or [])
    if isinstance(old, BertTokenizer):
        trainer_class = trainers.WordPieceTrainer
    else:
        trainer_class = trainers.BpeTrainer
        if isinstance(pipeline.pre_tokenizer, pre_tokenizers.ByteLevel):
            kwargs.setdefault("initial_alphabet", pre_tokenizers.ByteLevel.alphabet())
    trainer = trainer_class(vocab_size=vocab_size, special_tokens=special_tokens, **kwargs)
    pipeline.train_from_iterator(text_iterator, trainer=trainer, length=length)
    return _rebuild(old, pipeline, special_tokens_map, new_special_tokens)


def _rebuild(old, pipeline, special_tokens_map: dict | None, new_special_tokens: list | None):
    """A tokenizer of `old`'s class: its saved settings, the new vocabulary, special tokens renamed and
    re-numbered (written to a temporary folder and loaded back with the class's own from_pretrained)."""
    rename = special_tokens_map or {}
    with tempfile.TemporaryDirectory() as folder:
        old.save_pretrained(folder)
        path = os.path.join(folder, "tokenizer_config.json")
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
        for key, value in list(config.items()):
            if key.endswith("_token") and isinstance(value, str):
                config[key] = rename.get(value, value)
            elif key.endswith("_token") and isinstance(value, dict) and "content" in value:
                config[key] = {**value, "content": rename.get(value["content"], value["content"])}
        extra = [rename.get(t, t) for t in config.get("extra_special_tokens") or []]
        extra += [t if isinstance(t, str) else t.content for t in new_special_tokens or []]
        if extra:
            config["extra_special_tokens"] = list(dict.fromkeys(extra))
        # Every added token of the new tokenizer is a special token of the pipeline, with its new id.
        config["added_tokens_decoder"] = {
            str(i): t.to_dict() for i, t in sorted(pipeline.get_added_tokens_decoder().items())
        }
        _write(path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
        special_map = os.path.join(folder, "special_tokens_map.json")
        if os.path.isfile(special_map):
            os.remove(special_map)  # its old names are in tokenizer_config.json already, renamed
        for name in ("tokenizer.json", "added_tokens.json"):
            if os.path.isfile(os.path.join(folder, name)):
                os.remove(os.path.join(folder, name))
        _write_vocabulary(old, pipeline.model, folder)
        return type(old).from_pretrained(folder)


_TRAINERS = {"BPE": "BpeTrainer", "WordPiece": "WordPieceTrainer", "WordLevel": "WordLevelTrainer",
             "Unigram": "UnigramTrainer"}  # fmt: skip


def _train_from_backend(old, text_iterator, vocab_size, length, new_special_tokens, special_tokens_map, **kwargs):
    """transformers' own steps on the backend's tokenizer.json, for a PreTrainedTokenizerFast: empty the
    model, keep the pipeline, train, put the post-processor back with the new ids, and build the class again
    with tokenizer_object=."""
    from . import pre_tokenizers, trainers
    from .tokenizer import Tokenizer

    rename = special_tokens_map or {}
    data = json.loads(old.backend_tokenizer.to_str())
    added_tokens, post_processor = data["added_tokens"], data["post_processor"]
    data["added_tokens"], data["post_processor"] = [], None
    model = data["model"]
    if model["type"] not in _TRAINERS:
        raise ValueError(f"train_new_from_iterator does not support a {model['type']} model")
    unk_token = None
    if model["type"] == "BPE":
        model["vocab"], model["merges"] = {}, []
    elif model["type"] == "Unigram":
        if model.get("unk_id") is not None:
            unk_token = rename.get(model["vocab"][model["unk_id"]][0], model["vocab"][model["unk_id"]][0])
            model["unk_id"], model["vocab"] = 0, [[unk_token, 0.0]]
    else:
        model["vocab"] = {}
    if model.get("unk_token") in rename:
        model["unk_token"] = rename[model["unk_token"]]
    tokenizer = Tokenizer.from_str(json.dumps(data))

    # the old added tokens in id order (all of them for Unigram, the special ones otherwise), renamed
    special_tokens = []
    for token in added_tokens:
        if model["type"] != "Unigram" and not token.get("special"):
            continue
        fields = {k: token[k] for k in ("single_word", "lstrip", "rstrip", "normalized", "special") if k in token}
        special_tokens.append(AddedToken(rename.get(token["content"], token["content"]), **fields))
    special_tokens += list(new_special_tokens or [])
    if model["type"] == "BPE":
        for key in ("continuing_subword_prefix", "end_of_word_suffix"):
            if key not in kwargs and model.get(key) is not None:
                kwargs[key] = model[key]
    if model["type"] == "Unigram" and unk_token is not None:
        kwargs["unk_token"] = unk_token
    pre = data.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" or any(p.get("type") == "ByteLevel" for p in pre.get("pretokenizers", [])):
        kwargs["initial_alphabet"] = pre_tokenizers.ByteLevel.alphabet()
    trainer = getattr(trainers, _TRAINERS[model["type"]])(vocab_size=vocab_size, special_tokens=special_tokens,
                                                          **kwargs)  # fmt: skip
    tokenizer.train_from_iterator(text_iterator, trainer=trainer, length=length)

    if post_processor is not None:
        trained = json.loads(tokenizer.to_str())
        for entry in (post_processor.get("special_tokens") or {}).values():
            entry["tokens"] = [rename.get(t, t) for t in entry["tokens"]]
            entry["ids"] = [_new_id(tokenizer, t) for t in entry["tokens"]]
        for key in ("cls", "sep"):
            if key in post_processor:
                token = rename.get(post_processor[key][0], post_processor[key][0])
                post_processor[key] = [token, _new_id(tokenizer, token)]
        trained["post_processor"] = post_processor
        tokenizer = Tokenizer.from_str(json.dumps(trained))

    settings = dict(old.init_kwargs)
    for name in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
        value = getattr(old, name, None)
        if value is not None:
            settings[name] = rename.get(str(value), str(value))
    extra = [rename.get(str(t), str(t)) for t in (getattr(old, "extra_special_tokens", None) or [])]
    extra += [t if isinstance(t, str) else t.content for t in new_special_tokens or []]
    if extra:
        settings["extra_special_tokens"] = extra
    return type(old)(tokenizer_object=tokenizer, **settings)


def _new_id(tokenizer, token: str) -> int:
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ValueError(f"train_new_from_iterator: the post-processor's token {token!r} is not in the new vocabulary")
    return token_id

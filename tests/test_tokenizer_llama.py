"""The decoder families' tokenizers against transformers 5 on the same folders: Llama 3 (byte-level BPE behind its
own split regex, ignore_merges), Llama 2 and Mistral (SentencePiece BPE with byte fallback, Metaspace) and Qwen2
(byte-level BPE, NFC, its own regex).

Each tokenizer.json is trained on the spot by the Rust `tokenizers` library on Tiny Shakespeare + SST-2, then saved
the way hub checkpoints are (transformers' PreTrainedTokenizerFast / LlamaTokenizerFast, a tokenizer_config.json and
a config.json with the model type); nanohf.AutoTokenizer and transformers.AutoTokenizer must pick the same class and
give identical ids, offsets and decoded text on a few thousand strings: Unicode edge cases (emoji with ZWJ, flags,
combining marks, CJK, NBSP, BOM, control characters, CRLF, runs of spaces and newlines), random strings over a
mixed alphabet, and real lines in upper case.
"""

import json
import random
import shutil
import warnings

import pytest
import tokenizers as T
from test_tokenizers_library import shakespeare, sst2

from nanohf.tokenizers import AutoTokenizer, LlamaTokenizer, PreTrainedTokenizerFast, Qwen2Tokenizer

LLAMA3_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_REGEX = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
EDGE = ["", " ", "  ", "\n", "\n\n", "\t", " \t\n ", "a", " a", "a ", "Hello world", " Hello  world ",
        "I'M HERE, it's 'S", "12345678901", "x=1234.5e-6", "😀", "👩‍👩‍👧", "a😀b", "中文字符", "naïve café", "e\u0301",
        "\r\n", "line\r\nnext", "tabs\tand\ttabs", "   leading", "trailing   ", "<|begin_of_text|>hi<|eot_id|>",
        "<|im_start|>user\nhi<|im_end|>", "<s> </s> <unk>", "<0x41>", "ﬁ ligature", "Ǆ", "İstanbul", "straße",
        "\u00a0nbsp", "\u3000ideographic", "zero\u200bwidth", "😀😀😀 !!!", "...---...", "'''", "''s", "you'll've",
        "ÀÉÎÕÜ", "🇫🇷🇩🇪", "\x00\x01", "\ufeffbom", "▁already▁metaspace", "new\n\n\nlines \n  \n"]


def corpus() -> list[str]:
    return shakespeare(3000) + sst2(1500)


def texts() -> list[str]:
    rng = random.Random(0)
    alphabet = list(" \t\n\r'.,!?-0123456789abcdeABCDEéüß中文😀👍\u0301\u200d\u00a0")
    alphabet += [c for c in (chr(rng.randrange(0x20, 0x2FFFF)) for _ in range(200)) if not 0xD800 <= ord(c) <= 0xDFFF]
    random_strings = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))) for _ in range(1500)]
    return EDGE + random_strings + shakespeare(40000)[-800:] + [s.upper() for s in sst2(3000)[-500:]]


def _write(folder, name, content) -> None:
    (folder / name).write_text(json.dumps(content), encoding="utf-8")


def _transformers_tokenizer(folder):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return transformers.AutoTokenizer.from_pretrained(folder)


def byte_level_bpe(regex: str, specials: list[str], nfc: bool = False) -> T.Tokenizer:
    """Llama 3 (nfc=False) / Qwen2 (nfc=True): Split(regex, isolated) + ByteLevel without its own regex."""
    tok = T.Tokenizer(T.models.BPE(ignore_merges=not nfc))
    if nfc:
        tok.normalizer = T.normalizers.NFC()
    tok.pre_tokenizer = T.pre_tokenizers.Sequence([T.pre_tokenizers.Split(T.Regex(regex), "isolated"),
                                                   T.pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = T.decoders.ByteLevel()
    tok.train_from_iterator(corpus(), T.trainers.BpeTrainer(vocab_size=1200, special_tokens=specials,
                                                            show_progress=False,
                                                            initial_alphabet=T.pre_tokenizers.ByteLevel.alphabet()))
    return tok


def sentencepiece_bpe() -> dict:
    """Llama 2 / Mistral: BPE with byte fallback over Metaspace pieces; the 256 <0xXX> tokens are plain vocabulary
    (not added tokens), as in converted SentencePiece models."""
    tok = T.Tokenizer(T.models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = T.pre_tokenizers.Metaspace(prepend_scheme="first")
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(corpus(), T.trainers.BpeTrainer(vocab_size=1000, special_tokens=specials,
                                                            show_progress=False, limit_alphabet=60))
    data = json.loads(tok.to_str())
    data["added_tokens"] = data["added_tokens"][:3]
    return data


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    import transformers

    out = {}
    # Llama 3: saved by PreTrainedTokenizerFast, config.json says llama
    tok = byte_level_bpe(LLAMA3_REGEX, LLAMA3_SPECIALS)
    tok.post_processor = T.processors.Sequence([
        T.processors.ByteLevel(trim_offsets=False),
        T.processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                        pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                        special_tokens=[("<|begin_of_text|>", 0)])])
    folder = out["llama3"] = tmp_path_factory.mktemp("llama3")
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>",
                                                eos_token="<|eot_id|>")
    fast.save_pretrained(folder)
    _write(folder, "config.json", {"model_type": "llama"})
    # the same file under a hub config naming LlamaTokenizerFast (transformers then runs the file as it is)
    out["llama3-misnamed"] = tmp_path_factory.mktemp("llama3-misnamed")
    shutil.copy(folder / "tokenizer.json", out["llama3-misnamed"])
    _write(out["llama3-misnamed"], "tokenizer_config.json",
           {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"})

    # Llama 2: the file's "<s> $A" post-processor, add_bos_token in the config; re-saved by LlamaTokenizerFast
    data = sentencepiece_bpe()
    holder = T.Tokenizer(T.models.BPE())
    holder.post_processor = T.processors.TemplateProcessing(single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1",
                                                            special_tokens=[("<s>", 1)])
    data["post_processor"] = json.loads(holder.to_str())["post_processor"]
    raw = tmp_path_factory.mktemp("llama2-raw")
    _write(raw, "tokenizer.json", data)
    _write(raw, "tokenizer_config.json", {"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": True,
                                          "add_eos_token": False, "legacy": False, "pad_token": None})
    out["llama2"] = tmp_path_factory.mktemp("llama2")
    _transformers_tokenizer(raw).save_pretrained(out["llama2"])
    _write(out["llama2"], "config.json", {"model_type": "llama"})

    # Mistral: no post-processor in the file, add_bos_token in the config, model type mistral
    data = sentencepiece_bpe()
    data["post_processor"] = None
    folder = out["mistral"] = tmp_path_factory.mktemp("mistral")
    _write(folder, "tokenizer.json", data)
    _write(folder, "tokenizer_config.json", {"tokenizer_class": "LlamaTokenizer", "add_bos_token": True,
                                             "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
                                             "unk_token": "<unk>"})
    _write(folder, "config.json", {"model_type": "mistral"})

    # Qwen2: NFC + its regex, ByteLevel post-processor, no bos
    tok = byte_level_bpe(QWEN2_REGEX, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], nfc=True)
    tok.post_processor = T.processors.ByteLevel(trim_offsets=False)
    folder = out["qwen2"] = tmp_path_factory.mktemp("qwen2")
    tok.save(str(folder / "tokenizer.json"))
    _write(folder, "tokenizer_config.json", {"tokenizer_class": "Qwen2Tokenizer", "bos_token": None,
                                             "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"})
    _write(folder, "config.json", {"model_type": "qwen2"})
    return out


EXPECTED = {"llama3": PreTrainedTokenizerFast, "llama3-misnamed": PreTrainedTokenizerFast, "llama2": LlamaTokenizer,
            "mistral": PreTrainedTokenizerFast, "qwen2": Qwen2Tokenizer}


def _rows(value):
    return [list(map(tuple, row)) for row in value] if value and isinstance(value[0], list) else list(map(tuple, value))


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_ids_offsets_and_decode_identical_to_transformers(kind, folders):
    theirs, ours = _transformers_tokenizer(folders[kind]), AutoTokenizer.from_pretrained(folders[kind])
    assert type(ours) is EXPECTED[kind], type(ours)
    assert type(theirs).__name__ == ("TokenizersBackend" if EXPECTED[kind] is PreTrainedTokenizerFast
                                     else EXPECTED[kind].__name__)
    assert (len(ours), ours.vocab_size, ours.padding_side) == (len(theirs), theirs.vocab_size, theirs.padding_side)
    assert ours.special_tokens_map == theirs.special_tokens_map
    assert (ours.bos_token_id, ours.eos_token_id, ours.pad_token_id) == \
           (theirs.bos_token_id, theirs.eos_token_id, theirs.pad_token_id)
    a, b = json.loads(theirs.backend_tokenizer.to_str()), json.loads(ours.backend_tokenizer.to_str())
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "model"):
        assert a[key] == b[key], key
    inputs = texts()
    differ, byte_fallbacks = [], 0
    for text in inputs:
        x = theirs(text, return_offsets_mapping=True)
        y = ours(text, return_offsets_mapping=True)
        byte_fallbacks += any(t.startswith("<0x") for t in theirs.convert_ids_to_tokens(x["input_ids"]))
        same = (x["input_ids"] == y["input_ids"] and _rows(x["offset_mapping"]) == _rows(y["offset_mapping"])
                and theirs.decode(x["input_ids"]) == ours.decode(x["input_ids"])
                and theirs.decode(x["input_ids"], skip_special_tokens=True)
                == ours.decode(x["input_ids"], skip_special_tokens=True))
        if not same:
            differ.append(text)
    assert not differ, f"{len(differ)} of {len(inputs)} texts differ, e.g. {differ[:3]!r}"
    if kind in ("llama2", "mistral"):
        assert byte_fallbacks > 100, f"only {byte_fallbacks} texts reached the byte fallback"
    # batches: padding on the model's side, pairs, truncation, numpy tensors
    batch = inputs[:40]
    if theirs.pad_token is None:
        theirs.pad_token = ours.pad_token = theirs.eos_token
    for options in (dict(padding=True, return_tensors="np"), dict(text_pair=batch[::-1], truncation=True, max_length=9),
                    dict(padding="max_length", max_length=16, truncation=True, return_offsets_mapping=True)):
        x, y = theirs(batch, **options), ours(batch, **options)
        assert set(x) == set(y), options
        for key in x:
            xs = x[key].tolist() if hasattr(x[key], "tolist") else x[key]
            ys = y[key].tolist() if hasattr(y[key], "tolist") else y[key]
            assert (_rows(xs) if key == "offset_mapping" else xs) == (_rows(ys) if key == "offset_mapping" else ys), \
                (options, key)


@pytest.mark.parametrize("kind", ["llama2", "mistral", "llama3"])
def test_add_bos_and_eos_token_rebuild_the_template_as_transformers(kind, folders):
    import transformers

    for options in (dict(add_bos_token=False), dict(add_eos_token=True), dict(add_bos_token=True, add_eos_token=True)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = transformers.AutoTokenizer.from_pretrained(folders[kind], **options)
        ours = AutoTokenizer.from_pretrained(folders[kind], **options)
        for text, pair in (("Hello world", None), ("a b", "c d")):
            assert ours(text, pair)["input_ids"] == theirs(text, pair)["input_ids"], (options, text)
    ours, theirs = AutoTokenizer.from_pretrained(folders[kind]), _transformers_tokenizer(folders[kind])
    ours.add_eos_token = theirs.add_eos_token = True  # the setter rebuilds the template, as in transformers
    assert ours("Hi there")["input_ids"] == theirs("Hi there")["input_ids"]


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_save_pretrained_loads_back_in_both(kind, folders, tmp_path):
    ours = AutoTokenizer.from_pretrained(folders[kind])
    ours.save_pretrained(tmp_path)
    if (folders[kind] / "config.json").exists():
        shutil.copy(folders[kind] / "config.json", tmp_path)
    theirs, again = _transformers_tokenizer(tmp_path), AutoTokenizer.from_pretrained(tmp_path)
    assert type(again) is type(ours)
    for text in EDGE:
        assert again(text)["input_ids"] == theirs(text)["input_ids"] == ours(text)["input_ids"], repr(text)


CLASS_CHOICES = [("byte", None, None), ("byte", "llama", "PreTrainedTokenizerFast"),
                 ("byte", "llama", "LlamaTokenizer"), ("byte", None, "LlamaTokenizerFast"),
                 ("byte", "llama", "Qwen2Tokenizer"),
                 ("byte", "mistral", "Qwen2Tokenizer"), ("byte", "qwen2", "LlamaTokenizerFast"),
                 ("byte", "qwen2", None), ("sp", None, None), ("sp", "llama", None),
                 ("sp", "llama", "LlamaTokenizerFast"), ("sp", None, "LlamaTokenizer"), ("sp", "mistral", None),
                 ("sp", "mistral", "LlamaTokenizerFast"), ("sp", "llama", "TokenizersBackend")]


def test_autotokenizer_picks_the_class_transformers_picks(folders, tmp_path):
    sources = {"byte": folders["llama3"] / "tokenizer.json", "sp": folders["mistral"] / "tokenizer.json"}
    for i, (kind, model_type, name) in enumerate(CLASS_CHOICES):
        folder = tmp_path / str(i)
        folder.mkdir()
        shutil.copy(sources[kind], folder / "tokenizer.json")
        if model_type:
            _write(folder, "config.json", {"model_type": model_type})
        if name:
            _write(folder, "tokenizer_config.json", {"tokenizer_class": name})
        theirs = type(_transformers_tokenizer(folder)).__name__
        ours = type(AutoTokenizer.from_pretrained(folder)).__name__
        assert ours == {"TokenizersBackend": "PreTrainedTokenizerFast"}.get(theirs, theirs), (kind, model_type, name)

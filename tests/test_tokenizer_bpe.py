"""nanohf's GPT2Tokenizer against transformers', built from the same GPT-2 files."""

import json
import warnings

import numpy as np
import pytest
import tokenizers
import transformers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizer_common import (
    ALL_OUTPUTS,
    TOKENIZERS,
    TRICKY,
    assert_same,
    gpt2_folder,
    mrpc_pairs,
    reference,
    sst2_sentences,
)

from nanohf import AutoTokenizer
from nanohf.tokenizers import GPT2Tokenizer
from nanohf.tokenizers.bpe import BYTE_TO_CHAR, GPT2_PATTERN, merge_pairs


@pytest.fixture(scope="module")
def gpt2():
    return reference("gpt2")


@pytest.fixture(scope="module")
def gpt2_prefix():
    return reference("gpt2", add_prefix_space=True)


def test_sst2_and_mrpc(gpt2, gpt2_prefix):
    for ours, theirs in (gpt2, gpt2_prefix):
        assert_same(ours, theirs, sst2_sentences(), **ALL_OUTPUTS)
    ours, theirs = gpt2
    assert_same(ours, theirs, *mrpc_pairs("dev"), **ALL_OUTPUTS)
    assert_same(ours, theirs, *mrpc_pairs("train"), check_decode=False)


@pytest.mark.parametrize("prefix", [False, True])
def test_tricky_strings(gpt2, gpt2_prefix, prefix):
    ours, theirs = gpt2_prefix if prefix else gpt2
    for text in TRICKY:
        assert ours.tokenize(text) == theirs.tokenize(text), repr(text)
        assert_same(ours, theirs, text, **ALL_OUTPUTS)
    assert_same(ours, theirs, TRICKY, TRICKY[::-1], **ALL_OUTPUTS)
    assert_same(ours, theirs, [t.split(" ") for t in TRICKY], is_split_into_words=True, **ALL_OUTPUTS)


def test_vocabulary_api(gpt2):
    ours, theirs = gpt2
    for name in ("vocab_size", "pad_token", "pad_token_id", "unk_token_id", "bos_token_id", "eos_token_id",
                 "all_special_ids", "all_special_tokens", "model_input_names", "model_max_length"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert len(ours) == len(theirs) == 50257
    tokens = ["Hello", "Ġworld", "<|endoftext|>", "not-a-token"]
    assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
    assert ours.convert_ids_to_tokens([15496, 995, 50256]) == theirs.convert_ids_to_tokens([15496, 995, 50256])
    assert ours("Hello world").input_ids == [15496, 995]
    assert ours(" Hello world").input_ids == [18435, 995]
    assert ours.encode("Hello world") == theirs.encode("Hello world")
    assert ours.tokenize("Hello", "world") == theirs.tokenize("Hello", "world")


def test_bytes_to_unicode_and_pattern():
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    assert BYTE_TO_CHAR == bytes_to_unicode()
    assert BYTE_TO_CHAR[ord(" ")] == "Ġ" and BYTE_TO_CHAR[ord("\n")] == "Ċ"
    assert GPT2_PATTERN.findall("Hello world, it's  me!\n\n  x 123") == [
        "Hello", " world", ",", " it", "'s", " ", " me", "!", "\n\n ", " x", " 123"]


def test_merge_kernel_is_plain_python_underneath(gpt2):
    """The Numba BPE kernel and its Python source (what NUMBA_DISABLE_JIT=1 runs) give the same tokens."""
    ours, _ = gpt2
    words = {w for s in sst2_sentences()[:300] + TRICKY for w in GPT2_PATTERN.findall(s)} | {"a" * 300, "ab" * 50}
    for word in sorted(words):
        ids = ours._byte_ids[np.frombuffer(word.encode("utf-8"), dtype=np.uint8)]
        args = (ours._pair_keys, ours._pair_ranks, ours._pair_ids, len(ours.vocab))
        assert merge_pairs(ids.copy(), *args).tolist() == merge_pairs.py_func(ids.copy(), *args).tolist()
    assert ours.bpe("Ġtokenization") == ["Ġtoken", "ization"]


def test_pattern_matches_tokenizers_on_every_kind_of_character():
    """Letters, digits, whitespace, symbols and the code points Python 3.11 does not know, each in a few
    contexts, split by our pattern and by `tokenizers`' ByteLevel pre-tokenizer (Oniguruma regex)."""
    import unicodedata

    import regex

    newer = regex.compile(r"[\p{L}\p{N}\s]")
    points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and (
        cp % 97 == 0 or unicodedata.category(chr(cp))[0] in "NZC" and unicodedata.category(chr(cp)) != "Co"
        and (unicodedata.category(chr(cp)) != "Cn" or newer.match(chr(cp))))]
    assert len(points) > 15000
    split = tokenizers.pre_tokenizers.Split(tokenizers.Regex(
        r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""), behavior="isolated")
    for start in range(0, len(points), 2000):
        text = "".join(f"a{c}b {c}{c} 1{c}2 !{c}? \n{c} {c}" for c in map(chr, points[start:start + 2000]))
        assert [m.span() for m in GPT2_PATTERN.finditer(text)] == [span for _, span in split.pre_tokenize_str(text)]


def test_no_pad_token_until_one_is_set():
    ours, theirs = reference("gpt2")
    for kwargs in ({"padding": True}, {"padding": "max_length", "max_length": 8}):
        assert_same(ours, theirs, ["a b c", "d"], **kwargs)  # both raise "Asking to pad but ..."
    with pytest.raises(ValueError, match="Asking to pad"):
        ours.pad({"input_ids": [[1, 2], [3]]})
    ours.pad_token = theirs.pad_token = theirs.eos_token
    assert ours.pad_token_id == theirs.pad_token_id == 50256
    for side in ("right", "left"):
        ours.padding_side = theirs.padding_side = side
        assert_same(ours, theirs, ["a b c", "d", ""], ["x", "", "y z"], padding=True, **ALL_OUTPUTS)
        assert_same(ours, theirs, TRICKY, padding="max_length", truncation=True, max_length=6, **ALL_OUTPUTS)


def test_decode(gpt2):
    ours, theirs = gpt2
    ids = theirs(TRICKY + sst2_sentences()[:200])["input_ids"]
    assert ours.batch_decode(ids) == theirs.batch_decode(ids)
    assert ours.decode(ids) == theirs.decode(ids)
    for sample in ([31373, 11, 995], [50256, 15496, 50256], [15496, 99999, 50257], 15496, [], [171, 253], [8582]):
        for skip in (False, True):
            assert ours.decode(sample, skip_special_tokens=skip) == theirs.decode(sample, skip_special_tokens=skip)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # transformers never cleans up BPE output, even when asked to.
        assert ours.decode([31373, 837, 995], clean_up_tokenization_spaces=True) == theirs.decode(
            [31373, 837, 995], clean_up_tokenization_spaces=True) == "hello , world"
    assert ours.convert_tokens_to_string(["Hello", "Ġw", "Ã¶", "rld"]) == "Hello wörld"
    assert ours.convert_tokens_to_string(["ðŁĺ"]) == "\ufffd"  # 3 of an emoji's 4 bytes: errors="replace"


def test_loading_formats_and_auto(tmp_path):
    """encoder.json + vocab.bpe (GPT-2's names), vocab.json + merges.txt, and transformers' tokenizer.json."""
    folder = gpt2_folder(tmp_path)
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1024}))
    theirs = transformers.AutoTokenizer.from_pretrained(folder)
    original = GPT2Tokenizer.from_pretrained(TOKENIZERS / "gpt2")
    renamed = AutoTokenizer.from_pretrained(folder)
    assert type(renamed) is GPT2Tokenizer and renamed.model_max_length == theirs.model_max_length == 1024
    theirs.save_pretrained(tmp_path / "theirs")
    assert not (tmp_path / "theirs" / "vocab.json").exists()  # transformers 5 writes tokenizer.json only
    from_json = AutoTokenizer.from_pretrained(tmp_path / "theirs")
    for ours in (original, renamed, from_json):
        assert ours.bpe_ranks == renamed.bpe_ranks and ours.vocab == renamed.vocab
    assert_same(from_json, theirs, TRICKY, truncation=True, max_length=7, **ALL_OUTPUTS)
    (folder / "config.json").unlink()
    for name in ("GPT2Tokenizer", "GPT2TokenizerFast"):
        (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name}))
        assert type(AutoTokenizer.from_pretrained(folder)) is GPT2Tokenizer


def test_save_pretrained_round_trip(tmp_path):
    ours = GPT2Tokenizer(TOKENIZERS / "gpt2" / "encoder.json", TOKENIZERS / "gpt2" / "vocab.bpe",
                         add_prefix_space=True, model_max_length=12, pad_token="<|endoftext|>", padding_side="left")
    saved = ours.save_pretrained(tmp_path / "saved")
    assert {p.rsplit("/", 1)[1] for p in saved} == {"vocab.json", "merges.txt", "tokenizer.json",
                                                     "tokenizer_config.json", "special_tokens_map.json"}
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    again = AutoTokenizer.from_pretrained(tmp_path / "saved")
    assert type(theirs).__name__ == "GPT2Tokenizer" and theirs.add_prefix_space and theirs.padding_side == "left"
    for tok in (ours, again):
        assert_same(tok, theirs, TRICKY, TRICKY[::-1], truncation=True, padding=True, **ALL_OUTPUTS)


_TEXT = st.one_of(st.text(max_size=30), st.text(st.characters(codec="utf-8", max_codepoint=0x2FF), max_size=30),
                  st.lists(st.sampled_from(["<|endoftext|>", " ", "  ", "\n", "'s", "😀", "é", "a", "1"]),
                           max_size=8).map("".join))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT)
def test_any_string_round_trips(gpt2, text):
    """decode(encode(s)) == s for every string, and every id is inside the vocabulary."""
    ours, theirs = gpt2
    ids = ours.encode(text)
    assert all(0 <= i < len(ours) for i in ids)
    assert ours.decode(ids) == text
    assert ids == theirs.encode(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_TEXT, second=_TEXT)
def test_random_strings_match_transformers(gpt2_prefix, first, second):
    ours, theirs = gpt2_prefix
    assert_same(ours, theirs, [first, second], [second, first], truncation=True, max_length=9, stride=2,
                return_overflowing_tokens=True, **ALL_OUTPUTS)

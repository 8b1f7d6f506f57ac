"""The shared `__call__` machinery against transformers, for BERT and GPT-2: every padding/truncation combination,
overflow windows with stride, offsets, pre-split words, `pad()`, and the BatchEncoding lookups."""

import copy
import importlib
import itertools
import warnings

import numpy as np
import pytest
from test_tokenizer_common import ALL_OUTPUTS, TOKENIZERS, assert_same, reference, sst2_sentences

from nanohf.tokenizers import BertTokenizer, CharSpan, Encoding, TokenSpan

TEXTS = ["a b c d e f g", "Héllo İstanbul 我爱x [MASK] unaffable", "", "  ", "x", "one two three four five six seven"]
PAIRS = ["x y z", "", "alpha beta gamma delta", "我 爱", "q", "r s"]


@pytest.fixture(scope="module", params=["uncased", "gpt2"])
def both(request):
    ours, theirs = reference(request.param, **({"pad_token": "<|endoftext|>", "add_prefix_space": True}
                                               if request.param == "gpt2" else {}))
    yield ours, theirs
    for tok in (ours, theirs):
        tok.padding_side = tok.truncation_side = "right"


@pytest.mark.parametrize("sides", [("right", "right"), ("left", "left"), ("left", "right")], ids=str)
@pytest.mark.parametrize("truncation", [None, True, "only_first", "only_second"])
def test_padding_truncation_overflow_grid(both, sides, truncation):
    """Every combination, on a batch of texts, a batch of pairs and a single pair; rows of every overflow
    window, with offsets, special-token masks and lengths."""
    ours, theirs = both
    ours.padding_side, ours.truncation_side = theirs.padding_side, theirs.truncation_side = sides
    for max_length, stride, padding, multiple in itertools.product(
            [None, 1, 4, 5, 8], [0, 2], [False, True, "max_length"], [None, 4]):
        kwargs = dict(truncation=truncation, max_length=max_length, stride=stride, padding=padding,
                      pad_to_multiple_of=multiple, return_overflowing_tokens=True, **ALL_OUTPUTS)
        assert_same(ours, theirs, TEXTS, check_decode=False, **kwargs)
        assert_same(ours, theirs, TEXTS, PAIRS, check_decode=False, **kwargs)
        assert_same(ours, theirs, TEXTS[1], PAIRS[2], check_decode=False, **kwargs)


@pytest.mark.parametrize("kwargs", [
    {}, {"return_tensors": "np", "padding": True}, {"return_overflowing_tokens": True},
    {"return_overflowing_tokens": True, "return_tensors": "np", "truncation": True, "max_length": 4, "padding": True},
    {"return_offsets_mapping": True, "return_tensors": "np", "padding": "max_length", "max_length": 12},
    {"return_length": True}, {"return_length": True, "padding": True, "pad_to_multiple_of": 8},
    {"add_special_tokens": False, "truncation": True, "max_length": 3, "stride": 1, "return_overflowing_tokens": True},
    {"return_token_type_ids": True, "return_attention_mask": False},
    {"padding": True, "padding_side": "left", "return_special_tokens_mask": True},
    {"truncation": "only_second", "max_length": 4, "stride": 3},  # stride too large for the room left
    {"truncation": "only_first", "max_length": 6, "stride": 1},  # a window would be shorter than the stride
    {"padding": True, "truncation": True, "max_length": 6, "pad_to_multiple_of": 4},  # 6 is not a multiple of 4
    {"padding": "middle"}, {"truncation": "sideways"},
], ids=str)
def test_single_and_batched_shapes(both, kwargs):
    ours, theirs = both
    for args in [("one two three four five",), ("one two three", "four five six"), (["a b c d", "e"],),
                 (["a b c d", "e"], ["f", "g h i j"])]:
        if kwargs.get("return_tensors") != "np" or kwargs.get("padding"):
            assert_same(ours, theirs, *args, **kwargs)


def test_split_into_words(both):
    ours, theirs = both
    words = [["Hello", "wor ld", "[MASK]", "un,aff", "", "<|endoftext|>x"], ["日本語", "é"], []]
    assert_same(ours, theirs, words, is_split_into_words=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, words[0], is_split_into_words=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, words[0], words[1], is_split_into_words=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, words, words[::-1], is_split_into_words=True, truncation=True, max_length=7,
                stride=2, return_overflowing_tokens=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, [], is_split_into_words=True)


def test_offsets_point_into_the_original_text():
    ours, theirs = reference("uncased")
    text = "Héllo,  WÖRLD! 我爱 unaffable\x00x İx e\u0301f"
    enc = assert_same(ours, theirs, text, return_offsets_mapping=True)
    spans = [text[a:b] for a, b in enc.offset_mapping]
    # "\x00" is deleted, "İ" lower-cases and loses its dot, "e\u0301" loses its accent: spans stay in the original.
    assert spans == ["", "Héllo", ",", "WÖRLD", "!", "我", "爱", "una", "ffa", "ble", "x", "İx", "e", "f", ""]
    ours, theirs = reference("gpt2")
    enc = assert_same(ours, theirs, "Hi 😀 there", return_offsets_mapping=True)
    assert enc.offset_mapping == [(0, 2), (2, 4), (3, 4), (4, 10)]  # both halves of the emoji span it all


def test_batch_encoding_lookups():
    ours, theirs = reference("uncased")
    args = (["Hello wonderful world!", "Hi"], ["How are you?", "x"])
    mine, expected = ours(*args, padding=True), theirs(*args, padding=True)
    for i in range(2):
        for token in range(len(mine.input_ids[i]) + 1):
            for name in ("token_to_sequence", "token_to_word", "token_to_chars"):
                assert getattr(mine, name)(i, token) == getattr(expected, name)(i, token), (name, i, token)
        for seq, index in itertools.product((0, 1), range(25)):
            assert mine.char_to_token(i, index, sequence_index=seq) == expected.char_to_token(i, index, seq)
            assert mine.char_to_word(i, index, sequence_index=seq) == expected.char_to_word(i, index, seq)
            assert mine.word_to_tokens(i, index, sequence_index=seq) == expected.word_to_tokens(i, index, seq)
    assert mine.char_to_token(7) == expected.char_to_token(7) == 2  # "w" of "wonderful"
    assert mine.token_to_chars(2) == CharSpan(6, 15) and mine.word_to_tokens(1) == TokenSpan(2, 3)
    assert mine.word_to_chars(0, 2) == expected.word_to_chars(0, 2) == CharSpan(16, 21)
    assert isinstance(mine[0], Encoding) and mine[0].tokens == expected[0].tokens
    assert mine.n_sequences == expected.n_sequences == 2 and mine.is_fast
    assert [e.ids for e in mine[:1]] == mine.input_ids[:1]  # with encodings, a slice gives Encodings
    padded = ours.pad(dict(mine))
    with pytest.raises(ValueError, match="token-level"):
        padded.tokens()


def test_special_tokens_helpers():
    legacy = importlib.import_module("transformers.models.bert.tokenization_bert_legacy")
    vocab = str(TOKENIZERS / "bert-base-uncased" / "vocab.txt")
    ours, slow = BertTokenizer(vocab), legacy.BertTokenizerLegacy(vocab)
    _, fast = reference("uncased")
    a, b = [7592, 2088], [2129, 2024, 2017]
    for second in (None, b):
        assert ours.build_inputs_with_special_tokens(a, second) == slow.build_inputs_with_special_tokens(a, second)
        assert ours.get_special_tokens_mask(a, second) == slow.get_special_tokens_mask(a, second)
        assert (ours.create_token_type_ids_from_sequences(a, second)
                == slow.create_token_type_ids_from_sequences(a, second))
        assert ours.num_special_tokens_to_add(second is not None) == fast.num_special_tokens_to_add(second is not None)
    ids = [101, 7592, 102, 0, 103, 2088, 100]
    assert ours.get_special_tokens_mask(ids, already_has_special_tokens=True) == fast.get_special_tokens_mask(
        ids, already_has_special_tokens=True) == [1, 0, 1, 1, 1, 0, 1]
    with pytest.raises(ValueError, match="second sequence"):
        ours.get_special_tokens_mask(ids, ids, already_has_special_tokens=True)
    assert ours.max_len_single_sentence == fast.max_len_single_sentence
    gpt2, _ = reference("gpt2")
    assert gpt2.build_inputs_with_special_tokens(a, b) == a + b
    assert gpt2.get_special_tokens_mask(a, b) == [0] * 5 and gpt2.num_special_tokens_to_add(True) == 0


def _same_padding(ours, theirs, inputs, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "max_length is ignored when padding=True": both say it
        _compare_padding(ours, theirs, inputs, **kwargs)


def _compare_padding(ours, theirs, inputs, **kwargs):
    try:
        expected = theirs.pad(copy.deepcopy(inputs), **kwargs)
    except ValueError as err:
        with pytest.raises(ValueError, match=str(err)[:18]):
            ours.pad(copy.deepcopy(inputs), **kwargs)
        return
    if any(getattr(v, "dtype", None) is np.dtype(object) for v in expected.values()):
        # transformers turns rows of different lengths into an object array; we say what went wrong.
        with pytest.raises(ValueError, match="different lengths"):
            ours.pad(copy.deepcopy(inputs), **kwargs)
        return
    got = ours.pad(copy.deepcopy(inputs), **kwargs)
    assert list(got.keys()) == list(expected.keys())
    for key, value in expected.items():
        if isinstance(value, np.ndarray):
            assert isinstance(got[key], np.ndarray) and got[key].dtype == value.dtype
            np.testing.assert_array_equal(got[key], value)
        else:
            assert got[key] == value, key


def test_pad_like_a_data_collator(both):
    """Lists of per-example dicts (with a label), dicts of lists, NumPy rows, one example, no mask."""
    ours, theirs = both
    features = [dict(ours(text, return_special_tokens_mask=True), labels=i)
                for i, text in enumerate(["a b c", "hello", "", "one two three four five"])]
    batch = ours(["a b c", "d e f"], return_tensors="np")
    inputs = [features, {k: [f[k] for f in features] for k in features[0]}, dict(features[0]),
              [{k: np.array(v) for k, v in f.items()} for f in features], dict(batch),
              [{"input_ids": f["input_ids"]} for f in features], {"input_ids": []}]
    for example, padding, max_length, multiple, side, mask, tensors in itertools.product(
            inputs, [True, False, "max_length"], [None, 8], [None, 4], [None, "left"], [None, False],
            [None, "np"]):
        _same_padding(ours, theirs, example, padding=padding, max_length=max_length, pad_to_multiple_of=multiple,
                      padding_side=side, return_attention_mask=mask, return_tensors=tensors)


def test_pad_after_map_then_collate():
    """The usual pipeline: tokenize without padding, then pad each batch to its longest row."""
    ours, theirs = reference("uncased")
    rows = ours(sst2_sentences()[:64], truncation=True, max_length=32)
    features = [{k: v[i] for k, v in rows.items()} for i in range(64)]
    got = ours.pad(features, return_tensors="np", pad_to_multiple_of=8)
    expected = theirs(sst2_sentences()[:64], truncation=True, max_length=32, padding=True, pad_to_multiple_of=8,
                      return_tensors="np")
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_bad_arguments(both):
    ours, theirs = both
    for args in [(None,), (5,), ([1, 2],), (["a"], "b"), (["a", "b"], ["c"]), ("a", 7)]:
        assert_same(ours, theirs, *args)
    with pytest.raises(ValueError, match="different lengths"):
        ours(["a b c", "a"], return_tensors="np")  # transformers returns an object array here
    with pytest.raises(ValueError, match="not supported"):
        ours("a", return_tensors="pt")
    assert_same(ours, theirs, "a b c d", max_len=3)  # an unknown keyword is ignored, as transformers does

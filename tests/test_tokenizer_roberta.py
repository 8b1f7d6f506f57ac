"""nanohf's RobertaTokenizer against transformers' RobertaTokenizerFast, loading the same folders.

No RoBERTa files are downloaded: GPT-2's vocabulary, shifted by four to make room for <s> <pad> </s> <unk>
(roberta-base's layout), plus <mask> last, with GPT-2's merges, saved by transformers itself.
"""

import json
import warnings
from functools import cache

import pytest
import transformers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizer_common import ALL_OUTPUTS, DATA, TOKENIZERS, TRICKY, assert_same, mrpc_pairs, sst2_sentences
from tokenizers import AddedToken

from nanohf import AutoTokenizer, RobertaTokenizer

MASK_TRICKY = ["Paris is the <mask> of France.", "a  <mask>  b<mask>\t<mask>", " <mask>", "<mask>", "<mask> x",
               "a\u3000<mask>", "a\x1f<mask>", "<s>x</s> <pad> <unk>", "x <s> y", "no<mask>space", "<mask",
               "Hello world  ", "  Hello", "Hello  \t<mask>world"]


def shakespeare_lines():
    """The first 1,500 lines of Tiny Shakespeare, and 100 ten-line passages (newlines inside)."""
    lines = (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").split("\n")
    return lines[:1500] + ["\n".join(lines[i:i + 10]) for i in range(0, 1000, 10)]


def write_vocab(folder):
    """vocab.json (roberta-base's layout over GPT-2's tokens) and merges.txt into `folder`."""
    gpt2 = json.loads((TOKENIZERS / "gpt2" / "encoder.json").read_text(encoding="utf-8"))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    vocab.update({token: i + 4 for token, i in gpt2.items()})
    vocab["<mask>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_bytes((TOKENIZERS / "gpt2" / "vocab.bpe").read_bytes())
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """{"files": vocab.json + merges.txt only, "saved": transformers' save (tokenizer.json), "lstrip": saved
    with roberta-base's <mask> that takes the whitespace before it}."""
    root = tmp_path_factory.mktemp("roberta_tokenizer")
    raw = write_vocab(root / "files")
    files = dict(vocab=str(raw / "vocab.json"), merges=str(raw / "merges.txt"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # (transformers 5 ignores vocab_file=/merges_file= here and builds a 5-token vocabulary: use vocab=/merges=.)
        transformers.RobertaTokenizerFast(**files).save_pretrained(root / "saved")
        mask = AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False)
        transformers.RobertaTokenizerFast(**files, mask_token=mask).save_pretrained(root / "lstrip")
    return {name: root / name for name in ("files", "saved", "lstrip")}


def pair(folder, **kwargs):
    """(ours, transformers') loaded from `folder` alike; each combination is loaded once (tests never mutate)."""
    return _pair(folder, tuple(sorted(kwargs.items())))


@cache
def _pair(folder, items):
    kwargs = dict(items)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.RobertaTokenizerFast.from_pretrained(folder, **kwargs)
    return RobertaTokenizer.from_pretrained(folder, **kwargs), theirs


@pytest.mark.parametrize("prefix", [False, True])
def test_corpora(folders, prefix):
    """SST-2, MRPC pairs and Shakespeare: ids, offsets, special tokens mask, lengths, tokens, word ids."""
    ours, theirs = pair(folders["saved"], add_prefix_space=prefix)
    assert len(ours) == len(theirs) == 50262
    sst2 = sst2_sentences()[:872] if prefix else sst2_sentences()  # the dev sentences, or all
    assert_same(ours, theirs, sst2, **ALL_OUTPUTS)
    assert_same(ours, theirs, *mrpc_pairs("dev"), **ALL_OUTPUTS)
    assert_same(ours, theirs, shakespeare_lines(), check_decode=prefix, **ALL_OUTPUTS)


@pytest.mark.parametrize("kind", ["saved", "lstrip", "files"])
@pytest.mark.parametrize("prefix", [False, True])
def test_tricky_strings_and_mask(folders, kind, prefix):
    ours, theirs = pair(folders[kind], add_prefix_space=prefix)
    texts = TRICKY + MASK_TRICKY
    for text in texts:
        assert_same(ours, theirs, text, **ALL_OUTPUTS)
    assert_same(ours, theirs, texts, texts[::-1], padding=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, texts, texts[::-1], truncation=True, max_length=9, stride=2,
                return_overflowing_tokens=True, padding=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, texts, truncation="only_first", max_length=7, stride=3, return_overflowing_tokens=True,
                **ALL_OUTPUTS)
    if prefix:  # transformers needs add_prefix_space=True for words
        assert_same(ours, theirs, [t.split(" ") for t in texts], is_split_into_words=True, **ALL_OUTPUTS)


def test_mask_lstrip(folders):
    """roberta-base's <mask> swallows the spaces before it: no "Ġ" token, and its offsets skip them."""
    ours, _ = pair(folders["lstrip"])
    enc = ours("Paris is the  <mask>.", return_offsets_mapping=True)
    assert enc.tokens() == ["<s>", "Paris", "Ġis", "Ġthe", "  <mask>", ".", "</s>"]
    assert enc.offset_mapping[4] == (14, 20) and enc.input_ids[4] == ours.mask_token_id == 50261
    plain, _ = pair(folders["saved"])
    assert plain("the <mask>").tokens() == ["<s>", "the", "Ġ", "<mask>", "</s>"]


def test_special_tokens_and_template(folders):
    ours, theirs = pair(folders["saved"])
    for name in ("bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id", "pad_token_id", "unk_token_id",
                 "mask_token_id", "all_special_ids", "all_special_tokens", "model_input_names", "vocab_size"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours("Hello world", "How are you").input_ids == [0, 15500, 999, 2, 2, 2441, 393, 349, 2]
    a, b = ours.encode("Hello world", add_special_tokens=False), ours.encode("How are you", add_special_tokens=False)
    assert ours.build_inputs_with_special_tokens(a, b) == theirs("Hello world", "How are you").input_ids
    assert ours.build_inputs_with_special_tokens(a) == theirs("Hello world").input_ids
    assert ours.get_special_tokens_mask(a, b) == [1, 0, 0, 1, 1, 0, 0, 0, 1]
    for ids in (ours("Hello <mask> world", "x").input_ids, [0, 5, 50261, 1, 2, 3]):
        expected = theirs.get_special_tokens_mask(ids, already_has_special_tokens=True)
        assert ours.get_special_tokens_mask(ids, already_has_special_tokens=True) == expected
    assert ours.num_special_tokens_to_add(pair=True) == theirs.num_special_tokens_to_add(pair=True) == 4
    assert ours.create_token_type_ids_from_sequences(a, b) == [0] * 9


def test_trim_offsets_off(folders):
    ours, theirs = pair(folders["lstrip"], trim_offsets=False)
    assert_same(ours, theirs, TRICKY + MASK_TRICKY, **ALL_OUTPUTS)
    assert ours("Hello world", return_offsets_mapping=True).offset_mapping == [(0, 0), (0, 5), (5, 11), (0, 0)]


def test_decode(folders):
    ours, theirs = pair(folders["lstrip"])
    ids = theirs(TRICKY + MASK_TRICKY + sst2_sentences()[:100])["input_ids"]
    for skip in (False, True):
        assert ours.batch_decode(ids, skip_special_tokens=skip) == theirs.batch_decode(ids, skip_special_tokens=skip)


def test_auto_tokenizer_and_save_round_trip(folders, tmp_path):
    for kind in ("saved", "lstrip"):
        assert type(AutoTokenizer.from_pretrained(folders[kind])) is RobertaTokenizer
    (folders["files"] / "config.json").write_text('{"model_type": "roberta"}')
    try:
        assert type(AutoTokenizer.from_pretrained(folders["files"])) is RobertaTokenizer
    finally:
        (folders["files"] / "config.json").unlink()
    ours, _ = pair(folders["saved"], add_prefix_space=True)
    ours.save_pretrained(tmp_path / "ours")
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "ours")
    again = AutoTokenizer.from_pretrained(tmp_path / "ours")
    assert type(again) is RobertaTokenizer and theirs.add_prefix_space and again.add_prefix_space
    for tok in (ours, again):
        assert_same(tok, theirs, TRICKY, TRICKY[::-1], truncation=True, max_length=12, padding=True, **ALL_OUTPUTS)
    lstrip, _ = pair(folders["lstrip"])
    lstrip.save_pretrained(tmp_path / "lstrip")  # <mask>'s lstrip survives: added_tokens_decoder
    theirs = transformers.AutoTokenizer.from_pretrained(tmp_path / "lstrip")
    again = AutoTokenizer.from_pretrained(tmp_path / "lstrip")
    mask = again.added_tokens_decoder[again.mask_token_id]
    assert (mask.content, mask.lstrip, mask.rstrip) == ("<mask>", True, False)
    assert theirs("a <mask>").tokens() == ["<s>", "a", " <mask>", "</s>"]
    for tok in (lstrip, again):
        assert_same(tok, theirs, MASK_TRICKY, **ALL_OUTPUTS)


_TEXT = st.one_of(st.text(max_size=30), st.text(st.characters(codec="utf-8", max_codepoint=0x2FF), max_size=30),
                  st.lists(st.sampled_from(["<mask>", "<s>", " ", "  ", "\t", "\n", "'s", "😀", "é", "a", "1"]),
                           max_size=8).map("".join))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=_TEXT, second=_TEXT)
def test_random_strings_match_transformers(folders, first, second):
    ours, theirs = pair(folders["lstrip"], add_prefix_space=True)
    assert_same(ours, theirs, [first, second], [second, first], truncation=True, max_length=9, stride=2,
                return_overflowing_tokens=True, **ALL_OUTPUTS)

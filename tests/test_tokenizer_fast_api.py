"""What users type around a fast tokenizer, side by side with transformers 5's fast tokenizers on the same
folders: from_pretrained's keyword arguments, the ...Fast names, is_fast, the BatchEncoding lookups (the
course's question-answering preprocessing: question + context, truncation="only_second", max_length=384,
stride=128, overflow windows), text_target= labels, add_tokens / add_special_tokens (ids, splitting, decoding,
saving and loading back in both libraries).
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import transformers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tokenizer_common import ALL_OUTPUTS, DATA, TOKENIZERS, TRICKY, assert_same, gpt2_folder, mrpc_pairs
from test_tokenizer_roberta import write_vocab
from tokenizers import AddedToken as RustAddedToken
from tokenizers import Tokenizer as RustTokenizer

import nanohf
from nanohf import AddedToken, AutoTokenizer
from nanohf.tokenizers import BertTokenizer, DistilBertTokenizer, GPT2Tokenizer, RobertaTokenizer

SQUAD = Path(__file__).resolve().parents[1] / "data" / "squad_v2_dev_subset" / "dev-subset.json"
KINDS = ["uncased", "cased", "minilm", "distilbert", "gpt2", "roberta"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory, minilm_dir):
    """Tokenizer folders as transformers 5 saves them (tokenizer.json + tokenizer_config.json), from the
    shipped vocabularies, plus the MiniLM checkpoint's own folder."""
    root = tmp_path_factory.mktemp("fast_api")
    out = {"minilm": minilm_dir}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kind in ("uncased", "cased"):
            vocab = str(TOKENIZERS / f"bert-base-{kind}" / "vocab.txt")
            transformers.BertTokenizer(vocab, do_lower_case=kind == "uncased").save_pretrained(root / kind)
            out[kind] = root / kind
        vocab = str(TOKENIZERS / "bert-base-uncased" / "vocab.txt")
        transformers.DistilBertTokenizer(vocab).save_pretrained(root / "distilbert")
        (root / "distilbert" / "config.json").write_text('{"model_type": "distilbert"}')
        out["distilbert"] = root / "distilbert"
        out["gpt2"] = gpt2_folder(root)
        raw = write_vocab(root / "roberta_files")
        mask = RustAddedToken("<mask>", lstrip=True, rstrip=False, normalized=False)
        transformers.RobertaTokenizerFast(vocab=str(raw / "vocab.json"), merges=str(raw / "merges.txt"),
                                          mask_token=mask).save_pretrained(root / "roberta")
        out["roberta"] = root / "roberta"
    return out


def load_both(folder, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return AutoTokenizer.from_pretrained(folder, **kwargs), transformers.AutoTokenizer.from_pretrained(folder,
                                                                                                           **kwargs)


def squad_examples():
    """(questions, contexts) of the SQuAD v2 dev subset; every fifth context is three paragraphs joined, so that
    at max_length=384 some examples need several overflow windows."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in data for p in article["paragraphs"]]
    questions, contexts = [], []
    for i, paragraph in enumerate(paragraphs[:60]):
        context = paragraph["context"]
        if i % 5 == 0:
            context = " ".join(p["context"] for p in paragraphs[i:i + 3])
        for qa in paragraph["qas"][:2]:
            questions.append(qa["question"])
            contexts.append(context)
    return questions, contexts


# ---------------------------------------------------------------------- names, from_pretrained
def test_fast_names_are_the_same_classes():
    for name in ("BertTokenizer", "DistilBertTokenizer", "GPT2Tokenizer", "RobertaTokenizer"):
        assert getattr(transformers, name + "Fast") is getattr(transformers, name)  # transformers 5: aliases
        assert getattr(nanohf, name + "Fast") is getattr(nanohf, name) is getattr(nanohf.tokenizers, name + "Fast")
    assert not hasattr(transformers.BertTokenizer, "as_target_tokenizer")  # removed in v5: so here too
    assert not hasattr(BertTokenizer, "as_target_tokenizer")


@pytest.mark.parametrize("kind", KINDS)
def test_from_pretrained_keywords(folders, kind):
    """use_fast (ignored by transformers 5, which has only fast tokenizers), the hub's keywords (offline: accepted),
    unknown keywords (kept in init_kwargs), and the ones that change the tokenizer."""
    folder = folders[kind]
    bpe = kind in ("gpt2", "roberta")
    common = [dict(use_fast=False), dict(use_fast=True), dict(return_tensors="np"),
              dict(cache_dir="/nonexistent", revision="main", local_files_only=True, trust_remote_code=False,
                   force_download=False, token=None),
              dict(model_max_length=12, padding_side="left", truncation_side="left"),
              dict(pad_token="<|endoftext|>" if kind == "gpt2" else None)]
    specific = [dict(add_prefix_space=True)] if bpe else [dict(do_lower_case=kind == "cased")]
    specific.append(dict(extra_special_tokens=["<new>", "[unused1]" if not bpe else "Ġthe"]))
    for kwargs in common + specific:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        ours, theirs = load_both(folder, **kwargs)
        assert type(ours).__name__ == type(theirs).__name__, kwargs
        assert ours.is_fast and theirs.is_fast
        for attribute in ("model_max_length", "padding_side", "truncation_side", "vocab_size", "all_special_tokens",
                          "special_tokens_map", "model_input_names", "pad_token_id"):
            assert getattr(ours, attribute) == getattr(theirs, attribute), (kwargs, attribute)
        assert len(ours) == len(theirs), kwargs
        padded = dict(padding=True) if ours.pad_token is not None else {}
        assert_same(ours, theirs, TRICKY[:24], truncation=True, max_length=10, **padded, **ALL_OUTPUTS)
        assert_same(ours, theirs, "Héllo wörld, <new> [unused1] a<new>b", **ALL_OUTPUTS)
    with pytest.raises(FileNotFoundError):
        AutoTokenizer.from_pretrained(folder / "missing", local_files_only=True)
    assert type(getattr(nanohf, type(ours).__name__).from_pretrained(folder, use_fast=False)) is type(ours)


def test_class_from_pretrained_and_subfolder(folders, tmp_path):
    for cls, kind in ((BertTokenizer, "uncased"), (DistilBertTokenizer, "distilbert"), (GPT2Tokenizer, "gpt2"),
                      (RobertaTokenizer, "roberta")):
        theirs = getattr(transformers, cls.__name__).from_pretrained(folders[kind], use_fast=False)
        ours = cls.from_pretrained(folders[kind], use_fast=False, cache_dir=str(tmp_path), revision="main")
        assert ours.init_kwargs.get("use_fast") is None  # a loading option, not the tokenizer's
        assert_same(ours, theirs, ["Hello world!", "a b c"], ["x", "y z"], **ALL_OUTPUTS)
        ours.save_pretrained(tmp_path / "parent" / kind)
        for again in (cls.from_pretrained(tmp_path / "parent", subfolder=kind),
                      AutoTokenizer.from_pretrained(tmp_path / "parent", subfolder=kind, use_fast=True)):
            assert type(again) is cls
            assert_same(again, theirs, "Hello world!", **ALL_OUTPUTS)


def test_special_token_attributes(folders):
    """Setting pad_token (the GPT-2 habit), pad_token_id, extra_special_tokens: as transformers."""
    ours, theirs = load_both(folders["gpt2"])
    for tok in (ours, theirs):
        tok.pad_token = tok.eos_token
    assert ours.pad_token_id == theirs.pad_token_id == 50256
    assert_same(ours, theirs, ["Hello world", "a"], padding=True, return_tensors="np")
    ours, theirs = load_both(folders["uncased"])
    for tok in (ours, theirs):
        tok.pad_token_id = 1
        tok.extra_special_tokens = ["[unused1]"]
    for attribute in ("pad_token", "pad_token_id", "all_special_tokens", "all_special_ids", "extra_special_tokens",
                      "extra_special_tokens_ids", "special_tokens_map"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert_same(ours, theirs, ["Hello [unused1] world", "a"], padding=True, **ALL_OUTPUTS)
    for tok in (ours, theirs):
        tok.pad_token = RustAddedToken("[unused2]")
    assert ours.pad_token == theirs.pad_token == "[unused2]"


# ---------------------------------------------------------------------- BatchEncoding lookups
def _outcome(function, *args, **kwargs):
    """A lookup's result, or "error" (transformers raises ValueError/IndexError/Exception for the same calls)."""
    try:
        value = function(*args, **kwargs)
    except Exception:  # noqa: BLE001 - the kinds of exception differ between the Rust and Python backends
        return "error"
    return tuple(value) if isinstance(value, tuple) else value


def assert_same_lookups(ours, theirs, texts):
    """Every lookup on every row, token, word and character (and one past each end) agrees."""
    assert ours.keys() == theirs.keys()
    assert len(ours.encodings) == len(theirs.encodings)
    count = 0
    for row in range(len(theirs.encodings)):
        assert ours.tokens(row) == theirs.tokens(row)
        assert ours.word_ids(row) == theirs.word_ids(row)
        assert ours.sequence_ids(row) == theirs.sequence_ids(row)
        n_tokens = len(theirs.tokens(row))
        for token in range(n_tokens + 1):
            for name in ("token_to_chars", "token_to_word", "token_to_sequence"):
                assert _outcome(getattr(ours, name), row, token) == _outcome(getattr(theirs, name), row, token), \
                    (name, row, token)
                count += 1
        n_words = max([w for w in theirs.word_ids(row) if w is not None], default=-1) + 2
        for seq in range(theirs.n_sequences):
            for word in range(n_words):
                for name in ("word_to_tokens", "word_to_chars"):
                    assert _outcome(getattr(ours, name), row, word, seq) == \
                        _outcome(getattr(theirs, name), row, word, seq), (name, row, word, seq)
                    count += 1
            n_chars = max(len(t) for t in texts) + 1
            for char in range(n_chars):
                for name in ("char_to_token", "char_to_word"):
                    assert _outcome(getattr(ours, name), row, char, seq) == \
                        _outcome(getattr(theirs, name), row, char, seq), (name, row, char, seq)
                    count += 1
    # The one-argument forms look at row 0.
    for index in range(3):
        for name in ("token_to_chars", "token_to_word", "char_to_token", "word_to_tokens", "char_to_word"):
            assert _outcome(getattr(ours, name), index) == _outcome(getattr(theirs, name), index), (name, index)
    return count


@pytest.mark.parametrize("kind", ["uncased", "minilm", "distilbert", "roberta"])
def test_question_answering_preprocessing(folders, kind):
    """The course's chapter 7 QA features: question + context, only_second, 384 / 128, overflow windows, offsets,
    overflow_to_sample_mapping; then every lookup on every window."""
    ours, theirs = load_both(folders[kind])
    questions, contexts = squad_examples()
    kwargs = dict(max_length=384, truncation="only_second", stride=128, return_overflowing_tokens=True,
                  return_offsets_mapping=True, padding="max_length")
    got = assert_same(ours, theirs, questions, contexts, check_decode=False, **kwargs)
    assert len(got["input_ids"]) > len(questions)  # some examples have several windows
    assert got["overflow_to_sample_mapping"] == assert_same(ours, theirs, questions, contexts, check_decode=False,
                                                            **kwargs)["overflow_to_sample_mapping"]
    # Smaller windows, so that most contexts are cut several times; lookups on all of them.
    small = dict(max_length=64, truncation="only_second", stride=24, return_overflowing_tokens=True,
                 return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
    got = assert_same(ours, theirs, questions[:12], contexts[:12], check_decode=False, **small)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(questions[:12], contexts[:12], **small)
    assert assert_same_lookups(got, expected, questions[:12] + contexts[:12]) > 10_000
    # The validation features of the course: sequence_ids decide which offsets are kept.
    for i in range(len(got["input_ids"])):
        kept = [o if s == 1 else None for o, s in zip(got["offset_mapping"][i], got.sequence_ids(i), strict=True)]
        assert kept == [o if s == 1 else None for o, s in zip(expected["offset_mapping"][i],
                                                              expected.sequence_ids(i), strict=True)]


@pytest.mark.parametrize("kind", ["uncased", "cased", "gpt2", "roberta"])
def test_lookups_on_adversarial_text(folders, kind):
    ours, theirs = load_both(folders[kind])
    texts, pairs = TRICKY, TRICKY[::-1]
    windows = dict(truncation=True, max_length=9, stride=2, return_overflowing_tokens=True)
    for args, kwargs in (((texts,), {}), ((texts, pairs), {}), ((texts, pairs), windows),
                         ((texts[1],), dict(return_offsets_mapping=True))):
        got = assert_same(ours, theirs, *args, check_decode=False, **kwargs)
        if got is None:  # both refused (RoBERTa's pair leaves less room than the stride): nothing to look up
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = theirs(*args, **kwargs)
        assert_same_lookups(got, expected, [t for a in args for t in ([a] if isinstance(a, str) else a)])


def test_lookups_on_mrpc(folders):
    ours, theirs = load_both(folders["cased"])
    first, second = (column[:40] for column in mrpc_pairs("dev"))
    got = assert_same(ours, theirs, first, second, return_offsets_mapping=True, check_decode=False)
    expected = theirs(first, second, return_offsets_mapping=True)
    assert assert_same_lookups(got, expected, first + second) > 40_000


# ---------------------------------------------------------------------- seq2seq labels
@pytest.mark.parametrize("kind", ["uncased", "gpt2", "roberta"])
def test_text_target(folders, kind):
    ours, theirs = load_both(folders[kind], **({"pad_token": "<|endoftext|>"} if kind == "gpt2" else {}))
    sources, targets = ["hello world", "a b c d e f"], ["bonjour le monde", "x"]
    for args, kwargs in (
            ((None,), dict(text_target="bonjour le monde")),
            (("hello world",), dict(text_target="bonjour le monde", text_pair_target="x")),
            ((sources,), dict(text_target=targets, padding=True, return_tensors="np")),
            ((sources,), dict(text_target=targets, truncation=True, max_length=4)),
            ((sources,), dict(text_target=targets, truncation=True, max_length=4, max_target_length=6)),
            ((sources, targets), dict(text_target=targets, text_pair_target=sources, padding="max_length",
                                      max_length=12, **ALL_OUTPUTS)),
            ((None,), dict(text_target=targets, text_pair_target=sources, return_offsets_mapping=True)),
            ((None,), dict(text_pair_target="x"))):  # neither text nor text_target: the same error
        got = assert_same(ours, theirs, *args, check_decode=False, **kwargs)
        if got is not None and args[0] is not None:
            assert "labels" in got
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = theirs(sources, text_target=targets, padding=True, return_tensors="np")["labels"]
    assert np.array_equal(ours(sources, text_target=targets, padding=True, return_tensors="np")["labels"], labels)


# ---------------------------------------------------------------------- added tokens
def _apply(tokenizer, steps, token_class):
    """Run the same add_tokens / add_special_tokens calls; returns what each returned (or "error")."""
    results = []
    for method, args, kwargs in steps:
        args = [_build(a, token_class) for a in args]
        results.append(_outcome(getattr(tokenizer, method), *args, **kwargs))
    return results


def _build(value, token_class):
    """("T", content, flags) -> an AddedToken of the library being called; lists and dicts walked through."""
    if isinstance(value, tuple) and value and value[0] == "T":
        return token_class(value[1], **value[2])
    if isinstance(value, list):
        return [_build(v, token_class) for v in value]
    if isinstance(value, dict):
        return {k: _build(v, token_class) for k, v in value.items()}
    return value


def _flags(tokenizer):
    return {i: (t.content, t.single_word, t.lstrip, t.rstrip, t.normalized, t.special)
            for i, t in tokenizer.added_tokens_decoder.items()}


COMMON_STEPS = [
    ("add_tokens", [["hello", "newword", "NewCased", "new_tok1", "newword"]], {}),
    ("add_tokens", [("T", "foo", dict(single_word=True))], {}),
    ("add_tokens", [[("T", "bar", dict(lstrip=True, rstrip=True))]], {}),
    ("add_tokens", [[("T", "Ünï", dict(normalized=True)), ("T", "Raw", dict(normalized=False))]], {}),
    ("add_tokens", ["我爱"], {}),
    ("add_tokens", [["<x>"]], dict(special_tokens=True)),
    ("add_tokens", [[("T", "<y>", dict(special=True))]], {}),
    ("add_special_tokens", [{"additional_special_tokens": ["<ent>", "<x>"], "pad_token": "<mypad>"}], {}),
    ("add_special_tokens", [{"extra_special_tokens": ["<q>"]}], dict(replace_extra_special_tokens=False)),
    ("add_special_tokens", [{"mask_token": ("T", "<m2>", dict(lstrip=True, special=True, normalized=False))}], {}),
    ("add_tokens", [("T", "foo", dict(single_word=False))], {}),  # the same token with other flags
    ("add_tokens", [""], {}), ("add_tokens", [[]], {}), ("add_special_tokens", [{}], {}),
    ("add_special_tokens", [{"foo_token": "x"}], {}),
    ("add_tokens", [[("T", "ctrl\x00", {}), ("T", "tab\there", {}), ("T", "  ", {}), ("T", "😀", {})]], {}),
]
ADDED_TEXTS = [
    "Hello newword NEWWORD newcased NewCased foo foox xfoo a  bar  b <ent>x<ENT> <mypad> [PAD] hello",
    "newwordnewword", "foo_", "é foo .", "ÜNÏ uni Raw raw 我爱北京 我 爱 我爱", "<x><y> <q>  <m2> a<m2>",
    "[CLS]<ent>[SEP]",
    "ctrl\x00x tab\there tab here  x  😀😀", "<|endoftext|>wörld spaced  y <mask>.", "", "   ",
]


@pytest.mark.parametrize("kind", ["uncased", "cased", "gpt2", "roberta"])
def test_add_tokens_and_special_tokens(folders, kind, tmp_path):
    ours, theirs = load_both(folders[kind])
    steps = list(COMMON_STEPS)
    if kind in ("gpt2", "roberta"):
        steps += [("add_tokens", [["Hello", "wörld", ("T", " spaced ", dict(lstrip=True))]], {}),
                  ("add_special_tokens", [{"cls_token": "<|endoftext|>" if kind == "gpt2" else "<s>"}], {})]
    else:
        steps += [("add_special_tokens", [{"cls_token": "[CLS]"}], {}),
                  ("add_tokens", [[("T", "##ing", {}), ("T", "ΟΔΟΣ", dict(single_word=True))]], {})]
    assert _apply(ours, steps, AddedToken) == _apply(theirs, steps, RustAddedToken)
    assert _flags(ours) == _flags(theirs)
    assert ours.get_vocab() == theirs.get_vocab()
    assert ours.added_tokens_encoder == theirs.added_tokens_encoder
    for attribute in ("vocab_size", "all_special_tokens", "all_special_ids", "extra_special_tokens",
                      "special_tokens_map", "pad_token", "pad_token_id", "mask_token_id"):
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    assert len(ours) == len(theirs)
    added_ids = sorted(theirs.added_tokens_decoder)
    assert ours.convert_ids_to_tokens(added_ids) == theirs.convert_ids_to_tokens(added_ids)
    assert ours.convert_ids_to_tokens(added_ids, skip_special_tokens=True) == \
        theirs.convert_ids_to_tokens(added_ids, skip_special_tokens=True)
    assert ours.convert_tokens_to_ids(["NewCased", "newcased", "<ent>"]) == \
        theirs.convert_tokens_to_ids(["NewCased", "newcased", "<ent>"])
    texts = ADDED_TEXTS + TRICKY
    assert_same(ours, theirs, texts, **ALL_OUTPUTS)
    assert_same(ours, theirs, texts, texts[::-1], truncation=True, max_length=20, padding=True, **ALL_OUTPUTS)
    assert_same(ours, theirs, [t.split(" ") for t in ADDED_TEXTS], is_split_into_words=True, **ALL_OUTPUTS)
    for text in ADDED_TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text)
        ids = theirs(text)["input_ids"]
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip)

    # Saved by nanohf: transformers and nanohf load the same tokenizer; saved by transformers: nanohf loads it.
    ours.save_pretrained(tmp_path / "ours")
    theirs.save_pretrained(tmp_path / "theirs")
    for folder in (tmp_path / "ours", tmp_path / "theirs"):
        again, reference = load_both(folder)
        assert _flags(again) == _flags(reference) == _flags(theirs), folder.name
        assert len(again) == len(reference) == len(theirs)
        assert again.all_special_tokens == reference.all_special_tokens
        assert_same(again, reference, texts, texts[::-1], **ALL_OUTPUTS)
        assert_same(again, theirs, texts, **ALL_OUTPUTS)
    config = json.loads((tmp_path / "ours" / "tokenizer_config.json").read_text())
    assert set(config["added_tokens_decoder"]) == {str(i) for i in theirs.added_tokens_decoder}
    # The tokenizer.json written is the one transformers' backend has; the `tokenizers` package reads it.
    rust = RustTokenizer.from_file(str(tmp_path / "ours" / "tokenizer.json"))
    assert json.loads(rust.to_str()) == json.loads(theirs.backend_tokenizer.to_str())
    for text in texts:
        assert rust.encode(text).ids == theirs.backend_tokenizer.encode(text).ids, text


def test_new_ids_and_resizing(folders):
    """New tokens get the ids after the vocabulary, in order."""
    ours, theirs = load_both(folders["minilm"])
    for tok in (ours, theirs):
        assert tok.add_tokens(["covid", "tokenization"]) == 2  # "tokenization" is not a single token in BERT
        assert tok.add_special_tokens({"extra_special_tokens": ["<ent>"]}) == 1
    assert ours.convert_tokens_to_ids(["covid", "tokenization", "<ent>"]) == [30522, 30523, 30524]
    assert theirs.convert_tokens_to_ids(["covid", "tokenization", "<ent>"]) == [30522, 30523, 30524]
    assert_same(ours, theirs, ["COVID tokenization <ent> tokenizations", "covid-19"], padding=True,
                return_tensors="np")


@pytest.mark.parametrize("kind", ["uncased", "gpt2", "roberta"])
def test_call_keywords(folders, kind, tmp_path):
    """split_special_tokens (per call and per tokenizer, saved), tokenizer_kwargs, unknown keywords: as transformers."""
    ours, theirs = load_both(folders[kind])
    for tok, token_class in ((ours, AddedToken), (theirs, RustAddedToken)):
        tok.add_tokens(["newword", token_class("<sp>", special=True)])
    texts = ["Paris is the [MASK] of <mask>. [CLS] <s></s> <|endoftext|> newword<sp>", "newword [SEP]"]
    for kwargs in (dict(split_special_tokens=True), dict(split_special_tokens=False), dict(foo=1, bar=None),
                   dict(tokenizer_kwargs={"return_offsets_mapping": True, "add_special_tokens": False}),
                   dict(tokenizer_kwargs={"split_special_tokens": True})):
        assert_same(ours, theirs, texts, **kwargs, **ALL_OUTPUTS)
    ours, theirs = load_both(folders[kind], split_special_tokens=True)
    assert ours.split_special_tokens and theirs.split_special_tokens
    assert_same(ours, theirs, texts, **ALL_OUTPUTS)
    assert_same(ours, theirs, texts, split_special_tokens=False)
    ours.save_pretrained(tmp_path)
    for tok in load_both(tmp_path):
        assert tok.split_special_tokens


def test_normalized_follows_special_unless_given(folders):
    """An AddedToken whose `normalized` was not given is not normalised once add_special_tokens makes it special."""
    ours, theirs = load_both(folders["uncased"])
    for tok, token_class in ((ours, AddedToken), (theirs, RustAddedToken)):
        tok.add_special_tokens({"extra_special_tokens": [token_class("aa1", lstrip=True)],
                                "pad_token": token_class("aa6")})
        tok.add_tokens([token_class("aa3", normalized=False), token_class("aa4")], special_tokens=True)
        tok.add_tokens([token_class("aa5", special=True, normalized=True), token_class("AA7")])
    assert _flags(ours) == _flags(theirs)
    assert_same(ours, theirs, "x aa1 AA1 aa3 AA4 aa4 aa5 AA5 aa6 aa7 AA7", **ALL_OUTPUTS)


def test_added_token_object():
    token = AddedToken("<x>", lstrip=True)
    assert (str(token), token.normalized, token.special) == ("<x>", True, False)
    assert AddedToken("<x>", special=True).normalized is False
    assert repr(RustAddedToken("x")) == repr(AddedToken("x"))
    assert AddedToken("x") == AddedToken("x") and AddedToken("x") != AddedToken("x", single_word=True)
    with pytest.raises(TypeError):
        AddedToken(3)
    tok = BertTokenizer(str(DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt"))
    with pytest.raises(ValueError, match="not a valid special token"):
        tok.add_special_tokens({"foo_token": "x"})
    with pytest.raises(TypeError, match="str or an AddedToken"):
        tok.add_tokens([3])


PIECES = ["foo", "bar", "<ent>", "New", "Cased", "cased", " ", "  ", "\t", "x", "_", "é", "É", "我", "爱", "<", ">",
          "[CLS]", "[MASK]", "a", "-", "1", "\u0301", "\x00", "<mask>", "Ġ", "😀", "wörld", "spaced"]


@pytest.fixture(scope="module")
def with_added(folders):
    """(ours, theirs) pairs with single_word / lstrip / rstrip / normalized tokens added, per kind."""
    pairs = {}
    for kind in ("uncased", "gpt2", "roberta"):
        ours, theirs = load_both(folders[kind])
        for tok, token_class in ((ours, AddedToken), (theirs, RustAddedToken)):
            tok.add_tokens([token_class("foo", single_word=True), token_class("bar", lstrip=True, rstrip=True),
                            "NewCased", token_class("我爱", normalized=False), token_class("x_", rstrip=True),
                            token_class("é", single_word=True, normalized=False)])
            tok.add_special_tokens({"extra_special_tokens": ["<ent>", token_class("spaced", lstrip=True)]})
        pairs[kind] = (ours, theirs)
    return pairs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), max_size=14), st.sampled_from(["uncased", "gpt2", "roberta"]))
def test_random_text_with_added_tokens(with_added, pieces, kind):
    ours, theirs = with_added[kind]
    text = "".join(pieces)
    assert_same(ours, theirs, text, **ALL_OUTPUTS)
    assert_same(ours, theirs, [text, text[::-1]], [text[1:], text], **ALL_OUTPUTS)


# ---------------------------------------------------------------------- backend_tokenizer
CHAPTER_6 = ["Héllò hôw are ü?", "Hello, how are  you?", "Let's test this tokenizer.", "Let's test my pre-tokenizer.",
             "My name is Sylvain and I work at Hugging Face in Brooklyn.", "This is the Hugging Face Course.",
             "81s", "Hello world!", "我爱北京 naïve café", "Paris is the <mask> of France. [MASK]"]


@pytest.mark.parametrize("kind", KINDS + ["gpt2_prefix", "added"])
def test_backend_tokenizer(folders, kind):
    """tok.backend_tokenizer is the `tokenizers` Tokenizer transformers' has: the same tokenizer.json, and the
    same normalize_str / pre_tokenize_str / encode / decode on the course's chapter 6 examples and TRICKY."""
    folder = folders["uncased" if kind == "added" else kind.removesuffix("_prefix")]
    ours, theirs = load_both(folder, **({"add_prefix_space": True} if kind == "gpt2_prefix" else {}))
    if kind == "added":
        for tok, token_class in ((ours, AddedToken), (theirs, RustAddedToken)):
            tok.add_tokens(["NewCased", token_class("bar", lstrip=True, rstrip=True)])
            tok.add_special_tokens({"extra_special_tokens": ["<ent>"]})
    mine, reference = ours.backend_tokenizer, theirs.backend_tokenizer
    assert ours.backend_tokenizer is mine  # built once
    assert json.loads(mine.to_str()) == json.loads(reference.to_str())
    assert mine.get_vocab_size() == reference.get_vocab_size() == len(theirs)
    texts = CHAPTER_6 + TRICKY + ["NEWCASED a  bar  b<ent>"]
    for text in texts:
        if reference.normalizer is not None:
            assert mine.normalizer.normalize_str(text) == reference.normalizer.normalize_str(text), text
        else:
            assert mine.normalizer is None
        assert mine.pre_tokenizer.pre_tokenize_str(text) == reference.pre_tokenizer.pre_tokenize_str(text), text
        for pair in (None, "and a second text"):
            got, expected = mine.encode(text, pair), reference.encode(text, pair)
            for field in ("ids", "tokens", "offsets", "word_ids", "type_ids", "attention_mask", "special_tokens_mask"):
                assert getattr(got, field) == getattr(expected, field), (text, pair, field)
            # A call sets the backend's truncation/padding to its own (here: off) in both libraries.
            assert ours(text, pair)["input_ids"] == theirs(text, pair)["input_ids"]
            assert mine.padding == reference.padding and mine.truncation == reference.truncation
        ids = theirs(text)["input_ids"]
        for skip in (False, True):
            assert mine.decode(ids, skip_special_tokens=skip) == reference.decode(ids, skip_special_tokens=skip)
    padding = dict(padding="max_length", pad_to_multiple_of=8) if ours.pad_token is not None else {}
    for tok in (ours, theirs):  # the backend follows the last call's settings
        tok(texts[:3], texts[3:6], truncation="only_second", max_length=24, stride=2, **padding)
    assert mine.padding == reference.padding and mine.truncation == reference.truncation
    assert [e.ids for e in mine.encode_batch(texts[:4])] == [e.ids for e in reference.encode_batch(texts[:4])]
    # A change of vocabulary shows in a freshly built backend.
    ours.add_tokens(["zzqq"])
    theirs.add_tokens(["zzqq"])
    assert ours.backend_tokenizer is not mine
    assert ours.backend_tokenizer.encode("a zzqq").ids == theirs.backend_tokenizer.encode("a zzqq").ids

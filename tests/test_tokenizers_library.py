"""nanohf.tokenizers' re-telling of the `tokenizers` library, side by side with the installed package.

Every component (normalizers, pre-tokenizers, models, processors, decoders) and whole pipelines are built
with `tokenizers`, loaded into nanohf from the package's own tokenizer.json, and compared on shipped text
(SST-2, Tiny Shakespeare, WNUT-17) and on random Unicode from hypothesis: ids, tokens, offsets, word ids,
type ids, sequence ids, masks, overflow windows and decoded text must be identical.
"""

import json
from pathlib import Path
from re import escape as regex_escape

import pytest
import tokenizers as T
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanohf.tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED = DATA  # the shipped copies of ../shared/data (data/README.md)
FIELDS = ("ids", "tokens", "offsets", "word_ids", "type_ids", "sequence_ids", "special_tokens_mask", "attention_mask")
# Random text: any code point but surrogates, with spaces, combining marks, CJK and emoji made frequent.
UNICODE = st.text(st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from(" \t\n\u0301\u4e2d😀é")),
                  max_size=40)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sst2(n: int) -> list[str]:
    lines = (DATA / "glue_sst2" / "train.tsv").read_text(encoding="utf-8").split("\n")[1:]
    return [line.split("\t")[0] for line in lines if line][:n]


def shakespeare(n: int) -> list[str]:
    return [line for line in (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8").split("\n")
            if line][:n]


def wnut(n: int) -> list[str]:
    sentences, words = [], []
    for line in (SHARED / "wnut17" / "wnut17train.conll").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            words.append(line.split("\t")[0])
        elif words:
            sentences.append(" ".join(words))
            words = []
    return sentences[:n]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return sst2(600) + shakespeare(600) + wnut(400)


def assert_same_encoding(ours, ref, label, windows=True):
    """Every column equal, and each overflow window's. (Windows of windows are not compared: the Rust library
    leaves cross-product leftovers there when a pair is merged, which nothing reads; nanohf keeps none.)"""
    for field in FIELDS:
        assert getattr(ours, field) == getattr(ref, field), f"{label}: {field} differs"
    if windows:
        assert len(ours.overflowing) == len(ref.overflowing), f"{label}: number of overflow windows"
        for i, (a, b) in enumerate(zip(ours.overflowing, ref.overflowing, strict=True)):
            assert_same_encoding(a, b, f"{label} overflow {i}", windows=False)


def compare(ref: T.Tokenizer, inputs, pair=None, ours: Tokenizer | None = None):
    """Load `ref`'s tokenizer.json in nanohf (unless given); encode and decode every input both ways."""
    ours = Tokenizer.from_str(ref.to_str()) if ours is None else ours
    for text in inputs:
        a, b = ours.encode(text, pair), ref.encode(text, pair)
        assert_same_encoding(a, b, repr(text))
        assert ours.decode(a.ids) == ref.decode(b.ids), repr(text)
        assert ours.decode(a.ids, skip_special_tokens=False) == ref.decode(b.ids, skip_special_tokens=False)
    return ours


# ------------------------------------------------------------------ reference pipelines
def bert_reference(cased: bool = False) -> T.Tokenizer:
    """As transformers' BertConverter builds bert-base-(un)cased's tokenizer.json."""
    name = "bert-base-cased" if cased else "bert-base-uncased"
    tokens = (SHARED / "tokenizers" / name / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = T.Tokenizer(T.models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = T.normalizers.BertNormalizer(lowercase=not cased)
    tok.pre_tokenizer = T.pre_tokenizers.BertPreTokenizer()
    tok.post_processor = T.processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.decoder = T.decoders.WordPiece()
    tok.add_special_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    return tok


def gpt2_reference(add_prefix_space: bool = False, roberta: bool = False) -> T.Tokenizer:
    """GPT-2's byte-level BPE (GPT2Converter), or RoBERTa's processing on top of it."""
    vocab = json.loads((SHARED / "tokenizers" / "gpt2" / "encoder.json").read_text(encoding="utf-8"))
    lines = (SHARED / "tokenizers" / "gpt2" / "vocab.bpe").read_text(encoding="utf-8").split("\n")[1:]
    tok = T.Tokenizer(T.models.BPE(vocab, [tuple(line.split(" ")) for line in lines if line]))
    tok.pre_tokenizer = T.pre_tokenizers.ByteLevel(add_prefix_space=add_prefix_space)
    tok.decoder = T.decoders.ByteLevel()
    eos = ("<|endoftext|>", 50256)
    tok.post_processor = (T.processors.RobertaProcessing(eos, eos, add_prefix_space=add_prefix_space) if roberta
                          else T.processors.ByteLevel(trim_offsets=False))
    tok.add_special_tokens(["<|endoftext|>"])
    return tok


@pytest.fixture(scope="module")
def bert_uncased():
    return bert_reference()


@pytest.fixture(scope="module")
def bert_pair(bert_uncased):
    return bert_uncased, Tokenizer.from_str(bert_uncased.to_str())


@pytest.fixture(scope="module")
def gpt2_pair():
    ref = gpt2_reference()
    return ref, Tokenizer.from_str(ref.to_str())


@pytest.mark.parametrize("name", ["bert-uncased", "bert-cased", "gpt2", "gpt2-prefix-space", "roberta"])
def test_pipelines_on_shipped_text(name, texts):
    ref = {"bert-uncased": lambda: bert_reference(), "bert-cased": lambda: bert_reference(True),
           "gpt2": lambda: gpt2_reference(), "gpt2-prefix-space": lambda: gpt2_reference(True),
           "roberta": lambda: gpt2_reference(True, True)}[name]()
    compare(ref, texts)
    compare(ref, texts[:200], pair="And a second text, with [SEP] in it.")


@FUZZ
@given(text=UNICODE, pair=st.one_of(st.none(), UNICODE))
def test_bert_pipeline_on_random_unicode(bert_pair, text, pair):
    compare(bert_pair[0], [text], pair, ours=bert_pair[1])


@FUZZ
@given(text=UNICODE, pair=st.one_of(st.none(), UNICODE))
def test_gpt2_pipeline_on_random_unicode(gpt2_pair, text, pair):
    compare(gpt2_pair[0], [text], pair, ours=gpt2_pair[1])


# ------------------------------------------------------------------ components one by one
NORMALIZERS = {
    "BertNormalizer": ({}, {}), "BertNormalizer-cased": ({"lowercase": False}, {"lowercase": False}),
    "BertNormalizer-strip": ({"lowercase": False, "strip_accents": True},) * 2,
    "NFD": ({}, {}), "NFKD": ({}, {}), "NFC": ({}, {}), "NFKC": ({}, {}), "Lowercase": ({}, {}),
    "StripAccents": ({}, {}), "Strip": ({}, {}), "Strip-left": ({"left": True, "right": False},) * 2,
}


def _pair_of(module_ours, module_ref, name, kwargs_ours, kwargs_ref):
    cls = name.split("-")[0]
    return getattr(module_ours, cls)(**kwargs_ours), getattr(module_ref, cls)(**kwargs_ref)


@pytest.mark.parametrize("name", sorted(NORMALIZERS))
@FUZZ
@given(text=UNICODE)
def test_normalizers(name, text):
    ours, ref = _pair_of(normalizers, T.normalizers, name, *NORMALIZERS[name])
    assert ours.normalize_str(text) == ref.normalize_str(text)


def test_replace_prepend_sequence_normalizers(texts):
    pairs = [
        (normalizers.Replace(" ", "▁"), T.normalizers.Replace(" ", "▁")),
        (normalizers.Replace(Regex(r"\s+"), " "), T.normalizers.Replace(T.Regex(r"\s+"), " ")),
        (normalizers.Replace("ab", ""), T.normalizers.Replace("ab", "")),
        (normalizers.Prepend("▁"), T.normalizers.Prepend("▁")),
        (normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()]),
         T.normalizers.Sequence([T.normalizers.NFD(), T.normalizers.StripAccents(), T.normalizers.Lowercase()])),
    ]
    for ours, ref in pairs:
        for text in texts[:500] + ["Héllò hôw are ü?", "abab cab", "  x  "]:
            assert ours.normalize_str(text) == ref.normalize_str(text), (ours, text)


PRE_TOKENIZERS = {
    "BertPreTokenizer": ({}, {}), "Whitespace": ({}, {}), "WhitespaceSplit": ({}, {}), "ByteLevel": ({}, {}),
    "ByteLevel-noprefix": ({"add_prefix_space": False},) * 2, "Metaspace": ({}, {}),
    "Metaspace-first": ({"prepend_scheme": "first"},) * 2, "Metaspace-nosplit": ({"split": False},) * 2,
    "Punctuation": ({}, {}), "Punctuation-next": ({"behavior": "merged_with_next"},) * 2,
    "Digits": ({}, {}), "Digits-individual": ({"individual_digits": True},) * 2,
    "Split": ({"pattern": " ", "behavior": "merged_with_previous"},) * 2,
    "Split-regex": ({"pattern": Regex(r"\d+|\s"), "behavior": "contiguous", "invert": True},
                    {"pattern": T.Regex(r"\d+|\s"), "behavior": "contiguous", "invert": True}),
}


@pytest.mark.parametrize("name", sorted(PRE_TOKENIZERS))
@FUZZ
@given(text=UNICODE)
def test_pre_tokenizers(name, text):
    ours, ref = _pair_of(pre_tokenizers, T.pre_tokenizers, name, *PRE_TOKENIZERS[name])
    assert ours.pre_tokenize_str(text) == ref.pre_tokenize_str(text)


def test_pre_tokenizers_on_shipped_text(texts):
    for name, kwargs in PRE_TOKENIZERS.items():
        ours, ref = _pair_of(pre_tokenizers, T.pre_tokenizers, name, *kwargs)
        for text in texts[:1000]:
            assert ours.pre_tokenize_str(text) == ref.pre_tokenize_str(text), (name, text)
    seq = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Digits(True)])
    ref = T.pre_tokenizers.Sequence([T.pre_tokenizers.WhitespaceSplit(), T.pre_tokenizers.Digits(True)])
    assert seq.pre_tokenize_str("call 911 now") == ref.pre_tokenize_str("call 911 now")


def test_model_tokenize_gives_byte_offsets_like_tokenizers():
    vocab = {"a": 0, "b": 1, "<unk>": 2, "ab": 3, "<0xC3>": 4, "<0xA9>": 5}
    cases = [
        (dict(unk_token="<unk>", fuse_unk=True), "abxyab"), (dict(), "abxyab"), (dict(byte_fallback=True), "abéab"),
        (dict(ignore_merges=True), "ab"),
    ]
    for kwargs, word in cases:
        ours = models.BPE(vocab, [("a", "b")], **kwargs).tokenize(word)
        ref = T.models.BPE(vocab, [("a", "b")], **kwargs).tokenize(word)
        assert [(t.id, t.value, t.offsets) for t in ours] == [(t.id, t.value, t.offsets) for t in ref], kwargs
    unigram = [("<unk>", 0.0), ("a", -1.0), ("b", -2.0), ("ab", -2.5), ("<0x63>", -5.0)]
    for byte_fallback in (False, True):
        ours = models.Unigram(unigram, 0, byte_fallback).tokenize("abcdé")
        ref = T.models.Unigram(unigram, 0, byte_fallback).tokenize("abcdé")
        assert [(t.id, t.value, t.offsets) for t in ours] == [(t.id, t.value, t.offsets) for t in ref]


def test_decoders():
    tokens = ["▁Hey", "▁fri", "end", "<0xE2>", "<0x82>", "<0xAC>", "<0xFF>", "Ġw", "Ã¶r", "##s", "a</w>", "  x  "]
    pairs = [
        (decoders.WordPiece(), T.decoders.WordPiece()),
        (decoders.WordPiece("##", False), T.decoders.WordPiece("##", False)),
        (decoders.ByteLevel(), T.decoders.ByteLevel()), (decoders.Metaspace(), T.decoders.Metaspace()),
        (decoders.Metaspace(prepend_scheme="never"), T.decoders.Metaspace(prepend_scheme="never")),
        (decoders.BPEDecoder(), T.decoders.BPEDecoder()), (decoders.ByteFallback(), T.decoders.ByteFallback()),
        (decoders.Fuse(), T.decoders.Fuse()), (decoders.Strip(" ", 1, 2), T.decoders.Strip(" ", 1, 2)),
        (decoders.Replace("▁", " "), T.decoders.Replace("▁", " ")),
        (decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                            decoders.Strip(" ", 1, 0)]),
         T.decoders.Sequence([T.decoders.Replace("▁", " "), T.decoders.ByteFallback(), T.decoders.Fuse(),
                              T.decoders.Strip(" ", 1, 0)])),
    ]
    for ours, ref in pairs:
        for sample in (tokens, tokens[3:7], tokens[:1], ["<0xE2>", "<0x82>"]):
            assert ours.decode(sample) == ref.decode(sample), (ours, sample)


def _wordlevel_pair():
    vocab = {c: i for i, c in enumerate("abcdefg")}
    ours, ref = Tokenizer(models.WordLevel(vocab, "a")), T.Tokenizer(T.models.WordLevel(vocab, "a"))
    ours.pre_tokenizer, ref.pre_tokenizer = pre_tokenizers.WhitespaceSplit(), T.pre_tokenizers.WhitespaceSplit()
    return ours, ref


MULTI = {"id": "f", "ids": [5, 6], "tokens": ["f", "g"]}  # a "special token" standing for two tokens


@pytest.mark.parametrize("processor", ["none", "bert", "roberta", "template", "multi-id", "sequence"])
def test_processors_truncation_padding_and_overflow(processor):
    ours, ref = _wordlevel_pair()
    ours_p, ref_p = {
        "none": (None, None),
        "bert": (processors.BertProcessing(("g", 6), ("f", 5)), T.processors.BertProcessing(("g", 6), ("f", 5))),
        "roberta": (processors.RobertaProcessing(("g", 6), ("f", 5)),
                    T.processors.RobertaProcessing(("g", 6), ("f", 5))),
        "template": (processors.TemplateProcessing("f:1 $A:2 g", "f $A $B:1 g:1", [("f", 5), ("g", 6)]),
                     T.processors.TemplateProcessing(single="f:1 $A:2 g", pair="f $A $B:1 g:1",
                                                     special_tokens=[("f", 5), ("g", 6)])),
        "multi-id": (processors.TemplateProcessing(["f", "$0"], ["$A", "$B"], [MULTI]),
                     T.processors.TemplateProcessing(single=["f", "$0"], pair=["$A", "$B"], special_tokens=[MULTI])),
        "sequence": (
            processors.Sequence([processors.ByteLevel(), processors.BertProcessing(("g", 6), ("f", 5))]),
            T.processors.Sequence([T.processors.ByteLevel(), T.processors.BertProcessing(("g", 6), ("f", 5))])),
    }[processor]
    ours.post_processor, ref.post_processor = ours_p, ref_p
    assert ours.num_special_tokens_to_add(True) == ref.num_special_tokens_to_add(True)
    inputs = [("a b c d e f g", None), ("a b", "c d"), ("a b c d e", "f g a b c d e f"), ("", None), ("a", "")]
    settings_list = [None, (5, 1, "longest_first", "right"), (6, 0, "only_second", "left"),
                     (7, 2, "longest_first", "left"), (4, 0, "only_first", "right")]
    for trunc in settings_list:
        for pad in (None, dict(length=None, pad_to_multiple_of=4), dict(length=12, direction="left")):
            for tok in (ours, ref):
                tok.no_truncation() if trunc is None else tok.enable_truncation(
                    trunc[0], stride=trunc[1], strategy=trunc[2], direction=trunc[3])
                tok.no_padding() if pad is None else tok.enable_padding(pad_id=6, pad_token="g", **pad)
            for text, pair in inputs:
                try:
                    expected = ref.encode(text, pair)
                except (Exception, BaseException) as error:  # the reference refuses (a pyo3 panic is a
                    if isinstance(error, KeyboardInterrupt):  # BaseException): so must we, same message
                        raise
                    with pytest.raises(ValueError, match=regex_escape(str(error))):
                        ours.encode(text, pair)
                    continue
                assert_same_encoding(ours.encode(text, pair), expected, f"{processor} {trunc} {pad} {text!r}")
            items = [(text, pair) for text, pair in inputs if pair is not None]
            try:
                expected = ref.encode_batch(items)
            except (Exception, BaseException) as error:
                if isinstance(error, KeyboardInterrupt):
                    raise
                with pytest.raises(ValueError, match=regex_escape(str(error))):
                    ours.encode_batch(items)
                continue
            for a, b in zip(ours.encode_batch(items), expected, strict=True):
                assert_same_encoding(a, b, f"batch {processor} {trunc} {pad}")
    assert json.loads(ours.to_str()) == json.loads(ref.to_str())


def test_pretokenized_input_and_encoding_lookups(bert_uncased):
    ours = Tokenizer.from_str(bert_uncased.to_str())
    words, pair = ["Hello", "wörld", "unaffable"], ["second", "one"]
    a, b = ours.encode(words, pair, is_pretokenized=True), bert_uncased.encode(words, pair, is_pretokenized=True)
    assert_same_encoding(a, b, "pretokenized")
    for batch in ([words, words[:1]], [(words, pair)]):
        for x, y in zip(ours.encode_batch(batch, is_pretokenized=True),
                        bert_uncased.encode_batch(batch, is_pretokenized=True), strict=True):
            assert_same_encoding(x, y, "pretokenized batch")
    a, b = ours.encode("Hello wörld, unaffable!", "yes"), bert_uncased.encode("Hello wörld, unaffable!", "yes")
    assert a.n_sequences == b.n_sequences == 2
    for i in range(len(b) + 2):
        if i < len(b):
            assert a.token_to_chars(i) == b.token_to_chars(i), i
            assert a.token_to_word(i) == b.token_to_word(i), i
            assert a.token_to_sequence(i) == b.token_to_sequence(i), i
        for seq in (0, 1):
            assert a.char_to_token(i, seq) == b.char_to_token(i, seq)
            assert a.word_to_tokens(i, seq) == b.word_to_tokens(i, seq)
            assert a.char_to_word(i, seq) == b.char_to_word(i, seq)


def test_added_tokens(texts):
    specs = [AddedToken("<ent>", single_word=True), AddedToken("[X]", lstrip=True, rstrip=True), "Yesterday", "night"]
    ref = bert_reference()
    ours = Tokenizer.from_str(ref.to_str())
    ref_specs = [T.AddedToken(s.content, single_word=s.single_word, lstrip=s.lstrip, rstrip=s.rstrip)
                 if isinstance(s, AddedToken) else s for s in specs]
    assert ours.add_tokens(specs) == ref.add_tokens(ref_specs)
    assert ours.add_special_tokens(["<sp>", "[CLS]"]) == ref.add_special_tokens(["<sp>", "[CLS]"])
    assert ours.get_vocab_size() == ref.get_vocab_size()
    assert ours.get_vocab() == ref.get_vocab()
    assert ours.get_vocab(False) == ref.get_vocab(False)
    assert ours.token_to_id("<sp>") == ref.token_to_id("<sp>") and ours.id_to_token(30525) == ref.id_to_token(30525)
    samples = ["I saw it yesterday <ent> x<ent> <ent>y [X]  here [X]", "Night<sp>night [CLS]", "a  [X]  b<sp>"]
    compare(ref, samples + texts[:200])
    ours.encode_special_tokens, ref.encode_special_tokens = True, True
    assert_same_encoding(ours.encode("Night<sp>night [CLS]"), ref.encode("Night<sp>night [CLS]"), "encode_special")
    assert json.loads(Tokenizer.from_str(ref.to_str()).to_str()) == json.loads(ref.to_str())


def test_truncation_and_padding_properties():
    ours, ref = _wordlevel_pair()
    for tok in (ours, ref):
        tok.enable_truncation(8, stride=2, strategy="only_first", direction="left")
        tok.enable_padding(direction="left", pad_id=3, pad_token="d", length=10, pad_to_multiple_of=None)
    assert ours.truncation == ref.truncation
    assert ours.padding == ref.padding
    assert json.loads(ours.to_str()) == json.loads(ref.to_str())
    ours.no_padding()
    ours.no_truncation()
    assert ours.padding is None and ours.truncation is None


def test_building_blocks_like_the_course():
    """Chapter 6's "building a tokenizer block by block" with a hand-made vocabulary, both libraries."""
    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "let": 4, "'": 5, "s": 6, "test": 7, "this": 8,
             "token": 9, "##izer": 10, ".": 11, "on": 12, "a": 13, "pair": 14, "of": 15, "sentences": 16}
    ours, ref = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]")), T.Tokenizer(T.models.WordPiece(vocab))
    ours.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.Lowercase(), normalizers.StripAccents()])
    ref.normalizer = T.normalizers.Sequence([T.normalizers.NFD(), T.normalizers.Lowercase(),
                                             T.normalizers.StripAccents()])
    ours.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    ref.pre_tokenizer = T.pre_tokenizers.Sequence([T.pre_tokenizers.WhitespaceSplit(), T.pre_tokenizers.Punctuation()])
    ours.post_processor = processors.TemplateProcessing("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                        [("[CLS]", 1), ("[SEP]", 2)])
    ref.post_processor = T.processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0",
                                                         pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                         special_tokens=[("[CLS]", 1), ("[SEP]", 2)])
    ours.decoder, ref.decoder = decoders.WordPiece(prefix="##"), T.decoders.WordPiece(prefix="##")
    text = "Let's test this tokenizer."
    assert_same_encoding(ours.encode(text), ref.encode(text), text)
    assert_same_encoding(ours.encode(text, "on a pair of sentences."), ref.encode(text, "on a pair of sentences."),
                         "pair")
    assert ours.decode(ours.encode(text).ids) == ref.decode(ref.encode(text).ids)
    assert json.loads(ours.to_str()) == json.loads(ref.to_str())


def _code_point_chunks(size: int = 100):
    """Planes 0 and 1 (every script, mark, digit and symbol there), `size` code points per text, each in a few
    contexts (after a letter, doubled, before a combining accent)."""
    points = [cp for cp in range(0x20000) if not 0xD800 <= cp < 0xE000]
    for i in range(0, len(points), size):
        yield "".join(f"a{c} {c}{c}\u0301b " for c in map(chr, points[i:i + size]))


def test_every_code_point_of_planes_0_and_1():
    """Where Python's Unicode tables and the Rust library's differ, nanohf follows the Rust library."""
    chunks = list(_code_point_chunks())
    pairs = [(_pair_of(normalizers, T.normalizers, name, *NORMALIZERS[name]), "normalize_str") for name in NORMALIZERS]
    pairs += [(_pair_of(pre_tokenizers, T.pre_tokenizers, name, *PRE_TOKENIZERS[name]), "pre_tokenize_str")
              for name in ("BertPreTokenizer", "Whitespace", "WhitespaceSplit", "ByteLevel", "Metaspace", "Punctuation",
                           "Digits")]
    for (ours, ref), method in pairs:
        for text in chunks:
            assert getattr(ours, method)(text) == getattr(ref, method)(text), (ours, text[:80])

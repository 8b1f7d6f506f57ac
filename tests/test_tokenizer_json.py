"""tokenizer.json both ways, against the `tokenizers` package and transformers' PreTrainedTokenizerFast.

Files written by `tokenizers` (BERT, GPT-2, and SentencePiece-style pipelines trained on the spot with its
own trainers: Unigram + Metaspace as T5 / ALBERT / XLNet / XLM-R configure them in transformers'
convert_slow_tokenizer.py, BPE with byte fallback as Llama 2 / Mistral) load in nanohf and encode
identically; files nanohf writes load in `tokenizers` and transformers and encode identically; broken
files give errors naming the file, the component and the field; save() never leaves half a file.
"""

import gzip
import json
import os
from collections import defaultdict
from pathlib import Path

import pytest
import tokenizers as T
from hypothesis import given
from test_tokenizers_library import (
    FUZZ,
    UNICODE,
    assert_same_encoding,
    bert_reference,
    compare,
    gpt2_reference,
    shakespeare,
    sst2,
    wnut,
)

from nanohf.tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

SPECIALS = {"t5": ["<pad>", "</s>", "<unk>"], "albert": ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"],
            "xlnet": ["<unk>", "<s>", "</s>", "<cls>", "<sep>", "<pad>", "<mask>"],
            "xlmr": ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]}


def corpus() -> list[str]:
    return shakespeare(2500) + sst2(1500)


def nmt_nfkc_charsmap() -> bytes:
    """SentencePiece's "nmt_nfkc" precompiled_charsmap, as every T5 / ALBERT / XLNet / XLM-R tokenizer.json holds one
    (taken from a model trained with sentencepiece 0.2.3 on Tiny Shakespeare: the charsmap does not depend on the
    corpus). Stored gzipped in tests/data."""
    return gzip.decompress((Path(__file__).parent / "data" / "spm_nmt_nfkc.charsmap.gz").read_bytes())


def unigram_reference(kind: str) -> T.Tokenizer:
    """A Unigram tokenizer trained by `tokenizers`, with the pipeline transformers gives `kind`'s tokenizer.json
    ("t5-real": with SentencePiece's Precompiled normalizer, as converted T5 checkpoints have; the others have
    NFKC instead of it)."""
    tok = T.Tokenizer(T.models.Unigram())
    if kind == "t5-real":
        tok.normalizer = T.normalizers.Sequence([T.normalizers.Precompiled(nmt_nfkc_charsmap()),
                                                 T.normalizers.Replace(T.Regex(" {2,}"), " ")])
        tok.pre_tokenizer = T.pre_tokenizers.Sequence([T.pre_tokenizers.WhitespaceSplit(),
                                                       T.pre_tokenizers.Metaspace()])
        kind = "t5"
    elif kind == "t5":
        tok.normalizer = T.normalizers.Sequence([T.normalizers.NFKC(), T.normalizers.Replace(T.Regex(" {2,}"), " ")])
        tok.pre_tokenizer = T.pre_tokenizers.Sequence([T.pre_tokenizers.WhitespaceSplit(),
                                                       T.pre_tokenizers.Metaspace()])
    else:  # ALBERT / XLNet: quotes, NFKD + accents, lower-case; XLM-R shares the Metaspace pre-tokenizer
        tok.normalizer = T.normalizers.Sequence([
            T.normalizers.Replace("``", '"'), T.normalizers.Replace("''", '"'), T.normalizers.NFKD(),
            T.normalizers.StripAccents(), T.normalizers.Lowercase(), T.normalizers.Replace(T.Regex(" {2,}"), " ")])
        tok.pre_tokenizer = T.pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = T.trainers.UnigramTrainer(vocab_size=600, special_tokens=SPECIALS[kind], unk_token="<unk>",
                                        show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    tok.decoder = T.decoders.Metaspace()
    v = defaultdict(int, tok.get_vocab())  # only `kind`'s own tokens are used below
    templates = {
        "t5": dict(single=["$A", "</s>"], pair=["$A", "</s>", "$B", "</s>"], special_tokens=[("</s>", v["</s>"])]),
        "albert": dict(single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                       special_tokens=[("[CLS]", v["[CLS]"]), ("[SEP]", v["[SEP]"])]),
        "xlnet": dict(single="$A:0 <sep>:0 <cls>:2", pair="$A:0 <sep>:0 $B:1 <sep>:1 <cls>:2",
                      special_tokens=[("<sep>", v["<sep>"]), ("<cls>", v["<cls>"])]),
        "xlmr": dict(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                     special_tokens=[("<s>", v["<s>"]), ("</s>", v["</s>"])]),
    }
    tok.post_processor = T.processors.TemplateProcessing(**templates[kind])
    return tok


def llama_reference() -> T.Tokenizer:
    """SentencePiece BPE with byte fallback, configured as transformers' LlamaConverter (legacy) does."""
    tok = T.Tokenizer(T.models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.normalizer = T.normalizers.Sequence([T.normalizers.Prepend("▁"), T.normalizers.Replace(" ", "▁")])
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tok.train_from_iterator(corpus(), T.trainers.BpeTrainer(vocab_size=900, special_tokens=specials,
                                                            show_progress=False))
    tok.decoder = T.decoders.Sequence([T.decoders.Replace("▁", " "), T.decoders.ByteFallback(), T.decoders.Fuse(),
                                       T.decoders.Strip(" ", 1, 0)])
    tok.post_processor = T.processors.TemplateProcessing(single="<s>:0 $A:0", pair="<s>:0 $A:0 <s>:1 $B:1",
                                                         special_tokens=[("<s>", 1)])
    return tok


KINDS = ["t5", "t5-real", "albert", "xlnet", "xlmr", "llama", "bert", "gpt2"]


def reference(kind: str) -> T.Tokenizer:
    if kind == "llama":
        return llama_reference()
    if kind == "bert":
        return bert_reference()
    if kind == "gpt2":
        return gpt2_reference(True, True)
    return unigram_reference(kind)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """{kind: (reference Tokenizer, path of the tokenizer.json it saved, nanohf Tokenizer loaded from it)}."""
    folder = tmp_path_factory.mktemp("tokenizer_json")
    out = {}
    for kind in KINDS:
        ref = reference(kind)
        path = folder / f"{kind}.json"
        ref.save(str(path))
        out[kind] = (ref, path, Tokenizer.from_file(path))
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return sst2(3000)[-800:] + wnut(500) + ["I can't believe it's not butter!!", "naïve café ﬁx ２０２０", "  a  b  "]


@pytest.mark.parametrize("kind", KINDS)
def test_files_written_by_tokenizers_load_and_encode_identically(kind, references, texts):
    ref, _, ours = references[kind]
    compare(ref, texts, ours=ours)
    compare(ref, texts[:100], pair="And the second one.", ours=ours)
    batch = ours.encode_batch([(t, "x") for t in texts[:20]])
    for a, b in zip(batch, ref.encode_batch([(t, "x") for t in texts[:20]]), strict=True):
        assert_same_encoding(a, b, kind)


@pytest.mark.parametrize("kind", ["t5", "t5-real", "xlmr", "llama"])
@FUZZ
@given(text=UNICODE)
def test_sentencepiece_files_on_random_unicode(kind, references, text):
    ref, _, ours = references[kind]
    compare(ref, [text], ours=ours)


@pytest.mark.parametrize("kind", KINDS)
def test_files_written_by_nanohf_load_in_tokenizers_and_transformers(kind, references, texts, tmp_path):
    from transformers import PreTrainedTokenizerFast

    ref, source, ours = references[kind]
    path = tmp_path / "tokenizer.json"
    ours.save(str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(source.read_text(encoding="utf-8"))
    reloaded = T.Tokenizer.from_file(str(path))
    compare(reloaded, texts[:300], ours=ours)
    fast = PreTrainedTokenizerFast(tokenizer_file=str(path))
    batch = texts[:50]
    expected = fast(batch, return_offsets_mapping=True)
    for i, encoding in enumerate(ours.encode_batch(batch)):
        assert encoding.ids == expected["input_ids"][i]
        assert encoding.offsets == [tuple(o) for o in expected["offset_mapping"][i]]
        assert encoding.attention_mask == expected["attention_mask"][i]


def test_a_tokenizer_built_in_nanohf_round_trips_through_tokenizers(tmp_path, texts):
    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "[PAD]": 3, "the": 4, "a": 5, "##s": 6, "movie": 7, ".": 8}
    ours = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    ours.normalizer = normalizers.Sequence([normalizers.NFD(), normalizers.StripAccents(), normalizers.Lowercase()])
    ours.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Digits(True)])
    ours.post_processor = processors.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
    ours.decoder = decoders.WordPiece()
    ours.add_special_tokens(["[PAD]", "<extra>"])
    ours.add_tokens(["movies"])
    ours.enable_truncation(16, stride=4)
    ours.enable_padding(pad_id=3, pad_token="[PAD]", pad_to_multiple_of=8)
    path = tmp_path / "built.json"
    ours.save(str(path))
    ref = T.Tokenizer.from_file(str(path))
    assert json.loads(ref.to_str()) == json.loads(ours.to_str())
    compare(ref, texts[:200], ours=ours)
    assert ours.to_str(pretty=True) == path.read_text(encoding="utf-8")


# ------------------------------------------------------------------ bad input
def _minimal() -> dict:
    return json.loads(Tokenizer(models.WordLevel({"a": 0, "<unk>": 1}, "<unk>")).to_str())


@pytest.mark.parametrize("component, body, message", [
    ("normalizer", {"type": "Foo"}, "normalizer: unknown normalizer type 'Foo'"),
    ("pre_tokenizer", {"type": "Sequence", "pretokenizers": [{"type": "Bar"}]},
     "pre_tokenizer.pretokenizers[0]: unknown pre_tokenizer type 'Bar'"),
    ("post_processor", {"type": "BertProcessing", "sep": ["[SEP]", 1]},
     "post_processor (BertProcessing): missing field 'cls'"),
    ("decoder", {"type": "WordPiece", "prefix": 3}, "decoder (WordPiece): field 'prefix' must be str"),
    ("model", {"type": "BPE", "vocab": {"a": 0}}, "model (BPE): missing field 'merges'"),
    ("model", {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b"]]}, "'b', which is not in the vocabulary"),
    ("model", {"type": "Unigram", "vocab": [["a", "x"]]}, "model (Unigram): vocab[0] must be [piece, score]"),
    ("normalizer", {"type": "Replace", "pattern": {"Glob": "*"}, "content": ""}, "'pattern' must be"),
    ("padding", {"strategy": "Sometimes"}, "padding: strategy must be"),
])
def test_bad_components_name_file_component_and_field(tmp_path, component, body, message):
    data = _minimal()
    data[component] = body
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError) as error:
        Tokenizer.from_file(path)
    assert str(path) in str(error.value) and message in str(error.value), str(error.value)


def test_invalid_json_and_missing_model(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text('{"version": "1.0", "model": ', encoding="utf-8")
    with pytest.raises(ValueError, match=f"{path}: invalid JSON"):
        Tokenizer.from_file(path)
    data = _minimal()
    del data["model"]
    with pytest.raises(ValueError, match="missing field 'model'"):
        Tokenizer.from_str(json.dumps(data))
    with pytest.raises(ValueError, match="expected a JSON object"):
        Tokenizer.from_str("[1, 2]")
    with pytest.raises(FileNotFoundError):
        Tokenizer.from_file(tmp_path / "nope.json")


def test_save_is_atomic(tmp_path, monkeypatch):
    tok = Tokenizer.from_str(json.dumps(_minimal()))
    path = tmp_path / "tokenizer.json"
    path.write_text("previous content", encoding="utf-8")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        tok.save(str(path))
    assert path.read_text(encoding="utf-8") == "previous content"
    assert os.listdir(tmp_path) == ["tokenizer.json"]  # no temporary file left behind
    monkeypatch.undo()
    tok.save(str(path))
    assert Tokenizer.from_file(path).to_str() == tok.to_str()

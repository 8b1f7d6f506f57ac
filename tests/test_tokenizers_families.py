"""T5Tokenizer, AlbertTokenizer, XLNetTokenizer, XLMRobertaTokenizer, LlamaTokenizer and PreTrainedTokenizerFast
against transformers 5 on the same folders.

Each folder holds a tokenizer.json trained on the spot by `tokenizers` (see test_tokenizer_json.py) and a
tokenizer_config.json naming the class; nanohf's AutoTokenizer and transformers' AutoTokenizer must pick the
same class and give the same backend pipeline, vocabulary size, padding side, call outputs (input_ids,
attention_mask, token_type_ids, offsets, overflow) and decoded text.
"""

import json
import warnings

import pytest
import tokenizers as T
from test_tokenizer_json import llama_reference, nmt_nfkc_charsmap, unigram_reference

import nanohf.tokenizers as nt
from nanohf.tokenizers import AutoTokenizer, PreTrainedTokenizerFast, Tokenizer

CLASSES = {"t5": "T5Tokenizer", "t5-real": "T5Tokenizer", "albert": "AlbertTokenizer", "xlnet": "XLNetTokenizer",
           "xlmr": "XLMRobertaTokenizer", "llama": "LlamaTokenizer", "plain": None}
TEXTS = ["Hello world, it's me.", "naïve café  ﬁx", "  two  spaces ", "<mask> and <pad> [MASK] <extra_id_3> </s>",
         "The movie was good , but too long ."]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    out = {}
    for kind, name in CLASSES.items():
        ref = llama_reference() if kind == "llama" else unigram_reference("xlmr" if kind == "plain" else kind)
        if kind == "albert":  # as a converted ALBERT checkpoint: the SentencePiece normalizer comes last
            ref.normalizer = T.normalizers.Sequence([ref.normalizer, T.normalizers.Precompiled(nmt_nfkc_charsmap())])
        folder = tmp_path_factory.mktemp(kind)
        ref.save(str(folder / "tokenizer.json"))
        if name:
            (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": name}), encoding="utf-8")
        out[kind] = folder
    return out


def _pair(folder):
    import transformers

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(folder)
    return theirs, AutoTokenizer.from_pretrained(folder)


@pytest.mark.parametrize("kind", list(CLASSES))
def test_same_class_pipeline_and_outputs_as_transformers(kind, folders):
    theirs, ours = _pair(folders[kind])
    expected_class = CLASSES[kind] or "PreTrainedTokenizerFast"
    assert type(ours).__name__ == expected_class and type(theirs).__name__ in (expected_class, "TokenizersBackend")
    assert ours.is_fast and isinstance(ours.backend_tokenizer, Tokenizer)
    assert (len(ours), ours.vocab_size, ours.padding_side) == (len(theirs), theirs.vocab_size, theirs.padding_side)
    assert ours.model_input_names == theirs.model_input_names
    assert ours.special_tokens_map == theirs.special_tokens_map
    a, b = json.loads(theirs.backend_tokenizer.to_str()), json.loads(ours.backend_tokenizer.to_str())
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"):
        assert a[key] == b[key], key
    # (Unigram scores: the Rust library re-reads a float of the file up to 1 ulp off, Python exactly.)
    if a["model"]["type"] == "Unigram":
        assert [p for p, _ in a["model"]["vocab"]] == [p for p, _ in b["model"]["vocab"]]
    else:
        assert a["model"] == b["model"]
    calls = [dict(), dict(return_offsets_mapping=True, return_special_tokens_mask=True),
             dict(text_pair=["x y", "z", "", "a b c d e f g h", "z"], truncation=True, max_length=12, stride=2,
                  return_overflowing_tokens=True)]
    if theirs.pad_token is not None:
        calls.append(dict(padding=True, return_tensors="np", return_offsets_mapping=True))
        calls.append(dict(padding="max_length", max_length=24, truncation=True))
    for options in calls:
        x, y = theirs(TEXTS[:6], **options), ours(TEXTS[:6], **options)
        assert set(x) == set(y), options
        for key in x:
            xs = x[key].tolist() if hasattr(x[key], "tolist") else x[key]
            ys = y[key].tolist() if hasattr(y[key], "tolist") else y[key]
            assert [list(map(tuple, r)) if key == "offset_mapping" else r for r in xs] == \
                   [list(map(tuple, r)) if key == "offset_mapping" else r for r in ys], (options, key)
    for text in TEXTS:
        ids = theirs(text)["input_ids"]
        assert ours(text)["input_ids"] == ids, text
        assert ours.tokenize(text) == theirs.tokenize(text), text
        for skip in (False, True):
            assert ours.decode(ids, skip_special_tokens=skip) == theirs.decode(ids, skip_special_tokens=skip), text


@pytest.mark.parametrize("kind", ["t5", "llama"])
def test_save_pretrained_round_trip(kind, folders, tmp_path):
    import transformers

    _, ours = _pair(folders[kind])
    ours.save_pretrained(tmp_path)
    assert (tmp_path / "tokenizer.json").is_file()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert type(again) is type(ours)
    for text in TEXTS:
        assert again(text)["input_ids"] == theirs(text)["input_ids"] == ours(text)["input_ids"], text


def test_fast_aliases_and_constructors(folders):
    for name in ("T5Tokenizer", "AlbertTokenizer", "XLNetTokenizer", "XLMRobertaTokenizer", "LlamaTokenizer"):
        assert getattr(nt, name + "Fast") is getattr(nt, name)
    backend = Tokenizer.from_file(folders["plain"] / "tokenizer.json")
    from_object = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>")
    from_file = PreTrainedTokenizerFast(tokenizer_file=str(folders["plain"] / "tokenizer.json"), pad_token="<pad>")
    assert from_object(TEXTS, padding=True)["input_ids"] == from_file(TEXTS, padding=True)["input_ids"]
    assert from_object.backend_tokenizer is not backend  # copied, as transformers deep-copies it
    with pytest.raises(ValueError, match="tokenizer_object"):
        PreTrainedTokenizerFast()


def test_sentencepiece_model_without_tokenizer_json_is_explained(tmp_path):
    (tmp_path / "spiece.model").write_bytes(b"\x00not really")
    (tmp_path / "tokenizer_config.json").write_text('{"tokenizer_class": "T5Tokenizer"}', encoding="utf-8")
    with pytest.raises(OSError, match="SentencePiece model \\(spiece.model\\).*tokenizer.json"):
        AutoTokenizer.from_pretrained(tmp_path)
    (tmp_path / "tokenizer_config.json").unlink()
    with pytest.raises(OSError, match="convert it once with transformers"):
        AutoTokenizer.from_pretrained(tmp_path)

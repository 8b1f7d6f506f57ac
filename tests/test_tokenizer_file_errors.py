"""The broken tokenizer files the long fuzz runs found, one test each: a clear error naming the file, or the
result transformers gives."""

import json
import warnings

import pytest

import nanohf
from nanohf.tokenizers import Tokenizer

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "good", "##s", "a"]


def bert_folder(tmp_path, lines=VOCAB, added=None, special_map=None):
    folder = tmp_path / "bert"
    folder.mkdir()
    (folder / "vocab.txt").write_text("".join(f"{t}\n" for t in lines), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "BertTokenizer"}))
    if added is not None:
        (folder / "added_tokens.json").write_text(json.dumps(added))
    if special_map is not None:
        (folder / "special_tokens_map.json").write_text(json.dumps(special_map))
    return folder


def test_a_repeated_vocab_line_names_both_lines(tmp_path):
    folder = bert_folder(tmp_path, lines=[*VOCAB, "movie"])
    with pytest.raises(ValueError, match=r"vocab.txt: line 12 repeats the token 'movie' of line 7"):
        nanohf.AutoTokenizer.from_pretrained(folder)


def test_an_added_token_already_in_the_vocabulary_keeps_its_id(tmp_path):
    import transformers

    folder = bert_folder(tmp_path, added={"good": 1, "newword": len(VOCAB)})
    ours = nanohf.AutoTokenizer.from_pretrained(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = transformers.AutoTokenizer.from_pretrained(folder)
    text = "the movie was good newword"
    assert ours(text)["input_ids"] == theirs(text)["input_ids"], (ours(text), theirs(text))
    assert ours.convert_tokens_to_ids("good") == 8


def test_an_added_token_id_that_does_not_follow_the_vocabulary(tmp_path):
    folder = bert_folder(tmp_path, added={"newword": len(VOCAB) + 1})  # as if a vocab.txt line were lost
    with pytest.raises(ValueError, match=r"added_tokens.json: 'newword' has id 12, but the next id .* 11.*vocab.txt"):
        nanohf.AutoTokenizer.from_pretrained(folder)


def test_a_null_special_token_the_template_needs(tmp_path):
    folder = bert_folder(tmp_path, special_map={"sep_token": None})
    tokenizer = nanohf.AutoTokenizer.from_pretrained(folder)
    assert tokenizer.sep_token is None
    with pytest.raises(ValueError, match=r"BertTokenizer: a special token of its template .* is None.*null"):
        tokenizer("the movie")


def test_two_tokens_on_one_id_in_vocab_json(tmp_path):
    folder = tmp_path / "bpe"
    folder.mkdir()
    (folder / "vocab.json").write_text(json.dumps({"<s>": 0, "a": 1, "b": 2, "ab": 1}))
    (folder / "merges.txt").write_text("#version: 0.2\na b\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "RobertaTokenizer"}))
    with pytest.raises(ValueError, match=r"vocab.json: tokens 'a' and 'ab' both have id 1"):
        nanohf.AutoTokenizer.from_pretrained(folder)


def test_infinity_in_tokenizer_json(tmp_path):
    text = json.dumps({"version": "1.0", "added_tokens": [], "normalizer": None, "pre_tokenizer": None,
                       "post_processor": None, "decoder": None, "truncation": None, "padding": None,
                       "model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"}})
    path = tmp_path / "tokenizer.json"
    path.write_text(text.replace('"a": 0', '"a": Infinity'))
    with pytest.raises(ValueError, match=r"tokenizer.json: invalid JSON .*Infinity is not a JSON number"):
        Tokenizer.from_file(path)


def test_unigram_without_unk_id_names_the_character_and_the_field():
    from nanohf.tokenizers import models

    tokenizer = Tokenizer(models.Unigram([("a", -1.0), ("b", -2.0)]))
    assert tokenizer.encode("ab").tokens == ["a", "b"]
    with pytest.raises(ValueError, match=r"no piece covers the character 'z'.*model.unk_id"):
        tokenizer.encode("az")

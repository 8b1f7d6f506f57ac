"""Shared helpers of the tokenizer tests (imported by the other test_tokenizer_*.py files), and the checks
that the repository's data/ files are the published ones.

`assert_same` is the judge everywhere: both tokenizers are called alike and must agree on every key and
value of the output, on the token-level information of every row (tokens, word ids, sequence ids), on
errors, and on decoding.
"""

import hashlib
import importlib
import re
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from nanohf.tokenizers import BatchEncoding, BertTokenizer, GPT2Tokenizer

DATA = Path(__file__).resolve().parents[1] / "data"
TOKENIZERS = DATA / "tokenizers"

# Adversarial inputs: accents, CJK, emoji, control and zero-width characters, whitespace of every kind,
# over-long words, punctuation runs, numbers with separators, special tokens typed in the text, nothing.
TRICKY = [
    "Héllo Wörld", "naïve café résumé ÅNGSTRÖM", "我爱北京天安门", "日本語とEnglishの mix",
    "tab\there\nnew\r\nline  and   spaces", "\u3000ideographic\u00a0nbsp\u2028line-sep\u0085nel",
    "ctrl\x00chars\x01\x07\x1f\x7f\ufffd\u200bzero\u200dwidth\u00adsoft", "", "   ", "\n\t", " ",
    "Paris is the [MASK] of France.", "[CLS] already [SEP] there [PAD] [UNK]", "no[MASK]space[MASK][MASK]",
    "[mask] lower-case is not special", "[MASK", "[[MASK]]", "a" * 101, "b" * 100,
    "supercalifragilistic" * 6 + " short", "emoji 😀🎉👩‍👩‍👧 and ☃ ✓ 🇫🇷", "😀" * 7,
    "!!!???...,,,;;;", "————……" + "!" * 40, "(a)[b]{c}<d>$e%f^g`h|i~j", "don't won't I'm you're it's we've",
    "ΟΔΟΣ ΣΊΣΥΦΟΣ", "İstanbul İİİ ǅ ß ﬁ ﬃ Ⅻ", "e\u0301 combining a\u0300\u0316", "Ωmega ÀÉÎÕÜ Ñ",
    "قطة عربية", "Привет, мир!", "१२३ ٣٤ 𝟘𝟙", "U+2B820: \U0002B820 vs \U0002B920",
    "1,234,567.89 $3.50 10-20 3:45pm 1e-9 2024/01/31 ٫٬", "##not a continuation",
    "unaffable unbelievably tokenization", "x" + " " * 50 + "y", " leading", "trailing  ",
    "\u200b\u200c\u200d\ufeff", "<|endoftext|>", "a<|endoftext|>b <|endoftext|> c", "<|endoftext", "'s'll'd 's",
]


def _tsv(path, encoding="utf-8"):
    lines = path.read_text(encoding=encoding).splitlines()
    return lines[0], [line.split("\t") for line in lines[1:]]


@cache
def sst2_sentences():
    """All 872 SST-2 dev sentences, then the first 2,000 train sentences."""
    sentences = []
    for name, n in (("dev.tsv", None), ("train.tsv", 2000)):
        header, rows = _tsv(DATA / "glue_sst2" / name)
        assert header == "sentence\tlabel"
        sentences += [row[0] for row in rows[:n]]
    return sentences


@cache
def mrpc_pairs(split="dev"):
    """(first sentences, second sentences) of the MRPC dev (408) or train (3,668) pairs."""
    header, rows = _tsv(DATA / "glue_mrpc" / f"{split}.tsv", encoding="utf-8-sig")
    assert header.split("\t")[3:] == ["#1 String", "#2 String"]
    return [row[3] for row in rows], [row[4] for row in rows]


@cache
def gpt2_folder(tmp_root):
    """GPT-2's files under transformers' names (vocab.json, merges.txt) plus a config saying model_type gpt2."""
    folder = Path(tmp_root) / "gpt2"
    folder.mkdir(exist_ok=True)
    (folder / "vocab.json").write_bytes((TOKENIZERS / "gpt2" / "encoder.json").read_bytes())
    (folder / "merges.txt").write_bytes((TOKENIZERS / "gpt2" / "vocab.bpe").read_bytes())
    (folder / "config.json").write_text('{"model_type": "gpt2"}')
    return folder


def reference(kind, **kwargs):
    """(nanohf tokenizer, transformers tokenizer) built alike: kind "uncased", "cased" or "gpt2"."""
    transformers = importlib.import_module("transformers")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "gpt2":
            vocab, merges = TOKENIZERS / "gpt2" / "encoder.json", TOKENIZERS / "gpt2" / "vocab.bpe"
            return (GPT2Tokenizer(vocab, merges, **kwargs),
                    transformers.GPT2Tokenizer(vocab=str(vocab), merges=str(merges), **kwargs))
        vocab = str(TOKENIZERS / f"bert-base-{kind}" / "vocab.txt")
        kwargs.setdefault("do_lower_case", kind == "uncased")
        return BertTokenizer(vocab, **kwargs), transformers.BertTokenizer(vocab, **kwargs)


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray) else value


def assert_same(ours, theirs, *args, check_decode=True, **kwargs):
    """Call both tokenizers alike: same keys and values, same tokens/word ids/sequence ids per row, same
    errors (first words of the message), same decoded text. Returns our BatchEncoding (None on error)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = theirs(*args, **kwargs)
        except BaseException as err:  # the Rust backend raises bare Exceptions and even PanicException
            if isinstance(err, KeyboardInterrupt):
                raise
            # A batch is encoded in parallel by `tokenizers`, so which example's error surfaces is a race.
            batched = isinstance(args[0], (list, tuple)) and not kwargs.get("is_split_into_words")
            message = None if batched else re.escape(str(err).split(":")[0][:40])
            with pytest.raises((ValueError, TypeError), match=message):
                ours(*args, **kwargs)
            return None
        if any(getattr(value, "dtype", None) is np.dtype(object) for value in expected.values()):
            # The one deliberate difference: rows of different lengths asked for as one array. transformers
            # builds an array of arrays (dtype=object) that fails later; we say what went wrong right away.
            with pytest.raises(ValueError, match="different lengths"):
                ours(*args, **kwargs)
            return None
        got = ours(*args, **kwargs)
    assert isinstance(got, BatchEncoding)
    assert list(got.keys()) == list(expected.keys())
    for key in expected:
        assert _plain(got[key]) == _plain(expected[key]), key
        if isinstance(expected[key], np.ndarray):
            assert got[key].dtype == expected[key].dtype and got[key].shape == expected[key].shape, key
    assert len(got.encodings) == len(expected.encodings)
    for i in range(len(expected.encodings)):
        assert got.tokens(i) == expected.tokens(i)
        assert got.word_ids(i) == expected.word_ids(i)
        assert got.sequence_ids(i) == expected.sequence_ids(i)
    if check_decode:
        rows = _plain(got["input_ids"])
        for row in [rows] if not rows or isinstance(rows[0], int) else rows:
            for skip in (False, True):
                assert ours.decode(row, skip_special_tokens=skip) == theirs.decode(row, skip_special_tokens=skip)
    return got


ALL_OUTPUTS = dict(return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True,
                   return_token_type_ids=True, return_attention_mask=True)


# ---------------------------------------------------------------------- the data files themselves
def _readme_table():
    """{relative path: (bytes, sha256)} from the table in data/README.md."""
    rows = re.findall(r"^\| (\S+) \| ([\d,]+) \| ([0-9a-f]{64}) \|$", (DATA / "README.md").read_text(), re.M)
    return {path: (int(size.replace(",", "")), digest) for path, size, digest in rows}


def test_data_files_are_the_published_ones():
    """The files these tests read are listed in data/README.md (with source and licence) and unchanged."""
    table = _readme_table()
    used = {"tokenizers/bert-base-uncased/vocab.txt", "tokenizers/bert-base-cased/vocab.txt",
            "tokenizers/gpt2/encoder.json", "tokenizers/gpt2/vocab.bpe", "glue_sst2/train.tsv", "glue_sst2/dev.tsv",
            "glue_mrpc/train.tsv", "glue_mrpc/dev.tsv"}
    assert used <= set(table)
    for path, (size, digest) in table.items():
        content = (DATA / path).read_bytes()
        assert (len(content), hashlib.sha256(content).hexdigest()) == (size, digest), path


def test_corpus_sizes():
    assert len(sst2_sentences()) == 872 + 2000
    assert len(mrpc_pairs("dev")[0]) == 408 and len(mrpc_pairs("train")[1]) == 3668

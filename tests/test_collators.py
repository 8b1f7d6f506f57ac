"""nanohf.data collators against transformers' (NumPy flavour) on the same nanohf-tokenized features.

transformers' collators are fed the very same examples with a transformers tokenizer built from the same
vocabulary, so every array must be identical. Masked-LM masking is random: with the same seed it must be
identical too (the draws are made in the same order); its statistics are checked on a large batch.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
import transformers

import nanohf
from nanohf.data import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    DataLoader,
    default_data_collator,
    disable_progress_bars,
    load_glue,
)
from nanohf.tokenizers import BertTokenizer, GPT2Tokenizer

TOKENIZERS = Path(__file__).resolve().parents[1] / "data" / "tokenizers"
VOCAB = str(TOKENIZERS / "bert-base-uncased" / "vocab.txt")


@pytest.fixture(autouse=True)
def quiet_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path / "cache"))
    disable_progress_bars()


def tokenizers(padding_side="right"):
    """(nanohf, transformers) BertTokenizers from the same vocabulary."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return (BertTokenizer(VOCAB, padding_side=padding_side),
                transformers.BertTokenizer(VOCAB, padding_side=padding_side))


@pytest.fixture(scope="module")
def mrpc():
    return load_glue("mrpc", split="validation").select(range(48))


def tokenized(tokenizer, mrpc, **kwargs):
    """MRPC pairs tokenized by nanohf, without the text columns: what the course hands the collator."""
    return mrpc.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True, max_length=40, **kwargs),
                    batched=True, remove_columns=["sentence1", "sentence2"])


def assert_same_batch(ours, theirs, any_int_dtype=()):
    """Same keys, same values, same dtypes (for `any_int_dtype` keys: any integer dtype)."""
    assert list(ours) == list(theirs)
    for key in theirs:
        assert isinstance(ours[key], np.ndarray), key
        if key in any_int_dtype:
            assert ours[key].dtype.kind == np.asarray(theirs[key]).dtype.kind == "i", key
        else:
            assert ours[key].dtype == np.asarray(theirs[key]).dtype, key
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


# ---------------------------------------------------------------------- padding
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("options", [{}, {"pad_to_multiple_of": 8}, {"padding": "max_length", "max_length": 64},
                                     {"padding": "longest", "pad_to_multiple_of": 16}])
def test_with_padding_matches_transformers(mrpc, padding_side, options):
    ours_tok, hf_tok = tokenizers(padding_side)
    data = tokenized(ours_tok, mrpc)
    ours = DataCollatorWithPadding(ours_tok, **options)
    theirs = transformers.DataCollatorWithPadding(hf_tok, return_tensors="np", **options)
    for rows in (data.select(range(8)), data.select(range(8, 45)), data.select([3])):
        examples = [rows[i] for i in range(len(rows))]
        assert_same_batch(ours(examples), theirs(examples))
    # Rows as NumPy values. nanohf's tokenizer.pad turns NumPy scalars into Python ints, so the int32 `idx`
    # comes back int64; transformers' keeps int32.
    numpy_rows = data.with_format("numpy").select(range(5))
    examples = [numpy_rows[i] for i in range(5)]
    assert_same_batch(ours(examples), theirs(examples), any_int_dtype=["idx"])
    renamed = [{**{k: v for k, v in e.items() if k != "label"}, "label_ids": e["label"]} for e in examples]
    assert_same_batch(ours(renamed), theirs(renamed), any_int_dtype=["idx"])


def test_dataloader_batches_match_transformers(mrpc):
    ours_tok, hf_tok = tokenizers()
    data = tokenized(ours_tok, mrpc).remove_columns(["idx"])
    loader = DataLoader(data, batch_size=8, shuffle=True, seed=0, collate_fn=DataCollatorWithPadding(ours_tok))
    theirs = transformers.DataCollatorWithPadding(hf_tok, return_tensors="np")
    batches = list(loader)
    assert len(batches) == 6
    for indices, batch in zip(loader.index_batches(epoch=0), batches, strict=True):
        assert_same_batch(batch, theirs([data[int(i)] for i in indices]))
        assert set(batch) == {"input_ids", "token_type_ids", "attention_mask", "labels"}


@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_token_classification_matches_transformers(mrpc, padding_side):
    ours_tok, hf_tok = tokenizers(padding_side)
    data = tokenized(ours_tok, mrpc).remove_columns(["label", "idx"])
    rng = np.random.default_rng(0)
    labels = [[-100] + rng.integers(0, 9, len(ids) - 2).tolist() + [-100] for ids in data["input_ids"]]
    data = data.add_column("labels", labels)
    for options in ({}, {"pad_to_multiple_of": 8}, {"padding": "max_length", "max_length": 48},
                    {"label_pad_token_id": -1}):
        ours = DataCollatorForTokenClassification(ours_tok, **options)
        theirs = transformers.DataCollatorForTokenClassification(hf_tok, return_tensors="np", **options)
        examples = [data[i] for i in range(12)]
        batch = ours(examples)
        assert_same_batch(batch, theirs(examples))
        assert batch["labels"].shape == batch["input_ids"].shape
        singular = [{**{k: v for k, v in e.items() if k != "labels"}, "label": e["labels"]} for e in examples]
        assert_same_batch(ours(singular), theirs(singular))
    no_labels = [{k: v for k, v in data[i].items() if k != "labels"} for i in range(3)]
    assert_same_batch(DataCollatorForTokenClassification(ours_tok)(no_labels),
                      transformers.DataCollatorForTokenClassification(hf_tok, return_tensors="np")(no_labels))


def test_default_data_collator_matches_transformers(mrpc):
    ours_tok, _ = tokenizers()
    data = mrpc.map(lambda b: ours_tok(b["sentence1"], padding="max_length", truncation=True, max_length=24),
                    batched=True)
    examples = [data[i] for i in range(6)]  # sentence1/sentence2 are str: skipped by both
    theirs = transformers.default_data_collator
    assert_same_batch(default_data_collator(examples), theirs(examples, return_tensors="np"))
    floats = [{**e, "label": float(e["label"]) + 0.5} for e in examples]
    assert_same_batch(default_data_collator(floats), theirs(floats, return_tensors="np"))
    ids = [{"input_ids": e["input_ids"], "label_ids": e["input_ids"][:3]} for e in examples]
    assert_same_batch(default_data_collator(ids), theirs(ids, return_tensors="np"))
    numpy_rows = data.with_format("numpy", columns=["input_ids", "label"])
    examples = [numpy_rows[i] for i in range(6)]
    assert_same_batch(default_data_collator(examples), theirs(examples, return_tensors="np"))


# ---------------------------------------------------------------------- language modelling
def test_mlm_same_seed_same_masks_as_transformers(mrpc):
    ours_tok, hf_tok = tokenizers()
    data = tokenized(ours_tok, mrpc, return_special_tokens_mask=True).remove_columns(["label", "idx"])
    for kwargs in ({}, {"mlm_probability": 0.4, "pad_to_multiple_of": 8}, {"mask_replace_prob": 1.0,
                   "random_replace_prob": 0.0}, {"mask_replace_prob": 0.5, "random_replace_prob": 0.5}):
        ours = DataCollatorForLanguageModeling(ours_tok, seed=3, **kwargs)
        theirs = transformers.DataCollatorForLanguageModeling(hf_tok, return_tensors="np", seed=3, **kwargs)
        for start in (0, 16, 32):  # successive calls continue the same random stream
            examples = [data[i] for i in range(start, start + 16)]
            assert_same_batch(ours(examples), theirs(examples))
        without_mask = [{k: v for k, v in data[i].items() if k != "special_tokens_mask"} for i in range(10)]
        assert_same_batch(ours(without_mask), theirs(without_mask))
        id_lists = [data[i]["input_ids"] for i in range(10, 20)]  # plain lists of ids, no dicts
        assert_same_batch(ours(id_lists), theirs(id_lists))


def test_causal_lm_labels_match_transformers(mrpc):
    ours_tok, hf_tok = tokenizers("left")
    data = tokenized(ours_tok, mrpc).remove_columns(["label", "idx"])
    ours = DataCollatorForLanguageModeling(ours_tok, mlm=False)
    theirs = transformers.DataCollatorForLanguageModeling(hf_tok, mlm=False, return_tensors="np")
    examples = [data[i] for i in range(10)]
    batch = ours(examples)
    assert_same_batch(batch, theirs(examples))
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
    id_lists = [e["input_ids"] for e in examples]
    assert_same_batch(ours(id_lists), theirs(id_lists))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gpt2 = GPT2Tokenizer(TOKENIZERS / "gpt2" / "encoder.json", TOKENIZERS / "gpt2" / "vocab.bpe")
    equal = [gpt2("Hello there, world")["input_ids"]] * 2
    np.testing.assert_array_equal(DataCollatorForLanguageModeling(gpt2, mlm=False)(equal)["labels"], equal)
    with pytest.raises(ValueError, match="does not have a mask token"):
        DataCollatorForLanguageModeling(gpt2)


def test_mlm_statistics():
    tokenizer, _ = tokenizers()
    rng = np.random.default_rng(0)
    lengths = rng.integers(20, 120, 400)
    examples = [{"input_ids": [101] + rng.integers(1000, 30000, n - 2).tolist() + [102]} for n in lengths]
    batch = DataCollatorForLanguageModeling(tokenizer, seed=0)(examples)
    original = tokenizer.pad(examples, return_tensors="np")["input_ids"]
    special = np.isin(original, tokenizer.all_special_ids)  # [CLS], [SEP] and the padding [PAD]
    chosen = batch["labels"] != -100
    assert not chosen[special].any() and (batch["input_ids"][special] == original[special]).all()
    np.testing.assert_array_equal(batch["labels"][chosen], original[chosen])
    fraction = chosen.sum() / (~special).sum()
    assert abs(fraction - 0.15) < 0.01, fraction  # ~26,000 candidate tokens: standard error 0.002
    masked = batch["input_ids"][chosen] == tokenizer.mask_token_id
    kept = batch["input_ids"][chosen] == original[chosen]
    randomised = ~masked & ~kept
    assert abs(masked.mean() - 0.8) < 0.03 and abs(kept.mean() - 0.1) < 0.03 and abs(randomised.mean() - 0.1) < 0.03
    assert (batch["input_ids"][~chosen] == original[~chosen]).all()  # unchosen tokens untouched

    again = DataCollatorForLanguageModeling(tokenizer, seed=0)(examples)
    other = DataCollatorForLanguageModeling(tokenizer, seed=1)(examples)
    np.testing.assert_array_equal(again["input_ids"], batch["input_ids"])
    assert not np.array_equal(other["labels"], batch["labels"])
    unseeded = DataCollatorForLanguageModeling(tokenizer)  # draws from nanohf's generator
    nanohf.random.set_seed(5)
    first = unseeded(examples)
    nanohf.random.set_seed(5)
    np.testing.assert_array_equal(unseeded(examples)["labels"], first["labels"])


# ---------------------------------------------------------------------- bad input
def test_text_column_left_in_the_batch(mrpc):
    """The course's mistake: the raw text columns are still there when the collator stacks the batch."""
    tokenizer, _ = tokenizers()
    data = mrpc.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
    examples = [data[i] for i in range(4)]
    for collator in (DataCollatorWithPadding(tokenizer), DataCollatorForTokenClassification(tokenizer),
                     DataCollatorForLanguageModeling(tokenizer, seed=0)):
        with pytest.raises(ValueError, match=r"column 'sentence1' holds text.*too many dimensions 'str'.*"
                                             r"remove_columns\(\['sentence1'\]\).*remove_unused_columns=True"):
            collator(examples)
    words = [{"input_ids": [101, 102], "tokens": ["a", "b"]}] * 2
    with pytest.raises(ValueError, match="column 'tokens' holds text"):
        default_data_collator(words)
    with pytest.raises(ValueError, match="column 'label' holds None values"):
        DataCollatorWithPadding(tokenizer)([{"input_ids": [101, 102], "label": None}] * 2)
    ragged = [{"input_ids": [101, 7, 102], "word_ids": [None, 0, None]}, {"input_ids": [101, 102], "word_ids": [1]}]
    with pytest.raises(ValueError, match="column 'word_ids' holds None values"):
        DataCollatorWithPadding(tokenizer)(ragged)
    offsets = [{"input_ids": [101, 7, 102], "offsets": [[0, 0], [0, 1], [0, 0]]},
               {"input_ids": [101, 102], "offsets": [[0, 0], [0, 0]]}]
    with pytest.raises(ValueError, match=r"column 'offsets' has lists of different lengths \(2 and 3\).*remove"):
        DataCollatorWithPadding(tokenizer)(offsets)
    misaligned = [{"input_ids": [101, 7, 102], "labels": [-100, 1, 2, -100]}]
    with pytest.raises(ValueError, match="example 0 has 4 labels for 3 tokens"):
        DataCollatorForTokenClassification(tokenizer)(misaligned)
    with pytest.raises(ValueError, match="'np'"):
        DataCollatorWithPadding(tokenizer, return_tensors="pt")
    with pytest.raises(TypeError, match="dicts"):
        DataCollatorWithPadding(tokenizer)([[101, 102]])

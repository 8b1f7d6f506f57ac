"""A 🤗 datasets.Dataset / DatasetDict passed to nanohf's DataLoader, collators and Trainer: the same batches as
the equivalent nanohf Dataset, and a Trainer run on it."""

import importlib

import numpy as np
import pytest
from conftest import TINY_BERT

import nanohf
from nanohf import BertTokenizer, Dataset, Trainer, TrainingArguments
from nanohf.data import (
    DataCollatorForLanguageModeling,
    DataCollatorWithPadding,
    DataLoader,
    disable_progress_bars,
    enable_progress_bars,
)

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(5, 99)]


@pytest.fixture(autouse=True)
def quiet(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("cache")))
    disable_progress_bars()
    yield
    enable_progress_bars()


@pytest.fixture(scope="module")
def hf():
    datasets = importlib.import_module("datasets")
    datasets.disable_progress_bars()
    return datasets


@pytest.fixture(scope="module")
def tokenizer():
    return BertTokenizer(vocab={token: i for i, token in enumerate(VOCAB)})


def toy(n=24, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n).tolist()
    texts = [" ".join(f"w{i}" for i in rng.integers(5, 52, rng.integers(2, 12)) + 47 * label) for label in labels]
    return {"text": texts, "label": labels}


@pytest.fixture(scope="module")
def pair(hf, tokenizer):
    def tokenize(batch):
        return dict(tokenizer(batch["text"], truncation=True))

    ours = Dataset.from_dict(toy()).map(tokenize, batched=True, remove_columns=["text"])
    theirs = hf.Dataset.from_dict(toy()).map(tokenize, batched=True, remove_columns=["text"])
    return ours, theirs


def batches(dataset, collator, **kwargs):
    return list(DataLoader(dataset, batch_size=5, collate_fn=collator, **kwargs))


def assert_same_batches(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for key in x:
            np.testing.assert_array_equal(x[key], y[key], err_msg=key)
            assert np.asarray(x[key]).dtype == np.asarray(y[key]).dtype, key


def test_dataloader_and_collators_over_a_datasets_dataset(pair, tokenizer):
    ours, theirs = pair
    assert ours.to_dict() == theirs.to_dict()
    padding = DataCollatorWithPadding(tokenizer)
    assert_same_batches(batches(theirs, padding), batches(ours, padding))
    assert_same_batches(batches(theirs, padding, shuffle=True, seed=3), batches(ours, padding, shuffle=True, seed=3))
    for fmt in ("numpy", None):
        assert_same_batches(batches(theirs.with_format(fmt), padding), batches(ours.with_format(fmt), padding))
    mlm = DataCollatorForLanguageModeling(tokenizer, seed=0)
    no_labels = ours.remove_columns("label"), theirs.remove_columns("label")
    assert_same_batches(batches(no_labels[1], DataCollatorForLanguageModeling(tokenizer, seed=0)),
                        batches(no_labels[0], mlm))


def test_trainer_trains_on_a_datasets_dataset_dict(hf, make_checkpoint, tmp_path, tokenizer):
    folder = make_checkpoint("BertForSequenceClassification", {**TINY_BERT, "num_labels": 2})

    def tokenize(batch):
        return dict(tokenizer(batch["text"], truncation=True))

    raw = hf.DatasetDict({"train": hf.Dataset.from_dict(toy(24, 0)), "test": hf.Dataset.from_dict(toy(8, 1))})
    tokenized = raw.map(tokenize, batched=True)  # the text column stays: the Trainer drops what forward ignores
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=3, per_device_train_batch_size=4,
                             per_device_eval_batch_size=4, learning_rate=1e-3, report_to="none", seed=0,
                             save_strategy="no")  # fmt: skip
    results = {}
    for name, train, test in (("hf", tokenized["train"], tokenized["test"]),
                              ("nanohf", Dataset.from_dict(tokenized["train"].to_dict()),
                               Dataset.from_dict(tokenized["test"].to_dict()))):  # fmt: skip
        model = nanohf.AutoModelForSequenceClassification.from_pretrained(folder)
        trainer = Trainer(model, args, train_dataset=train, eval_dataset=test, processing_class=tokenizer)
        output = trainer.train()
        assert output.global_step == 3
        results[name] = (output.training_loss, trainer.evaluate()["eval_loss"])
    assert np.allclose(results["hf"], results["nanohf"], rtol=1e-6, atol=1e-7), results

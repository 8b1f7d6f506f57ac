"""Trainer on tiny BERT / DistilBERT checkpoints, judged against transformers and torch.

The training run is checked against a manual torch loop fed the very same batches, with transformers'
recipe: AdamW without decay on biases and LayerNorm weights, linear schedule with warmup, clipping at
1.0, accumulation; the decay groups are compared with transformers' directly. TrainingArguments is
tested in tests/test_training_args.py, the rest of the Trainer's API in tests/test_trainer_api.py.

The toy task: sentences of words w5..w51 are labelled 0, sentences of words w52..w98 are labelled 1.
"""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf
from nanohf import BertTokenizer, Dataset, EarlyStoppingCallback, Trainer, TrainerCallback, TrainingArguments
from nanohf.data import DataCollatorForTokenClassification, disable_progress_bars, enable_progress_bars
from nanohf.metrics import EvalPrediction, glue_metrics

NO_DROPOUT = {
    "BertForSequenceClassification": {**TINY_BERT, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "DistilBertForSequenceClassification": {
        **TINY_DISTILBERT, "dropout": 0.0, "attention_dropout": 0.0, "seq_classif_dropout": 0.0,
    },
}  # fmt: skip
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(5, 99)]
CHECKPOINT_FILES = {"model.safetensors", "config.json", "optimizer.safetensors", "optimizer.json", "scheduler.json",
                    "rng_state.json", "trainer_state.json", "training_args.json"}  # fmt: skip


@pytest.fixture(autouse=True)
def quiet_private_map_cache(tmp_path_factory, monkeypatch):
    """map() caches in a temporary folder (not under tmp_path, the run's output_dir), without bars."""
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("map-cache")))
    disable_progress_bars()
    yield
    enable_progress_bars()


@pytest.fixture(scope="module")
def tokenizer():
    return BertTokenizer(vocab={token: i for i, token in enumerate(VOCAB)})


def texts_and_labels(n, seed):
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(0, 2))
        ids = rng.integers(5, 52, rng.integers(3, 14)) + 47 * label
        texts.append(" ".join(f"w{i}" for i in ids))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def raw_and_tokenized(tokenizer, tmp_path_factory):
    """(raw, tokenized) toy data sets, tokenized the course's way: map(batched=True)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("map-cache")))
        disable_progress_bars()
        try:
            texts, labels = texts_and_labels(64, seed=0)
            raw = Dataset.from_dict({"text": texts, "label": labels})
            tokenized = raw.map(lambda b: tokenizer(b["text"], truncation=True), batched=True)
        finally:
            enable_progress_bars()
    return raw, tokenized


@pytest.fixture(scope="module")
def data(raw_and_tokenized):
    """The tokenized toy data, text column still in (the Trainer drops what forward does not take)."""
    return raw_and_tokenized[1]


def load(make_checkpoint, class_name="BertForSequenceClassification", config=None):
    folder = make_checkpoint(class_name, NO_DROPOUT[class_name] if config is None else config)
    return getattr(nanohf, class_name).from_pretrained(folder), folder


def args(tmp_path, **kwargs):
    defaults = dict(per_device_train_batch_size=8, learning_rate=1e-3, disable_tqdm=True, save_strategy="no",
                    logging_steps=4)  # fmt: skip
    return TrainingArguments(str(tmp_path), **{**defaults, **kwargs})


def weights(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


def max_diff(a, b):
    return max(float(np.abs(a[name] - b[name]).max()) for name in a)


# --- optimizer groups ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("class_name, config", [
    ("BertForSequenceClassification", TINY_BERT), ("DistilBertForSequenceClassification", TINY_DISTILBERT),
    ("BertForMaskedLM", TINY_BERT), ("GPT2LMHeadModel", dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4,
                                                              n_positions=64, bos_token_id=0, eos_token_id=0)),
])  # fmt: skip
def test_no_decay_on_bias_and_layernorm_as_transformers(make_checkpoint, tmp_path, class_name, config):
    folder = make_checkpoint(class_name, config)
    reference = getattr(transformers, class_name).from_pretrained(folder)
    expected = set(transformers.Trainer.get_decay_parameter_names(None, reference))

    model = getattr(nanohf, class_name).from_pretrained(folder)
    trainer = Trainer(model, args(tmp_path, weight_decay=0.01))
    trainer.create_optimizer_and_scheduler(10)
    names = {id(p): name for name, p in model.named_parameters()}
    decay, no_decay = trainer.optimizer.param_groups
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    decayed = {names[id(p)] for p in decay["params"]}
    # transformers lists tied copies (lm_head.weight) too; nanohf names a tied parameter once.
    assert decayed == expected & set(names.values())
    assert not any("bias" in n or "norm" in n.lower() or n.split(".")[-2].startswith("ln_") for n in decayed)
    assert len(decay["params"]) + len(no_decay["params"]) == len(names)


# --- a training run ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("class_name", list(NO_DROPOUT))
def test_train_matches_a_manual_torch_loop_on_the_same_batches(make_checkpoint, tmp_path, data, tokenizer,
                                                                class_name):  # fmt: skip
    model, folder = load(make_checkpoint, class_name)
    training_args = args(tmp_path, num_train_epochs=2, per_device_train_batch_size=4, gradient_accumulation_steps=2,
                         weight_decay=0.01, warmup_steps=0.2, logging_steps=2, eval_strategy="epoch")  # fmt: skip
    trainer = Trainer(model, training_args, train_dataset=data, eval_dataset=data, processing_class=tokenizer)
    loader = trainer.get_train_dataloader()
    epoch_batches = [[loader.fetch(i) for i in loader.index_batches(epoch)] for epoch in range(2)]
    trainer.train()

    ref = getattr(transformers, class_name).from_pretrained(folder).train()
    decay_names = set(transformers.Trainer.get_decay_parameter_names(None, ref))
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in ref.named_parameters() if n in decay_names], "weight_decay": 0.01},
        {"params": [p for n, p in ref.named_parameters() if n not in decay_names], "weight_decay": 0.0},
    ], lr=1e-3, betas=(0.9, 0.999), eps=1e-8)  # fmt: skip
    total = 2 * math.ceil(len(epoch_batches[0]) / 2)  # 2 epochs of 16 batches, 2 per update
    scheduler = transformers.get_scheduler("linear", optimizer, num_warmup_steps=math.ceil(0.2 * total),
                                           num_training_steps=total)  # fmt: skip
    losses = []
    for batches in epoch_batches:
        for i, batch in enumerate(batches):
            batch = {k: torch.tensor(v) for k, v in batch.items() if k != "text"}
            loss = ref(**batch).loss
            (loss / 2).backward()
            losses.append(loss.item())
            if i % 2 == 1:
                torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()

    logged = [e for e in trainer.state.log_history if "loss" in e]
    assert [e["step"] for e in logged] == list(range(2, total + 1, 2))
    expected = [np.mean(losses[4 * k:4 * k + 4]) for k in range(len(logged))]  # 2 updates x 2 batches each
    assert [e["loss"] for e in logged] == pytest.approx(expected, abs=1e-3)
    assert logged[-1]["learning_rate"] == pytest.approx(scheduler.get_last_lr()[0], abs=1e-12)
    ours = weights(model)
    diff = max(float(np.abs(ours[n] - p.detach().numpy()).max()) for n, p in ref.named_parameters() if n in ours)
    print(f"{class_name}: Trainer vs torch loop, max |Δparam| {diff:.2e} after {total} steps")
    assert diff <= 1e-3


def test_log_history_like_transformers_and_loss_decreases(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    def compute_metrics(p):
        return glue_metrics("mrpc", p.predictions.argmax(-1), p.label_ids)

    trainer = Trainer(model, args(tmp_path, num_train_epochs=6, learning_rate=2e-3, eval_strategy="steps",
                                  eval_steps=8), train_dataset=data, eval_dataset=data, processing_class=tokenizer,
                      compute_metrics=compute_metrics)  # fmt: skip
    output = trainer.train()
    history = trainer.state.log_history
    train_logs = [e for e in history if "loss" in e]
    eval_logs = [e for e in history if "eval_loss" in e]
    assert all(set(e) == {"loss", "grad_norm", "learning_rate", "epoch", "step"} for e in train_logs)
    assert {"eval_loss", "eval_accuracy", "eval_f1", "eval_runtime", "eval_samples_per_second",
            "eval_steps_per_second", "epoch", "step"} == set(eval_logs[0])  # fmt: skip
    assert [e["step"] for e in eval_logs] == [8, 16, 24, 32, 40, 48]
    assert set(history[-1]) >= {"train_runtime", "train_loss", "train_samples_per_second", "epoch", "step"}
    assert output.global_step == 48 and history[-1]["epoch"] == 6.0
    assert train_logs[-1]["loss"] < 0.6 * train_logs[0]["loss"]
    assert eval_logs[-1]["eval_loss"] < eval_logs[0]["eval_loss"]
    assert eval_logs[-1]["eval_accuracy"] >= 0.9


# --- accumulation -----------------------------------------------------------------------------------------
def test_gradient_accumulation_equals_the_larger_batch(make_checkpoint, tmp_path, data, tokenizer):
    """8 x 1 and 4 x 2 update on the same examples (the order does not depend on the batch size); 36
    examples leave a last update of 4 examples: one batch of 4 either way."""
    subset = data.select(range(36))
    results = {}
    for batch_size, accumulation in [(8, 1), (4, 2)]:
        model, _ = load(make_checkpoint)
        run_args = args(tmp_path / f"{batch_size}", num_train_epochs=2, per_device_train_batch_size=batch_size,
                        gradient_accumulation_steps=accumulation, weight_decay=0.01, warmup_steps=2)  # fmt: skip
        trainer = Trainer(model, run_args, train_dataset=subset, processing_class=tokenizer)
        results[batch_size] = (trainer.train().global_step, weights(model))
    assert results[8][0] == results[4][0] == 10
    diff = max_diff(results[8][1], results[4][1])
    print(f"accumulation: batch 8 x 1 vs 4 x 2, max |Δparam| {diff:.2e}")
    assert diff <= 1e-5


# --- checkpoints and resume ---------------------------------------------------------------------------------
class StopAt(TrainerCallback):
    """Simulates an interruption: stop after step `step`."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            control.should_training_stop = True


def test_resume_is_exact_with_dropout(make_checkpoint, tmp_path, data, tokenizer):
    """3 epochs of 8 steps, dropout 0.1, checkpoints every 5 steps (mid-epoch): resuming from step 10
    (resume_from_checkpoint=True after an interruption) or from step 15 (a path) ends with the
    uninterrupted run's weights: the batches skipped and the dropout generator restored exactly."""
    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)  # dropout 0.1 everywhere
    run_args = dict(num_train_epochs=3, save_strategy="steps", save_steps=5, weight_decay=0.01, warmup_steps=3)

    def run(out, resume=None, callbacks=None):
        model = nanohf.BertForSequenceClassification.from_pretrained(folder)
        trainer = Trainer(model, args(out, **run_args), train_dataset=data, processing_class=tokenizer,
                          callbacks=callbacks)  # fmt: skip
        return trainer, trainer.train(resume_from_checkpoint=resume)

    full, output = run(tmp_path / "full")
    reference = weights(full.model)
    assert output.global_step == 24

    interrupted, output = run(tmp_path / "interrupted", callbacks=[StopAt(10)])
    assert output.global_step == 10 and max_diff(weights(interrupted.model), reference) > 1e-3
    resumed, output = run(tmp_path / "interrupted", resume=True)
    assert output.global_step == 24
    diff_true = max_diff(weights(resumed.model), reference)

    resumed_path, _ = run(tmp_path / "other", resume=str(tmp_path / "full" / "checkpoint-15"))
    diff_path = max_diff(weights(resumed_path.model), reference)
    print(f"resume: max |Δparam| vs uninterrupted: from step 10 (True) {diff_true:.1e}, from step 15 {diff_path:.1e}")
    assert diff_true == 0.0 and diff_path == 0.0  # bit-identical
    # The log history carries on from the checkpoint's.
    assert [e["step"] for e in resumed.state.log_history if "loss" in e] == [4, 8, 12, 16, 20, 24]


def test_checkpoint_folder_contents_and_transformers_loads_it(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, max_steps=6, save_strategy="steps", save_steps=3, save_total_limit=1),
                      train_dataset=data, processing_class=tokenizer)  # fmt: skip
    trainer.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-6"]  # rotation kept the newest only
    checkpoint = tmp_path / "checkpoint-6"
    assert CHECKPOINT_FILES <= {p.name for p in checkpoint.iterdir()}
    assert not list(tmp_path.rglob("*.tmp"))
    state = json.loads((checkpoint / "trainer_state.json").read_text())
    assert state["global_step"] == 6 and state["max_steps"] == 6
    assert json.loads((checkpoint / "training_args.json").read_text())["save_steps"] == 3
    assert json.loads((checkpoint / "scheduler.json").read_text())["last_epoch"] == 6

    reference = transformers.BertForSequenceClassification.from_pretrained(checkpoint).eval()
    batch = trainer._collate([data[i] for i in range(5)])
    with torch.no_grad():
        expected = reference(**{k: torch.tensor(v) for k, v in batch.items() if k != "labels"}).logits.numpy()
    model.eval()
    np.testing.assert_allclose(model(**batch).logits, expected, atol=1e-5)
    # The tokenizer is saved too, and the checkpoint loads back into nanohf.
    assert nanohf.AutoTokenizer.from_pretrained(checkpoint)("w5 w6")["input_ids"] == [2, 5, 6, 3]
    trainer.save_model(str(tmp_path / "final"))
    assert {"model.safetensors", "config.json", "vocab.txt"} <= {p.name for p in (tmp_path / "final").iterdir()}


def test_save_total_limit_rotation_keeps_best_and_newest(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, max_steps=8, save_strategy="steps", save_steps=2, save_total_limit=2),
                      train_dataset=data, processing_class=tokenizer)  # fmt: skip
    trainer.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-6", "checkpoint-8"]

    # With a best checkpoint older than the newest, limit=1 keeps both (as transformers).
    scores = iter([0.9, 0.1, 0.2, 0.3])
    out = tmp_path / "best"
    trainer = Trainer(load(make_checkpoint)[0], args(out, max_steps=8, eval_strategy="steps", eval_steps=2,
                                                     save_strategy="steps", save_steps=2, save_total_limit=1,
                                                     load_best_model_at_end=True, metric_for_best_model="score"),
                      train_dataset=data, eval_dataset=data.select(range(8)), processing_class=tokenizer,
                      compute_metrics=lambda p: {"score": next(scores)})  # fmt: skip
    trainer.train()
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-2", "checkpoint-8"]
    assert trainer.state.best_model_checkpoint == str(out / "checkpoint-2")


# --- evaluate and predict -----------------------------------------------------------------------------------
def test_evaluate_and_predict(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    seen = []

    def compute_metrics(eval_pred):
        assert isinstance(eval_pred, EvalPrediction)
        logits, labels = eval_pred
        seen.append((logits, labels))
        return glue_metrics("mrpc", np.argmax(logits, axis=-1), labels)

    trainer = Trainer(model, args(tmp_path, per_device_eval_batch_size=5), eval_dataset=data.select(range(23)),
                      processing_class=tokenizer, compute_metrics=compute_metrics)  # fmt: skip
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_accuracy", "eval_f1", "eval_runtime", "eval_samples_per_second"} <= set(metrics)
    logits, labels = seen[-1]
    assert logits.shape == (23, 2) and labels.tolist() == list(np.asarray(data["label"][:23]))

    batch = trainer._collate([data[i] for i in range(23)])
    out = model(**batch)
    assert metrics["eval_loss"] == pytest.approx(float(out.loss), abs=1e-6)  # mean over examples
    np.testing.assert_allclose(logits, out.logits, atol=1e-5)
    expected = glue_metrics("mrpc", out.logits.argmax(-1), batch["labels"])
    assert metrics["eval_accuracy"] == expected["accuracy"] and metrics["eval_f1"] == expected["f1"]
    assert trainer.state.log_history[-1]["eval_loss"] == metrics["eval_loss"]

    prediction = trainer.predict(data.select(range(23)))
    assert isinstance(prediction, nanohf.trainer.PredictionOutput)
    np.testing.assert_allclose(prediction.predictions, logits, atol=1e-6)
    assert prediction.label_ids.tolist() == labels.tolist()
    assert {"test_loss", "test_accuracy", "test_f1", "test_runtime"} <= set(prediction.metrics)
    assert not any(k.startswith("eval_") for k in prediction.metrics)

    unlabeled = trainer.predict(data.select(range(7)).remove_columns(["label"]))
    assert unlabeled.label_ids is None and unlabeled.predictions.shape == (7, 2)
    assert "test_loss" not in unlabeled.metrics


def test_token_classification_predictions_padded_with_minus_100(make_checkpoint, tmp_path, tokenizer):
    model, _ = load(make_checkpoint, "BertForTokenClassification", {**NO_DROPOUT["BertForSequenceClassification"],
                                                                     "num_labels": 3})  # fmt: skip
    rng = np.random.default_rng(1)
    lengths = [3, 4, 3, 9, 8, 2, 12]  # batches of 3: longest 4, 9, 12
    rows = [{"input_ids": rng.integers(5, 99, n).tolist(), "labels": rng.integers(0, 3, n).tolist()} for n in lengths]
    dataset = Dataset.from_list(rows)
    trainer = Trainer(model, args(tmp_path, per_device_eval_batch_size=3), processing_class=tokenizer,
                      data_collator=DataCollatorForTokenClassification(tokenizer))  # fmt: skip
    prediction = trainer.predict(dataset)
    assert prediction.predictions.shape == (7, 12, 3) and prediction.label_ids.shape == (7, 12)
    for i, n in enumerate(lengths):
        assert prediction.label_ids[i, :n].tolist() == rows[i]["labels"]
        assert (prediction.label_ids[i, n:] == -100).all()
        # A row is padded within its batch (to the batch's longest), then with -100 to the longest overall.
        batch_longest = max(lengths[i - i % 3: i - i % 3 + 3])
        assert (prediction.predictions[i, batch_longest:] == -100).all()
        alone = model(input_ids=np.array([rows[i]["input_ids"]])).logits[0]
        np.testing.assert_allclose(prediction.predictions[i, :n], alone, atol=1e-5)
    assert "test_loss" in prediction.metrics


# --- best model and early stopping ---------------------------------------------------------------------------
def test_early_stopping_restores_the_best_weights(make_checkpoint, tmp_path, data, tokenizer):
    scores = iter([0.5, 0.8, 0.7, 0.75, 0.9, 0.9])  # best at the 2nd evaluation, then 2 without improvement
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, num_train_epochs=10, eval_strategy="epoch", save_strategy="epoch",
                                  load_best_model_at_end=True, metric_for_best_model="score"),
                      train_dataset=data, eval_dataset=data.select(range(8)), processing_class=tokenizer,
                      compute_metrics=lambda p: {"score": next(scores)},
                      callbacks=[EarlyStoppingCallback(early_stopping_patience=2)])  # fmt: skip
    output = trainer.train()
    assert output.global_step == 32  # 4 evaluations of 8 steps each, not 80 steps
    assert trainer.state.best_metric == 0.8 and trainer.args.greater_is_better
    assert trainer.state.best_model_checkpoint == str(tmp_path / "checkpoint-16")
    best = nanohf.BertForSequenceClassification.from_pretrained(tmp_path / "checkpoint-16")
    assert max_diff(weights(model), weights(best)) == 0.0
    last = nanohf.BertForSequenceClassification.from_pretrained(tmp_path / "checkpoint-32")
    assert max_diff(weights(model), weights(last)) > 1e-4

    with pytest.raises(ValueError, match="load_best_model_at_end"):
        Trainer(load(make_checkpoint)[0], args(tmp_path / "x", max_steps=1), train_dataset=data,
                processing_class=tokenizer, callbacks=[EarlyStoppingCallback()]).train()  # fmt: skip


# --- strategies -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy, expected_steps", [("steps", [3, 6, 9, 12]), ("epoch", [8, 12]), ("no", [])])
def test_log_eval_save_strategies(make_checkpoint, tmp_path, data, tokenizer, strategy, expected_steps):
    """64 examples, batch 8: 8 steps per epoch; max_steps=12 overrides num_train_epochs=5 and, as in
    transformers, the run's end is an epoch end and (with a step strategy) a save/eval point."""
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, num_train_epochs=5, max_steps=12, logging_strategy=strategy,
                                  logging_steps=3, eval_strategy=strategy, eval_steps=3, save_strategy=strategy,
                                  save_steps=3), train_dataset=data, eval_dataset=data.select(range(8)),
                      processing_class=tokenizer)  # fmt: skip
    output = trainer.train()
    assert output.global_step == 12
    history = trainer.state.log_history
    assert [e["step"] for e in history if "loss" in e] == expected_steps
    assert [e["step"] for e in history if "eval_loss" in e] == expected_steps
    saved = [p.name for p in sorted(tmp_path.iterdir(), key=lambda p: int(p.name.split("-")[1]))]
    assert saved == [f"checkpoint-{s}" for s in expected_steps]
    if strategy == "epoch":
        assert [e["epoch"] for e in history if "loss" in e] == [1.0, 1.5]


def test_warmup_in_the_learning_rates_of_a_run(make_checkpoint, tmp_path, data, tokenizer):
    for warmup, expected_warmup in [(4, 4), (0.25, 5)]:  # 20 steps
        model, _ = load(make_checkpoint)
        trainer = Trainer(model, args(tmp_path, max_steps=20, warmup_steps=warmup, logging_steps=1),
                          train_dataset=data, processing_class=tokenizer)  # fmt: skip
        trainer.train()
        lrs = [e["learning_rate"] for e in trainer.state.log_history if "loss" in e]
        expected = [1e-3 * min(s / expected_warmup, (20 - s) / (20 - expected_warmup)) for s in range(1, 21)]
        assert lrs == pytest.approx(expected, abs=1e-12)


# --- bad input ----------------------------------------------------------------------------------------------
def test_text_column_reaching_the_collator(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, max_steps=1, remove_unused_columns=False), train_dataset=data,
                      processing_class=tokenizer)  # fmt: skip
    with pytest.raises(ValueError, match=r"column 'text' holds text.*remove_columns\(\['text'\]\)"):
        trainer.train()
    # The default (remove_unused_columns=True) drops it, as in transformers.
    Trainer(model, args(tmp_path, max_steps=1), train_dataset=data, processing_class=tokenizer).train()


def test_labels_outside_num_labels(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    bad = data.map(lambda example, i: {"label": 5 if i == 3 else example["label"]}, with_indices=True)
    trainer = Trainer(model, args(tmp_path, num_train_epochs=1), train_dataset=bad, processing_class=tokenizer)
    with pytest.raises(ValueError, match=r"label 5 is outside \[0, 2\)"):
        trainer.train()


def test_resume_path_that_does_not_exist(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, max_steps=2), train_dataset=data, processing_class=tokenizer)
    missing = tmp_path / "checkpoint-999"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        trainer.train(resume_from_checkpoint=str(missing))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        trainer.train(resume_from_checkpoint=True)


class PoisonAt(TrainerCallback):
    """Writes NaN into one weight after step `step` (a stand-in for a diverging run)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == self.step:
            model.bert.encoder.layer[0].attention.self.query.weight.data[0, 0] = np.nan


def checkpoint_is_intact(folder: Path, step: int) -> bool:
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    state = json.loads((folder / "trainer_state.json").read_text())
    return (CHECKPOINT_FILES <= {p.name for p in folder.iterdir()} and state["global_step"] == step
            and all(np.isfinite(p.data).all() for p in model.parameters()))  # fmt: skip


@pytest.mark.parametrize("poison_step", [6, 8])  # 8: poisoned on a save step, before the save
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(make_checkpoint, tmp_path, data, tokenizer, poison_step):
    model, _ = load(make_checkpoint)
    trainer = Trainer(model, args(tmp_path, max_steps=20, save_strategy="steps", save_steps=4, save_total_limit=1),
                      train_dataset=data, processing_class=tokenizer, callbacks=[PoisonAt(poison_step)])  # fmt: skip
    with pytest.raises(FloatingPointError, match=r"(loss became nan|NaN).*Last good checkpoint: .*checkpoint-4"):
        trainer.train()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4"]
    assert checkpoint_is_intact(tmp_path / "checkpoint-4", 4)
    # Training can go on from it.
    Trainer(load(make_checkpoint)[0], args(tmp_path, max_steps=8), train_dataset=data,
            processing_class=tokenizer).train(resume_from_checkpoint=True)  # fmt: skip


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_huge_learning_rate_stops_with_a_clear_message(make_checkpoint, tmp_path, data, tokenizer):
    model, _ = load(make_checkpoint)
    run_args = args(tmp_path, max_steps=30, learning_rate=1e36, max_grad_norm=0.0, save_strategy="steps", save_steps=1,
                    save_total_limit=1)  # fmt: skip
    trainer = Trainer(model, run_args, train_dataset=data, processing_class=tokenizer)
    with pytest.raises(FloatingPointError, match=r"Try a lower learning_rate|not saved") as error:
        trainer.train()
    saved = ckpt_folders(tmp_path)
    assert len(saved) == 1 and str(saved[0]) in str(error.value)
    assert checkpoint_is_intact(saved[0], int(saved[0].name.split("-")[1]))


def ckpt_folders(folder):
    return sorted(p for p in Path(folder).iterdir() if p.name.startswith("checkpoint-"))


def test_atomic_save_replaces_a_stale_temporary_folder(make_checkpoint, tmp_path, data, tokenizer):
    """A crash mid-save leaves checkpoint-N.tmp, never a half checkpoint-N; the next save clears it."""
    (tmp_path / "checkpoint-2.tmp").mkdir(parents=True)
    (tmp_path / "checkpoint-2.tmp" / "model.safetensors").write_bytes(b"half")
    model, _ = load(make_checkpoint)
    Trainer(model, args(tmp_path, max_steps=2, save_strategy="steps", save_steps=2), train_dataset=data,
            processing_class=tokenizer).train()  # fmt: skip
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-2"]
    assert checkpoint_is_intact(tmp_path / "checkpoint-2", 2)


def test_non_finite_gradient_norm_stops_before_the_update(make_checkpoint, tmp_path, data, tokenizer, monkeypatch):
    model, _ = load(make_checkpoint)
    before = weights(model)
    monkeypatch.setattr("nanohf.trainer.loop.clip_grad_norm_", lambda parameters, max_norm: float("inf"))
    trainer = Trainer(model, args(tmp_path, max_steps=3), train_dataset=data, processing_class=tokenizer)
    with pytest.raises(FloatingPointError, match=r"gradient norm became inf at step 1.*none saved"):
        trainer.train()
    assert max_diff(weights(model), before) == 0.0

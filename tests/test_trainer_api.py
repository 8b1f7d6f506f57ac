"""The Trainer's transformers 5 API, judged against transformers: decay groups, label smoothing, a custom
compute_loss in training and evaluation, predict()'s named tuple and multi-output predictions, the
optimizer names, callbacks, logs and metrics files, and what Trainer(...) refuses or warns about."""

import inspect
import json
import logging
import math
import re

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT
from test_trainer import NO_DROPOUT, VOCAB, texts_and_labels

import nanohf
from nanohf import BertTokenizer, Dataset, Trainer, TrainerCallback, TrainingArguments
from nanohf.autograd import Loss, is_grad_enabled
from nanohf.data import default_data_collator, disable_progress_bars, enable_progress_bars
from nanohf.trainer import LabelSmoother, PredictionOutput

GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64, bos_token_id=0, eos_token_id=0)
CLASS_WEIGHTS = np.array([0.3, 1.7], dtype=np.float32)


@pytest.fixture(autouse=True)
def quiet(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path_factory.mktemp("map-cache")))
    disable_progress_bars()
    yield
    enable_progress_bars()


@pytest.fixture(scope="module")
def tokenizer():
    return BertTokenizer(vocab={token: i for i, token in enumerate(VOCAB)})


@pytest.fixture(scope="module")
def data(tokenizer):
    texts, labels = texts_and_labels(32, seed=3)
    return Dataset.from_dict({"text": texts, "label": labels}).map(
        lambda b: tokenizer(b["text"], truncation=True), batched=True, load_from_cache_file=False
    )


def run_args(tmp_path, **kwargs):
    defaults = dict(per_device_train_batch_size=4, learning_rate=1e-3, disable_tqdm=True, save_strategy="no",
                    logging_steps=2, weight_decay=0.01, warmup_steps=0.25)  # fmt: skip
    return TrainingArguments(str(tmp_path), **{**defaults, **kwargs})


def weights(model):
    return {name: p.data.copy() for name, p in model.named_parameters()}


# --- weight decay: transformers 5's rule, by module type and name pattern -----------------------------------
@pytest.mark.parametrize("class_name, config", [
    ("BertForSequenceClassification", TINY_BERT), ("DistilBertForSequenceClassification", TINY_DISTILBERT),
    ("GPT2LMHeadModel", GPT2), ("BertForMaskedLM", TINY_BERT), ("DistilBertForQuestionAnswering", TINY_DISTILBERT),
])  # fmt: skip
def test_decay_parameter_names_equal_transformers(make_checkpoint, tmp_path, class_name, config):
    folder = make_checkpoint(class_name, config)
    reference = getattr(transformers, class_name).from_pretrained(folder)
    expected = transformers.Trainer.get_decay_parameter_names(None, reference)
    model = getattr(nanohf, class_name).from_pretrained(folder)
    ours = Trainer(model, run_args(tmp_path)).get_decay_parameter_names(model)
    assert sorted(ours) == sorted(expected)
    print(f"{class_name}: {len(ours)} decayed names, the same as transformers'")


def test_decay_rule_is_by_layer_type_and_transformers_patterns():
    """A LayerNorm under any attribute name is left out (by type); other parameters by transformers' name
    patterns only: "bias", "layernorm", "rmsnorm", a ".norm." component, "_norm" at a component's end."""
    from nanohf.nn import LayerNorm, Linear
    from nanohf.nn.module import Module
    from nanohf.trainer.optimization import decay_parameter_names

    class Block(Module):
        def __init__(self):
            self.final_ln = LayerNorm(4)  # a LayerNorm whose name says nothing
            self.proj = Linear(4, 4)
            self.q_norm = Linear(4, 4, bias=False)  # "_norm" at the end of a component: no decay (by name)
            self.normalizer = Linear(4, 4, bias=False)  # "norm" inside a word: decays, as in transformers

    names = decay_parameter_names(Block())
    assert sorted(names) == ["normalizer.weight", "proj.weight"]


# --- label smoothing: transformers' LabelSmoother, value and gradient -------------------------------------
@pytest.mark.parametrize("shape, shift", [((6, 5), False), ((3, 7, 11), False), ((3, 7, 11), True)])
def test_label_smoother_matches_transformers(shape, shift):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=shape).astype(np.float32) * 3
    labels = rng.integers(0, shape[-1], shape[:-1])
    labels.flat[::4] = -100  # ignored positions
    got = {}
    loss = LabelSmoother(epsilon=0.1)({"logits": logits}, labels, shift_labels=shift,
                                      backward=lambda d: got.setdefault("grad", d))  # fmt: skip
    loss.backward()
    z = torch.tensor(logits, requires_grad=True)
    expected = transformers.trainer_pt_utils.LabelSmoother(epsilon=0.1)({"logits": z}, torch.tensor(labels),
                                                                       shift_labels=shift)  # fmt: skip
    expected.backward()
    value_diff = abs(float(loss) - expected.item())
    grad_diff = float(np.abs(got["grad"] - z.grad.numpy()).max())
    print(f"label smoothing {shape} shift={shift}: |Δloss| {value_diff:.1e}, max |Δgrad| {grad_diff:.1e}")
    assert value_diff <= 1e-6 and grad_diff <= 1e-7
    # num_items_in_batch replaces the count of non-ignored positions as the denominator.
    ours = LabelSmoother(0.2)({"logits": logits}, labels, num_items_in_batch=50)
    reference = transformers.trainer_pt_utils.LabelSmoother(epsilon=0.2)
    theirs = reference({"logits": torch.tensor(logits)}, torch.tensor(labels), num_items_in_batch=50)
    assert float(ours) == pytest.approx(theirs.item(), abs=1e-6)


def torch_reference_run(folder, class_name, epoch_batches, loss_fn, lr=1e-3, weight_decay=0.01, warmup=0.25):
    """transformers' recipe by hand (AdamW with transformers' decay groups, linear warmup/decay, clipping at 1)
    on the very batches the Trainer used; ``loss_fn(model, batch)`` gives each batch's loss."""
    ref = getattr(transformers, class_name).from_pretrained(folder).train()
    decay = set(transformers.Trainer.get_decay_parameter_names(None, ref))
    optimizer = torch.optim.AdamW([
        {"params": [p for n, p in ref.named_parameters() if n in decay], "weight_decay": weight_decay},
        {"params": [p for n, p in ref.named_parameters() if n not in decay], "weight_decay": 0.0},
    ], lr=lr)  # fmt: skip
    total = sum(len(b) for b in epoch_batches)
    scheduler = transformers.get_scheduler("linear", optimizer, num_warmup_steps=math.ceil(warmup * total),
                                           num_training_steps=total)  # fmt: skip
    losses = []
    for batches in epoch_batches:
        for batch in batches:
            loss = loss_fn(ref, {k: torch.tensor(v) for k, v in batch.items()})
            loss.backward()
            losses.append(loss.item())
            torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    return ref, losses


def batches_of(trainer, epochs):
    loader = trainer.get_train_dataloader()
    return [[loader.fetch(i) for i in loader.index_batches(epoch)] for epoch in range(epochs)]


def param_diff(model, ref):
    ours = weights(model)
    return max(float(np.abs(ours[n] - p.detach().numpy()).max()) for n, p in ref.named_parameters() if n in ours)


@pytest.mark.parametrize("class_name", list(NO_DROPOUT))
def test_label_smoothing_training_and_evaluation_match_torch(make_checkpoint, tmp_path, data, tokenizer, class_name):
    folder = make_checkpoint(class_name, NO_DROPOUT[class_name])
    model = getattr(nanohf, class_name).from_pretrained(folder)
    trainer = Trainer(model, run_args(tmp_path, num_train_epochs=2, label_smoothing_factor=0.1), train_dataset=data,
                      eval_dataset=data, processing_class=tokenizer)  # fmt: skip
    epoch_batches = batches_of(trainer, 2)
    trainer.train()
    smoother = transformers.trainer_pt_utils.LabelSmoother(epsilon=0.1)

    def smoothed(ref, batch):
        labels = batch.pop("labels")
        return smoother(ref(**batch), labels)

    ref, losses = torch_reference_run(folder, class_name, epoch_batches, smoothed)
    logged = [e["loss"] for e in trainer.state.log_history if "loss" in e]
    assert logged == pytest.approx([np.mean(losses[2 * k : 2 * k + 2]) for k in range(len(logged))], abs=1e-4)
    diff = param_diff(model, ref)
    print(f"{class_name}: label smoothing 0.1, Trainer vs torch loop, max |Δparam| {diff:.1e} after 16 steps")
    assert diff <= 1e-3
    # evaluate() reports the smoothed loss too (compute_loss is the one place the loss is computed).
    metrics = trainer.evaluate()
    ref.eval()
    with torch.no_grad():
        batch = {k: torch.tensor(v) for k, v in trainer._collate([data[i] for i in range(len(data))]).items()}
        expected = smoother(ref(**{k: v for k, v in batch.items() if k != "labels"}), batch["labels"]).item()
    assert metrics["eval_loss"] == pytest.approx(expected, abs=1e-3)


# --- a custom compute_loss (chapter 7.6): used by train() and evaluate() ---------------------------------------
def weighted_cross_entropy(logits, labels, class_weights):
    """Σ_n w[y_n]·CE_n / Σ_n w[y_n] (torch's CrossEntropyLoss(weight=w)); gradient w[y_n](p_n - onehot) / Σ w."""
    z = logits - logits.max(-1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    w = class_weights[labels]
    rows = np.arange(len(labels))
    value = float((w * -np.log(p[rows, labels])).sum() / w.sum())

    def d_logits(d_loss):
        grad = p.copy()
        grad[rows, labels] -= 1
        return (grad * (w / w.sum() * d_loss)[:, None]).astype(logits.dtype)

    return value, d_logits


class WeightedLossTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        labels = inputs["labels"]
        outputs = model(**{k: v for k, v in inputs.items() if k != "labels"})
        value, d_logits = weighted_cross_entropy(outputs.logits, labels, CLASS_WEIGHTS)
        loss = Loss(value, (lambda d: model.backward(d_logits(d))) if is_grad_enabled() else None)
        return (loss, outputs) if return_outputs else loss


def test_subclass_compute_loss_drives_training_and_evaluation(make_checkpoint, tmp_path, data, tokenizer):
    class_name = "BertForSequenceClassification"
    folder = make_checkpoint(class_name, NO_DROPOUT[class_name])
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    trainer = WeightedLossTrainer(model, run_args(tmp_path, num_train_epochs=2), train_dataset=data,
                                  eval_dataset=data, processing_class=tokenizer)  # fmt: skip
    epoch_batches = batches_of(trainer, 2)
    trainer.train()
    criterion = torch.nn.CrossEntropyLoss(weight=torch.tensor(CLASS_WEIGHTS))
    ref, _ = torch_reference_run(folder, class_name, epoch_batches,
                                 lambda m, b: criterion(m(**{k: v for k, v in b.items() if k != "labels"}).logits,
                                                        b["labels"]))  # fmt: skip
    diff = param_diff(model, ref)
    print(f"weighted compute_loss: Trainer vs torch loop with CrossEntropyLoss(weight), max |Δparam| {diff:.1e}")
    assert diff <= 1e-3
    ref.eval()
    batch = trainer._collate([data[i] for i in range(len(data))])
    with torch.no_grad():
        logits = ref(**{k: torch.tensor(v) for k, v in batch.items() if k != "labels"}).logits
        expected = criterion(logits, torch.tensor(batch["labels"])).item()
    metrics = WeightedLossTrainer(model, run_args(tmp_path, per_device_eval_batch_size=len(data)),
                                  processing_class=tokenizer).evaluate(data)  # fmt: skip
    assert metrics["eval_loss"] == pytest.approx(expected, abs=1e-4)
    plain = Trainer(model, run_args(tmp_path, per_device_eval_batch_size=len(data)),
                    processing_class=tokenizer).evaluate(data)  # fmt: skip
    assert abs(plain["eval_loss"] - metrics["eval_loss"]) > 1e-3  # the override changed the evaluation loss


def test_compute_loss_func_gets_outputs_labels_and_the_item_count(make_checkpoint, tmp_path, data, tokenizer):
    seen = []

    def loss_func(outputs, labels, num_items_in_batch=None):
        seen.append((len(labels), num_items_in_batch))
        value, d_logits = weighted_cross_entropy(outputs.logits, labels, np.ones(2, np.float32))
        scale = len(labels) / num_items_in_batch  # a sum over this batch's labels, over all the update's labels
        return Loss(value * scale, lambda d: model.backward(d_logits(d * scale)))

    folder = make_checkpoint("BertForSequenceClassification", NO_DROPOUT["BertForSequenceClassification"])
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    Trainer(model, run_args(tmp_path, max_steps=3, gradient_accumulation_steps=2), train_dataset=data,
            processing_class=tokenizer, compute_loss_func=loss_func).train()  # fmt: skip
    assert seen == [(4, 8)] * 6  # two batches of 4 per update: normalised by the update's 8 labels


# --- predict(): transformers' return types ----------------------------------------------------------------------
class TorchRows(torch.utils.data.Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return {k: torch.tensor(v) for k, v in self.rows[i].items()}


def qa_rows(n=10, length=9, seed=0):
    rng = np.random.default_rng(seed)
    return [{"input_ids": rng.integers(5, 99, length).tolist(), "attention_mask": [1] * length,
             "start_positions": int(rng.integers(0, length)), "end_positions": int(rng.integers(0, length))}
            for _ in range(n)]  # fmt: skip


def test_question_answering_predictions_are_a_tuple_as_transformers(make_checkpoint, tmp_path):
    folder = make_checkpoint("BertForQuestionAnswering", TINY_BERT)
    rows = qa_rows()
    seen = []

    def compute_metrics(eval_pred):
        seen.append(eval_pred)
        return {"n": len(eval_pred.label_ids[0])}

    ours = Trainer(nanohf.BertForQuestionAnswering.from_pretrained(folder),
                   run_args(tmp_path, per_device_eval_batch_size=4), data_collator=default_data_collator,
                   compute_metrics=compute_metrics).predict(Dataset.from_list(rows))  # fmt: skip
    ref_args = transformers.TrainingArguments(str(tmp_path / "ref"), per_device_eval_batch_size=4, use_cpu=True,
                                              report_to="none", disable_tqdm=True)  # fmt: skip
    theirs = transformers.Trainer(transformers.BertForQuestionAnswering.from_pretrained(folder), ref_args,
                                  compute_metrics=compute_metrics).predict(TorchRows(rows))  # fmt: skip
    assert isinstance(ours, PredictionOutput) and isinstance(ours, tuple)
    predictions, label_ids, metrics = ours  # unpacks as a named tuple
    assert type(predictions) is type(theirs.predictions) is tuple and len(predictions) == 2
    assert type(label_ids) is type(theirs.label_ids) is tuple and len(label_ids) == 2
    for mine, reference in zip(predictions, theirs.predictions, strict=True):
        assert mine.shape == reference.shape == (10, 9)
        np.testing.assert_allclose(mine, reference, atol=1e-4)
    for mine, reference in zip(label_ids, theirs.label_ids, strict=True):
        np.testing.assert_array_equal(mine, reference)
    assert set(metrics) == set(theirs.metrics) - {"test_model_preparation_time"}
    assert metrics["test_loss"] == pytest.approx(theirs.metrics["test_loss"], abs=1e-4)
    assert metrics["test_n"] == 10


def test_classification_predict_as_transformers(make_checkpoint, tmp_path):
    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    rng = np.random.default_rng(1)
    rows = [{"input_ids": rng.integers(5, 99, 6).tolist(), "labels": int(rng.integers(0, 2))} for _ in range(7)]
    ours = Trainer(nanohf.BertForSequenceClassification.from_pretrained(folder),
                   run_args(tmp_path, per_device_eval_batch_size=3)).predict(Dataset.from_list(rows))  # fmt: skip
    ref_args = transformers.TrainingArguments(str(tmp_path / "ref"), per_device_eval_batch_size=3, use_cpu=True,
                                              report_to="none", disable_tqdm=True)  # fmt: skip
    theirs = transformers.Trainer(transformers.BertForSequenceClassification.from_pretrained(folder).eval(),
                                  ref_args).predict(TorchRows(rows))  # fmt: skip
    assert isinstance(ours.predictions, np.ndarray) and ours.predictions.shape == theirs.predictions.shape
    np.testing.assert_allclose(ours.predictions, theirs.predictions, atol=1e-4)
    np.testing.assert_array_equal(ours.label_ids, theirs.label_ids)
    assert set(ours.metrics) == set(theirs.metrics) - {"test_model_preparation_time"}


def test_include_for_metrics_loss_only_and_unconcatenated_batches(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    seen = []

    def compute_metrics(eval_pred):
        seen.append(eval_pred)
        return {"rows": np.float64(len(eval_pred.predictions))}  # a NumPy scalar comes back as a float

    subset = data.select(range(10))
    args = run_args(tmp_path, per_device_eval_batch_size=4, include_for_metrics=["inputs", "loss"])
    metrics = Trainer(model, args, processing_class=tokenizer, compute_metrics=compute_metrics).evaluate(subset)
    predictions, label_ids, inputs, losses = seen[-1]  # unpacks with inputs and losses, in that order
    assert predictions.shape == (10, 2) and inputs.shape[0] == 10 and losses.shape == (10,)
    assert type(metrics["eval_rows"]) is float and metrics["eval_rows"] == 10.0
    assert np.isclose(losses.mean(), metrics["eval_loss"], atol=1e-6)
    assert (inputs == -100).any() or inputs.shape[1] == max(len(x) for x in subset["input_ids"])

    loss_trainer = Trainer(model, run_args(tmp_path, prediction_loss_only=True), processing_class=tokenizer)
    loss_only = loss_trainer.predict(subset)
    assert loss_only.predictions is None and loss_only.label_ids is None and "test_loss" in loss_only.metrics
    split = Trainer(model, run_args(tmp_path, per_device_eval_batch_size=4, eval_do_concat_batches=False),
                    processing_class=tokenizer).predict(subset)  # fmt: skip
    assert [len(b) for b in split.predictions] == [4, 4, 2]
    np.testing.assert_allclose(np.concatenate(split.predictions), predictions, atol=1e-6)


def test_evaluate_a_dict_of_data_sets_prefixes_each(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    sets = {"first": data.select(range(6)), "second": data.select(range(6, 12))}
    trainer = Trainer(model, run_args(tmp_path), eval_dataset=sets, processing_class=tokenizer)
    metrics = trainer.evaluate()
    assert {"eval_first_loss", "eval_second_loss", "eval_first_runtime"} <= set(metrics)
    assert trainer.evaluate(sets["first"])["eval_loss"] == pytest.approx(metrics["eval_first_loss"], abs=1e-7)
    # A name picks one of the Trainer's data sets; the prefix stays "eval" (as in transformers).
    assert trainer.evaluate("second")["eval_loss"] == pytest.approx(metrics["eval_second_loss"], abs=1e-7)


# --- optimizers and schedules --------------------------------------------------------------------------------
def test_optim_names_map_to_nanohf_optimizers(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    for name in ("adamw_torch", "adamw_torch_fused"):
        optimizer = Trainer(model, run_args(tmp_path, optim=name, adam_beta1=0.8, adam_epsilon=1e-6)).create_optimizer()
        assert isinstance(optimizer, nanohf.AdamW)
        assert optimizer.param_groups[0]["betas"] == (0.8, 0.999) and optimizer.param_groups[0]["eps"] == 1e-6
    sgd = Trainer(model, run_args(tmp_path, optim="sgd", optim_args="momentum=0.9, nesterov=True")).create_optimizer()
    ref_cls, ref_kwargs = transformers.Trainer.get_optimizer_cls_and_kwargs(
        transformers.TrainingArguments(str(tmp_path), optim="sgd", optim_args="momentum=0.9, nesterov=True",
                                       learning_rate=1e-3)
    )  # fmt: skip
    assert isinstance(sgd, nanohf.SGD) and ref_cls is torch.optim.SGD
    assert {k: sgd.param_groups[0][k] for k in ref_kwargs} == ref_kwargs
    # Names transformers knows but nanohf cannot build fail when the optimizer is made (in train()), not before.
    trainer = Trainer(model, run_args(tmp_path, optim="adamw_8bit", max_steps=1), train_dataset=data,
                      processing_class=tokenizer)  # fmt: skip
    with pytest.raises(ValueError, match=r"optim='adamw_8bit': nanohf has no such optimizer.*adamw_torch"):
        trainer.train()
    trainer = Trainer(model, run_args(tmp_path), optimizer_cls_and_kwargs=(nanohf.SGD, {"lr": 0.5}))
    custom = trainer.create_optimizer()
    assert isinstance(custom, nanohf.SGD) and trainer.get_learning_rates() == [0.5, 0.5]
    bias = model.classifier.bias
    assert trainer.get_optimizer_group(bias)["weight_decay"] == 0.0 and len(trainer.get_optimizer_group()) == 2
    assert trainer.get_num_trainable_parameters() == sum(p.data.size for p in model.parameters() if p.requires_grad)
    ref = transformers.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    assert trainer.get_num_trainable_parameters() == sum(p.numel() for p in ref.parameters() if p.requires_grad)


def test_lr_scheduler_kwargs_as_transformers(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", NO_DROPOUT["BertForSequenceClassification"])
    )
    kwargs = dict(lr_scheduler_type="cosine_with_restarts", lr_scheduler_kwargs={"num_cycles": 2}, warmup_steps=2)
    trainer = Trainer(model, run_args(tmp_path, max_steps=12, logging_steps=1, **kwargs), train_dataset=data,
                      processing_class=tokenizer)  # fmt: skip
    trainer.train()
    lrs = [e["learning_rate"] for e in trainer.state.log_history if "loss" in e]
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    scheduler = transformers.get_scheduler("cosine_with_restarts", optimizer, num_warmup_steps=2,
                                           num_training_steps=12,
                                           scheduler_specific_kwargs={"num_cycles": 2})  # fmt: skip
    expected = []
    for _ in range(12):
        optimizer.step()
        scheduler.step()
        expected.append(scheduler.get_last_lr()[0])
    assert lrs == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="cosine_with_min_lr.*nanohf.optim does not implement"):
        Trainer(model, run_args(tmp_path, lr_scheduler_type="cosine_with_min_lr", max_steps=1), train_dataset=data,
                processing_class=tokenizer).train()  # fmt: skip


# --- data order ------------------------------------------------------------------------------------------------
def test_data_seed_and_sampling_strategies(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )

    def order(**kwargs):
        loader = Trainer(model, run_args(tmp_path, **kwargs), train_dataset=data).get_train_dataloader()
        return np.concatenate(loader.index_batches(0)).tolist()

    assert order(seed=1) == order(seed=1, data_seed=1) != order(seed=1, data_seed=2)
    assert order(seed=1, data_seed=2) == order(seed=5, data_seed=2)  # data_seed alone decides the order
    assert order(train_sampling_strategy="sequential") == list(range(len(data)))
    assert order(train_sampling_strategy="group_by_length") == order(group_by_length=True)
    assert sorted(order(train_sampling_strategy="group_by_length")) == list(range(len(data)))
    trainer = Trainer(model, run_args(tmp_path), train_dataset=data)
    assert trainer.num_examples(trainer.get_train_dataloader()) == len(data)
    assert trainer.num_examples(trainer.get_test_dataloader(data.select(range(5)))) == 5


# --- callbacks, logs, metrics files -----------------------------------------------------------------------------
class Recorder(TrainerCallback):
    def __init__(self):
        self.events = []

    def __getattribute__(self, name):
        if name.startswith("on_"):
            return lambda args, state, control, **kwargs: object.__getattribute__(self, "events").append(name)
        return object.__getattribute__(self, name)


def test_callbacks_add_pop_remove_and_the_events(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    recorder = Recorder()
    trainer = Trainer(model, run_args(tmp_path, max_steps=2, gradient_accumulation_steps=2, eval_strategy="steps",
                                      eval_steps=2), train_dataset=data, eval_dataset=data.select(range(4)),
                      processing_class=tokenizer, callbacks=[recorder])  # fmt: skip
    assert recorder.events == ["on_init_end"] and trainer.callbacks == [recorder]

    class Other(TrainerCallback):
        pass

    trainer.add_callback(Other)  # a class is instantiated
    assert isinstance(trainer.pop_callback(Other), Other)
    assert trainer.pop_callback(Other) is None and trainer.callbacks == [recorder]
    with pytest.warns(UserWarning, match="there is already one"):
        trainer.add_callback(Recorder())
    trainer.remove_callback(trainer.callbacks[-1])
    trainer.train()
    events = recorder.events[1:]
    assert events[:4] == ["on_train_begin", "on_epoch_begin", "on_step_begin", "on_substep_end"]
    assert events.count("on_step_end") == 2 and events.count("on_optimizer_step") == 2
    assert events.count("on_pre_optimizer_step") == 2 and events.count("on_evaluate") == 1
    assert events.count("on_prediction_step") == 1 and events[-1] == "on_train_end"
    trainer.predict(data.select(range(4)))
    assert recorder.events[-2:] == ["on_prediction_step", "on_predict"]


def test_log_log_metrics_save_metrics_save_state_as_transformers(make_checkpoint, tmp_path, data, tokenizer, capsys):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    trainer = Trainer(model, run_args(tmp_path, max_steps=2, include_num_input_tokens_seen="non_padding"),
                      train_dataset=data, processing_class=tokenizer)  # fmt: skip
    first_two = np.concatenate(trainer.get_train_dataloader().index_batches(0)[:2])
    output = trainer.train()
    assert trainer.state.num_input_tokens_seen == sum(sum(data[int(i)]["attention_mask"]) for i in first_two)
    assert trainer.state.log_history[-1]["num_input_tokens_seen"] == trainer.state.num_input_tokens_seen
    trainer.log({"custom": 1.5})
    assert trainer.state.log_history[-1] == {"custom": 1.5, "epoch": trainer.state.epoch,
                                             "num_input_tokens_seen": trainer.state.num_input_tokens_seen,
                                             "step": 2}  # fmt: skip
    metrics = {"train_runtime": 3.25, "train_loss": 0.123456789, "epoch": 1.0, "total_flos": 0}
    trainer.log_metrics("train", metrics)
    ours = capsys.readouterr().out
    transformers.trainer_pt_utils.log_metrics(trainer, "train", metrics)  # the helper only needs is_world_process_zero
    assert ours == capsys.readouterr().out and "0:00:03.25" in ours
    trainer.save_metrics("train", output.metrics)
    trainer.save_metrics("eval", {"eval_loss": 0.5})
    assert json.loads((tmp_path / "train_results.json").read_text()) == json.loads(json.dumps(output.metrics))
    assert json.loads((tmp_path / "all_results.json").read_text())["eval_loss"] == 0.5
    trainer.save_state()
    assert json.loads((tmp_path / "trainer_state.json").read_text())["global_step"] == 2
    assert trainer.is_world_process_zero() and trainer.is_local_process_zero()
    assert trainer.state.is_world_process_zero and trainer.state.is_local_process_zero
    with pytest.raises(ConnectionError, match="never uploads"):
        trainer.push_to_hub()


# --- run-level settings ---------------------------------------------------------------------------------------
def test_eval_on_start_eval_delay_and_save_strategy_best(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    scores = iter([0.1, 0.5, 0.4, 0.6, 0.2])
    trainer = Trainer(model, run_args(tmp_path, max_steps=8, eval_strategy="steps", eval_steps=2, eval_delay=3,
                                      eval_on_start=True, save_strategy="best", metric_for_best_model="score"),
                      train_dataset=data, eval_dataset=data.select(range(4)), processing_class=tokenizer,
                      compute_metrics=lambda p: {"score": next(scores)})  # fmt: skip
    trainer.train()
    evals = [e["step"] for e in trainer.state.log_history if "eval_loss" in e]
    assert evals == [0, 4, 6, 8]  # at the start, then from step 3 on (eval_delay): 2 is skipped
    # save_strategy="best": a checkpoint for each new best only (0.5 at 4, 0.6 at 8; not 0.4 at 6).
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("checkpoint")) == [
        "checkpoint-4", "checkpoint-8"]  # fmt: skip
    assert trainer.state.best_metric == 0.6 and trainer.state.best_global_step == 8


def test_save_only_model_checkpoints_cannot_resume(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    args = run_args(tmp_path, max_steps=2, save_strategy="steps", save_steps=2, save_only_model=True)
    trainer = Trainer(model, args, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    files = {p.name for p in (tmp_path / "checkpoint-2").iterdir()}
    assert {"model.safetensors", "config.json", "trainer_state.json", "training_args.json"} <= files
    assert not files & {"optimizer.safetensors", "optimizer.json", "scheduler.json", "rng_state.json"}
    with pytest.raises(ValueError, match="save_only_model=True"):
        trainer.train(resume_from_checkpoint=True)


def test_model_init_full_determinism_and_use_cache(make_checkpoint, tmp_path, data, tokenizer):
    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)  # dropout 0.1: the seed matters
    calls = []

    def model_init():
        calls.append(1)
        return nanohf.BertForSequenceClassification.from_pretrained(folder)

    runs = []
    for _ in range(2):
        trainer = Trainer(args=run_args(tmp_path, max_steps=3, full_determinism=True), model_init=model_init,
                          train_dataset=data, processing_class=tokenizer)  # fmt: skip
        trainer.train()
        runs.append(weights(trainer.model))
    assert len(calls) == 4  # once in Trainer(...), once again in train(), as transformers
    assert max(float(np.abs(runs[0][n] - runs[1][n]).max()) for n in runs[0]) == 0.0
    plain = Trainer(nanohf.BertForSequenceClassification.from_pretrained(folder), run_args(tmp_path))
    assert plain.model.config.use_cache is False  # set from args.use_cache in Trainer(...), as transformers
    with pytest.raises(RuntimeError, match="either a `model` or `model_init`"):
        Trainer(args=run_args(tmp_path))


# --- what Trainer(...) refuses or warns about, where transformers does ------------------------------------------
@pytest.fixture(scope="module")
def torch_bert(make_checkpoint):
    return transformers.BertForSequenceClassification.from_pretrained(make_checkpoint("BertForSequenceClassification",
                                                                                      TINY_BERT))  # fmt: skip


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(report_to="wandb"), RuntimeError, "no experiment-tracker integrations"),
    (dict(report_to=["tensorboard"]), RuntimeError, "no experiment-tracker integrations"),
    (dict(fsdp="full_shard"), ValueError, "Using fsdp only works in distributed training"),
    (dict(save_strategy="best"), ValueError, "`args.metric_for_best_model` must be provided"),
])  # fmt: skip
def test_refused_in_trainer_init_as_transformers(make_checkpoint, tmp_path, torch_bert, kwargs, error, message):
    ref_args = transformers.TrainingArguments(str(tmp_path / "ref"), use_cpu=True, **kwargs)
    with pytest.raises(error):
        transformers.Trainer(torch_bert, ref_args)
    args = TrainingArguments(str(tmp_path), **kwargs)  # accepted here, as in transformers
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    with pytest.raises(error, match=re.escape(message) if "`" in message else message):
        Trainer(model, args)


def test_offline_and_gpu_only_settings(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    args = TrainingArguments(str(tmp_path), push_to_hub=True, hub_model_id="me/model")  # accepted, as transformers
    with pytest.raises(ConnectionError, match="push_to_hub=True: nanohf works offline"):
        Trainer(model, args)
    with pytest.raises(NotImplementedError, match="NEFTune"):
        Trainer(model, TrainingArguments(str(tmp_path), neftune_noise_alpha=5.0))
    trainer = Trainer(model, run_args(tmp_path, use_liger_kernel=True, max_steps=1), train_dataset=data)
    with pytest.raises(ImportError, match="Liger kernels are Triton GPU kernels"):  # in train(), as transformers
        trainer.train()
    # transformers trains with fp16=True on a CPU; nanohf does too (in float32), and says so.
    with pytest.warns(UserWarning, match=r"no effect here: fp16=True \(nanohf trains in float32.*torch_compile=True"):
        trainer = Trainer(model, run_args(tmp_path, fp16=True, torch_compile=True, max_steps=2), train_dataset=data,
                          processing_class=tokenizer)  # fmt: skip
    assert trainer.train().global_step == 2


def test_tokenizer_and_processing_class(make_checkpoint, tmp_path, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    for trainer in (Trainer(model, run_args(tmp_path), processing_class=tokenizer),
                    Trainer(model, run_args(tmp_path), tokenizer=tokenizer)):  # fmt: skip
        assert trainer.processing_class is tokenizer and trainer.tokenizer is tokenizer
    assert Trainer(model, run_args(tmp_path)).label_names == ["labels"]
    assert Trainer(nanohf.BertForQuestionAnswering.from_pretrained(make_checkpoint("BertForQuestionAnswering",
                                                                                   TINY_BERT)),
                   run_args(tmp_path)).label_names == ["start_positions", "end_positions"]  # fmt: skip


def test_log_level_sets_the_nanohf_logger(make_checkpoint, tmp_path):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    logger = logging.getLogger("nanohf")
    previous = logger.level
    try:
        Trainer(model, TrainingArguments(str(tmp_path), log_level="error"))
        assert logger.level == logging.ERROR
        logger.setLevel(logging.WARNING)
        Trainer(model, TrainingArguments(str(tmp_path)))  # "passive": leaves it alone
        assert logger.level == logging.WARNING
    finally:
        logger.setLevel(previous)


def test_early_stopping_needs_evaluations(make_checkpoint, tmp_path, data, tokenizer):
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    args = run_args(tmp_path, max_steps=1, save_strategy="no", load_best_model_at_end=True)  # valid: both "no"
    trainer = Trainer(model, args, train_dataset=data, processing_class=tokenizer,
                      callbacks=[nanohf.EarlyStoppingCallback()])  # fmt: skip
    with pytest.raises(ValueError, match="needs an eval_strategy"):
        trainer.train()


def test_only_rank_zero_writes(make_checkpoint, tmp_path, tokenizer, monkeypatch, capsys, request):
    """A rank other than 0 (faked: a world of one whose rank is 1, so no collective runs) is neither world nor,
    with the launcher's local rank 1, local process zero, and writes nothing; local rank 0 on a second machine
    is local zero but not world zero."""
    from nanohf import distributed

    world = distributed.World()
    world.rank = 1
    monkeypatch.setattr(distributed, "_world", world)
    nanohf_logger = logging.getLogger("nanohf")
    request.addfinalizer(lambda level=nanohf_logger.level: nanohf_logger.setLevel(level))  # a replica sets its level
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1")
    model = nanohf.BertForSequenceClassification.from_pretrained(
        make_checkpoint("BertForSequenceClassification", TINY_BERT)
    )
    trainer = Trainer(model, run_args(tmp_path / "out"), processing_class=tokenizer)
    assert not trainer.is_world_process_zero() and not trainer.is_local_process_zero()
    assert not trainer.args.should_save and not trainer.args.should_log
    trainer.save_model()
    trainer.save_metrics("eval", {"eval_loss": 1.0})
    trainer.save_state()
    trainer.log_metrics("eval", {"eval_loss": 1.0})
    assert not (tmp_path / "out").exists() and capsys.readouterr().out == ""
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_RANK", "0")
    assert trainer.is_local_process_zero() and not trainer.is_world_process_zero()


METHODS = ["__init__", "train", "evaluate", "predict", "prediction_step", "compute_loss", "training_step", "save_model",
           "log", "create_optimizer", "create_scheduler", "create_optimizer_and_scheduler", "push_to_hub",
           "get_train_dataloader", "get_eval_dataloader", "get_test_dataloader", "log_metrics", "save_metrics",
           "save_state", "num_examples", "add_callback", "pop_callback", "remove_callback", "is_world_process_zero",
           "is_local_process_zero", "get_decay_parameter_names", "get_optimizer_cls_and_kwargs", "get_learning_rates",
           "get_optimizer_group", "get_num_trainable_parameters", "call_model_init"]  # fmt: skip


@pytest.mark.parametrize("name", METHODS)
def test_method_signatures_are_transformers(name):
    """Same parameter names, order and defaults as transformers 5 (annotations aside); the one addition is the
    keyword-only ``tokenizer=`` of Trainer(...), transformers 4's name of ``processing_class``."""
    ours = inspect.signature(getattr(Trainer, name)).parameters
    theirs = inspect.signature(getattr(transformers.Trainer, name)).parameters
    extra = {"__init__": ["tokenizer"]}.get(name, [])
    assert [n for n in ours if n not in extra] == list(theirs), name
    assert all(ours[n].default == theirs[n].default for n in theirs), name
    assert all(ours[n].kind == inspect.Parameter.KEYWORD_ONLY for n in extra)


def test_trainer_state_and_control_fields_are_transformers():
    for ours, theirs in [(nanohf.TrainerState, transformers.TrainerState),
                         (nanohf.TrainerControl, transformers.TrainerControl)]:  # fmt: skip
        mine = inspect.signature(ours).parameters
        reference = inspect.signature(theirs).parameters
        assert list(mine) == list(reference)
        assert all(mine[n].default == reference[n].default for n in reference if n != "log_history")

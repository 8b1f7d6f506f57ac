"""Gradient parity with torch autograd: the hand-written backward of every head, matched by name.

Both libraries load the same checkpoint (small configs, dropout 0), run the same padded batch,
and backpropagate the same loss. Tolerances: loss ≤ 1e-5; per parameter the relative error
‖g − g_torch‖ / ‖g_torch‖ ≤ 1e-4. Some gradients are exactly zero in exact arithmetic (a key bias
shifts every score of a softmax row equally; a bias before a loss that is shift-invariant), so
their float32 values are pure rounding noise: the denominator has a floor of 1e-3 × the largest
gradient norm of the model, which keeps the test meaningful for every other parameter.
"""

import numpy as np
import pytest
import torch
from conftest import TINY_BERT, TINY_DISTILBERT, ragged_batch

import nanohf

LOSS_TOL = 1e-5
GRAD_TOL = 1e-4
NO_DROPOUT = {
    "bert": dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0),
    "distilbert": dict(dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0, qa_dropout=0.0),
}


def config_for(class_name: str, **extra) -> dict:
    family = "distilbert" if class_name.startswith("DistilBert") else "bert"
    base = TINY_DISTILBERT if family == "distilbert" else TINY_BERT
    return {**base, **NO_DROPOUT[family], **extra}


def labels_for(class_name: str, input_ids, attention_mask, num_labels=2, vocab=99):
    rng = np.random.default_rng(1)
    if "Sequence" in class_name:
        return {"labels": rng.integers(0, num_labels, len(input_ids))}
    if "Question" in class_name:
        return {"start_positions": np.array([1, 3, 0, 99]), "end_positions": np.array([4, 3, 2, 1])}
    labels = rng.integers(0, num_labels if "Token" in class_name else vocab, input_ids.shape)
    labels[attention_mask == 0] = -100
    return {"labels": labels}


def compare_gradients(make_checkpoint, class_name, config, inputs, freeze=None):
    """Backpropagate in both libraries; returns (loss diff, {name: rel err}, ours, torch model)."""
    import transformers

    folder = make_checkpoint(class_name, config)
    ours = getattr(nanohf, class_name).from_pretrained(folder).train()
    theirs = getattr(transformers, class_name).from_pretrained(folder, attn_implementation="eager").train()
    for named_parameters in (ours.named_parameters(), theirs.named_parameters()):
        for name, p in named_parameters:
            if freeze and name.startswith(freeze):
                p.requires_grad = False
    loss = ours(**inputs).loss
    loss.backward()
    ref = theirs(**{k: torch.tensor(v) for k, v in inputs.items()}).loss
    ref.backward()

    torch_grads = {n: p.grad.numpy() for n, p in theirs.named_parameters() if p.grad is not None}
    floor = 1e-3 * max(np.linalg.norm(g) for g in torch_grads.values())
    errors = {}
    for name, p in ours.named_parameters():
        if name not in torch_grads:
            assert p.grad is None, f"{name}: nanohf has a gradient where torch has none"
            continue
        assert p.grad is not None, f"{name}: no gradient"
        assert p.grad.dtype == np.float32 and p.grad.shape == p.data.shape
        g = torch_grads[name]
        errors[name] = float(np.linalg.norm(p.grad - g) / max(np.linalg.norm(g), floor))
    return abs(float(loss) - ref.item()), errors, ours, theirs


CLASSES = [
    "BertForSequenceClassification",
    "BertForMaskedLM",
    "BertForTokenClassification",
    "BertForQuestionAnswering",
    "DistilBertForSequenceClassification",
    "DistilBertForMaskedLM",
    "DistilBertForTokenClassification",
    "DistilBertForQuestionAnswering",
]


@pytest.mark.parametrize("class_name", CLASSES)
def test_every_head_matches_torch_autograd(make_checkpoint, class_name):
    input_ids, attention_mask = ragged_batch(99, lengths=(12, 9, 4, 12))
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if class_name.startswith("Bert"):
        token_type_ids = np.zeros_like(input_ids)
        token_type_ids[:, 5:] = 1
        inputs["token_type_ids"] = token_type_ids * attention_mask
    inputs.update(labels_for(class_name, input_ids, attention_mask))
    loss_diff, errors, ours, _ = compare_gradients(make_checkpoint, class_name, config_for(class_name), inputs)
    assert loss_diff <= LOSS_TOL, f"{class_name} loss |Δ| {loss_diff:.2e}"
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"{class_name}: worst relative gradient error {errors[worst]:.2e} at {worst}"
    assert len(errors) == len(list(ours.named_parameters()))


@pytest.mark.parametrize(
    "problem, num_labels, labels",
    [
        ("regression", 1, np.array([0.5, -1.0, 2.0], np.float32)),
        ("multi_label_classification", 3, np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]], np.float32)),
        ("single_label_classification", 3, np.array([2, 0, 1])),
    ],
)
def test_sequence_classification_problem_types(make_checkpoint, problem, num_labels, labels):
    class_name = "BertForSequenceClassification"
    input_ids, attention_mask = ragged_batch(99, lengths=(8, 5, 3))
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, labels=labels)
    config = config_for(class_name, num_labels=num_labels)
    loss_diff, errors, _, _ = compare_gradients(make_checkpoint, class_name, config, inputs)
    assert loss_diff <= LOSS_TOL, f"{problem} loss |Δ| {loss_diff:.2e}"
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"{problem}: relative gradient error {errors[worst]:.2e} at {worst}"


def test_frozen_base_trains_only_the_head(make_checkpoint):
    class_name = "DistilBertForSequenceClassification"
    input_ids, attention_mask = ragged_batch(99, lengths=(8, 5))
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, labels=np.array([1, 0]))
    _, errors, ours, _ = compare_gradients(
        make_checkpoint, class_name, config_for(class_name), inputs, freeze="distilbert."
    )
    assert set(errors) == {"pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"}
    assert max(errors.values()) <= GRAD_TOL, f"head gradient error {max(errors.values()):.2e}"
    assert all(p.grad is None for n, p in ours.named_parameters() if n.startswith("distilbert."))


def test_tied_mlm_decoder_gets_one_summed_gradient(make_checkpoint):
    class_name = "BertForMaskedLM"
    input_ids, attention_mask = ragged_batch(99, lengths=(8, 5))
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
    inputs.update(labels_for(class_name, input_ids, attention_mask))
    _, errors, ours, _ = compare_gradients(make_checkpoint, class_name, config_for(class_name), inputs)
    embedding = ours.bert.embeddings.word_embeddings.weight
    assert ours.cls.predictions.decoder.weight is embedding
    assert sum(1 for p in ours.parameters() if p is embedding) == 1
    err = errors["bert.embeddings.word_embeddings.weight"]
    assert err <= GRAD_TOL, f"tied embedding gradient error {err:.2e}"


def test_padding_row_of_word_embeddings_gets_no_gradient(make_checkpoint):
    class_name = "BertForTokenClassification"
    input_ids, attention_mask = ragged_batch(99, lengths=(8, 5))  # pad id 0 appears in the batch
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
    inputs.update(labels_for(class_name, input_ids, attention_mask))
    _, errors, ours, _ = compare_gradients(make_checkpoint, class_name, config_for(class_name), inputs)
    assert np.all(ours.bert.embeddings.word_embeddings.weight.grad[0] == 0.0)
    assert errors["bert.embeddings.word_embeddings.weight"] <= GRAD_TOL


def test_loss_api_accumulation_and_no_grad(make_checkpoint):
    folder = make_checkpoint("BertForSequenceClassification", config_for("BertForSequenceClassification"))
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    input_ids, attention_mask = ragged_batch(99, lengths=(8, 5))
    labels = np.array([1, 0])

    loss = model(input_ids, attention_mask, labels=labels).loss
    assert isinstance(float(loss), float) and loss.item() == float(loss) and f"{loss:.3f}"
    loss.backward()
    once = {n: p.grad.copy() for n, p in model.named_parameters()}
    with pytest.raises(RuntimeError, match="already called"):
        loss.backward()

    (model(input_ids, attention_mask, labels=labels).loss / 2).backward()  # accumulates half again
    for name, p in model.named_parameters():
        np.testing.assert_allclose(p.grad, 1.5 * once[name], rtol=1e-5, atol=1e-9, err_msg=name)

    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    with nanohf.no_grad():
        inference_loss = model(input_ids, attention_mask, labels=labels).loss
    with pytest.raises(RuntimeError, match="no_grad"):
        inference_loss.backward()

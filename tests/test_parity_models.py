"""Parity with transformers: the same checkpoint in both libraries gives the same numbers.

Tolerances: logits, start/end logits, hidden states and attentions ≤ 1e-4 (max |Δ|, padded
positions excluded); losses ≤ 1e-5. Every assertion message carries the measured difference.
"""

import numpy as np
import pytest
import torch
from conftest import TINY_BERT, TINY_DISTILBERT, ragged_batch, torch_model

import nanohf

LOGITS_TOL = 1e-4
LOSS_TOL = 1e-5

HEADS = {
    "BertModel": TINY_BERT,
    "BertForSequenceClassification": TINY_BERT,
    "BertForMaskedLM": TINY_BERT,
    "BertForTokenClassification": TINY_BERT,
    "BertForQuestionAnswering": TINY_BERT,
    "DistilBertModel": TINY_DISTILBERT,
    "DistilBertForSequenceClassification": TINY_DISTILBERT,
    "DistilBertForMaskedLM": TINY_DISTILBERT,
    "DistilBertForTokenClassification": TINY_DISTILBERT,
    "DistilBertForQuestionAnswering": TINY_DISTILBERT,
}
OUTPUT_FIELDS = ("logits", "start_logits", "end_logits", "last_hidden_state", "pooler_output")


def run_both(class_name, folder, input_ids, attention_mask, **kwargs):
    """Run nanohf and transformers on the same inputs; returns (nanohf output, torch output)."""
    ours = getattr(nanohf, class_name).from_pretrained(folder)
    theirs = torch_model(class_name, folder)
    ours_out = ours(input_ids, attention_mask=attention_mask, **kwargs)
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    with torch.no_grad():
        theirs_out = theirs(
            input_ids=torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask), **torch_kwargs
        )
    return ours_out, theirs_out


def max_diff(ours: np.ndarray, theirs, token_mask: np.ndarray | None = None) -> float:
    """max |Δ| over the positions where ``token_mask`` (batch, seq) is 1 (all, when None)."""
    theirs = theirs.numpy()
    assert ours.shape == theirs.shape, f"shape {ours.shape} != transformers' {theirs.shape}"
    assert ours.dtype == np.float32, f"dtype {ours.dtype}, expected float32"
    diff = np.abs(ours - theirs)
    if token_mask is not None and diff.ndim >= 2 and diff.shape[:2] == token_mask.shape:
        diff = diff[token_mask.astype(bool)]
    return float(diff.max())


@pytest.mark.parametrize("class_name", list(HEADS))
def test_outputs_match_on_ragged_batch(make_checkpoint, class_name):
    folder = make_checkpoint(class_name, HEADS[class_name])
    input_ids, attention_mask = ragged_batch(99, lengths=(13, 9, 2, 13))
    ours, theirs = run_both(class_name, folder, input_ids, attention_mask)
    compared = 0
    for field in OUTPUT_FIELDS:
        if field in ours:
            diff = max_diff(ours[field], getattr(theirs, field), attention_mask)
            assert diff <= LOGITS_TOL, f"{class_name}.{field}: max |Δ| {diff:.2e} > {LOGITS_TOL}"
            compared += 1
    assert compared >= 1


@pytest.mark.parametrize("class_name", ["BertForSequenceClassification", "BertForQuestionAnswering", "BertModel"])
def test_sentence_pairs_with_token_type_ids(make_checkpoint, class_name):
    folder = make_checkpoint(class_name, TINY_BERT)
    input_ids, attention_mask = ragged_batch(99, lengths=(12, 8, 5))
    token_type_ids = np.zeros_like(input_ids)
    token_type_ids[0, 6:12] = 1
    token_type_ids[1, 4:8] = 2  # type_vocab_size=3 in the tiny config
    token_type_ids[2, 3:5] = 1
    ours, theirs = run_both(class_name, folder, input_ids, attention_mask, token_type_ids=token_type_ids)
    for field in OUTPUT_FIELDS:
        if field in ours:
            diff = max_diff(ours[field], getattr(theirs, field), attention_mask)
            assert diff <= LOGITS_TOL, f"{class_name}.{field} with token types: max |Δ| {diff:.2e}"


@pytest.mark.parametrize("class_name", ["BertForSequenceClassification", "DistilBertForTokenClassification"])
def test_every_hidden_state_and_attention_map(make_checkpoint, class_name):
    config = HEADS[class_name]
    folder = make_checkpoint(class_name, config)
    input_ids, attention_mask = ragged_batch(99, lengths=(10, 4))
    ours, theirs = run_both(
        class_name, folder, input_ids, attention_mask, output_hidden_states=True, output_attentions=True
    )
    layers = config.get("num_hidden_layers", config.get("n_layers"))
    assert len(ours.hidden_states) == len(theirs.hidden_states) == layers + 1
    assert len(ours.attentions) == len(theirs.attentions) == layers
    for i, (a, b) in enumerate(zip(ours.hidden_states, theirs.hidden_states, strict=True)):
        diff = max_diff(a, b, attention_mask)
        assert diff <= LOGITS_TOL, f"hidden_states[{i}]: max |Δ| {diff:.2e}"
    for i, (a, b) in enumerate(zip(ours.attentions, theirs.attentions, strict=True)):
        # Rows of padded queries are excluded; every key column is compared (padded keys must be 0).
        diff = float(np.abs(a - b.numpy()).transpose(0, 2, 1, 3)[attention_mask.astype(bool)].max())
        assert diff <= LOGITS_TOL, f"attentions[{i}]: max |Δ| {diff:.2e}"
    # The second sequence has 4 tokens: its 6 padded keys get exactly zero probability.
    assert np.all(ours.attentions[0][1, :, :, 4:] == 0.0), "padding keys must get probability 0"


def regression_labels(n):
    return np.linspace(-1, 1, n).astype(np.float32)


LOSS_CASES = {
    "regression": (dict(num_labels=1), lambda n: regression_labels(n)),
    "single_label": (dict(num_labels=3), lambda n: np.array([0, 2, 1, 2][:n])),
    "multi_label": (dict(num_labels=3), lambda n: (np.arange(n * 3).reshape(n, 3) % 2).astype(np.float32)),
    "multi_reg": (dict(num_labels=2, problem_type="regression"), lambda n: np.ones((n, 2), np.float32)),
}


@pytest.mark.parametrize("family", ["BertForSequenceClassification", "DistilBertForSequenceClassification"])
@pytest.mark.parametrize("case", list(LOSS_CASES))
def test_sequence_classification_losses(make_checkpoint, family, case):
    extra, make_labels = LOSS_CASES[case]
    folder = make_checkpoint(family, {**HEADS[family], **extra})
    input_ids, attention_mask = ragged_batch(99, lengths=(9, 6, 3))
    labels = make_labels(3)
    ours, theirs = run_both(family, folder, input_ids, attention_mask, labels=labels)
    diff = abs(float(ours.loss) - theirs.loss.item())
    assert diff <= LOSS_TOL, f"{family} {case} loss {float(ours.loss)} vs {theirs.loss.item()}: |Δ| {diff:.2e}"


@pytest.mark.parametrize("class_name", ["BertForTokenClassification", "DistilBertForMaskedLM", "BertForMaskedLM"])
def test_token_losses_ignore_minus_100(make_checkpoint, class_name):
    folder = make_checkpoint(class_name, HEADS[class_name])
    input_ids, attention_mask = ragged_batch(99, lengths=(9, 6, 3))
    classes = 2 if "Token" in class_name else 99
    labels = np.random.default_rng(1).integers(0, classes, input_ids.shape)
    labels[attention_mask == 0] = -100
    labels[0, :3] = -100
    ours, theirs = run_both(class_name, folder, input_ids, attention_mask, labels=labels)
    diff = abs(float(ours.loss) - theirs.loss.item())
    assert diff <= LOSS_TOL, f"{class_name} loss |Δ| {diff:.2e}"


@pytest.mark.parametrize("class_name", ["BertForQuestionAnswering", "DistilBertForQuestionAnswering"])
def test_question_answering_loss(make_checkpoint, class_name):
    folder = make_checkpoint(class_name, HEADS[class_name])
    input_ids, attention_mask = ragged_batch(99, lengths=(9, 6, 3))
    start, end = np.array([1, 4, 40]), np.array([3, 30, 2])  # out-of-range positions are clamped and ignored
    ours, theirs = run_both(
        class_name, folder, input_ids, attention_mask, start_positions=start, end_positions=end
    )
    diff = abs(float(ours.loss) - theirs.loss.item())
    assert diff <= LOSS_TOL, f"{class_name} QA loss |Δ| {diff:.2e}"


def test_return_dict_false_and_index_access(make_checkpoint):
    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    input_ids, attention_mask = ragged_batch(99)
    out = model(input_ids, attention_mask)
    assert out[0] is out.logits and out["logits"] is out.logits and list(out.keys()) == ["logits"]
    as_tuple = model(input_ids, attention_mask, labels=np.array([0, 1, 1]), return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    np.testing.assert_array_equal(as_tuple[1], out.logits)


def test_train_eval_switch_dropout(make_checkpoint):
    folder = make_checkpoint("BertForSequenceClassification", TINY_BERT)
    model = nanohf.BertForSequenceClassification.from_pretrained(folder)
    assert not model.training and not model.bert.encoder.layer[0].attention.self.attention_core.dropout.training
    input_ids, attention_mask = ragged_batch(99)
    eval_logits = model(input_ids, attention_mask).logits
    model.train()
    nanohf.set_seed(0)
    train_logits = model(input_ids, attention_mask).logits
    assert not np.allclose(train_logits, eval_logits), "dropout must change outputs in training mode"
    model.eval()
    np.testing.assert_array_equal(model(input_ids, attention_mask).logits, eval_logits)


# --- full-size checks: one bert-base-sized and one distilbert-base-sized checkpoint ---------------


@pytest.mark.parametrize(
    "class_name, config",
    [
        ("BertForSequenceClassification", dict(num_labels=3)),
        ("DistilBertForSequenceClassification", dict(num_labels=3)),
    ],
)
def test_base_sized_models(make_checkpoint, class_name, config):
    folder = make_checkpoint(class_name, config)  # transformers' defaults: bert-base / distilbert-base sizes
    input_ids, attention_mask = ragged_batch(30522, lengths=(128, 77, 31, 128), seed=3)
    ours, theirs = run_both(class_name, folder, input_ids, attention_mask, output_hidden_states=True)
    diff = max_diff(ours.logits, theirs.logits)
    assert diff <= LOGITS_TOL, f"{class_name} base-sized logits: max |Δ| {diff:.2e}"
    diff = max_diff(ours.hidden_states[-1], theirs.hidden_states[-1], attention_mask)
    assert diff <= LOGITS_TOL, f"{class_name} base-sized last hidden state: max |Δ| {diff:.2e}"


# --- the real all-MiniLM-L6-v2 ----------------------------------------------------------------------


def mean_pool(hidden: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling: average of the token states, padding excluded."""
    mask = attention_mask[..., None].astype(hidden.dtype)
    return (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)


def test_real_minilm_embeddings(minilm_dir):
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(minilm_dir)
    sentences = [
        "This is an example sentence.",
        "Each sentence is converted to a vector.",
        "The quick brown fox jumps over the lazy dog, again and again, until the dog wakes up.",
        "Hi",
    ]
    batch = tokenizer(sentences, padding=True, return_tensors="np")
    ours = nanohf.AutoModel.from_pretrained(minilm_dir)
    theirs = torch_model("BertModel", minilm_dir)
    out = ours(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    with torch.no_grad():
        ref = theirs(**{k: torch.tensor(v) for k, v in batch.items()})
    diff = max_diff(out.last_hidden_state, ref.last_hidden_state, batch["attention_mask"])
    assert diff <= LOGITS_TOL, f"MiniLM last_hidden_state: max |Δ| {diff:.2e}"
    a = mean_pool(out.last_hidden_state, batch["attention_mask"])
    b = mean_pool(ref.last_hidden_state.numpy(), batch["attention_mask"])
    cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    assert cos.min() >= 0.99999, f"MiniLM sentence-embedding cosine {cos.min():.8f} < 0.99999"

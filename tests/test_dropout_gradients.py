"""Backward through dropout: each Dropout must give its backward the mask its own forward drew.

torch's dropout masks cannot be reproduced, so here the judge is a finite difference: with nanohf's
generator re-seeded before every forward, the masks are the same in every evaluation, the loss is a
smooth function of the weights, and the backward's directional derivative must match the numeric one.
Each weight matrix is moved along its own gradient, where the derivative is the gradient's norm;
float32 and ε = 1e-2 limit the agreement to about 5e-3 relative; a Dropout reused by two branches
(its second mask overwrites the first) is off by tens of percent.
"""

import numpy as np
import pytest
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf
from nanohf.models.auto import AutoConfig

TINY_BART = dict(
    vocab_size=99, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
    decoder_attention_heads=4, encoder_ffn_dim=24, decoder_ffn_dim=24, max_position_embeddings=64,
)  # fmt: skip
TINY_GPT2 = dict(vocab_size=99, n_embd=16, n_layer=2, n_head=4, n_positions=64)
DROPOUT = {
    "bert": dict(hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3),
    "distilbert": dict(dropout=0.3, attention_dropout=0.3, seq_classif_dropout=0.3),
    "gpt2": dict(resid_pdrop=0.3, embd_pdrop=0.3, attn_pdrop=0.3),
    "bart": dict(dropout=0.3, attention_dropout=0.3, activation_dropout=0.3, classifier_dropout=0.3),
    "roberta": dict(hidden_dropout_prob=0.3, attention_probs_dropout_prob=0.3),
}
CASES = [
    ("bert", "BertForSequenceClassification", TINY_BERT),
    ("distilbert", "DistilBertForSequenceClassification", TINY_DISTILBERT),
    ("roberta", "RobertaForSequenceClassification", {**TINY_BERT, "pad_token_id": 1}),
    ("gpt2", "GPT2LMHeadModel", TINY_GPT2),
    ("bart", "BartForConditionalGeneration", TINY_BART),
    ("bart", "BartForSequenceClassification", TINY_BART),
]


def loss_of(model, batch, seed=0) -> "nanohf.Loss":
    nanohf.set_seed(seed)  # the same dropout masks on every call
    return model(**batch).loss


@pytest.mark.parametrize("model_type,class_name,config", CASES, ids=[c[1] for c in CASES])
def test_dropout_backward_matches_finite_differences(model_type, class_name, config):
    nanohf.set_seed(0)
    cfg = AutoConfig.for_model(model_type, **config, **DROPOUT[model_type])
    model = getattr(nanohf, class_name)(cfg).train()
    rng = np.random.default_rng(0)
    input_ids = rng.integers(4, 99, (2, 9))
    input_ids[:, -1] = 2  # BART pools the last </s> (eos id 2)
    batch = {"input_ids": input_ids, "attention_mask": np.ones_like(input_ids)}
    batch["labels"] = input_ids if class_name.endswith(("LMHeadModel", "Generation")) else np.array([0, 1])
    model.zero_grad()
    loss_of(model, batch).backward()
    worst = 0.0
    for name, p in model.named_parameters():
        if p.grad is None or p.data.ndim != 2 or "embed" in name or "wte" in name or "pre_classifier" in name:
            continue  # matrices of the layers (pre_classifier feeds a ReLU whose kinks ε crosses: not smooth)
        exact = float(np.linalg.norm(p.grad))  # the derivative along the gradient's own direction
        if exact < 1e-3:
            continue  # below float32's finite-difference resolution of this loss
        v = p.grad / exact
        original = p.data.copy()
        eps = 1e-2
        p.data = original + eps * v
        up = float(loss_of(model, batch))
        p.data = original - eps * v
        down = float(loss_of(model, batch))
        p.data = original
        numeric = (up - down) / (2 * eps)
        error = abs(numeric - exact) / exact
        worst = max(worst, error)
        assert error < 1e-2, f"{class_name}.{name}: backward {exact:.6g} vs finite difference {numeric:.6g}"
    assert worst > 0.0, "no parameter was checked"

"""The course's manual training loop, run by nanohf and by an identical torch loop side by side.

    optimizer = AdamW(model.parameters(), lr=5e-5)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=30)
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        optimizer.step(); lr_scheduler.step(); optimizer.zero_grad()

Same checkpoint, same batches (padded, ragged), dropout 0 so both compute the same function:
the loss must agree within 1e-3 at every one of the 30 steps.
"""

import numpy as np
import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf

STEPS = 30
LOSS_TOL = 1e-3
CONFIGS = {
    "BertForSequenceClassification": {**TINY_BERT, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0},
    "DistilBertForSequenceClassification": {
        **TINY_DISTILBERT, "dropout": 0.0, "attention_dropout": 0.0, "seq_classif_dropout": 0.0,
    },
}  # fmt: skip


def batches(seed=0, batch_size=8):
    """30 ragged right-padded batches of a learnable toy task: label = (first token is even)."""
    rng = np.random.default_rng(seed)
    for _ in range(STEPS):
        lengths = rng.integers(3, 16, batch_size)
        input_ids = np.zeros((batch_size, lengths.max()), dtype=np.int64)
        attention_mask = np.zeros_like(input_ids)
        for i, n in enumerate(lengths):
            input_ids[i, :n] = rng.integers(1, 99, n)
            attention_mask[i, :n] = 1
        yield {"input_ids": input_ids, "attention_mask": attention_mask, "labels": input_ids[:, 0] % 2}


@pytest.mark.parametrize("class_name", list(CONFIGS))
def test_thirty_steps_of_adamw_with_linear_schedule(make_checkpoint, class_name):
    folder = make_checkpoint(class_name, CONFIGS[class_name])

    model = getattr(nanohf, class_name).from_pretrained(folder)
    model.train()
    optimizer = nanohf.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    lr_scheduler = nanohf.get_scheduler("linear", optimizer, num_warmup_steps=3, num_training_steps=STEPS)

    ref = getattr(transformers, class_name).from_pretrained(folder)
    ref.train()
    ref_optimizer = torch.optim.AdamW(ref.parameters(), lr=1e-3, weight_decay=0.01)
    ref_scheduler = transformers.get_scheduler("linear", ref_optimizer, num_warmup_steps=3, num_training_steps=STEPS)

    diffs = []
    for batch in batches():
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()

        ref_loss = ref(**{k: torch.tensor(v) for k, v in batch.items()}).loss
        ref_loss.backward()
        ref_optimizer.step()
        ref_scheduler.step()
        ref_optimizer.zero_grad()
        diffs.append(abs(float(loss) - ref_loss.item()))

    worst = int(np.argmax(diffs))
    print(f"{class_name}: max loss |Δ| over {STEPS} steps {diffs[worst]:.2e} (step {worst})")
    assert diffs[worst] <= LOSS_TOL, f"{class_name}: loss differs by {diffs[worst]:.2e} at step {worst}"
    assert lr_scheduler.get_last_lr() == pytest.approx(ref_scheduler.get_last_lr(), abs=1e-12)
    ours = dict(model.named_parameters())
    param_diff = max(float(np.abs(ours[n].data - p.detach().numpy()).max()) for n, p in ref.named_parameters())
    assert param_diff <= 1e-3, f"{class_name}: parameters differ by {param_diff:.2e} after {STEPS} steps"

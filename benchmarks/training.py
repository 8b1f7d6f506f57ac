"""Training workloads: one step (forward + loss + backward + AdamW) of a sequence classifier.

nanohf uses nanohf.optim.AdamW, transformers torch.optim.AdamW, both with lr 5e-5 and the other
defaults; dropout is on as each model configures it by default (train mode). The FLOP count is
3 × the forward's matrix products (the backward computes two products for each forward one).
"""

from functools import partial
from pathlib import Path

import numpy as np
from common import Workload, read_config, torch_with_all_cores
from inference import TINY_BERT, TINY_DISTILBERT, encoder_flops, random_batch

SMALL_BERT = dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024)


def training_step(library: str, folder: Path, class_name: str, batch: int, seq: int):
    """One optimisation step of `class_name` on a batch × seq batch with random binary labels."""
    ids, mask = random_batch(read_config(folder)["vocab_size"], batch, seq)
    labels = np.random.default_rng(1).integers(0, 2, batch)
    if library == "nanohf":
        import nanohf
        from nanohf.optim import AdamW

        model = getattr(nanohf, class_name).from_pretrained(folder).train()
        optimizer = AdamW(model.parameters(), lr=5e-5)

        def step():
            model(ids, mask, labels=labels).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        return step
    torch = torch_with_all_cores()
    import transformers

    model = getattr(transformers, class_name).from_pretrained(folder).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    t_ids, t_mask, t_labels = (torch.tensor(a) for a in (ids, mask, labels))

    def step():
        model(input_ids=t_ids, attention_mask=t_mask, labels=t_labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def training_flops(folder: Path, batch: int, seq: int) -> float:
    return 3 * encoder_flops(folder, batch, seq)


def workloads(tiny: bool) -> list[Workload]:
    """Full-size rows, or (tiny=True) the same rows with tiny configs and inputs, for the smoke test."""
    if tiny:
        distilbert, small_bert = ("tiny DistilBERT", TINY_DISTILBERT, (2, 16)), ("tiny BERT", TINY_BERT, (4, 16))
    else:
        distilbert, small_bert = ("DistilBERT", {}, (8, 128)), ("BERT 4x256", SMALL_BERT, (32, 128))
    rows = []
    for key, class_name, (name, config, (batch, seq)) in [
        ("train-distilbert-8x128", "DistilBertForSequenceClassification", distilbert),
        ("train-small-bert-32x128", "BertForSequenceClassification", small_bert),
    ]:
        rows.append(Workload(
            key, f"train step {name} {batch}x{seq}", "training",
            setup=partial(training_step, class_name=class_name, batch=batch, seq=seq),
            checkpoint=(class_name, config), flops=partial(training_flops, batch=batch, seq=seq),
        ))  # fmt: skip
    return rows

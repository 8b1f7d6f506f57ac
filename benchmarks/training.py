"""Training workloads: one step (forward + loss + backward + AdamW) of an encoder fine-tuned for a task.

nanohf uses nanohf.optim.AdamW, transformers torch.optim.AdamW, both with lr 5e-5 and the other
defaults; dropout is on as each model configures it by default (train mode). The FLOP count is
3 × the forward's matrix products (the backward computes two products for each forward one).

The tasks: sequence classification (chapter 3: DistilBERT, a small BERT), and chapter 7's token
classification (NER, 9 CoNLL labels, a label per token, -100 on the first) and extractive question
answering (a start and an end position per sequence, at the course's 384-token windows), both on a
MiniLM-size BERT (6 layers, hidden 384, 12 heads, feed-forward 1,536: all-MiniLM-L6-v2's shape, random
weights written by transformers so both libraries start from the same numbers, heads included).
"""

from functools import partial
from pathlib import Path

import numpy as np
from common import Workload, read_config, torch_with_all_cores
from inference import TINY_BERT, TINY_DISTILBERT, encoder_flops, random_batch

SMALL_BERT = dict(num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024)
MINILM_SIZE = dict(num_hidden_layers=6, hidden_size=384, num_attention_heads=12, intermediate_size=1536)
NER_LABELS = 9  # CoNLL-2003: O and B-/I- of PER, ORG, LOC, MISC


def random_targets(task: str, num_labels: int, batch: int, seq: int) -> dict[str, np.ndarray]:
    """The loss's keyword arguments for `task`: "sequence" labels (batch,), "tokens" labels (batch, seq) with -100
    on the first token (ignored, as [CLS] is in the course), or "span" start/end positions (batch,)."""
    rng = np.random.default_rng(1)
    if task == "sequence":
        return {"labels": rng.integers(0, num_labels, batch)}
    if task == "tokens":
        labels = rng.integers(0, num_labels, (batch, seq))
        labels[:, 0] = -100
        return {"labels": labels}
    return {"start_positions": rng.integers(1, seq, batch), "end_positions": rng.integers(1, seq, batch)}


def training_step(library: str, folder: Path, class_name: str, task: str, batch: int, seq: int):
    """One optimisation step of `class_name` on a batch × seq batch with random `task` targets."""
    config = read_config(folder)
    ids, mask = random_batch(config["vocab_size"], batch, seq)
    targets = random_targets(task, len(config.get("id2label", {0: 0, 1: 1})), batch, seq)
    if library == "nanohf":
        import nanohf
        from nanohf.optim import AdamW

        model = getattr(nanohf, class_name).from_pretrained(folder).train()
        optimizer = AdamW(model.parameters(), lr=5e-5)

        def step():
            model(ids, mask, **targets).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        return step
    torch = torch_with_all_cores()
    import transformers

    model = getattr(transformers, class_name).from_pretrained(folder).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)
    t_targets = {name: torch.tensor(value) for name, value in targets.items()}

    def step():
        model(input_ids=t_ids, attention_mask=t_mask, **t_targets).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def training_flops(folder: Path, batch: int, seq: int, head: str = "classifier") -> float:
    return 3 * encoder_flops(folder, batch, seq, head)


def workloads(tiny: bool) -> list[Workload]:
    """Full-size rows, or (tiny=True) the same rows with tiny configs and inputs, for the smoke test."""
    if tiny:
        distilbert, small_bert = ("tiny DistilBERT", TINY_DISTILBERT, (2, 16)), ("tiny BERT", TINY_BERT, (4, 16))
        minilm, ner_shape, qa_shape = ("tiny BERT", TINY_BERT), (2, 16), (2, 32)
    else:
        distilbert, small_bert = ("DistilBERT", {}, (8, 128)), ("BERT 4x256", SMALL_BERT, (32, 128))
        minilm, ner_shape, qa_shape = ("MiniLM-size BERT", MINILM_SIZE), (8, 128), (8, 384)
    rows = []
    for key, class_name, (name, config, (batch, seq)) in [
        ("train-distilbert-8x128", "DistilBertForSequenceClassification", distilbert),
        ("train-small-bert-32x128", "BertForSequenceClassification", small_bert),
    ]:
        rows.append(Workload(
            key, f"train step {name} {batch}x{seq}", "training",
            setup=partial(training_step, class_name=class_name, task="sequence", batch=batch, seq=seq),
            checkpoint=(class_name, config), flops=partial(training_flops, batch=batch, seq=seq),
        ))  # fmt: skip
    name, config = minilm
    for key, task_name, class_name, task, task_config, (batch, seq) in [
        ("train-ner-8x128", "token-cls", "BertForTokenClassification", "tokens", {"num_labels": NER_LABELS},
         ner_shape),
        ("train-qa-8x384", "QA", "BertForQuestionAnswering", "span", {}, qa_shape),
    ]:  # fmt: skip
        rows.append(Workload(
            key, f"train step {task_name} {name} {batch}x{seq}", "training",
            setup=partial(training_step, class_name=class_name, task=task, batch=batch, seq=seq),
            checkpoint=(class_name, {**config, **task_config}),
            flops=partial(training_flops, batch=batch, seq=seq, head="tokens"),
        ))  # fmt: skip
    return rows

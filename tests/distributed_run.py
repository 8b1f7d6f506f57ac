"""Launched by tests/test_distributed.py, alone or under ``mpiexec -n 2``; writes what it trained to --out.

    python distributed_run.py train --checkpoint DIR --batch 8 --out DIR [--resume CKPT]
    mpiexec -n 2 python distributed_run.py train --checkpoint DIR --batch 4 --out DIR [--resume CKPT]
    mpiexec -n 2 python distributed_run.py fail --how raise|hang

`train` runs, on a toy task of pre-padded token sequences (no dropout in the checkpoint):
1. a manual loop with the Accelerator, 20 steps, then the evaluation set's predictions via gather_for_metrics;
2. the Trainer, 20 steps with evaluation and checkpoints every 10, then predict();
3. with --resume, the Trainer resumed from CKPT (saved by a run with another number of ranks).
Rank 0 writes the weights, predictions and logs (.npz / .json); every rank writes ranks/<rank>.json.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import nanohf
from nanohf import distributed as dist
from nanohf.accelerate import Accelerator

TRAIN_SIZE, EVAL_SIZE, SEQ, VOCAB = 80, 13, 12, 99  # 80 = 10 global batches of 8; 13 evens out unevenly
STEPS = 20


def toy_dataset(size: int, seed: int) -> nanohf.Dataset:
    """Sequences of words from the low half of the vocabulary are labelled 0, from the high half 1;
    each is padded to SEQ tokens, the padding masked out."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size)
    lengths = rng.integers(4, SEQ + 1, size)
    ids = np.zeros((size, SEQ), dtype=np.int64)
    mask = np.zeros((size, SEQ), dtype=np.int64)
    for i, (label, length) in enumerate(zip(labels, lengths, strict=True)):
        low, high = (5, 52) if label == 0 else (52, VOCAB)
        ids[i, :length] = rng.integers(low, high, length)
        mask[i, :length] = 1
    return nanohf.Dataset.from_dict({"input_ids": ids.tolist(), "attention_mask": mask.tolist(),
                                     "labels": labels.tolist()}).with_format("numpy")  # fmt: skip


def weights(model) -> dict:
    return {name: p.data.copy() for name, p in model.named_parameters()}


def manual_loop(checkpoint: str, batch: int, out: Path) -> None:
    accelerator = Accelerator()
    nanohf.set_seed(0)
    model = nanohf.BertForSequenceClassification.from_pretrained(checkpoint)
    optimizer = nanohf.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    train = nanohf.DataLoader(toy_dataset(TRAIN_SIZE, 1), batch, shuffle=True, seed=7)
    evaluation = nanohf.DataLoader(toy_dataset(EVAL_SIZE, 2), 3)
    model, optimizer, train, evaluation = accelerator.prepare(model, optimizer, train, evaluation)
    scheduler = nanohf.get_scheduler("linear", optimizer, num_warmup_steps=2, num_training_steps=STEPS)
    model.train()
    losses = []
    for _ in range(STEPS // len(train)):
        for inputs in train:
            loss = model(**inputs).loss
            accelerator.backward(loss)
            nanohf.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(float(accelerator.reduce(float(loss), reduction="mean")))
    model.eval()
    logits = []
    with nanohf.no_grad():
        for inputs in evaluation:
            logits.append(accelerator.gather_for_metrics(model(**inputs).logits))
    accelerator.print(f"manual loop: {len(losses)} steps, last loss {losses[-1]:.4f}")
    if accelerator.is_main_process:
        np.savez(out / "manual.npz", **weights(model))
        np.save(out / "manual_eval_logits.npy", np.concatenate(logits))
        (out / "manual_losses.json").write_text(json.dumps(losses))


def trainer_run(checkpoint: str, batch: int, out: Path, name: str, resume: str | None = None):
    nanohf.set_seed(0)
    model = nanohf.BertForSequenceClassification.from_pretrained(checkpoint)
    args = nanohf.TrainingArguments(
        str(out / name), max_steps=STEPS, per_device_train_batch_size=batch, per_device_eval_batch_size=3,
        learning_rate=1e-3, weight_decay=0.01, warmup_steps=2, logging_steps=5, eval_strategy="steps",
        eval_steps=10, save_steps=10, disable_tqdm=False, seed=3,
    )  # fmt: skip

    def accuracy(prediction):
        return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}

    trainer = nanohf.Trainer(model, args, train_dataset=toy_dataset(TRAIN_SIZE, 1),
                             eval_dataset=toy_dataset(EVAL_SIZE, 2), compute_metrics=accuracy)  # fmt: skip
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(out / f"{name}-model"))  # rank 0 writes, everyone waits for it
    predictions = trainer.predict(toy_dataset(EVAL_SIZE, 2)).predictions
    if dist.is_main_process():
        np.savez(out / f"{name}.npz", **weights(model))
        np.save(out / f"{name}_predictions.npy", predictions)
        (out / f"{name}_log.json").write_text(json.dumps(trainer.state.log_history))


def train(args) -> None:
    out = Path(args.out)
    (out / "ranks").mkdir(parents=True, exist_ok=True)
    world = dist.get_world()
    start = time.perf_counter()
    if not args.only_resume:
        manual_loop(args.checkpoint, args.batch, out)
        trainer_run(args.checkpoint, args.batch, out, "trainer")
    if args.resume:
        trainer_run(args.checkpoint, args.batch, out, "resumed", resume=args.resume)
    info = {"rank": world.rank, "size": world.size, "seconds": time.perf_counter() - start}
    (out / "ranks" / f"{world.rank}.json").write_text(json.dumps(info))


def fail(args) -> None:
    """Rank 1 breaks (raises, or hangs) while rank 0 waits for it in the gradient all-reduce."""
    world = dist.get_world()
    model = nanohf.BertForSequenceClassification.from_pretrained(args.checkpoint)
    if world.rank == 1:
        if args.how == "raise":
            raise RuntimeError("rank 1 broke on purpose")
        time.sleep(120)
    for p in model.parameters():
        p.grad = np.ones_like(p.data)
    dist.all_reduce_gradients(model.parameters())
    print("rank 0 got past the all-reduce: the failure went unnoticed", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["train", "fail"])
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--out")
    parser.add_argument("--resume")
    parser.add_argument("--only-resume", action="store_true")
    parser.add_argument("--how", choices=["raise", "hang"], default="raise")
    args = parser.parse_args(argv)
    {"train": train, "fail": fail}[args.command](args)


if __name__ == "__main__":
    main(sys.argv[1:])

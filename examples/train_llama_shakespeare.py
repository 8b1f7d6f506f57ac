"""Train a small character-level Llama from scratch on Tiny Shakespeare with the Trainer, then sample from it.

    python examples/train_llama_shakespeare.py            # 2000 steps of 12 x 64 characters: val loss ≈ 1.68
    python examples/train_llama_shakespeare.py --tiny     # a few steps on a slice (CI, seconds)
    python examples/train_llama_shakespeare.py --help     # every size and setting

The same data, split, budget and optimiser settings as examples/train_gpt2_shakespeare.py (nanoGPT's CPU run of
``shakespeare_char``: 65 characters, blocks of 64, batches of 12, AdamW at lr 1e-3 with β₂ = 0.99 and weight decay
0.1, 100 warm-up steps then a cosine decay, gradients clipped to norm 1, 2000 steps = 1.5M characters), so the two
runs can be put side by side; what changes is the model, the modern decoder of docs/from-gpt2-to-llama.md:

    GPT-2                                    Llama
    learned position embeddings (wpe)        rotary embeddings of q and k (RoPE): no position table
    LayerNorm (mean and variance, + bias)    RMSNorm (scale only)
    GELU MLP, 4x wide                        SiLU-gated MLP (SwiGLU), 3x wide: down(silu(gate(x)) * up(x))
    4 key/value heads for 4 query heads      2 key/value heads shared by 4 query heads (GQA)
    biases everywhere                        no biases

At 4 layers, 128 wide, the two have about the same number of parameters (GPT-2 0.81M, this Llama 0.80M).

Measured on the project's 2-core machine (Dec 2026, 1-minute load 0.0-2.5 before each run), full runs of both:

    example                        final train loss   final val loss   2000 steps
    train_gpt2_shakespeare.py      1.8250             1.9064           69.5 s
    train_llama_shakespeare.py     1.5228             1.6785           64.7 s (9 evaluations included)

The loop is the Trainer's: a ``Dataset`` of 24,000 random 64-character windows of the training text (2000 steps x 12),
``TrainingArguments`` with the settings above, ``trainer.train()`` with its progress bar, the validation loss every
``--eval-interval`` steps, and at the end train and validation losses over 20 x 12 fixed random windows (as the GPT-2
example estimates its losses, on 20 batches of 12). The model is given ``max_position_embeddings = block_size``,
so sampling slides a window, as in the GPT-2 example: each ``generate`` call sees the last 48 characters and adds 16.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import nanohf

DATA = Path(__file__).resolve().parents[1] / "data" / "tinyshakespeare" / "input.txt"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="the corpus (plain text)")
    p.add_argument("--iters", type=int, default=2000, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--block-size", type=int, default=64, help="characters per sequence (= max_position_embeddings)")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-kv-head", type=int, default=2, help="key/value heads (GQA: each serves n_head / n_kv_head)")
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--intermediate", type=int, default=384, help="width of the gated MLP")
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--schedule", default="cosine", help="lr_scheduler_type: cosine, linear, constant, ...")
    p.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-interval", type=int, default=250, help="validation loss every N steps (the Trainer's)")
    p.add_argument("--eval-iters", type=int, default=20, help="batches per loss estimate")
    p.add_argument("--max-chars", type=int, default=None, help="use only the first N characters of the corpus")
    p.add_argument("--sample-chars", type=int, default=300, help="characters to sample at the end")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--output-dir", default=None, help="where the Trainer writes (default: a temporary folder)")
    p.add_argument("--tiny", action="store_true", help="CI smoke run: small model, 40 steps on a 50k-char slice")
    args = p.parse_args(argv)
    if args.tiny:
        args.iters, args.eval_interval, args.eval_iters, args.warmup = 40, 20, 4, 5
        args.n_layer, args.n_embd, args.intermediate, args.batch_size, args.block_size = 2, 64, 192, 8, 32
        args.sample_chars, args.max_chars = 200, args.max_chars or 50_000
    return args


def load_corpus(path: Path, max_chars: int | None):
    """Character vocabulary of the whole text; ids of the first 90% (train) and the last 10% (val)."""
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    if max_chars:
        text = text[:max_chars]
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(data))
    return chars, data[:n], data[n:]


def windows(data: np.ndarray, block_size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """``(count, block_size)`` windows of consecutive characters at random offsets."""
    starts = rng.integers(0, len(data) - block_size, count)
    return np.stack([data[s : s + block_size] for s in starts])


def as_dataset(ids: np.ndarray) -> nanohf.Dataset:
    """Rows of input_ids, labelled with themselves: LlamaForCausalLM shifts the labels (t is scored on t + 1)."""
    rows = ids.tolist()
    return nanohf.Dataset.from_dict({"input_ids": rows, "labels": rows})


def sample_text(model, chars: list[str], n_chars: int, block_size: int, temperature: float) -> str:
    """``n_chars`` characters after a newline, generated in windows that fit the model's positions."""
    stoi = {c: i for i, c in enumerate(chars)}
    step = max(1, block_size // 4)
    ids = [stoi["\n"]]
    while len(ids) - 1 < n_chars:
        context = np.array([ids[-(block_size - step) :]])
        new = min(step, n_chars - (len(ids) - 1))
        out = model.generate(context, max_new_tokens=new, do_sample=True, temperature=temperature, top_k=0)
        ids.extend(out[0, context.shape[1] :].tolist())
    return "".join(chars[i] for i in ids[1:])


def main(argv=None) -> dict:
    args = parse_args(argv)
    nanohf.set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    chars, train_data, val_data = load_corpus(args.data, args.max_chars)
    print(f"{len(chars)} characters in the vocabulary; {len(train_data):,} train and {len(val_data):,} val tokens")

    config = nanohf.LlamaConfig(
        vocab_size=len(chars), hidden_size=args.n_embd, intermediate_size=args.intermediate,
        num_hidden_layers=args.n_layer, num_attention_heads=args.n_head, num_key_value_heads=args.n_kv_head,
        max_position_embeddings=args.block_size, rope_theta=args.rope_theta, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=None, pad_token_id=None,  # characters only: no special tokens
    )  # fmt: skip
    model = nanohf.LlamaForCausalLM(config)
    n_params = sum(p.data.size for p in model.parameters())
    print(f"LlamaForCausalLM: {n_params / 1e6:.2f}M parameters ({args.n_layer} layers, {args.n_embd} wide, "
          f"{args.n_head} query / {args.n_kv_head} key-value heads)")  # fmt: skip

    # Fixed random windows to estimate the losses on, then the training stream: 12 windows per step.
    eval_sets = {"train": as_dataset(windows(train_data, args.block_size, args.eval_iters * args.batch_size, rng)),
                 "val": as_dataset(windows(val_data, args.block_size, args.eval_iters * args.batch_size, rng))}
    train_set = as_dataset(windows(train_data, args.block_size, args.iters * args.batch_size, rng))

    output_dir = args.output_dir or tempfile.mkdtemp(prefix="llama-shakespeare-")
    training_args = nanohf.TrainingArguments(
        output_dir=output_dir, max_steps=args.iters, per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size, learning_rate=args.lr, lr_scheduler_type=args.schedule,
        warmup_steps=args.warmup, weight_decay=args.weight_decay, adam_beta2=0.99, max_grad_norm=1.0,
        eval_strategy="steps", eval_steps=args.eval_interval, eval_on_start=True, logging_steps=args.eval_interval,
        save_strategy="no",
        report_to="none", disable_tqdm=False, seed=args.seed,
    )  # fmt: skip
    trainer = nanohf.Trainer(model=model, args=training_args, train_dataset=train_set, eval_dataset=eval_sets["val"])
    # weight decay: the Trainer's rule, as transformers' (no decay on biases and norms: model.norm, *_layernorm)
    no_decay = sorted(set(n for n, _ in model.named_parameters()) - set(trainer.get_decay_parameter_names(model)))
    print(f"no weight decay on: {', '.join(no_decay[:3])}, ... ({len(no_decay)} tensors)")

    start = time.perf_counter()
    trainer.train()
    train_time = time.perf_counter() - start
    for entry in trainer.state.log_history:
        if "eval_loss" in entry:
            print(f"step {entry['step']}: val loss {entry['eval_loss']:.4f}")
    final = {name: trainer.evaluate(eval_dataset=data, metric_key_prefix=name)[f"{name}_loss"]
             for name, data in eval_sets.items()}  # fmt: skip
    print(f"final: train loss {final['train']:.4f}, val loss {final['val']:.4f}; "
          f"{args.iters} iterations in {train_time:.1f}s")  # fmt: skip

    model.eval()
    text = sample_text(model, chars, args.sample_chars, args.block_size, args.temperature)
    print(f"--- sample ({len(text)} characters) ---\n{text}\n--- end of sample ---")
    return {"final": final, "train_time": train_time, "sample": text, "log_history": trainer.state.log_history}


if __name__ == "__main__":
    main()

"""Train a small character-level GPT-2 on Tiny Shakespeare, on the CPU, then sample from it.

    python examples/train_gpt2_shakespeare.py             # 2000 iterations: val loss ≈ 1.9
    python examples/train_gpt2_shakespeare.py --tiny      # a few iterations on a slice (CI, seconds)
    python examples/train_gpt2_shakespeare.py --help      # every size and setting

The recipe is nanoGPT's CPU run of ``shakespeare_char`` (github.com/karpathy/nanoGPT): one token
per character (65 of them), a 4-layer, 4-head, 128-wide GPT-2 reading blocks of 64 characters,
batches of 12, no dropout, AdamW at lr 1e-3 (β₂ = 0.99, weight decay 0.1 on the matrices only)
with 100 warm-up steps and a cosine decay, gradients clipped to norm 1, 2000 iterations.

Everything is the transformers workflow: a ``GPT2Config``, ``GPT2LMHeadModel(config)``,
``model(input_ids, labels=input_ids).loss`` (the model shifts the labels itself: position t is
scored on character t + 1), ``loss.backward()``, an optimizer and a schedule, ``generate``.

The model has ``n_positions = block_size`` position embeddings, so it can read at most 64
characters. To write more, sampling slides a window: each ``generate`` call sees the last 48
characters and adds 16 more (with the KV cache inside the call), as nanoGPT's sampler crops its
context to the block size.
"""

import argparse
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

import nanohf

DATA = Path(__file__).resolve().parents[1] / "data" / "tinyshakespeare" / "input.txt"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DATA, help="the corpus (plain text)")
    p.add_argument("--iters", type=int, default=2000, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--block-size", type=int, default=64, help="characters per training sequence (= n_positions)")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--schedule", default="cosine", help="a get_scheduler name: cosine, linear, constant, ...")
    p.add_argument("--warmup", type=int, default=100, help="warm-up steps")
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--eval-interval", type=int, default=250, help="estimate train/val loss every N steps")
    p.add_argument("--eval-iters", type=int, default=20, help="batches per loss estimate")
    p.add_argument("--sample-chars", type=int, default=300, help="characters to sample at the end")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--tiny", action="store_true", help="CI smoke run: small model, 40 steps on a 50k-char slice")
    args = p.parse_args(argv)
    if args.tiny:
        args.iters, args.eval_interval, args.eval_iters, args.warmup = 40, 20, 4, 5
        args.n_layer, args.n_embd, args.batch_size, args.block_size = 2, 64, 8, 32
        args.sample_chars = 200
    return args


def load_corpus(path: Path, tiny: bool):
    """Character vocabulary of the whole text; ids of the first 90% (train) and the last 10% (val)."""
    text = path.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    if tiny:
        text = text[:50_000]
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    n = int(0.9 * len(data))
    return chars, data[:n], data[n:]


def get_batch(data: np.ndarray, block_size: int, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """``(batch_size, block_size)`` windows of consecutive characters, at random offsets."""
    starts = rng.integers(0, len(data) - block_size, batch_size)
    return np.stack([data[s : s + block_size] for s in starts])


def estimate_loss(model, splits: dict, args, rng) -> dict:
    """Mean loss over ``eval_iters`` random batches of each split, without keeping activations."""
    model.eval()
    losses = {}
    with nanohf.no_grad():
        for name, data in splits.items():
            values = []
            for _ in range(args.eval_iters):
                x = get_batch(data, args.block_size, args.batch_size, rng)
                values.append(float(model(x, labels=x).loss))
            losses[name] = float(np.mean(values))
    model.train()
    return losses


def sample_text(model, chars: list[str], n_chars: int, block_size: int, temperature: float) -> str:
    """``n_chars`` characters after a newline, generated in 16-character windows (see the docstring)."""
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
    chars, train_data, val_data = load_corpus(args.data, args.tiny)
    print(f"{len(chars)} characters in the vocabulary; {len(train_data):,} train and {len(val_data):,} val tokens")

    config = nanohf.GPT2Config(
        vocab_size=len(chars), n_positions=args.block_size, n_embd=args.n_embd, n_layer=args.n_layer,
        n_head=args.n_head, resid_pdrop=args.dropout, embd_pdrop=args.dropout, attn_pdrop=args.dropout,
        bos_token_id=None, eos_token_id=None,  # characters only: no special tokens
    )  # fmt: skip
    model = nanohf.GPT2LMHeadModel(config).train()
    n_params = sum(p.data.size for p in model.parameters())
    print(f"GPT2LMHeadModel: {n_params / 1e6:.2f}M parameters ({args.n_layer} layers, {args.n_embd} wide)")

    # Weight decay on the matrices (and the tied embedding), not on biases and LayerNorms, as nanoGPT.
    decay = [p for p in model.parameters() if p.data.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.data.ndim < 2]
    optimizer = nanohf.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.99),
    )  # fmt: skip
    scheduler = nanohf.get_scheduler(args.schedule, optimizer, num_warmup_steps=args.warmup,
                                     num_training_steps=args.iters)  # fmt: skip
    splits = {"train": train_data, "val": val_data}

    start = time.perf_counter()
    history = []
    bar = tqdm(range(args.iters + 1), desc="training", unit="it")
    for it in bar:
        if it % args.eval_interval == 0 or it == args.iters:
            losses = estimate_loss(model, splits, args, rng)
            history.append((it, losses["train"], losses["val"]))
            tqdm.write(f"step {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
        if it == args.iters:
            break
        x = get_batch(train_data, args.block_size, args.batch_size, rng)
        loss = model(x, labels=x).loss
        loss.backward()
        nanohf.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        bar.set_postfix(loss=f"{float(loss):.3f}", lr=f"{scheduler.get_last_lr()[0]:.1e}")
    bar.close()
    train_time = time.perf_counter() - start
    final = history[-1]
    print(f"final: train loss {final[1]:.4f}, val loss {final[2]:.4f}; {args.iters} iterations in {train_time:.1f}s")

    model.eval()
    text = sample_text(model, chars, args.sample_chars, args.block_size, args.temperature)
    print(f"--- sample ({len(text)} characters) ---\n{text}\n--- end of sample ---")
    return {"history": history, "train_time": train_time, "sample": text}


if __name__ == "__main__":
    main()

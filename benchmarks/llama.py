"""Llama-style decoder workloads: greedy decoding tokens/s and one training step, nanohf against transformers.

    python benchmarks/llama.py                   # the ~100M model: decode 32 tokens, train step 4x128 (minutes)
    python benchmarks/llama.py --tiny            # tiny config: checks that both rows run
    python benchmarks/run.py --only llama-generate,train-llama-4x128   # the same rows inside the full race
    python benchmarks/run.py --only llama-generate-b4,llama-generate-b8  # decoding at batch 4 and 8 (run.py only)

All rows are run.py's interleaved race (same checkpoint folder written by transformers with a fixed seed, one
warm-up call each, then nanohf, transformers, nanohf, ...). The ~100M config is a Llama 2 / 3 layer at a small
width: 12 layers, hidden 768, 12 query heads sharing 4 key/value heads (GQA, head_dim 64), SiLU-gated MLP of 2048,
RMSNorm, RoPE (theta 10000), a 32,000-token vocabulary with tied embeddings: 100.1M parameters.

FLOPs are the matrix products only, from config.json: per token and layer q and o (2 · h²), k and v (2 · h · kv_dim),
the gated MLP (3 · h · intermediate); attention's two products 2 · 2 · heads · head_dim per (query, key) pair; the
vocabulary projection once per generated token (generate keeps only the last position's logits), for every token in
training. A training step counts 3 × the forward (the backward does two products per forward one).
"""

import sys
from functools import partial
from pathlib import Path

from common import Workload, read_config, torch_with_all_cores
from inference import decode_workloads, random_batch

LLAMA_100M = dict(vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12,
                  num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=2048,
                  tie_word_embeddings=True, rope_theta=10000.0, bos_token_id=None, eos_token_id=None)  # fmt: skip
TINY_LLAMA = dict(vocab_size=99, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=64, tie_word_embeddings=True, bos_token_id=None,
                  eos_token_id=None)  # fmt: skip
KEYS = ("llama-generate", "train-llama-4x128")


def _shapes(config: dict) -> tuple[int, int, int, int, int, int]:
    """(layers, hidden, kv_dim, intermediate, vocab, heads · head_dim) of a Llama config.json."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    kv_dim = config.get("num_key_value_heads", heads) * head_dim
    return (config["num_hidden_layers"], hidden, kv_dim, config["intermediate_size"], config["vocab_size"],
            heads * head_dim)  # fmt: skip


def _per_token_linear(config: dict) -> int:
    """Weights one token multiplies through in one forward, the vocabulary projection excepted."""
    layers, hidden, kv_dim, intermediate, _, attn_dim = _shapes(config)
    return layers * (2 * hidden * attn_dim + 2 * hidden * kv_dim + 3 * hidden * intermediate)


def greedy_flops(folder: Path, prompt_len: int, new_tokens: int, batch: int = 1) -> float:
    """The prompt in one pass, then one token per step (per row); the last new token is never fed back."""
    config = read_config(folder)
    layers, hidden, _, _, vocab, attn_dim = _shapes(config)
    fed = prompt_len + new_tokens - 1
    key_lengths = [prompt_len] * prompt_len + list(range(prompt_len + 1, fed + 1))
    attention = layers * 2 * 2 * attn_dim * sum(key_lengths)
    return batch * (2 * fed * _per_token_linear(config) + attention + 2 * new_tokens * vocab * hidden)


def training_step(library: str, folder: Path, batch: int, seq: int):
    """One step of causal-LM training: forward with labels = input_ids, backward, AdamW (lr 5e-5)."""
    ids, mask = random_batch(read_config(folder)["vocab_size"], batch, seq)
    if library == "nanohf":
        import nanohf
        from nanohf.optim import AdamW

        model = nanohf.LlamaForCausalLM.from_pretrained(folder).train()
        optimizer = AdamW(model.parameters(), lr=5e-5)

        def step():
            model(ids, attention_mask=mask, labels=ids).loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        return step
    torch = torch_with_all_cores()
    import transformers

    model = transformers.LlamaForCausalLM.from_pretrained(folder).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)

    def step():
        model(input_ids=t_ids, attention_mask=t_mask, labels=t_ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    return step


def training_flops(folder: Path, batch: int, seq: int) -> float:
    config = read_config(folder)
    layers, hidden, _, _, vocab, attn_dim = _shapes(config)
    tokens = batch * seq
    forward = 2 * tokens * (_per_token_linear(config) + hidden * vocab) + layers * 2 * 2 * batch * seq * seq * attn_dim
    return 3 * forward


def workloads(tiny: bool) -> list[Workload]:
    """Greedy decoding at batch 1, 4 and 8 and the training step at ~100M, or (tiny=True) with a tiny config and
    inputs, for the smoke test."""
    config, name = (TINY_LLAMA, "tiny Llama") if tiny else (LLAMA_100M, "Llama ~100M")
    batch, seq = (2, 16) if tiny else (4, 128)
    decoding = decode_workloads(KEYS[0], name, "LlamaForCausalLM", config, greedy_flops, tiny)
    return decoding + [
        Workload(KEYS[1], f"train step {name} {batch}x{seq}", "training",
                 setup=partial(training_step, batch=batch, seq=seq), checkpoint=("LlamaForCausalLM", config),
                 flops=partial(training_flops, batch=batch, seq=seq)),
    ]  # fmt: skip


if __name__ == "__main__":  # standalone: run.py's race restricted to these rows (other run.py options pass through)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run

    run.main(["--only", ",".join(KEYS), "--out", str(Path(__file__).resolve().parent / "results" / "llama"),
              *sys.argv[1:]])  # fmt: skip

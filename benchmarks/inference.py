"""Inference workloads: sequence classification / feature extraction, and GPT-2 greedy decoding.

Both libraries load the same checkpoint folder and see the same token ids. The FLOP counts are the
matrix products only (what a BLAS does), counted from the checkpoint's config.json:
2 · tokens · weights-in-linear-layers, plus attention's two products 2 · 2 · batch · heads · q · k · head_dim.
"""

from functools import partial
from pathlib import Path

import numpy as np
from common import Workload, minilm_dir, read_config, torch_with_all_cores

TINY_BERT = dict(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                 max_position_embeddings=64)  # fmt: skip
TINY_DISTILBERT = dict(vocab_size=99, dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=64)
TINY_GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)
DECODE_BATCHES = (1, 4, 8)


def random_batch(vocab_size: int, batch: int, seq: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (batch, seq) drawn past the special tokens, and an all-ones attention mask."""
    ids = np.random.default_rng(0).integers(min(1000, vocab_size // 2), vocab_size, (batch, seq))
    return ids, np.ones_like(ids)


def encoder_forward(library: str, folder: Path, auto_class: str, batch: int, seq: int):
    """One no-grad forward of `auto_class` (e.g. "AutoModelForSequenceClassification") on a batch × seq batch."""
    ids, mask = random_batch(read_config(folder)["vocab_size"], batch, seq)
    if library == "nanohf":
        import nanohf

        model = getattr(nanohf, auto_class).from_pretrained(folder)

        def run():
            with nanohf.no_grad():
                return model(ids, mask)

        return run
    torch = torch_with_all_cores()
    import transformers

    model = getattr(transformers, auto_class).from_pretrained(folder).eval()
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)

    def run():
        with torch.no_grad():
            return model(input_ids=t_ids, attention_mask=t_mask)

    return run


def encoder_flops(folder: Path, batch: int, seq: int, head: str = "classifier") -> float:
    """Matmul FLOPs of one BERT/DistilBERT forward; `head` "classifier" (pooler + classifier), "pooler", or
    "tokens" (a classifier on every token: token classification, or question answering's two logits)."""
    config = read_config(folder)
    if config["model_type"] == "distilbert":
        layers, hidden, intermediate = config["n_layers"], config["dim"], config["hidden_dim"]
    else:
        layers, hidden, intermediate = config["num_hidden_layers"], config["hidden_size"], config["intermediate_size"]
    per_token = layers * (4 * hidden * hidden + 2 * hidden * intermediate)  # q, k, v, output; two FFN matrices
    attention = layers * 2 * 2 * batch * seq * seq * hidden  # heads · head_dim = hidden
    labels = len(config.get("id2label", {0: 0, 1: 1}))
    if head == "tokens":
        return 2 * batch * seq * (per_token + hidden * labels) + attention
    head_weights = hidden * hidden + (hidden * labels if head == "classifier" else 0)  # once per sequence
    return 2 * batch * seq * per_token + attention + 2 * batch * head_weights


def greedy(library: str, folder: Path, class_name: str, prompt_len: int, new_tokens: int, batch: int = 1):
    """Greedy decoding of `new_tokens` tokens after a batch × prompt_len prompt (no padding), with the KV cache.

    `class_name` is the causal-LM class, the same name in both libraries (e.g. "GPT2LMHeadModel").
    """
    ids, mask = random_batch(read_config(folder)["vocab_size"], batch, prompt_len)

    def checked(out):
        # A random model could pick the end-of-text token and stop early: then the rate would be wrong.
        if out.shape[-1] != prompt_len + new_tokens:
            raise RuntimeError(f"{library} generated {out.shape[-1] - prompt_len} tokens, not {new_tokens}")
        return out

    if library == "nanohf":
        import nanohf

        model = getattr(nanohf, class_name).from_pretrained(folder)
        return lambda: checked(model.generate(ids, attention_mask=mask, max_new_tokens=new_tokens, do_sample=False))
    torch = torch_with_all_cores()
    import transformers

    model = getattr(transformers, class_name).from_pretrained(folder).eval()
    t_ids, t_mask = torch.tensor(ids), torch.tensor(mask)
    pad = model.config.eos_token_id if model.config.eos_token_id is not None else 0

    def run():
        with torch.no_grad():
            out = model.generate(t_ids, attention_mask=t_mask, max_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=pad)  # fmt: skip
        return checked(out)

    return run


def gpt2_greedy_flops(folder: Path, prompt_len: int, new_tokens: int, batch: int = 1) -> float:
    """Matmul FLOPs of the decoding: the prompt in one pass, then one token per step (per row of the batch).

    The last new token is never fed back, and only one row of logits per step is needed.
    """
    config = read_config(folder)
    layers, hidden, vocab = config["n_layer"], config["n_embd"], config["vocab_size"]
    fed_tokens = prompt_len + new_tokens - 1
    linear = 2 * fed_tokens * layers * 12 * hidden * hidden  # qkv 3h², projection h², MLP 8h²
    key_lengths = [prompt_len] * prompt_len + list(range(prompt_len + 1, fed_tokens + 1))  # prompt pass is s × s
    attention = layers * 2 * 2 * hidden * sum(key_lengths)
    return batch * (linear + attention + 2 * new_tokens * vocab * hidden)


def workloads(tiny: bool) -> list[Workload]:
    """Full-size rows, or (tiny=True) the same rows with tiny configs and inputs, for the smoke test."""
    bert, distilbert, gpt2 = ({}, {}, {}) if not tiny else (TINY_BERT, TINY_DISTILBERT, TINY_GPT2)
    small, large = ((1, 16), (8, 128)) if not tiny else ((1, 8), (2, 16))
    bert_name, distilbert_name, gpt2_name = ("tiny BERT", "tiny DistilBERT", "tiny GPT-2") if tiny else (
        "BERT-base", "DistilBERT", "GPT-2 124M")  # fmt: skip
    rows = []
    for key, title, class_name, config, (batch, seq) in [
        ("bert-1x16", f"{bert_name} seq-cls", "BertForSequenceClassification", bert, small),
        ("bert-8x128", f"{bert_name} seq-cls", "BertForSequenceClassification", bert, large),
        ("distilbert-8x128", f"{distilbert_name} seq-cls", "DistilBertForSequenceClassification", distilbert, large),
    ]:
        rows.append(Workload(
            key, f"{title} {batch}x{seq}", "inference",
            setup=partial(encoder_forward, auto_class="AutoModelForSequenceClassification", batch=batch, seq=seq),
            checkpoint=(class_name, config), flops=partial(encoder_flops, batch=batch, seq=seq),
        ))  # fmt: skip
    batch, seq = large
    rows.append(Workload(
        "minilm-8x128", f"MiniLM-L6 (real) features {batch}x{seq}", "inference",
        setup=partial(encoder_forward, auto_class="AutoModel", batch=batch, seq=seq),
        folder=minilm_dir(), flops=partial(encoder_flops, batch=batch, seq=seq, head="pooler"),
    ))  # fmt: skip
    rows += decode_workloads("gpt2-generate", gpt2_name, "GPT2LMHeadModel", gpt2, gpt2_greedy_flops, tiny)
    return rows


def decode_workloads(key: str, name: str, class_name: str, config: dict, flops, tiny: bool) -> list[Workload]:
    """Greedy decoding rows at batch 1 (judged against memory bandwidth), 4 and 8; `flops(folder, prompt_len,
    new_tokens, batch)` counts one call. Keys: `key`, then `key`-b4 and `key`-b8."""
    prompt_len, new_tokens = (4, 4) if tiny else (16, 32)
    rows = []
    for batch in DECODE_BATCHES:
        decode = dict(class_name=class_name, prompt_len=prompt_len, new_tokens=new_tokens, batch=batch)
        shape = f"{new_tokens} tokens" if batch == 1 else f"batch {batch} x {new_tokens} tokens"
        rows.append(Workload(
            key if batch == 1 else f"{key}-b{batch}", f"{name} greedy {shape}", "generation",
            setup=partial(greedy, **decode), checkpoint=(class_name, config),
            flops=partial(flops, prompt_len=prompt_len, new_tokens=new_tokens, batch=batch),
            items=batch * new_tokens, unit="tokens/s", memory_bound=batch == 1,
        ))  # fmt: skip
    return rows

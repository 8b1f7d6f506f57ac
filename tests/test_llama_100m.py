"""A Llama-shaped ~100M-parameter model (GQA, tied embeddings) against transformers: logits and greedy generate.

The full-run check of issue 19 at a realistic width (hidden 768, 12 layers, 12 query / 4 k/v heads, vocab
32000: 100M parameters), random weights built on the meta device and filled from NumPy (transformers' own
init takes many seconds here).
"""

import numpy as np
import pytest
import torch
import transformers
from test_gpt2 import left_padded, max_diff, torch_forward, torch_generate

import nanohf

LOGITS_TOL = 1e-4
CONFIG = dict(vocab_size=32000, hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
              num_key_value_heads=4, max_position_embeddings=2048, tie_word_embeddings=True, pad_token_id=0,
              bos_token_id=1, eos_token_id=2,
              rope_parameters={"rope_type": "default", "rope_theta": 500000.0})  # fmt: skip


@pytest.fixture(scope="module")
def llama_100m(tmp_path_factory):
    with torch.device("meta"):
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**CONFIG, attn_implementation="eager"))
    model = model.to_empty(device="cpu")
    model.tie_weights()
    fill = np.random.default_rng(0)
    with torch.no_grad():
        for p in model.parameters():
            values = fill.standard_normal(p.shape, dtype=np.float32)
            values = 0.02 * values if p.ndim == 2 else 1.0 + 0.1 * values  # RMSNorm weights near 1
            p.copy_(torch.from_numpy(values))
    # rotary_emb.inv_freq is a buffer, left empty by to_empty: recompute it as transformers' init does.
    rotary = model.model.rotary_emb
    inv_freq, _ = rotary.compute_default_rope_parameters(model.config)
    rotary.inv_freq.copy_(inv_freq)
    rotary.original_inv_freq.copy_(inv_freq)
    folder = tmp_path_factory.mktemp("llama-100m")
    model.eval().save_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == 100_092_672
    return folder, model


def test_100m_logits_and_greedy_generation(llama_100m):
    folder, theirs = llama_100m
    ours = nanohf.AutoModelForCausalLM.from_pretrained(folder)
    ids, mask = left_padded(32000, (16, 9), seed=5)
    with nanohf.no_grad():
        logits = ours(ids, attention_mask=mask).logits
    ref = torch_forward(theirs, input_ids=ids, attention_mask=mask).logits.numpy()
    diff = max_diff(logits, ref, mask)
    assert diff <= LOGITS_TOL, f"max |Δ logits| {diff:.2e}"
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=16)
    want = torch_generate(theirs, ids, mask, max_new_tokens=16, do_sample=False)
    assert np.array_equal(got, want), f"\n{got}\n{want}"

"""``logits_to_keep`` (transformers' argument of its causal LMs) on GPT-2 and Llama: the same logits as
transformers for every form it takes, gradients through the kept positions only, and ``generate`` scoring
only the last position of a prompt (as transformers' generate does)."""

import numpy as np
import pytest
import torch
import transformers
from conftest import ragged_batch, torch_model

import nanohf

LOGITS_TOL = 1e-4
GRAD_TOL = 1e-4
VOCAB = 61
CONFIGS = {
    "GPT2": transformers.GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=32),
    "Llama": transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32),
}  # fmt: skip
HEAD = {"GPT2": "GPT2LMHeadModel", "Llama": "LlamaForCausalLM"}
SEQ = 10
mask = np.zeros((3, SEQ), dtype=bool)
mask[0, [1, 9]] = mask[1, 4] = mask[2, [0, 5, 6]] = True
KEEPS = {
    "0 (all)": 0,
    "1": 1,
    "3": 3,
    "positions (n,) with a repeat": np.array([0, 4, 4, 9]),
    "positions (batch, n)": np.array([[9, 0], [3, 3], [5, 8]]),
    "boolean mask (batch, seq)": mask,
}


@pytest.fixture(scope="module", params=list(CONFIGS))
def pair(request, tmp_path_factory):
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp(request.param)
    getattr(transformers, HEAD[request.param])(CONFIGS[request.param]).eval().save_pretrained(folder)
    return request.param, nanohf.AutoModelForCausalLM.from_pretrained(folder).eval(), torch_model(HEAD[request.param],
                                                                                                  folder)  # fmt: skip


def as_torch(keep):
    return keep if isinstance(keep, int) else torch.tensor(keep)


@pytest.mark.parametrize("keep", list(KEEPS))
def test_logits_and_gradients_match_transformers(pair, keep):
    family, ours, theirs = pair
    ids, _ = ragged_batch(VOCAB, (SEQ, SEQ, SEQ))
    logits_to_keep = KEEPS[keep]
    logits = ours(ids, logits_to_keep=logits_to_keep).logits
    ref = theirs(input_ids=torch.tensor(ids), logits_to_keep=as_torch(logits_to_keep)).logits
    assert logits.shape == tuple(ref.shape), f"{family} {keep}: {logits.shape} vs {tuple(ref.shape)}"
    diff = float(np.abs(logits - ref.detach().numpy()).max())
    assert diff <= LOGITS_TOL, f"{family} {keep}: max |Δ logits| {diff:.2e}"

    # Backpropagate the same weighted sum of the kept logits in both.
    weights = np.random.default_rng(1).standard_normal(logits.shape).astype(np.float32)
    ours.zero_grad()
    theirs.zero_grad()
    ours.backward(weights)
    (ref * torch.tensor(weights)).sum().backward()
    grads = {n: p.grad.numpy() for n, p in theirs.named_parameters() if p.grad is not None}
    for name, p in ours.named_parameters():
        error = np.linalg.norm(p.grad - grads[name]) / max(np.linalg.norm(grads[name]), 1e-8)
        assert error <= GRAD_TOL, f"{family} {keep}: {name} relative gradient error {error:.2e}"


def test_generate_scores_only_the_last_prompt_position(pair):
    """generate passes logits_to_keep=1: the prompt pass projects one position per row onto the vocabulary."""
    family, ours, theirs = pair
    ids, attention_mask = ragged_batch(VOCAB, (SEQ, SEQ))
    rows_projected = []
    forward = ours.lm_head.forward

    def spy(x, *args, **kwargs):
        rows_projected.append(x.shape[1])
        return forward(x, *args, **kwargs)

    ours.lm_head.forward = spy
    try:
        got = ours.generate(ids, attention_mask=attention_mask, max_new_tokens=4, do_sample=False)
    finally:
        del ours.lm_head.forward
    want = theirs.generate(torch.tensor(ids), attention_mask=torch.tensor(attention_mask), max_new_tokens=4,
                           do_sample=False, pad_token_id=0).numpy()  # fmt: skip
    assert rows_projected == [1, 1, 1, 1], f"{family}: positions projected per step {rows_projected}"
    assert np.array_equal(got, want), f"{family}:\n{got}\n{want}"

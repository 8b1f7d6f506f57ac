"""GPT-2 against transformers: logits, the causal mask, the KV cache, generation, heads, gradients.

Checkpoints are written on the spot by transformers (small random configs, plus one 124M-sized
GPT2LMHeadModel built once per module) and loaded by both libraries; transformers is the judge.
The small models use ``initializer_range=0.3`` so that their logits are spread out (a greedy
continuation then wanders through the vocabulary instead of repeating one token) and LayerNorm
weights and biases are perturbed, so that a mix-up of any two tensors would show.

Tolerances: logits ≤ 1e-4; cached vs recomputed logits ≤ 1e-5; greedy sequences identical;
logits processors exactly equal (same -inf pattern, same values); gradients ≤ 1e-4 relative per
parameter (with the floor of tests/test_gradients.py); float64 finite differences ≤ 1e-6.
"""

import json
import logging
import shutil

import numpy as np
import pytest
import torch
import transformers
from conftest import ragged_batch, torch_model
from safetensors.numpy import load_file, save_file
from test_gradcheck import directional_check

import nanohf
from nanohf.generation import repetition_penalty, sample, temperature_warp, top_k_filter, top_p_filter
from nanohf.models.gpt2 import GPT2Block
from nanohf.nn.masks import additive_padding_mask

TINY_GPT2 = dict(
    vocab_size=99, n_positions=64, n_embd=32, n_layer=2, n_head=4, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
    summary_first_dropout=0.0, initializer_range=0.3, bos_token_id=None, eos_token_id=None, pad_token_id=0,
)  # fmt: skip
LOGITS_TOL, CACHE_TOL, GRAD_TOL, LOSS_TOL = 1e-4, 1e-5, 1e-4, 1e-5
rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_rng():
    """Every test draws the same random inputs whatever ran before it (or was deselected)."""
    global rng
    rng = np.random.default_rng(0)


# --- checkpoints -------------------------------------------------------------------------------------


def perturb(model) -> None:
    """Random init leaves LayerNorms at (1, 0) and biases at 0: move them so any mix-up shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ".ln_" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))


@pytest.fixture(scope="module")
def gpt2_checkpoint(tmp_path_factory):
    """``gpt2_checkpoint("GPT2LMHeadModel", seed=0, **config overrides) -> folder`` written by transformers."""
    cache = {}

    def build(class_name="GPT2LMHeadModel", seed=0, **overrides):
        key = (class_name, seed, tuple(sorted(overrides.items())))
        if key not in cache:
            torch.manual_seed(seed)
            model = getattr(transformers, class_name)(transformers.GPT2Config(**{**TINY_GPT2, **overrides}))
            perturb(model)
            cache[key] = tmp_path_factory.mktemp(class_name)
            model.eval().save_pretrained(cache[key])
        return cache[key]

    return build


@pytest.fixture(scope="module")
def lm(gpt2_checkpoint):
    """``(folder, nanohf model, transformers model)`` of the tiny GPT2LMHeadModel."""
    folder = gpt2_checkpoint()
    return folder, nanohf.GPT2LMHeadModel.from_pretrained(folder), torch_model("GPT2LMHeadModel", folder)


def left_padded(vocab=99, lengths=(11, 7, 3), seed=0):
    """The rows of ``ragged_batch`` moved to the right end: ``(input_ids, attention_mask)``, pad id 0."""
    ids, mask = ragged_batch(vocab, lengths, seed)
    for i, n in enumerate(lengths):
        ids[i], mask[i] = np.roll(ids[i], ids.shape[1] - n), np.roll(mask[i], ids.shape[1] - n)
    return ids, mask


def generation_positions(mask):
    """Positions as generate() computes them: real tokens count from 0; padding gets 1."""
    positions = np.cumsum(mask, axis=-1) - 1
    positions[mask == 0] = 1
    return positions


def torch_forward(model, **inputs):
    with torch.no_grad():
        return model(**{k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in inputs.items()})


def torch_generate(model, input_ids, attention_mask=None, **kwargs):
    mask = None if attention_mask is None else torch.tensor(attention_mask)
    return model.generate(torch.tensor(input_ids), attention_mask=mask, **kwargs).numpy()


def max_diff(a, b, mask=None) -> float:
    a, b = np.asarray(a), np.asarray(b)
    if mask is not None:
        a, b = a[mask.astype(bool)], b[mask.astype(bool)]
    return float(np.abs(a - b).max())


# --- logits, hidden states, attentions -------------------------------------------------------------


@pytest.mark.parametrize("padding", ["none", "right", "left", "left+positions"])
def test_logits_hidden_states_attentions(lm, padding):
    _, ours, theirs = lm
    if padding == "none":
        ids, mask = rng.integers(0, 99, (2, 13)), np.ones((2, 13), dtype=np.int64)
    else:
        ids, mask = (ragged_batch if padding == "right" else left_padded)(99, (11, 7, 3))
    inputs = dict(input_ids=ids, attention_mask=mask)
    if padding == "left+positions":  # generate()'s positions, given explicitly to both
        inputs["position_ids"] = generation_positions(mask)
    out = ours(**inputs, output_hidden_states=True, output_attentions=True)
    ref = torch_forward(theirs, **inputs, output_hidden_states=True, output_attentions=True)
    assert out.logits.shape == (*ids.shape, 99) and out.logits.dtype == np.float32
    assert max_diff(out.logits, ref.logits, mask) <= LOGITS_TOL  # padded positions excluded
    assert len(out.hidden_states) == len(ref.hidden_states) == 3
    for ours_h, ref_h in zip(out.hidden_states, ref.hidden_states, strict=True):
        assert max_diff(ours_h, ref_h, mask) <= LOGITS_TOL
    assert len(out.attentions) == 2
    for ours_a, ref_a in zip(out.attentions, ref.attentions, strict=True):
        assert ours_a.shape == tuple(ref_a.shape) == (len(ids), 4, ids.shape[1], ids.shape[1])
        real_queries = np.broadcast_to(mask[:, None, :, None] == 1, ours_a.shape)
        assert max_diff(ours_a, ref_a, real_queries) <= 1e-5
        assert np.all(ours_a[np.broadcast_to(mask[:, None, None, :] == 0, ours_a.shape) & real_queries] == 0)
    # Without return_dict, the tuple transformers returns: (logits, past_key_values).
    assert isinstance(ours(ids, attention_mask=mask, return_dict=False)[0], np.ndarray)


def test_base_and_head_checkpoints_load_into_each_other(gpt2_checkpoint, caplog):
    ids = rng.integers(0, 99, (2, 9))
    base_folder = gpt2_checkpoint("GPT2Model")  # keys without the "transformer." prefix
    assert not any(k.startswith("transformer.") for k in load_file(base_folder / "model.safetensors"))
    with caplog.at_level(logging.WARNING, logger="nanohf"):
        ours, info = nanohf.GPT2LMHeadModel.from_pretrained(base_folder, output_loading_info=True)
    theirs, their_info = transformers.GPT2LMHeadModel.from_pretrained(base_folder, output_loading_info=True)
    assert info["missing_keys"] == info["unexpected_keys"] == [] and not caplog.records  # lm_head is wte
    assert set(their_info["missing_keys"]) <= {"lm_head.weight"}  # transformers reports the tied copy
    assert max_diff(ours(ids).logits, torch_forward(theirs.eval(), input_ids=ids).logits) <= LOGITS_TOL

    head_folder = gpt2_checkpoint()
    base, info = nanohf.GPT2Model.from_pretrained(head_folder, output_loading_info=True)
    assert info["missing_keys"] == info["unexpected_keys"] == []
    ref = torch_forward(torch_model("GPT2Model", head_folder), input_ids=ids).last_hidden_state
    assert max_diff(base(ids).last_hidden_state, ref) <= LOGITS_TOL
    auto = nanohf.AutoModelForCausalLM.from_pretrained(head_folder)
    assert type(auto) is nanohf.GPT2LMHeadModel


def test_tied_lm_head_is_one_parameter(lm):
    folder, ours, theirs = lm
    assert "lm_head.weight" not in load_file(folder / "model.safetensors")  # transformers omits the tied copy
    assert ours.lm_head.weight is ours.transformer.wte.weight
    names = [name for name, _ in ours.named_parameters()]
    assert "lm_head.weight" not in names and "transformer.wte.weight" in names
    assert sum(p.data.size for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert "lm_head.weight" in ours.state_dict()  # both names, as torch's state_dict


def test_old_causal_mask_buffers_are_ignored_silently(lm, tmp_path, caplog):
    folder, ours, _ = lm
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    tensors = load_file(folder / "model.safetensors")
    for i in range(2):  # what GPT-2 files written by transformers < 4.x carry
        tensors[f"transformer.h.{i}.attn.bias"] = np.tril(np.ones((64, 64), np.float32))[None, None]
        tensors[f"transformer.h.{i}.attn.masked_bias"] = np.array(-1e4, np.float32)
    save_file(tensors, tmp_path / "model.safetensors")
    with caplog.at_level(logging.WARNING, logger="nanohf"):
        old, info = nanohf.GPT2LMHeadModel.from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == info["unexpected_keys"] == [] and not caplog.records
    ids = rng.integers(0, 99, (1, 10))
    assert np.array_equal(old(ids).logits, ours(ids).logits)


# --- the causal mask and the KV cache ---------------------------------------------------------------


def test_a_later_token_never_changes_earlier_logits(lm):
    _, ours, _ = lm
    ids = rng.integers(0, 99, (2, 20))
    base = ours(ids).logits
    for t in (0, 5, 18):
        changed = ids.copy()
        changed[:, t + 1 :] = rng.integers(0, 99, changed[:, t + 1 :].shape)
        logits = ours(changed).logits
        assert np.array_equal(logits[:, : t + 1], base[:, : t + 1]), f"position ≤ {t} changed"
        assert not np.allclose(logits[:, t + 1 :], base[:, t + 1 :])


@pytest.mark.parametrize("padded", [False, True])
def test_kv_cache_steps_equal_a_full_recompute(lm, padded):
    _, ours, _ = lm
    if padded:
        prompt, mask = left_padded(99, (6, 3, 5))
    else:
        prompt, mask = rng.integers(0, 99, (2, 6)), np.ones((2, 6), dtype=np.int64)
    new = rng.integers(0, 99, (len(prompt), 10))
    full_ids = np.concatenate([prompt, new], axis=1)
    full_mask = np.concatenate([mask, np.ones_like(new)], axis=1)
    positions = generation_positions(full_mask)
    full = ours(full_ids, attention_mask=full_mask, position_ids=positions).logits
    out = ours(prompt, attention_mask=mask, position_ids=positions[:, :6])
    worst = max_diff(out.logits, full[:, :6], mask)
    for t in range(10):
        past = out.past_key_values
        assert len(past) == 2 and past[0][0].shape == (len(prompt), 4, 6 + t, 8)  # (batch, heads, len, head_dim)
        col = 6 + t
        out = ours(new[:, t : t + 1], past_key_values=past, attention_mask=full_mask[:, : col + 1],
                   position_ids=positions[:, col : col + 1], output_attentions=True)  # fmt: skip
        assert out.logits.shape == (len(prompt), 1, 99)  # one token of work per step
        assert out.attentions[0].shape == (len(prompt), 4, 1, col + 1)
        worst = max(worst, max_diff(out.logits[:, 0], full[:, col]))
    assert worst <= CACHE_TOL, f"cached vs recomputed logits differ by {worst:.2e}"


# --- greedy generation ---------------------------------------------------------------------------------


def test_greedy_single_prompts_match_transformers(lm):
    _, ours, theirs = lm
    for length in (1, 4, 9):
        prompt = rng.integers(1, 99, (1, length))
        got = ours.generate(prompt, max_new_tokens=24)
        assert got.shape == (1, length + 24)
        assert np.array_equal(got, torch_generate(theirs, prompt, max_new_tokens=24, do_sample=False))
        assert np.array_equal(got, ours.generate(prompt, max_new_tokens=24, use_cache=False))
        assert len(set(got[0, length:].tolist())) > 3  # the tiny model does not just repeat one token


def test_greedy_left_padded_batch_matches_transformers(lm):
    _, ours, theirs = lm
    ids, mask = left_padded(99, (9, 5, 2))
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=22)
    assert np.array_equal(got, torch_generate(theirs, ids, mask, max_new_tokens=22, do_sample=False))
    # Without a mask it is inferred from pad_token_id (0, not an eos id), as transformers does.
    assert np.array_equal(got, ours.generate(ids, max_new_tokens=22))
    # Left padding does not change a prompt's continuation.
    for row, n in enumerate((9, 5, 2)):
        alone = ours.generate(ids[row : row + 1, -n:], max_new_tokens=22)
        assert np.array_equal(alone[0, n:], got[row, 9:])


def test_eos_stops_and_pads_like_transformers(lm):
    _, ours, theirs = lm
    ids, mask = left_padded(99, (6, 4, 5), seed=3)
    free = torch_generate(theirs, ids, mask, max_new_tokens=24, do_sample=False)
    eos = int(free[0, 6 + 4])  # a token row 0 generates at step 4
    for eos_ids in (eos, [eos, int(free[1, 6 + 8])]):
        got = ours.generate(ids, attention_mask=mask, max_new_tokens=24, eos_token_id=eos_ids, pad_token_id=0)
        ref = torch_generate(theirs, ids, mask, max_new_tokens=24, do_sample=False, eos_token_id=eos_ids,
                             pad_token_id=0)  # fmt: skip
        assert np.array_equal(got, ref)
        for row in got[:, 6:]:
            hits = np.flatnonzero(np.isin(row, eos_ids))
            if len(hits):
                assert np.all(row[hits[0] + 1 :] == 0), "tokens after eos are padding"
    stop_all = ours.generate(ids[:1, -6:], max_new_tokens=24, eos_token_id=eos)
    assert stop_all.shape[1] < 6 + 24 and stop_all[0, -1] == eos  # every row finished: the loop stopped


@pytest.mark.filterwarnings("ignore:Using the model-agnostic default:UserWarning")
def test_max_length_max_new_tokens_and_repetition_penalty(lm):
    _, ours, theirs = lm
    prompt = rng.integers(1, 99, (1, 5))
    assert ours.generate(prompt).shape == (1, 25)  # transformers 5's default: 20 new tokens
    for kwargs in (dict(max_length=27), dict(max_length=8, max_new_tokens=21), dict(repetition_penalty=1.5),
                   dict(repetition_penalty=0.7, max_new_tokens=20)):  # fmt: skip
        got = ours.generate(prompt, **{"max_new_tokens": None, **kwargs})
        ref = torch_generate(theirs, prompt, do_sample=False, **kwargs)
        assert np.array_equal(got, ref), kwargs
    with_penalty = ours.generate(prompt, max_new_tokens=20, repetition_penalty=5.0)
    assert len(set(with_penalty[0, 5:].tolist())) > len(set(ours.generate(prompt, max_new_tokens=20)[0, 5:].tolist()))


def test_generation_config_json_is_read(lm, tmp_path):
    folder, _, _ = lm
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    prompt = rng.integers(1, 99, (1, 4))
    free = nanohf.GPT2LMHeadModel.from_pretrained(folder).generate(prompt, max_new_tokens=12)
    eos = int(free[0, 4 + 9])
    (tmp_path / "generation_config.json").write_text(json.dumps({"max_new_tokens": 12, "eos_token_id": eos}))
    ours = nanohf.GPT2LMHeadModel.from_pretrained(tmp_path)
    assert ours.generation_config.max_new_tokens == 12 and ours.generation_config.eos_token_id == eos
    got = ours.generate(prompt)
    ref = torch_generate(torch_model("GPT2LMHeadModel", tmp_path), prompt)
    assert np.array_equal(got, ref) and got[0, -1] == eos and got.shape[1] <= 4 + 12
    (tmp_path / "generation_config.json").write_text(json.dumps({"max_new_tokens": 3}))
    assert nanohf.GPT2LMHeadModel.from_pretrained(tmp_path).generate(prompt).shape == (1, 7)


# --- sampling ---------------------------------------------------------------------------------------------


def test_seeded_sampling_is_repeatable(lm):
    _, ours, _ = lm
    ids, mask = left_padded(99, (6, 3))
    settings = dict(do_sample=True, max_new_tokens=20, temperature=0.9, top_k=40, top_p=0.95)
    nanohf.set_seed(7)
    first = ours.generate(ids, attention_mask=mask, **settings)
    nanohf.set_seed(7)
    assert np.array_equal(first, ours.generate(ids, attention_mask=mask, **settings))
    nanohf.set_seed(8)
    assert not np.array_equal(first, ours.generate(ids, attention_mask=mask, **settings))
    nanohf.set_seed(0)
    many = ours.generate(ids, attention_mask=mask, num_return_sequences=3, **settings)
    assert many.shape == (6, 26) and np.array_equal(many[:3, :6], np.repeat(ids[:1], 3, axis=0))
    assert len({tuple(row) for row in many[:3, 6:].tolist()}) > 1  # different draws per copy
    # Sampling with top_k=1 is greedy decoding.
    assert np.array_equal(ours.generate(ids, attention_mask=mask, do_sample=True, top_k=1, max_new_tokens=12),
                          ours.generate(ids, attention_mask=mask, max_new_tokens=12))  # fmt: skip
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours.generate(ids, attention_mask=mask, num_return_sequences=2)


def test_sample_draws_from_the_softmax():
    probs = np.array([0.5, 0.3, 0.15, 0.05, 0.0])
    with np.errstate(divide="ignore"):
        scores = np.tile(np.log(probs).astype(np.float32), (20_000, 1))
    nanohf.set_seed(0)
    counts = np.bincount(sample(scores), minlength=5) / 20_000
    assert counts[4] == 0.0 and np.abs(counts - probs).max() < 0.015


def processor_scores(seed=0):
    scores = np.random.default_rng(seed).standard_normal((6, 99)).astype(np.float32) * 3
    return scores


@pytest.mark.parametrize("top_k", [1, 5, 50, 99, 500])
def test_top_k_equals_transformers(top_k):
    scores = processor_scores()
    scores[1, :4] = scores[1, 10]  # ties at the k-th value are kept by both
    for keep in (1, 3):
        ours = top_k_filter(scores.copy(), top_k, min_tokens_to_keep=keep)
        ref = transformers.TopKLogitsWarper(top_k, min_tokens_to_keep=keep)(None, torch.tensor(scores)).numpy()
        assert ours.dtype == np.float32 and np.array_equal(ours, ref)


@pytest.mark.parametrize("top_p", [0.05, 0.3, 0.8, 0.9, 0.95, 0.999])
def test_top_p_equals_transformers(top_p):
    scores = processor_scores(1)
    for keep in (1, 4):
        ours = top_p_filter(scores.copy(), top_p, min_tokens_to_keep=keep)
        ref = transformers.TopPLogitsWarper(top_p, min_tokens_to_keep=keep)(None, torch.tensor(scores)).numpy()
        assert ours.dtype == np.float32 and np.array_equal(ours, ref)
        assert np.all(np.isfinite(ours).sum(axis=-1) >= keep)


@pytest.mark.parametrize("penalty", [0.6, 1.3, 2.0])
def test_temperature_and_repetition_penalty_equal_transformers(penalty):
    scores = processor_scores(2)
    input_ids = np.random.default_rng(3).integers(0, 99, (6, 15))
    input_ids[:, -3:] = input_ids[:, :3]  # repeated tokens are penalised once
    ours = repetition_penalty(scores.copy(), input_ids, penalty)
    ref = transformers.RepetitionPenaltyLogitsProcessor(penalty)(torch.tensor(input_ids), torch.tensor(scores))
    assert np.array_equal(ours, ref.numpy())
    temperature = penalty  # any positive float
    ref = transformers.TemperatureLogitsWarper(temperature)(None, torch.tensor(scores)).numpy()
    assert np.array_equal(temperature_warp(scores.copy(), temperature), ref)


def test_processor_chain_equals_transformers():
    scores, input_ids = processor_scores(4), np.random.default_rng(5).integers(0, 99, (6, 8))
    chain = transformers.LogitsProcessorList([
        transformers.RepetitionPenaltyLogitsProcessor(1.2), transformers.TemperatureLogitsWarper(0.7),
        transformers.TopKLogitsWarper(20), transformers.TopPLogitsWarper(0.9),
    ])  # fmt: skip
    cfg = nanohf.GenerationConfig(do_sample=True, repetition_penalty=1.2, temperature=0.7, top_k=20, top_p=0.9)
    ours = nanohf.GPT2LMHeadModel._process_scores(scores.copy(), input_ids, cfg)
    assert np.array_equal(ours, chain(torch.tensor(input_ids), torch.tensor(scores)).numpy())


# --- sequence classification -------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["right", "left"])
def test_sequence_classification_logits_and_losses(gpt2_checkpoint, padding):
    folder = gpt2_checkpoint("GPT2ForSequenceClassification", num_labels=3)
    ids, mask = (ragged_batch if padding == "right" else left_padded)(99, (11, 7, 3))
    labels = np.array([2, 0, 1])
    ours = nanohf.GPT2ForSequenceClassification.from_pretrained(folder)
    theirs = torch_model("GPT2ForSequenceClassification", folder)
    out = ours(ids, attention_mask=mask, labels=labels)
    ref = torch_forward(theirs, input_ids=ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (3, 3) and max_diff(out.logits, ref.logits) <= LOGITS_TOL  # last non-pad token
    assert abs(float(out.loss) - ref.loss.item()) <= LOSS_TOL

    regression = gpt2_checkpoint("GPT2ForSequenceClassification", num_labels=1)
    targets = np.array([0.5, -1.0, 2.0], np.float32)
    out = nanohf.GPT2ForSequenceClassification.from_pretrained(regression)(ids, attention_mask=mask, labels=targets)
    ref = torch_forward(torch_model("GPT2ForSequenceClassification", regression), input_ids=ids,
                        attention_mask=mask, labels=targets)  # fmt: skip
    assert abs(float(out.loss) - ref.loss.item()) <= LOSS_TOL


def test_sequence_classification_without_pad_token(gpt2_checkpoint):
    folder = gpt2_checkpoint("GPT2ForSequenceClassification", num_labels=2, pad_token_id=None)
    ours = nanohf.GPT2ForSequenceClassification.from_pretrained(folder)
    ids = rng.integers(0, 99, (2, 6))
    with pytest.raises(ValueError, match="Cannot handle batch sizes > 1 if no padding token is defined"):
        ours(ids)
    ref = torch_forward(torch_model("GPT2ForSequenceClassification", folder), input_ids=ids[:1]).logits
    assert max_diff(ours(ids[:1]).logits, ref) <= LOGITS_TOL  # one sequence: its last token


# --- gradients ------------------------------------------------------------------------------------------


def gradient_errors(ours, theirs, inputs):
    """Backpropagate the same loss in both; returns (|Δ loss|, {name: relative error})."""
    loss = ours.train()(**inputs).loss
    loss.backward()
    ref = theirs.train()(**{k: torch.tensor(v) for k, v in inputs.items()}).loss
    ref.backward()
    torch_grads = {n: p.grad.numpy() for n, p in theirs.named_parameters() if p.grad is not None}
    floor = 1e-3 * max(np.linalg.norm(g) for g in torch_grads.values())
    errors = {}
    for name, p in ours.named_parameters():
        assert p.grad is not None and p.grad.dtype == np.float32, name
        errors[name] = float(np.linalg.norm(p.grad - torch_grads[name]) / max(np.linalg.norm(torch_grads[name]), floor))
    assert set(errors) == set(torch_grads)
    return abs(float(loss) - ref.item()), errors


def test_lm_gradients_match_torch_autograd(lm):
    folder, _, _ = lm
    ours, theirs = nanohf.GPT2LMHeadModel.from_pretrained(folder), torch_model("GPT2LMHeadModel", folder)
    ids, mask = ragged_batch(99, (12, 9, 4, 12))
    labels = ids.copy()
    labels[mask == 0] = -100
    labels[0, 3:6] = -100
    inputs = dict(input_ids=ids, attention_mask=mask, labels=labels)
    loss_diff, errors = gradient_errors(ours, theirs, inputs)
    worst = max(errors, key=errors.get)
    assert loss_diff <= LOSS_TOL and errors[worst] <= GRAD_TOL, f"{loss_diff:.2e}; {errors[worst]:.2e} at {worst}"
    # The tied weight has one gradient: the lm_head's and the embedding lookup's, summed. Untie a torch
    # copy to get the two parts: both matter, and only their sum matches.
    assert ours.lm_head.weight.grad is ours.transformer.wte.weight.grad
    assert errors["transformer.wte.weight"] <= GRAD_TOL
    untied = torch_model("GPT2LMHeadModel", folder).train()
    untied.lm_head.weight = torch.nn.Parameter(untied.lm_head.weight.detach().clone())
    untied(**{k: torch.tensor(v) for k, v in inputs.items()}).loss.backward()
    head, lookup = untied.lm_head.weight.grad.numpy(), untied.transformer.wte.weight.grad.numpy()
    total = ours.transformer.wte.weight.grad
    assert min(np.linalg.norm(head), np.linalg.norm(lookup)) > 0.1 * np.linalg.norm(total)
    assert np.linalg.norm(total - (head + lookup)) <= GRAD_TOL * np.linalg.norm(total)


@pytest.mark.parametrize("padding", ["right", "left"])
def test_sequence_classification_gradients_match_torch_autograd(gpt2_checkpoint, padding):
    folder = gpt2_checkpoint("GPT2ForSequenceClassification", num_labels=3)
    ids, mask = (ragged_batch if padding == "right" else left_padded)(99, (12, 9, 4))
    ours = nanohf.GPT2ForSequenceClassification.from_pretrained(folder)
    inputs = dict(input_ids=ids, attention_mask=mask, labels=np.array([2, 0, 1]))
    loss_diff, errors = gradient_errors(ours, torch_model("GPT2ForSequenceClassification", folder), inputs)
    worst = max(errors, key=errors.get)
    assert loss_diff <= LOSS_TOL and errors[worst] <= GRAD_TOL, f"{loss_diff:.2e}; {errors[worst]:.2e} at {worst}"


def test_gpt2_block_backward_in_float64():
    config = nanohf.GPT2Config(n_embd=8, n_head=2, n_layer=2, resid_pdrop=0.0, attn_pdrop=0.0)
    block = GPT2Block(config, layer_idx=0)
    for p in block.parameters():
        p.data = rng.standard_normal(p.data.shape) * 0.5
    mask = additive_padding_mask(np.array([[1, 1, 1, 1, 0], [0, 0, 1, 1, 1]]), np.float64)
    x = rng.standard_normal((2, 5, 8))
    g = rng.standard_normal((2, 5, 8))
    # A left-padding query sees only masked keys: its softmax row is uniform whatever the scores (the
    # mask swamps them), a flat function whose backward (as torch's) is not zero. Nothing reads those
    # rows in a model (their labels are -100, later layers mask them as keys), so neither does the check.
    g[1, :2] = 0.0
    block(x, mask)
    dx = block.backward(g)

    def run():
        with nanohf.no_grad():
            return float(np.sum(g * block(x, mask)[0]))

    params = list(block.parameters())
    directional_check(run, [x] + [p.data for p in params], [dx] + [p.grad for p in params], "GPT2Block")


def test_tiny_lm_in_float64():
    config = nanohf.GPT2Config(**{**TINY_GPT2, "n_embd": 8, "n_head": 2, "initializer_range": 0.5})
    nanohf.set_seed(0)
    model = nanohf.GPT2LMHeadModel(config).to(np.float64)
    ids, mask = np.array([[5, 9, 1, 33, 7, 2], [4, 4, 60, 8, 0, 0]]), np.array([[1] * 6, [1, 1, 1, 1, 0, 0]])
    labels = np.where(mask == 1, ids, -100)
    model(ids, attention_mask=mask, labels=labels).loss.backward()
    params = list(model.parameters())

    def run():
        with nanohf.no_grad():
            return float(model(ids, attention_mask=mask, labels=labels).loss)

    directional_check(run, [p.data for p in params], [p.grad for p in params], "GPT2LMHeadModel")


# --- bad input and saving ----------------------------------------------------------------------------


def test_bad_input_names_the_problem(lm):
    _, ours, _ = lm
    with pytest.raises(ValueError, match=r"input_ids holds id 99 .* vocab_size=99"):
        ours(np.array([[1, 2, 99]]))
    with pytest.raises(ValueError, match=r"input_ids holds id -1"):
        ours(np.array([[1, -1]]))
    with pytest.raises(ValueError, match=r"sequence length 65 exceeds max_position_embeddings=64"):
        ours(rng.integers(1, 99, (1, 65)))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 4\), expected \(1, 5\)"):
        ours(rng.integers(1, 99, (1, 5)), attention_mask=np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"input_ids holds id 120"):
        ours.generate(np.array([[1, 2, 120]]), max_new_tokens=2)
    with pytest.raises(ValueError, match=r"prompt has 65 tokens, more than the model's n_positions=64"):
        ours.generate(rng.integers(1, 99, (1, 65)), max_new_tokens=2)
    with pytest.raises(ValueError, match=r"60-token prompt plus 10 new tokens needs 69 positions"):
        ours.generate(rng.integers(1, 99, (1, 60)), max_new_tokens=10)
    assert ours.generate(rng.integers(1, 99, (1, 60)), max_new_tokens=5).shape == (1, 65)  # 64 positions fed
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 4\), expected \(1, 5\)"):
        ours.generate(rng.integers(1, 99, (1, 5)), attention_mask=np.ones((1, 4)), max_new_tokens=2)
    with pytest.raises(TypeError, match="unknown arguments"):
        ours.generate(rng.integers(1, 99, (1, 5)), max_new_token=2)


@pytest.mark.parametrize("class_name", ["GPT2LMHeadModel", "GPT2ForSequenceClassification"])
def test_save_pretrained_loads_in_transformers(tmp_path, class_name):
    nanohf.set_seed(0)
    ours = getattr(nanohf, class_name)(nanohf.GPT2Config(**TINY_GPT2))
    for p in ours.parameters():  # trained-looking weights: nothing left at its init value
        p.data += np.random.default_rng(1).standard_normal(p.data.shape).astype(np.float32) * 0.05
    ours.save_pretrained(tmp_path)
    theirs, info = getattr(transformers, class_name).from_pretrained(tmp_path, output_loading_info=True)
    assert info["missing_keys"] == set() or info["missing_keys"] == []
    assert not info["unexpected_keys"] and not info["mismatched_keys"]
    ids, mask = ragged_batch(99, (9, 4))
    ref = torch_forward(theirs.eval(), input_ids=ids, attention_mask=mask).logits
    assert max_diff(ours(ids, attention_mask=mask).logits, ref, mask if ref.ndim == 3 else None) <= LOGITS_TOL


# --- a 124M-sized model -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gpt2_124m(tmp_path_factory):
    """transformers' default GPT2Config (124M parameters), random weights, written once per module.

    Built on the meta device and filled from NumPy: transformers' own init takes ~10 s here.
    """
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config())
    model = model.to_empty(device="cpu")
    model.tie_weights()
    fill = np.random.default_rng(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            values = fill.standard_normal(p.shape, dtype=np.float32)
            if p.ndim == 2:
                values *= 0.02
            elif ".ln_" in name and name.endswith("weight"):
                values = 1.0 + 0.1 * values
            else:
                values *= 0.1
            p.copy_(torch.from_numpy(values))
    folder = tmp_path_factory.mktemp("gpt2-124m")
    model.eval().save_pretrained(folder)
    assert sum(p.numel() for p in model.parameters()) == 124_439_808
    return folder, model


def test_124m_logits_and_greedy_generation(gpt2_124m):
    folder, theirs = gpt2_124m
    ours = nanohf.GPT2LMHeadModel.from_pretrained(folder)
    ids, mask = left_padded(50257, (16, 9), seed=5)
    with nanohf.no_grad():
        logits = ours(ids, attention_mask=mask).logits
    ref = torch_forward(theirs, input_ids=ids, attention_mask=mask).logits
    assert max_diff(logits, ref, mask) <= LOGITS_TOL
    prompt = ids[:1, -8:]
    got = ours.generate(prompt, max_new_tokens=20)
    assert np.array_equal(got, torch_generate(theirs, prompt, max_new_tokens=20, do_sample=False))

"""Llama, Qwen2 and Mistral against transformers, on tiny random checkpoints transformers writes.

Each family is built a few ways: GQA and plain MHA, tied and untied embeddings, biases on (Llama's
attention_bias / mlp_bias, Qwen2's q/k/v), an explicit head_dim, scaled RoPE (linear, dynamic, llama3),
and Mistral with a sliding window shorter than the sequence. Checked: logits unpadded, right- and
left-padded; greedy and beam generate ids; cached steps against a full recompute; loss and gradients
against torch autograd; save_pretrained read back by transformers. Gradient checks in float64 of the
pieces are in test_llama_pieces.py.
"""

import json

import numpy as np
import pytest
import torch
import transformers
from conftest import ragged_batch, torch_model
from test_gpt2 import generation_positions, gradient_errors, left_padded, max_diff, torch_forward, torch_generate

import nanohf

LOGITS_TOL = 1e-4
LOSS_TOL = 1e-5
GRAD_TOL = 1e-4
VOCAB = 97
TINY = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=64, pad_token_id=0, bos_token_id=1, eos_token_id=2,
            initializer_range=0.1)  # fmt: skip

# name -> (transformers config class, config overrides)
CHECKPOINTS = {
    "llama-gqa": ("LlamaConfig", dict(num_key_value_heads=2)),
    "llama-tied-biases": (
        "LlamaConfig",
        dict(
            tie_word_embeddings=True,
            attention_bias=True,
            mlp_bias=True,
            head_dim=12,
            rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 500.0},
        ),
    ),
    "llama-mqa-llama3": (
        "LlamaConfig",
        dict(
            num_key_value_heads=1,
            rope_parameters={
                "rope_type": "llama3",
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 16,
                "rope_theta": 10000.0,
            },
        ),
    ),
    "qwen2": ("Qwen2Config", dict(num_key_value_heads=2, tie_word_embeddings=True)),
    "qwen2-window": (
        "Qwen2Config",
        dict(num_key_value_heads=2, use_sliding_window=True, sliding_window=4, max_window_layers=1),
    ),  # layer 0 full, layer 1 windowed  # fmt: skip
    "mistral-window": ("MistralConfig", dict(num_key_value_heads=2, sliding_window=4)),
}
FAMILY = {"LlamaConfig": "Llama", "Qwen2Config": "Qwen2", "MistralConfig": "Mistral"}


@pytest.fixture(autouse=True)
def fresh_rng():
    global rng
    rng = np.random.default_rng(0)


def perturb(model) -> None:
    """Random init leaves every RMSNorm at 1 and biases at 0: move them so any mix-up shows."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                p.add_(0.1 * torch.randn_like(p))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """``checkpoint(name, head="ForCausalLM", **overrides) -> folder`` written by transformers (eager attention)."""
    cache = {}

    def build(name, head="ForCausalLM", **overrides):
        key = (name, head, repr(sorted(overrides.items())))
        if key not in cache:
            config_class, extra = CHECKPOINTS[name]
            torch.manual_seed(0)
            config = getattr(transformers, config_class)(**{**TINY, **extra, **overrides})
            model = getattr(transformers, FAMILY[config_class] + head)(config)
            perturb(model)
            cache[key] = tmp_path_factory.mktemp(f"{name}{head}")
            model.eval().save_pretrained(cache[key])
        return cache[key]

    return build


@pytest.fixture(scope="module")
def lms(checkpoint):
    """name -> (folder, nanohf model, transformers model), for every checkpoint's causal LM."""
    out = {}
    for name, (config_class, _) in CHECKPOINTS.items():
        folder = checkpoint(name)
        cls = FAMILY[config_class] + "ForCausalLM"
        out[name] = (folder, nanohf.AutoModelForCausalLM.from_pretrained(folder), torch_model(cls, folder))
    return out


def batch(padding: str, lengths=(12, 9, 5)):
    if padding == "none":
        ids, _ = ragged_batch(VOCAB, (12, 12, 12))
        return ids, np.ones_like(ids)
    return (ragged_batch if padding == "right" else left_padded)(VOCAB, lengths)


# --- logits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["none", "right", "left", "left+positions"])
@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_logits_match_transformers(lms, name, padding):
    _, ours, theirs = lms[name]
    ids, mask = batch(padding.split("+")[0])
    inputs = dict(input_ids=ids, attention_mask=mask)
    if padding == "left+positions":  # as generate() feeds them: real tokens count from 0
        inputs["position_ids"] = generation_positions(mask)
    with nanohf.no_grad():
        out = ours(**inputs, output_hidden_states=True, output_attentions=True)
    ref = torch_forward(theirs, **inputs, output_hidden_states=True, output_attentions=True)
    diff = max_diff(out.logits, ref.logits.numpy(), mask)
    assert diff <= LOGITS_TOL, f"{name}, {padding} padding: max |Δ logits| {diff:.2e}"
    assert len(out.hidden_states) == len(ref.hidden_states)
    hidden = max_diff(out.hidden_states[-1], ref.hidden_states[-1].numpy(), mask)
    assert hidden <= LOGITS_TOL, f"{name}: last hidden state |Δ| {hidden:.2e}"
    rows = mask.astype(bool)  # attention rows of real query tokens
    for ours_probs, ref_probs in zip(out.attentions, ref.attentions, strict=True):
        diff = np.abs(ours_probs - ref_probs.numpy()).transpose(0, 2, 1, 3)[rows].max()
        assert diff <= 1e-5, f"{name}: attention probabilities |Δ| {diff:.2e}"


def test_mistral_window_is_shorter_than_the_sequence(lms):
    """The window matters: without it the logits past position 4 would be different."""
    _, ours, theirs = lms["mistral-window"]
    ids, _ = batch("none")
    with nanohf.no_grad():
        windowed = ours(ids).logits
    full = transformers.MistralForCausalLM(transformers.MistralConfig(**{**theirs.config.to_dict(), "sliding_window":
                                                                        None}))  # fmt: skip
    full.load_state_dict(theirs.state_dict())
    unwindowed = torch_forward(full.eval(), input_ids=ids).logits.numpy()
    assert np.abs(windowed[:, :4] - unwindowed[:, :4]).max() <= LOGITS_TOL  # inside the window: the same
    assert np.abs(windowed[:, 6:] - unwindowed[:, 6:]).max() > 1e-3  # beyond it: the window shows


def test_dynamic_rope_past_max_position_embeddings(checkpoint):
    """dynamic NTK scaling stretches the frequencies once a sequence runs past max_position_embeddings."""
    folder = checkpoint("llama-gqa", max_position_embeddings=8, rope_parameters={"rope_type": "dynamic",
                                                                                 "factor": 2.0})  # fmt: skip
    ours, theirs = nanohf.LlamaForCausalLM.from_pretrained(folder), torch_model("LlamaForCausalLM", folder)
    for length in (12, 6, 16):  # grows, resets, grows again, as transformers' rotary module does
        ids = rng.integers(3, VOCAB, (2, length))
        with nanohf.no_grad():
            logits = ours(ids).logits
        diff = max_diff(logits, torch_forward(theirs, input_ids=ids).logits.numpy())
        assert diff <= LOGITS_TOL, f"length {length}: max |Δ logits| {diff:.2e}"


# --- past max_position_embeddings -----------------------------------------------------------------------

# RoPE scalings, each on a checkpoint whose max_position_embeddings (8) the generation runs past.
LLAMA3_ROPE = {**CHECKPOINTS["llama-mqa-llama3"][1]["rope_parameters"], "original_max_position_embeddings": 4}
SCALED = {
    "linear": ("llama-tied-biases", {}),
    "dynamic": ("llama-gqa", {"rope_parameters": {"rope_type": "dynamic", "factor": 2.0}}),
    "llama3": ("llama-mqa-llama3", {"rope_parameters": LLAMA3_ROPE}),
}


@pytest.mark.parametrize("scaling", list(SCALED))
def test_scaled_rope_generates_past_max_position_embeddings(checkpoint, scaling, caplog):
    """transformers lets any Llama run past max_position_embeddings and warns once (MaxLengthCriteria); with a
    RoPE scaling nanohf does the same: the same ids, greedy and beam, left-padded, and the same warning."""
    name, overrides = SCALED[scaling]
    folder = checkpoint(name, max_position_embeddings=8, **overrides)
    ours, theirs = nanohf.LlamaForCausalLM.from_pretrained(folder), torch_model("LlamaForCausalLM", folder)
    assert ours.config.rope_parameters["rope_type"] == scaling
    ids, mask = left_padded(VOCAB, (6, 4))
    nanohf.generation._warn_once.cache_clear()
    for options in (dict(), dict(num_beams=2)):
        with caplog.at_level("WARNING", logger="nanohf"):
            got = ours.generate(ids, attention_mask=mask, max_new_tokens=10, **options)
        want = torch_generate(theirs, ids, mask, max_new_tokens=10, do_sample=False, **options)
        assert got.shape[1] == 16 and np.array_equal(got, want), f"{scaling} {options}:\n{got}\n{want}"
    # transformers' own warning goes to caplog too (its logger propagates) the first time any test triggers it
    ours_said = [r for r in caplog.records if r.name == "nanohf" and "predefined maximum length (8)" in r.message]
    assert len(ours_said) == 1, [(r.name, r.message) for r in caplog.records]


def test_default_rope_past_the_limit_is_refused_and_raising_it_gives_transformers_numbers(checkpoint):
    """Without scaling nanohf refuses (issue 19 §8) where transformers extrapolates; the error's advice — raise
    max_position_embeddings, which the default RoPE does not read — gives exactly transformers' logits and ids."""
    folder = checkpoint("llama-gqa", max_position_embeddings=8)
    theirs = torch_model("LlamaForCausalLM", folder)
    ids, mask = left_padded(VOCAB, (12, 9))
    refusal = r"sequence length 12 \(past and new tokens\) exceeds max_position_embeddings=8.*raise config.max_pos"
    with pytest.raises(ValueError, match=refusal):
        nanohf.LlamaForCausalLM.from_pretrained(folder)(ids)
    ours = nanohf.LlamaForCausalLM.from_pretrained(folder, max_position_embeddings=64)
    with nanohf.no_grad():
        logits = ours(ids, attention_mask=mask).logits
    diff = max_diff(logits, torch_forward(theirs, input_ids=ids, attention_mask=mask).logits.numpy(), mask)
    assert diff <= LOGITS_TOL, f"max |Δ logits| {diff:.2e} past the original limit"
    got = ours.generate(ids, attention_mask=mask, max_new_tokens=6)
    assert np.array_equal(got, torch_generate(theirs, ids, mask, max_new_tokens=6, do_sample=False))


# --- generation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_greedy_and_beam_generate_match_transformers(lms, name):
    _, ours, theirs = lms[name]
    ids, mask = left_padded(VOCAB, (9, 6, 3))
    for options in (dict(), dict(num_beams=3, num_return_sequences=2)):
        got = ours.generate(ids, attention_mask=mask, max_new_tokens=8, **options)
        want = torch_generate(theirs, ids, mask, max_new_tokens=8, do_sample=False, **options)
        assert np.array_equal(got, want), f"{name} {options}:\n{got}\n{want}"


@pytest.mark.parametrize("name", ["llama-gqa", "mistral-window"])
def test_cached_steps_equal_a_full_recompute(lms, name):
    _, ours, _ = lms[name]
    ids, mask = left_padded(VOCAB, (10, 7))
    positions = generation_positions(mask)
    with nanohf.no_grad():
        full = ours(ids, attention_mask=mask, position_ids=positions).logits
        step = ours(ids[:, :6], attention_mask=mask[:, :6], position_ids=positions[:, :6], use_cache=True)
        cache = step.past_key_values
        # The cache keeps the un-repeated k/v heads: (batch, num_key_value_heads, len, head_dim).
        assert cache[0].keys.shape == (2, ours.config.num_key_value_heads, 6, ours.config.head_dim)
        for t in range(6, ids.shape[1]):
            step = ours(ids[:, t : t + 1], attention_mask=mask[:, : t + 1], position_ids=positions[:, t : t + 1],
                        past_key_values=cache, use_cache=True)  # fmt: skip
            cache = step.past_key_values
            diff = np.abs(step.logits[:, 0] - full[:, t]).max()
            assert diff <= 1e-5, f"step {t}: cached vs full |Δ| {diff:.2e}"


def test_seeded_sampling_is_repeatable(lms):
    _, ours, _ = lms["qwen2"]
    ids = rng.integers(3, VOCAB, (2, 5))
    nanohf.set_seed(7)
    first = ours.generate(ids, do_sample=True, top_k=20, max_new_tokens=6)
    nanohf.set_seed(7)
    assert np.array_equal(first, ours.generate(ids, do_sample=True, top_k=20, max_new_tokens=6))


# --- gradients ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_lm_loss_and_gradients_match_torch_autograd(lms, name):
    folder = lms[name][0]
    cls = FAMILY[CHECKPOINTS[name][0]] + "ForCausalLM"
    ours, theirs = nanohf.AutoModelForCausalLM.from_pretrained(folder), torch_model(cls, folder)
    ids, mask = ragged_batch(VOCAB, (12, 9, 4, 12))
    labels = ids.copy()
    labels[mask == 0] = -100
    inputs = dict(input_ids=ids, attention_mask=mask, labels=labels)
    loss_diff, errors = gradient_errors(ours, theirs, inputs)
    worst = max(errors, key=errors.get)
    assert loss_diff <= LOSS_TOL and errors[worst] <= GRAD_TOL, (
        f"{name}: {loss_diff:.2e}; {errors[worst]:.2e} at {worst}"
    )
    if ours.config.tie_word_embeddings:
        assert ours.lm_head.weight is ours.model.embed_tokens.weight
    else:
        assert ours.lm_head.weight is not ours.model.embed_tokens.weight


# --- heads ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("head", ["ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering"])
def test_task_heads_logits_and_gradients(checkpoint, head):
    folder = checkpoint("llama-gqa", head=head, num_labels=3)
    ours = getattr(nanohf, "Llama" + head).from_pretrained(folder)
    theirs = torch_model("Llama" + head, folder)
    ids, mask = left_padded(VOCAB, (12, 9, 4))
    inputs = dict(input_ids=ids, attention_mask=mask)
    with nanohf.no_grad():
        out = ours(**inputs)
    ref = torch_forward(theirs, **inputs)
    for field in ("logits",) if head != "ForQuestionAnswering" else ("start_logits", "end_logits"):
        diff = np.abs(getattr(out, field) - getattr(ref, field).numpy())
        diff = diff[mask.astype(bool)] if diff.ndim == 2 and head != "ForSequenceClassification" else diff
        assert diff.max() <= LOGITS_TOL, f"{head} {field}: {diff.max():.2e}"
    if head == "ForSequenceClassification":
        inputs["labels"] = np.array([2, 0, 1])
    elif head == "ForTokenClassification":
        inputs["labels"] = np.where(mask == 1, rng.integers(0, 3, ids.shape), -100)
    else:
        inputs.update(start_positions=np.array([3, 5, 9]), end_positions=np.array([6, 5, 11]))
    theirs.config.dropout = 0.0
    ours_train = getattr(nanohf, "Llama" + head).from_pretrained(folder)
    if head == "ForTokenClassification":  # dropout 0.1 by default: compare without it
        ours_train.dropout.p, theirs.dropout.p = 0.0, 0.0
    loss_diff, errors = gradient_errors(ours_train, theirs, inputs)
    worst = max(errors, key=errors.get)
    assert loss_diff <= LOSS_TOL and errors[worst] <= GRAD_TOL, (
        f"{head}: {loss_diff:.2e}; {errors[worst]:.2e} at {worst}"
    )


def test_sequence_classification_without_a_pad_token(checkpoint):
    """No pad id: the last position is read, for a batch of one only (ids or embeddings), as transformers."""
    folder = checkpoint("llama-gqa", head="ForSequenceClassification", num_labels=3, pad_token_id=None)
    ours = nanohf.LlamaForSequenceClassification.from_pretrained(folder)
    theirs = torch_model("LlamaForSequenceClassification", folder)
    ids = rng.integers(3, VOCAB, (1, 7))
    embeds = rng.normal(0.0, 0.5, (1, 7, 32)).astype(np.float32)
    for inputs in (dict(input_ids=ids), dict(inputs_embeds=embeds)):
        with nanohf.no_grad():
            logits = ours(**inputs).logits
        diff = max_diff(logits, torch_forward(theirs, **inputs).logits.numpy())
        assert diff <= LOGITS_TOL, f"{list(inputs)}: max |Δ logits| {diff:.2e}"
    loss_diff, errors = gradient_errors(ours, theirs, dict(input_ids=ids, labels=np.array([1])))
    worst = max(errors, key=errors.get)
    assert loss_diff <= LOSS_TOL and errors[worst] <= GRAD_TOL, f"{loss_diff:.2e}; {errors[worst]:.2e} at {worst}"
    for inputs in (dict(input_ids=ids.repeat(2, 0)), dict(inputs_embeds=embeds.repeat(2, 0))):
        with pytest.raises(ValueError, match="Cannot handle batch sizes > 1 if no padding token is defined"):
            ours(**inputs)


# --- inputs_embeds --------------------------------------------------------------------------------------


def relative_error(ours, theirs) -> float:
    return float(np.linalg.norm(ours - theirs) / max(np.linalg.norm(theirs), 1e-12))


@pytest.mark.parametrize("name", ["llama-gqa", "llama-tied-biases", "qwen2", "mistral-window"])
def test_inputs_embeds_match_transformers(lms, name):
    """Vectors instead of ids (transformers' LlamaModel.forward takes ``inputs_embeds``), left-padded: logits, the
    loss, and the gradients of the parameters and of the embeddings themselves (a Parameter's ``.grad``, as
    torch's leaf with requires_grad) against torch autograd. The table gets no gradient then, in both."""
    folder, ours, theirs = lms[name]
    ids, mask = left_padded(VOCAB, (9, 6, 3))
    embeds = rng.normal(0.0, 0.5, (*ids.shape, ours.config.hidden_size)).astype(np.float32)
    with nanohf.no_grad():
        logits = ours(inputs_embeds=embeds, attention_mask=mask).logits
        table_rows = ours(inputs_embeds=ours.model.embed_tokens.weight.data[ids], attention_mask=mask).logits
        assert np.array_equal(table_rows, ours(ids, attention_mask=mask).logits)  # the same as looking the ids up
    diff = max_diff(logits, torch_forward(theirs, inputs_embeds=embeds, attention_mask=mask).logits.numpy(), mask)
    assert diff <= LOGITS_TOL, f"{name}: max |Δ logits| {diff:.2e} from inputs_embeds"

    cls = FAMILY[CHECKPOINTS[name][0]] + "ForCausalLM"
    train, ref_model = nanohf.AutoModelForCausalLM.from_pretrained(folder).train(), torch_model(cls, folder).train()
    labels = np.where(mask == 1, ids, -100)
    leaf = nanohf.nn.Parameter(embeds.copy())
    loss = train(inputs_embeds=leaf, attention_mask=mask, labels=labels).loss
    loss.backward()
    torch_leaf = torch.tensor(embeds, requires_grad=True)
    ref = ref_model(inputs_embeds=torch_leaf, attention_mask=torch.tensor(mask), labels=torch.tensor(labels)).loss
    ref.backward()
    assert abs(float(loss) - ref.item()) <= LOSS_TOL
    embeds_error = relative_error(leaf.grad, torch_leaf.grad.numpy())
    assert embeds_error <= GRAD_TOL, f"{name}: d inputs_embeds relative error {embeds_error:.2e}"
    torch_grads = {n: p.grad.numpy() for n, p in ref_model.named_parameters() if p.grad is not None}
    ours_grads = {n: p.grad for n, p in train.named_parameters() if p.grad is not None}
    assert set(ours_grads) == set(torch_grads), set(ours_grads) ^ set(torch_grads)
    errors = {n: relative_error(g, torch_grads[n]) for n, g in ours_grads.items()}
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"{name}: {errors[worst]:.2e} at {worst}"
    assert np.array_equal(leaf.data, embeds)  # the caller's vectors are read, never written


@pytest.mark.parametrize("head", ["ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering"])
def test_task_heads_take_inputs_embeds(checkpoint, head, caplog):
    """Every head passes inputs_embeds through; sequence classification then reads the last position (no pad id
    to look for) and says so once, as transformers."""
    folder = checkpoint("llama-gqa", head=head, num_labels=3)
    ours, theirs = getattr(nanohf, "Llama" + head).from_pretrained(folder), torch_model("Llama" + head, folder)
    embeds = rng.normal(0.0, 0.5, (2, 7, 32)).astype(np.float32)
    nanohf.generation._warn_once.cache_clear()
    with nanohf.no_grad(), caplog.at_level("WARNING", logger="nanohf"):
        out = ours(inputs_embeds=embeds)
    ref = torch_forward(theirs, inputs_embeds=embeds)
    for field in ("logits",) if head != "ForQuestionAnswering" else ("start_logits", "end_logits"):
        diff = max_diff(getattr(out, field), getattr(ref, field).numpy())
        assert diff <= LOGITS_TOL, f"{head} {field}: {diff:.2e}"
    warned = any("will not detect padding tokens in `inputs_embeds`" in r.message for r in caplog.records)
    assert warned == (head == "ForSequenceClassification")
    # The gradient reaches the vectors through every head.
    labels = {
        "ForSequenceClassification": dict(labels=np.array([2, 0])),
        "ForTokenClassification": dict(labels=rng.integers(0, 3, (2, 7))),
        "ForQuestionAnswering": dict(start_positions=np.array([1, 4]), end_positions=np.array([3, 6])),
    }[head]
    if head == "ForTokenClassification":
        ours.dropout.p, theirs.dropout.p = 0.0, 0.0
    leaf, torch_leaf = nanohf.nn.Parameter(embeds.copy()), torch.tensor(embeds, requires_grad=True)
    ours.train()(inputs_embeds=leaf, **labels).loss.backward()
    theirs.train()(inputs_embeds=torch_leaf, **{k: torch.tensor(v) for k, v in labels.items()}).loss.backward()
    error = relative_error(leaf.grad, torch_leaf.grad.numpy())
    assert error <= GRAD_TOL, f"{head}: d inputs_embeds relative error {error:.2e}"


def test_inputs_embeds_bad_input_names_the_argument(lms):
    _, ours, _ = lms["llama-gqa"]
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        ours(np.array([[5, 6]]), inputs_embeds=np.zeros((1, 2, 32), np.float32))
    with pytest.raises(ValueError, match="exactly one of input_ids or inputs_embeds"):
        ours(attention_mask=np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"inputs_embeds has shape \(1, 2, 31\), expected \(batch, seq, hidden_size="):
        ours(inputs_embeds=np.zeros((1, 2, 31), np.float32))
    with pytest.raises(ValueError, match=r"attention_mask has shape \(1, 3\), expected \(1, 2\)"):
        ours(inputs_embeds=np.zeros((1, 2, 32), np.float32), attention_mask=np.ones((1, 3)))


# --- files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CHECKPOINTS))
def test_save_pretrained_loads_in_transformers(lms, name, tmp_path):
    _, ours, theirs = lms[name]
    ours.save_pretrained(tmp_path)
    cls = type(theirs)
    reloaded, info = cls.from_pretrained(tmp_path, output_loading_info=True, attn_implementation="eager")
    assert not info["missing_keys"] and not info["unexpected_keys"], info
    ids, mask = batch("right")
    diff = max_diff(torch_forward(reloaded.eval(), input_ids=ids, attention_mask=mask).logits.numpy(),
                    torch_forward(theirs, input_ids=ids, attention_mask=mask).logits.numpy(), mask)  # fmt: skip
    assert diff == 0.0
    assert reloaded.config.rope_parameters == theirs.config.rope_parameters
    assert nanohf.AutoConfig.from_pretrained(tmp_path) == ours.config


@pytest.mark.parametrize("name", ["llama-gqa", "qwen2", "mistral-window"])
def test_generation_config_json_as_transformers(lms, name, tmp_path):
    """save_pretrained writes transformers' generation_config.json; the settings a checkpoint's file gives are
    generate()'s defaults, as in transformers (the same ids from the same folder)."""
    folder, ours, theirs = lms[name]
    ours.save_pretrained(tmp_path / "ours")
    theirs.save_pretrained(tmp_path / "theirs")
    written = [json.loads((tmp_path / side / "generation_config.json").read_text()) for side in ("ours", "theirs")]
    assert written[0] == written[1]
    settings = {"max_new_tokens": 5, "num_beams": 2, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}
    (tmp_path / "ours" / "generation_config.json").write_text(json.dumps(settings))
    reread = nanohf.AutoModelForCausalLM.from_pretrained(tmp_path / "ours")
    ids, mask = left_padded(VOCAB, (6, 4))
    got = reread.generate(ids, attention_mask=mask)
    want = torch_generate(torch_model(type(theirs).__name__, tmp_path / "ours"), ids, mask)
    assert got.shape == (2, 11) and np.array_equal(got, want), f"\n{got}\n{want}"


CONFIG_CASES = [
    ("LlamaConfig", {}),
    ("LlamaConfig", dict(attention_bias=True, head_dim=12)),
    ("Qwen2Config", {}),
    ("Qwen2Config", dict(use_sliding_window=True, sliding_window=4, max_window_layers=1)),
    ("Qwen2Config", dict(head_dim=12, attention_bias=True)),  # extra keywords: kept and written, as transformers
    ("MistralConfig", {}),
    ("MistralConfig", dict(sliding_window=None, head_dim=12)),
]


@pytest.mark.parametrize("config_class, extra", CONFIG_CASES)
def test_config_json_has_transformers_keys(config_class, extra, tmp_path):
    """Qwen2's and Mistral's configs are Llama's class, but their config.json has their own family's keys:
    no attention_bias / mlp_bias / pretraining_tp (nor head_dim for Qwen2) unless passed, as transformers."""
    ours, theirs = getattr(nanohf, config_class)(**TINY, **extra), getattr(transformers, config_class)(**TINY, **extra)
    assert ours.to_dict() == theirs.to_dict()
    ours.save_pretrained(tmp_path / "ours")
    theirs.save_pretrained(tmp_path / "theirs")
    written = {name: json.loads((tmp_path / name / "config.json").read_text()) for name in ("ours", "theirs")}
    assert written["ours"] == written["theirs"], set(written["ours"].items()) ^ set(written["theirs"].items())
    reread = nanohf.AutoConfig.from_pretrained(tmp_path / "theirs")  # and what transformers wrote reads back the same
    assert type(reread) is type(ours) and reread.to_diff_dict() == ours.to_diff_dict()


def test_qwen2_head_dim_is_derived_unless_given(checkpoint):
    """transformers' Qwen2 model reads ``head_dim`` if the config has one, else hidden_size // num_attention_heads."""
    assert nanohf.Qwen2Config(**TINY).head_dim == 8 and not hasattr(nanohf.Qwen2Config(**TINY), "attention_bias")
    folder = checkpoint("qwen2", head_dim=12)
    ours, theirs = nanohf.Qwen2ForCausalLM.from_pretrained(folder), torch_model("Qwen2ForCausalLM", folder)
    assert ours.model.layers[0].self_attn.q_proj.weight.shape == (4 * 12, 32)
    ids, mask = batch("left")
    with nanohf.no_grad():
        logits = ours(ids, attention_mask=mask).logits
    diff = max_diff(logits, torch_forward(theirs, input_ids=ids, attention_mask=mask).logits.numpy(), mask)
    assert diff <= LOGITS_TOL, f"qwen2 head_dim=12: max |Δ logits| {diff:.2e}"


def test_old_rope_scaling_spelling_is_read(tmp_path):
    """Hub files written before transformers 5 say ``rope_scaling`` (with ``type``) and a top-level ``rope_theta``."""
    folder = tmp_path
    config = dict(TINY, model_type="llama", rope_theta=5e5, rope_scaling={"type": "linear", "factor": 4.0})
    (folder / "config.json").write_text(json.dumps(config))
    ours = nanohf.AutoConfig.from_pretrained(folder)
    theirs = transformers.AutoConfig.from_pretrained(folder)
    assert ours.rope_parameters == theirs.rope_parameters
    assert ours.rope_parameters["rope_type"] == "linear" and ours.rope_parameters["rope_theta"] == 5e5


# --- bad input ------------------------------------------------------------------------------------------


def test_bad_configs_and_inputs_name_the_field(lms):
    with pytest.raises(ValueError, match="num_attention_heads.*multiple of num_key_value_heads"):
        nanohf.LlamaModel(nanohf.LlamaConfig(**{**TINY, "num_key_value_heads": 3}))
    with pytest.raises(ValueError, match=r"rope_scaling\['rope_type'\] is 'yarn-x'"):
        nanohf.LlamaConfig(**TINY, rope_scaling={"rope_type": "yarn-x", "factor": 2.0})
    with pytest.raises(ValueError, match=r"rope_parameters of rope_type 'linear' needs \['factor'\]"):
        nanohf.LlamaConfig(**TINY, rope_parameters={"rope_type": "linear"})
    _, ours, _ = lms["llama-gqa"]
    with pytest.raises(ValueError, match="exceeds max_position_embeddings=64"):
        ours(rng.integers(3, VOCAB, (1, 65)))
    with pytest.raises(ValueError, match=r"position_ids holds 64, outside \[0, max_position_embeddings=64\)"):
        ours(np.array([[5, 6]]), position_ids=np.array([[63, 64]]))
    with pytest.raises(ValueError, match=r"needs 65 positions, more than the model's max_position_embeddings=64.*"
                                         r"rope_parameters has no scaling"):  # fmt: skip
        ours.generate(rng.integers(3, VOCAB, (1, 5)), max_new_tokens=61)
    with pytest.raises(ValueError, match="input_ids holds id 97"):
        ours(np.array([[5, 97]]))

"""BART against transformers on the same random checkpoints: logits with padded encoder and decoder
inputs, shift_tokens_right, the decoder cache against a full recompute, and gradient parity with
torch autograd (tolerances of tests/test_gradients.py)."""

import numpy as np
import pytest
import torch
import transformers
from conftest import torch_model
from test_gradients import GRAD_TOL, LOSS_TOL, compare_gradients

import nanohf

TINY_BART = dict(
    vocab_size=48, d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
    decoder_attention_heads=2, encoder_ffn_dim=24, decoder_ffn_dim=20, max_position_embeddings=40,
)  # fmt: skip
NO_DROPOUT = dict(dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, classifier_dropout=0.0)
PAD, EOS = 1, 2
LOGITS_TOL = 1e-4


def padded_batch(lengths, vocab=48, seed=0, start=None):
    """Right-padded ids ending in eos (encoder inputs) or starting with ``start`` (decoder inputs)."""
    rng = np.random.default_rng(seed)
    ids = np.full((len(lengths), max(lengths)), PAD, dtype=np.int64)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(3, vocab, n)
        if start is None:
            ids[i, 0], ids[i, n - 1] = 0, EOS
        else:
            ids[i, 0] = start
    return ids, (ids != PAD).astype(np.int64)


@pytest.fixture(scope="module")
def bart_dir(make_checkpoint, tmp_path_factory):
    """A conditional-generation checkpoint with a non-zero final_logits_bias (a buffer the init leaves at 0)."""
    folder = tmp_path_factory.mktemp("bart_bias")
    model = torch_model("BartForConditionalGeneration", make_checkpoint("BartForConditionalGeneration", TINY_BART))
    with torch.no_grad():
        model.final_logits_bias.copy_(0.5 * torch.randn_like(model.final_logits_bias))
    model.save_pretrained(folder)
    return folder


def run_both(class_name, folder, **inputs):
    ours = getattr(nanohf, class_name).from_pretrained(folder)
    theirs = torch_model(class_name, folder)
    with nanohf.no_grad():
        out = ours(**inputs, output_hidden_states=True)
    with torch.no_grad():
        ref = theirs(**{k: torch.tensor(v) for k, v in inputs.items()}, output_hidden_states=True)
    return out, ref


def test_shift_tokens_right_matches_transformers():
    labels = np.array([[5, 6, 7, 2], [8, 2, -100, -100]])
    ours = nanohf.shift_tokens_right(labels, PAD, EOS)
    ref = transformers.models.bart.modeling_bart.shift_tokens_right(torch.tensor(labels), PAD, EOS)
    np.testing.assert_array_equal(ours, ref.numpy())
    assert ours.tolist() == [[2, 5, 6, 7], [2, 8, 2, 1]]


@pytest.mark.parametrize("scale_embedding", [False, True])
def test_conditional_generation_logits_with_padding(make_checkpoint, bart_dir, scale_embedding):
    folder = bart_dir if not scale_embedding else make_checkpoint(
        "BartForConditionalGeneration", {**TINY_BART, "scale_embedding": True}
    )
    input_ids, attention_mask = padded_batch([9, 5, 7])
    decoder_input_ids, decoder_attention_mask = padded_batch([6, 3, 4], start=EOS, seed=1)
    out, ref = run_both("BartForConditionalGeneration", folder, input_ids=input_ids, attention_mask=attention_mask,
                        decoder_input_ids=decoder_input_ids, decoder_attention_mask=decoder_attention_mask)  # fmt: skip
    real = decoder_attention_mask.astype(bool)
    diff = np.abs(out.logits - ref.logits.numpy())[real].max()
    assert diff <= LOGITS_TOL, f"logits |Δ| {diff:.2e}"
    enc = np.abs(out.encoder_last_hidden_state - ref.encoder_last_hidden_state.numpy())[attention_mask.astype(bool)]
    assert enc.max() <= LOGITS_TOL, f"encoder states |Δ| {enc.max():.2e}"
    for ours, theirs in zip(out.decoder_hidden_states, ref.decoder_hidden_states, strict=True):
        assert np.abs(ours - theirs.numpy())[real].max() <= LOGITS_TOL


def test_labels_loss_and_denoising_default(bart_dir):
    input_ids, attention_mask = padded_batch([9, 5, 7])
    labels, label_mask = padded_batch([6, 3, 4], seed=2)
    labels[label_mask == 0] = -100
    out, ref = run_both("BartForConditionalGeneration", bart_dir, input_ids=input_ids,
                        attention_mask=attention_mask, labels=labels)  # fmt: skip
    assert abs(float(out.loss) - ref.loss.item()) <= 1e-5
    assert out.past_key_values is None
    # No decoder inputs and no labels: the decoder reads the shifted encoder inputs.
    out, ref = run_both("BartForConditionalGeneration", bart_dir, input_ids=input_ids, attention_mask=attention_mask)
    assert np.abs(out.logits - ref.logits.numpy()).max() <= LOGITS_TOL


def test_base_model_and_auto_classes(bart_dir):
    input_ids, attention_mask = padded_batch([8, 4])
    out, ref = run_both("BartModel", bart_dir, input_ids=input_ids, attention_mask=attention_mask)
    assert np.abs(out.last_hidden_state - ref.last_hidden_state.numpy()).max() <= LOGITS_TOL
    assert type(nanohf.AutoModelForSeq2SeqLM.from_pretrained(bart_dir)) is nanohf.BartForConditionalGeneration
    model = nanohf.AutoModel.from_pretrained(bart_dir)
    assert type(model) is nanohf.BartModel
    assert model.encoder.embed_tokens.weight is model.shared.weight is model.decoder.embed_tokens.weight


def test_sequence_classification_pools_the_last_eos(make_checkpoint):
    folder = make_checkpoint("BartForSequenceClassification", TINY_BART)
    input_ids, attention_mask = padded_batch([9, 5, 7])
    input_ids[:, 3] = EOS  # two eos per row: the last one is read
    out, ref = run_both("BartForSequenceClassification", folder, input_ids=input_ids, attention_mask=attention_mask)
    assert out.logits.shape == (3, 3)
    diff = np.abs(out.logits - ref.logits.numpy()).max()
    assert diff <= LOGITS_TOL, f"logits |Δ| {diff:.2e}"
    model = nanohf.AutoModelForSequenceClassification.from_pretrained(folder)
    input_ids[0, 4] = EOS
    with pytest.raises(ValueError, match="same number of <eos>"):
        model(input_ids, attention_mask)


def test_cached_decoding_equals_full_recompute(bart_dir):
    """Step by step with the self-attention cache and the cached cross-attention K/V = one full pass."""
    model = nanohf.BartForConditionalGeneration.from_pretrained(bart_dir)
    input_ids, attention_mask = padded_batch([9, 5])
    decoder_input_ids, _ = padded_batch([6, 6], start=EOS, seed=3)
    with nanohf.no_grad():
        full = model(input_ids, attention_mask, decoder_input_ids).logits
        encoder_outputs = (model.get_encoder()(input_ids, attention_mask).last_hidden_state,)
        past, steps = None, []
        for t in range(decoder_input_ids.shape[1]):
            out = model(None, attention_mask, decoder_input_ids[:, t : t + 1], encoder_outputs=encoder_outputs,
                        past_key_values=past, use_cache=True)  # fmt: skip
            past = out.past_key_values
            steps.append(out.logits[:, 0])
    assert past[0][0].shape == (2, 2, 6, 8) and past[0][2].shape == (2, 9, 16)
    diff = np.abs(np.stack(steps, axis=1) - full).max()
    assert diff <= 1e-5, f"cached vs full |Δ| {diff:.2e}"


@pytest.mark.parametrize("class_name", ["BartForConditionalGeneration", "BartForSequenceClassification"])
def test_gradients_match_torch_autograd(make_checkpoint, class_name):
    input_ids, attention_mask = padded_batch([9, 6, 4, 9])
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask)
    if class_name == "BartForConditionalGeneration":
        labels, label_mask = padded_batch([7, 3, 5, 6], seed=4)
        labels[label_mask == 0] = -100
        inputs["labels"] = labels
    else:
        inputs["labels"] = np.array([0, 2, 1, 2])
    config = {**TINY_BART, **NO_DROPOUT, "scale_embedding": True}
    loss_diff, errors, ours, _ = compare_gradients(make_checkpoint, class_name, config, inputs)
    assert loss_diff <= LOSS_TOL, f"{class_name} loss |Δ| {loss_diff:.2e}"
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"{class_name}: worst relative gradient error {errors[worst]:.2e} at {worst}"
    assert len(errors) == len(list(ours.named_parameters())) - (class_name == "BartForConditionalGeneration")
    assert "model.shared.weight" in errors and "model.encoder.embed_positions.weight" in errors


def test_given_decoder_inputs_with_labels_and_padding_gradients(make_checkpoint):
    """Explicit decoder inputs and decoder padding mask, gradient through both attention masks."""
    input_ids, attention_mask = padded_batch([9, 6, 4])
    decoder_input_ids, decoder_attention_mask = padded_batch([6, 4, 2], start=EOS, seed=5)
    labels = np.roll(decoder_input_ids, -1, axis=1)
    labels[decoder_attention_mask == 0] = -100
    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids,
                  decoder_attention_mask=decoder_attention_mask, labels=labels)  # fmt: skip
    config = {**TINY_BART, **NO_DROPOUT}
    loss_diff, errors, _, _ = compare_gradients(make_checkpoint, "BartForConditionalGeneration", config, inputs)
    assert loss_diff <= LOSS_TOL
    worst = max(errors, key=errors.get)
    assert errors[worst] <= GRAD_TOL, f"worst relative gradient error {errors[worst]:.2e} at {worst}"

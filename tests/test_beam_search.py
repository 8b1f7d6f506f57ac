"""generate() for BART (encoder once, cached decoder steps) and beam search for BART and GPT-2, token for
token equal to transformers' generate on the same random checkpoints (padded batches of two)."""

import numpy as np
import pytest
import torch
from conftest import torch_model
from test_bart import TINY_BART, padded_batch
from test_gpt2 import TINY_GPT2, left_padded, perturb

import nanohf
from nanohf.generation import no_repeat_ngram_ban

# A sharper model than the default init (std 0.02 gives near-uniform logits, whose near-ties would
# test float rounding rather than the search) and a small vocabulary, so eos comes up often.
SHARP_BART = {**TINY_BART, "vocab_size": 24, "init_std": 0.3}
BART_SETTINGS = [
    dict(),  # greedy with the checkpoint's defaults: forced eos at max_length - 1, 20 new tokens
    dict(num_beams=3),
    dict(num_beams=4, length_penalty=2.0, early_stopping=True, max_length=14),
    dict(num_beams=3, early_stopping="never", length_penalty=0.5, no_repeat_ngram_size=2),
    dict(num_beams=2, min_length=9, max_length=15, forced_bos_token_id=0),
    dict(num_beams=4, num_return_sequences=3, max_new_tokens=10, length_penalty=-1.0),
    dict(num_beams=3, min_new_tokens=5, no_repeat_ngram_size=3, use_cache=False, max_length=12),
    dict(no_repeat_ngram_size=1, max_new_tokens=15, min_length=6, use_cache=False),
    dict(num_beams=2, forced_eos_token_id=5, eos_token_id=[2, 5], max_length=16),
]


@pytest.fixture(scope="module")
def bart(make_checkpoint):
    folder = make_checkpoint("BartForConditionalGeneration", SHARP_BART)
    ours = nanohf.BartForConditionalGeneration.from_pretrained(folder)
    return ours, torch_model("BartForConditionalGeneration", folder)


@pytest.fixture(scope="module")
def gpt2(tmp_path_factory):
    import transformers

    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(transformers.GPT2Config(**{**TINY_GPT2, "vocab_size": 20}))
    perturb(model)
    folder = tmp_path_factory.mktemp("gpt2_beam")
    model.eval().save_pretrained(folder)
    return nanohf.GPT2LMHeadModel.from_pretrained(folder), torch_model("GPT2LMHeadModel", folder)


def torch_generate(model, input_ids, attention_mask, **kwargs) -> np.ndarray:
    with torch.no_grad():
        return model.generate(torch.tensor(input_ids), attention_mask=torch.tensor(attention_mask), **kwargs).numpy()


def settings_id(settings: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in settings.items()) or "greedy"


@pytest.mark.parametrize("settings", BART_SETTINGS, ids=settings_id)
def test_bart_generate_equals_transformers(bart, settings):
    ours, theirs = bart
    input_ids, attention_mask = padded_batch([9, 5], vocab=24, seed=7)
    got = ours.generate(input_ids, attention_mask=attention_mask, **settings)
    ref = torch_generate(theirs, input_ids, attention_mask, **settings)
    assert got.shape == ref.shape and np.array_equal(got, ref), f"{settings}\nours\n{got}\ntransformers\n{ref}"


def test_bart_generate_infers_the_mask_and_starts_from_the_decoder_start(bart):
    ours, theirs = bart
    input_ids, attention_mask = padded_batch([9, 5], vocab=24, seed=3)
    got = ours.generate(input_ids, num_beams=2, max_new_tokens=8)  # pad 1 != eos 2: the mask is inferred
    assert np.array_equal(got, ours.generate(input_ids, attention_mask=attention_mask, num_beams=2, max_new_tokens=8))
    assert (got[:, 0] == ours.config.decoder_start_token_id).all()
    assert np.array_equal(got, torch_generate(theirs, input_ids, attention_mask, num_beams=2, max_new_tokens=8))


def test_bart_sampling_is_seeded_and_top_k_1_is_greedy(bart):
    ours, _ = bart
    input_ids, attention_mask = padded_batch([9, 5], vocab=24, seed=7)
    settings = dict(do_sample=True, top_k=10, temperature=1.5, max_new_tokens=10, num_return_sequences=2)
    nanohf.set_seed(3)
    first = ours.generate(input_ids, attention_mask=attention_mask, **settings)
    nanohf.set_seed(3)
    assert first.shape[0] == 4 and np.array_equal(first, ours.generate(input_ids, attention_mask, **settings))
    greedy = ours.generate(input_ids, attention_mask=attention_mask, max_new_tokens=10)
    sampled = ours.generate(input_ids, attention_mask=attention_mask, do_sample=True, top_k=1, max_new_tokens=10)
    assert np.array_equal(greedy, sampled)


GPT2_SETTINGS = [
    dict(num_beams=3, max_new_tokens=10),
    dict(num_beams=4, max_new_tokens=12, eos_token_id=3, num_return_sequences=2),
    dict(num_beams=3, max_new_tokens=12, eos_token_id=[3, 7], early_stopping=True, length_penalty=0.0),
    dict(num_beams=2, max_new_tokens=10, eos_token_id=3, no_repeat_ngram_size=2, early_stopping="never"),
    dict(num_beams=3, max_new_tokens=8, eos_token_id=3, min_new_tokens=6, use_cache=False),
]


@pytest.mark.parametrize("settings", GPT2_SETTINGS, ids=settings_id)
def test_gpt2_beam_search_equals_transformers(gpt2, settings):
    ours, theirs = gpt2
    input_ids, attention_mask = left_padded(20, (7, 4), seed=1)
    got = ours.generate(input_ids, attention_mask=attention_mask, **settings)
    ref = torch_generate(theirs, input_ids, attention_mask, pad_token_id=0, **settings)
    assert got.shape == ref.shape and np.array_equal(got, ref), f"{settings}\nours\n{got}\ntransformers\n{ref}"


def test_no_repeat_ngram_ban_equals_transformers():
    import transformers

    rng = np.random.default_rng(0)
    sequences = rng.integers(0, 5, (4, 12))
    scores = rng.normal(size=(4, 5)).astype(np.float32)
    for n in (1, 2, 3):
        ref = transformers.NoRepeatNGramLogitsProcessor(n)(torch.tensor(sequences), torch.tensor(scores))
        assert np.array_equal(no_repeat_ngram_ban(scores.copy(), sequences, n), ref.numpy())


def test_beam_errors(bart):
    ours, _ = bart
    input_ids, attention_mask = padded_batch([5], vocab=24)
    with pytest.raises(ValueError, match="num_return_sequences=3 is more than num_beams=2"):
        ours.generate(input_ids, num_beams=2, num_return_sequences=3)
    with pytest.raises(NotImplementedError, match="beam sampling"):
        ours.generate(input_ids, num_beams=2, do_sample=True)
    with pytest.raises(ValueError, match="max_position_embeddings=40"):
        ours.generate(input_ids, max_length=60)

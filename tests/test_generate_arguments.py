"""generate() refuses settings that would give NaN scores or nonsense, as transformers' GenerationConfig
and logits processors do (with their messages), and a few that transformers lets crash or ignore."""

import warnings

import numpy as np
import pytest

import nanohf

TINY_GPT2 = dict(vocab_size=99, n_embd=32, n_layer=2, n_head=4, n_positions=64)

# kwargs -> the message; transformers raises the same ValueError for all but the last four
CASES = [
    (dict(max_new_tokens=0), r"`max_new_tokens` must be greater than 0, but is 0\."),
    (dict(max_new_tokens=-3), r"`max_new_tokens` must be greater than 0, but is -3\."),
    (dict(do_sample=True, temperature=0.0), r"`temperature` \(=0\.0\) has to be a strictly positive.*do_sample=False"),
    (dict(do_sample=True, temperature=-1.0), r"`temperature` \(=-1\.0\) has to be a strictly positive float"),
    (dict(do_sample=True, top_k=-1), r"`top_k` has to be a strictly positive integer, but is -1"),
    (dict(do_sample=True, top_p=-0.5), r"`top_p` has to be a float > 0 and < 1, but is -0\.5"),
    (dict(repetition_penalty=0.0), r"`penalty` has to be a strictly positive float, but is 0\.0"),
    (dict(repetition_penalty=-2.0), r"`penalty` has to be a strictly positive float, but is -2\.0"),
    (dict(max_length=2, max_new_tokens=None), r"Input length of input_ids is 2, but `max_length` is set to 2"),
    (dict(num_beams=0), r"`num_beams` has to be a strictly positive integer, but is 0"),
    (dict(num_beams=-1), r"`num_beams` has to be a strictly positive integer, but is -1"),
    (dict(no_repeat_ngram_size=-1), r"`no_repeat_ngram_size` has to be a strictly positive integer, but is -1"),
    (dict(do_sample=True, num_return_sequences=0), r"`num_return_sequences` has to be a strictly positive integer"),
]
TRANSFORMERS_REFUSES_TOO = 9


@pytest.fixture(scope="module")
def gpt2_dir(make_checkpoint):
    return make_checkpoint("GPT2LMHeadModel", TINY_GPT2)


@pytest.mark.parametrize(("kwargs", "message"), CASES, ids=[str(k) for k, _ in CASES])
def test_bad_generate_argument(gpt2_dir, kwargs, message):
    model = nanohf.GPT2LMHeadModel.from_pretrained(gpt2_dir)
    call = {"max_new_tokens": 3, "pad_token_id": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        model.generate(np.array([[1, 2]]), **call)
    if CASES.index((kwargs, message)) < TRANSFORMERS_REFUSES_TOO:
        import torch
        import transformers

        reference = transformers.GPT2LMHeadModel.from_pretrained(gpt2_dir)
        with warnings.catch_warnings(), pytest.raises(ValueError, match=message):
            warnings.simplefilter("ignore")
            reference.generate(torch.tensor([[1, 2]]), **{k: v for k, v in call.items() if v is not None})


def test_eos_outside_a_small_vocabulary_is_never_generated(gpt2_dir):
    """GPT-2's default eos 50256 lies outside a 99-token test vocabulary: min_length has nothing to ban."""
    model = nanohf.GPT2LMHeadModel.from_pretrained(gpt2_dir)
    out = model.generate(np.array([[1, 2]]), max_new_tokens=4, min_new_tokens=4, eos_token_id=50256, pad_token_id=0)
    assert out.shape == (1, 6)

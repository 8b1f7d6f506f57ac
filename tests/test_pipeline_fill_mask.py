"""pipeline("fill-mask") against transformers' pipeline on the same random-init masked-LM checkpoints."""

import shutil

import pytest
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf

ONE_MASK = "Paris is the [MASK] of France."
TEXTS = [ONE_MASK, "The [MASK] sat on the [MASK].", "hello [MASK]", "[MASK] is a longer sentence with one mask in it."]
# in the vocabulary, out of it (first sub-token used), duplicated, and a word that is a sub-token's start
TARGETS = ["capital", "Capitalism", "zzqqxx", "capital", "city"]
MODELS = {"bert": ("BertForMaskedLM", TINY_BERT), "distilbert": ("DistilBertForMaskedLM", TINY_DISTILBERT)}


@pytest.fixture(scope="module", params=sorted(MODELS))
def mlm_dir(request, make_checkpoint, minilm_dir, tmp_path_factory):
    class_name, tiny = MODELS[request.param]
    # A wide initializer spreads the logits, so neighbouring candidates are far apart in score and the
    # ranking cannot flip on float rounding.
    config = {**tiny, "vocab_size": 30522, "initializer_range": 0.5}
    folder = tmp_path_factory.mktemp(request.param)
    shutil.copytree(make_checkpoint(class_name, config), folder, dirs_exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    return folder


@pytest.fixture(scope="module")
def pipelines(mlm_dir):
    ours = nanohf.pipeline("fill-mask", model=str(mlm_dir))
    theirs = transformers.pipeline("fill-mask", model=str(mlm_dir))
    return ours, theirs


def flatten(result) -> list[dict]:
    """A result of any nesting (per input, per mask) -> its candidate dicts in order."""
    if isinstance(result, dict):
        return [result]
    return [candidate for part in result for candidate in flatten(part)]


def assert_same(got, want, what: str) -> float:
    """Same nesting, tokens, token_str and sequences; returns the largest score |Δ| (asserted ≤ 1e-4)."""
    assert str(type(got)) == str(type(want)) and len(got) == len(want), f"{what}: nesting differs"
    if isinstance(want, list) and want and isinstance(want[0], list):
        assert [len(x) for x in got] == [len(x) for x in want], f"{what}: nesting differs"
    flat_got, flat_want = flatten(got), flatten(want)
    strip = [[(c["token"], c["token_str"], c["sequence"]) for c in flat] for flat in (flat_got, flat_want)]
    assert strip[0] == strip[1], f"{what}: candidates differ"
    diff = max(abs(a["score"] - b["score"]) for a, b in zip(flat_got, flat_want, strict=True))
    assert diff <= 1e-4, f"{what}: score |Δ| {diff:.2e}"
    return diff


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"top_k": 3}, {"top_k": 12}, {"targets": TARGETS}, {"targets": "capital"}, {"targets": TARGETS, "top_k": 2}],
)
def test_outputs_equal_transformers(pipelines, kwargs):
    ours, theirs = pipelines
    # one mask, two masks, a list (unbatched and in padded batches of 2), a one-element list
    for inputs, batch_size in ((ONE_MASK, 1), (TEXTS[1], 1), (TEXTS, 1), (TEXTS, 2), ([TEXTS[1]], 2)):
        got = ours(inputs, batch_size=batch_size, **kwargs)
        want = theirs(inputs, batch_size=batch_size, **kwargs)
        assert_same(got, want, f"{kwargs} {inputs!r} batch_size={batch_size}")


def test_loaded_objects_and_construction_defaults(mlm_dir):
    model = nanohf.AutoModelForMaskedLM.from_pretrained(mlm_dir)
    tokenizer = nanohf.AutoTokenizer.from_pretrained(mlm_dir)
    ours = nanohf.pipeline("fill-mask", model=model, tokenizer=tokenizer, batch_size=2, top_k=2)
    theirs = transformers.pipeline(
        "fill-mask",
        model=transformers.AutoModelForMaskedLM.from_pretrained(mlm_dir),
        tokenizer=transformers.AutoTokenizer.from_pretrained(mlm_dir),
        batch_size=2,
        top_k=2,
    )
    assert_same(ours(TEXTS), theirs(TEXTS), "objects, top_k at construction")
    assert_same(ours(TEXTS, targets=TARGETS), theirs(TEXTS, targets=TARGETS), "objects + targets")


def test_truncation_through_tokenizer_kwargs(pipelines):
    ours, theirs = pipelines
    long_text = "This is a simple [MASK]. " + "Repeated text appended. " * 150  # longer than the tiny model's 64
    kwargs = {"tokenizer_kwargs": {"truncation": True, "max_length": 20}}
    assert_same(ours(long_text, **kwargs), theirs(long_text, **kwargs), "truncated long input")


def test_clear_errors(pipelines, mlm_dir, minilm_dir):
    ours, _ = pipelines
    with pytest.raises(ValueError, match=r"No mask_token \(\[MASK\]\) found"):
        ours("There is no mask here.")
    with pytest.raises(ValueError, match=r"No mask_token \(\[MASK\]\) found"):
        ours([ONE_MASK, "no mask"])
    with pytest.raises(ValueError, match="at least one word"):
        ours(ONE_MASK, targets=[""])
    bare = nanohf.AutoModel.from_pretrained(minilm_dir)
    with pytest.raises(TypeError, match="masked-language-modeling head; BertModel has none"):
        nanohf.pipeline("fill-mask", model=bare, tokenizer=nanohf.AutoTokenizer.from_pretrained(minilm_dir))

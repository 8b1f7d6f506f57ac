"""pipeline("zero-shot-classification") against transformers' pipeline on the same NLI-style checkpoint."""

import logging
import shutil

import pytest
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT

import nanohf
from nanohf import AutoModelForSequenceClassification, BertForMaskedLM
from nanohf.tokenizers import AutoTokenizer

SEQUENCES = [
    "I have a problem with my iphone that needs to be resolved asap!!",
    "The match went to extra time and the home side won on penalties.",
    "Parliament votes on the budget tomorrow.",
]
LABELS = ["urgent", "not urgent", "phone", "sports", "politics"]
NLI_ORDERS = {
    "entailment-first": {0: "entailment", 1: "neutral", 2: "contradiction"},
    "entailment-last": {0: "contradiction", 1: "neutral", 2: "entailment"},
}
ARCHITECTURES = {"bert": ("BertForSequenceClassification", TINY_BERT),
                 "distilbert": ("DistilBertForSequenceClassification", TINY_DISTILBERT)}  # fmt: skip


def nli_checkpoint(make_checkpoint, minilm_dir, folder, architecture, id2label):
    class_name, tiny = ARCHITECTURES[architecture]
    config = {**tiny, "vocab_size": 30522, "id2label": id2label, "label2id": {v: k for k, v in id2label.items()}}
    shutil.copytree(make_checkpoint(class_name, config), folder, dirs_exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    return folder


@pytest.fixture(scope="module")
def nli_dirs(make_checkpoint, minilm_dir, tmp_path_factory):
    """{(architecture, label order): checkpoint folder}."""
    return {
        (arch, order): nli_checkpoint(make_checkpoint, minilm_dir, tmp_path_factory.mktemp(f"{arch}-{order}"), arch,
                                      id2label)
        for arch in ARCHITECTURES
        for order, id2label in NLI_ORDERS.items()
    }  # fmt: skip


def assert_same(got, want, what):
    """Same sequences and label order; scores within 1e-4. Returns the largest score |Δ|."""
    got, want = (got, want) if isinstance(want, list) else ([got], [want])
    assert len(got) == len(want), what
    worst = 0.0
    for g, w in zip(got, want, strict=True):
        assert g["sequence"] == w["sequence"] and g["labels"] == w["labels"], f"{what}: {g} != {w}"
        worst = max([worst] + [abs(a - b) for a, b in zip(g["scores"], w["scores"], strict=True)])
    assert worst <= 1e-4, f"{what}: score |Δ| {worst:.2e}"
    return worst


CALLS = [
    {"candidate_labels": LABELS},
    {"candidate_labels": LABELS, "multi_label": True},
    {"candidate_labels": "urgent, phone,sports , "},  # comma-separated string, blanks dropped
    {"candidate_labels": ["phone"]},  # a single label is scored on its own, as with multi_label
    {"candidate_labels": LABELS[:3], "hypothesis_template": "This text is about {}!"},
    {"candidate_labels": LABELS[1:], "hypothesis_template": "{} is the topic.", "multi_label": True},
]


@pytest.mark.parametrize("key", [(arch, order) for arch in ARCHITECTURES for order in NLI_ORDERS])
def test_outputs_equal_transformers(nli_dirs, key):
    folder = str(nli_dirs[key])
    ours = nanohf.pipeline("zero-shot-classification", model=folder, batch_size=2)
    theirs = transformers.pipeline("zero-shot-classification", model=folder)
    # (The other label order only needs to show the entailment column moving: the two scoring rules.)
    for kwargs in CALLS if key[1] == "entailment-first" else CALLS[:2]:
        assert_same(ours(SEQUENCES, **kwargs), theirs(SEQUENCES, **kwargs), f"{key} {kwargs}")
    assert_same(ours(SEQUENCES[1], **CALLS[0]), theirs(SEQUENCES[1], **CALLS[0]), f"{key} single input")
    # Labels as the second positional argument; batch_size per call.
    assert_same(ours(SEQUENCES, LABELS, batch_size=3), theirs(SEQUENCES, LABELS), f"{key} positional")


def test_loaded_objects_and_entailment_lookup(nli_dirs):
    """Model and tokenizer as objects; the entailment column follows label2id, not a fixed position."""
    first, last = nli_dirs[("bert", "entailment-first")], nli_dirs[("bert", "entailment-last")]
    for folder in (first, last):
        model = AutoModelForSequenceClassification.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        ours = nanohf.pipeline("zero-shot-classification", model=model, tokenizer=tokenizer, batch_size=4)
        theirs = transformers.pipeline("zero-shot-classification", model=str(folder))
        for multi_label in (False, True):
            kwargs = {"candidate_labels": LABELS, "multi_label": multi_label}
            assert_same(ours(SEQUENCES, **kwargs), theirs(SEQUENCES, **kwargs), f"objects {folder.name} {kwargs}")
    assert nanohf.pipeline("zero-shot-classification", model=str(first)).entailment_id == 0
    assert nanohf.pipeline("zero-shot-classification", model=str(last)).entailment_id == 2


def test_long_premise_is_truncated_like_transformers(nli_dirs):
    folder = str(nli_dirs[("distilbert", "entailment-first")])  # max_position_embeddings 64 -> model_max_length
    ours = nanohf.pipeline("zero-shot-classification", model=folder, tokenizer=folder)
    theirs = transformers.pipeline("zero-shot-classification", model=folder)
    ours.tokenizer.model_max_length = theirs.tokenizer.model_max_length = 40
    long_text = " ".join(SEQUENCES * 4)
    assert_same(ours(long_text, LABELS), theirs(long_text, LABELS), "truncated premise")


def test_errors_and_missing_entailment(nli_dirs, make_checkpoint, minilm_dir, tmp_path, caplog):
    folder = str(nli_dirs[("bert", "entailment-first")])
    ours = nanohf.pipeline("zero-shot-classification", model=folder)
    theirs = transformers.pipeline("zero-shot-classification", model=folder)
    for pipe in (ours, theirs):
        with pytest.raises(ValueError, match="at least one"):
            pipe(SEQUENCES[0], candidate_labels=[])
        with pytest.raises(ValueError, match="at least one"):
            pipe(SEQUENCES[0], candidate_labels=" , ")
        with pytest.raises(ValueError, match="hypothesis_template"):
            pipe(SEQUENCES[0], candidate_labels=LABELS, hypothesis_template="No slot here.")
        with pytest.raises(ValueError, match="extra arguments"):
            pipe(SEQUENCES[0], LABELS, "This is {}.")
    with pytest.raises(TypeError, match="sequence-classification head.*BertForMaskedLM has none"):
        nanohf.pipeline("zero-shot-classification", model=BertForMaskedLM.from_pretrained(folder),
                        tokenizer=folder)  # fmt: skip
    # No "entail..." label: a warning, and the last column stands in, as in transformers.
    plain = nli_checkpoint(make_checkpoint, minilm_dir, tmp_path, "bert", {0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    with caplog.at_level(logging.WARNING):
        ours = nanohf.pipeline("zero-shot-classification", model=str(plain))
    assert ours.entailment_id == -1 and "entail" in caplog.text
    theirs = transformers.pipeline("zero-shot-classification", model=str(plain))
    for multi_label in (False, True):
        kwargs = {"candidate_labels": LABELS, "multi_label": multi_label}
        assert_same(ours(SEQUENCES, **kwargs), theirs(SEQUENCES, **kwargs), f"no entailment label {kwargs}")

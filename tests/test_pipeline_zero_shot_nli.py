"""pipeline("zero-shot-classification") on NLI-headed BART and RoBERTa, against transformers' pipeline.

The checkpoints are laid out like facebook/bart-large-mnli and roberta-large-mnli: a sequence-classification
head with id2label {0: contradiction, 1: neutral, 2: entailment}, random weights, and the byte-level BPE
tokenizer (GPT-2's tokens behind <s> <pad> </s> <unk>) from conftest's ``roberta_tokenizer_files``. Pairs
are encoded ``<s> premise </s></s> hypothesis </s>``; BART's head reads the decoder state at the last </s>.
"""

import shutil

import pytest
import transformers
from test_pipeline_zero_shot import LABELS, SEQUENCES, assert_same

import nanohf

MNLI_LABELS = {0: "contradiction", 1: "neutral", 2: "entailment"}
TINY = {
    "bart": ("BartForSequenceClassification", dict(
        d_model=16, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=2,
        encoder_ffn_dim=24, decoder_ffn_dim=24, max_position_embeddings=64, init_std=0.5)),
    "roberta": ("RobertaForSequenceClassification", dict(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
        max_position_embeddings=64, type_vocab_size=1, initializer_range=0.5)),
}  # fmt: skip
MODEL_CLASSES = {"bart": nanohf.BartForSequenceClassification, "roberta": nanohf.RobertaForSequenceClassification}


@pytest.fixture(scope="module")
def nli_dirs(make_checkpoint, roberta_tokenizer_files, tmp_path_factory):
    """{"bart" | "roberta": checkpoint folder with the tokenizer files}. The wide initializers spread the
    logits so that no two labels' scores are within rounding of each other."""
    folders = {}
    for arch, (class_name, tiny) in TINY.items():
        config = {**tiny, "vocab_size": 50262, "id2label": MNLI_LABELS,
                  "label2id": {label: i for i, label in MNLI_LABELS.items()}}  # fmt: skip
        folders[arch] = tmp_path_factory.mktemp(f"{arch}-mnli")
        shutil.copytree(make_checkpoint(class_name, config), folders[arch], dirs_exist_ok=True)
        shutil.copytree(roberta_tokenizer_files, folders[arch], dirs_exist_ok=True)
    return folders


CALLS = [
    {"candidate_labels": LABELS},
    {"candidate_labels": LABELS, "multi_label": True},
    {"candidate_labels": ["phone"]},  # one label: scored on its own (contradiction vs entailment)
    {"candidate_labels": "urgent, sports", "hypothesis_template": "This text is about {}!"},
]


@pytest.mark.parametrize("arch", sorted(TINY))
def test_outputs_equal_transformers(nli_dirs, arch):
    folder = str(nli_dirs[arch])
    theirs = transformers.pipeline("zero-shot-classification", model=folder)
    by_dir = nanohf.pipeline("zero-shot-classification", model=folder, batch_size=2)
    objects = nanohf.pipeline("zero-shot-classification", model=MODEL_CLASSES[arch].from_pretrained(folder),
                              tokenizer=nanohf.AutoTokenizer.from_pretrained(folder))  # fmt: skip
    assert type(by_dir.model) is MODEL_CLASSES[arch] and type(by_dir.tokenizer) is nanohf.RobertaTokenizer
    assert by_dir.entailment_id == 2
    worst = 0.0
    for kwargs in CALLS:
        want = theirs(SEQUENCES, **kwargs)
        worst = max(worst, assert_same(by_dir(SEQUENCES, **kwargs), want, f"{arch} batch 2 {kwargs}"))
        worst = max(worst, assert_same(objects(SEQUENCES, batch_size=1, **kwargs), want, f"{arch} objects {kwargs}"))
    for multi_label in (False, True):
        kwargs = {"candidate_labels": LABELS, "multi_label": multi_label}
        got, want = by_dir(SEQUENCES[0], **kwargs), theirs(SEQUENCES[0], **kwargs)
        worst = max(worst, assert_same(got, want, f"{arch} single input {kwargs}"))
    assert worst <= 1e-4, f"{arch}: score |Δ| {worst:.2e}"


@pytest.mark.parametrize("arch", sorted(TINY))
def test_pairs_truncated_like_transformers(nli_dirs, arch):
    """A long premise is cut to fit (the hypothesis never is); a hypothesis too long to leave room for any
    premise makes both libraries give up truncating."""
    folder = str(nli_dirs[arch])
    ours = nanohf.pipeline("zero-shot-classification", model=folder, batch_size=2)
    theirs = transformers.pipeline("zero-shot-classification", model=folder)
    ours.tokenizer.model_max_length = theirs.tokenizer.model_max_length = 24
    long_text = " ".join(SEQUENCES * 2)
    for multi_label in (False, True):
        kwargs = {"candidate_labels": LABELS, "multi_label": multi_label}
        assert_same(ours([long_text, SEQUENCES[2]], **kwargs), theirs([long_text, SEQUENCES[2]], **kwargs),
                    f"{arch} truncated premise {kwargs}")  # fmt: skip
    [feature] = ours.preprocess(long_text, candidate_labels=["sports"])
    hypothesis = ours.tokenizer("This example is sports.", add_special_tokens=False)["input_ids"]
    assert len(feature["input_ids"]) == 24 and feature["input_ids"][-len(hypothesis) - 1 :] == [*hypothesis, 2]
    template = "Of all the possible topics one could think of, this example is, on the whole, about {}."
    kwargs = {"candidate_labels": LABELS[:3], "hypothesis_template": template}
    assert len(ours.preprocess(SEQUENCES[1], **kwargs)[0]["input_ids"]) > 24
    assert_same(ours(SEQUENCES[1], **kwargs), theirs(SEQUENCES[1], **kwargs), f"{arch} untruncated long hypothesis")

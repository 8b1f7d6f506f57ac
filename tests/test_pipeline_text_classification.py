"""pipeline("sentiment-analysis") against transformers' pipeline on the same checkpoint folder."""

import shutil

import pytest
import transformers
from conftest import TINY_BERT

import nanohf

SENTENCES = ["I've been waiting for a HuggingFace course my whole life.", "I hate this so much!", "meh"]


@pytest.fixture(scope="module")
def classifier_dir(make_checkpoint, minilm_dir, tmp_path_factory):
    labels = {0: "NEGATIVE", 1: "POSITIVE", 2: "NEUTRAL"}
    config = {**TINY_BERT, "vocab_size": 30522, "id2label": labels, "label2id": {v: k for k, v in labels.items()}}
    folder = tmp_path_factory.mktemp("classifier")
    shutil.copytree(make_checkpoint("BertForSequenceClassification", config), folder, dirs_exist_ok=True)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    return folder


@pytest.mark.parametrize(
    "kwargs", [{}, {"top_k": None}, {"top_k": 2}, {"function_to_apply": "sigmoid"}, {"function_to_apply": "none"}]
)
def test_outputs_equal_transformers(classifier_dir, kwargs):
    ours = nanohf.pipeline("sentiment-analysis", model=str(classifier_dir), batch_size=2)
    theirs = transformers.pipeline("sentiment-analysis", model=str(classifier_dir))
    for inputs in (SENTENCES, SENTENCES[0]):
        got, want = ours(inputs, **kwargs), theirs(inputs, **kwargs)
        flat_got = got if isinstance(got, list) else [got]
        flat_want = want if isinstance(want, list) else [want]
        assert str([[d["label"] for d in (x if isinstance(x, list) else [x])] for x in flat_got]) == str(
            [[d["label"] for d in (x if isinstance(x, list) else [x])] for x in flat_want]
        )
        scores = [d["score"] for x in flat_got for d in (x if isinstance(x, list) else [x])]
        ref = [d["score"] for x in flat_want for d in (x if isinstance(x, list) else [x])]
        diff = max(abs(a - b) for a, b in zip(scores, ref, strict=True))
        assert diff <= 1e-5, f"{kwargs}: score |Δ| {diff:.2e}"


def test_sentence_pairs_and_unknown_task(classifier_dir):
    ours = nanohf.pipeline("text-classification", model=str(classifier_dir))
    theirs = transformers.pipeline("text-classification", model=str(classifier_dir))
    pair = {"text": "A man eats.", "text_pair": "Someone is eating."}
    got, want = ours(pair), theirs(pair)
    assert got["label"] == want["label"] and abs(got["score"] - want["score"]) <= 1e-5
    with pytest.raises(KeyError, match="Unknown task"):
        nanohf.pipeline("no-such-task", model=str(classifier_dir))

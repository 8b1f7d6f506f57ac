"""pipeline("ner") against transformers' pipeline on the same checkpoint folders (BERT and DistilBERT)."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import transformers
from conftest import TINY_BERT, TINY_DISTILBERT
from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy

import nanohf
from nanohf.models.auto import AutoModel, AutoModelForTokenClassification
from nanohf.tokenizers import AutoTokenizer

LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
CONFIGS = {"BertForTokenClassification": TINY_BERT, "DistilBertForTokenClassification": TINY_DISTILBERT}
STRATEGIES = ["none", "simple", "first", "average", "max"]
WNUT17 = str(Path(__file__).resolve().parents[1] / "data" / "wnut17" / "emerging.test.annotated")


def wnut17_sentences(count: int) -> list[str]:
    """The first ``count`` test sentences of WNUT-17 (emerging entities: rare words, many subwords)."""
    sentences, words = [], []
    with open(WNUT17, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                words.append(line.split("\t")[0])
            elif words:
                sentences.append(" ".join(words))
                words = []
    return sentences[:count]


SENTENCES = [
    "Hugging Face Inc. is a company based in New York City.",
    "Sylvain works at Hugging Face in Brooklyn's DUMBO neighbourhood, near the Manhattan Bridge!",
    "Café Müller ☃ Zürich-based, O'Neill's startup naïve",  # accents stripped, [UNK], hyphen, apostrophes
    *wnut17_sentences(4),
]
LONG_TEXT = " ".join(SENTENCES[:3])


def build_ner_folder(make_checkpoint, minilm_dir, folder, class_name: str, model_max_length: int | None = None):
    """A random-init token classifier with MiniLM's vocabulary. Its classifier weights are scaled up so that
    labels are confident and vary from token to token (raw random weights give near-uniform scores)."""
    config = {
        **CONFIGS[class_name], "vocab_size": 30522, "max_position_embeddings": 128,
        "id2label": dict(enumerate(LABELS)), "label2id": {label: i for i, label in enumerate(LABELS)},
    }  # fmt: skip
    model = getattr(transformers, class_name).from_pretrained(make_checkpoint(class_name, config)).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(10.0)
        model.classifier.bias[0] += 1.0  # some "O" tokens, so that ignore_labels has something to drop
    model.save_pretrained(folder)
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(minilm_dir / name, folder)
    if model_max_length is not None:
        settings = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "tokenizer_config.json").write_text(json.dumps({**settings, "model_max_length": model_max_length}))
    return folder


@pytest.fixture(scope="module", params=list(CONFIGS))
def ner(request, make_checkpoint, minilm_dir, tmp_path_factory):
    """(folder, nanohf pipeline, transformers pipeline), both built from the folder, batch_size 2."""
    folder = build_ner_folder(make_checkpoint, minilm_dir, tmp_path_factory.mktemp("ner"), request.param)
    ours = nanohf.pipeline("ner", model=str(folder), batch_size=2)
    theirs = transformers.pipeline("ner", model=str(folder), batch_size=2)
    return folder, ours, theirs


def assert_same_entities(got, want, what: str) -> float:
    """Same entities (labels, words, spans, index) in the same order, scores within 1e-4; returns max |Δ score|."""
    got_rows, want_rows = (got, want) if got and isinstance(got[0], list) else ([got], [want])
    assert len(got_rows) == len(want_rows), what
    worst = 0.0
    for got_row, want_row in zip(got_rows, want_rows, strict=True):
        strip = [{k: v for k, v in e.items() if k != "score"} for e in got_row]
        assert strip == [{k: v for k, v in e.items() if k != "score"} for e in want_row], what
        for a, b in zip(got_row, want_row, strict=True):
            worst = max(worst, abs(a["score"] - float(b["score"])))
    assert worst <= 1e-4, f"{what}: score |Δ| {worst:.2e}"
    assert sum(map(len, got_rows)) > 0, f"{what}: nothing to compare"
    return worst


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_strategies_equal_transformers(ner, strategy):
    _, ours, theirs = ner
    for inputs in (SENTENCES, SENTENCES[1]):
        got, want = ours(inputs, aggregation_strategy=strategy), theirs(inputs, aggregation_strategy=strategy)
        assert_same_entities(got, want, f"{strategy} on {inputs!r}")
        if strategy != "none" and inputs is SENTENCES:
            assert any(" " in e["word"] for row in got for e in row), "no group of several words formed"


def test_inputs_exercise_subword_merging(ner):
    """The test data has words whose pieces disagree, so first/average/max really differ from simple."""
    _, ours, _ = ner
    outputs = {strategy: ours(SENTENCES, aggregation_strategy=strategy) for strategy in STRATEGIES}
    tokens = [e for row in ours(SENTENCES, ignore_labels=[]) for e in row]
    pairs = zip(tokens[:-1], tokens[1:], strict=True)
    assert any(b["word"].startswith("##") and a["entity"] != b["entity"] for a, b in pairs)
    assert outputs["simple"] != outputs["first"] and outputs["first"] != outputs["average"] != outputs["max"]


@pytest.mark.parametrize("strategy", ["none", "simple", "max"])
@pytest.mark.parametrize("ignore_labels", [[], ["O", "I-ORG", "LOC"]])
def test_ignore_labels(ner, strategy, ignore_labels):
    _, ours, theirs = ner
    params = {"aggregation_strategy": strategy, "ignore_labels": ignore_labels}
    got = ours(SENTENCES, **params)
    assert_same_entities(got, theirs(SENTENCES, **params), str(params))
    kept = {e.get("entity", e.get("entity_group")) for row in got for e in row}
    assert ("O" in kept) == (ignore_labels == []) and not kept & set(ignore_labels)


def test_loaded_objects_and_construction_defaults(ner):
    folder, _, _ = ner
    model, tokenizer = AutoModelForTokenClassification.from_pretrained(folder), AutoTokenizer.from_pretrained(folder)
    ours = nanohf.pipeline("token-classification", model=model, tokenizer=tokenizer, aggregation_strategy="average")
    theirs = transformers.pipeline(
        "token-classification",
        model=transformers.AutoModelForTokenClassification.from_pretrained(folder),
        tokenizer=transformers.AutoTokenizer.from_pretrained(folder),
        aggregation_strategy="average",
    )
    assert_same_entities(ours(SENTENCES), theirs(SENTENCES), "objects, average")
    assert_same_entities(ours(SENTENCES[0], aggregation_strategy="first"), theirs(SENTENCES[0]), "objects")


@pytest.fixture(scope="module")
def short_window(make_checkpoint, minilm_dir, tmp_path_factory):
    """A BERT folder whose tokenizer has model_max_length 16: the long text needs several windows."""
    folder = tmp_path_factory.mktemp("ner_short")
    return build_ner_folder(make_checkpoint, minilm_dir, folder, "BertForTokenClassification", model_max_length=16)


@pytest.mark.parametrize("strategy", ["simple", "first", "average", "max"])
def test_stride_windows_equal_transformers(short_window, strategy):
    ours = nanohf.pipeline("ner", model=str(short_window), batch_size=2)
    theirs = transformers.pipeline("ner", model=str(short_window))
    truncated = ours(LONG_TEXT, aggregation_strategy=strategy)
    assert_same_entities(truncated, theirs(LONG_TEXT, aggregation_strategy=strategy), f"{strategy}, truncated")
    for stride in (3, 7):
        params = {"aggregation_strategy": strategy, "stride": stride}
        got = ours([LONG_TEXT, SENTENCES[0]], **params)
        assert_same_entities(got, theirs([LONG_TEXT, SENTENCES[0]], **params), str(params))
        assert max(e["end"] for e in got[0]) > max(e["end"] for e in truncated), "windows past the first not seen"


def test_errors_as_transformers(ner, short_window, minilm_dir):
    folder, ours, theirs = ner
    slow = BertTokenizerLegacy(str(minilm_dir / "vocab.txt"))  # no offsets mapping
    slow_ours, slow_theirs = (lib.pipeline("ner", model=str(folder), tokenizer=slow) for lib in (nanohf, transformers))
    for strategy in ("first", "average", "max"):
        for pipe in (slow_ours, slow_theirs):
            with pytest.raises(ValueError, match="(?i)offsets|subwords"):
                pipe(SENTENCES[0], aggregation_strategy=strategy)
    # Without offsets "simple" still works: same groups, start/end None.
    assert_same_entities(
        slow_ours(SENTENCES, aggregation_strategy="simple"), slow_theirs(SENTENCES, aggregation_strategy="simple"),
        "slow tokenizer, simple",
    )  # fmt: skip
    short_ours, short_theirs = (lib.pipeline("ner", model=str(short_window)) for lib in (nanohf, transformers))
    for pipe in (short_ours, short_theirs):
        with pytest.raises(ValueError, match="stride"):
            pipe(LONG_TEXT, aggregation_strategy="none", stride=4)
        with pytest.raises(ValueError, match="stride"):
            pipe(LONG_TEXT, aggregation_strategy="simple", stride=16)
    with pytest.raises(ValueError, match="aggregation_strategy"):
        ours(SENTENCES[0], aggregation_strategy="longest")
    with pytest.raises(ValueError, match="BertModel.*token-classification head|token-classification head.*BertModel"):
        nanohf.pipeline("ner", model=AutoModel.from_pretrained(folder), tokenizer=ours.tokenizer)

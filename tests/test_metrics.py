"""nanohf.metrics against scikit-learn and scipy (to 1e-12), and 🤗 evaluate's GLUE conventions."""

import importlib
import warnings

import numpy as np
import pytest

from nanohf import metrics
from nanohf.metrics import EvalPrediction, load_metric

skm = importlib.import_module("sklearn.metrics")
stats = importlib.import_module("scipy.stats")

TOL = 1e-12


def cases(seed=0):
    """(predictions, references) pairs: binary, multiclass, skewed, tiny, with absent classes."""
    rng = np.random.default_rng(seed)
    out = []
    for n, k in ((1, 2), (5, 2), (50, 2), (200, 2), (30, 3), (300, 5), (17, 4)):
        out.append((rng.integers(0, k, n), rng.integers(0, k, n)))
    out.append((np.array([0, 0, 0, 1]), np.array([0, 0, 0, 0])))  # class 1 never true
    out.append((np.array([0, 0, 0, 0]), np.array([1, 0, 1, 0])))  # class 1 never predicted
    out.append((np.array([1, 1, 1]), np.array([1, 1, 1])))  # a single class
    out.append((np.array([2, 0, 2, 5]), np.array([5, 0, 0, 5])))  # labels that are not 0..k-1
    return out


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_accuracy():
    rng = np.random.default_rng(1)
    for predictions, references in cases():
        assert metrics.accuracy(predictions, references) == pytest.approx(
            skm.accuracy_score(references, predictions), abs=TOL)
        weights = rng.random(len(predictions))
        assert metrics.accuracy(predictions, references, sample_weight=weights) == pytest.approx(
            skm.accuracy_score(references, predictions, sample_weight=weights), abs=TOL)
        assert metrics.accuracy(predictions, references, normalize=False) == skm.accuracy_score(
            references, predictions, normalize=False)
    assert metrics.accuracy(["a", "b"], ["a", "c"]) == 0.5


@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted", None])
def test_precision_recall_f1(average):
    rng = np.random.default_rng(2)
    for predictions, references in cases():
        multiclass = len(np.unique(np.concatenate([predictions, references]))) > 2
        if average == "binary" and (multiclass or not set(np.r_[predictions, references]) <= {0, 1}):
            continue
        weights = rng.random(len(predictions))
        for kwargs in ({}, {"sample_weight": weights}, {"zero_division": 1.0}):
            for ours, theirs in ((metrics.precision, skm.precision_score), (metrics.recall, skm.recall_score),
                                 (metrics.f1, skm.f1_score)):
                expected = quiet(theirs, references, predictions, average=average, **kwargs)
                np.testing.assert_allclose(ours(predictions, references, average=average, **kwargs), expected,
                                           atol=TOL, rtol=0)


def test_f1_options():
    predictions, references = np.array([0, 1, 1, 0, 1, 0]), np.array([0, 1, 0, 0, 1, 1])
    assert metrics.f1(predictions, references, pos_label=0) == pytest.approx(
        skm.f1_score(references, predictions, pos_label=0), abs=TOL)
    predictions, references = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    for labels in ([0, 2], [2, 1, 7]):
        for average in ("macro", "micro", "weighted"):
            assert metrics.f1(predictions, references, average=average, labels=labels) == pytest.approx(
                quiet(skm.f1_score, references, predictions, average=average, labels=labels), abs=TOL)
    assert metrics.f1(["cat", "dog", "dog"], ["cat", "cat", "dog"], pos_label="dog") == pytest.approx(
        skm.f1_score(["cat", "cat", "dog"], ["cat", "dog", "dog"], pos_label="dog"), abs=TOL)
    with pytest.raises(ValueError, match="Target is multiclass but average='binary'"):
        metrics.f1([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        metrics.f1([0, 2], [2, 0])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        metrics.f1([0, 1], [0])
    with pytest.warns(UserWarning, match="pos_label"):
        metrics.f1([0, 1], [0, 1], average="macro", pos_label=0)


def test_matthews_corrcoef():
    rng = np.random.default_rng(3)
    for predictions, references in cases():
        assert metrics.matthews_corrcoef(predictions, references) == pytest.approx(
            quiet(skm.matthews_corrcoef, references, predictions), abs=TOL)
        weights = rng.random(len(predictions))
        assert metrics.matthews_corrcoef(predictions, references, sample_weight=weights) == pytest.approx(
            quiet(skm.matthews_corrcoef, references, predictions, sample_weight=weights), abs=TOL)


def test_pearson_and_spearman():
    rng = np.random.default_rng(4)
    for n in (2, 3, 10, 500):
        x, y = rng.normal(size=n), rng.normal(size=n)
        y_related = 0.7 * x + 0.3 * y
        for a, b in ((x, y), (x, y_related), (x, -x), (np.round(x * 2), np.round(y_related * 2))):
            if len(np.unique(a)) == 1 or len(np.unique(b)) == 1:
                continue  # undefined (see below)
            assert metrics.pearsonr(a, b) == pytest.approx(stats.pearsonr(a, b).statistic, abs=TOL)
            assert metrics.spearmanr(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=TOL)
    ties = np.array([1, 2, 2, 3, 3, 3, 0])
    np.testing.assert_array_equal(metrics.rankdata(ties), stats.rankdata(ties))
    with pytest.warns(RuntimeWarning, match="constant"):
        assert np.isnan(metrics.pearsonr([1, 1, 1], [1, 2, 3]))


def test_glue_metrics_like_evaluate():
    predictions, references = np.array([1, 0, 1, 1, 0, 1]), np.array([1, 1, 1, 0, 0, 1])
    accuracy = skm.accuracy_score(references, predictions)
    f1 = skm.f1_score(references, predictions)
    assert metrics.glue_metrics("sst2", predictions, references) == {"accuracy": accuracy}
    assert metrics.glue_metrics("mrpc", predictions, references) == pytest.approx({"accuracy": accuracy, "f1": f1},
                                                                                  abs=TOL)
    assert metrics.glue_metrics("cola", predictions, references) == pytest.approx(
        {"matthews_correlation": skm.matthews_corrcoef(references, predictions)}, abs=TOL)
    scores, gold = np.array([0.1, 2.5, 3.0, 4.9, 1.2]), np.array([0.0, 2.0, 3.5, 5.0, 1.0])
    assert metrics.glue_metrics("stsb", scores, gold) == pytest.approx(
        {"pearson": stats.pearsonr(scores, gold).statistic, "spearmanr": stats.spearmanr(scores, gold).statistic},
        abs=TOL)
    with pytest.raises(KeyError, match="configuration name"):
        metrics.glue_metrics("imdb", predictions, references)


def test_load_metric_compute_and_add_batch():
    metric = load_metric("glue", "mrpc")
    predictions, references = np.array([1, 0, 1, 1, 0, 1, 0]), np.array([1, 1, 1, 0, 0, 1, 0])
    expected = {"accuracy": skm.accuracy_score(references, predictions), "f1": skm.f1_score(references, predictions)}
    result = metric.compute(predictions=predictions, references=references)
    assert set(result) == {"accuracy", "f1"} and all(type(v) is float for v in result.values())
    assert result == pytest.approx(expected, abs=TOL)
    for start in range(0, 7, 3):  # the course's evaluation loop: one add_batch per batch, then compute()
        metric.add_batch(predictions=predictions[start:start + 3], references=references[start:start + 3])
    assert metric.compute() == pytest.approx(expected, abs=TOL)
    with pytest.raises(ValueError, match="Nothing to compute"):
        metric.compute()
    assert load_metric("accuracy").compute(predictions=[0, 1], references=[1, 1]) == {"accuracy": 0.5}
    assert load_metric("f1").compute(predictions=[0, 1, 2], references=[0, 1, 1], average="macro") == \
        pytest.approx({"f1": skm.f1_score([0, 1, 1], [0, 1, 2], average="macro")}, abs=TOL)
    assert set(load_metric("glue", "stsb").compute(predictions=[0.5, 1, 2], references=[1, 2, 2.5])) == \
        {"pearson", "spearmanr"}
    with pytest.raises(KeyError, match="configuration name"):
        load_metric("glue", "imdb")
    with pytest.raises(ValueError, match="Unknown metric"):
        load_metric("bleu")


def test_eval_prediction_unpacks_like_transformers():
    trainer_utils = importlib.import_module("transformers.trainer_utils")
    logits, labels = np.zeros((3, 2)), np.array([0, 1, 1])
    ours, theirs = EvalPrediction(logits, labels), trainer_utils.EvalPrediction(logits, labels)
    a, b = ours
    assert a is logits and b is labels and ours.predictions is logits and ours.label_ids is labels
    assert len(list(ours)) == len(list(theirs)) == 2 and ours[1] is theirs[1]
    assert len(EvalPrediction(logits, labels, inputs=np.ones(3))) == 3
    with pytest.raises(IndexError):
        ours[2]

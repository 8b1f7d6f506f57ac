"""nanohf.metrics and nanohf.evaluate against scikit-learn and scipy (to 1e-12), with 🤗 evaluate's names and
GLUE conventions (the evaluate package itself is not installed)."""

import importlib
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import nanohf.evaluate as evaluate
from nanohf import metrics
from nanohf.metrics import EvalPrediction, load_metric

DATA = Path(__file__).resolve().parents[1] / "data"  # the shipped copies of ../shared/data

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
            skm.accuracy_score(references, predictions), abs=TOL
        )
        weights = rng.random(len(predictions))
        assert metrics.accuracy(predictions, references, sample_weight=weights) == pytest.approx(
            skm.accuracy_score(references, predictions, sample_weight=weights), abs=TOL
        )
        assert metrics.accuracy(predictions, references, normalize=False) == skm.accuracy_score(
            references, predictions, normalize=False
        )
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
            for ours, theirs in (
                (metrics.precision, skm.precision_score),
                (metrics.recall, skm.recall_score),
                (metrics.f1, skm.f1_score),
            ):
                expected = quiet(theirs, references, predictions, average=average, **kwargs)
                np.testing.assert_allclose(
                    ours(predictions, references, average=average, **kwargs), expected, atol=TOL, rtol=0
                )


def test_f1_options():
    predictions, references = np.array([0, 1, 1, 0, 1, 0]), np.array([0, 1, 0, 0, 1, 1])
    assert metrics.f1(predictions, references, pos_label=0) == pytest.approx(
        skm.f1_score(references, predictions, pos_label=0), abs=TOL
    )
    predictions, references = np.array([0, 1, 2, 2, 1]), np.array([0, 2, 2, 1, 1])
    for labels in ([0, 2], [2, 1, 7]):
        for average in ("macro", "micro", "weighted"):
            assert metrics.f1(predictions, references, average=average, labels=labels) == pytest.approx(
                quiet(skm.f1_score, references, predictions, average=average, labels=labels), abs=TOL
            )
    assert metrics.f1(["cat", "dog", "dog"], ["cat", "cat", "dog"], pos_label="dog") == pytest.approx(
        skm.f1_score(["cat", "cat", "dog"], ["cat", "dog", "dog"], pos_label="dog"), abs=TOL
    )
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
            quiet(skm.matthews_corrcoef, references, predictions), abs=TOL
        )
        weights = rng.random(len(predictions))
        assert metrics.matthews_corrcoef(predictions, references, sample_weight=weights) == pytest.approx(
            quiet(skm.matthews_corrcoef, references, predictions, sample_weight=weights), abs=TOL
        )


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
    assert metrics.glue_metrics("mrpc", predictions, references) == pytest.approx(
        {"accuracy": accuracy, "f1": f1}, abs=TOL
    )
    assert metrics.glue_metrics("cola", predictions, references) == pytest.approx(
        {"matthews_correlation": skm.matthews_corrcoef(references, predictions)}, abs=TOL
    )
    scores, gold = np.array([0.1, 2.5, 3.0, 4.9, 1.2]), np.array([0.0, 2.0, 3.5, 5.0, 1.0])
    assert metrics.glue_metrics("stsb", scores, gold) == pytest.approx(
        {"pearson": stats.pearsonr(scores, gold).statistic, "spearmanr": stats.spearmanr(scores, gold).statistic},
        abs=TOL,
    )
    with pytest.raises(KeyError, match="configuration name"):
        metrics.glue_metrics("imdb", predictions, references)


def test_evaluate_load_compute_and_add_batch():
    metric = evaluate.load("glue", "mrpc")
    predictions, references = np.array([1, 0, 1, 1, 0, 1, 0]), np.array([1, 1, 1, 0, 0, 1, 0])
    expected = {"accuracy": skm.accuracy_score(references, predictions), "f1": skm.f1_score(references, predictions)}
    result = metric.compute(predictions=predictions, references=references)
    assert set(result) == {"accuracy", "f1"} and all(type(v) is float for v in result.values())
    assert result == pytest.approx(expected, abs=TOL)
    for start in range(0, 7, 3):  # the course's evaluation loop: one add_batch per batch, then compute()
        metric.add_batch(predictions=predictions[start : start + 3], references=references[start : start + 3])
    assert len(metric) == 7 and metric.compute() == pytest.approx(expected, abs=TOL)
    for p, r in zip(predictions, references, strict=True):
        metric.add(prediction=p, reference=r)
    assert metric.compute() == pytest.approx(expected, abs=TOL)
    with pytest.raises(ValueError, match="call `add` or `add_batch` at least once"):
        metric.compute()
    with pytest.raises(ValueError, match=r"Mismatch in the number of predictions \(2\) and references \(1\)"):
        metric.add_batch(predictions=[0, 1], references=[1])
    assert load_metric("glue", "mrpc").compute(predictions=predictions, references=references) == result


@pytest.mark.parametrize("task", metrics.GLUE_TASKS)
def test_every_glue_config(task):
    rng = np.random.default_rng(len(task))
    if task == "stsb":
        predictions, references = rng.uniform(0, 5, 40), rng.uniform(0, 5, 40)
        expected = {"pearson": stats.pearsonr(predictions, references).statistic,
                    "spearmanr": stats.spearmanr(predictions, references).statistic}  # fmt: skip
    else:
        predictions, references = rng.integers(0, 2, 40), rng.integers(0, 2, 40)
        if task == "cola":
            expected = {"matthews_correlation": skm.matthews_corrcoef(references, predictions)}
        elif task in ("mrpc", "qqp"):
            expected = {"accuracy": skm.accuracy_score(references, predictions),
                        "f1": skm.f1_score(references, predictions)}  # fmt: skip
        else:
            expected = {"accuracy": skm.accuracy_score(references, predictions)}
    result = evaluate.load("glue", task).compute(predictions=predictions, references=references)
    assert result == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize("average", ["binary", "macro", "micro", "weighted", None])
def test_classification_modules_match_scikit_learn(average):
    rng = np.random.default_rng(4)
    k = 2 if average == "binary" else 4
    predictions, references = rng.integers(0, k, 60), rng.integers(0, k, 60)
    weights = rng.random(60)
    for name, reference in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        got = evaluate.load(name).compute(predictions=predictions, references=references, average=average,
                                          sample_weight=weights)[name]  # fmt: skip
        want = quiet(reference, references, predictions, average=average, sample_weight=weights)
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=name)
        assert isinstance(got, float) == (average is not None)
    got = evaluate.load("accuracy").compute(predictions=predictions, references=references, normalize=False)
    assert got == {"accuracy": float(skm.accuracy_score(references, predictions, normalize=False))}
    got = evaluate.load("matthews_correlation").compute(predictions=predictions, references=references)
    assert got == pytest.approx({"matthews_correlation": skm.matthews_corrcoef(references, predictions)}, abs=TOL)


@pytest.mark.parametrize("n", [4, 5, 10, 57, 500])
def test_correlations_and_p_values_match_scipy(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    y = 0.3 * x + rng.normal(size=n)
    y[: n // 3] = np.round(y[: n // 3])  # some ties for the ranks
    pearson, spearman = stats.pearsonr(x, y), stats.spearmanr(x, y)
    got = evaluate.load("pearsonr").compute(predictions=x, references=y, return_pvalue=True)
    assert got == pytest.approx({"pearsonr": pearson.statistic, "p-value": pearson.pvalue}, abs=1e-12)
    got = evaluate.load("spearmanr").compute(predictions=x, references=y, return_pvalue=True)
    assert got == pytest.approx({"spearmanr": spearman.statistic, "spearmanr_pvalue": spearman.pvalue}, abs=1e-12)
    assert set(evaluate.load("spearmanr").compute(predictions=x, references=y)) == {"spearmanr"}


def test_incomplete_beta_matches_scipy():
    special = importlib.import_module("scipy.special")
    for a, b, x in [(2, 3, 0.3), (10, 0.5, 0.9), (0.5, 0.5, 0.01), (50, 50, 0.49), (3.5, 3.5, 0.999), (1, 1, 0.2)]:
        assert abs(metrics._betainc(a, b, x) - special.betainc(a, b, x)) < 1e-13, (a, b, x)


def test_loader_registry_combine_and_errors():
    shipped = ["accuracy", "bleu", "f1", "glue", "matthews_correlation", "pearsonr", "precision", "recall", "rouge",
               "sacrebleu", "seqeval", "spearmanr", "squad", "squad_v2"]  # fmt: skip
    assert evaluate.list_evaluation_modules() == shipped
    assert evaluate.load("evaluate-metric/accuracy").name == "accuracy"
    combined = evaluate.combine(["accuracy", "f1", "precision", "recall"])
    predictions, references = [1, 0, 1, 1], [1, 1, 0, 1]
    assert combined.compute(predictions=predictions, references=references) == pytest.approx(
        {"accuracy": 0.5, "f1": skm.f1_score(references, predictions), "precision": 2 / 3, "recall": 2 / 3}
    )
    with pytest.raises(KeyError, match="You should supply a configuration name selected in"):
        evaluate.load("glue", "imdb")
    with pytest.raises(KeyError, match="unknown configuration 'multilabel'"):
        evaluate.load("f1", "multilabel")
    with pytest.raises(FileNotFoundError, match="Couldn't find a module script at bertscore"):
        evaluate.load("bertscore")
    with pytest.raises(ValueError, match="never runs code"):
        evaluate.load("./my_metric.py")
    with pytest.raises(NotImplementedError, match="gather"):
        evaluate.load("accuracy", num_process=2, process_id=1)


def test_load_signature_is_evaluates():
    """evaluate is not installed (nor a dependency): its documented load() signature, written out."""
    documented = ["path", "config_name", "module_type", "process_id", "num_process", "cache_dir", "experiment_id",
                  "keep_in_memory", "download_config", "download_mode", "revision", "init_kwargs"]  # fmt: skip
    assert list(inspect.signature(evaluate.load).parameters) == documented


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


def _wnut17_tags(limit=400):
    """The tag sequences of WNUT-17's first sentences (token<TAB>tag lines, a blank line between sentences)."""
    sentences, current = [], []
    for line in (DATA / "wnut17" / "wnut17train.conll").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
                current = []
            if len(sentences) == limit:
                break
            continue
        current.append(line.split("\t")[-1].strip())
    return sentences


def _seqeval_reference(predictions, references, **kwargs):
    """What evaluate's seqeval module returns, built from the seqeval package as that module builds it."""
    seqeval_metrics = importlib.import_module("seqeval.metrics")
    report = quiet(seqeval_metrics.classification_report, references, predictions, output_dict=True, **kwargs)
    for key in ("macro avg", "weighted avg"):
        report.pop(key)
    overall = report.pop("micro avg")
    scores = {name: {"precision": s["precision"], "recall": s["recall"], "f1": s["f1-score"], "number": s["support"]}
              for name, s in report.items()}  # fmt: skip
    scores.update(overall_precision=overall["precision"], overall_recall=overall["recall"],
                  overall_f1=overall["f1-score"],
                  overall_accuracy=seqeval_metrics.accuracy_score(references, predictions))  # fmt: skip
    return scores


@pytest.mark.parametrize("scheme", ["IOB2", "IOBES", "suffix"])
def test_seqeval_matches_the_seqeval_package(scheme):
    references = _wnut17_tags()
    if scheme == "IOBES":  # single-token entities as S-, last tokens as E-

        def iobes(tags):
            out = []
            for i, tag in enumerate(tags):
                last = i + 1 == len(tags) or not tags[i + 1].startswith("I-")
                out.append(tag if tag == "O" or not last else ("S-" if tag[0] == "B" else "E-") + tag[2:])
            return out

        references = [iobes(r) for r in references]
    if scheme == "suffix":
        references = [[t if t == "O" else f"{t[2:]}-{t[0]}" for t in r] for r in references]
    rng = np.random.default_rng(7)
    all_tags = sorted({t for r in references for t in r})
    predictions = []
    for sentence in references:  # a noisy tagger: a fifth of the tags replaced, I- without B-, switched types
        noisy = list(sentence)
        for i in np.flatnonzero(rng.random(len(noisy)) < 0.2):
            noisy[i] = all_tags[rng.integers(len(all_tags))]
        predictions.append(noisy)
    kwargs = {"suffix": True} if scheme == "suffix" else {}
    for zero_division in ("warn", 1):
        got = evaluate.load("seqeval").compute(predictions=predictions, references=references,
                                               zero_division=zero_division, **kwargs)  # fmt: skip
        expected = _seqeval_reference(predictions, references, zero_division=zero_division, **kwargs)
        assert list(got) == list(expected)
        for key, value in expected.items():
            assert got[key] == (pytest.approx(value, abs=TOL) if not isinstance(value, dict) else
                                {k: pytest.approx(v, abs=TOL) for k, v in value.items()}), key  # fmt: skip
    metric = evaluate.load("seqeval")  # the course's loop: add_batch per batch of sentences
    for start in range(0, len(references), 64):
        metric.add_batch(predictions=predictions[start : start + 64], references=references[start : start + 64])
    assert metric.compute(**kwargs)["overall_f1"] == pytest.approx(expected["overall_f1"], abs=TOL)


def _translations(n=60, seed=0):
    """Shakespeare lines as references (two per prediction), predictions made from them by dropping, swapping
    and replacing words; plus lines that exercise 13a's rules (numbers, dashes, entities, punctuation)."""
    lines = [line.strip() for line in (DATA / "tinyshakespeare" / "input.txt").read_text().splitlines()
             if len(line.split()) > 3][: 2 * n]  # fmt: skip
    rng = np.random.default_rng(seed)
    predictions, references = [], []
    for first, second in zip(lines[0::2], lines[1::2], strict=True):
        words = first.split()
        keep = [w for w in words if rng.random() > 0.15]
        if len(keep) > 2 and rng.random() < 0.5:
            i = rng.integers(len(keep) - 1)
            keep[i], keep[i + 1] = keep[i + 1], keep[i]
        predictions.append(" ".join(keep) + (" extra" if rng.random() < 0.3 else ""))
        references.append([first, second])
    predictions += ["It costs 3.50 dollars, or 1,000 cents.", 'x-1 &amp; y &lt;z&gt; -- "quoted"', "Short."]
    references += [
        ["It costs 3.50 dollars or 1,000 cents .", "It is 3.5 dollars."],
        ['x-1 & y <z> -- "quoted"', "x - 1 and y"],
        ["A much longer reference sentence.", "Short!"],
    ]
    return predictions, references


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"smooth_method": "floor"},
        {"smooth_method": "add-k"},
        {"smooth_method": "none"},
        {"lowercase": True},
        {"tokenize": "none"},
        {"use_effective_order": True, "smooth_method": "floor", "smooth_value": 0.3},
    ],
)
def test_sacrebleu_matches_the_sacrebleu_package(options):
    sacrebleu = importlib.import_module("sacrebleu")
    predictions, references = _translations()
    streams = [[refs[i] for refs in references] for i in range(2)]  # as evaluate's sacrebleu transposes them
    expected = sacrebleu.corpus_bleu(predictions, streams, **options)
    for preds, refs in ((predictions, references), (predictions[:1], references[:1]), (["a b"], [["c d", "e"]])):
        want = sacrebleu.corpus_bleu(preds, [[r[i] for r in refs] for i in range(2)], **options)
        got = evaluate.load("sacrebleu").compute(predictions=preds, references=refs, **options)
        assert got == pytest.approx({"score": want.score, "counts": want.counts, "totals": want.totals,
                                     "precisions": want.precisions, "bp": want.bp, "sys_len": want.sys_len,
                                     "ref_len": want.ref_len}, abs=1e-9)  # fmt: skip
    metric = evaluate.load("sacrebleu")
    for start in range(0, len(predictions), 16):
        metric.add_batch(predictions=predictions[start : start + 16], references=references[start : start + 16])
    assert metric.compute(**options)["score"] == pytest.approx(expected.score, abs=1e-9)
    with pytest.raises(ValueError, match="same number of references"):
        evaluate.load("sacrebleu").compute(predictions=["a", "b"], references=[["a"], ["b", "c"]])


def _rouge_reference(predictions, references, rouge_types=None, use_aggregator=True, use_stemmer=False):
    """What evaluate's rouge module returns, built from rouge_score as that module builds it."""
    rouge_scorer = importlib.import_module("rouge_score.rouge_scorer")
    scoring = importlib.import_module("rouge_score.scoring")
    rouge_types = rouge_types or ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(rouge_types=rouge_types, use_stemmer=use_stemmer)
    aggregator, scores = scoring.BootstrapAggregator(), []
    for ref, pred in zip(references, predictions, strict=True):
        score = scorer.score_multi(ref, pred) if isinstance(ref, list) else scorer.score(ref, pred)
        aggregator.add_scores(score) if use_aggregator else scores.append(score)
    if use_aggregator:
        return {key: value.mid.fmeasure for key, value in aggregator.aggregate().items()}
    return {key: [s[key].fmeasure for s in scores] for key in scores[0]}


@pytest.mark.parametrize("multi_reference", [False, True])
def test_rouge_matches_rouge_score(multi_reference):
    predictions, references = _translations(40, seed=3)
    # summaries of several sentences (lines) for rougeLsum, some empty or without any letter
    predictions = [p.replace(", ", "\n") for p in predictions] + ["", "!!!"]
    references = [[r.replace(", ", "\n") for r in refs] for refs in references] + [["nothing here"], ["a b"]]
    if not multi_reference:
        references = [refs[0] for refs in references]
    for options in ({"use_aggregator": False}, {}, {"rouge_types": ["rouge3", "rougeL"]}, {"use_stemmer": True}):
        np.random.seed(5)
        expected = _rouge_reference(predictions, references, **options)
        np.random.seed(5)  # the bootstrap draws from NumPy's global generator, as rouge_score's
        got = evaluate.load("rouge").compute(predictions=predictions, references=references, **options)
        assert list(got) == list(expected)
        for key in expected:
            np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-12, err_msg=key)


def test_porter_stemmer_matches_nltk():
    """rouge's use_stemmer: NLTK's Porter stemmer (default mode) on every word of Shakespeare and BERT's vocabulary,
    and the special cases of NLTK's extensions."""
    porter_stemmer = importlib.import_module("nltk.stem.porter").PorterStemmer()
    porter = importlib.import_module("nanohf.evaluate.metrics._porter")
    text = (DATA / "tinyshakespeare" / "input.txt").read_text().lower()
    words = set(re.findall(r"[a-z0-9]+", text))
    vocab = (DATA / "tokenizers" / "bert-base-uncased" / "vocab.txt").read_text().split("\n")
    words |= {w for w in vocab if w.isalpha()}
    words |= {"skies", "dying", "ties", "tied", "agreed", "feed", "hopping", "filing", "happy", "yy", "sayy",
              "conditionalli", "generalli", "analogi", "hopefulli", "Running"}  # fmt: skip
    wrong = [
        (w, porter_stemmer.stem(w), porter.stem(w)) for w in sorted(words) if porter.stem(w) != porter_stemmer.stem(w)
    ]
    assert not wrong, f"{len(wrong)} of {len(words)} words stemmed differently: {wrong[:10]}"

"""Chapter 7's metrics against their reference packages, on the same inputs: seqeval (seqeval 1.2.2), sacrebleu
(sacrebleu 2.6.0), rouge (rouge-score 0.1.2), squad / squad_v2 (torchmetrics' SQuAD, a port of the official
script, for the per-question scores; the no-answer threshold search against a brute force over thresholds).

Each reference is called as 🤗 evaluate's metric script calls it (evaluate itself is not installed: its
scripts live on the Hub). Inputs: WNUT-17 tags, MRPC sentence pairs, the SQuAD 2.0 dev subset, random edits
from a fixed seed, and edge cases.
"""

import json
import math
import random
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nanohf.evaluate as evaluate
from nanohf.evaluate.metrics._squad_answers import normalize_answer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "data"  # the shipped copies of ../shared/data (data/README.md)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def max_delta(ours, theirs, path="") -> tuple[float, str]:
    """The largest |ours - theirs| over two nested results (dicts / lists / numbers), and where it is; a
    structural difference (keys, lengths, exact ints or strings) is an infinite one."""
    if isinstance(theirs, dict):
        if not isinstance(ours, dict) or set(ours) != set(theirs):
            return float("inf"), f"{path}: keys {sorted(ours) if isinstance(ours, dict) else ours} != {sorted(theirs)}"
        return max((max_delta(ours[k], theirs[k], f"{path}.{k}") for k in theirs), default=(0.0, path))
    if isinstance(theirs, (list, tuple)):
        if not isinstance(ours, (list, tuple)) or len(ours) != len(theirs):
            return float("inf"), f"{path}: {ours} != {theirs}"
        return max((max_delta(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(ours, theirs, strict=True))),
                   default=(0.0, path))  # fmt: skip
    if isinstance(theirs, (str, bool)) or theirs is None:
        return (0.0, path) if ours == theirs else (float("inf"), f"{path}: {ours!r} != {theirs!r}")
    return abs(float(ours) - float(theirs)), path


# ---------------------------------------------------------------------------------------------- seqeval
def reference_seqeval(predictions, references, suffix=False, scheme=None, mode=None, zero_division="warn"):
    """🤗 evaluate's seqeval script: seqeval's classification_report(output_dict=True), renamed."""
    from seqeval import scheme as schemes
    from seqeval.metrics import accuracy_score, classification_report

    report = quiet(classification_report, y_true=references, y_pred=predictions, suffix=suffix, output_dict=True,
                   scheme=getattr(schemes, scheme) if scheme else None, mode=mode,
                   zero_division=zero_division)  # fmt: skip
    report.pop("macro avg")
    report.pop("weighted avg")
    overall = report.pop("micro avg")
    scores = {name: {"precision": s["precision"], "recall": s["recall"], "f1": s["f1-score"], "number": s["support"]}
              for name, s in report.items()}  # fmt: skip
    scores.update(overall_precision=overall["precision"], overall_recall=overall["recall"],
                  overall_f1=overall["f1-score"], overall_accuracy=accuracy_score(references, predictions))  # fmt: skip
    return scores


def wnut17_tags(limit=300) -> list[list[str]]:
    sentences, current = [], []
    for line in (SHARED / "wnut17" / "wnut17train.conll").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            if len(sentences) == limit:
                break
        else:
            current.append(line.split("\t")[-1].strip())
    return sentences


def noisy(tags: list[list[str]], rng: random.Random, rate=0.15, scheme="IOB2") -> list[list[str]]:
    """A tagger that is right most of the time: some tags replaced by a random tag of the same label set."""
    types = sorted({t[2:] for seq in tags for t in seq if t != "O"}) or ["PER"]
    prefixes = {"IOB2": "BI", "IOB1": "BI", "IOE1": "IE", "IOE2": "IE", "IOBES": "BIES", "BILOU": "BILU"}[scheme]
    out = []
    for seq in tags:
        out.append([t if rng.random() > rate else rng.choice(["O", *[f"{p}-{k}" for p in prefixes for k in types]])
                    for t in seq])  # fmt: skip
    return out


def random_tags(rng: random.Random, n_sentences: int, prefixes: str, types=("PER", "LOC", "ORG")) -> list[list[str]]:
    choices = ["O", "O", *[f"{p}-{k}" for p in prefixes for k in types]]
    return [[rng.choice(choices) for _ in range(rng.randint(1, 12))] for _ in range(n_sentences)]


def check_seqeval(predictions, references, **options):
    ours = evaluate.load("seqeval").compute(predictions=predictions, references=references, **options)
    theirs = reference_seqeval(predictions, references, **options)
    delta, where = max_delta(ours, theirs)
    assert delta <= 1e-12, f"seqeval {options}: max |Δ| = {delta} at {where}"
    return delta


def test_seqeval_wnut17_default_and_strict():
    references = wnut17_tags(200)
    predictions = noisy(references, random.Random(0))
    deltas = [check_seqeval(predictions, references),
              check_seqeval(predictions, references, mode="strict", scheme="IOB2"),
              check_seqeval(predictions, references, mode="strict"),  # IOB2 detected from the references
              check_seqeval(predictions, references, scheme="IOB2"),  # a scheme without strict mode is ignored
              check_seqeval(predictions, references, zero_division=1)]  # fmt: skip
    assert max(deltas) <= 1e-12, f"max |Δ| = {max(deltas)}"


@pytest.mark.parametrize("scheme", ["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"])
def test_seqeval_random_sequences_every_scheme(scheme):
    rng = random.Random(sum(map(ord, scheme)))  # a fixed seed per scheme
    prefixes = {"IOB1": "BI", "IOB2": "BI", "IOE1": "IE", "IOE2": "IE", "IOBES": "BIES", "BILOU": "BILU"}[scheme]
    worst = 0.0
    for _ in range(40):
        references = random_tags(rng, rng.randint(1, 8), prefixes)
        predictions = [noisy([seq], rng, rate=0.4, scheme=scheme)[0] for seq in references]
        worst = max(worst, check_seqeval(predictions, references, mode="strict", scheme=scheme))
        if set(prefixes) <= set("BIES"):  # the lenient mode reads B/I/E/S only
            worst = max(worst, check_seqeval(predictions, references))
    assert worst <= 1e-12, f"{scheme}: max |Δ| over 40 random corpora = {worst}"


def test_seqeval_edge_cases():
    cases = [
        ([["O", "O"]], [["O", "O"]], {}),  # no entities at all
        ([["B-PER", "I-PER"]], [["O", "O"]], {}),  # nothing true
        ([["O", "O"]], [["B-PER", "O"]], {}),  # nothing predicted
        ([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]], {}),  # I- without B- (lenient: an entity)
        ([["I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]], {"mode": "strict", "scheme": "IOB2"}),  # strict: none
        ([["B-PER", "I-LOC", "O"]], [["B-PER", "I-PER", "O"]], {}),  # mismatched types
        ([["B-PER", "I-LOC", "O"]], [["B-PER", "I-PER", "O"]], {"mode": "strict", "scheme": "IOB2"}),
        ([["PER-B", "PER-I", "O"]], [["PER-B", "PER-I", "O"]], {"suffix": True}),
        ([["B-PER"], ["I-PER"]], [["B-PER"], ["B-PER"]], {}),  # an entity never spans two sentences
        ([["O", "B-PER"]], [["O", "B-PER"]], {"zero_division": 1}),
        ([["O", "O"]], [["B-PER", "O"]], {"zero_division": 0}),
    ]
    worst = max(check_seqeval(p, r, **o) for p, r, o in cases)
    assert worst <= 1e-12, f"max |Δ| over {len(cases)} edge cases = {worst}"
    metric = evaluate.load("seqeval")
    with pytest.raises(ValueError, match="Scheme should be one of"):
        metric.compute(predictions=[["O"]], references=[["O"]], scheme="IOB3")
    with pytest.raises(ValueError, match="not supported"):  # all-O references: strict mode cannot detect a scheme
        metric.compute(predictions=[["O"]], references=[["O"]], mode="strict")
    with pytest.raises(ValueError, match="example 1: 1 predicted, 2 true"):
        metric.compute(predictions=[["O"], ["O"]], references=[["O"], ["O", "O"]])
    with pytest.raises(ValueError, match="Invalid token"):
        metric.compute(predictions=[["E-PER"]], references=[["B-PER"]], mode="strict", scheme="IOB2")


# ---------------------------------------------------------------------------------------------- squad
def squad_references() -> list[dict]:
    """The SQuAD 2.0 dev subset in 🤗 evaluate's reference format (1,407 questions; about half unanswerable)."""
    data = json.loads((SHARED / "squad_v2_dev_subset" / "dev-subset.json").read_text(encoding="utf-8"))
    refs = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                refs.append({"id": qa["id"], "context": paragraph["context"],
                             "answers": {"text": [a["text"] for a in qa["answers"]],
                                         "answer_start": [a["answer_start"] for a in qa["answers"]]}})  # fmt: skip
    return refs


def synthetic_answer(reference: dict, rng: random.Random) -> str:
    """A gold answer, a perturbed one (case, punctuation, articles, a word dropped or added), a random span of
    the context, or no answer. Unanswerable questions get "" or a span with letters in it."""
    words = reference["context"].split()
    span = " ".join(words[(i := rng.randrange(len(words))) : i + rng.randint(1, 6)])
    golds = reference["answers"]["text"]
    if not golds:  # "" or a span that normalises to something (not "the", say: see test_squad_edge_cases)
        return "" if rng.random() < 0.5 or not normalize_answer(span) else span
    gold = rng.choice(golds)
    kind = rng.randrange(6)
    if kind == 0:
        return gold
    if kind == 1:
        return f"The {gold.upper()}!"
    if kind == 2:
        return " ".join(gold.split()[1:]) or gold
    if kind == 3:
        return f"{gold}, {rng.choice(words)}"
    if kind == 4:
        return span
    return ""


@pytest.fixture(scope="module")
def squad_case():
    rng = random.Random(17)
    references = squad_references()
    predictions = [{"id": r["id"], "prediction_text": synthetic_answer(r, rng),
                    "no_answer_probability": rng.uniform(0.001, 1.0)} for r in references]  # fmt: skip
    return [{"id": r["id"], "answers": r["answers"]} for r in references], predictions


def test_squad_v1_matches_torchmetrics(squad_case):
    """SQuAD v1.1 on the answerable questions (v1 has no others) against torchmetrics' port of the script: its
    per-question scores (float32 tensors) summed in float64, so that the comparison is not float32's rounding."""
    from torchmetrics.functional.text.squad import _compute_exact_match_score, _compute_f1_score, _normalize_text

    references, predictions = squad_case
    # v1.1 and torchmetrics differ only when a gold answer normalises to nothing: keep the others
    kept = [r for r in references if r["answers"]["text"] and all(_normalize_text(t) for t in r["answers"]["text"])]
    ids = {r["id"] for r in kept}
    preds = [{"id": p["id"], "prediction_text": p["prediction_text"]} for p in predictions if p["id"] in ids]
    ours = evaluate.load("squad").compute(predictions=preds, references=kept)
    text = {p["id"]: p["prediction_text"] for p in preds}
    theirs = {}
    for name, fn in (("exact_match", _compute_exact_match_score), ("f1", _compute_f1_score)):
        per_question = [max(float(fn(text[r["id"]], g)) for g in r["answers"]["text"]) for r in kept]
        theirs[name] = 100.0 * sum(per_question) / len(kept)
    delta, where = max_delta(ours, theirs)
    assert len(kept) > 600 and delta < 1e-6, f"squad on {len(kept)} questions: max |Δ| = {delta} at {where}"


def reference_squad_v2(predictions, references, no_answer_threshold=1.0) -> dict:
    """SQuAD 2.0 built from torchmetrics' per-answer exact match and (v2.0-style) F1, with the best thresholds
    found by trying every threshold (valid when the probabilities are distinct and positive, every question
    is answered, and unanswerable questions get "" or an answer that normalises to something)."""
    from torchmetrics.functional.text.squad import _compute_exact_match_score, _compute_f1_score, _normalize_text

    prob = {p["id"]: float(np.float32(p["no_answer_probability"])) for p in predictions}
    text = {p["id"]: p["prediction_text"] for p in predictions}
    has = {r["id"]: bool(r["answers"]["text"]) for r in references}
    raw = {"exact": {}, "f1": {}}
    for r in references:
        golds = [t for t in r["answers"]["text"] if _normalize_text(t)] or [""]
        raw["exact"][r["id"]] = max(float(_compute_exact_match_score(text[r["id"]], g)) for g in golds)
        raw["f1"][r["id"]] = max(float(_compute_f1_score(text[r["id"]], g)) for g in golds)

    def thresholded(kind, t):
        return {q: float(not has[q]) if prob[q] > t else s for q, s in raw[kind].items()}

    out = {}
    splits = (("", list(has)), ("HasAns_", [q for q in has if has[q]]), ("NoAns_", [q for q in has if not has[q]]))
    for prefix, qids in splits:
        for kind in ("exact", "f1"):
            out[prefix + kind] = 100.0 * sum(thresholded(kind, no_answer_threshold)[q] for q in qids) / len(qids)
        out[prefix + "total"] = len(qids)
    for kind in ("exact", "f1"):
        candidates = [0.0, *sorted(prob.values())]
        totals = [sum(thresholded(kind, t).values()) for t in candidates]
        best = int(np.argmax(totals))  # the first threshold reaching the best total
        out[f"best_{kind}"], out[f"best_{kind}_thresh"] = 100.0 * totals[best] / len(has), candidates[best]
    return out


@pytest.mark.parametrize("threshold", [1.0, 0.5])
def test_squad_v2_matches_reference(squad_case, threshold):
    references, predictions = squad_case
    subset = slice(0, 400)  # the brute-force threshold search is quadratic: 400 questions keep it under a second
    refs, preds = references[subset], predictions[subset]
    ours = evaluate.load("squad_v2").compute(predictions=preds, references=refs, no_answer_threshold=threshold)
    theirs = reference_squad_v2(preds, refs, threshold)
    delta, where = max_delta(ours, theirs)
    assert list(ours) == list(theirs), f"keys/order {list(ours)}"
    assert 0 < ours["HasAns_total"] < ours["total"] and delta < 1e-6, f"squad_v2: max |Δ| = {delta} at {where}"


def test_squad_edge_cases():
    ref = [{"id": "a", "answers": {"text": ["The Normans", "Normans"], "answer_start": [0, 4]}},
           {"id": "b", "answers": {"text": [], "answer_start": []}}]  # fmt: skip
    squad = evaluate.load("squad")
    assert squad.compute(predictions=[{"id": "a", "prediction_text": "normans."}], references=ref[:1]) == {
        "exact_match": 100.0, "f1": 100.0}  # fmt: skip
    # an unanswered question counts, with 0
    assert squad.compute(predictions=[{"id": "a", "prediction_text": "Normans"}, {"id": "z", "prediction_text": "y"}],
                         references=[ref[0], {"id": "c", "answers": {"text": ["y"], "answer_start": [0]}}]) == {
        "exact_match": 50.0, "f1": 50.0}  # fmt: skip
    with pytest.raises(ValueError, match="question 'b' has no gold answer"):
        squad.compute(predictions=[{"id": "b", "prediction_text": ""}], references=ref[1:])
    with pytest.raises(ValueError, match="prediction 0 must be a dict with keys"):
        squad.compute(predictions=[{"id": "a", "text": "x"}], references=ref[:1])
    v2 = evaluate.load("squad_v2")
    out = v2.compute(predictions=[{"id": "a", "prediction_text": "Normans", "no_answer_probability": 0.25},
                                  {"id": "b", "prediction_text": "the", "no_answer_probability": 0.75}],
                     references=ref)  # fmt: skip
    # "the" normalises to "": exact for the unanswerable b, yet the threshold walk counts it as an answer (-1)
    expected = {"exact": 100.0, "f1": 100.0, "total": 2, "HasAns_exact": 100.0, "HasAns_f1": 100.0,
                "HasAns_total": 1, "NoAns_exact": 100.0, "NoAns_f1": 100.0, "NoAns_total": 1,
                "best_exact": 100.0, "best_exact_thresh": 0.25, "best_f1": 100.0, "best_f1_thresh": 0.25}  # fmt: skip
    assert out == expected, out
    with pytest.raises(KeyError, match="no prediction for question 'b'"):
        v2.compute(predictions=[{"id": "a", "prediction_text": "", "no_answer_probability": 0.5},
                                {"id": "z", "prediction_text": "", "no_answer_probability": 0.5}],
                   references=ref)  # fmt: skip


# ---------------------------------------------------------------------------------------------- MRPC text
def mrpc_pairs(limit=300) -> list[tuple[str, str]]:
    lines = (SHARED / "glue_mrpc" / "dev.tsv").read_text(encoding="utf-8-sig").splitlines()[1:]
    return [(row[3], row[4]) for row in (line.split("\t") for line in lines[:limit])]


def edited(sentence: str, rng: random.Random) -> str:
    """A random edit: words dropped, swapped, repeated, case changed, punctuation and unicode added."""
    words = sentence.split()
    for _ in range(rng.randint(0, 4)):
        if not words:
            break
        i, kind = rng.randrange(len(words)), rng.randrange(6)
        if kind == 0:
            del words[i]
        elif kind == 1:
            j = rng.randrange(len(words))
            words[i], words[j] = words[j], words[i]
        elif kind == 2:
            words.insert(i, words[i])
        elif kind == 3:
            words[i] = words[i].upper()
        elif kind == 4:
            words[i] += rng.choice([",", ".", "!", "'s", "-", "&amp;", " ."])
        else:
            words.insert(i, rng.choice(["café", "naïve", "日本", "€5", "1,000.5", "--"]))
    return " ".join(words)


# ---------------------------------------------------------------------------------------------- rouge
def reference_rouge(predictions, references, rouge_types=None, use_aggregator=True, use_stemmer=False, tokenizer=None):
    """🤗 evaluate's rouge script on rouge-score: score / score_multi per pair, BootstrapAggregator's mid."""
    from rouge_score import rouge_scorer, scoring

    rouge_types = rouge_types or ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    if tokenizer is not None:
        tokenizer = type("T", (), {"tokenize": staticmethod(tokenizer)})()
    scorer = rouge_scorer.RougeScorer(rouge_types=rouge_types, use_stemmer=use_stemmer, tokenizer=tokenizer)
    multi = isinstance(references[0], list)
    pairs = zip(references, predictions, strict=True)
    scores = [scorer.score_multi(r, p) if multi else scorer.score(r, p) for r, p in pairs]
    if not use_aggregator:
        return {k: [s[k].fmeasure for s in scores] for k in scores[0]}
    aggregator = scoring.BootstrapAggregator()
    for s in scores:
        aggregator.add_scores(s)
    return {k: v.mid.fmeasure for k, v in aggregator.aggregate().items()}


def check_rouge(predictions, references, **options):
    np.random.seed(7)
    ours = evaluate.load("rouge").compute(predictions=predictions, references=references, **options)
    np.random.seed(7)
    theirs = reference_rouge(predictions, references, **options)
    delta, where = max_delta(ours, theirs)
    assert delta <= 1e-12, f"rouge {options}: max |Δ| = {delta} at {where}"
    return delta


def test_rouge_mrpc_pairs():
    rng = random.Random(5)
    pairs = mrpc_pairs(200)
    predictions = [edited(a, rng) for a, _ in pairs]
    references = [b for _, b in pairs]
    # several sentences per text, for rougeLsum's newline split
    multiline_p = ["\n".join(predictions[i : i + 3]) for i in range(0, 60, 3)]
    multiline_r = ["\n".join(references[i : i + 2]) for i in range(0, 40, 2)]
    deltas = [check_rouge(predictions, references, use_aggregator=False),
              check_rouge(predictions, references),  # bootstrap mid under the same NumPy seed
              check_rouge(multiline_p, multiline_r, use_aggregator=False),
              check_rouge(multiline_p, multiline_r, rouge_types=["rougeLsum", "rouge3"]),
              check_rouge(predictions[:50], [[a, b] for a, b in pairs[:50]], use_aggregator=False),  # best of two
              check_rouge(predictions[:30], references[:30], tokenizer=str.split, use_aggregator=False),
              check_rouge(predictions, references, use_stemmer=True, use_aggregator=False),  # NLTK's Porter stems
              check_rouge(multiline_p, multiline_r, use_stemmer=True)]  # fmt: skip
    assert max(deltas) <= 1e-12, f"rouge on MRPC: max |Δ| = {max(deltas)}"


def test_rouge_edge_cases():
    predictions = ["", "!!!", "Hello, World!", "a b a b a", "日本 café", "same\n\nlines\n", "x"]
    references = ["something", "", "hello world", "b a b a b", "cafe", "same\nlines", "x"]
    delta = check_rouge(predictions, references, use_aggregator=False)
    delta = max(delta, check_rouge(predictions, references))
    assert delta <= 1e-12, f"rouge edge cases: max |Δ| = {delta}"
    metric = evaluate.load("rouge")
    with pytest.raises(ValueError, match="Invalid rouge type: rougeX"):
        metric.compute(predictions=["a"], references=["a"], rouge_types=["rougeX"])


# ---------------------------------------------------------------------------------------------- sacrebleu
def reference_sacrebleu(predictions, references, smooth_method="exp", smooth_value=None, force=False,
                        lowercase=False, tokenize=None, use_effective_order=False):  # fmt: skip
    """🤗 evaluate's sacrebleu script: references transposed into streams, sacrebleu.corpus_bleu."""
    import sacrebleu

    references = [[r] if isinstance(r, str) else r for r in references]
    streams = [[refs[i] for refs in references] for i in range(len(references[0]))]
    out = sacrebleu.corpus_bleu(predictions, streams, smooth_method=smooth_method, smooth_value=smooth_value,
                                force=force, lowercase=lowercase, use_effective_order=use_effective_order,
                                **({"tokenize": tokenize} if tokenize else {}))  # fmt: skip
    return {"score": out.score, "counts": out.counts, "totals": out.totals, "precisions": out.precisions,
            "bp": out.bp, "sys_len": out.sys_len, "ref_len": out.ref_len}  # fmt: skip


def check_sacrebleu(predictions, references, **options):
    ours = evaluate.load("sacrebleu").compute(predictions=predictions, references=references, **options)
    theirs = reference_sacrebleu(predictions, references, **options)
    delta, where = max_delta(ours, theirs)
    assert delta <= 1e-9, f"sacrebleu {options}: max |Δ| = {delta} at {where}"
    return delta


@pytest.mark.parametrize("tokenize", [None, "13a", "none", "intl", "char"])
def test_sacrebleu_mrpc_pairs(tokenize):
    rng = random.Random(3)
    pairs = mrpc_pairs(150)
    predictions = [edited(a, rng) for a, _ in pairs]
    one, two = [b for _, b in pairs], [[b, a] for a, b in pairs]  # one or two references each
    deltas = [check_sacrebleu(predictions, refs, tokenize=tokenize) for refs in (one, two)]
    deltas.append(check_sacrebleu(predictions[:40], one[:40], tokenize=tokenize, lowercase=True))
    for smooth in ("none", "floor", "add-k"):
        deltas.append(check_sacrebleu(predictions[:20], [b for _, b in pairs[:20]], tokenize=tokenize,
                                      smooth_method=smooth))  # fmt: skip
    deltas.append(check_sacrebleu(predictions[:1], [pairs[0][1]], tokenize=tokenize, use_effective_order=True))
    assert max(deltas) <= 1e-9, f"sacrebleu tokenize={tokenize}: max |Δ| = {max(deltas)}"


def test_sacrebleu_edge_cases():
    cases = [
        (["", "the cat"], ["a cat", "the cat"]),  # an empty hypothesis
        ([""], ["anything at all"]),  # nothing to match: score 0, BP 0
        (["no overlap here"], ["completely different words"]),
        (["Hello, world!! (really) -- 3.14, 1,000 and 5-6 &amp; &quot;quoted&quot; ."], ["Hello world 3.14 quoted"]),
        (["Ünïcödé — “quotes” … 日本語のテキスト €10"], ["Ünïcödé “quotes” 日本語 €10"]),
        (["one two three four five"], ["one two three four five six seven"]),  # brevity penalty
        (["word word word word"], ["word"]),  # clipped counts
        (["trailing spaces   "], ["trailing spaces"]),
    ]
    worst = 0.0
    for predictions, references in cases:
        for tokenize in (None, "none", "intl", "char"):
            for smooth in ("exp", "none", "floor", "add-k"):
                worst = max(worst, check_sacrebleu(predictions, references, tokenize=tokenize, smooth_method=smooth))
    # a varying number of references per sentence: the missing ones are None, as sacrebleu takes them
    worst = max(worst, check_sacrebleu(["the cat sat", "a dog ran"], [["the cat sat", None], ["a dog", "a dog ran"]]))
    assert worst <= 1e-9, f"sacrebleu edge cases: max |Δ| = {worst}"


# ---------------------------------------------------------------------------------------------- bleu
def test_bleu_matches_nltk_corpus_bleu():
    """evaluate's "bleu" (TF NMT's compute_bleu) equals NLTK's corpus_bleu where their definitions meet: one
    reference per sentence (NLTK's closest length = NMT's shortest), hypotheses of at least 4 tokens (NLTK
    counts a missing n-gram order as 1 possible), no smoothing."""
    from nltk.translate.bleu_score import corpus_bleu

    from nanohf.evaluate.metrics.sacrebleu import tokenize_13a

    rng = random.Random(11)
    pairs = [(edited(a, rng), b) for a, b in mrpc_pairs(200)]
    pairs = [(p, r) for p, r in pairs if len(tokenize_13a(p)) >= 4]
    worst = 0.0
    for chunk in (pairs, pairs[:1], pairs[:10], [(b, b) for _, b in pairs[:5]]):
        predictions, references = [p for p, _ in chunk], [[r] for _, r in chunk]
        ours = evaluate.load("bleu").compute(predictions=predictions, references=references)
        theirs = quiet(corpus_bleu, [[tokenize_13a(r[0])] for r in references], [tokenize_13a(p) for p in predictions])
        worst = max(worst, abs(ours["bleu"] - theirs))
    assert worst < 1e-12, f"bleu vs nltk corpus_bleu on MRPC: max |Δ| = {worst}"


def test_bleu_shortest_reference_smoothing_and_errors():
    bleu = evaluate.load("bleu")
    out = bleu.compute(predictions=["the cat"], references=[["the cat sat", "a cat"]])
    # r = the shortest reference (2 tokens), so BP = 1; no 3-gram can match: precisions [1, 1, 0, 0] -> 0
    assert out == {"bleu": 0.0, "precisions": [1.0, 1.0, 0.0, 0.0], "brevity_penalty": 1.0, "length_ratio": 1.0,
                   "translation_length": 2, "reference_length": 2}, out  # fmt: skip
    smoothed = bleu.compute(predictions=["the cat"], references=[["the cat sat", "a cat"]], smooth=True)
    assert smoothed["precisions"] == [1.0, 1.0, 1.0, 1.0] and smoothed["bleu"] == 1.0, smoothed
    short = bleu.compute(predictions=["a b c d"], references=["a b c d e f g h"], max_order=2)
    assert abs(short["brevity_penalty"] - math.exp(1 - 8 / 4)) < 1e-15 and short["precisions"] == [1.0, 1.0], short
    with pytest.raises(ValueError, match="predictions have no tokens"):
        bleu.compute(predictions=[""], references=["a b"])


# ---------------------------------------------------------------------------------------------- hypothesis
TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "E-PER", "S-LOC", "E-LOC", "S-PER"]
sentences = st.lists(st.lists(st.sampled_from(TAGS), min_size=1, max_size=10), min_size=1, max_size=6)


@settings(derandomize=True, max_examples=80, deadline=None)
@given(sentences, st.randoms(use_true_random=False))
def test_seqeval_hypothesis(references, rng):
    """Random IOBES-style corpora, lenient and strict (IOBES and IOB2 when the tags allow it)."""
    predictions = [[t if rng.random() < 0.6 else rng.choice(TAGS) for t in seq] for seq in references]
    check_seqeval(predictions, references)
    check_seqeval(predictions, references, mode="strict", scheme="IOBES")
    if not {t[0] for seq in references + predictions for t in seq} - set("BIO"):
        check_seqeval(predictions, references, mode="strict", scheme="IOB2")


words = st.text(alphabet="ab c.,-'!é1", min_size=0, max_size=25)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.lists(st.tuples(words, words, words), min_size=1, max_size=5), st.sampled_from([None, "intl", "none"]))
def test_sacrebleu_and_rouge_hypothesis(triples, tokenize):
    """Random short texts from a small alphabet (many repeats, punctuation, empty strings)."""
    predictions, refs = [p for p, _, _ in triples], [[a, b] for _, a, b in triples]
    check_sacrebleu(predictions, refs, tokenize=tokenize)
    check_rouge(predictions, [a for a, _ in refs], use_aggregator=False)


def test_add_batch_then_compute_equals_one_compute(squad_case):
    """The course's loops feed these metrics batch by batch; the stored batches give the one-shot result."""
    rng = random.Random(2)
    pairs = mrpc_pairs(12)
    tags = wnut17_tags(12)
    references, predictions = squad_case
    cases = {
        "seqeval": ({}, noisy(tags, rng), tags),
        "sacrebleu": ({}, [a for a, _ in pairs], [[b] for _, b in pairs]),
        "bleu": ({}, [a for a, _ in pairs], [[b, a] for a, b in pairs]),
        "rouge": ({"use_aggregator": False}, [a for a, _ in pairs], [b for _, b in pairs]),
        "squad": ({}, [{"id": p["id"], "prediction_text": p["prediction_text"]} for p in predictions[:12]
                       if any(r["id"] == p["id"] and r["answers"]["text"] for r in references)],
                  [r for r in references[:12] if r["answers"]["text"]]),
        "squad_v2": ({}, predictions[:12], references[:12]),
    }  # fmt: skip
    for name, (options, preds, refs) in cases.items():
        whole = evaluate.load(name).compute(predictions=preds, references=refs, **options)
        metric = evaluate.load(name)
        half = len(preds) // 2
        metric.add_batch(predictions=preds[:half], references=refs[:half])
        for p, r in zip(preds[half:], refs[half:], strict=True):
            metric.add(prediction=p, reference=r)
        assert metric.compute(**options) == whole, name

"""Chapter 7's metrics against their reference packages, on the same inputs: seqeval (seqeval 1.2.2), sacrebleu
(sacrebleu 2.6.0), rouge (rouge-score 0.1.2), squad / squad_v2 (torchmetrics' SQuAD, a port of the official
script, for the per-question scores; the no-answer threshold search against a brute force over thresholds).

Each reference is called as 🤗 evaluate's metric script calls it (evaluate itself is not installed: its
scripts live on the Hub). Inputs: WNUT-17 tags, MRPC sentence pairs, the SQuAD 2.0 dev subset, random edits
from a fixed seed, and edge cases.
"""

import random
import warnings
from pathlib import Path

import pytest

import nanohf.evaluate as evaluate

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (Path("/work/shared/data"), ROOT.parent / "shared" / "data", ROOT / "data") if p.is_dir()),
              ROOT / "data")  # fmt: skip


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
    references = wnut17_tags()
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

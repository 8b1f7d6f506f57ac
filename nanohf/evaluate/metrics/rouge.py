"""rouge: ROUGE-1/2/L/Lsum as the rouge-score package computes them, aggregated as 🤗 evaluate's "rouge" does.

    metric = evaluate.load("rouge")
    metric.compute(predictions=["the cat sat"], references=["the cat sat on the mat"])
    # {"rouge1": 0.666..., "rouge2": 0.571..., "rougeL": 0.666..., "rougeLsum": 0.666...}

Tokens: the text lowercased, every run of characters other than a-z and 0-9 replaced by a space, split
(so "Don't!" -> ["don", "t"], and letters outside ASCII vanish); ``use_stemmer=True`` replaces words of more
than 3 letters by their Porter stem (NLTK's variant, as rouge-score uses). For a prediction P and a reference R:
    rougeN     common = sum over n-grams g of min(count_P(g), count_R(g));
               precision = common / max(#n-grams of P, 1), recall = common / max(#n-grams of R, 1)
    rougeL     the longest common subsequence of the two token lists: precision = LCS / |P|, recall = LCS / |R|
    rougeLsum  summary-level LCS over sentences (the text split on newlines): for each reference sentence r,
               the union of the positions of r in its LCS with each predicted sentence; each token of r in
               that union is a hit if the token is still unused in both texts' token counts (then used up);
               precision = hits / |P|, recall = hits / |R|
and fmeasure = 2 precision recall / (precision + recall) (0 if both are 0). With several references per
prediction, each type keeps the reference with the highest fmeasure.

Aggregation (``use_aggregator=True``, the default): rouge-score's BootstrapAggregator, whose "mid" evaluate
reports: 1000 times, draw n of the n (precision, recall, fmeasure) rows with replacement
(``np.random.choice`` on NumPy's global generator, as rouge-score does) and take their mean; the result is the
median of those 1000 means, per type. It is close to the plain mean but not equal to it, and, as in
evaluate, it depends on NumPy's global random state (seed it with ``np.random.seed`` for repeatable numbers;
this module draws exactly what rouge-score draws, so a seeded run gives the same numbers).
``use_aggregator=False`` gives the list of per-example fmeasures instead.
"""

import re
from collections import Counter

import numpy as np

from nanohf.evaluate.metrics import _porter as porter
from nanohf.evaluate.module import EvaluationModule

_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_VALID_TOKEN = re.compile(r"^[a-z0-9]+$")


def tokenize(text: str, use_stemmer: bool = False) -> list[str]:
    """rouge-score's default tokenizer; ``use_stemmer``: words of more than 3 letters Porter-stemmed (NLTK's
    variant, nanohf/evaluate/metrics/_porter.py), as rouge-score stems them."""
    tokens = re.split(r"\s+", _NON_ALPHANUMERIC.sub(" ", text.lower()))
    if use_stemmer:
        tokens = [porter.stem(t) if len(t) > 3 else t for t in tokens]
    return [t for t in tokens if _VALID_TOKEN.match(t)]


def _score(common: float, n_prediction: int, n_reference: int) -> tuple[float, float, float]:
    precision, recall = common / n_prediction, common / n_reference
    fmeasure = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, fmeasure


def rouge_n(reference: list[str], prediction: list[str], n: int) -> tuple[float, float, float]:
    ref, pred = (Counter(tuple(t[i : i + n]) for i in range(len(t) - n + 1)) for t in (reference, prediction))
    common = sum(min(count, pred[gram]) for gram, count in ref.items())
    return _score(common, max(sum(pred.values()), 1), max(sum(ref.values()), 1))


def lcs_table(a: list[str], b: list[str]) -> list[list[int]]:
    """table[i][j] = length of the longest common subsequence of a[:i] and b[:j]."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        row, above = table[i], table[i - 1]
        for j in range(1, len(b) + 1):
            row[j] = above[j - 1] + 1 if a[i - 1] == b[j - 1] else max(above[j], row[j - 1])
    return table


def rouge_l(reference: list[str], prediction: list[str]) -> tuple[float, float, float]:
    if not reference or not prediction:
        return 0.0, 0.0, 0.0
    return _score(lcs_table(reference, prediction)[-1][-1], len(prediction), len(reference))


def _lcs_positions(ref: list[str], can: list[str]) -> list[int]:
    """The positions in ``ref`` of one longest common subsequence (rouge-score's backtrack: on a tie, up)."""
    table, i, j, positions = lcs_table(ref, can), len(ref), len(can), []
    while i > 0 and j > 0:
        if ref[i - 1] == can[j - 1]:
            positions.append(i - 1)
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return positions


def rouge_lsum(reference: list[list[str]], prediction: list[list[str]]) -> tuple[float, float, float]:
    """Summary-level LCS of two lists of tokenized sentences."""
    m, n = sum(map(len, reference)), sum(map(len, prediction))
    if not m or not n:
        return 0.0, 0.0, 0.0
    unused_ref, unused_pred = Counter(t for s in reference for t in s), Counter(t for s in prediction for t in s)
    hits = 0
    for sentence in reference:
        union = sorted(set().union(*(_lcs_positions(sentence, c) for c in prediction)))
        for token in (sentence[i] for i in union):
            if unused_pred[token] > 0 and unused_ref[token] > 0:
                hits += 1
                unused_pred[token] -= 1
                unused_ref[token] -= 1
    return _score(hits, n, m)


def score(reference: str, prediction: str, rouge_types: list[str], tokenizer=None) -> dict[str, tuple]:
    """type -> (precision, recall, fmeasure) of one prediction against one reference."""
    tokenizer = tokenizer or tokenize
    ref, pred = tokenizer(reference), tokenizer(prediction)
    out = {}
    for rouge_type in rouge_types:
        if rouge_type == "rougeL":
            out[rouge_type] = rouge_l(ref, pred)
        elif rouge_type == "rougeLsum":
            sentences = ([tokenizer(s) for s in text.split("\n") if s] for text in (reference, prediction))
            out[rouge_type] = rouge_lsum(*sentences)
        elif re.fullmatch(r"rouge[0-9]", rouge_type):
            if rouge_type == "rouge0":
                raise ValueError(f"rougen requires positive n: {rouge_type}")
            out[rouge_type] = rouge_n(ref, pred, int(rouge_type[5:]))
        else:
            raise ValueError(f"Invalid rouge type: {rouge_type} (rouge1 ... rouge9, rougeL, rougeLsum)")
    return out


def bootstrap_mid(rows: np.ndarray, n_samples: int = 1000) -> np.ndarray:
    """The median, over ``n_samples`` resamplings with replacement, of the mean row (rouge-score's "mid")."""
    means = np.zeros((n_samples, rows.shape[1]))
    for i in range(n_samples):
        means[i] = rows[np.random.choice(np.arange(rows.shape[0]), size=rows.shape[0])].mean(axis=0)
    return np.percentile(means, 100 * np.array([0.025, 0.5, 0.975]), axis=0)[1]


class Rouge(EvaluationModule):
    name = "rouge"
    description = "ROUGE-N, ROUGE-L and ROUGE-Lsum F-measures (rouge-score's), bootstrap-aggregated as evaluate."

    def _compute(self, predictions, references, rouge_types=None, use_aggregator=True, use_stemmer=False,
                 tokenizer=None):  # fmt: skip
        """``references``: a string per prediction, or a list of strings (the best one counts).
        ``tokenizer``: a function text -> list of tokens, used instead of the default one."""
        if use_stemmer and tokenizer is None:  # a tokenizer of one's own is used as it is, as in rouge-score
            tokenizer = lambda text: tokenize(text, use_stemmer=True)  # noqa: E731
        rouge_types = ["rouge1", "rouge2", "rougeL", "rougeLsum"] if rouge_types is None else list(rouge_types)
        per_example = []
        for i, (ref, pred) in enumerate(zip(references, predictions, strict=True)):
            targets = ref if isinstance(references[0], list) else [ref]
            if not targets:
                raise ValueError(f"rouge: reference {i} is an empty list")
            scores = [score(t, pred, rouge_types, tokenizer) for t in targets]
            per_example.append({k: scores[int(np.argmax([s[k][2] for s in scores]))][k] for k in rouge_types})
        if not use_aggregator:
            return {k: [s[k][2] for s in per_example] for k in rouge_types}
        return {k: np.float64(bootstrap_mid(np.array([s[k] for s in per_example], dtype=np.float64))[2])
                for k in rouge_types}  # fmt: skip


METRIC = Rouge

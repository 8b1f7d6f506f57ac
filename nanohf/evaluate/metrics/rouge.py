"""rouge: ROUGE-N, ROUGE-L and ROUGE-Lsum F-measures as Google's rouge_score package computes them — the metric
of the course's summarization chapter.

    metric = evaluate.load("rouge")
    metric.compute(predictions=["the cat sat"], references=["the cat sat on the mat"])
    # {"rouge1": 0.667, "rouge2": 0.571, "rougeL": 0.667, "rougeLsum": 0.667}

Text is lowercased, every run of characters other than a-z and 0-9 becomes a space, and the words are the
tokens (or ``tokenizer(text)``); ``use_stemmer=True`` reduces words of more than 3 letters to their Porter stem
(NLTK's variant, in _porter.py), as rouge_score does. For a prediction p and a reference r:

    rougeN     overlap = Σ over n-grams of min(count in r, count in p);  P = overlap / |n-grams of p|,  R = ... / r
    rougeL     L = the longest common subsequence of the two token lists;  P = L / |p|,  R = L / |r|
    rougeLsum  the same per reference sentence (sentences are the lines of the text): the union of its LCS with
               every predicted sentence, each token counted at most as often as it occurs on both sides

and F = 2 P R / (P + R). With several references, the one with the best F counts. ``use_aggregator`` (the
default) reports the median of 1000 bootstrap means over the examples, as rouge_score's BootstrapAggregator
does, drawing from NumPy's global generator (so ``nanohf.set_seed`` / ``np.random.seed`` fix it);
without, the list of per-example F-measures.
"""

import re
from collections import Counter

import numpy as np

from nanohf.evaluate.metrics import _porter as porter
from nanohf.evaluate.module import EvaluationModule

DEFAULT_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")
BOOTSTRAP_SAMPLES = 1000
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def tokenize(text: str, use_stemmer: bool = False) -> list[str]:
    """Lowercased runs of a-z0-9; with ``use_stemmer``, words of more than 3 letters Porter-stemmed."""
    tokens = _NON_ALPHANUMERIC.sub(" ", text.lower()).split()
    return [porter.stem(t) if len(t) > 3 else t for t in tokens] if use_stemmer else tokens


def _f(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def _score(overlap: int, predicted: int, true: int) -> tuple[float, float, float]:
    precision, recall = overlap / predicted, overlap / true
    return precision, recall, _f(precision, recall)


def rouge_n(reference: list[str], prediction: list[str], n: int) -> tuple[float, float, float]:
    ref = Counter(tuple(reference[i : i + n]) for i in range(len(reference) - n + 1))
    pred = Counter(tuple(prediction[i : i + n]) for i in range(len(prediction) - n + 1))
    overlap = sum(min(count, pred[gram]) for gram, count in ref.items())
    return _score(overlap, max(sum(pred.values()), 1), max(sum(ref.values()), 1))


def _lcs_table(a: list[str], b: list[str]) -> list[list[int]]:
    """table[i][j] = length of the longest common subsequence of a[:i] and b[:j]."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else max(table[i - 1][j], table[i][j - 1])
    return table


def _lcs_positions(a: list[str], b: list[str]) -> list[int]:
    """Positions in ``a`` of one longest common subsequence (read back from the table, preferring to drop from a
    on ties, which is the LCS rouge_score picks)."""
    table, i, j, positions = _lcs_table(a, b), len(a), len(b), []
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1]:
            positions.append(i - 1)
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    return positions[::-1]


def rouge_l(reference: list[str], prediction: list[str]) -> tuple[float, float, float]:
    if not reference or not prediction:
        return 0.0, 0.0, 0.0
    return _score(_lcs_table(reference, prediction)[-1][-1], len(prediction), len(reference))


def rouge_lsum(reference: list[list[str]], prediction: list[list[str]]) -> tuple[float, float, float]:
    """Summary-level LCS over sentences (lists of tokens)."""
    true_len, pred_len = sum(map(len, reference)), sum(map(len, prediction))
    if not reference or not prediction or not true_len or not pred_len:
        return 0.0, 0.0, 0.0
    left_true, left_pred = Counter(t for s in reference for t in s), Counter(t for s in prediction for t in s)
    hits = 0
    for sentence in reference:
        union = sorted(set().union(*(_lcs_positions(sentence, p) for p in prediction)))
        for token in (sentence[i] for i in union):
            if left_pred[token] > 0 and left_true[token] > 0:
                hits += 1
                left_pred[token] -= 1
                left_true[token] -= 1
    return _score(hits, pred_len, true_len)


class Rouge(EvaluationModule):
    name = "rouge"
    description = "ROUGE-1/2/L/Lsum F-measures (rouge_score's definitions)."

    def _compute(self, predictions, references, rouge_types=None, use_aggregator=True, use_stemmer=False,
                 tokenizer=None):  # fmt: skip
        types = list(DEFAULT_TYPES if rouge_types is None else rouge_types)
        for rouge_type in types:
            if rouge_type not in ("rougeL", "rougeLsum") and not re.fullmatch(r"rouge[1-9]", rouge_type):
                raise ValueError(f"Invalid rouge type: {rouge_type}")
        split = (lambda text: tokenize(text, use_stemmer)) if tokenizer is None else tokenizer
        per_example = []
        for prediction, refs in zip(predictions, references, strict=True):
            candidates = [self._scores(ref, prediction, types, split) for ref in ([refs] if isinstance(refs, str)
                                                                                   else refs)]  # fmt: skip
            best = {t: max(candidates, key=lambda c, t=t: c[t][2])[t] for t in types}  # the first best on ties
            per_example.append(best)
        if not use_aggregator:
            return {t: [scores[t][2] for scores in per_example] for t in types}
        return {t: _bootstrap_median_f(np.array([scores[t] for scores in per_example])) for t in types}

    @staticmethod
    def _scores(reference: str, prediction: str, types, split) -> dict:
        ref_tokens, pred_tokens = split(reference), split(prediction)
        scores = {}
        for rouge_type in types:
            if rouge_type == "rougeL":
                scores[rouge_type] = rouge_l(ref_tokens, pred_tokens)
            elif rouge_type == "rougeLsum":
                sentences = [[split(s) for s in text.split("\n") if s] for text in (reference, prediction)]
                scores[rouge_type] = rouge_lsum(*sentences)
            else:
                scores[rouge_type] = rouge_n(ref_tokens, pred_tokens, int(rouge_type[5:]))
        return scores


def _bootstrap_median_f(matrix: np.ndarray) -> float:
    """The median over 1000 resamples (with replacement, NumPy's global generator) of the mean F-measure: the
    "mid" of rouge_score's BootstrapAggregator (which draws the same way, one matrix of (P, R, F) per type)."""
    means = np.zeros((BOOTSTRAP_SAMPLES, matrix.shape[1]))
    for i in range(BOOTSTRAP_SAMPLES):
        sample = matrix[np.random.choice(np.arange(matrix.shape[0]), size=matrix.shape[0]), :]
        means[i, :] = np.mean(sample, axis=0)
    return float(np.percentile(means, 50, axis=0)[2])


METRIC = Rouge

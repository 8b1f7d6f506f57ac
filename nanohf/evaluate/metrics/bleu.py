"""bleu: 🤗 evaluate's "bleu" metric — corpus BLEU on a 0-1 scale as TensorFlow NMT's compute_bleu computes it,
after sacrebleu's 13a tokenization. (For WMT-comparable numbers use "sacrebleu"; the two differ, see below.)

    metric = evaluate.load("bleu")
    metric.compute(predictions=["the cat sat on the mat"], references=[["the cat sat on the mat"]])
    # {"bleu": 1.0, "precisions": [1.0, 1.0, 1.0, 1.0], "brevity_penalty": 1.0, "length_ratio": 1.0,
    #  "translation_length": 6, "reference_length": 6}

Over the corpus, for n = 1..max_order:
    matches_n  = sum over sentences of the clipped n-gram matches (each n-gram at most as often as in the
                 reference where it is most frequent)
    possible_n = sum over sentences of max(0, len(hypothesis) - n + 1)
    p_n        = matches_n / possible_n (0 if possible_n = 0); with ``smooth``: (matches_n + 1) / (possible_n + 1)
    BLEU       = BP * exp(mean of log p_n), and 0 as soon as one p_n is 0
    BP         = 1 if c > r else exp(1 - r / c), c = total hypothesis length,
                 r = sum of each sentence's *shortest* reference length
Unlike sacrebleu: r takes the shortest reference (not the closest), there is no smoothing by default, a
zero precision gives 0, and the scale is 0-1.
"""

import math
from collections import Counter

from nanohf.evaluate.metrics.sacrebleu import tokenize_13a
from nanohf.evaluate.module import EvaluationModule


def _ngrams(tokens: list[str], max_order: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for n in range(1, max_order + 1) for i in range(len(tokens) - n + 1))


def compute_bleu(reference_corpus: list[list[list[str]]], translation_corpus: list[list[str]], max_order: int = 4,
                 smooth: bool = False) -> dict:  # fmt: skip
    """BLEU of tokenized translations, each with a list of tokenized references (formulas above)."""
    matches, possible = [0] * max_order, [0] * max_order
    reference_length = translation_length = 0
    for i, (references, translation) in enumerate(zip(reference_corpus, translation_corpus, strict=True)):
        if not references:
            raise ValueError(f"bleu: prediction {i} has no reference")
        reference_length += min(len(r) for r in references)
        translation_length += len(translation)
        most: Counter = Counter()
        for reference in references:
            most |= _ngrams(reference, max_order)
        for gram, count in (_ngrams(translation, max_order) & most).items():
            matches[len(gram) - 1] += count
        for n in range(1, max_order + 1):
            possible[n - 1] += max(0, len(translation) - n + 1)
    if smooth:
        precisions = [(m + 1.0) / (p + 1.0) for m, p in zip(matches, possible, strict=True)]
    else:
        precisions = [m / p if p > 0 else 0.0 for m, p in zip(matches, possible, strict=True)]
    geo_mean = math.exp(sum(math.log(p) / max_order for p in precisions)) if min(precisions) > 0 else 0.0
    if reference_length == 0 or translation_length == 0:
        empty = "references" if reference_length == 0 else "predictions"
        raise ValueError(f"bleu: the {empty} have no tokens at all, so the length ratio is undefined (evaluate "
                         "fails here with a ZeroDivisionError)")  # fmt: skip
    ratio = translation_length / reference_length
    bp = 1.0 if ratio > 1.0 else math.exp(1 - 1.0 / ratio)
    return {"bleu": geo_mean * bp, "precisions": precisions, "brevity_penalty": bp, "length_ratio": ratio,
            "translation_length": translation_length, "reference_length": reference_length}  # fmt: skip


class Bleu(EvaluationModule):
    name = "bleu"
    description = "BLEU (0-1) as TensorFlow NMT's compute_bleu, after 13a tokenization (evaluate's 'bleu')."

    def _compute(self, predictions, references, tokenizer=tokenize_13a, max_order=4, smooth=False):
        """``references``: a string or a list of strings per prediction; ``tokenizer``: text -> list of tokens."""
        references = [[r] if isinstance(r, str) else list(r) for r in references]
        return compute_bleu([[tokenizer(r) for r in refs] for refs in references],
                            [tokenizer(p) for p in predictions], max_order=max_order, smooth=smooth)  # fmt: skip


METRIC = Bleu

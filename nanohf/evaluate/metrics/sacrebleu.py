"""sacrebleu: corpus BLEU as the sacrebleu package computes it (13a tokenisation, exp smoothing by default) —
the metric of the course's translation chapter.

    metric = evaluate.load("sacrebleu")
    metric.compute(predictions=["the cat sat"], references=[["the cat sat down", "a cat sat"]])
    # {"score": ..., "counts": [...], "totals": [...], "precisions": [...], "bp": ..., "sys_len": 3, "ref_len": 3}

Each prediction has one or more references (the same number for every prediction). Per sentence, after
tokenising, with n-grams of orders 1..4:

    totals[n]  = the prediction's n-grams                 counts[n] = those matched, each n-gram at most
                                                                      as often as in its most generous reference
    sys_len    = the prediction's tokens                  ref_len   = the closest reference length (ties: shorter)

summed over the corpus. Then precisions[n] = 100 counts / totals, BP = exp(1 - ref_len / sys_len) when
sys_len < ref_len (else 1), and score = BP · exp(mean of log precisions). A zero count is smoothed: "exp"
(mteval's) gives the k-th zero 100 / (2^k totals[n]); "floor" 100 smooth_value / totals; "add-k" adds
smooth_value to counts and totals from order 2; "none" leaves 0 (log floored at -9999999999). No match at all
scores 0.
"""

import math
import re
from collections import Counter

from nanohf.evaluate.metrics._bleu_tokenizers import tokenize_char, tokenize_intl
from nanohf.evaluate.module import EvaluationModule

MAX_ORDER = 4
SMOOTH_DEFAULTS = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
# mteval-v13a's tokenisation: punctuation and symbols apart; "." and "," apart unless between digits; a dash
# after a digit apart.
_13A_RULES = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),
]
_ENTITIES = (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"))


def tokenize_13a(line: str) -> list[str]:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, char in _ENTITIES:
            line = line.replace(entity, char)
    line = f" {line} "
    for pattern, replacement in _13A_RULES:
        line = pattern.sub(replacement, line)
    return line.split()


TOKENIZERS = {"13a": tokenize_13a, "none": str.split, "intl": tokenize_intl, "char": tokenize_char}


def _ngrams(tokens: list[str]) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for n in range(1, MAX_ORDER + 1) for i in range(len(tokens) - n + 1))


def _closest(hyp_len: int, ref_lens: list[int]) -> int:
    return min(ref_lens, key=lambda r: (abs(hyp_len - r), r))


def corpus_statistics(predictions, references, tokenize, lowercase: bool):
    """(sys_len, ref_len, counts, totals) summed over the corpus; references[i] are prediction i's."""
    split = TOKENIZERS[tokenize]

    def prepare(text: str) -> list[str]:
        text = text.lower() if lowercase else text
        return split(text.rstrip())

    sys_len = ref_len = 0
    counts, totals = [0] * MAX_ORDER, [0] * MAX_ORDER
    for prediction, refs in zip(predictions, references, strict=True):
        hyp = prepare(prediction)
        ref_tokens = [prepare(r) for r in refs if r is not None]  # None: this sentence has fewer references
        best = Counter()
        for tokens in ref_tokens:
            best |= _ngrams(tokens)  # per n-gram, its largest count in any reference
        for ngram, count in _ngrams(hyp).items():
            totals[len(ngram) - 1] += count
            counts[len(ngram) - 1] += min(count, best.get(ngram, 0))
        sys_len += len(hyp)
        ref_len += _closest(len(hyp), [len(t) for t in ref_tokens])
    return sys_len, ref_len, counts, totals


def bleu(sys_len, ref_len, counts, totals, smooth_method="exp", smooth_value=None, use_effective_order=False):
    """(score, precisions, bp, counts, totals) from the corpus statistics (see the module docstring); with
    "add-k" the counts and totals returned include what was added, as sacrebleu reports them."""
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(f"Unknown smooth_method {smooth_method!r}")
    smooth_value = SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else smooth_value
    bp = 1.0 if sys_len >= ref_len else (math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0)
    precisions = [0.0] * MAX_ORDER
    if not any(counts):
        return 0.0, precisions, bp, counts, totals
    counts, totals = list(counts), list(totals)
    zeros_seen, order = 0, MAX_ORDER
    for n in range(MAX_ORDER):
        if smooth_method == "add-k" and n > 0:
            counts[n] += smooth_value
            totals[n] += smooth_value
        if totals[n] == 0:
            break
        if use_effective_order:
            order = n + 1
        if counts[n] == 0:
            if smooth_method == "exp":
                zeros_seen += 1
                precisions[n] = 100.0 / (2**zeros_seen * totals[n])
            elif smooth_method == "floor":
                precisions[n] = 100.0 * smooth_value / totals[n]
        else:
            precisions[n] = 100.0 * counts[n] / totals[n]
    logs = [math.log(p) if p != 0.0 else -9999999999 for p in precisions[:order]]
    return bp * math.exp(sum(logs) / order), precisions, bp, counts, totals


class Sacrebleu(EvaluationModule):
    name = "sacrebleu"
    description = "Corpus BLEU with sacrebleu's tokenisation and smoothing."

    def _compute(self, predictions, references, smooth_method="exp", smooth_value=None, force=False,
                 lowercase=False, tokenize=None, use_effective_order=False):  # fmt: skip
        references = [[r] if isinstance(r, str) else list(r) for r in references]
        if len({len(refs) for refs in references}) > 1:
            raise ValueError("Sacrebleu requires the same number of references for each prediction")
        tokenize = "13a" if tokenize is None else tokenize
        if tokenize not in TOKENIZERS:
            raise NotImplementedError(f"sacrebleu(tokenize={tokenize!r}): nanohf has {sorted(TOKENIZERS)} (the "
                                      "language-specific tokenizers are not implemented yet)")  # fmt: skip
        sys_len, ref_len, counts, totals = corpus_statistics(predictions, references, tokenize, lowercase)
        score, precisions, bp, counts, totals = bleu(sys_len, ref_len, counts, totals, smooth_method, smooth_value,
                                                     use_effective_order)  # fmt: skip
        return {"score": score, "counts": counts, "totals": totals, "precisions": precisions, "bp": bp,
                "sys_len": sys_len, "ref_len": ref_len}  # fmt: skip


METRIC = Sacrebleu

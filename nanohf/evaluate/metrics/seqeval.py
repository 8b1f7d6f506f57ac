"""seqeval: entity-level precision, recall and F1 for tagged sequences (IOB, IOBES), as the seqeval package
computes them in its default (lenient, conlleval-style) mode — the metric of the course's token classification.

    metric = evaluate.load("seqeval")
    metric.compute(predictions=[["B-PER", "I-PER", "O"]], references=[["B-PER", "I-PER", "O"]])
    # {"PER": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "number": 1}, "overall_precision": 1.0, ...}

An *entity* is a maximal chunk (type, first token, last token). Reading the tags left to right, a chunk ends
before a tag when the previous one was E or S, when a B, S or O follows a B or I, or when the type changes;
a chunk starts at a B or S, at an I or E that follows O, E or S, or when the type changes (so "I-PER I-PER"
with no B is one entity: conlleval's leniency). Sentences are joined with an O between them, so no entity
spans two. Per type: precision = |true ∩ predicted| / |predicted|, recall = ... / |true|, F1 their harmonic
mean (0/0 is ``zero_division``); the overall scores pool the counts of all types (micro average), and
overall_accuracy is the fraction of tokens whose tag is right.
"""

import numpy as np

from nanohf.evaluate.module import EvaluationModule


def get_entities(tags: list[str], suffix: bool = False) -> list[tuple[str, int, int]]:
    """(type, start, end) of each chunk of a tag sequence (end inclusive); ``suffix``: tags like "PER-B"."""
    chunks, prev_tag, prev_type, begin = [], "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        if suffix:
            tag, type_ = chunk[-1], chunk[:-1].rsplit("-", maxsplit=1)[0] or "_"
        else:
            tag, type_ = chunk[0], chunk[1:].split("-", maxsplit=1)[-1] or "_"
        if _chunk_ends(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _chunk_starts(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


def _chunk_ends(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    return (prev_tag in ("E", "S") or (prev_tag in ("B", "I") and tag in ("B", "S", "O"))
            or (prev_tag not in ("O", ".") and prev_type != type_))  # fmt: skip


def _chunk_starts(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    return (tag in ("B", "S") or (prev_tag in ("E", "S", "O") and tag in ("E", "I"))
            or (tag not in ("O", ".") and prev_type != type_))  # fmt: skip


def _joined(sequences) -> list[str]:
    """Sentences joined into one tag sequence, an "O" after each (entities never cross a sentence end)."""
    return [tag for sentence in sequences for tag in [*sentence, "O"]]


def _divide(numerator: np.ndarray, denominator: np.ndarray, zero_division) -> np.ndarray:
    zero = 0.0 if zero_division in ("warn", 0) else 1.0
    return np.where(denominator == 0, zero, numerator / np.where(denominator == 0, 1, denominator))


class Seqeval(EvaluationModule):
    name = "seqeval"
    description = "Entity-level precision, recall and F1 of tagged sequences (seqeval's default mode)."

    def _compute(self, predictions, references, suffix=False, scheme=None, mode=None, sample_weight=None,
                 zero_division="warn"):  # fmt: skip
        if mode is not None or scheme is not None:
            raise NotImplementedError("seqeval(mode='strict', scheme=...): strict scheme checking is not "
                                      "implemented yet; the default (lenient) mode is")  # fmt: skip
        if sample_weight is not None:
            raise NotImplementedError("seqeval(sample_weight=...): not implemented yet")
        predictions, references = [list(p) for p in predictions], [list(r) for r in references]
        if [len(p) for p in predictions] != [len(r) for r in references]:
            raise ValueError("seqeval: each prediction must have as many tags as its reference")
        true, pred = get_entities(_joined(references), suffix), get_entities(_joined(predictions), suffix)
        types = sorted({t for t, _, _ in true} | {t for t, _, _ in pred})
        true_sets = {t: {(s, e) for k, s, e in true if k == t} for t in types}
        pred_sets = {t: {(s, e) for k, s, e in pred if k == t} for t in types}
        tp = np.array([len(true_sets[t] & pred_sets[t]) for t in types], dtype=np.float64)
        n_pred = np.array([len(pred_sets[t]) for t in types], dtype=np.float64)
        n_true = np.array([len(true_sets[t]) for t in types], dtype=np.float64)
        scores = {}
        for counts, names in (((tp, n_pred, n_true), types),
                              ((tp.sum(keepdims=True), n_pred.sum(keepdims=True), n_true.sum(keepdims=True)),
                               ["overall"])):  # fmt: skip
            precision = _divide(counts[0], counts[1], zero_division)
            recall = _divide(counts[0], counts[2], zero_division)
            f1 = 2 * precision * recall / np.where(precision + recall == 0, 1, precision + recall)
            for i, name in enumerate(names):
                if name == "overall":
                    scores.update(overall_precision=float(precision[i]), overall_recall=float(recall[i]),
                                  overall_f1=float(f1[i]))  # fmt: skip
                else:
                    scores[name] = {"precision": float(precision[i]), "recall": float(recall[i]),
                                    "f1": float(f1[i]), "number": int(counts[2][i])}  # fmt: skip
        tokens_true, tokens_pred = [t for r in references for t in r], [t for p in predictions for t in p]
        correct = sum(a == b for a, b in zip(tokens_true, tokens_pred, strict=True))
        scores["overall_accuracy"] = correct / len(tokens_true)
        return scores


METRIC = Seqeval

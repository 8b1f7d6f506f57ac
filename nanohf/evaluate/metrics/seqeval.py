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

``mode="strict"`` (with ``scheme="IOB2"``, "IOB1", "IOE1", "IOE2", "IOBES" or "BILOU", or None to detect it from
the references) reads entities by the scheme's rules instead: see _seqeval_schemes.py.
"""

import numpy as np

from nanohf.evaluate.metrics._seqeval_schemes import SCHEMES, detect_scheme, strict_entities
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


def _typed_entities(sequences, mode, scheme, suffix) -> dict[str, set]:
    """type -> the set of its entities: (start, end) in the joined sequence (lenient), or (sentence, start, end)
    read by ``scheme``'s rules (strict)."""
    if mode == "strict":
        found = [(t, n, s, e) for n, seq in enumerate(sequences) for t, s, e in strict_entities(seq, scheme, suffix)]
    else:
        found = get_entities(_joined(sequences), suffix)
    by_type: dict[str, set] = {}
    for entity in found:
        by_type.setdefault(entity[0], set()).add(entity[1:])
    return by_type


class Seqeval(EvaluationModule):
    name = "seqeval"
    description = "Entity-level precision, recall and F1 of tagged sequences (seqeval's default or strict mode)."

    def _compute(self, predictions, references, suffix=False, scheme=None, mode=None, sample_weight=None,
                 zero_division="warn"):  # fmt: skip
        """``mode="strict"`` reads entities by ``scheme``'s rules (auto-detected from the references when None);
        any other mode is the lenient one, and there ``scheme`` is only checked, as seqeval ignores it.
        ``sample_weight`` is accepted and, as in seqeval 1.2.2, has no effect on these (per-type and micro) scores.
        """
        if scheme is not None and scheme not in SCHEMES:
            raise ValueError(f"Scheme should be one of [IOB1, IOB2, IOE1, IOE2, IOBES, BILOU], got {scheme}")
        predictions, references = [list(p) for p in predictions], [list(r) for r in references]
        if [len(p) for p in predictions] != [len(r) for r in references]:
            bad = next(i for i, (p, r) in enumerate(zip(predictions, references, strict=False)) if len(p) != len(r))
            raise ValueError(f"seqeval: each prediction must have as many tags as its reference (example {bad}: "
                             f"{len(predictions[bad])} predicted, {len(references[bad])} true)")  # fmt: skip
        if mode == "strict" and scheme is None:
            scheme = detect_scheme(references, suffix)
        true, pred = (_typed_entities(seqs, mode, scheme, suffix) for seqs in (references, predictions))
        types = sorted(set(true) | set(pred))
        true_sets, pred_sets = ({t: found.get(t, set()) for t in types} for found in (true, pred))
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

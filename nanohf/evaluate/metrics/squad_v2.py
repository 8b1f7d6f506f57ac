"""squad_v2: SQuAD 2.0 scores with unanswerable questions, as the official v2.0 evaluation script computes them.

    metric = evaluate.load("squad_v2")
    metric.compute(predictions=[{"id": "q1", "prediction_text": "", "no_answer_probability": 0.9}],
                   references=[{"id": "q1", "answers": {"text": [], "answer_start": []}}])
    # {"exact": 100.0, "f1": 100.0, "total": 1, "NoAns_exact": 100.0, ..., "best_f1_thresh": 0.0}

Raw scores, per answered question: its gold answers are those that normalise to something, or [""] if none
(an unanswerable question's only right answer is the empty one); exact / F1 are the best over them
(_squad_answers.py, with v2.0's rule: both empty -> F1 1).
Thresholded: a question whose no_answer_probability > no_answer_threshold is taken as answered "no answer",
scoring 1 if it has no gold answer and 0 if it has one; the others keep their raw scores.
exact / f1 = 100 * mean thresholded score over the answered questions ("total" of them), and the same over
the answerable ones (HasAns_*) and the unanswerable ones (NoAns_*) when there are any.
best_exact / best_f1: the best score any threshold could give. Walking the questions by increasing
no-answer probability, starting from "every question abstains" (= the number of unanswerable questions),
each question in turn switches to its answer: + its raw score if it is answerable, - 1 if it is not and the
prediction is non-empty, + 0 if empty. The highest running total (first reached) / total * 100 is best_*, and
the probability where it was reached best_*_thresh (0.0 if abstaining everywhere is best).
"""

import numpy as np

from nanohf.evaluate.metrics._squad_answers import check_inputs, exact_match, f1, normalize_answer
from nanohf.evaluate.module import EvaluationModule


def raw_scores(answers: dict[str, str], references: list[dict]) -> tuple[dict, dict]:
    """qid -> best exact match, qid -> best F1, for the references that have a prediction (in their order)."""
    exact, f1s = {}, {}
    for reference in references:
        qid = reference["id"]
        golds = [t for t in reference["answers"]["text"] if normalize_answer(t)] or [""]
        if qid in answers:
            exact[qid] = max(exact_match(answers[qid], g) for g in golds)
            f1s[qid] = max(f1(answers[qid], g, v2=True) for g in golds)
    return exact, f1s


def apply_threshold(scores: dict, no_answer_probability: dict, has_answer: dict, threshold: float) -> dict:
    return {qid: float(not has_answer[qid]) if no_answer_probability[qid] > threshold else s
            for qid, s in scores.items()}  # fmt: skip


def mean_scores(exact: dict, f1s: dict, qids: list | None = None) -> dict:
    qids = list(exact) if qids is None else qids
    total = len(qids)
    return {"exact": 100.0 * sum(exact[q] for q in qids) / total, "f1": 100.0 * sum(f1s[q] for q in qids) / total,
            "total": total}  # fmt: skip


def best_threshold(answers: dict, scores: dict, no_answer_probability: dict, has_answer: dict) -> tuple[float, float]:
    """(best score in %, the threshold reaching it) over every threshold (the walk in the module docstring)."""
    current = best = sum(1 for q in has_answer if not has_answer[q])
    best_thresh = 0.0
    for qid in sorted(no_answer_probability, key=lambda q: no_answer_probability[q]):  # stable: ties keep order
        if qid not in scores:
            continue
        current += scores[qid] if has_answer[qid] else (-1 if answers[qid] else 0)
        if current > best:
            best, best_thresh = current, no_answer_probability[qid]
    return 100.0 * best / len(scores), best_thresh


class SquadV2(EvaluationModule):
    name = "squad_v2"
    description = "SQuAD 2.0: exact match and F1 with unanswerable questions and the no-answer threshold."

    def _compute(self, predictions, references, no_answer_threshold: float = 1.0) -> dict:
        check_inputs(self.name, predictions, references, ("id", "prediction_text", "no_answer_probability"))
        # evaluate stores no_answer_probability as an Arrow float32: the thresholds it reports are float32 values
        probability = {p["id"]: float(np.float32(p["no_answer_probability"])) for p in predictions}
        answers = {p["id"]: p["prediction_text"] for p in predictions}
        has_answer = {r["id"]: bool(r["answers"]["text"]) for r in references}
        exact_raw, f1_raw = raw_scores(answers, references)
        if not exact_raw:
            raise ValueError("squad_v2: no prediction has the id of a reference")
        exact = apply_threshold(exact_raw, probability, has_answer, no_answer_threshold)
        f1s = apply_threshold(f1_raw, probability, has_answer, no_answer_threshold)
        result = mean_scores(exact, f1s)
        for prefix, wanted in (("HasAns", True), ("NoAns", False)):
            qids = [q for q, has in has_answer.items() if has == wanted]
            missing = [q for q in qids if q not in exact]
            if qids and missing:
                raise KeyError(f"squad_v2: no prediction for question {missing[0]!r} (the official script fails "
                               f"here too: every reference needs a prediction)")  # fmt: skip
            if qids:
                result.update({f"{prefix}_{k}": v for k, v in mean_scores(exact, f1s, qids).items()})
        result["best_exact"], result["best_exact_thresh"] = best_threshold(answers, exact_raw, probability, has_answer)
        result["best_f1"], result["best_f1_thresh"] = best_threshold(answers, f1_raw, probability, has_answer)
        return result


METRIC = SquadV2

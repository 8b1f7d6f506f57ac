"""squad: SQuAD v1.1 exact match and F1 (0-100), as the official v1.1 evaluation script computes them.

    metric = evaluate.load("squad")
    metric.compute(predictions=[{"id": "q1", "prediction_text": "Denver Broncos"}],
                   references=[{"id": "q1", "answers": {"text": ["Denver Broncos"], "answer_start": [177]}}])
    # {"exact_match": 100.0, "f1": 100.0}

Per question: the best exact match and the best F1 over its gold answers (_squad_answers.py gives both
formulas). exact_match = 100 * sum / number of references, f1 likewise; a reference with no prediction of its
id counts in the denominator and scores 0, as in the official script.
"""

from nanohf.evaluate.metrics._squad_answers import check_inputs, exact_match, f1
from nanohf.evaluate.module import EvaluationModule


class Squad(EvaluationModule):
    name = "squad"
    description = "SQuAD v1.1: exact match and word-overlap F1 of extracted answers (official script)."

    def _compute(self, predictions, references) -> dict:
        check_inputs(self.name, predictions, references, ("id", "prediction_text"))
        answer = {p["id"]: p["prediction_text"] for p in predictions}
        total_em = total_f1 = 0.0
        for reference in references:
            qid, golds = reference["id"], list(reference["answers"]["text"])
            if qid not in answer:
                continue  # unanswered: scores 0, still counted
            if not golds:
                raise ValueError(f"squad: question {qid!r} has no gold answer (SQuAD v1.1 questions always have "
                                 "one; for unanswerable questions use evaluate.load('squad_v2'))")  # fmt: skip
            total_em += max(exact_match(answer[qid], g) for g in golds)
            total_f1 += max(f1(answer[qid], g) for g in golds)
        return {"exact_match": 100.0 * total_em / len(references), "f1": 100.0 * total_f1 / len(references)}


METRIC = Squad

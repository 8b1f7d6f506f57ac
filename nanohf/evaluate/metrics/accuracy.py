"""accuracy: the fraction of predictions equal to their reference (scikit-learn's accuracy_score)."""

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class Accuracy(EvaluationModule):
    name = "accuracy"
    description = "Accuracy = (TP + TN) / (TP + TN + FP + FN): the proportion of correct predictions."

    def _compute(self, predictions, references, normalize=True, sample_weight=None):
        return {"accuracy": float(metrics.accuracy(predictions, references, normalize, sample_weight))}


METRIC = Accuracy

"""f1: 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall (scikit-learn's f1_score).

evaluate's f1 takes no zero_division argument (a 0/0 is 0.0, scikit-learn's "warn")."""

from nanohf.evaluate.metrics._classification import ClassificationScore


class F1(ClassificationScore):
    name = "f1"
    index = 2
    description = "f1 = 2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall."

    def _compute(self, predictions, references, labels=None, pos_label=1, average="binary", sample_weight=None):
        return super()._compute(predictions, references, labels, pos_label, average, sample_weight)


METRIC = F1

"""recall: tp / (tp + fn) (scikit-learn's recall_score)."""

from nanohf.evaluate.metrics._classification import ClassificationScore


class Recall(ClassificationScore):
    name = "recall"
    index = 1
    description = "recall = tp / (tp + fn)."


METRIC = Recall

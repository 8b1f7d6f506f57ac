"""precision: tp / (tp + fp) (scikit-learn's precision_score)."""

from nanohf.evaluate.metrics._classification import ClassificationScore


class Precision(ClassificationScore):
    name = "precision"
    index = 0
    description = "precision = tp / (tp + fp)."


METRIC = Precision

"""matthews_correlation: the correlation between predicted and true classes (scikit-learn's matthews_corrcoef)."""

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class MatthewsCorrelation(EvaluationModule):
    name = "matthews_correlation"
    description = "Matthews correlation coefficient: in [-1, 1], 0 for chance, 1 for perfect predictions."

    def _compute(self, predictions, references, sample_weight=None, average=None):
        if average is not None:
            raise NotImplementedError("matthews_correlation(average=...) is for the 'multilabel' configuration, "
                                      "which nanohf does not have yet")  # fmt: skip
        return {"matthews_correlation": float(metrics.matthews_corrcoef(predictions, references, sample_weight))}


METRIC = MatthewsCorrelation

"""pearsonr: Pearson's correlation coefficient, and its two-sided p-value (scipy.stats.pearsonr)."""

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class Pearsonr(EvaluationModule):
    name = "pearsonr"
    description = "Pearson's r: the linear correlation of predictions and references, in [-1, 1]."

    def _compute(self, predictions, references, return_pvalue=False):
        r = metrics.pearsonr(predictions, references)
        if return_pvalue:
            return {"pearsonr": r, "p-value": metrics.pearsonr_pvalue(r, len(predictions))}
        return {"pearsonr": r}


METRIC = Pearsonr

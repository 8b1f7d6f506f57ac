"""spearmanr: Spearman's rank correlation, and its two-sided p-value (scipy.stats.spearmanr)."""

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class Spearmanr(EvaluationModule):
    name = "spearmanr"
    description = "Spearman's rho: Pearson's r of the ranks (ties averaged), in [-1, 1]."

    def _compute(self, predictions, references, return_pvalue=False):
        rho = metrics.spearmanr(predictions, references)
        if return_pvalue:
            return {"spearmanr": rho, "spearmanr_pvalue": metrics.spearmanr_pvalue(rho, len(predictions))}
        return {"spearmanr": rho}


METRIC = Spearmanr

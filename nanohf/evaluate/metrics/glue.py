"""glue: the metrics of each GLUE task, as evaluate's "glue" reports them (``load("glue", "mrpc")``).

cola -> matthews_correlation; stsb -> pearson and spearmanr; mrpc and qqp -> accuracy and f1; the others
(sst2, mnli, mnli_matched, mnli_mismatched, qnli, rte, wnli, hans) -> accuracy.
"""

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class Glue(EvaluationModule):
    name = "glue"
    configs = metrics.GLUE_TASKS

    def __init__(self, config_name=None, **init_kwargs):
        if config_name not in metrics.GLUE_TASKS:
            raise KeyError(f"You should supply a configuration name selected in {list(metrics.GLUE_TASKS)}")
        super().__init__(config_name, **init_kwargs)

    def _compute(self, predictions, references):
        return metrics.glue_metrics(self.config_name, predictions, references)


METRIC = Glue

"""What the precision, recall and f1 modules share: scikit-learn's arguments, a float or one score per label."""

import numpy as np

from nanohf import metrics
from nanohf.evaluate.module import EvaluationModule


class ClassificationScore(EvaluationModule):
    """``{name: score}``: a float, or an array with one score per label when ``average=None``."""

    index = 0  # which of (precision, recall, f1) precision_recall_f1 returns

    def _compute(self, predictions, references, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):  # fmt: skip
        zero = 0.0 if zero_division == "warn" else float(zero_division)  # "warn": 0.0, as scikit-learn returns
        score = metrics.precision_recall_f1(predictions, references, average, pos_label, labels, sample_weight,
                                            zero)[self.index]  # fmt: skip
        return {self.name: float(score) if np.size(score) == 1 else np.asarray(score)}

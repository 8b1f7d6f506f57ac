"""🤗 evaluate's metric loader, with its names: ``import nanohf.evaluate as evaluate``.

import nanohf.evaluate as evaluate
metric = evaluate.load("glue", "mrpc")          # or "accuracy", "f1", "precision", "recall",
metric.add_batch(predictions=..., references=...)   # "matthews_correlation", "pearsonr", "spearmanr"
metric.compute()                                # {"accuracy": ..., "f1": ...}

module.py       EvaluationModule (add / add_batch / compute) and CombinedEvaluations
loading.py      load, combine, list_evaluation_modules: the registry is the metrics/ folder
metrics/        one module per metric; the math is in nanohf/metrics.py (scikit-learn's and scipy's formulas)
"""

from nanohf.evaluate.loading import combine, list_evaluation_modules, load
from nanohf.evaluate.module import CombinedEvaluations, EvaluationModule

__all__ = ["CombinedEvaluations", "EvaluationModule", "combine", "list_evaluation_modules", "load"]

"""``load(name, config_name)``: a metric by name, from the modules in nanohf/evaluate/metrics/.

The registry is the folder: ``load("accuracy")`` imports ``nanohf.evaluate.metrics.accuracy`` and builds its
``METRIC`` class. A new metric (seqeval, sacrebleu, rouge, squad, ...) is one new module there defining an
``EvaluationModule`` subclass and ``METRIC = ThatClass``. Hub-style names (``"evaluate-metric/accuracy"``)
resolve to the same module; a path to a metric *script* is refused, since nanohf never runs code from a file
it was pointed at.
"""

import importlib
import pkgutil
import re

from nanohf.evaluate import metrics as metrics_package
from nanohf.evaluate.module import CombinedEvaluations, EvaluationModule


def list_evaluation_modules(module_type: str | None = None, include_community: bool = True,
                            with_details: bool = False) -> list:  # fmt: skip
    """The metrics nanohf ships (evaluate lists the hub's; here there is no hub)."""
    names = sorted(info.name for info in pkgutil.iter_modules(metrics_package.__path__) if info.name[0] != "_")
    if module_type not in (None, "metric"):
        return []
    return [{"name": n, "type": "metric", "community": False} for n in names] if with_details else names


def load(path: str, config_name: str | None = None, module_type: str | None = None, process_id: int = 0,
         num_process: int = 1, cache_dir: str | None = None, experiment_id: str | None = None,
         keep_in_memory: bool = False, download_config=None, download_mode=None, revision: str | None = None,
         **init_kwargs) -> EvaluationModule:  # fmt: skip
    """🤗 evaluate's ``load``: ``load("glue", "mrpc")``, ``load("accuracy")``, ``load("f1")``, ...

    process_id / num_process (evaluate's multi-process metric through shared cache files) are not supported:
    gather the predictions on one process first (``Accelerator.gather_for_metrics``).
    """
    if num_process != 1 or process_id != 0:
        raise NotImplementedError(
            "load(num_process=..., process_id=...): nanohf's metrics live in memory; gather "
            "every rank's predictions first (accelerator.gather_for_metrics) and compute once"
        )
    name = str(path)
    if name.startswith("evaluate-metric/"):
        name = name.split("/", 1)[1]
    if name.endswith(".py") or "/" in name or "\\" in name:
        raise ValueError(f"load({path!r}): nanohf does not load metric scripts (it never runs code from a file); "
                         f"its metrics are {list_evaluation_modules()}")  # fmt: skip
    module_name = re.sub(r"[^0-9a-zA-Z_]", "_", name.lower())
    if module_name not in list_evaluation_modules():
        raise FileNotFoundError(f"Couldn't find a module script at {path}. Module '{path}' doesn't exist on the "
                                f"Hugging Face Hub either — and nanohf is offline; its metrics are "
                                f"{list_evaluation_modules()}")  # fmt: skip
    module = importlib.import_module(f"{metrics_package.__name__}.{module_name}")
    if module_type not in (None, module.METRIC.module_type):
        raise ValueError(f"load({path!r}, module_type={module_type!r}): {path} is a {module.METRIC.module_type}")
    return module.METRIC(config_name, **init_kwargs)


def combine(evaluations, force_prefix: bool = False) -> CombinedEvaluations:
    """Several metrics as one: ``combine(["accuracy", "f1"]).compute(predictions=..., references=...)``."""
    if isinstance(evaluations, dict):
        evaluations = list(evaluations.values())
    modules = [load(e) if isinstance(e, str) else e for e in evaluations]
    return CombinedEvaluations(modules, force_prefix=force_prefix)

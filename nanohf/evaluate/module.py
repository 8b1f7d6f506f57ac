"""``EvaluationModule``: 🤗 evaluate's metric object — stored batches, then one ``compute``.

    metric = evaluate.load("glue", "mrpc")
    for batch in eval_dataloader:
        metric.add_batch(predictions=batch_predictions, references=batch["labels"])
    metric.compute()                       # {"accuracy": ..., "f1": ...}, and the stored batches are cleared

A metric is a subclass that names its inputs (``input_names``, usually predictions and references) and
implements ``_compute(predictions=..., references=..., **options)`` on whole arrays. Everything is kept in
memory (evaluate writes Arrow cache files so that several processes can add to one metric; here every rank
gathers its predictions first, e.g. with ``Accelerator.gather_for_metrics``).
"""

import numpy as np


class EvaluationModule:
    """Base class of every metric: ``add`` / ``add_batch`` store inputs, ``compute`` combines them."""

    name: str = ""
    input_names: tuple[str, ...] = ("predictions", "references")
    description: str = ""
    citation: str = ""
    module_type: str = "metric"
    configs: tuple[str | None, ...] = (None, "default")  # the config names load() accepts

    def __init__(self, config_name: str | None = None, **init_kwargs):
        if config_name not in self.configs:
            raise KeyError(f"{self.name}: unknown configuration {config_name!r}; choose one of "
                           f"{[c for c in self.configs if c is not None]}")  # fmt: skip
        if init_kwargs:
            raise TypeError(f"{self.name}: unexpected arguments {sorted(init_kwargs)}")
        self.config_name = "default" if config_name is None else config_name
        self._stored: dict[str, list] = {name: [] for name in self.input_names}

    # --- storing -------------------------------------------------------------------------------------------
    def add_batch(self, **inputs) -> None:
        """Store one batch: each input a sequence (list or array) of the same length."""
        inputs = self._check(inputs, batched=True)
        for name, values in inputs.items():
            self._stored[name].append(values)

    def add(self, **inputs) -> None:
        """Store one example: ``add(prediction=..., reference=...)`` (singular names, as in evaluate)."""
        singular = {name[:-1] if name.endswith("s") else name: name for name in self.input_names}
        unknown = set(inputs) - set(singular)
        if unknown:
            raise ValueError(f"{self.name}.add: unexpected inputs {sorted(unknown)}; expected {sorted(singular)}")
        self.add_batch(**{singular[k]: [v] for k, v in inputs.items()})

    def _check(self, inputs: dict, batched: bool) -> dict:
        missing, unknown = set(self.input_names) - set(inputs), set(inputs) - set(self.input_names)
        if missing or unknown:
            raise ValueError(f"{self.name}: expected inputs {list(self.input_names)}, got {sorted(inputs)}"
                             + (f" (missing {sorted(missing)})" if missing else ""))  # fmt: skip
        checked = {name: self._as_column(values) for name, values in inputs.items()}
        lengths = {name: len(values) for name, values in checked.items()}
        if len(set(lengths.values())) > 1:
            first, *others = self.input_names
            raise ValueError(f"Mismatch in the number of {first} ({lengths[first]}) and "
                             + ", ".join(f"{o} ({lengths[o]})" for o in others))  # fmt: skip
        return checked

    @staticmethod
    def _as_column(values):
        """One input column: an array of one value per example (a list when the values are sequences)."""
        if isinstance(values, np.ndarray):
            return values
        values = list(values)
        if values and isinstance(values[0], (str, list, tuple, dict)):
            return values
        return np.asarray(values)

    # --- computing -----------------------------------------------------------------------------------------
    def compute(self, **kwargs) -> dict:
        """The metric over every stored example (plus the inputs given here); options pass to ``_compute``.
        The stored examples are then forgotten."""
        inputs = {k: kwargs.pop(k) for k in list(kwargs) if k in self.input_names}
        if any(v is not None for v in inputs.values()):
            self.add_batch(**inputs)
        if not self._stored[self.input_names[0]]:
            raise ValueError(
                "Evaluation module cache file doesn't exist. Please make sure that you call `add` or "
                "`add_batch` at least once before calling `compute`."
            )
        columns = {name: _concatenate(parts) for name, parts in self._stored.items()}
        self._stored = {name: [] for name in self.input_names}
        return self._compute(**columns, **kwargs)

    def _compute(self, **inputs) -> dict:
        raise NotImplementedError(f"{type(self).__name__} has no _compute")

    def __len__(self) -> int:
        """How many examples are stored."""
        return sum(len(part) for part in self._stored[self.input_names[0]])

    def __repr__(self) -> str:
        return (f'EvaluationModule(name: "{self.name}", module_type: "{self.module_type}", '
                f"features: {list(self.input_names)})")  # fmt: skip


def _concatenate(parts: list):
    if all(isinstance(p, np.ndarray) for p in parts):
        return np.concatenate([p.reshape(len(p), *p.shape[1:]) for p in parts])
    return [item for part in parts for item in part]


class CombinedEvaluations:
    """Several metrics fed the same inputs, their results merged into one dict (``evaluate.combine``)."""

    def __init__(self, evaluation_modules: list[EvaluationModule], force_prefix: bool = False):
        self.evaluation_modules = evaluation_modules
        self.force_prefix = force_prefix

    def add_batch(self, **inputs) -> None:
        for module in self.evaluation_modules:
            module.add_batch(**{k: v for k, v in inputs.items() if k in module.input_names})

    def add(self, **inputs) -> None:
        for module in self.evaluation_modules:
            module.add(**{k: v for k, v in inputs.items() if f"{k}s" in module.input_names or k in module.input_names})

    def compute(self, **kwargs) -> dict:
        results = {}
        for module in self.evaluation_modules:
            inputs = {k: v for k, v in kwargs.items() if k in module.input_names}
            for key, value in module.compute(**inputs).items():
                if self.force_prefix or key in results:
                    key = f"{module.name}_{key}"
                results[key] = value
        return results

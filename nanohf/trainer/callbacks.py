"""The Trainer's state, the switches callbacks flip, and the callbacks themselves."""

import json
from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass
class TrainerState:
    """Everything about a run's progress; saved as ``trainer_state.json`` in every checkpoint."""

    epoch: float = 0.0
    global_step: int = 0
    max_steps: int = 0
    num_train_epochs: int = 0
    log_history: list[dict] = field(default_factory=list)
    best_metric: float | None = None
    best_model_checkpoint: str | None = None
    train_batch_size: int = 0

    def to_json_string(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "TrainerState":
        return cls(**json.loads(text))


@dataclass
class TrainerControl:
    """Switches set by the Trainer's strategies and by callbacks, read after each step."""

    should_training_stop: bool = False
    should_epoch_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
    should_log: bool = False


class TrainerCallback:
    """Override any hook; each gets ``(args, state, control, **kwargs)`` and may flip ``control``."""

    def on_train_begin(self, args, state, control, **kwargs): ...
    def on_epoch_end(self, args, state, control, **kwargs): ...
    def on_step_end(self, args, state, control, **kwargs): ...
    def on_evaluate(self, args, state, control, metrics=None, **kwargs): ...
    def on_log(self, args, state, control, logs=None, **kwargs): ...
    def on_save(self, args, state, control, **kwargs): ...
    def on_train_end(self, args, state, control, **kwargs): ...


class EarlyStoppingCallback(TrainerCallback):
    """Stop when ``metric_for_best_model`` has not improved (by more than the threshold) for
    ``early_stopping_patience`` evaluations in a row."""

    def __init__(self, early_stopping_patience: int = 1, early_stopping_threshold: float = 0.0):
        self.early_stopping_patience = early_stopping_patience
        self.early_stopping_threshold = early_stopping_threshold
        self.patience_counter = 0

    def on_train_begin(self, args, state, control, **kwargs):
        if not args.load_best_model_at_end or args.metric_for_best_model is None:
            raise ValueError("EarlyStoppingCallback needs load_best_model_at_end=True and metric_for_best_model")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        name = args.metric_for_best_model
        key = name if name.startswith("eval_") else f"eval_{name}"
        value = metrics.get(key)
        if value is None:
            return
        better = np.greater if args.greater_is_better else np.less
        if state.best_metric is None or (
            better(value, state.best_metric) and abs(value - state.best_metric) > self.early_stopping_threshold
        ):
            self.patience_counter = 0
        else:
            self.patience_counter += 1
        if self.patience_counter >= self.early_stopping_patience:
            control.should_training_stop = True

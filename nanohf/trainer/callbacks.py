"""The Trainer's state, the switches callbacks flip, and the callbacks themselves."""

import json
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from nanohf.models.hub import write_atomically


@dataclass
class TrainerState:
    """Everything about a run's progress; saved as ``trainer_state.json`` in every checkpoint."""

    epoch: float = 0.0
    global_step: int = 0
    max_steps: int = 0
    logging_steps: int = 500
    eval_steps: int = 500
    save_steps: int = 500
    train_batch_size: int | None = None
    num_train_epochs: int = 0
    num_input_tokens_seen: int = 0
    total_flos: float = 0  # nanohf does not count FLOPs: stays 0
    log_history: list[dict] = field(default_factory=list)
    best_metric: float | None = None
    best_global_step: int | None = None
    best_model_checkpoint: str | None = None
    is_local_process_zero: bool = True
    is_world_process_zero: bool = True
    is_hyper_param_search: bool = False  # no hyperparameter search in nanohf: stays False
    trial_name: str | None = None
    trial_params: dict | None = None
    stateful_callbacks: list | None = None  # nanohf's checkpoints keep no callback states

    def to_json_string(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "TrainerState":
        """A state from ``trainer_state.json``; fields another version wrote and this one lacks are left out."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in json.loads(text).items() if k in known})

    def save_to_json(self, json_path) -> None:
        path = Path(json_path)
        write_atomically(path, self.to_json_string().encode("utf-8"))  # a crash never leaves half a file

    @classmethod
    def load_from_json(cls, json_path) -> "TrainerState":
        """The state in ``json_path``, every field checked (errors name the file and the key)."""
        from nanohf.trainer.state_files import load_trainer_state

        return load_trainer_state(Path(json_path), cls)


@dataclass
class TrainerControl:
    """Switches set by the Trainer's strategies and by callbacks, read after each step."""

    should_training_stop: bool = False
    should_epoch_stop: bool = False
    should_save: bool = False
    should_evaluate: bool = False
    should_log: bool = False


class TrainerCallback:
    """Override any hook; each gets ``(args, state, control, **kwargs)`` and may flip ``control`` (or return a
    TrainerControl, which then replaces it). kwargs: model, processing_class, optimizer, lr_scheduler,
    train_dataloader, eval_dataloader, and metrics / logs where named."""

    def on_init_end(self, args, state, control, **kwargs): ...
    def on_train_begin(self, args, state, control, **kwargs): ...
    def on_train_end(self, args, state, control, **kwargs): ...
    def on_epoch_begin(self, args, state, control, **kwargs): ...
    def on_epoch_end(self, args, state, control, **kwargs): ...
    def on_step_begin(self, args, state, control, **kwargs): ...
    def on_pre_optimizer_step(self, args, state, control, **kwargs): ...
    def on_optimizer_step(self, args, state, control, **kwargs): ...
    def on_substep_end(self, args, state, control, **kwargs): ...
    def on_step_end(self, args, state, control, **kwargs): ...
    def on_evaluate(self, args, state, control, metrics=None, **kwargs): ...
    def on_predict(self, args, state, control, metrics=None, **kwargs): ...
    def on_save(self, args, state, control, **kwargs): ...
    def on_log(self, args, state, control, logs=None, **kwargs): ...
    def on_prediction_step(self, args, state, control, **kwargs): ...


class CallbackHandler:
    """The Trainer's callbacks, in order: ``add_callback`` / ``pop_callback`` / ``remove_callback`` take a
    callback instance or a class (a class is instantiated on add; on pop/remove, its first instance goes)."""

    def __init__(self, callbacks=None):
        self.callbacks: list[TrainerCallback] = []
        for callback in callbacks or []:
            self.add_callback(callback)

    def add_callback(self, callback) -> None:
        instance = callback() if isinstance(callback, type) else callback
        cls = type(instance)
        if any(type(c) is cls for c in self.callbacks):
            message = (f"You are adding a {cls.__name__} to the callbacks of this Trainer, but there is already one. "
                       f"The current list of callbacks is: {self.callback_list}")  # fmt: skip
            warnings.warn(message, UserWarning, stacklevel=3)
        self.callbacks.append(instance)

    def pop_callback(self, callback) -> TrainerCallback | None:
        for c in self.callbacks:
            if (isinstance(callback, type) and isinstance(c, callback)) or c is callback:
                self.callbacks.remove(c)
                return c
        return None

    def remove_callback(self, callback) -> None:
        self.pop_callback(callback)

    @property
    def callback_list(self) -> str:
        return "\n".join(type(c).__name__ for c in self.callbacks)

    def call_event(self, event: str, args, state, control, **kwargs) -> "TrainerControl":
        for callback in self.callbacks:
            result = getattr(callback, event)(args, state, control, **kwargs)
            if result is not None:  # a callback may hand back a (new) control
                control = result
        return control


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
        if args.eval_strategy == "no":
            raise ValueError("EarlyStoppingCallback needs an eval_strategy of steps or epoch: it reacts to evaluations")

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

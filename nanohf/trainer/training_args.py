"""TrainingArguments: every knob of a training run, with transformers' names and defaults."""

import json
import math
from dataclasses import asdict, dataclass, field

STRATEGIES = ("no", "steps", "epoch")


@dataclass
class TrainingArguments:
    output_dir: str = "trainer_output"
    num_train_epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides num_train_epochs
    per_device_train_batch_size: int = 8
    per_device_eval_batch_size: int = 8
    learning_rate: float = 5e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    lr_scheduler_type: str = "linear"
    warmup_steps: float = 0  # an int number of steps, or a float in [0, 1): a fraction of all steps
    warmup_ratio: float | None = None  # older spelling of a fractional warmup_steps
    gradient_accumulation_steps: int = 1
    eval_strategy: str = "no"
    eval_steps: float | None = None  # with eval_strategy="steps", defaults to logging_steps
    logging_strategy: str = "steps"
    logging_steps: float = 500
    logging_first_step: bool = False
    save_strategy: str = "steps"
    save_steps: float = 500
    save_total_limit: int | None = None
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    seed: int = 42
    remove_unused_columns: bool = True
    label_names: list[str] | None = None
    disable_tqdm: bool = False
    report_to: str | list[str] = "none"
    dataloader_drop_last: bool = False
    group_by_length: bool = False  # batches of similar-length examples: less padding, faster steps
    extra: dict = field(default_factory=dict)  # room for settings nanohf does not use

    def __post_init__(self):
        for name in ("eval_strategy", "save_strategy", "logging_strategy"):
            value = str(getattr(self, name)).lower()
            if value not in STRATEGIES:
                raise ValueError(f"{name} must be one of {STRATEGIES}, got {getattr(self, name)!r}")
            setattr(self, name, value)
        if self.eval_strategy == "steps" and not self.eval_steps:
            self.eval_steps = self.logging_steps  # as transformers: only a step strategy needs it
        if self.load_best_model_at_end:
            if self.eval_strategy == "no":
                raise ValueError("load_best_model_at_end needs an eval_strategy ('steps' or 'epoch')")
            if self.save_strategy != self.eval_strategy:
                raise ValueError(
                    f"load_best_model_at_end needs save_strategy == eval_strategy, got {self.save_strategy!r} "
                    f"and {self.eval_strategy!r}"
                )
            if self.metric_for_best_model is None:
                self.metric_for_best_model = "loss"
        if self.greater_is_better is None and self.metric_for_best_model is not None:
            self.greater_is_better = not self.metric_for_best_model.endswith("loss")
        if self.gradient_accumulation_steps < 1:
            raise ValueError("gradient_accumulation_steps must be >= 1")

    def get_warmup_steps(self, num_training_steps: int) -> int:
        """Warmup as a number of optimizer steps (a fraction < 1 is a share of the whole run)."""
        warmup = self.warmup_ratio if self.warmup_ratio and not self.warmup_steps else self.warmup_steps
        return int(warmup) if warmup >= 1 else math.ceil(num_training_steps * warmup)

    def steps_from(self, value: float, total: int) -> int:
        """``logging_steps`` and friends: an int, or a float < 1 meaning a fraction of all steps."""
        return max(1, int(value) if value >= 1 else math.ceil(total * value))

    def to_json_string(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

"""The ``set_*`` helpers of TrainingArguments: set a group of related parameters at once, return ``self``.

    args = TrainingArguments("out").set_training(learning_rate=1e-4, batch_size=32).set_save(strategy="no")

Each takes transformers' argument names and defaults; the values go through the same checks as in
``TrainingArguments(...)`` (a bad strategy name fails here, not later in ``train()``).
"""

import warnings

from nanohf.trainer import args_support as support


def _check_steps(strategy: str, steps) -> None:
    if strategy == "steps" and steps == 0:
        raise ValueError("Setting `strategy` as 'steps' requires a positive value for `steps`.")


class TrainingArgumentsSetters:
    """Mixed into TrainingArguments (kept apart so that the dataclass reads as the list of parameters)."""

    def set_training(self, learning_rate: float = 5e-5, batch_size: int = 8, weight_decay: float = 0,
                     num_epochs: float = 3, max_steps: int = -1, gradient_accumulation_steps: int = 1, seed: int = 42,
                     activation_checkpointing: bool = False, gradient_checkpointing: bool | None = None):  # fmt: skip
        """The basic training settings; also sets ``do_train=True``."""
        self.do_train = True
        self.learning_rate = learning_rate
        self.per_device_train_batch_size = batch_size
        self.weight_decay = weight_decay
        self.num_train_epochs = num_epochs
        self.max_steps = max_steps
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.seed = seed
        if gradient_checkpointing is not None:
            warnings.warn(
                "`gradient_checkpointing` is deprecated and will be removed in v6. Use `activation_checkpointing` "
                "instead.",
                FutureWarning,
                stacklevel=2,
            )
            activation_checkpointing = gradient_checkpointing
        self.activation_checkpointing = self.gradient_checkpointing = activation_checkpointing
        return self

    def set_evaluate(self, strategy: str = "no", steps: int = 500, batch_size: int = 8,
                     accumulation_steps: int | None = None, delay: float | None = None,
                     loss_only: bool = False):  # fmt: skip
        """Evaluation during training; a strategy other than "no" sets ``do_eval=True``."""
        self.eval_strategy = support.check_choice("eval_strategy", strategy, support.CHOICES["eval_strategy"])
        _check_steps(self.eval_strategy, steps)
        self.do_eval = self.eval_strategy != "no"
        self.eval_steps = steps
        self.per_device_eval_batch_size = batch_size
        self.eval_accumulation_steps = accumulation_steps
        self.eval_delay = delay
        self.prediction_loss_only = loss_only
        return self

    def set_testing(self, batch_size: int = 8, loss_only: bool = False):
        """Prediction on a held-out set; sets ``do_predict=True``."""
        self.do_predict = True
        self.per_device_eval_batch_size = batch_size
        self.prediction_loss_only = loss_only
        return self

    def set_save(self, strategy: str = "steps", steps: int = 500, total_limit: int | None = None,
                 on_each_node: bool = False):  # fmt: skip
        """Checkpoint saving."""
        self.save_strategy = support.check_choice("save_strategy", strategy, support.CHOICES["save_strategy"])
        _check_steps(self.save_strategy, steps)
        self.save_steps = steps
        self.save_total_limit = total_limit
        self.save_on_each_node = on_each_node
        return self

    def set_logging(self, strategy: str = "steps", steps: int = 500, report_to: str | list[str] = "none",
                    level: str = "passive", first_step: bool = False, nan_inf_filter: bool = False,
                    on_each_node: bool = False, replica_level: str = "passive"):  # fmt: skip
        """Logging; ``report_to`` is normalised (and checked) as in ``TrainingArguments(...)``."""
        self.logging_strategy = support.check_choice("logging_strategy", strategy, support.CHOICES["logging_strategy"])
        _check_steps(self.logging_strategy, steps)
        for name, value in (("level", level), ("replica_level", replica_level)):
            if value not in support.LOG_LEVELS:
                raise ValueError(f"{name} must be one of {list(support.LOG_LEVELS)}, got {value!r}")
        self.logging_steps = steps
        self.report_to = support.normalize_report_to(report_to)
        self.log_level = level
        self.logging_first_step = first_step
        self.logging_nan_inf_filter = nan_inf_filter
        self.log_on_each_node = on_each_node
        self.log_level_replica = replica_level
        return self

    def set_push_to_hub(self, model_id: str, strategy: str = "every_save", token: str | None = None,
                        private_repo: bool | None = None, always_push: bool = False,
                        revision: str | None = None):  # fmt: skip
        """Hub synchronisation: sets ``push_to_hub=True``, which ``Trainer(...)`` then refuses (nanohf is offline)."""
        self.push_to_hub = True
        self.hub_model_id = model_id
        self.hub_strategy = support.check_choice("hub_strategy", strategy, support.CHOICES["hub_strategy"])
        self.hub_token = token
        self.hub_private_repo = private_repo
        self.hub_always_push = always_push
        self.hub_revision = revision
        return self

    def set_optimizer(self, name: str = "adamw_torch", learning_rate: float = 5e-5, weight_decay: float = 0,
                      beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8,
                      args: str | None = None):  # fmt: skip
        """The optimizer and its hyperparameters (``args``: ``optim_args``, e.g. "momentum=0.9" for sgd)."""
        self.optim = support.check_choice("optim", name, support.CHOICES["optim"])
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.adam_beta1 = beta1
        self.adam_beta2 = beta2
        self.adam_epsilon = epsilon
        self.optim_args = args
        return self

    def set_lr_scheduler(self, name: str = "linear", num_epochs: float = 3.0, max_steps: int = -1,
                         warmup_steps: float = 0):  # fmt: skip
        """The learning-rate schedule and the run's length."""
        self.lr_scheduler_type = support.check_choice("lr_scheduler_type", name, support.CHOICES["lr_scheduler_type"])
        self.num_train_epochs = num_epochs
        self.max_steps = max_steps
        self.warmup_steps = warmup_steps
        return self

    def set_dataloader(self, train_batch_size: int = 8, eval_batch_size: int = 8, drop_last: bool = False,
                       num_workers: int = 0, pin_memory: bool = True, persistent_workers: bool = False,
                       prefetch_factor: int | None = None, multiprocessing_context: str | None = None,
                       in_order: bool = True, auto_find_batch_size: bool = False, ignore_data_skip: bool = False,
                       sampler_seed: int | None = None):  # fmt: skip
        """Batching; ``sampler_seed`` is ``data_seed``, the shuffling seed."""
        self.per_device_train_batch_size = train_batch_size
        self.per_device_eval_batch_size = eval_batch_size
        self.dataloader_drop_last = drop_last
        self.dataloader_num_workers = num_workers
        self.dataloader_pin_memory = pin_memory
        self.dataloader_persistent_workers = persistent_workers
        self.dataloader_prefetch_factor = prefetch_factor
        self.dataloader_multiprocessing_context = multiprocessing_context
        self.dataloader_in_order = in_order
        self.auto_find_batch_size = auto_find_batch_size
        self.ignore_data_skip = ignore_data_skip
        self.data_seed = sampler_seed
        return self

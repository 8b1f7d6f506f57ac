"""TrainingArguments: every knob of a training run, with transformers 5's names, defaults and checks.

All 114 parameters of ``transformers.TrainingArguments`` are accepted, in the same order with the same
defaults (tests/test_training_args.py compares the two signatures). What each one does here is in
``nanohf/trainer/args_support.py`` and docs/data-and-trainer.md: most drive the CPU training loop; the
GPU-, hub- and torch-only ones fail where transformers fails on a CPU-only machine without internet (the
same error at the same moment), or warn once at ``Trainer(...)`` that they change nothing here.

    args = TrainingArguments("out", eval_strategy="epoch", learning_rate=2e-5, weight_decay=0.01)
    args.set_logging(strategy="steps", steps=10).set_save(strategy="no")
"""

import contextlib
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass, field, fields
from typing import Any

from nanohf.trainer import args_support as support
from nanohf.trainer.args_setters import TrainingArgumentsSetters

logger = logging.getLogger("nanohf")


@dataclass(repr=False)
class TrainingArguments(TrainingArgumentsSetters):
    # --- where, how long, how fast ----------------------------------------------------------------------
    output_dir: str | None = None  # None -> "trainer_output"
    per_device_train_batch_size: int = 8
    num_train_epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides num_train_epochs
    learning_rate: float = 5e-5
    lr_scheduler_type: str = "linear"
    lr_scheduler_kwargs: dict | str | None = None  # e.g. {"num_cycles": 2} for cosine_with_restarts
    warmup_steps: float = 0  # an int number of steps, or a float in [0, 1): a fraction of all steps
    optim: str = "adamw_torch_fused"  # adamw_torch(_fused) -> nanohf.AdamW, sgd -> nanohf.SGD
    optim_args: str | None = None  # "momentum=0.9,nesterov=True" for sgd
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    optim_target_modules: str | list[str] | None = None
    gradient_accumulation_steps: int = 1
    average_tokens_across_devices: bool = True
    max_grad_norm: float = 1.0
    label_smoothing_factor: float = 0.0
    # --- precision, memory and compilation (GPU/torch features: see args_support) -------------------------
    bf16: bool = False
    fp16: bool = False
    bf16_full_eval: bool = False
    fp16_full_eval: bool = False
    tf32: bool | None = None
    activation_checkpointing: bool | None = None
    activation_checkpointing_kwargs: dict | str | None = None
    gradient_checkpointing: bool | None = None  # deprecated alias of activation_checkpointing
    gradient_checkpointing_kwargs: dict | str | None = None
    torch_compile: bool = False
    torch_compile_backend: str | None = None
    torch_compile_mode: str | None = None
    use_liger_kernel: bool = False
    liger_kernel_config: dict | None = None
    use_cache: bool = False
    neftune_noise_alpha: float | None = None
    torch_empty_cache_steps: int | None = None
    auto_find_batch_size: bool = False
    # --- logging ---------------------------------------------------------------------------------------
    logging_strategy: str = "steps"
    logging_steps: float = 500
    logging_first_step: bool = False
    log_on_each_node: bool = True
    logging_nan_inf_filter: bool = True
    include_num_input_tokens_seen: str | bool = "no"  # "all", "non_padding" or "no"
    log_level: str = "passive"
    log_level_replica: str = "warning"
    disable_tqdm: bool | None = None  # None -> True when the "nanohf" logger is quieter than WARNING
    report_to: str | list[str] | None = "none"
    run_name: str | None = None
    project: str = "huggingface"
    trackio_space_id: str | None = None
    trackio_bucket_id: str | None = None
    trackio_static_space_id: str | None = None
    # --- evaluation ------------------------------------------------------------------------------------
    eval_strategy: str = "no"
    eval_steps: float | None = None  # with eval_strategy="steps", defaults to logging_steps
    eval_delay: float = 0
    per_device_eval_batch_size: int = 8
    prediction_loss_only: bool = False
    eval_on_start: bool = False
    eval_do_concat_batches: bool = True
    eval_use_gather_object: bool = False
    eval_accumulation_steps: int | None = None
    include_for_metrics: list[str] = field(default_factory=list)  # "inputs" and/or "loss"
    batch_eval_metrics: bool = False
    # --- checkpoints -----------------------------------------------------------------------------------
    save_only_model: bool = False
    save_strategy: str = "steps"
    save_steps: float = 500
    save_on_each_node: bool = False
    save_total_limit: int | None = None
    enable_jit_checkpoint: bool = False
    push_to_hub: bool = False
    hub_token: str | None = None
    hub_private_repo: bool | None = None
    hub_model_id: str | None = None
    hub_strategy: str = "every_save"
    hub_always_push: bool = False
    hub_revision: str | None = None
    load_best_model_at_end: bool = False
    metric_for_best_model: str | None = None
    greater_is_better: bool | None = None
    ignore_data_skip: bool = False
    restore_callback_states_from_checkpoint: bool = False
    # --- randomness and devices --------------------------------------------------------------------------
    full_determinism: bool = False
    seed: int = 42
    data_seed: int | None = None  # the shuffling seed, when it should differ from `seed`
    use_cpu: bool = False
    accelerator_config: dict | str | None = None
    parallelism_config: Any = None
    # --- data loading ----------------------------------------------------------------------------------
    dataloader_drop_last: bool = False
    dataloader_num_workers: int = 0
    dataloader_pin_memory: bool = True
    dataloader_persistent_workers: bool = False
    dataloader_prefetch_factor: int | None = None
    dataloader_multiprocessing_context: str | None = None
    dataloader_in_order: bool = True
    remove_unused_columns: bool = True
    label_names: list[str] | None = None
    train_sampling_strategy: str = "random"  # "random", "sequential" or "group_by_length"
    length_column_name: str = "length"
    # --- distributed (nanohf's is MPI, see nanohf.distributed) --------------------------------------------
    ddp_find_unused_parameters: bool | None = None
    ddp_bucket_cap_mb: int | None = None
    ddp_broadcast_buffers: bool | None = None
    ddp_static_graph: bool | None = None
    ddp_backend: str | None = None
    ddp_timeout: int = 1800
    fsdp: Any = None
    fsdp_config: dict | str | None = None
    deepspeed: dict | str | None = None
    debug: str | list[str] = ""
    skip_memory_metrics: bool = True
    # --- for scripts (the Trainer itself does not read them, as in transformers) -------------------------
    do_train: bool = False
    do_eval: bool = False
    do_predict: bool = False
    resume_from_checkpoint: str | None = None
    local_rank: int = -1
    # --- nanohf's older spellings (not transformers 5 parameters) -----------------------------------------
    warmup_ratio: float | None = None  # transformers 4's fractional warmup; warmup_steps < 1 is the same
    group_by_length: bool = False  # transformers 4's spelling of train_sampling_strategy="group_by_length"

    def __post_init__(self):
        if self.output_dir is None:
            self.output_dir = "trainer_output"
        self.output_dir = os.path.expanduser(str(self.output_dir))
        for name in support.DICT_FIELDS:  # a JSON string from a command line becomes a dict
            value = getattr(self, name)
            if isinstance(value, str) and value.startswith("{"):
                setattr(self, name, json.loads(value))
        for old, new in (("gradient_checkpointing", "activation_checkpointing"),
                         ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs")):  # fmt: skip
            if getattr(self, new) is None and getattr(self, old) is not None:
                warnings.warn(
                    f"`{old}` is deprecated and will be removed in v6. Use `{new}` instead.",
                    FutureWarning,
                    stacklevel=3,
                )
                setattr(self, new, getattr(self, old))
            setattr(self, old, getattr(self, new))
        if self.activation_checkpointing is None:
            self.activation_checkpointing = self.gradient_checkpointing = False
        if self.disable_tqdm is None:
            self.disable_tqdm = logger.getEffectiveLevel() > logging.WARNING
        if isinstance(self.include_num_input_tokens_seen, bool):
            self.include_num_input_tokens_seen = "all" if self.include_num_input_tokens_seen else "no"
        if self.group_by_length:
            self.train_sampling_strategy = "group_by_length"
        # Named choices, checked as transformers' enums check them (the same messages).
        for name, choices in support.CHOICES.items():
            setattr(self, name, support.check_choice(name, getattr(self, name), choices))
        if isinstance(self.debug, str):
            self.debug = self.debug.split()
        elif self.debug is None:
            self.debug = []
        for option in self.debug:
            support.check_choice("debug", option, support.DEBUG_OPTIONS)
        for name in ("log_level", "log_level_replica"):
            if getattr(self, name) not in support.LOG_LEVELS:
                raise ValueError(f"{name} must be one of {list(support.LOG_LEVELS)}, got {getattr(self, name)!r}")

        if not self.do_eval and self.eval_strategy != "no":
            self.do_eval = True
        if self.eval_strategy == "steps" and not self.eval_steps:
            if self.logging_steps > 0:
                self.eval_steps = self.logging_steps  # only a step strategy needs it
            else:
                raise ValueError(
                    f"evaluation strategy {self.eval_strategy} requires either non-zero --eval_steps or --logging_steps"
                )
        if self.metric_for_best_model is None and (
            self.load_best_model_at_end or self.lr_scheduler_type in ("reduce_lr_on_plateau", "greedy")
        ):
            self.metric_for_best_model = "loss"
        if self.greater_is_better is None and self.metric_for_best_model is not None:
            self.greater_is_better = not self.metric_for_best_model.endswith("loss")
        self.report_to = support.normalize_report_to(self.report_to)
        if self.torch_compile_mode is not None or self.torch_compile_backend is not None:
            self.torch_compile = True
        if self.torch_compile and self.torch_compile_backend is None:
            self.torch_compile_backend = "inductor"
        if self.use_cpu:
            self.dataloader_pin_memory = False
        support.validate(self)  # value checks, and what fails here as it fails in transformers on a CPU
        self.mixed_precision = "fp16" if self.fp16 else "bf16" if self.bf16 else "no"

    # --- derived values --------------------------------------------------------------------------------
    def __str__(self) -> str:
        shown = {k: f"<{k.upper()}>" if k.endswith("_token") else v for k, v in self.to_dict().items()}
        return f"{type(self).__name__}(\n" + "".join(f"{k}={v},\n" for k, v in sorted(shown.items())) + ")"

    __repr__ = __str__

    @property
    def train_batch_size(self) -> int:
        """Examples per training step of this process (no GPUs: the per-device size)."""
        return self.per_device_train_batch_size

    @property
    def eval_batch_size(self) -> int:
        return self.per_device_eval_batch_size

    @property
    def n_gpu(self) -> int:
        return 0

    @property
    def device(self) -> str:
        """Always "cpu": nanohf computes with NumPy."""
        return "cpu"

    @property
    def world_size(self) -> int:
        """Processes of the run: 1, or the MPI world's size under ``mpiexec`` (nanohf.distributed)."""
        from nanohf import distributed

        return distributed.get_world().size

    @property
    def process_index(self) -> int:
        from nanohf import distributed

        return distributed.get_world().rank

    @property
    def local_process_index(self) -> int:
        """This process's rank on its own machine (as the MPI launcher reports it; else the world rank)."""
        for name in ("OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"):
            if name in os.environ:
                return int(os.environ[name])
        return self.process_index

    @property
    def should_log(self) -> bool:
        """Whether this process logs: the main process of each machine (log_on_each_node) or of the run."""
        return (self.local_process_index if self.log_on_each_node else self.process_index) == 0

    @property
    def should_save(self) -> bool:
        """Whether this process writes checkpoints: the main process of each machine (save_on_each_node) or of
        the run."""
        return (self.local_process_index if self.save_on_each_node else self.process_index) == 0

    def get_process_log_level(self) -> int:
        """The logging level of this process: ``log_level`` on the logging process, ``log_level_replica`` on the
        others; "passive" keeps the "nanohf" logger's current level."""
        level = support.LOG_LEVELS[self.log_level if self.should_log else self.log_level_replica]
        return logging.getLogger("nanohf").getEffectiveLevel() if level == -1 else level

    @contextlib.contextmanager
    def main_process_first(self, local: bool = True, desc: str = "work"):
        """``with args.main_process_first(): dataset.map(...)``: rank 0 does the work (and fills the cache), then
        the others run the block. One process: just runs it."""
        from nanohf import distributed

        first = (self.local_process_index if local else self.process_index) == 0
        if self.world_size > 1 and not first:
            distributed.barrier(f"waiting for the main process to do {desc}")
        try:
            yield
        finally:
            if self.world_size > 1 and first:
                distributed.barrier(f"the main process did {desc}")

    def get_warmup_steps(self, num_training_steps: int) -> int:
        """Warmup as a number of optimizer steps (a fraction < 1 is a share of the whole run)."""
        warmup = self.warmup_ratio if self.warmup_ratio and not self.warmup_steps else self.warmup_steps
        return int(warmup) if warmup >= 1 else math.ceil(num_training_steps * warmup)

    def steps_from(self, value: float, total: int) -> int:
        """``logging_steps`` and friends: an int, or a float < 1 meaning a fraction of all steps."""
        return max(1, int(value) if value >= 1 else math.ceil(total * value))

    # --- serialisation ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every parameter by name, JSON-ready; ``*_token`` values are masked (never written to disk)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = f"<{f.name.upper()}>" if f.name.endswith("_token") else value
        return out

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def to_sanitized_dict(self) -> dict:
        """``to_dict`` with the batch sizes, every value a bool/int/float/str (for hyperparameter loggers)."""
        d = {**self.to_dict(), "train_batch_size": self.train_batch_size, "eval_batch_size": self.eval_batch_size}
        return {k: v if type(v) in (bool, int, float, str) else str(v) for k, v in d.items()}

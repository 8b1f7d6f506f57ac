"""What each TrainingArguments parameter means on nanohf: implemented, refused (and when), or without effect.

transformers 5 accepts 114 parameters; some only mean something with a GPU, torch, the Hugging Face Hub or
an experiment tracker. nanohf takes them all, and for each of those it does one of three things:

- **the same error at the same moment** as transformers on a CPU-only machine with no internet: e.g.
  ``bf16=True`` without ``use_cpu`` and ``tf32=True`` fail in ``TrainingArguments(...)``, ``push_to_hub=True``
  and ``report_to="wandb"`` (without the package) fail in ``Trainer(...)``, an 8-bit optimizer fails in
  ``train()``; nanohf's message also says why it cannot work here (``REFUSED`` below);
- **a warning at ``Trainer(...)``** when a parameter that changes nothing here is set to a non-default value
  (``NO_EFFECT``): transformers runs such a script on a CPU (``fp16=True`` trains, in float32 here), so
  nanohf runs it too, and says which settings it did not apply;
- otherwise the parameter is implemented (see docs/data-and-trainer.md).
"""

import functools
import warnings

# --- named choices: the values of transformers' enums, with their names for the error message --------------
INTERVALS = ["no", "steps", "epoch"]
SCHEDULERS = ["linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup",
              "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "cosine_warmup_with_min_lr",
              "warmup_stable_decay", "greedy"]  # fmt: skip
OPTIMIZERS = [
    "adamw_torch", "adamw_torch_fused", "adamw_torch_xla", "adamw_torch_npu_fused", "adafactor", "adamw_anyprecision",
    "adamw_torch_4bit", "adamw_torch_8bit", "ademamix", "sgd", "adagrad", "adamw_bnb_8bit", "adamw_8bit",
    "ademamix_8bit", "lion_8bit", "lion_32bit", "paged_adamw_32bit", "paged_adamw_8bit", "paged_ademamix_32bit",
    "paged_ademamix_8bit", "paged_lion_32bit", "paged_lion_8bit", "rmsprop", "rmsprop_bnb", "rmsprop_bnb_8bit",
    "rmsprop_bnb_32bit", "galore_adamw", "galore_adamw_8bit", "galore_adafactor", "galore_adamw_layerwise",
    "galore_adamw_8bit_layerwise", "galore_adafactor_layerwise", "lomo", "adalomo", "grokadamw",
    "schedule_free_radam", "schedule_free_adamw", "schedule_free_sgd", "apollo_adamw", "apollo_adamw_layerwise",
    "stable_adamw",
]  # fmt: skip
CHOICES = {  # field: (transformers' enum name, its values)
    "eval_strategy": ("IntervalStrategy", INTERVALS),
    "logging_strategy": ("IntervalStrategy", INTERVALS),
    "save_strategy": ("SaveStrategy", [*INTERVALS, "best"]),
    "hub_strategy": ("HubStrategy", ["end", "every_save", "checkpoint", "all_checkpoints"]),
    "lr_scheduler_type": ("SchedulerType", SCHEDULERS),
    "optim": ("OptimizerNames", OPTIMIZERS),
    # transformers does not check these two; a typo would silently mean "random" / "no" there.
    "train_sampling_strategy": ("train_sampling_strategy", ["random", "sequential", "group_by_length"]),
    "include_num_input_tokens_seen": ("include_num_input_tokens_seen", ["no", "all", "non_padding"]),
}
DEBUG_OPTIONS = ("DebugOption", ["underflow_overflow", "tpu_metrics_debug"])
LOG_LEVELS = {"detail": 10, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50, "passive": -1}
DICT_FIELDS = ["accelerator_config", "fsdp_config", "deepspeed", "activation_checkpointing_kwargs",
               "gradient_checkpointing_kwargs", "lr_scheduler_kwargs"]  # fmt: skip
# The experiment trackers transformers can report to; nanohf has none of them.
INTEGRATIONS = ["azure_ml", "comet_ml", "mlflow", "neptune", "tensorboard", "trackio", "wandb", "codecarbon",
                "clearml", "dagshub", "flyte", "dvclive", "swanlab", "kubeflow"]  # fmt: skip

# nanohf's optimizers for transformers' optimizer names; every other name is refused by create_optimizer.
SUPPORTED_OPTIMIZERS = {"adamw_torch": "AdamW", "adamw_torch_fused": "AdamW", "sgd": "SGD"}

# Accepted, but nothing to do on nanohf: warned about at Trainer(...) when set to a non-default value.
NO_EFFECT = {
    "fp16": "nanohf trains in float32 (mixed precision needs a GPU's half-precision units)",
    "bf16": "nanohf trains in float32 (mixed precision needs a GPU's half-precision units)",
    "fp16_full_eval": "nanohf evaluates in float32",
    "bf16_full_eval": "nanohf evaluates in float32",
    "activation_checkpointing": "nanohf's layers keep their activations for the hand-written backward",
    "activation_checkpointing_kwargs": "nanohf's layers keep their activations for the hand-written backward",
    "gradient_checkpointing": "the deprecated alias of activation_checkpointing",
    "gradient_checkpointing_kwargs": "the deprecated alias of activation_checkpointing_kwargs",
    "torch_compile": "nanohf's kernels are compiled by Numba already; there is no torch model to compile",
    "torch_compile_backend": "nanohf's kernels are compiled by Numba already",
    "torch_compile_mode": "nanohf's kernels are compiled by Numba already",
    "liger_kernel_config": "Liger kernels are Triton GPU kernels",
    "torch_empty_cache_steps": "there is no device cache on a CPU",
    "auto_find_batch_size": "it retries after a CUDA out-of-memory error, which cannot happen on a CPU",
    "optim_target_modules": "only the GaLore/APOLLO optimizers read it, and nanohf has neither",
    "eval_use_gather_object": "under MPI nanohf always gathers predictions as objects",
    "save_on_each_node": "nanohf's MPI runs write from rank 0 only",
    "enable_jit_checkpoint": "nanohf does not catch SIGTERM to checkpoint; checkpoints follow save_strategy",
    "restore_callback_states_from_checkpoint": "nanohf's checkpoints keep no callback states",
    "accelerator_config": "nanohf does not use accelerate; MPI sharding is fixed (see nanohf.distributed)",
    "dataloader_num_workers": "batches are collated in the training process",
    "dataloader_persistent_workers": "batches are collated in the training process",
    "dataloader_prefetch_factor": "batches are collated in the training process",
    "dataloader_multiprocessing_context": "batches are collated in the training process",
    "dataloader_in_order": "batches are collated in the training process, always in order",
    "ddp_find_unused_parameters": "nanohf's data parallelism is MPI, not torch DDP",
    "ddp_bucket_cap_mb": "nanohf's data parallelism is MPI, not torch DDP (see nanohf.distributed.BUCKET_BYTES)",
    "ddp_broadcast_buffers": "nanohf's data parallelism is MPI, not torch DDP",
    "ddp_static_graph": "nanohf's data parallelism is MPI, not torch DDP",
    "ddp_timeout": "nanohf's MPI collectives time out by NANOHF_MPI_TIMEOUT (see nanohf.distributed)",
    "fsdp_config": "nanohf has no FSDP",
    "debug": "underflow/overflow detection hooks torch modules; TPU metrics need a TPU",
    "skip_memory_metrics": "nanohf reports no memory metrics",
    "project": "only experiment trackers read it, and nanohf reports to none",
    "trackio_space_id": "only the trackio integration reads it",
    "trackio_bucket_id": "only the trackio integration reads it",
    "trackio_static_space_id": "only the trackio integration reads it",
    "hub_token": "nanohf never uploads to the Hub",
    "hub_private_repo": "nanohf never uploads to the Hub",
    "hub_model_id": "nanohf never uploads to the Hub",
    "hub_strategy": "nanohf never uploads to the Hub",
    "hub_always_push": "nanohf never uploads to the Hub",
    "hub_revision": "nanohf never uploads to the Hub",
}

# Accepted and silent: on a CPU there is nothing to do, and the result is what transformers gives on a CPU.
SAME_RESULT_ON_CPU = {
    "use_cpu": "nanohf always computes on the CPU",
    "dataloader_pin_memory": "there is no device to copy pinned batches to",
    "eval_accumulation_steps": "predictions are NumPy arrays in host memory already (nothing to move off a device)",
}

# Kept for the script that reads them; transformers' Trainer does not read them either.
FOR_SCRIPTS = {
    "do_train": "read by training scripts; becomes True with set_training()",
    "do_eval": "read by scripts; True when eval_strategy is not 'no' (as transformers)",
    "do_predict": "read by scripts; becomes True with set_testing()",
    "resume_from_checkpoint": "read by scripts, which pass it to train(resume_from_checkpoint=...)",
    "local_rank": "set by torch launchers; nanohf's rank comes from MPI",
    "run_name": "a name for experiment trackers; kept in training_args.json",
}

# Refused, with the moment: "args" = TrainingArguments(...), "init" = Trainer(...), "train" = train().
REFUSED = {
    "bf16": ("args", "without use_cpu=True, as transformers on a machine without a bf16 GPU"),
    "bf16_full_eval": ("args", "without use_cpu=True, as transformers on a machine without a bf16 GPU"),
    "tf32": ("args", "tf32=True needs an Ampere GPU, as in transformers"),
    "deepspeed": ("args", "DeepSpeed is a torch/GPU engine (transformers fails here too: no deepspeed package)"),
    "ddp_backend": ("args", "a value other than 'mpi': nanohf's only backend is MPI"),
    "push_to_hub": ("init", "nanohf works offline (transformers fails here too, offline, creating the repo)"),
    "report_to": ("init", "an integration: nanohf has none (transformers fails here too without the package)"),
    "fsdp": ("init", "nanohf has no FSDP (transformers: 'Using fsdp only works in distributed training')"),
    "parallelism_config": ("init", "tensor/context/sequence parallelism are torch-only"),
    "neftune_noise_alpha": ("init", "NEFTune noise needs a forward hook on the input embeddings"),
    "use_liger_kernel": ("train", "Liger kernels are Triton GPU kernels (transformers: ImportError in train())"),
    "optim": ("train", "an optimizer other than adamw_torch, adamw_torch_fused or sgd"),
    "lr_scheduler_type": ("train", "reduce_lr_on_plateau, cosine_with_min_lr, ... : not in nanohf.optim"),
}

# Implemented for their everyday values, refused for the others (counted as implemented).
PARTLY_REFUSED = {"optim", "lr_scheduler_type", "ddp_backend", "report_to"}


def check_choice(name: str, value, choices: tuple[str, list[str]]):
    """``value`` as a plain string if it is one of the named choices, else transformers' enum error."""
    enum_name, values = choices
    value = getattr(value, "value", value)  # a transformers enum member passes too
    if value not in values:
        raise ValueError(f"{value} is not a valid {enum_name}, please select one of {values}")
    return value


def normalize_report_to(report_to) -> list[str]:
    """transformers' normal form: a list of integration names ("none" -> [], "all" -> the installed ones:
    none, for nanohf)."""
    if report_to is None or report_to in ("none", ["none"], "all", ["all"]):
        return []
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    for name in names:
        if name not in INTEGRATIONS:
            raise ValueError(f"{name} is not supported, only {', '.join(INTEGRATIONS)} are supported.")
    return names


def validate(args) -> None:
    """transformers' value checks, with its messages, and the refusals that happen in TrainingArguments(...)."""
    if args.torch_empty_cache_steps is not None and not (
        isinstance(args.torch_empty_cache_steps, int) and args.torch_empty_cache_steps > 0
    ):
        raise ValueError(
            f"`torch_empty_cache_steps` must be an integer bigger than 0, got {args.torch_empty_cache_steps}."
        )
    if args.logging_strategy == "steps" and args.logging_steps == 0:
        raise ValueError(f"logging strategy {args.logging_strategy} requires non-zero --logging_steps")
    for name, strategy in (("logging_steps", "logging_strategy"), ("eval_steps", "eval_strategy"),
                           ("save_steps", "save_strategy")):  # fmt: skip
        value = getattr(args, name)
        if getattr(args, strategy) == "steps" and value > 1:
            if value != int(value):
                raise ValueError(f"--{name} must be an integer if bigger than 1: {value}")
            setattr(args, name, int(value))
    if args.load_best_model_at_end and args.save_strategy != "best":
        _check_best_model_steps(args)
    if (args.bf16 or args.bf16_full_eval) and not args.use_cpu:
        raise ValueError(
            "Your setup doesn't support bf16/gpu. You need to assign use_cpu if you want to train the model on CPU."
        )
    if args.fp16 and args.bf16:
        raise ValueError("At most one of fp16 and bf16 can be True, but not both")
    if args.fp16_full_eval and args.bf16_full_eval:
        raise ValueError("At most one of fp16 and bf16 can be True for full eval, but not both")
    if args.lr_scheduler_type in ("reduce_lr_on_plateau", "greedy") and args.eval_strategy == "no":
        raise ValueError(f"lr_scheduler_type {args.lr_scheduler_type} requires an eval strategy")
    if args.warmup_steps < 0:
        raise ValueError(f"Got warmup_steps = {args.warmup_steps}, Expected value warmup_steps >= 0")
    if args.dataloader_num_workers == 0 and args.dataloader_prefetch_factor is not None:
        raise ValueError(
            "--dataloader_prefetch_factor can only be set when data is loaded in a different process, i.e."
            " when --dataloader_num_workers > 0."
        )
    if args.gradient_accumulation_steps < 1:
        raise ValueError(f"gradient_accumulation_steps must be >= 1, got {args.gradient_accumulation_steps}")
    if args.tf32:
        raise ValueError("--tf32 requires Ampere or a newer GPU arch, cuda>=11 and torch>=1.7")
    if args.deepspeed:
        raise ValueError(
            f"deepspeed={args.deepspeed!r}: DeepSpeed is a torch engine for GPUs; nanohf trains with NumPy on the CPU "
            "(data-parallel over MPI: see nanohf.distributed). Remove the deepspeed argument."
        )
    if args.ddp_backend not in (None, "mpi"):
        raise ValueError(
            f"ddp_backend={args.ddp_backend!r}: nanohf's only distributed backend is MPI (launch the script with "
            "mpiexec -n N, see nanohf.distributed); use ddp_backend=None or 'mpi'."
        )


def _check_best_model_steps(args) -> None:
    if args.eval_strategy != args.save_strategy:
        raise ValueError(
            "--load_best_model_at_end requires the save and eval strategy to match, except when "
            f'--save_strategy="best", but found\n- Evaluation strategy: {args.eval_strategy}\n- Save strategy: '
            f"{args.save_strategy}"
        )
    if args.eval_strategy == "steps" and args.save_steps % args.eval_steps != 0:
        if args.eval_steps < 1 or args.save_steps < 1:
            if not (args.eval_steps < 1 and args.save_steps < 1):
                raise ValueError(
                    "--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, "
                    "which cannot get guaranteed when mixing ratio and absolute steps for save_steps "
                    f"{args.save_steps} and eval_steps {args.eval_steps}."
                )
            if round(args.save_steps * 1_000_000) % round(args.eval_steps * 1_000_000) != 0:
                raise ValueError(
                    "--load_best_model_at_end requires the saving steps to be a multiple of the evaluation steps, "
                    f"but found {args.save_steps}, which is not a multiple of {args.eval_steps}."
                )
        else:
            raise ValueError(
                "--load_best_model_at_end requires the saving steps to be a round multiple of the evaluation steps, "
                f"but found {args.save_steps}, which is not a round multiple of {args.eval_steps}."
            )


def check_at_init(args) -> None:
    """What Trainer(...) refuses (as transformers does there, offline, on a CPU) and warns about."""
    if args.push_to_hub:
        raise ConnectionError(
            "push_to_hub=True: nanohf works offline and never uploads (transformers, offline, fails here too when it "
            "creates the Hub repository). Set push_to_hub=False, save with trainer.save_model(), and upload the "
            "folder with huggingface_hub yourself."
        )
    if args.report_to:
        raise RuntimeError(
            f"report_to={args.report_to}: nanohf has no experiment-tracker integrations, so nothing would reach "
            f"{', '.join(args.report_to)}. The logs are in trainer.state.log_history (and trainer.log_metrics / "
            "save_metrics / save_state); use report_to='none'."
        )
    if args.fsdp:
        raise ValueError(
            f"fsdp={args.fsdp!r}: Using fsdp only works in distributed training, and nanohf has no FSDP: its data "
            "parallelism (MPI, see nanohf.distributed) keeps the whole model on every rank."
        )
    if args.parallelism_config is not None:
        raise ValueError("parallelism_config: tensor, context and sequence parallelism are torch-only; nanohf has none")
    if args.neftune_noise_alpha is not None:
        raise NotImplementedError(
            f"neftune_noise_alpha={args.neftune_noise_alpha}: NEFTune noise on the input embeddings is not implemented "
            "in nanohf (its layers have no forward hooks); leave it None."
        )
    if args.save_strategy == "best" and args.metric_for_best_model is None:
        raise ValueError(
            "`args.metric_for_best_model` must be provided when using 'best' save_strategy or if "
            "`args.load_best_model_at_end` is set to `True`."
        )
    defaults = default_values()
    inert = [f"{name}={getattr(args, name)!r} ({reason})" for name, reason in NO_EFFECT.items()
             if getattr(args, name) != defaults[name]]  # fmt: skip
    if inert:
        warnings.warn("nanohf: these TrainingArguments have no effect here: " + "; ".join(inert), UserWarning,
                      stacklevel=3)  # fmt: skip


def check_at_train(args) -> None:
    if args.use_liger_kernel:
        raise ImportError(
            "use_liger_kernel=True: Liger kernels are Triton GPU kernels, and nanohf computes with NumPy/Numba on the "
            "CPU (transformers raises ImportError here too without liger-kernel). Leave use_liger_kernel=False."
        )


@functools.cache
def default_values() -> dict:
    """Each parameter's value in ``TrainingArguments()`` (after ``__post_init__``'s normal forms)."""
    from dataclasses import fields

    from nanohf.trainer.training_args import TrainingArguments

    args = TrainingArguments()
    return {f.name: getattr(args, f.name) for f in fields(args)}

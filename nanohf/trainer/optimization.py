"""The Trainer's optimizer and schedule: which parameters get weight decay, and ``optim`` names -> nanohf.optim.

Weight decay (AdamW's ``p -= lr·λ·p``) shrinks the weight matrices; transformers 5 leaves out

- every parameter of a LayerNorm module — by the module's *type* (``nanohf.nn.LayerNorm``), whatever its
  attribute name (``LayerNorm``, ``ln_1``, ``ln_f``, ``sa_layer_norm``, ...), and
- every parameter whose lower-cased full name matches one of ``NO_DECAY_NAME_PATTERNS``: biases, and the
  norms of other kinds (``rmsnorm``, ``.norm.``, ``q_norm``) that are not LayerNorm modules.

Scaling a LayerNorm's gain or a bias towards 0 is not a regulariser — it changes what the layer computes.
"""

import re

from nanohf.nn.layers import LayerNorm
from nanohf.nn.module import Parameter
from nanohf.optim import SGD, AdamW, get_scheduler
from nanohf.optim.schedules import SchedulerType
from nanohf.trainer import args_support

NO_DECAY_NAME_PATTERNS = [r"bias", r"layernorm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]
NO_DECAY_LAYER_TYPES = (LayerNorm,)


def get_parameter_names(module, forbidden_layer_types: tuple, forbidden_name_patterns: list[str]) -> list[str]:
    """Full names of ``module``'s parameters that are neither inside a module of ``forbidden_layer_types`` nor
    match one of the (regular-expression) patterns, searched in the lower-cased full name."""
    patterns = [re.compile(p) for p in forbidden_name_patterns]
    result = []
    for child_name, child in module.named_children():
        if isinstance(child, forbidden_layer_types):
            continue
        for name in get_parameter_names(child, forbidden_layer_types, forbidden_name_patterns):
            full = f"{child_name}.{name}"
            if not any(p.search(full.lower()) for p in patterns):
                result.append(full)
    own = [name for name, value in vars(module).items() if isinstance(value, Parameter)]
    result += [name for name in own if not any(p.search(name.lower()) for p in patterns)]
    return result


def decay_parameter_names(model) -> list[str]:
    return get_parameter_names(model, NO_DECAY_LAYER_TYPES, NO_DECAY_NAME_PATTERNS)


def _parse_optim_args(optim_args: str | None) -> dict[str, str]:
    """ "momentum=0.9, nesterov=True" -> {"momentum": "0.9", "nesterov": "True"} (as transformers parses it)."""
    if not optim_args:
        return {}
    parsed = {}
    for item in optim_args.replace(" ", "").split(","):
        key, value = item.split("=")
        parsed[key] = value
    return parsed


def get_optimizer_cls_and_kwargs(args, model=None) -> tuple[type, dict]:
    """The optimizer class for ``args.optim`` and its keyword arguments (learning rate, betas, ...).

    adamw_torch and adamw_torch_fused are the same AdamW here (one fused Numba kernel); sgd is nanohf.SGD,
    with momentum / dampening / nesterov from ``optim_args``. Any other transformers name is refused.
    """
    name = args.optim
    kwargs = {"lr": args.learning_rate}
    if name in ("adamw_torch", "adamw_torch_fused"):
        kwargs.update(betas=(args.adam_beta1, args.adam_beta2), eps=args.adam_epsilon)
        return AdamW, kwargs
    if name == "sgd":
        extra = _parse_optim_args(args.optim_args)
        for key in ("momentum", "dampening", "weight_decay"):
            if key in extra:
                kwargs[key] = float(extra[key])
        if "nesterov" in extra:
            kwargs["nesterov"] = extra["nesterov"].lower() in ("true", "1", "yes")
        return SGD, kwargs
    raise ValueError(
        f"optim={name!r}: nanohf has no such optimizer (it needs torch, bitsandbytes, a GPU or another package). "
        f"nanohf implements {sorted(args_support.SUPPORTED_OPTIMIZERS)}: adamw_torch and adamw_torch_fused are "
        "nanohf.AdamW, sgd is nanohf.SGD. Or pass your own: Trainer(..., optimizers=(optimizer, None))."
    )


def make_scheduler(args, optimizer, num_training_steps: int):
    """``args.lr_scheduler_type`` with ``lr_scheduler_kwargs``, as transformers' create_scheduler builds it."""
    known = {member.value for member in SchedulerType}
    if args.lr_scheduler_type not in known:
        raise ValueError(
            f"lr_scheduler_type={args.lr_scheduler_type!r} is a transformers schedule that nanohf.optim does not "
            f"implement; choose one of {sorted(known)}, or pass your own: Trainer(..., optimizers=(None, scheduler))."
        )
    return get_scheduler(args.lr_scheduler_type, optimizer, num_warmup_steps=args.get_warmup_steps(num_training_steps),
                         num_training_steps=num_training_steps,
                         scheduler_specific_kwargs=args.lr_scheduler_kwargs)  # fmt: skip

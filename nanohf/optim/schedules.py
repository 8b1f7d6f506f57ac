"""Learning-rate schedules with transformers' names and formulas, and the ``LambdaLR`` that runs them.

A schedule is a multiplier λ(t) of the learning rate each group started with:

    lr_t = base_lr · λ(t)          t = 0, 1, 2, ... counts ``scheduler.step()`` calls

Building the scheduler already applies λ(0) (as torch's ``LambdaLR`` does), so with a warmup
the very first optimizer step uses lr = 0. Writing w = num_warmup_steps, T = num_training_steps,
every schedule but "constant" starts with the same linear warmup,

    λ(t) = t / max(1, w)                                    for t < w

and then (p = (t - w) / max(1, T - w) is the progress through the decay):

    linear                 max(0, (T - t) / max(1, T - w))
    cosine                 max(0, ½ (1 + cos(π · 2·num_cycles · p)))          num_cycles = 0.5: half a wave, 1 -> 0
    cosine_with_restarts   0 if p ≥ 1, else max(0, ½ (1 + cos(π · ((num_cycles · p) mod 1))))
    polynomial             ((lr_init - lr_end) · (1 - (t - w) / (T - w))^power + lr_end) / lr_init,
                           and lr_end / lr_init after T
    constant               1 (no warmup)
    constant_with_warmup   1
    inverse_sqrt           1 / sqrt((t + timescale - w) / timescale),   timescale = w or 10 000

Each λ is a module-level function with its settings bound by ``functools.partial``, so a
scheduler's settings can be pickled with a checkpoint. docs/adamw-and-schedules.md draws them.
"""

import math
from enum import Enum
from functools import partial
from typing import Any


class LambdaLR:
    """Sets each group's ``lr`` to ``base_lr · lr_lambda(last_epoch)``, as ``torch.optim.lr_scheduler.LambdaLR``.

    ``base_lrs`` are the groups' ``initial_lr`` (set to their current ``lr`` the first time).
    ``lr_lambda`` is one function for all groups or a list with one per group. Construction
    runs the first ``step()``, so ``last_epoch`` is 0 and ``get_last_lr()`` is ``[base · λ(0)]``.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self.optimizer = optimizer
        groups = optimizer.param_groups
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(groups):
                raise ValueError(f"Expected {len(groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(groups)
        if last_epoch == -1:
            for group in groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with "
                        "last_epoch >= 0 (load the optimizer's state_dict first)"
                    )
        self.base_lrs = [group["initial_lr"] for group in groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates for the current ``last_epoch``: ``base_lr · λ(last_epoch)`` per group."""
        return [base_lr * lmbda(self.last_epoch) for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def step(self) -> None:
        """Advance t by one and write the new learning rates into the optimizer's groups.

        Call it after ``optimizer.step()``, once per optimizer step.
        """
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()``, one per group."""
        return self._last_lr

    def state_dict(self) -> dict[str, Any]:
        """``base_lrs``, ``last_epoch``, ``_step_count``, ``_last_lr`` (the λ functions are code, not state)."""
        return {
            "base_lrs": list(self.base_lrs),
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "_last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume the count; the optimizer's own state dict restores the groups' ``lr``."""
        for key in ("base_lrs", "last_epoch", "_step_count", "_last_lr"):
            if key in state_dict:
                value = state_dict[key]
                setattr(self, key, list(value) if isinstance(value, list) else value)


# --- the multipliers λ(t) ---------------------------------------------------------------------


def _warmup(current_step: int, num_warmup_steps: int) -> float:
    return float(current_step) / float(max(1, num_warmup_steps))


def _constant_lambda(_=None):
    return 1


def _constant_with_warmup_lambda(current_step: int, *, num_warmup_steps: int) -> float:
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1.0, num_warmup_steps))
    return 1.0


def _linear_lambda(current_step: int, *, num_warmup_steps: int, num_training_steps: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))


def _cosine_lambda(current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: float) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))


def _cosine_with_hard_restarts_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, num_cycles: int
) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    progress = float(current_step - num_warmup_steps) / float(max(1, num_training_steps - num_warmup_steps))
    if progress >= 1.0:
        return 0.0
    # (num_cycles · p) mod 1 runs from 0 to 1 num_cycles times: each cycle is a fresh half-cosine.
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * ((float(num_cycles) * progress) % 1.0))))


def _polynomial_decay_lambda(
    current_step: int, *, num_warmup_steps: int, num_training_steps: int, lr_end: float, power: float, lr_init: float
) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    if current_step > num_training_steps:
        return lr_end / lr_init  # LambdaLR multiplies by lr_init again
    lr_range = lr_init - lr_end
    decay_steps = num_training_steps - num_warmup_steps
    pct_remaining = 1 - (current_step - num_warmup_steps) / decay_steps
    decay = lr_range * pct_remaining**power + lr_end
    return decay / lr_init


def _inverse_sqrt_lambda(current_step: int, *, num_warmup_steps: int, timescale: int) -> float:
    if current_step < num_warmup_steps:
        return _warmup(current_step, num_warmup_steps)
    shift = timescale - num_warmup_steps  # so that λ(w) = 1 exactly
    return 1.0 / math.sqrt((current_step + shift) / timescale)


# --- the public constructors, with transformers' names and arguments --------------------------


def get_constant_schedule(optimizer, last_epoch: int = -1) -> LambdaLR:
    """Constant learning rate: λ(t) = 1."""
    return LambdaLR(optimizer, _constant_lambda, last_epoch=last_epoch)


def get_constant_schedule_with_warmup(optimizer, num_warmup_steps: int, last_epoch: int = -1) -> LambdaLR:
    """Linear warmup from 0 over ``num_warmup_steps``, then constant."""
    return LambdaLR(optimizer, partial(_constant_with_warmup_lambda, num_warmup_steps=num_warmup_steps), last_epoch)


def get_linear_schedule_with_warmup(optimizer, num_warmup_steps, num_training_steps, last_epoch=-1) -> LambdaLR:
    """Linear warmup, then linear decay to 0 at ``num_training_steps`` (the Trainer's default)."""
    lr_lambda = partial(_linear_lambda, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps)
    return LambdaLR(optimizer, lr_lambda, last_epoch)


def get_cosine_schedule_with_warmup(
    optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: float = 0.5, last_epoch: int = -1
) -> LambdaLR:
    """Linear warmup, then a cosine from 1 to 0 (``num_cycles`` waves; 0.5 = a half wave)."""
    lr_lambda = partial(
        _cosine_lambda, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, num_cycles=num_cycles
    )
    return LambdaLR(optimizer, lr_lambda, last_epoch)


def get_cosine_with_hard_restarts_schedule_with_warmup(
    optimizer, num_warmup_steps: int, num_training_steps: int, num_cycles: int = 1, last_epoch: int = -1
) -> LambdaLR:
    """Linear warmup, then ``num_cycles`` half-cosines from 1 to 0, each restarting at 1."""
    lr_lambda = partial(
        _cosine_with_hard_restarts_lambda,
        num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, num_cycles=num_cycles,
    )  # fmt: skip
    return LambdaLR(optimizer, lr_lambda, last_epoch)


def get_polynomial_decay_schedule_with_warmup(
    optimizer, num_warmup_steps, num_training_steps, lr_end=1e-7, power=1.0, last_epoch=-1
) -> LambdaLR:
    """Linear warmup, then a polynomial decay of degree ``power`` from the optimizer's lr to ``lr_end``."""
    lr_init = optimizer.defaults["lr"]
    if not (lr_init > lr_end):
        raise ValueError(f"lr_end ({lr_end}) must be smaller than initial lr ({lr_init})")
    lr_lambda = partial(
        _polynomial_decay_lambda, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps,
        lr_end=lr_end, power=power, lr_init=lr_init,
    )  # fmt: skip
    return LambdaLR(optimizer, lr_lambda, last_epoch)


def get_inverse_sqrt_schedule(
    optimizer, num_warmup_steps: int, timescale: int | None = None, last_epoch: int = -1
) -> LambdaLR:
    """Linear warmup, then 1/sqrt decay; ``timescale`` defaults to ``num_warmup_steps`` (or 10 000)."""
    if timescale is None:
        timescale = num_warmup_steps or 10_000
    lr_lambda = partial(_inverse_sqrt_lambda, num_warmup_steps=num_warmup_steps, timescale=timescale)
    return LambdaLR(optimizer, lr_lambda, last_epoch=last_epoch)


class SchedulerType(str, Enum):
    """The names ``get_scheduler`` (and ``TrainingArguments.lr_scheduler_type``) accept."""

    LINEAR = "linear"
    COSINE = "cosine"
    COSINE_WITH_RESTARTS = "cosine_with_restarts"
    POLYNOMIAL = "polynomial"
    CONSTANT = "constant"
    CONSTANT_WITH_WARMUP = "constant_with_warmup"
    INVERSE_SQRT = "inverse_sqrt"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def _missing_(cls, value):
        raise ValueError(f"{value} is not a valid {cls.__name__}, please select one of {[m.value for m in cls]}")


TYPE_TO_SCHEDULER_FUNCTION = {
    SchedulerType.LINEAR: get_linear_schedule_with_warmup,
    SchedulerType.COSINE: get_cosine_schedule_with_warmup,
    SchedulerType.COSINE_WITH_RESTARTS: get_cosine_with_hard_restarts_schedule_with_warmup,
    SchedulerType.POLYNOMIAL: get_polynomial_decay_schedule_with_warmup,
    SchedulerType.CONSTANT: get_constant_schedule,
    SchedulerType.CONSTANT_WITH_WARMUP: get_constant_schedule_with_warmup,
    SchedulerType.INVERSE_SQRT: get_inverse_sqrt_schedule,
}


def get_scheduler(
    name: str | SchedulerType,
    optimizer,
    num_warmup_steps: int | None = None,
    num_training_steps: int | None = None,
    scheduler_specific_kwargs: dict | None = None,
) -> LambdaLR:
    """Any schedule by its name, as ``transformers.get_scheduler``.

    ``scheduler_specific_kwargs`` carries the extra settings (``num_cycles``, ``power``,
    ``lr_end``, ``timescale``). A schedule that needs the warmup or the total step count
    raises a ``ValueError`` when it is missing.
    """
    name = SchedulerType(name)
    schedule_func = TYPE_TO_SCHEDULER_FUNCTION[name]
    if name == SchedulerType.CONSTANT:
        return schedule_func(optimizer)
    scheduler_specific_kwargs = scheduler_specific_kwargs or {}
    if num_warmup_steps is None:
        raise ValueError(f"{name} requires `num_warmup_steps`, please provide that argument.")
    if name == SchedulerType.CONSTANT_WITH_WARMUP:
        return schedule_func(optimizer, num_warmup_steps=num_warmup_steps)
    if name == SchedulerType.INVERSE_SQRT:
        return schedule_func(optimizer, num_warmup_steps=num_warmup_steps, **scheduler_specific_kwargs)
    if num_training_steps is None:
        raise ValueError(f"{name} requires `num_training_steps`, please provide that argument.")
    return schedule_func(
        optimizer, num_warmup_steps=num_warmup_steps, num_training_steps=num_training_steps, **scheduler_specific_kwargs
    )

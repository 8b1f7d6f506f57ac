"""Optimizers, gradient clipping and learning-rate schedules, with torch's and transformers' semantics.

The course's loop, line for line::

    optimizer = AdamW(model.parameters(), lr=5e-5)
    lr_scheduler = get_scheduler("linear", optimizer, num_warmup_steps=0, num_training_steps=n)
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)      # optional
        optimizer.step(); lr_scheduler.step(); optimizer.zero_grad()

- ``optimizer.py``: the ``Optimizer`` base (param groups, state, state dicts)
- ``adamw.py``: ``AdamW`` and its fused Numba update kernel
- ``sgd.py``: ``SGD`` with momentum and Nesterov
- ``clip.py``: ``clip_grad_norm_``
- ``schedules.py``: ``LambdaLR``, ``get_scheduler`` and the ``get_*_schedule*`` functions
"""

from nanohf.optim.adamw import AdamW
from nanohf.optim.clip import clip_grad_norm_
from nanohf.optim.optimizer import Optimizer
from nanohf.optim.schedules import (
    TYPE_TO_SCHEDULER_FUNCTION,
    LambdaLR,
    SchedulerType,
    get_constant_schedule,
    get_constant_schedule_with_warmup,
    get_cosine_schedule_with_warmup,
    get_cosine_with_hard_restarts_schedule_with_warmup,
    get_inverse_sqrt_schedule,
    get_linear_schedule_with_warmup,
    get_polynomial_decay_schedule_with_warmup,
    get_scheduler,
)
from nanohf.optim.sgd import SGD

__all__ = [
    "SGD",
    "TYPE_TO_SCHEDULER_FUNCTION",
    "AdamW",
    "LambdaLR",
    "Optimizer",
    "SchedulerType",
    "clip_grad_norm_",
    "get_constant_schedule",
    "get_constant_schedule_with_warmup",
    "get_cosine_schedule_with_warmup",
    "get_cosine_with_hard_restarts_schedule_with_warmup",
    "get_inverse_sqrt_schedule",
    "get_linear_schedule_with_warmup",
    "get_polynomial_decay_schedule_with_warmup",
    "get_scheduler",
]

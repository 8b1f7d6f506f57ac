"""Learning-rate schedules against transformers' get_scheduler on a torch optimizer.

For every name, both libraries build the schedule over an optimizer with the same groups; the
learning rates read after construction and after each of 120 steps (warmup 10, training 100,
so the tail past the end is covered) must agree within 1e-9.
"""

import copy

import numpy as np
import pytest
import torch
import transformers

from nanohf.nn.module import Parameter
from nanohf.optim import (
    AdamW,
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

WARMUP, TRAINING, STEPS, TOL = 10, 100, 120, 1e-9


def optimizers(lr=1e-3):
    """A nanohf and a torch AdamW, each with two groups (the second with its own lr)."""
    ours = [Parameter(np.zeros(3, np.float32)) for _ in range(2)]
    theirs = [torch.nn.Parameter(torch.zeros(3)) for _ in range(2)]
    return (
        AdamW([{"params": ours[:1]}, {"params": ours[1:], "lr": 2 * lr}], lr=lr),
        torch.optim.AdamW([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 2 * lr}], lr=lr),
    )


def lr_sequence(optimizer, scheduler, steps=STEPS):
    """lr of every group now and after each step; checks the groups' lr and the step count."""
    start, seq = scheduler.last_epoch, [list(scheduler.get_last_lr())]
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        seq.append(list(scheduler.get_last_lr()))
        assert [g["lr"] for g in optimizer.param_groups] == seq[-1]
    assert scheduler.last_epoch == start + steps
    return np.array(seq)


CASES = {
    "linear": {},
    "cosine": {},
    "cosine 1.5 cycles": {"num_cycles": 1.5},
    "cosine_with_restarts": {},
    "cosine_with_restarts 3 cycles": {"num_cycles": 3},
    "polynomial": {},
    "polynomial power 2, lr_end 1e-5": {"power": 2.0, "lr_end": 1e-5},
    "constant": None,
    "constant_with_warmup": None,
    "inverse_sqrt": {},
    "inverse_sqrt timescale 25": {"timescale": 25},
}


@pytest.mark.parametrize("case", CASES)
def test_get_scheduler_matches_transformers(case):
    name, kwargs = case.split()[0], CASES[case]
    ours, theirs = optimizers()
    args = dict(num_warmup_steps=WARMUP, num_training_steps=TRAINING, scheduler_specific_kwargs=kwargs)
    got = lr_sequence(ours, get_scheduler(name, ours, **args))
    expected = lr_sequence(theirs, transformers.get_scheduler(name, theirs, **args))
    diff = float(np.abs(got - expected).max())
    assert diff <= TOL, f"{case}: max |Δ lr| = {diff:.3g} over {STEPS} steps"
    assert got.shape == (STEPS + 1, 2) and got.max() > 0


NAMED = [
    (get_constant_schedule, {}),
    (get_constant_schedule_with_warmup, {"num_warmup_steps": 7}),
    (get_linear_schedule_with_warmup, {"num_warmup_steps": 0, "num_training_steps": 50}),
    (get_cosine_schedule_with_warmup, {"num_warmup_steps": 5, "num_training_steps": 50, "num_cycles": 2.0}),
    (get_cosine_with_hard_restarts_schedule_with_warmup, {"num_warmup_steps": 5, "num_training_steps": 50}),
    (get_polynomial_decay_schedule_with_warmup, {"num_warmup_steps": 5, "num_training_steps": 50, "power": 0.5}),
    (get_inverse_sqrt_schedule, {"num_warmup_steps": 0}),  # timescale falls back to 10 000
]


@pytest.mark.parametrize("function, kwargs", NAMED, ids=[f.__name__ for f, _ in NAMED])
def test_named_schedules_match_transformers(function, kwargs):
    ours, theirs = optimizers()
    got = lr_sequence(ours, function(ours, **kwargs), steps=60)
    expected = lr_sequence(theirs, getattr(transformers, function.__name__)(theirs, **kwargs), steps=60)
    diff = float(np.abs(got - expected).max())
    assert diff <= TOL, f"{function.__name__}: max |Δ lr| = {diff:.3g}"


def test_scheduler_names_are_transformers_names():
    assert [t.value for t in SchedulerType] == [t.value for t in transformers.SchedulerType][: len(SchedulerType)]
    assert get_scheduler(SchedulerType.LINEAR, optimizers()[0], 0, 10).get_last_lr() == [0.001, 0.002]


def test_missing_arguments_raise_like_transformers():
    for name, args, message in [
        ("linear", {}, "requires `num_warmup_steps`"),
        ("cosine", {"num_warmup_steps": 3}, "requires `num_training_steps`"),
        ("constant_with_warmup", {}, "requires `num_warmup_steps`"),
        ("inverse_sqrt", {}, "requires `num_warmup_steps`"),
        ("not_a_schedule", {}, "not_a_schedule is not a valid SchedulerType"),
    ]:
        ours, theirs = optimizers()
        with pytest.raises(ValueError, match=message):
            transformers.get_scheduler(name, theirs, **args)
        with pytest.raises(ValueError, match=message):
            get_scheduler(name, ours, **args)
    with pytest.raises(ValueError, match="must be smaller than initial lr"):
        get_scheduler("polynomial", optimizers()[0], 1, 10, {"lr_end": 1.0})
    get_scheduler("constant", optimizers()[0])  # needs neither
    get_scheduler("constant_with_warmup", optimizers()[0], num_warmup_steps=3)  # needs no total


def test_scheduler_state_dict_round_trip():
    """Save optimizer and scheduler after 30 steps, rebuild both, load, continue: the same lrs."""
    ours, _ = optimizers()
    straight = lr_sequence(ours, get_scheduler("cosine", ours, WARMUP, TRAINING), steps=60)

    ours, _ = optimizers()
    scheduler = get_scheduler("cosine", ours, WARMUP, TRAINING)
    first = lr_sequence(ours, scheduler, steps=30)
    saved_opt, saved_sched = copy.deepcopy(ours.state_dict()), copy.deepcopy(scheduler.state_dict())
    assert saved_sched["last_epoch"] == 30 and saved_sched["base_lrs"] == [1e-3, 2e-3]

    fresh, _ = optimizers()
    fresh_scheduler = get_scheduler("cosine", fresh, WARMUP, TRAINING)  # scheduler first, as in torch
    fresh.load_state_dict(saved_opt)
    fresh_scheduler.load_state_dict(saved_sched)
    assert fresh_scheduler.get_last_lr() == list(first[-1])
    assert [g["lr"] for g in fresh.param_groups] == list(first[-1])
    second = lr_sequence(fresh, fresh_scheduler, steps=30)
    np.testing.assert_array_equal(np.concatenate([first, second[1:]]), straight)
    assert fresh_scheduler.last_epoch == 60


def test_adamw_with_linear_schedule_matches_torch():
    """The lr the schedule writes is the lr the next step uses: 20 steps of both, weights compared."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(8, 4), (4,)]]
    ours = [Parameter(x.copy()) for x in init]
    theirs = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    opt, topt = AdamW(ours, lr=1e-2), torch.optim.AdamW(theirs, lr=1e-2)
    sched = get_scheduler("linear", opt, num_warmup_steps=5, num_training_steps=20)
    tsched = transformers.get_scheduler("linear", topt, num_warmup_steps=5, num_training_steps=20)
    for _ in range(20):
        for p, t in zip(ours, theirs, strict=True):
            g = rng.standard_normal(p.data.shape).astype(np.float32)
            p.grad, t.grad = g, torch.tensor(g)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    diff = max(float(np.abs(p.data - t.detach().numpy()).max()) for p, t in zip(ours, theirs, strict=True))
    assert diff <= 1e-6, f"AdamW + linear schedule: max |Δ| = {diff:.3g}"

"""AdamW, SGD and clip_grad_norm_ against torch, step by step on the same weights and gradients.

Each test builds float32 parameters of several shapes, feeds nanohf and torch the same random
gradients for 20 steps and compares the weights: max |Δ| ≤ 1e-6 (the measured value is in the
assertion message). Schedules are in test_schedules.py.
"""

import copy
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from nanohf.nn.module import Parameter
from nanohf.optim import SGD, AdamW, clip_grad_norm_

SHAPES = [(7, 5), (13,), (3, 4, 6), (1,), (64, 33)]
STEPS = 20
TOL = 1e-6


def make_params(seed=0, dtype=np.float32, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


def make_grads(seed=1, dtype=np.float32, shapes=SHAPES, steps=STEPS):
    rng = np.random.default_rng(seed)
    # varying scales, so that the moments and the bias corrections matter
    return [[(rng.standard_normal(s) * 10.0 ** rng.uniform(-3, 1)).astype(dtype) for s in shapes] for _ in range(steps)]


def run_pair(make_ours, make_theirs, groups=None, steps=STEPS, dtype=np.float32):
    """Run nanohf and torch side by side; returns (ours, theirs, max |Δ| over all parameters)."""
    init, grads = make_params(dtype=dtype), make_grads(dtype=dtype, steps=steps)
    ours = [Parameter(x.copy()) for x in init]
    theirs = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    if groups is None:
        opt, topt = make_ours(ours), make_theirs(theirs)
    else:
        opt = make_ours([dict(g, params=[ours[i] for i in g["params"]]) for g in groups])
        topt = make_theirs([dict(g, params=[theirs[i] for i in g["params"]]) for g in groups])
    for step_grads in grads:
        for p, t, g in zip(ours, theirs, step_grads, strict=True):
            p.grad, t.grad = g.copy(), torch.tensor(g)
        opt.step()
        topt.step()
    diff = max(float(np.abs(p.data - t.detach().numpy()).max()) for p, t in zip(ours, theirs, strict=True))
    return ours, theirs, opt, diff


ADAMW_CASES = {
    "defaults": dict(),
    "no_weight_decay": dict(lr=1e-2, weight_decay=0.0),
    "weight_decay": dict(lr=1e-2, weight_decay=0.1),
    "amsgrad": dict(lr=1e-2, weight_decay=0.05, amsgrad=True),
    "maximize": dict(lr=1e-2, maximize=True),
    "small_beta1_large_eps": dict(lr=3e-3, betas=(0.3, 0.95), eps=1e-3),
}


@pytest.mark.parametrize("case", ADAMW_CASES)
def test_adamw_matches_torch(case):
    kwargs = ADAMW_CASES[case]
    ours, _, opt, diff = run_pair(lambda p: AdamW(p, **kwargs), lambda p: torch.optim.AdamW(p, **kwargs))
    assert diff <= TOL, f"AdamW {case}: max |Δ| = {diff:.3g} after {STEPS} steps"
    assert all(p.data.dtype == np.float32 for p in ours)
    state = opt.state[ours[0]]
    assert state["step"] == STEPS and state["exp_avg"].dtype == np.float32
    assert ("max_exp_avg_sq" in state) == kwargs.get("amsgrad", False)


def test_adamw_param_groups_match_torch():
    # the course's split: weights decay, biases and LayerNorm weights do not; a second lr too
    groups = [
        {"params": [0, 2, 4], "weight_decay": 0.1},
        {"params": [1, 3], "weight_decay": 0.0, "lr": 3e-2},
    ]
    ours, _, opt, diff = run_pair(
        lambda g: AdamW(g, lr=1e-2, weight_decay=0.5), lambda g: torch.optim.AdamW(g, lr=1e-2, weight_decay=0.5), groups
    )
    assert diff <= TOL, f"AdamW with two param groups: max |Δ| = {diff:.3g}"
    assert [g["weight_decay"] for g in opt.param_groups] == [0.1, 0.0]
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 3e-2]


def test_adamw_float64_matches_torch_and_stays_float64():
    kwargs = dict(lr=1e-2, weight_decay=0.1, amsgrad=True)
    ours, _, opt, diff = run_pair(
        lambda p: AdamW(p, **kwargs), lambda p: torch.optim.AdamW(p, **kwargs), dtype=np.float64
    )
    assert all(np.isfinite(p.data).all() and p.data.dtype == np.float64 for p in ours)
    assert all(s[k].dtype == np.float64 for s in opt.state.values() for k in ("exp_avg", "exp_avg_sq"))
    assert diff <= 1e-12, f"AdamW float64: max |Δ| = {diff:.3g}"


def test_adamw_skips_params_without_grad_or_frozen():
    a, b, c = (Parameter(np.ones(3, np.float32)) for _ in range(3))
    b.grad = np.ones(3, np.float32)
    c.grad, c.requires_grad = np.ones(3, np.float32), False  # frozen after a backward: left alone
    opt = AdamW([a, b, c], lr=0.1)
    opt.step()
    assert (a.data == 1).all() and (c.data == 1).all() and (b.data < 1).all()
    assert set(opt.state) == {b}


def test_adamw_non_contiguous_param_and_float64_grad():
    init, grads = make_params(shapes=[(6, 5)]), make_grads(shapes=[(6, 5)], steps=3)
    a, b = Parameter(init[0].copy()), Parameter(np.asfortranarray(init[0]))
    opt_a, opt_b = AdamW([a], lr=0.1), AdamW([b], lr=0.1)
    for (g,) in grads:
        a.grad, b.grad = g.copy(), g.astype(np.float64)  # a float64 grad is cast to the param's dtype
        opt_a.step()
        opt_b.step()
    assert b.data.dtype == np.float32
    np.testing.assert_array_equal(a.data, b.data)


def run_steps(opt, params, grads):
    for step_grads in grads:
        for p, g in zip(params, step_grads, strict=True):
            p.grad = g.copy()
        opt.step()
        opt.zero_grad()


@pytest.mark.parametrize("make", [lambda g: AdamW(g, lr=1e-2, amsgrad=True), lambda g: SGD(g, lr=1e-2, momentum=0.9)])
def test_state_dict_round_trip(make):
    """Save after 10 steps, load into a fresh optimizer over copies of the weights, run 10 more:
    the same weights to the bit as 20 uninterrupted steps."""
    init, grads = make_params(), make_grads()
    groups = lambda ps: [{"params": ps[:3]}, {"params": ps[3:], "weight_decay": 0.0, "lr": 3e-2}]  # noqa: E731
    straight = [Parameter(x.copy()) for x in init]
    run_steps(make(groups(straight)), straight, grads)

    first = [Parameter(x.copy()) for x in init]
    opt = make(groups(first))
    run_steps(opt, first, grads[:10])
    saved = copy.deepcopy(opt.state_dict())
    assert sorted(saved["state"]) == list(range(len(SHAPES)))
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1, 2], [3, 4]]
    resumed = [Parameter(p.data.copy()) for p in first]
    opt2 = make(groups(resumed))
    opt2.load_state_dict(saved)
    assert opt2.param_groups[1]["lr"] == 3e-2 and opt2.param_groups[1]["params"] == resumed[3:]
    run_steps(opt2, resumed, grads[10:])
    for p, q in zip(straight, resumed, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_rejects_mismatches():
    ps = [Parameter(np.zeros((2, 3), np.float32)), Parameter(np.zeros(4, np.float32))]
    opt = AdamW(ps)
    for p in ps:
        p.grad = np.ones_like(p.data)
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        AdamW([{"params": ps[:1]}, {"params": ps[1:]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size"):
        AdamW(ps[:1]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*shape \(4,\)"):
        AdamW(ps[::-1]).load_state_dict(saved)


# lr 0.01 keeps the weights within |θ| < 8, where a float32 unit in the last place is ≤ 4.8e-7:
# torch fuses SGD's multiply-adds and nanohf does not (see sgd.py), an ulp apart here and there.
SGD_CASES = {
    "plain": dict(lr=0.01),
    "momentum": dict(lr=0.01, momentum=0.9),
    "dampening_weight_decay": dict(lr=0.01, momentum=0.8, dampening=0.3, weight_decay=0.01),
    "nesterov": dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
    "maximize": dict(lr=0.01, momentum=0.5, maximize=True),
}


@pytest.mark.parametrize("case", SGD_CASES)
def test_sgd_matches_torch(case):
    kwargs = SGD_CASES[case]
    ours, _, opt, diff = run_pair(lambda p: SGD(p, **kwargs), lambda p: torch.optim.SGD(p, **kwargs))
    assert diff <= TOL, f"SGD {case}: max |Δ| = {diff:.3g} after {STEPS} steps"
    assert all(p.data.dtype == np.float32 for p in ours)
    assert bool(opt.state) == (kwargs.get("momentum", 0) != 0)


def test_optimizer_errors_and_zero_grad():
    p = Parameter(np.zeros(3, np.float32))
    for bad in [dict(lr=-1.0), dict(eps=-1.0), dict(betas=(1.0, 0.9)), dict(betas=(0.9, -0.1)), dict(weight_decay=-1)]:
        with pytest.raises(ValueError, match="Invalid"):
            AdamW([p], **bad)
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        AdamW([])
    with pytest.raises(TypeError, match="single Parameter"):
        AdamW(p)
    with pytest.raises(TypeError, match="can only optimize Parameters"):
        AdamW([np.zeros(3)])
    with pytest.raises(ValueError, match="more than one parameter group"):
        AdamW([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="duplicate"):
        AdamW([p, p])
    opt = AdamW([p])
    p.grad = np.ones(3, np.float32)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and (p.grad == 0).all()
    opt.zero_grad()
    assert p.grad is None
    p.grad = np.ones(4, np.float32)
    with pytest.raises(ValueError, match=r"gradient of shape \(4,\) for a parameter of shape \(3,\)"):
        opt.step()
    half = Parameter(np.zeros(3, np.float16))
    half.grad = np.zeros(3, np.float16)
    with pytest.raises(TypeError, match="float32 or float64"):
        AdamW([half]).step()


def test_named_parameters_are_accepted():
    p = Parameter(np.zeros(2, np.float32))
    opt = AdamW([("encoder.weight", p)])
    assert opt.param_groups[0]["params"] == [p]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["encoder.weight"]


@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])  # clipping, and not
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = make_grads(steps=1)[0]
    ours = [Parameter(np.zeros(s, np.float32)) for s in SHAPES] + [Parameter(np.zeros(2, np.float32))]
    theirs = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES] + [torch.nn.Parameter(torch.zeros(2))]
    for p, t, g in zip(ours, theirs, grads, strict=False):  # the last parameter has no gradient
        p.grad, t.grad = g.copy(), torch.tensor(g)
    total = clip_grad_norm_(iter(ours), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    rel = abs(total - expected.item()) / expected.item()
    assert rel <= TOL, f"total norm {norm_type}: relative Δ = {rel:.3g}"
    for p, t in zip(ours[:-1], theirs, strict=False):
        err = float(np.abs(p.grad - t.grad.numpy()).max() / np.abs(t.grad.numpy()).max())
        assert err <= TOL, f"clipped grads, norm {norm_type}: relative Δ = {err:.3g}"
    assert ours[-1].grad is None
    if max_norm > 1e5:
        for p, g in zip(ours, grads, strict=False):
            np.testing.assert_array_equal(p.grad, g)


def test_clip_grad_norm_nonfinite():
    p = Parameter(np.zeros(3, np.float32))
    p.grad = np.array([1.0, np.nan, 2.0], np.float32)
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert np.isnan(clip_grad_norm_(p, 1.0))  # a single Parameter works too
    assert clip_grad_norm_([Parameter(np.zeros(2))], 1.0) == 0.0


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="inspects compiled code")
def test_adamw_kernel_stays_in_float32():
    """No silent float64 promotion: the compiled float32 kernel has no float -> double conversion."""
    import numba

    from nanohf.optim.adamw import _adamw_kernel

    fresh = numba.njit(parallel=True)(_adamw_kernel.py_func)  # cached code cannot be inspected
    arrays = [np.ones(4, np.float32) for _ in range(5)]
    scalars = [np.float32(x) for x in (0.999, 0.1, 0.9, 0.999, 1e-3, 1e-3, 0.5, 1e-8)]
    fresh(*arrays, *scalars, True, True)
    (ir,) = fresh.inspect_llvm().values()
    assert "sqrt" in ir and "fpext float" not in ir


NO_JIT_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import numba
    from nanohf.nn.module import Parameter
    from nanohf.optim import SGD, AdamW
    from nanohf.optim.adamw import _adamw_kernel

    out = {"jit_disabled": np.array(numba.config.DISABLE_JIT)}
    out["is_python"] = np.array(not hasattr(_adamw_kernel, "py_func"))
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(np.float32) for s in [(5, 3), (4,)]]
    grads = [[rng.standard_normal(x.shape).astype(np.float32) for x in init] for _ in range(4)]
    for name, make in [("adamw", lambda p: AdamW(p, lr=0.01, weight_decay=0.1, amsgrad=True)),
                       ("sgd", lambda p: SGD(p, lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1))]:
        ps = [Parameter(x.copy()) for x in init]
        opt = make(ps)
        for gs in grads:
            for p, g in zip(ps, gs):
                p.grad = g
            opt.step()
        for i, p in enumerate(ps):
            out[f"{name}{i}"] = p.data
    np.savez(sys.argv[1], **out)
    """
)


def test_plain_python_gives_the_jitted_bits(tmp_path):
    """The same script with and without NUMBA_DISABLE_JIT=1: AdamW and SGD agree to the bit."""
    results = {}
    for flag in ["1", "0"]:
        env = dict(os.environ, NUMBA_DISABLE_JIT=flag)
        path = tmp_path / f"jit{flag}.npz"
        run = subprocess.run([sys.executable, "-c", NO_JIT_SCRIPT, str(path)], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        results[flag] = dict(np.load(path))
    python, jitted = results["1"], results["0"]
    assert python["jit_disabled"] and python["is_python"]
    assert not jitted["jit_disabled"] and not jitted["is_python"]
    for key in ["adamw0", "adamw1", "sgd0", "sgd1"]:
        np.testing.assert_array_equal(python[key], jitted[key], err_msg=key)

"""AdamW: Adam with decoupled weight decay, with ``torch.optim.AdamW``'s semantics and defaults.

For each parameter θ with gradient g, at step t = 1, 2, ... (γ = lr, λ = weight_decay):

    g   ← -g                                  if maximize
    θ   ← θ · (1 - γλ)                        decoupled weight decay (not part of the gradient)
    m   ← β1 · m + (1 - β1) · g               first moment: a running mean of g
    v   ← β2 · v + (1 - β2) · g²              second moment: a running mean of g², elementwise
    v   ← max(v_max, v);  v_max ← v           only with amsgrad: never let the scale shrink
    m̂   = m / (1 - β1^t)                      bias corrections: m and v start at 0, so early on
    v̂   = v / (1 - β2^t)                        they underestimate; dividing undoes that exactly
    θ   ← θ - γ · m̂ / (sqrt(v̂) + ε)           for a constant gradient

The step is computed in torch's order of operations: the bias corrections are folded into two
scalars, ``step_size = γ / (1 - β1^t)`` and ``sqrt(1 - β2^t)``, and ε is added *after* the
square root of the corrected v (``sqrt(v) / sqrt(1 - β2^t) + ε``), not inside it. The first
moment is torch's ``lerp``: ``m + (1 - β1)(g - m)``, the same mean as above. (torch fuses a few
multiply-adds into one rounding, this kernel does not: the weights agree to a unit in the last
place or two.)

Why "decoupled": L2 regularisation adds λθ to g, and Adam then divides it by sqrt(v̂), so
weights with large gradients are barely decayed. AdamW shrinks θ directly, by the same factor
for every weight (Loshchilov & Hutter, https://arxiv.org/abs/1711.05101). docs/adamw-and-schedules.md
derives all of this.

The update is one fused Numba kernel per parameter: one pass that reads θ, g, m, v and writes
θ, m, v — about 28 bytes per float32 weight, so the step runs at memory speed. It computes in the
parameter's own dtype (float32 stays float32) and runs as plain Python under
``NUMBA_DISABLE_JIT=1``, with the same result to the last bit.
"""

import numpy as np
from numba import prange

import nanohf.kernels  # noqa: F401  (sets Numba's thread pool, as for every kernel)
from nanohf.kernels.parallel import parallel_njit
from nanohf.optim.optimizer import Optimizer

# fastmath stays off: every operation rounds as IEEE says, so the jitted kernel and the plain
# Python one (NUMBA_DISABLE_JIT=1) agree to the bit, and the step is memory-bound anyway.
# The prange loop also comes out vectorised (8 floats per AVX instruction, sqrt and division
# included), which the same loop over range() did not: LLVM could not rule out that the four
# arrays overlap.


@parallel_njit()
def _adamw_kernel(
    param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq,
    decay, lerp_weight, lerp_rest, beta2, one_minus_beta2, step_size, bias_correction2_sqrt, eps,
    amsgrad, maximize,
):  # fmt: skip
    """One AdamW step over flat arrays, in place, the elements shared among the threads.

    ``param, grad, exp_avg, exp_avg_sq``: ``(n,)``; ``max_exp_avg_sq``: ``(n,)`` with amsgrad,
    else unused. All scalars are of the arrays' dtype: ``decay = 1 - lr·wd``,
    ``lerp_weight = 1 - β1``, ``lerp_rest = 1 - lerp_weight``, ``step_size = lr / (1 - β1^t)``,
    ``bias_correction2_sqrt = sqrt(1 - β2^t)``.
    """
    small_weight = abs(lerp_weight) < 0.5
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        p = param[i] * decay
        # m ← lerp(m, g, 1 - β1). torch's lerp takes the form that rounds best for the weight.
        m = exp_avg[i]
        if small_weight:
            m = m + lerp_weight * (g - m)
        else:
            m = g - (g - m) * lerp_rest
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if amsgrad:
            v = max(max_exp_avg_sq[i], v)
            max_exp_avg_sq[i] = v
        denom = np.sqrt(v) / bias_correction2_sqrt + eps
        param[i] = p - step_size * m / denom


def adamw_update(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    step: int,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> None:
    """One AdamW step for one parameter, in place; ``step`` is t, already counting this step.

    All arrays have the parameter's shape and dtype (float32 or float64); the moments must be
    C-contiguous. The scalars are computed in Python floats (float64), then rounded once to the
    dtype, as torch does.
    """
    if param.dtype not in (np.float32, np.float64):
        raise TypeError(f"AdamW works on float32 or float64 parameters, got {param.dtype}")
    dtype = param.dtype.type
    bias_correction1 = 1 - beta1**step
    bias_correction2_sqrt = (1 - beta2**step) ** 0.5
    lerp_weight = dtype(1 - beta1)
    flat = param.reshape(-1) if param.flags.c_contiguous else np.ascontiguousarray(param).reshape(-1)
    if max_exp_avg_sq is None:
        max_exp_avg_sq = np.empty(0, dtype=param.dtype)
    arrays = (flat, grad.reshape(-1), exp_avg.reshape(-1), exp_avg_sq.reshape(-1), max_exp_avg_sq.reshape(-1))
    scalars = (
        dtype(1 - lr * weight_decay), lerp_weight, dtype(1) - lerp_weight, dtype(beta2), dtype(1 - beta2),
        dtype(lr / bias_correction1), dtype(bias_correction2_sqrt), dtype(eps), bool(amsgrad), bool(maximize),
    )  # fmt: skip
    _adamw_kernel(*arrays, *scalars)
    if not param.flags.c_contiguous:  # the kernel worked on a copy: write it back
        param[...] = flat.reshape(param.shape)


class AdamW(Optimizer):
    """``AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False)``.

    ``params``: ``model.parameters()``, or groups such as
    ``[{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}]``.
    ``state[p]`` holds ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad,
    ``max_exp_avg_sq``, each array of ``p``'s shape and dtype.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p, grad in self._params_to_update(group):
                state = self.state.get(p)
                if not state:  # lazy init at the first step: m = v = 0
                    state = self.state[p] = {
                        "step": 0,
                        "exp_avg": np.zeros(p.data.shape, dtype=p.data.dtype),
                        "exp_avg_sq": np.zeros(p.data.shape, dtype=p.data.dtype),
                    }
                if group["amsgrad"] and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = np.zeros(p.data.shape, dtype=p.data.dtype)
                state["step"] += 1
                adamw_update(
                    p.data, grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"), state["step"],
                    lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"],
                    amsgrad=group["amsgrad"], maximize=group["maximize"],
                )  # fmt: skip
        return loss

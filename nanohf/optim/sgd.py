"""SGD with momentum, dampening, Nesterov and L2 weight decay, as ``torch.optim.SGD`` does it.

For each parameter θ with gradient g (γ = lr, λ = weight_decay, μ = momentum, τ = dampening):

    g ← -g                          if maximize
    g ← g + λ θ                     L2 weight decay: part of the gradient (unlike AdamW's)
    b ← g                           momentum buffer, at the first step: no decay of a zero buffer
    b ← μ b + (1 - τ) g             at later steps
    g ← g + μ b   if nesterov,  else  g ← b
    θ ← θ - γ g

With μ = 0 the buffer is skipped and this is plain gradient descent. As for AdamW, the update is
one fused Numba kernel per parameter, in the parameter's dtype.

Rounding: torch computes each ``a + α·b`` above (``add(b, alpha=α)``) as one fused multiply-add,
rounded once; the kernel rounds the product and the sum separately (fastmath off), so the weights
differ from torch's by a unit in the last place here and there, and the jitted kernel and plain
Python (``NUMBA_DISABLE_JIT=1``) agree to the bit. Letting LLVM fuse (``fastmath={"contract"}``)
was tried: which of two products it fuses into an add is its choice, and it did not always choose
torch's.
"""

import numpy as np
from numba import prange

import nanohf.kernels  # noqa: F401  (sets Numba's thread pool, as for every kernel)
from nanohf.kernels.parallel import parallel_njit
from nanohf.optim.optimizer import Optimizer


@parallel_njit()
def _sgd_kernel(param, grad, buf, lr, weight_decay, momentum, one_minus_dampening, first, nesterov, maximize):
    """One SGD step over flat arrays, in place. ``buf`` is ``(n,)`` with momentum, else empty.

    Scalars are of the arrays' dtype; ``first`` says the buffer is new and takes g as it is.
    """
    use_momentum = buf.size > 0
    for i in prange(param.size):
        g = -grad[i] if maximize else grad[i]
        if weight_decay != 0:
            g = g + weight_decay * param[i]
        if use_momentum:
            b = g if first else buf[i] * momentum + one_minus_dampening * g
            buf[i] = b
            g = g + momentum * b if nesterov else b
        param[i] = param[i] - lr * g


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)``.

    ``state[p]["momentum_buffer"]`` holds b (created at p's first step, only with momentum).
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
        defaults.update(nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()`` if one is given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            momentum = group["momentum"]
            for p, grad in self._params_to_update(group):
                dtype = p.data.dtype.type
                first = False
                if momentum != 0:
                    state = self.state.setdefault(p, {})
                    if state.get("momentum_buffer") is None:
                        state["momentum_buffer"] = np.empty(p.data.shape, dtype=p.data.dtype)
                        first = True
                    buf = state["momentum_buffer"]
                else:
                    buf = np.empty(0, dtype=p.data.dtype)
                contiguous = p.data.flags.c_contiguous
                flat = p.data.reshape(-1) if contiguous else np.ascontiguousarray(p.data).reshape(-1)
                _sgd_kernel(
                    flat, grad.reshape(-1), buf.reshape(-1), dtype(group["lr"]), dtype(group["weight_decay"]),
                    dtype(momentum), dtype(1 - group["dampening"]), first, bool(group["nesterov"]),
                    bool(group["maximize"]),
                )  # fmt: skip
                if not contiguous:
                    p.data[...] = flat.reshape(p.data.shape)
        return loss

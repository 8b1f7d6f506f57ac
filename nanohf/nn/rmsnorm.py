"""RMSNorm, the normalisation of Llama, Qwen2 and Mistral: ``y = w · x / rms(x)``, no mean, no bias.

The math of both directions is in ``nanohf/kernels/rmsnorm.py``. Its weight starts at 1
(``reset_parameters``), so a fresh RMSNorm is the plain normalisation.
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.kernels.rmsnorm import rmsnorm_backward, rmsnorm_forward
from nanohf.nn.module import Module, Parameter, accumulate_grad


class RMSNorm(Module):
    """``(..., hidden)`` -> ``(..., hidden)``; ``eps`` is transformers' ``variance_epsilon`` (``rms_norm_eps``)."""

    def __init__(self, hidden_size: int, eps: float = 1e-6):
        self.weight = Parameter(np.ones(hidden_size, dtype=np.float32))
        self.variance_epsilon = eps

    def reset_parameters(self, std: float | None = None) -> None:
        """The weight back to 1 (``std``, the init scale other layers take, has nothing to scale here)."""
        self.weight.data[...] = 1.0

    def forward(self, x: np.ndarray) -> np.ndarray:
        y, rstd = rmsnorm_forward(x, self.weight.data, self.variance_epsilon)
        self._cache = (x, rstd) if is_grad_enabled() else None
        return y

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        x, rstd = self.pop_cache()
        dx, dw = rmsnorm_backward(d_out, x, rstd, self.weight.data)
        accumulate_grad(self.weight, lambda: dw)
        return dx

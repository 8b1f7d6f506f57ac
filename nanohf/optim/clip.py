"""Gradient clipping by the global norm, as ``torch.nn.utils.clip_grad_norm_`` does it.

All gradients are seen as one long vector g. Its p-norm is computed the way torch computes it:
the norm of each gradient first, then the norm of those norms, which for p = 2 is

    ‖g‖ = sqrt(Σ_params ‖g_param‖²)

and for p = inf the largest |g_i|. If ‖g‖ exceeds ``max_norm``, every gradient is scaled by

    c = max_norm / (‖g‖ + 1e-6)        (clamped to at most 1; 1e-6 guards a zero norm)

so the direction of the step is kept and only its length is capped — a guard against the odd
huge gradient that would throw the weights far away.
"""

import math

import numpy as np


def _vector_norm(x: np.ndarray, norm_type: float) -> float:
    """The p-norm of ``x`` seen flat, with torch's ``vector_norm`` meaning for 0 and ±inf."""
    return float(np.linalg.norm(x.reshape(-1), ord=norm_type)) if x.size else 0.0


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> float:
    """Scale the gradients of ``parameters`` in place so that their total norm is at most ``max_norm``.

    ``parameters``: an iterable of ``Parameter`` (``model.parameters()``) or a single one; those
    without a gradient are left out. Returns the total norm *before* clipping, as a float.
    """
    if hasattr(parameters, "grad"):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = np.array([_vector_norm(g, norm_type) for g in grads])
    total_norm = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not math.isfinite(total_norm):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, "
            "set `error_if_nonfinite=False`"
        )
    clip_coef = min(float(max_norm) / (total_norm + 1e-6), 1.0)
    # torch multiplies even by 1.0; skipping that pass changes no value. A NaN coefficient
    # (a NaN norm) fails the test below and is applied, as in torch.
    if not clip_coef >= 1.0:
        for g in grads:
            g *= g.dtype.type(clip_coef)
    return total_norm

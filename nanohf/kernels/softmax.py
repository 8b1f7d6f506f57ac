"""Softmax over attention scores, with the scale and the padding mask folded in; and its backward.

Forward, for each query row:

    p_j = exp(s_j · scale + m_j - max) / Σ_k exp(s_k · scale + m_k - max)

``m`` is transformers' additive mask: 0 where the key is a real token and
``finfo(float32).min`` where it is padding, so padded keys get a probability of exactly 0.
With ``causal`` (GPT-2), query i may not see a later key either: key j is masked the same way
when j > i + (k_len - q_len) — the offset is the number of cached past keys, so the one new
query of a generation step sees the whole past and itself. A sliding ``window`` (Mistral; 0 for
none) also hides the keys too far back: key j is visible to query i only when
(i + offset) - j < window, as transformers 5 builds its sliding-window causal mask. Subtracting
the row's max changes nothing mathematically and keeps exp from overflowing; a row whose keys are all masked (a
left-padding query) stays finite, as in transformers, and is never read.

Backward, given dp (the gradient with respect to p):

    ∂p_j/∂z_i = p_j (δ_ij - p_i)   =>   dz_i = p_i (dp_i - Σ_j dp_j p_j)

and since z = s · scale + m, ds = dz · scale (the mask is a constant).
"""

import math

import numpy as np
from numba import prange

from nanohf.kernels.fastmath import REDUCE_FAST
from nanohf.kernels.parallel import parallel_njit
from nanohf.kernels.vecmath import by_precision

MASK_MIN = float(np.finfo(np.float32).min)
_MASK_MIN_F32 = np.float32(MASK_MIN)


# EXP, ZERO, ONE: the precision's exp and constants, bound per build (vecmath.by_precision): float32 rows use
# the vectorisable exp32 and float32 sums.
EXP, ZERO, ONE = math.exp, 0.0, 1.0


@parallel_njit(fastmath=REDUCE_FAST)
def _masked_softmax_rows(scores, mask, scale, causal, window=0):
    batch, heads, q_len, k_len = scores.shape
    offset = k_len - q_len
    for row in prange(batch * heads * q_len):
        b = row // (heads * q_len)
        h = (row // q_len) % heads
        i = row % q_len
        s = scores[b, h, i]
        m = mask[b]
        last_visible = i + offset if causal else k_len - 1
        first_visible = last_visible - window + 1 if window > 0 else 0
        hi = s[last_visible] * scale + m[last_visible]  # the query's own key is never hidden by causal or window
        for j in range(k_len):
            v = s[j] * scale + (m[j] if first_visible <= j <= last_visible else _MASK_MIN_F32)
            s[j] = v
            hi = max(hi, v)
        total = ZERO
        for j in range(k_len):
            e = EXP(s[j] - hi)
            s[j] = e
            total += e
        inv = ONE / total
        for j in range(k_len):
            s[j] *= inv


@parallel_njit(fastmath=REDUCE_FAST)
def _softmax_backward_rows(probs, d_probs, scale, d_scores):
    batch, heads, q_len, k_len = probs.shape
    for row in prange(batch * heads * q_len):
        b = row // (heads * q_len)
        h = (row // q_len) % heads
        i = row % q_len
        p, dp, ds = probs[b, h, i], d_probs[b, h, i], d_scores[b, h, i]
        dot = 0.0
        for j in range(k_len):
            dot += dp[j] * p[j]
        for j in range(k_len):
            ds[j] = p[j] * (dp[j] - dot) * scale


def masked_softmax_forward(
    scores: np.ndarray, mask: np.ndarray, scale: float, causal: bool = False, window: int | None = None
) -> np.ndarray:
    """In place: ``scores`` ``(batch, heads, q_len, k_len)`` become probabilities.

    ``mask`` is the additive padding mask ``(batch, k_len)`` from ``additive_padding_mask`` (nanohf/nn/masks.py);
    ``causal`` also hides every key after the query's own position, and ``window`` (with ``causal``)
    every key ``window`` or more positions back.
    """
    if window is not None and not causal:
        raise ValueError("a sliding window is applied on top of the causal mask (causal=True)")
    mask = mask.astype(scores.dtype, copy=False)
    by_precision(_masked_softmax_rows, scores.dtype)(scores, mask, scores.dtype.type(scale), causal, window or 0)
    return scores


def masked_softmax_backward(probs: np.ndarray, d_probs: np.ndarray, scale: float) -> np.ndarray:
    """Gradient with respect to the raw scores ``(batch, heads, q_len, k_len)``."""
    d_scores = np.empty_like(probs)
    _softmax_backward_rows(probs, np.ascontiguousarray(d_probs), probs.dtype.type(scale), d_scores)
    return d_scores

"""Dropout in one pass, with a counter-based random number per element.

Forward (training):  keep_i = (u_i >= p),   y_i = x_i · keep_i / (1 - p)
Backward:            dx_i = dy_i · keep_i / (1 - p)          (the same mask: it is stored, 1 byte per element)

u_i is a hash of (seed, i): SplitMix64's finaliser, a bijective scramble of 64 bits, whose top 24 bits
make a uniform number in [0, 1) with float32's resolution. Because u_i depends on nothing but the seed
and the element's index, the threads may process the elements in any order and still draw the same
mask; the seed itself comes from nanohf's generator, so ``nanohf.set_seed`` makes a run repeatable.
(torch's masks come from its own generator: no library reproduces another's dropout.)
"""

import numpy as np
from numba import njit, prange

from nanohf.kernels.parallel import parallel_njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_UNIFORM_BITS = 24  # float32 has a 24-bit significand: finer draws would round away


@njit(inline="always")
def _hash(seed, i):
    """SplitMix64: the i-th number of the stream that starts at ``seed`` (uint64 in, uint64 out)."""
    z = seed + np.uint64(i + 1) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@parallel_njit()
def _dropout_forward_flat(x, seed, threshold, scale, out, keep):
    for i in prange(x.size):
        kept = (_hash(seed, i) >> np.uint64(64 - _UNIFORM_BITS)) >= threshold
        keep[i] = kept
        out[i] = x[i] * scale if kept else 0.0


@parallel_njit()
def _dropout_backward_flat(d_out, keep, scale, d_x):
    for i in prange(d_out.size):
        d_x[i] = d_out[i] * scale if keep[i] else 0.0


def _scale(p: float, dtype) -> np.generic:
    """1/(1-p), the factor that keeps the expected value; p = 1 keeps nothing, so any factor will do."""
    return dtype.type(1.0 / (1.0 - p) if p < 1.0 else 0.0)


def dropout_forward(x: np.ndarray, p: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` of any shape -> ``(y, keep)``, ``keep`` a uint8 mask of x's shape (1 = kept)."""
    x_flat = np.ascontiguousarray(x).reshape(-1)
    out, keep = np.empty_like(x_flat), np.empty(x_flat.size, dtype=np.uint8)
    threshold = np.uint64(round(p * (1 << _UNIFORM_BITS)))  # u < p  <=>  24-bit draw < p · 2^24
    _dropout_forward_flat(x_flat, np.uint64(seed), threshold, _scale(p, x.dtype), out, keep)
    return out.reshape(x.shape), keep.reshape(x.shape)


def dropout_backward(d_out: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """``d_out`` and the forward's ``keep`` mask -> the gradient of dropout's input."""
    d_flat = np.ascontiguousarray(d_out).reshape(-1)
    d_x = np.empty_like(d_flat)
    _dropout_backward_flat(d_flat, keep.reshape(-1), _scale(p, d_out.dtype), d_x)
    return d_x.reshape(d_out.shape)

"""exp, erf and tanh for float32 written so that LLVM can vectorise them.

Numba compiles ``math.exp`` to a call into the C library, one number at a time; a loop that
calls it cannot use the CPU's SIMD lanes (16 floats at once with AVX-512). These versions are
made of additions, multiplications and one integer shift, which vectorise. They are accurate to
float32 rounding (exp, tanh: error < 1e-7; erf: absolute error < 5e-7) and are used only for
float32 arrays; float64 arrays (gradient checks) keep the exact ``math`` functions.

exp(x): write x = n·ln2 + r with n an integer and |r| ≤ ln2/2, so e^x = 2^n · e^r. e^r comes from
its Taylor series to r⁷ (the next term is below 1e-8 on that interval) and 2^n is built directly
in the float's exponent bits: (n + 127) << 23 is the bit pattern of 2^n.

erf(x), x ≥ 0 (odd: erf(-x) = -erf(x)): Abramowitz & Stegun 7.1.26,
    erf(x) ≈ 1 - (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵) e^(-x²),  t = 1 / (1 + p·x),   |error| ≤ 1.5e-7

tanh(x) = sign(x) · (1 - 2 / (e^(2|x|) + 1))

Note for developers: Numba's on-disk cache (``cache=True``) is keyed on the kernel's own file, so a
kernel that inlines these functions does not notice when this file changes. After editing it,
delete the cached kernels: ``find nanohf -name '*.nb[ic]' -delete``.

``by_precision(kernel, dtype)`` builds a kernel for one precision: its globals ``EXP``, ``ZERO`` and ``ONE``
become exp32 and float32 constants for float32 arrays, ``math.exp`` and Python floats (float64) otherwise,
so that a build holds one precision's code (see ``specialise`` in parallel.py: less to compile).
"""

import math

import numpy as np
from numba import njit

from nanohf.kernels.parallel import specialise

_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693145751953125)  # ln 2 split in two so that n·ln2 is exact in float32
_LN2_LO = np.float32(1.428606765330187e-06)
_TAYLOR = tuple(np.float32(1.0 / math.factorial(k)) for k in range(8))  # 1/0! … 1/7!

_ERF_P = np.float32(0.3275911)
_ERF_A = (np.float32(0.254829592), np.float32(-0.284496736), np.float32(1.421413741),
          np.float32(-1.453152027), np.float32(1.061405429))  # fmt: skip


@njit(inline="always")
def exp32(x):
    # Below -87.3 the result is under float32's smallest normal number: return exactly 0 (a masked
    # attention score must get probability 0). Above 88.7 float32 overflows: saturate at e^88.
    # Written without an early return and with n kept a float32 (np.floor; math.floor gives an int64,
    # which turns the rest into float64): the loops that call exp32 then vectorise.
    clamped = min(max(x, np.float32(-87.3)), np.float32(88.0))
    n = np.floor(clamped * _LOG2E + np.float32(0.5))
    r = clamped - n * _LN2_HI - n * _LN2_LO
    p = _TAYLOR[7]
    p = p * r + _TAYLOR[6]
    p = p * r + _TAYLOR[5]
    p = p * r + _TAYLOR[4]
    p = p * r + _TAYLOR[3]
    p = p * r + _TAYLOR[2]
    p = p * r + _TAYLOR[1]
    p = p * r + _TAYLOR[0]
    two_to_n = np.int32((np.int32(n) + np.int32(127)) << np.int32(23)).view(np.float32)
    # The early exits as selects: exactly 0 below -87.3, and a NaN stays NaN (x != x), never a number.
    y = p * two_to_n
    return np.float32(0.0) if x < np.float32(-87.3) else (y if x == x else x)


@njit(inline="always")
def erf32(x):
    a = abs(x)
    t = np.float32(1.0) / (np.float32(1.0) + _ERF_P * a)
    poly = ((((_ERF_A[4] * t + _ERF_A[3]) * t + _ERF_A[2]) * t + _ERF_A[1]) * t + _ERF_A[0]) * t
    y = np.float32(1.0) - poly * exp32(-a * a)
    return y if x >= 0 else -y


@njit(inline="always")
def tanh32(x):
    y = np.float32(1.0) - np.float32(2.0) / (exp32(np.float32(2.0) * abs(x)) + np.float32(1.0))
    return y if x >= 0 else -y


_PRECISIONS = {
    "f32": {"EXP": exp32, "ZERO": np.float32(0.0), "ONE": np.float32(1.0)},
    "exact": {"EXP": math.exp, "ZERO": 0.0, "ONE": 1.0},
}


def by_precision(kernel, dtype: np.dtype):
    """``kernel`` built with ``EXP``, ``ZERO``, ``ONE`` of ``dtype``'s precision: float32 or exact (float64)."""
    precision = "f32" if dtype == np.float32 else "exact"
    return specialise(kernel, precision, **_PRECISIONS[precision])

"""Numba kernels: everything between the matrix products.

Matrix products go to NumPy's BLAS (``@``). What sits between them — embedding gathers,
LayerNorm, GELU, the masked softmax of attention, cross-entropy — is a small Numba kernel,
one file per op family, the forward written so that its backward can stand beside it.

Every kernel is plain Python underneath ``@njit``: run with ``NUMBA_DISABLE_JIT=1`` and a
debugger steps through it line by line.
"""

import atexit
import gc
import os

import numba

# Numba's default OpenMP thread pool keeps its threads spinning after a kernel, and so does
# OpenBLAS after a matrix product: on 2 cores the two pools then fight for the CPU, and a
# LayerNorm of 16 rows that takes 20 µs alone took 3 ms between two GEMMs. The "workqueue"
# pool sleeps when idle. A user's own NUMBA_THREADING_LAYER wins.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

from nanohf.kernels.activations import ACTIVATIONS, bias_activation_forward, resolve_activation
from nanohf.kernels.embedding import gather_add_forward
from nanohf.kernels.layernorm import layernorm_forward
from nanohf.kernels.losses import cross_entropy_forward
from nanohf.kernels.softmax import masked_softmax_forward

# Python's last garbage collection, at exit, walks every object Numba's compiler made: 0.3 s of a 1.5 s
# cold start. Python does not promise to finalise objects still alive at exit, so they are frozen out of
# that collection (gc.freeze) instead.
atexit.register(gc.freeze)

__all__ = [
    "ACTIVATIONS",
    "bias_activation_forward",
    "cross_entropy_forward",
    "gather_add_forward",
    "layernorm_forward",
    "masked_softmax_forward",
    "resolve_activation",
]

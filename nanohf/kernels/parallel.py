"""Threads only where they pay: every ``prange`` kernel is compiled twice, threaded and serial.

Waking Numba's thread pool costs about 40 µs, and about 120 µs right after an OpenBLAS product
(the two pools hand the two cores back and forth). A LayerNorm of one 768-float row takes 3 µs.
So when GPT-2 decodes one token, or BERT reads one 16-token sentence, threads would cost 10-40
times the work they share. ``@parallel_njit`` compiles the same source both ways — ``prange``
is a plain ``range`` in the serial build — and each call picks by the size of its first
argument (the input rows): serial below ``SERIAL_BELOW`` elements, threaded from there on.
The two builds run the same operations in the same order for each row. They agree to float32's last
bit or two, not always to the bit: where LLVM fuses a multiply and an add (fastmath "contract") can
depend on how the loop was vectorised, and a sum across rows (cross-entropy's total) is ordered by the
threads.
"""

import types

import numba
import numpy as np

# Elements of the first argument below which one thread wins. Measured on 2 cores, each kernel right
# after a GEMM: LayerNorm, GELU and softmax cross over between 128k and 256k floats.
SERIAL_BELOW = 1 << 17


class ParallelKernel:
    """A kernel compiled ``parallel=True`` and serially; ``kernel(*args)`` runs the one that suits ``args[0]``."""

    def __init__(self, func: types.FunctionType, options: dict):
        self.py_func = func
        self.parallel = numba.njit(parallel=True, cache=True, **options)(func)
        # The serial build needs its own name: Numba's disk cache is keyed by the function's qualified name.
        serial_func = types.FunctionType(func.__code__, func.__globals__, func.__name__ + "_serial",
                                         func.__defaults__, func.__closure__)  # fmt: skip
        serial_func.__qualname__ = func.__qualname__ + "_serial"
        serial_func.__doc__ = func.__doc__
        self.serial = numba.njit(cache=True, **options)(serial_func)
        self.__doc__, self.__name__ = func.__doc__, func.__name__

    def __call__(self, first: np.ndarray, *args):
        kernel = self.serial if first.size < SERIAL_BELOW else self.parallel
        return kernel(first, *args)


def parallel_njit(**options):
    """``@njit(parallel=True, cache=True, **options)``, plus a serial twin for small inputs (see the module).

    Division follows NumPy (x / 0 is inf or nan) rather than Python (ZeroDivisionError): the check
    Python's rule needs is a branch in every loop that divides, and it kept LLVM from vectorising
    them (GELU went from 31 to 3.6 ns per float on one core). With ``NUMBA_DISABLE_JIT=1`` the
    function stays plain Python, as under ``@njit``.
    """

    def decorate(func: types.FunctionType):
        if numba.config.DISABLE_JIT:
            return func
        return ParallelKernel(func, {"error_model": "numpy", **options})

    return decorate

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

A kernel may also be *specialised*: ``specialise(kernel, tag, NAME=value)`` is the same kernel compiled
with its global ``NAME`` bound to ``value`` — a constant, or a function that Numba inlines. The
activation kernels use it so that each build contains the one activation it runs, in the one precision
of its arrays, rather than all of them behind a runtime switch: Numba types and LLVM optimises only the
code a build can reach, which made the activation kernels 3-4 times quicker to compile.
"""

import types

import numba
import numpy as np

# Elements of the first argument below which one thread wins. Measured on 2 cores, each kernel right
# after a GEMM: LayerNorm, GELU and softmax cross over between 128k and 256k floats.
SERIAL_BELOW = 1 << 17


def _renamed(func: types.FunctionType, suffix: str, constants: dict | None = None) -> types.FunctionType:
    """A copy of ``func`` named ``<name>_<suffix>``, its globals updated with ``constants``.

    Each build needs its own name: Numba's disk cache is keyed by the function's qualified name (and file).
    """
    global_names = func.__globals__ if constants is None else {**func.__globals__, **constants}
    copy = types.FunctionType(func.__code__, global_names, f"{func.__name__}_{suffix}", func.__defaults__,
                              func.__closure__)  # fmt: skip
    copy.__qualname__ = f"{func.__qualname__}_{suffix}"
    copy.__doc__ = func.__doc__
    return copy


class ParallelKernel:
    """A kernel compiled ``parallel=True`` and serially; ``kernel(*args)`` runs the one that suits ``args[0]``."""

    def __init__(self, func: types.FunctionType, options: dict):
        self.py_func, self.options = func, options
        self.parallel = numba.njit(parallel=True, cache=True, **options)(func)
        self.serial = numba.njit(cache=True, **options)(_renamed(func, "serial"))
        self.__doc__, self.__name__ = func.__doc__, func.__name__

    def __call__(self, first: np.ndarray, *args):
        kernel = self.serial if first.size < SERIAL_BELOW else self.parallel
        return kernel(first, *args)


_specialised: dict[tuple[int, str], "ParallelKernel | types.FunctionType"] = {}


def specialise(kernel, tag: str, **constants):
    """``kernel`` (from ``@parallel_njit``) with its globals ``constants`` fixed, built once per ``tag``.

    ``tag`` names the build (and its disk-cache entry), so it must identify ``constants``. Under
    ``NUMBA_DISABLE_JIT=1`` the result is the plain Python function with those globals.
    """
    key = (id(kernel), tag)
    built = _specialised.get(key)
    if built is None:
        if isinstance(kernel, ParallelKernel):
            built = ParallelKernel(_renamed(kernel.py_func, tag, constants), kernel.options)
        else:
            built = _renamed(kernel, tag, constants)
        _specialised[key] = built
    return built


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

"""Where the time of ``nanohf demo`` goes: wall and CPU (user+sys) time per phase, and every Numba compile.

    NUMBA_CACHE_DIR=$(mktemp -d) python tools/profile_demo.py [demo arguments]   # a first-ever (cold) run
    python tools/profile_demo.py [demo arguments]                                # with the kernel cache

The phases are measured by wrapping the functions that do them (dataset map, ``compute_loss`` = forward,
``Loss.backward``, the optimizer step, ``evaluate``, ``save_model``, ``pipeline``); a Numba compilation
(or a load from Numba's disk cache) is charged to "compile" and taken out of the phase it happened in.
The table lists each kernel's compiled signatures: every one is a separate compilation.
"""

import collections
import resource
import sys
import time
from contextlib import contextmanager

import numba.core.dispatcher

import nanohf.autograd
import nanohf.cli
import nanohf.data
import nanohf.trainer.loop
from nanohf.trainer import Trainer


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


wall = collections.Counter()
cpu = collections.Counter()
calls = collections.Counter()
stack: list[str] = []
compiles: list[tuple[str, str, bool, float, float]] = []  # kernel, signature, from cache, wall, cpu


@contextmanager
def phase(name: str):
    """Time ``name``; time spent in an inner phase is charged to the inner one only."""
    stack.append(name)
    w0, c0 = time.perf_counter(), _cpu()
    try:
        yield
    finally:
        dw, dc = time.perf_counter() - w0, _cpu() - c0
        stack.pop()
        wall[name] += dw
        cpu[name] += dc
        calls[name] += 1
        if stack:  # the enclosing phase did not spend this time itself
            wall[stack[-1]] -= dw
            cpu[stack[-1]] -= dc


def wrap(owner, attribute: str, name: str) -> None:
    original = getattr(owner, attribute)

    def timed(*args, **kwargs):
        with phase(name(*args, **kwargs) if callable(name) else name):
            return original(*args, **kwargs)

    setattr(owner, attribute, timed)


_compile = numba.core.dispatcher.Dispatcher.compile


def compile_timed(self, sig):
    if stack and stack[-1] == "compile":  # a kernel compiled from inside another's compilation
        return _compile(self, sig)
    args = numba.core.sigutils.normalize_signature(sig)[0]
    known = tuple(args) in self.overloads
    hits = sum(self._cache_hits.values())
    w0, c0 = time.perf_counter(), _cpu()
    with phase("compile"):
        result = _compile(self, sig)
    if not known:
        compiles.append((self.py_func.__qualname__, str(tuple(args)), sum(self._cache_hits.values()) > hits,
                         time.perf_counter() - w0, _cpu() - c0))  # fmt: skip
    return result


numba.core.dispatcher.Dispatcher.compile = compile_timed


def in_training() -> bool:
    return "train (other)" in stack


wrap(nanohf.data.Dataset, "map", "tokenize (map)")
wrap(nanohf.data.Dataset, "filter", "data (filter)")
wrap(nanohf.cli, "load_glue", "data (load)") if hasattr(nanohf.cli, "load_glue") else None
wrap(Trainer, "train", "train (other)")
wrap(Trainer, "compute_loss", lambda *a, **k: "forward" if in_training() else "eval forward")
wrap(nanohf.autograd.Loss, "backward", "backward")
wrap(nanohf.trainer.loop, "_optimizer_step", "optimizer (clip, AdamW, schedule)")
wrap(Trainer, "evaluate", "evaluate (other)")
wrap(Trainer, "prediction_step", "eval forward")
wrap(Trainer, "save_model", "save")
wrap(nanohf, "pipeline", "pipeline (load)")


def main(argv: list[str]) -> None:
    import nanohf.pipelines.base as base

    wrap(base.Pipeline, "__call__", "pipeline (run)") if hasattr(base, "Pipeline") else None
    w0, c0 = time.perf_counter(), _cpu()
    with phase("load, setup, print"):
        nanohf.cli.main(["demo", *argv])
    total_w, total_c = time.perf_counter() - w0, _cpu() - c0
    print(f"\n{'phase':<36}{'wall s':>9}{'cpu s':>9}{'calls':>7}")
    for name, seconds in sorted(wall.items(), key=lambda item: -item[1]):
        print(f"{name:<36}{seconds:9.2f}{cpu[name]:9.2f}{calls[name]:7d}")
    print(f"{'total (in process)':<36}{total_w:9.2f}{total_c:9.2f}")
    per_kernel = collections.defaultdict(list)
    for kernel, signature, cached, seconds, cpu_seconds in compiles:
        per_kernel[kernel].append((signature, cached, seconds, cpu_seconds))
    new = sum(1 for c in compiles if not c[2])
    print(f"\n{len(compiles)} signatures ({new} compiled, {len(compiles) - new} loaded from the disk cache)")
    print(f"{'kernel':<44}{'sigs':>5}{'wall s':>8}{'cpu s':>8}")
    for kernel, rows in sorted(per_kernel.items(), key=lambda item: -sum(r[2] for r in item[1])):
        print(f"{kernel:<44}{len(rows):5d}{sum(r[2] for r in rows):8.2f}{sum(r[3] for r in rows):8.2f}")
        if "-v" in sys.argv[:1] or len(rows) > 1:
            for signature, cached, seconds, _ in rows:
                print(f"    {'cache ' if cached else ''}{seconds:6.2f}  {signature[:150]}")


if __name__ == "__main__":
    main(sys.argv[1:])

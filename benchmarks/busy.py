"""A busy machine on purpose, and how busy the machine was anyway.

* ``BackgroundLoad``: a context manager that starts one Python process spinning in a loop (``while True:
  pass``, one core's worth of work; the scheduler may move it between cores, as a laptop's browser would be
  moved) and stops it on exit. run.py --busy times every workload again inside it.
* ``CpuMeter``: what the other processes of the machine did while a workload was timed, from /proc/stat
  (every core's busy ticks) minus this process's own CPU time (all its threads) and the spinner's. It reads
  in cores: 0.0 means the two libraries had the machine to themselves, 1.0 that others kept one core busy.
  The 1-minute load average is recorded beside it, but it counts the benchmark's own threads too.
"""

import os
import subprocess
import sys
import time

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_s() -> float | None:
    """Seconds of CPU all cores spent busy since boot (user, nice, system, irq, softirq, steal), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / _TICKS_PER_S


def _process_cpu_s(pid: int) -> float:
    """User + system seconds of process `pid` (all its threads), from /proc/<pid>/stat; 0.0 if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after "(comm)", which may contain spaces
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S  # utime, stime: fields 14 and 15 of stat


class BackgroundLoad:
    """``with BackgroundLoad(): ...`` runs the block beside one process spinning on one core."""

    def __init__(self):
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "BackgroundLoad":
        self.process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.2)  # the interpreter starts and reaches its loop
        return self

    def cpu_s(self) -> float:
        """CPU seconds the spinner has used so far (0.0 outside the block)."""
        return _process_cpu_s(self.process.pid) if self.process and self.process.poll() is None else 0.0

    def __exit__(self, *exc) -> None:
        self.process.kill()
        self.process.wait()
        self.process = None


class CpuMeter:
    """``meter = CpuMeter(load); ...; meter.read()`` → {"other_cores", "loadavg_1min", "wall_s"} of the span.

    ``load`` is the BackgroundLoad running during the span, if any: its CPU time is ours, not the others'.
    """

    def __init__(self, load: BackgroundLoad | None = None):
        self.load = load
        self.start = self._snapshot()

    def _snapshot(self) -> tuple[float, float | None, float, float]:
        times = os.times()
        spinner = self.load.cpu_s() if self.load else 0.0
        return time.perf_counter(), _machine_busy_s(), times.user + times.system, spinner

    def read(self) -> dict:
        (wall0, busy0, own0, spin0), (wall1, busy1, own1, spin1) = self.start, self._snapshot()
        wall = wall1 - wall0
        others = None
        if busy0 is not None and busy1 is not None and wall > 0:
            # Tick counts are coarse (10 ms): a short span can come out slightly negative.
            others = max(0.0, ((busy1 - busy0) - (own1 - own0) - (spin1 - spin0)) / wall)
        return {"other_cores": others, "loadavg_1min": os.getloadavg()[0], "wall_s": wall}

"""Data-parallel training over MPI: one process (a *rank*) per core or machine, each with a full copy of the model.

    mpiexec -n 2 python train.py        # two ranks; `python train.py` alone is a world of one

Every rank starts from rank 0's weights (`broadcast_parameters`), trains on its own shard of each batch
(`DataLoader(..., num_shards=world_size(), shard_index=rank())`), and after the backward averages its
gradients with everyone else's (`all_reduce_gradients`). All ranks then hold the same gradient, so the same
optimizer step keeps their weights identical: W ranks with batch B each do what one process does with
batch W·B, in about the time of one batch B (see docs/distributed.md for the cost).

Without mpi4py, or when the script was not started by an MPI launcher (no PMI_SIZE / OMPI_COMM_WORLD_SIZE
in the environment), the world is one process and every function here is a cheap no-op.

A failing rank must not leave the others waiting forever inside a collective operation, so under MPI

* an uncaught exception on any rank prints its traceback and aborts the whole run (MPI_Abort), and
* every collective runs under a watchdog: a rank that waits longer than ``NANOHF_COLLECTIVE_TIMEOUT``
  seconds (default 300) for the others aborts the run, naming the operation it was waiting in.
"""

import os
import shutil
import sys
import sysconfig
import threading
import time
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nanohf.nn.module import Parameter

# Gradients travel in buffers of about this size (torch DDP's default bucket_cap_mb): a few large messages
# reach the link's bandwidth, where one message per parameter (~100 for BERT) would pay its latency each.
BUCKET_BYTES = 25 * 2**20
TIMEOUT_ENV = "NANOHF_COLLECTIVE_TIMEOUT"
DEFAULT_TIMEOUT = 300.0
ABORT_GRACE_SECONDS = 1.0
# Set by MPICH/Intel MPI (Hydra), Open MPI, MVAPICH and Slurm's PMI when they start a process.
_LAUNCHER_ENV = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_RANK")


class World:
    """The processes of one run: ``size`` ranks, this one is ``rank``; ``comm`` is the MPI communicator
    (None for a world of one)."""

    def __init__(self, comm=None, timeout: float = DEFAULT_TIMEOUT):
        self.comm = comm
        self.size = 1 if comm is None else comm.Get_size()
        self.rank = 0 if comm is None else comm.Get_rank()
        self.timeout = timeout
        self._watchdog = _Watchdog(self) if self.size > 1 else None

    @property
    def is_main_process(self) -> bool:
        return self.rank == 0

    @contextmanager
    def collective(self, what: str):
        """Run a collective operation under the watchdog (see the module docstring)."""
        if self._watchdog is None:
            yield
            return
        self._watchdog.arm(what, self.timeout)
        try:
            yield
        finally:
            self._watchdog.disarm()

    def abort(self, message: str, code: int = 1) -> None:
        """Print ``message`` and stop every rank of the run (not just this one)."""
        sys.stderr.write(f"[nanohf.distributed rank {self.rank}/{self.size}] {message}\n")
        sys.stderr.flush()
        sys.stdout.flush()
        # MPI_Abort kills every process at once, the launcher's output forwarders too: give them a moment to pass
        # on what this rank just printed (without it the traceback was sometimes cut off mid-line).
        time.sleep(ABORT_GRACE_SECONDS)
        try:
            self.comm.Abort(code)
        finally:  # Abort does not return; should it fail, leaving alone still ends the run (the launcher sees it)
            os._exit(code)

    def __repr__(self) -> str:
        return f"World(rank={self.rank}, size={self.size})"


class _Watchdog:
    """A thread that aborts the run when a collective operation lasts longer than its deadline.

    mpi4py releases the GIL while MPI blocks, so this thread runs while the main one waits. Polling four
    times a second costs nothing measurable and keeps the reaction time well under a second.
    """

    def __init__(self, world: World):
        self.world = world
        self.what, self.deadline, self.timeout = None, None, None
        threading.Thread(target=self._watch, name="nanohf-collective-watchdog", daemon=True).start()

    def arm(self, what: str, timeout: float) -> None:
        self.what, self.timeout = what, timeout
        self.deadline = time.monotonic() + timeout

    def disarm(self) -> None:
        self.deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(0.25)
            deadline = self.deadline
            if deadline is not None and time.monotonic() > deadline:
                self.world.abort(
                    f"waited {self.timeout:.0f} s in {self.what} for the other ranks: one of them has failed or hangs. "
                    f"Aborting the whole run (set {TIMEOUT_ENV} to wait longer).", code=3,
                )  # fmt: skip


_world: World | None = None


def launched_under_mpi() -> bool:
    """True when an MPI launcher (mpiexec, mpirun, srun) started this process."""
    return any(name in os.environ for name in _LAUNCHER_ENV)


def get_world() -> World:
    """The run's World, set up on first use: MPI is initialised only when launched under MPI."""
    global _world
    if _world is None:
        _world = _init_world()
    return _world


def _init_world() -> World:
    timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    if not launched_under_mpi():
        return World(None, timeout)
    try:
        from mpi4py import MPI
    except ImportError:
        sys.stderr.write("nanohf.distributed: launched by an MPI launcher but mpi4py is not installed "
                         "(pip install 'nanohf[mpi]'); every process trains alone as a world of one.\n")  # fmt: skip
        return World(None, timeout)
    world = World(MPI.COMM_WORLD, timeout)
    if world.size > 1:
        _abort_on_uncaught_exception(world)
        _share_cores(world)
    return world


def _abort_on_uncaught_exception(world: World) -> None:
    """An exception that ends one rank ends the run: without this the others would wait in their next
    collective forever (and the failing rank itself in MPI_Finalize)."""
    previous_hook = sys.excepthook

    def hook(exc_type, exc, traceback):
        previous_hook(exc_type, exc, traceback)
        world.abort(f"failed with {exc_type.__name__}: {exc} — aborting all {world.size} ranks.")

    sys.excepthook = hook


def _share_cores(world: World) -> None:
    """Give each rank its share of the machine's cores for BLAS and Numba threads, unless the user chose.

    Two ranks each running a BLAS pool as large as the machine fight over the same cores: steps get
    slower and noisier than with one thread per core. Environment variables set at launch
    (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, NUMBA_NUM_THREADS) win.
    """
    from mpi4py import MPI

    ranks_here = world.comm.Split_type(MPI.COMM_TYPE_SHARED).Get_size()
    threads = max(1, (os.cpu_count() or 1) // ranks_here)
    if not any(name in os.environ for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            threadpool_limits(threads)
    if "NUMBA_NUM_THREADS" not in os.environ:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def find_mpiexec() -> str:
    """The ``mpiexec`` to launch ranks with: the one the ``mpich`` wheel installs into this Python's scripts
    folder (next to ``sys.executable`` in a venv), else the first on PATH."""
    candidates = [Path(sysconfig.get_path("scripts")) / "mpiexec", Path(sys.executable).parent / "mpiexec"]
    found = next((str(path) for path in candidates if path.is_file()), None) or shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("no mpiexec found next to this Python nor on PATH: pip install 'nanohf[mpi]' "
                                "(mpi4py and the mpich wheel, which ships mpiexec)")  # fmt: skip
    return found


def world_size() -> int:
    return get_world().size


def rank() -> int:
    return get_world().rank


def is_main_process() -> bool:
    return get_world().is_main_process


# --- collective operations ------------------------------------------------------------------------------------
def _buckets(arrays: list[np.ndarray], bucket_bytes: int) -> list[list[int]]:
    """Indices of ``arrays`` grouped into runs of one dtype of about ``bucket_bytes`` each."""
    buckets, current, size = [], [], 0
    for i, array in enumerate(arrays):
        if current and (size + array.nbytes > bucket_bytes or array.dtype != arrays[current[0]].dtype):
            buckets.append(current)
            current, size = [], 0
        current.append(i)
        size += array.nbytes
    return buckets + [current] if current else buckets


def all_reduce_gradients(parameters: Iterable[Parameter], bucket_bytes: int = BUCKET_BYTES) -> int:
    """Replace every ``param.grad`` by its average over the ranks; returns the bytes each rank sent in.

    The gradients are packed into a few contiguous buffers (``bucket_bytes`` each), summed by one
    MPI_Allreduce per buffer, scaled by 1/size, and handed back as views of the buffers (no copy out).
    A parameter keeps ``grad = None`` only if it has no gradient on any rank (so the optimizer skips it
    everywhere alike); elsewhere a missing gradient counts as zeros.

    The reduction runs after the whole backward, not overlapped with it as torch DDP does: the backward is
    a sequence of NumPy calls on the main thread, MPICH makes progress on a non-blocking reduction only
    inside MPI calls, and with one rank per core there is no idle core to run the reduction meanwhile.
    On this 2-core machine the reduction is 7% of a MiniLM step (0.36 s of 4.8 s, benchmarks/distributed.py),
    which bounds what overlapping could win.
    """
    world = get_world()
    params = [p for p in parameters if p.requires_grad]
    if world.size == 1:
        return 0
    from mpi4py import MPI

    has_grad = np.array([p.grad is not None for p in params], dtype=np.int8)
    with world.collective("all_reduce_gradients (which parameters have gradients)"):
        world.comm.Allreduce(MPI.IN_PLACE, has_grad, op=MPI.MAX)
    params = [p for p, has in zip(params, has_grad, strict=True) if has]
    sent = 0
    for bucket in _buckets([p.data for p in params], bucket_bytes):
        members = [params[i] for i in bucket]
        flat = np.zeros(sum(p.data.size for p in members), dtype=members[0].data.dtype)
        offsets = np.cumsum([0] + [p.data.size for p in members])
        for p, start, stop in zip(members, offsets[:-1], offsets[1:], strict=True):
            if p.grad is not None:
                flat[start:stop] = p.grad.reshape(-1)
        with world.collective(f"all_reduce_gradients ({flat.nbytes / 2**20:.1f} MiB bucket)"):
            world.comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
        flat *= flat.dtype.type(1.0 / world.size)
        for p, start, stop in zip(members, offsets[:-1], offsets[1:], strict=True):
            p.grad = flat[start:stop].reshape(p.data.shape)
        sent += flat.nbytes
    return sent


def broadcast_parameters(parameters: Iterable[Parameter], root: int = 0, bucket_bytes: int = BUCKET_BYTES) -> int:
    """Overwrite every rank's weights, in place, with rank ``root``'s; returns the bytes broadcast."""
    world = get_world()
    params = list(parameters)
    if world.size == 1:
        return 0
    sent = 0
    for bucket in _buckets([p.data for p in params], bucket_bytes):
        members = [params[i] for i in bucket]
        flat = np.concatenate([p.data.reshape(-1) for p in members])
        with world.collective(f"broadcast_parameters ({flat.nbytes / 2**20:.1f} MiB bucket)"):
            world.comm.Bcast(flat, root=root)
        start = 0
        for p in members:  # in place: tied weights and views of them stay shared
            p.data[...] = flat[start:start + p.data.size].reshape(p.data.shape)
            start += p.data.size
        sent += flat.nbytes
    return sent


def all_reduce(values, op: str = "sum") -> np.ndarray:
    """Sum (``op="sum"``), average (``"mean"``) or maximum (``"max"``) of a small array over the ranks."""
    world = get_world()
    array = np.array(values, dtype=np.float64)
    if world.size == 1:
        return array
    from mpi4py import MPI

    with world.collective(f"all_reduce({op})"):
        world.comm.Allreduce(MPI.IN_PLACE, array, op=MPI.MAX if op == "max" else MPI.SUM)
    return array / world.size if op == "mean" else array


def all_gather_object(obj) -> list:
    """Every rank's ``obj`` (any picklable value), in rank order, on every rank."""
    world = get_world()
    if world.size == 1:
        return [obj]
    with world.collective("all_gather_object"):
        return world.comm.allgather(obj)


def broadcast_object(obj, root: int = 0):
    """Rank ``root``'s ``obj`` on every rank."""
    world = get_world()
    if world.size == 1:
        return obj
    with world.collective("broadcast_object"):
        return world.comm.bcast(obj, root=root)


def barrier(what: str = "barrier") -> None:
    """Wait until every rank gets here (e.g. rank 0 has finished writing a checkpoint)."""
    world = get_world()
    if world.size > 1:
        with world.collective(what):
            world.comm.Barrier()

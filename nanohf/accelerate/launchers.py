"""``notebook_launcher``: run a training function in this process, or on every rank of an MPI run.

accelerate forks ``num_processes`` workers from the notebook (torch's elastic launcher). nanohf's ranks
are MPI processes, which a launcher must start: from a notebook, ``num_processes=1`` runs the function
here; for several, put the function in a script and start it with ``mpiexec -n N python script.py``,
where ``notebook_launcher(function, args)`` runs it on every rank.
"""

from collections.abc import Callable

from nanohf import distributed as dist
from nanohf.accelerate.accelerator import PRECISIONS


def notebook_launcher(function: Callable, args: tuple = (), num_processes: int | None = None,
                      mixed_precision: str = "no", use_port: str = "29500", master_addr: str = "127.0.0.1",
                      node_rank: int = 0, num_nodes: int = 1, rdzv_backend: str = "static", rdzv_endpoint: str = "",
                      rdzv_conf: dict | None = None, rdzv_id: str = "none", max_restarts: int = 0,
                      monitor_interval: float = 0.1, log_line_prefix_template: str | None = None):  # fmt: skip
    """``function(*args)`` on each process of the run (see the module docstring); returns its result."""
    if str(mixed_precision).lower() not in PRECISIONS:
        raise ValueError(f"Unknown mixed_precision mode: {mixed_precision}. Choose between {list(PRECISIONS)}.")
    world = dist.get_world()
    if world.size > 1:  # started by mpiexec: every rank is already here
        if num_processes not in (None, world.size):
            raise ValueError(
                f"notebook_launcher(num_processes={num_processes}) inside an MPI run of {world.size} "
                "ranks: the launcher decides the number of processes (mpiexec -n N)"
            )
        return function(*args)
    if num_processes is None:
        raise ValueError(
            "You have to specify the number of devices you would like to use, add `num_processes=...` to your call."
        )
    if node_rank >= num_nodes:
        raise ValueError("The node_rank must be less than the number of nodes.")
    if num_processes > 1:
        raise RuntimeError(
            f"notebook_launcher(num_processes={num_processes}): nanohf's processes are MPI ranks, "
            "which cannot be forked from this process. Put the function in a script and run "
            f"`mpiexec -n {num_processes} python script.py` (it calls notebook_launcher on every "
            "rank), or use num_processes=1."
        )
    print("Launching training on CPU.")
    return function(*args)

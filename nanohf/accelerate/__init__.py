"""🤗 accelerate's manual-loop helpers, data-parallel over MPI (see accelerator.py for the loop).

accelerator.py      Accelerator: prepare, backward, accumulate, gather/reduce, save_state/load_state
wrappers.py         what prepare returns: optimizers/schedulers that skip between sync steps, sharded loaders
operations.py       gather, gather_object, pad_across_processes, reduce on nested arrays
checkpointing.py    save_state's files (safetensors + JSON, no pickle)
config.py           ProjectConfiguration, GradientAccumulationPlugin, DataLoaderConfiguration
launchers.py        notebook_launcher
"""

from nanohf.accelerate.accelerator import Accelerator
from nanohf.accelerate.config import DataLoaderConfiguration, GradientAccumulationPlugin, ProjectConfiguration
from nanohf.accelerate.launchers import notebook_launcher
from nanohf.accelerate.operations import gather, gather_object, pad_across_processes, reduce

__all__ = ["Accelerator", "DataLoaderConfiguration", "GradientAccumulationPlugin", "ProjectConfiguration", "gather",
           "gather_object", "notebook_launcher", "pad_across_processes", "reduce"]  # fmt: skip

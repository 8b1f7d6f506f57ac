"""The small configuration objects 🤗 accelerate's ``Accelerator`` takes, with accelerate's fields and defaults."""

import os
from dataclasses import dataclass


@dataclass
class ProjectConfiguration:
    """Where ``save_state`` writes: with ``automatic_checkpoint_naming``, ``project_dir/checkpoints/checkpoint_<i>``
    (``iteration`` counts the saves; at most ``total_limit`` are kept, the oldest deleted first)."""

    project_dir: str | None = None
    logging_dir: str | None = None
    automatic_checkpoint_naming: bool = False
    total_limit: int | None = None
    iteration: int = 0
    save_on_each_node: bool = False

    def __post_init__(self):
        if self.logging_dir is None:
            self.logging_dir = self.project_dir

    def set_directories(self, project_dir: str | os.PathLike | None = None) -> None:
        """Set ``project_dir`` (and ``logging_dir`` when it was not chosen)."""
        self.project_dir = project_dir
        if self.logging_dir is None:
            self.logging_dir = project_dir


@dataclass
class GradientAccumulationPlugin:
    """``num_steps`` batches per optimizer step. ``sync_with_dataloader``: the last batch of an epoch always ends
    a step (a short group is not carried into the next epoch); ``adjust_scheduler``: a prepared scheduler's step
    count moves on skipped steps too; ``sync_each_batch``: average gradients on every batch anyway."""

    num_steps: int | None = None
    adjust_scheduler: bool = True
    sync_with_dataloader: bool = True
    sync_each_batch: bool = False


@dataclass
class DataLoaderConfiguration:
    """How ``prepare`` shards a DataLoader. ``split_batches``: each batch of the loader is split over the ranks
    (batch_size is the global batch) instead of each rank taking whole batches; ``even_batches``: every rank
    gets the same number of batches, the last completed with examples from the start (nanohf always does)."""

    split_batches: bool = False
    dispatch_batches: bool | None = None
    even_batches: bool = True
    use_seedable_sampler: bool = False
    data_seed: int | None = None
    non_blocking: bool = False
    use_stateful_dataloader: bool = False

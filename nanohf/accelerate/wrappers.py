"""What ``Accelerator.prepare`` returns: optimizers and schedulers that know about gradient accumulation, and
DataLoaders sharded over the ranks that tell the Accelerator where in an epoch they are.

Gradient accumulation (``Accelerator(gradient_accumulation_steps=k)`` and ``with accelerator.accumulate(model)``)
as accelerate does it: each ``accumulate`` block counts one batch; every k-th batch, and the last batch of
the epoch, is a *sync* step (``accelerator.sync_gradients`` is True). Between them

    accelerator.backward(loss)   adds the gradient of loss / k, without averaging it over the ranks
    optimizer.step()             does nothing (the prepared optimizer skips it), as does optimizer.zero_grad()
    scheduler.step()             does nothing (the prepared scheduler only counts it)

so the training loop is written as if every batch were a step, and k batches make one.
"""

from nanohf import distributed as dist
from nanohf.data.dataloader import DataLoader
from nanohf.optim.optimizer import Optimizer


class GradientState:
    """Shared by an Accelerator and what it prepared: whether this batch ends an optimizer step, and which
    prepared DataLoader (innermost first) is serving batches."""

    def __init__(self, num_steps: int = 1, adjust_scheduler: bool = True, sync_with_dataloader: bool = True,
                 sync_each_batch: bool = False):  # fmt: skip
        self.num_steps = num_steps
        self.adjust_scheduler = adjust_scheduler
        self.sync_with_dataloader = sync_with_dataloader
        self.sync_each_batch = sync_each_batch
        self.sync_gradients = True
        self.dataloaders: list[PreparedDataLoader] = []

    @property
    def active_dataloader(self) -> "PreparedDataLoader | None":
        return self.dataloaders[-1] if self.dataloaders else None

    @property
    def in_dataloader(self) -> bool:
        return bool(self.dataloaders)

    @property
    def end_of_dataloader(self) -> bool:
        """True while the active DataLoader serves the last batch of its epoch."""
        return self.in_dataloader and self.active_dataloader.end_of_dataloader

    @property
    def remainder(self) -> int:
        """How many examples the active DataLoader's last global batch really holds (-1: unknown, or drop_last)."""
        return self.active_dataloader.remainder if self.in_dataloader else -1

    def __repr__(self) -> str:
        return (
            f"GradientState(sync_gradients={self.sync_gradients}, num_steps={self.num_steps}, "
            f"end_of_dataloader={self.end_of_dataloader}, remainder={self.remainder})"
        )


class AcceleratedOptimizer(Optimizer):
    """An optimizer whose ``step`` and ``zero_grad`` run only on sync steps (see the module docstring).
    Everything else (``param_groups``, ``state``, ``state_dict``, ...) is the wrapped optimizer's."""

    def __init__(self, optimizer: Optimizer, gradient_state: GradientState):  # no super().__init__: nothing to own
        self.optimizer = optimizer
        self.gradient_state = gradient_state
        self._is_overflow = False

    param_groups = property(lambda self: self.optimizer.param_groups,
                            lambda self, groups: setattr(self.optimizer, "param_groups", groups))  # fmt: skip
    state = property(lambda self: self.optimizer.state, lambda self, state: setattr(self.optimizer, "state", state))
    defaults = property(lambda self: self.optimizer.defaults)

    def step(self, closure=None):
        if self.gradient_state.sync_gradients:
            return self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        return None

    def zero_grad(self, set_to_none: bool | None = None) -> None:
        if self.gradient_state.sync_gradients:
            self.optimizer.zero_grad(set_to_none=True if set_to_none is None else set_to_none)

    def add_param_group(self, param_group: dict) -> None:
        self.optimizer.add_param_group(param_group)

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.optimizer.load_state_dict(state_dict)

    @property
    def step_was_skipped(self) -> bool:
        """Whether the last step was skipped for an fp16 overflow: never here (no loss scaling)."""
        return self._is_overflow

    def __repr__(self) -> str:
        return f"AcceleratedOptimizer({self.optimizer!r})"


class AcceleratedScheduler:
    """A learning-rate scheduler that steps with the optimizer: not at all between sync steps, and, when each
    rank took whole batches (``split_batches=False``), ``num_processes`` times per step, as accelerate does, so
    a schedule written for one process's number of batches ends on time. ``step_with_optimizer=False``:
    every ``step()`` steps once."""

    def __init__(self, scheduler, optimizers, gradient_state: GradientState, step_with_optimizer: bool = True,
                 split_batches: bool = False):  # fmt: skip
        self.scheduler = scheduler
        self.optimizers = optimizers if isinstance(optimizers, (list, tuple)) else [optimizers]
        self.gradient_state = gradient_state
        self.step_with_optimizer = step_with_optimizer
        self.split_batches = split_batches

    def step(self, *args, **kwargs) -> None:
        if not self.step_with_optimizer:
            self.scheduler.step(*args, **kwargs)
            return
        if not self.gradient_state.sync_gradients:
            if self.gradient_state.adjust_scheduler:
                self.scheduler._step_count += 1
            return
        if any(getattr(opt, "step_was_skipped", False) for opt in self.optimizers):
            return
        for _ in range(1 if self.split_batches else dist.world_size()):
            self.scheduler.step(*args, **kwargs)

    def get_last_lr(self) -> list[float]:
        return self.scheduler.get_last_lr()

    def get_lr(self) -> list[float]:
        return self.scheduler.get_lr()

    def state_dict(self) -> dict:
        return self.scheduler.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.scheduler.load_state_dict(state_dict)

    def __getattr__(self, name: str):  # last_epoch, base_lrs, optimizer, ... of the wrapped scheduler
        if name == "scheduler":
            raise AttributeError(name)
        return getattr(self.scheduler, name)


class PreparedDataLoader(DataLoader):
    """A DataLoader sharded for this rank (see nanohf/data/dataloader.py for which batches it takes) that
    marks the last batch of each epoch (``end_of_dataloader``) and skips its first ``skip_batches`` batches.

    ``iteration`` counts the finished passes and is the epoch the next pass uses (``set_epoch`` sets it), so a
    run saved mid-epoch by ``save_state`` replays that epoch's order after ``load_state``.
    """

    def __init__(self, loader: DataLoader, gradient_state: GradientState, split_batches: bool = False,
                 skip_batches: int = 0):  # fmt: skip
        world = dist.get_world()
        batch_size = loader.batch_size
        if split_batches and world.size > 1:
            if batch_size % world.size:
                raise ValueError(
                    f"To use a `DataLoader` in `split_batches` mode, the batch size ({batch_size}) "
                    f"needs to be a round multiple of the number of processes ({world.size})."
                )
            batch_size //= world.size  # rank r's part of global batch s is then exactly batch s·W + r
        super().__init__(loader.dataset, batch_size, loader.shuffle, loader.seed, loader.drop_last,
                         loader.collate_fn, loader.lengths, world.size, world.rank)  # fmt: skip
        self.gradient_state = gradient_state
        self.split_batches = split_batches
        self.skip_batches = int(skip_batches)
        self.iteration = getattr(loader, "iteration", loader.epoch)
        self.end_of_dataloader = False
        self.remainder = -1
        self.base_dataloader = loader

    @property
    def total_batch_size(self) -> int:
        """Examples per step over all ranks."""
        return self.batch_size * self.num_shards

    def set_epoch(self, epoch: int) -> None:
        self.iteration = self.epoch = int(epoch)

    def __iter__(self):
        self.end_of_dataloader = False
        self.remainder = -1 if self.drop_last else len(self.dataset) % self.total_batch_size
        self.epoch = self.iteration
        batches = self.index_batches()
        self.gradient_state.dataloaders.append(self)
        try:
            for self.batch_number, indices in enumerate(batches):
                if self.batch_number < self.skip_batches:
                    continue
                batch = self.fetch(indices)
                self.end_of_dataloader = self.batch_number == len(batches) - 1
                yield batch
            self.iteration += 1
            self.epoch = self.iteration
        finally:
            self.gradient_state.dataloaders = [d for d in self.gradient_state.dataloaders if d is not self]

    def index_batches(self, epoch=None):
        """Every batch of the epoch, the skipped ones included (``__iter__`` leaves them out)."""
        skip, self.skip_batches = self.skip_batches, 0  # len(self) below must count the whole epoch
        try:
            return super().index_batches(epoch)
        finally:
            self.skip_batches = skip

    def __len__(self) -> int:
        """Batches per pass of this rank, the skipped ones not counted."""
        return max(0, super().__len__() - self.skip_batches)

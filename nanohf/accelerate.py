"""`Accelerator`: data parallelism for a hand-written training loop, with 🤗 accelerate's names.

    accelerator = Accelerator()
    model, optimizer, train_dataloader, eval_dataloader = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader)
    for batch in train_dataloader:             # this rank's shard of each epoch
        loss = model(**batch).loss
        accelerator.backward(loss)             # backward, then gradients averaged over the ranks
        optimizer.step(); lr_scheduler.step(); optimizer.zero_grad()
    for batch in eval_dataloader:
        predictions = accelerator.gather_for_metrics(model(**batch).logits.argmax(-1))  # every rank's rows
    accelerator.print("done")                  # printed once, by rank 0

Run the script with ``mpiexec -n 2 python train.py``; run alone, it is the same loop in one process.
Count the schedule's steps on the prepared loader (``len(train_dataloader)`` is this rank's share of the
batches): unlike accelerate, the scheduler is not wrapped to step once per rank.
Only the pieces that matter on CPUs over MPI are here: no devices, no mixed precision.
"""

from contextlib import contextmanager

import numpy as np

from nanohf import distributed as dist
from nanohf.data.dataloader import DataLoader
from nanohf.nn.module import Module


class Accelerator:
    def __init__(self):
        self.world = dist.get_world()
        self._models: list[Module] = []
        self._no_sync: set[int] = set()
        self._active_loader: DataLoader | None = None  # the prepared loader whose batch is being processed

    @property
    def num_processes(self) -> int:
        return self.world.size

    @property
    def process_index(self) -> int:
        return self.world.rank

    @property
    def is_main_process(self) -> bool:
        return self.world.is_main_process

    def prepare(self, *objects):
        """Models start from rank 0's weights; DataLoaders feed this rank's shard; optimizers and schedules
        need nothing (every rank applies the same averaged gradients). Returns the objects in order."""
        prepared = []
        for obj in objects:
            if isinstance(obj, Module):
                dist.broadcast_parameters(obj.parameters())
                self._models.append(obj)
            elif isinstance(obj, DataLoader):
                obj = _PreparedDataLoader(obj, self)
                if obj.shuffle and obj.seed is None and self.world.size > 1:
                    # Every rank must draw the same epoch orders, or the shards would overlap.
                    obj.seed = int(dist.broadcast_object(int(np.random.default_rng().integers(2**31))))
            prepared.append(obj)
        return prepared[0] if len(prepared) == 1 else tuple(prepared)

    def backward(self, loss) -> None:
        """``loss.backward()``, then every prepared model's gradients averaged over the ranks (skipped
        inside ``no_sync(model)``, for all but the last batch of a gradient-accumulation group)."""
        loss.backward()
        for model in self._models:
            if id(model) not in self._no_sync:
                dist.all_reduce_gradients(model.parameters())

    @contextmanager
    def no_sync(self, model: Module):
        """Let gradients accumulate locally; the next ``backward`` outside averages the sum once."""
        self._no_sync.add(id(model))
        try:
            yield
        finally:
            self._no_sync.discard(id(model))

    def gather(self, array) -> np.ndarray:
        """Every rank's ``array`` concatenated along the first axis, in rank order, on every rank."""
        parts = dist.all_gather_object(np.asarray(array))
        return np.concatenate(parts, axis=0)

    def gather_for_metrics(self, array) -> np.ndarray:
        """``gather`` without the rows a prepared loader repeated to give all ranks the same number of
        batches: gathered batch after batch, the result is the evaluation set once, in order."""
        array = np.asarray(array)
        loader = self._active_loader
        if loader is not None and loader.num_shards > 1:
            array = array[: loader.real_rows(loader.batch_number)]
        return self.gather(array)

    def reduce(self, value, reduction: str = "mean") -> np.ndarray:
        """A number or small array summed (``"sum"``) or averaged (``"mean"``) over the ranks."""
        return dist.all_reduce(value, op=reduction)

    def print(self, *args, **kwargs) -> None:
        """``print`` on rank 0 only."""
        if self.is_main_process:
            print(*args, **kwargs)

    def wait_for_everyone(self) -> None:
        dist.barrier("wait_for_everyone")

    @contextmanager
    def main_process_first(self):
        """Rank 0 runs the block first (e.g. tokenizing into the map cache), the others after it (reading
        that cache instead of all computing, and writing, the same files at once)."""
        if not self.is_main_process:
            dist.barrier("main_process_first (waiting for rank 0)")
        yield
        if self.is_main_process:
            dist.barrier("main_process_first (rank 0 done)")

    def unwrap_model(self, model: Module) -> Module:
        return model  # nothing wraps it: gradients are averaged by backward, not by a wrapper module


class _PreparedDataLoader(DataLoader):
    """A DataLoader sharded for this rank, which tells its Accelerator which batch it is serving."""

    def __init__(self, loader: DataLoader, accelerator: Accelerator):
        world = accelerator.world
        super().__init__(loader.dataset, loader.batch_size, loader.shuffle, loader.seed, loader.drop_last,
                         loader.collate_fn, loader.lengths, world.size, world.rank)  # fmt: skip
        self.epoch = loader.epoch
        self.accelerator = accelerator

    def __iter__(self):
        for batch in super().__iter__():
            self.accelerator._active_loader = self
            yield batch

"""`DataLoader`: cut a data set into batches (optionally shuffled) and collate each one, like torch's.

    loader = DataLoader(tokenized["train"], batch_size=8, shuffle=True, seed=42, collate_fn=collator)
    for epoch in range(3):
        loader.set_epoch(epoch)      # optional: the order of epoch e is the same in every run
        for batch in loader:         # dict of arrays from collate_fn
            ...

Shuffling: with a seed, epoch e uses the permutation of `np.random.default_rng((seed, epoch))`, so a
training run can be resumed mid-way with exactly the batches it would have seen (`set_epoch(e)`, then skip
the batches already done with `index_batches()`). Each pass over the loader moves on to the next epoch,
so iterating again reshuffles, as with torch. Without a seed, each pass draws a permutation from
`nanohf.random.get_generator()` (reproducible after `nanohf.set_seed`).

Data parallelism (`num_shards` ranks, see nanohf.distributed): every rank draws the same epoch order (same
seed) and takes every `num_shards`-th batch of it, as accelerate shards a batch sampler: rank r's step s is
batch s·num_shards + r. So one optimizer step sees the same examples as one process with batch
num_shards·batch_size. All ranks get the same number of batches: with `drop_last` the incomplete tail is
dropped; without, it is completed with examples from the start of the epoch order, and `real_rows(i)` says
how many leading rows of batch i are not such repeats (to drop them from evaluation).
"""

import math

import numpy as np

from .. import random as nanohf_random
from .collators import default_data_collator


class DataLoader:
    """Batches of examples from a nanohf Dataset, a 🤗 datasets.Dataset or a list of dicts.

    Args:
        dataset: anything with len() and dataset[i] -> example dict (`__getitems__` is used when present,
            to fetch a batch at once).
        batch_size: examples per batch.
        shuffle: a new random order every epoch.
        seed: makes the shuffled orders reproducible (see the module docstring).
        drop_last: skip the last batch if it is smaller than batch_size.
        collate_fn: list of examples -> batch (default: default_data_collator).
        lengths: per-example lengths; when given (with shuffle), batches group examples of similar length
            (see `group_by_length`), so dynamic padding adds little.
        num_shards, shard_index: data-parallel ranks, and the one this loader feeds (see the module docstring).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, seed=None, drop_last=False, collate_fn=None,
                 lengths=None, num_shards=1, shard_index=0):  # fmt: skip
        if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.collate_fn = collate_fn if collate_fn is not None else default_data_collator
        self.lengths = None if lengths is None else np.asarray(lengths)
        self.epoch = 0  # the epoch whose order the next pass uses
        if not 0 <= shard_index < num_shards:
            raise ValueError(f"shard_index must be in [0, num_shards={num_shards}), got {shard_index}")
        self.num_shards, self.shard_index = int(num_shards), int(shard_index)
        self.batch_number = -1  # the batch the current pass has reached

    def shard(self, num_shards, shard_index):
        """A copy of this loader that feeds rank `shard_index` of `num_shards`."""
        return DataLoader(self.dataset, self.batch_size, self.shuffle, self.seed, self.drop_last, self.collate_fn,
                          self.lengths, num_shards, shard_index)  # fmt: skip

    def __len__(self):
        """Number of batches per epoch (of this shard)."""
        n, rows = len(self.dataset), self.batch_size * self.num_shards
        if self.num_shards == 1:
            return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)
        return (n // self.batch_size) // self.num_shards if self.drop_last else math.ceil(n / rows)

    def _batch_start(self, i):
        """Position in the epoch order of batch i's first example."""
        return (i * self.num_shards + self.shard_index) * self.batch_size

    def real_rows(self, i):
        """How many leading rows of batch i are examples of this epoch, not repeats that even out the shards."""
        return int(np.clip(len(self.dataset) - self._batch_start(i), 0, self.batch_size))

    def set_epoch(self, epoch):
        """Make the next pass use the order of epoch `epoch`."""
        self.epoch = int(epoch)

    def order(self, epoch=None):
        """The example indices of one epoch (default: the next pass), in visiting order."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        if self.seed is None:
            order = nanohf_random.get_generator().permutation(n)
        else:
            order = np.random.default_rng((self.seed, self.epoch if epoch is None else epoch)).permutation(n)
        return order if self.lengths is None else group_by_length(order, self.lengths, self.batch_size)

    def index_batches(self, epoch=None):
        """The example indices of each batch of one epoch (default: the next pass): a list of int arrays."""
        order = self.order(epoch)
        if self.num_shards == 1:
            return [order[i:i + self.batch_size] for i in range(0, len(self) * self.batch_size, self.batch_size)]
        # Positions past the end wrap around to the start of the order (only without drop_last).
        starts = [self._batch_start(i) for i in range(len(self))]
        return [order[np.arange(start, start + self.batch_size) % len(order)] for start in starts]

    def fetch(self, indices):
        """Examples at `indices` -> collated batch."""
        indices = [int(i) for i in indices]
        getitems = getattr(self.dataset, "__getitems__", None)
        examples = getitems(indices) if getitems is not None else [self.dataset[i] for i in indices]
        return self.collate_fn(examples)

    def __iter__(self):
        batches = self.index_batches()
        self.epoch += 1
        for self.batch_number, indices in enumerate(batches):
            yield self.fetch(indices)

    def __repr__(self):
        return (f"DataLoader(batch_size={self.batch_size}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last}, batches={len(self)}"
                + (f", shard={self.shard_index}/{self.num_shards})" if self.num_shards > 1 else ")"))


def group_by_length(order, lengths, batch_size, megabatch_batches=50):
    """Reorder a shuffled epoch so that each batch holds examples of similar length.

    The shuffled order is cut into "megabatches" of 50 batches; each is sorted longest first. Batches
    stay random from one megabatch to the next, but inside a batch the lengths are close, so padding
    each batch to its own longest example wastes little (transformers' `group_by_length`).
    """
    size = batch_size * megabatch_batches
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    return np.concatenate([chunk[np.argsort(-lengths[chunk], kind="stable")] for chunk in chunks])

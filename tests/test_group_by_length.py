"""group_by_length: batches of similar-length examples, still a seeded shuffle of the whole epoch."""

import numpy as np

from nanohf.data.dataloader import DataLoader, group_by_length


def test_grouped_order_is_a_permutation_with_sorted_megabatches():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 60, 1000)
    order = rng.permutation(1000)
    grouped = group_by_length(order, lengths, batch_size=8, megabatch_batches=5)
    assert sorted(grouped.tolist()) == list(range(1000))
    for start in range(0, 1000, 40):  # each megabatch: the same examples, longest first
        chunk = grouped[start : start + 40]
        assert set(chunk.tolist()) == set(order[start : start + 40].tolist())
        assert np.all(np.diff(lengths[chunk]) <= 0)


def test_dataloader_with_lengths_pads_less_and_is_seeded():
    rng = np.random.default_rng(1)
    lengths = rng.integers(3, 60, 512)
    data = [{"input_ids": list(range(n))} for n in lengths]

    def padded_tokens(loader):
        return sum(len(batch) * max(lengths[batch]) for batch in loader.index_batches(0))

    plain = DataLoader(data, batch_size=16, shuffle=True, seed=3)
    grouped = DataLoader(data, batch_size=16, shuffle=True, seed=3, lengths=lengths)
    assert padded_tokens(grouped) < 0.7 * padded_tokens(plain)
    again = DataLoader(data, batch_size=16, shuffle=True, seed=3, lengths=lengths)
    assert all(np.array_equal(a, b) for a, b in zip(grouped.index_batches(0), again.index_batches(0), strict=True))

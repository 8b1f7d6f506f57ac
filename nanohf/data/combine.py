"""`concatenate_datasets` and `interleave_datasets`, as 🤗 datasets combines data sets.

    both = concatenate_datasets([train, extra])            # rows of train, then rows of extra (axis=0)
    wide = concatenate_datasets([texts, labels], axis=1)   # the columns side by side (same number of rows)
    mixed = interleave_datasets([en, fr], probabilities=[0.8, 0.2], seed=42)

Interleaving without probabilities cycles through the sources (one example of each in turn). With
probabilities, each next example comes from source `rng.choice(n, p=probabilities)` drawn in blocks of 1000
from `np.random.default_rng(seed)`, exactly as 🤗 datasets draws them, so the same seed gives the same rows.
`stopping_strategy`: "first_exhausted" stops when a source runs out, "all_exhausted" when every source has
been seen entirely (the others start again from their beginning), "all_exhausted_without_replacement" skips
exhausted sources. IterableDatasets are interleaved lazily (streaming.py).
"""

import numpy as np

from .columns import ObjectColumn, concat_columns, object_array
from .features import Features, align_features
from .fingerprint import hash_value
from .streaming import STRATEGIES, concatenate_iterable, interleave_iterable


def _is_iterable(ds):
    return hasattr(ds, "_ex_iterable")


def concatenate_datasets(dsets, info=None, split=None, axis=0):
    """Rows of each data set one after the other (axis=0; a missing column is None there), or the columns of
    data sets with the same number of rows side by side (axis=1; names must not repeat)."""
    dsets = list(dsets)
    if not dsets:
        raise ValueError("Unable to concatenate an empty list of datasets.")
    if any(_is_iterable(ds) for ds in dsets):
        if not all(_is_iterable(ds) for ds in dsets):
            raise ValueError("Unable to concatenate a Dataset with an IterableDataset: convert one of them first "
                             "(to_iterable_dataset()).")
        return concatenate_iterable(dsets, axis)
    first = dsets[0]
    format = first._format if all(ds._format == first._format for ds in dsets) else None
    fingerprint = hash_value("concatenate", axis, [ds.fingerprint for ds in dsets])
    if axis == 0:
        merged = align_features([ds.features for ds in dsets])
        columns = {}
        for name in merged:
            parts = []
            for ds in dsets:
                flat = ds.flatten_indices()
                parts.append(flat._columns[name] if name in flat._columns else
                             ObjectColumn(object_array([None] * len(flat))))
            columns[name] = concat_columns(parts, name, merged[name])
        num_rows = sum(len(ds) for ds in dsets)
        return type(first)(columns, Features(merged), num_rows, fingerprint=fingerprint, format=format)
    if axis != 1:
        raise ValueError(f"axis must be 0 or 1, not {axis!r}")
    if any(len(ds) != len(first) for ds in dsets):
        raise ValueError("Number of rows must match for all datasets")
    names = [name for ds in dsets for name in ds.column_names]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"The table can't have duplicated columns but columns {repeated} are duplicated.")
    columns, features = {}, Features()
    for ds in dsets:
        flat = ds.flatten_indices()
        columns.update(flat._columns)
        features.update(flat._features)
    return type(first)(columns, features, len(first), fingerprint=fingerprint, format=format)


def random_sources(num_sources, probabilities, seed):
    """The endless sequence of source picks 🤗 datasets draws: rng.choice(n, size=1000, p) block after block."""
    rng = np.random.default_rng(seed)
    while True:
        yield from (int(i) for i in rng.choice(num_sources, size=1000, p=probabilities))


def interleave_positions(lengths, probabilities=None, seed=None, stopping_strategy="first_exhausted"):
    """(source, row) pairs of an interleave of sources with these lengths (see the module docstring)."""
    if stopping_strategy not in STRATEGIES:
        raise ValueError(f"{stopping_strategy} is not supported. Please enter a valid stopping_strategy.")
    n = len(lengths)
    if probabilities is None:  # cycling: whole rounds of one example per source
        if stopping_strategy == "first_exhausted":
            return [(source, row) for row in range(min(lengths)) for source in range(n)]
        if stopping_strategy == "all_exhausted":
            return [(source, row % lengths[source]) for row in range(max(lengths)) for source in range(n)]
        return [(source, row) for row in range(max(lengths)) for source in range(n) if row < lengths[source]]
    picks = random_sources(n, probabilities, seed)
    oversample = stopping_strategy == "all_exhausted"
    replace = stopping_strategy != "all_exhausted_without_replacement"
    drawable = [p > 0 for p in probabilities]
    if oversample and not all(drawable):
        raise ValueError('interleave_datasets with stopping_strategy="all_exhausted" cannot exhaust a dataset that '
                         "is never sampled.")
    if replace and any(length == 0 and d for length, d in zip(lengths, drawable, strict=True)):
        raise ValueError("interleave_datasets with probabilities requires every dataset that can be sampled "
                         "(probability > 0) to be non-empty.")
    exhausted = [length == 0 for length in lengths]
    current = [0] * n
    out = []
    for source in picks:
        candidates = [e for e, d in zip(exhausted, drawable, strict=True) if d]
        if (all(candidates) if oversample or not replace else any(candidates)):
            break
        if not replace and exhausted[source]:
            continue
        out.append((source, current[source]))
        current[source] += 1
        if current[source] >= lengths[source]:
            exhausted[source] = True
            if replace:
                current[source] = 0
    return out


def _cycle(n):
    while True:
        yield from range(n)


def interleave_datasets(datasets, probabilities=None, seed=None, info=None, split=None,
                        stopping_strategy="first_exhausted"):
    """Alternate the examples of several data sets (see the module docstring); Datasets or IterableDatasets."""
    datasets = list(datasets)
    if not datasets:
        raise ValueError("Unable to interleave an empty list of datasets.")
    if probabilities is not None and len(probabilities) != len(datasets):
        raise ValueError(f"probabilities has {len(probabilities)} values for {len(datasets)} datasets")
    if stopping_strategy not in STRATEGIES:
        raise ValueError(f"{stopping_strategy} is not supported. Please enter a valid stopping_strategy.")
    if any(_is_iterable(ds) for ds in datasets):
        if not all(_is_iterable(ds) for ds in datasets):
            raise ValueError("Unable to interleave a Dataset with an IterableDataset: convert one of them first.")
        return interleave_iterable(datasets, probabilities, seed, stopping_strategy)
    lengths = [len(ds) for ds in datasets]
    offsets = np.cumsum([0] + lengths[:-1])
    pairs = interleave_positions(lengths, probabilities, seed, stopping_strategy)
    combined = concatenate_datasets(datasets)
    return combined.select([int(offsets[source]) + row for source, row in pairs])

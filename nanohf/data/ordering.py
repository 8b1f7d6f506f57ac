"""The arithmetic behind `Dataset.sort` and `Dataset.train_test_split`, kept apart from the Dataset class."""

import numpy as np


def sort_order(columns, reverses):
    """Row order sorting by several columns (lists of values), the first deciding, ties keeping their order.

    Stable sorts are applied from the last key to the first: each sort keeps the order of the previous one
    among its ties, so the first key decides and later keys break its ties. Missing values (None) go last
    whatever the direction, as 🤗 datasets (Arrow) puts them.
    """
    order = np.arange(len(columns[0]) if columns else 0, dtype=np.int64)
    for values, descending in reversed(list(zip(columns, reverses, strict=True))):
        missing = np.array([v is None for v in values], dtype=bool)
        if missing.any():  # any placeholder will do: these rows are moved last below
            fill = next((v for v in values if v is not None), 0)
            values = [fill if v is None else v for v in values]
        keys = np.array(values)[order]
        if descending:
            # Stable descending: sort the reversed keys ascending, map back, reverse the whole order.
            step = (len(keys) - 1 - np.argsort(keys[::-1], kind="stable"))[::-1]
        else:
            step = np.argsort(keys, kind="stable")
        order = order[step]
        order = order[np.argsort(missing[order], kind="stable")]
    return order


def split_sizes(n, test_size=None, train_size=None):
    """(n_train, n_test) for n rows, with 🤗 datasets' rules: a float is a fraction (test rounded up, train
    down), an int a number of rows; a missing size is the rest; test_size alone defaults to 0.25."""
    if test_size is None and train_size is None:
        test_size = 0.25
    for name, size in (("test_size", test_size), ("train_size", train_size)):
        if size is None:
            continue
        if not isinstance(size, (int, float)) or isinstance(size, bool):
            raise ValueError(f"Invalid value for {name}: {size} of type {type(size)}")
        if (isinstance(size, int) and not 0 < size < n) or (isinstance(size, float) and not 0 < size < 1):
            raise ValueError(f"{name}={size} should be either positive and smaller than the number of samples {n} "
                             "or a float in the (0, 1) range")
    if isinstance(test_size, float) and isinstance(train_size, float) and test_size + train_size > 1:
        raise ValueError(f"The sum of test_size and train_size = {test_size + train_size}, should be in the (0, 1) "
                         "range. Reduce test_size and/or train_size.")
    n_test = None if test_size is None else int(np.ceil(test_size * n)) if isinstance(test_size, float) else test_size
    n_train = (None if train_size is None else int(np.floor(train_size * n)) if isinstance(train_size, float)
               else train_size)
    n_train = n - n_test if n_train is None else n_train
    n_test = n - n_train if n_test is None else n_test
    if n_train + n_test > n:
        raise ValueError(f"The sum of train_size and test_size = {n_train + n_test}, should be smaller than the number "
                         f"of samples {n}. Reduce test_size and/or train_size.")
    if n_train == 0:
        raise ValueError(f"With n_samples={n}, test_size={test_size} and train_size={train_size}, the resulting train "
                         "set will be empty. Adjust any of the aforementioned parameters.")
    return n_train, n_test

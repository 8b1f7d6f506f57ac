"""Checks on the arrays a user hands a model, before any of them reaches a kernel.

Compiled kernels do not check bounds: an id past the end of an embedding table reads memory that
is not the table's (a wrong answer, or a segmentation fault), and a negative one silently reads a
row from the end. So every index array is checked at the entry points, with an error that names
the argument, the offending value and where it sits.
"""

import numpy as np


def check_ids_in_range(name: str, ids: np.ndarray, size: int, size_name: str) -> None:
    """Raise if any of ``ids`` lies outside ``[0, size)``, naming the first one and its position."""
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        bad = np.argwhere((ids < 0) | (ids >= size))[0]
        raise ValueError(
            f"{name} holds id {int(ids[tuple(bad)])} at position {tuple(int(i) for i in bad)}, "
            f"outside [0, {size_name}={size})"
        )

"""One seeded random generator for the whole library (weight init, dropout)."""

import random

import numpy as np

_generator = np.random.default_rng()


def set_seed(seed: int) -> None:
    """Seed nanohf's generator, NumPy's global one and Python's ``random``, like transformers.set_seed."""
    global _generator
    _generator = np.random.default_rng(seed)
    np.random.seed(seed)
    random.seed(seed)


def get_generator() -> np.random.Generator:
    """The generator every random draw in nanohf goes through."""
    return _generator

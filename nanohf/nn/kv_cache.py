"""The KV cache of generation: per layer, the keys and values of every token already seen.

A decoder step computes q, k, v for the new token(s) only; its attention needs the keys and values of
the whole sequence so far, so each layer keeps them::

    cache[layer].keys, .values              (batch, kv_heads, past_len, head_dim)   grow a token per step
    cache[layer].cross_keys, .cross_values  encoder-decoders only: the projected encoder states
                                            (batch, src, d_model), computed on the first step, then reused

``KVCache`` is what a model returns as ``past_key_values`` and takes back on the next call (the role of
transformers' ``DynamicCache`` / ``EncoderDecoderCache``). A model never changes a cache it was given:
each layer returns a new ``LayerCache`` (``extended``), so a cache can be fed twice. Beam search moves
rows with ``reorder(rows)``. Indexing keeps the older tuple spelling working: ``cache[i][0]`` is layer
i's keys, ``cache[i][2]`` its cross keys.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerCache:
    """One layer's cache. ``keys``/``values``: self-attention, ``(batch, kv_heads, len, head_dim)``;
    ``cross_keys``/``cross_values``: cross-attention over the encoder states (None in a decoder-only model)."""

    keys: np.ndarray
    values: np.ndarray
    cross_keys: np.ndarray | None = None
    cross_values: np.ndarray | None = None

    @property
    def length(self) -> int:
        """Tokens cached in the self-attention: ``keys.shape[2]``."""
        return self.keys.shape[2]

    def self_attention(self) -> tuple[np.ndarray, np.ndarray]:
        """``(keys, values)``: the ``past`` an attention core takes (nn/attention.py)."""
        return self.keys, self.values

    def cross_attention(self) -> tuple[np.ndarray, np.ndarray] | None:
        return None if self.cross_keys is None else (self.cross_keys, self.cross_values)

    def with_cross(self, keys: np.ndarray, values: np.ndarray) -> "LayerCache":
        return LayerCache(self.keys, self.values, keys, values)

    def reorder(self, rows: np.ndarray, cross_attention: bool = True) -> "LayerCache":
        """The cache of rows ``rows`` (beam search keeps some rows, several times). ``cross_attention=False``
        leaves the cross keys/values as they are: right when every row of a block holds the same encoder
        states (beams of one input), which saves a copy per step."""
        moved = cross_attention and self.cross_keys is not None
        return LayerCache(
            self.keys[rows],
            self.values[rows],
            self.cross_keys[rows] if moved else self.cross_keys,
            self.cross_values[rows] if moved else self.cross_values,
        )

    def as_tuple(self) -> tuple[np.ndarray, ...]:
        """The older positional form: ``(keys, values)`` or ``(keys, values, cross_keys, cross_values)``."""
        if self.cross_keys is None:
            return (self.keys, self.values)
        return (self.keys, self.values, self.cross_keys, self.cross_values)

    def __getitem__(self, index):
        return self.as_tuple()[index]

    def __len__(self) -> int:
        return len(self.as_tuple())

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self.as_tuple())


class KVCache:
    """A model's cache: one ``LayerCache`` per layer, in layer order (``len(cache)`` = number of layers)."""

    def __init__(self, layers: Iterable[LayerCache] = ()):
        self.layers: list[LayerCache] = list(layers)

    @classmethod
    def from_legacy(cls, past) -> "KVCache | None":
        """A ``KVCache`` from what a caller passed as ``past_key_values``: None, a KVCache, or the tuple form
        ``((k, v), ...)`` / ``((k, v, cross_k, cross_v), ...)`` (older code and transformers 4)."""
        if past is None or isinstance(past, KVCache):
            return past
        layers = []
        for i, entry in enumerate(past):
            if isinstance(entry, LayerCache):
                layers.append(entry)
            elif len(entry) in (2, 4):
                layers.append(LayerCache(*entry))
            else:
                raise ValueError(
                    f"past_key_values[{i}] has {len(entry)} arrays; a layer's cache is (keys, values) or "
                    f"(keys, values, cross_keys, cross_values)"
                )
        return cls(layers)

    def get_seq_length(self, layer_idx: int = 0) -> int:
        """Tokens already cached (transformers' name); 0 for an empty cache."""
        return self.layers[layer_idx].length if len(self.layers) > layer_idx else 0

    def reorder(self, rows: np.ndarray, cross_attention: bool = True) -> None:
        """Keep rows ``rows`` of every layer, in that order (beam search; see ``LayerCache.reorder``)."""
        self.layers = [layer.reorder(rows, cross_attention) for layer in self.layers]

    def reorder_cache(self, beam_idx: np.ndarray) -> None:
        """transformers' name for ``reorder``."""
        self.reorder(np.asarray(beam_idx))

    def __getitem__(self, index: int) -> LayerCache:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[LayerCache]:
        return iter(self.layers)

    def __repr__(self) -> str:
        return f"KVCache(layers={len(self.layers)}, seq_length={self.get_seq_length()})"

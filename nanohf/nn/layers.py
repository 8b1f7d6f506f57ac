"""The layers every model is built from. Each forward keeps, in ``training`` mode, only what
its backward will need; in eval mode it keeps nothing.

Shapes: ``x`` is ``(..., in_features)``; leading axes are flattened into rows so that every
matrix product is one large 2-D GEMM for BLAS.
"""

import numpy as np

from nanohf.kernels.activations import IDENTITY, bias_activation_forward, resolve_activation
from nanohf.kernels.embedding import gather_add_forward
from nanohf.kernels.layernorm import layernorm_forward
from nanohf.nn.module import Module, Parameter
from nanohf.random import get_generator


class Linear(Module):
    """``y = x @ W.T + b`` with ``W`` of shape ``(out_features, in_features)``, as torch stores it.

    ``activation`` fuses an activation into the bias add (``act(x @ W.T + b)``): one pass
    over the output instead of two.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str | None = None):
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=np.float32))
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None
        self.activation = IDENTITY if activation is None else resolve_activation(activation)

    def forward(self, x: np.ndarray) -> np.ndarray:
        rows = x.reshape(-1, x.shape[-1])
        h = rows @ self.weight.data.T
        bias = None if self.bias is None else self.bias.data
        if self.activation == IDENTITY:
            if bias is not None:
                h += bias
        else:
            bias_activation_forward(h, bias, self.activation, out=h)
        return h.reshape(*x.shape[:-1], h.shape[-1])


class Embedding(Module):
    """A lookup table ``(num_embeddings, embedding_dim)``; ``forward(ids)`` returns ``table[ids]``."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None):
        self.weight = Parameter(np.zeros((num_embeddings, embedding_dim), dtype=np.float32))
        self.padding_idx = padding_idx

    def forward(self, ids: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Adds ``table[ids]`` into ``out`` (``(batch, seq, dim)``) when given, else returns it."""
        if out is None:
            out = np.zeros((*ids.shape, self.weight.data.shape[1]), dtype=self.weight.data.dtype)
        return gather_add_forward(self.weight.data, ids, out)


class LayerNorm(Module):
    """Normalise the last axis to zero mean and unit variance, then scale and shift."""

    def __init__(self, normalized_shape: int, eps: float = 1e-5):
        self.weight = Parameter(np.ones(normalized_shape, dtype=np.float32))
        self.bias = Parameter(np.zeros(normalized_shape, dtype=np.float32))
        self.eps = eps

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        y, _, _ = layernorm_forward(x, self.weight.data, self.bias.data, self.eps, out=out)
        return y


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``."""

    def __init__(self, p: float = 0.1):
        self.p = float(p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            return x
        keep = get_generator().random(x.shape, dtype=np.float32) >= self.p
        return np.where(keep, x * np.float32(1.0 / (1.0 - self.p)), np.float32(0.0))


class Activation(Module):
    """A stand-alone activation by transformers name (``"gelu"``, ``"relu"``, ``"tanh"``, …)."""

    def __init__(self, name: str):
        self.name = name
        self.act = resolve_activation(name)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return bias_activation_forward(x, None, self.act)

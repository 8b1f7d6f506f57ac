"""The layers every model is built from, each forward beside its backward.

While gradients are enabled (see ``nanohf/autograd.py``) a forward keeps what its backward
needs; ``backward(d_out)`` adds the parameters' gradients into ``param.grad``, frees what the
forward kept and returns the gradient with respect to the input. Under ``no_grad`` nothing is
kept and LayerNorm and activations may work in place.

Shapes: ``x`` is ``(..., in_features)``; leading axes are flattened into rows so that every
matrix product is one large 2-D GEMM for BLAS.
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.kernels.activations import (
    IDENTITY,
    bias_activation_backward,
    bias_activation_forward,
    resolve_activation,
)
from nanohf.kernels.dropout import dropout_backward, dropout_forward
from nanohf.kernels.embedding import gather_add_forward, scatter_add_backward
from nanohf.kernels.layernorm import layernorm_backward, layernorm_forward
from nanohf.nn.freed_memory import FRESH_PAGES_FROM, release_freed_memory
from nanohf.nn.module import Module, Parameter, accumulate_grad
from nanohf.random import get_generator

FEW_ROWS = 128  # below this many rows Linear computes (W @ xᵀ)ᵀ (see Linear.project; measured on 2 cores)


class Linear(Module):
    """``y = act(x @ W.T + b)`` with ``W`` of shape ``(out_features, in_features)``, as torch stores it.

    ``activation`` (default none) fuses an activation into the bias add: one pass over the output
    instead of two.

    Backward, with ``d_pre = d_y · act'(x @ W.T + b)``:
        dW += d_preᵀ @ x        db += Σ_rows d_pre        dx = d_pre @ W

    ``forward(x, keep_input=False)`` keeps no copy of x: the caller then hands it back to the backward
    (``input_again``), as the feed-forward block does (nn/blocks.py, ``feed_forward``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, activation: str | None = None):
        self.weight = Parameter(np.zeros((out_features, in_features), dtype=np.float32))
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32)) if bias else None
        self.activation = IDENTITY if activation is None else resolve_activation(activation)

    def reset_parameters(self, std: float = 0.02) -> None:
        """transformers' init of a linear layer: weight ~ normal(0, std) (``config.initializer_range``), bias 0."""
        self.weight.data[...] = get_generator().normal(0.0, std, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = 0.0

    def weight_out_in(self) -> np.ndarray:
        """The weight as an ``(out_features, in_features)`` matrix (a view, no copy)."""
        return self.weight.data

    def project(self, rows: np.ndarray) -> np.ndarray:
        """``rows @ W.T``: ``(n, in_features) -> (n, out_features)``.

        For a few rows OpenBLAS is ~1.7× faster at the same product written ``(W @ rowsᵀ)ᵀ``: it then
        packs the small matrix instead of the whole weight (BERT-base on one 16-token sentence: 100 ms of
        matrix products -> 58 ms). From ``FEW_ROWS`` rows on, the usual form is the faster one.
        """
        if rows.shape[0] < FEW_ROWS:
            return np.ascontiguousarray((self.weight.data @ rows.T).T)
        return rows @ self.weight.data.T

    def forward(self, x: np.ndarray, keep_input: bool = True) -> np.ndarray:
        rows = x.reshape(-1, x.shape[-1])
        h = self.project(rows)
        bias = None if self.bias is None else self.bias.data
        keep = is_grad_enabled()
        if self.activation == IDENTITY:
            if bias is not None:
                h += bias
            out = h
        else:
            # Keep h (before bias and activation) for the backward, or overwrite it when not needed.
            out = bias_activation_forward(h, bias, self.activation, out=None if keep else h)
        out = out.reshape(*x.shape[:-1], out.shape[-1])
        # h is needed only to differentiate the activation; without one it is the output, not kept here.
        keep_h = keep and self.activation != IDENTITY
        self._cache = (x.shape, rows if keep_input else None, h if keep_h else None) if keep else None
        return out

    def output_again(self) -> np.ndarray:
        """The last forward's output ``act(h + b)`` as ``(rows, out_features)``, recomputed from the kept h."""
        h = self._cache[2]
        return bias_activation_forward(h, None if self.bias is None else self.bias.data, self.activation)

    def backward(self, d_out: np.ndarray, input_again=None) -> np.ndarray:
        """``d_out (..., out_features)`` -> ``dx (..., in_features)``. ``input_again()`` gives the input back
        when the forward was told not to keep it."""
        x_shape, rows, h = self.pop_cache()
        if rows is None:
            if input_again is None:
                raise RuntimeError(f"{type(self).__name__}.backward: the forward kept no input (keep_input=False) "
                                   f"and no input_again was given")  # fmt: skip
            rows = input_again().reshape(-1, x_shape[-1])
        d = d_out.reshape(-1, d_out.shape[-1])
        if self.activation != IDENTITY:
            d = bias_activation_backward(d, h, None if self.bias is None else self.bias.data, self.activation)
        accumulate_grad(self.weight, lambda: self.weight_grad(d, rows))
        if self.bias is not None:
            accumulate_grad(self.bias, lambda: d.sum(axis=0))
        return (d @ self.weight_out_in()).reshape(x_shape)

    def weight_grad(self, d_pre: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return d_pre.T @ rows


class Conv1D(Linear):
    """GPT-2's linear layer: ``y = x @ W + b`` with ``W`` stored as ``(in_features, out_features)``.

    The name comes from OpenAI's original code; it is a Linear with the weight transposed, kept
    in that layout so that GPT-2 checkpoints load as they are.
    """

    def __init__(self, out_features: int, in_features: int, activation: str | None = None):
        super().__init__(in_features, out_features, activation=activation)
        self.weight = Parameter(np.zeros((in_features, out_features), dtype=np.float32))

    def weight_out_in(self) -> np.ndarray:
        return self.weight.data.T

    def project(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.weight.data  # (in, out) in memory: the plain product is the fastest at any size

    def weight_grad(self, d_pre: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return rows.T @ d_pre


class Embedding(Module):
    """A lookup table ``(num_embeddings, embedding_dim)``.

    Backward scatter-adds the output gradient into the looked-up rows; the ``padding_idx`` row
    gets no gradient, as in torch.nn.Embedding.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None):
        self.weight = Parameter(np.zeros((num_embeddings, embedding_dim), dtype=np.float32))
        self.padding_idx = padding_idx

    def reset_parameters(self, std: float = 0.02) -> None:
        """weight ~ normal(0, std); the ``padding_idx`` row 0 (as transformers initialises an embedding)."""
        self.weight.data[...] = get_generator().normal(0.0, std, self.weight.shape)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, ids: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Adds ``table[ids]`` into ``out`` (``(batch, seq, dim)``) when given, else returns it."""
        if out is None:
            out = np.zeros((*ids.shape, self.weight.data.shape[1]), dtype=self.weight.data.dtype)
        self._cache = ids if is_grad_enabled() else None
        return gather_add_forward(self.weight.data, ids, out)

    def backward(self, d_out: np.ndarray) -> None:
        ids = self.pop_cache()
        if not self.weight.requires_grad:
            return
        if self.weight.grad is None:
            if self.weight.data.nbytes >= FRESH_PAGES_FROM:
                release_freed_memory()  # the activations freed so far, before the table's fresh pages (see there)
            self.weight.grad = np.zeros_like(self.weight.data)
        # Straight into .grad (which a tied LM head may already hold): no table-sized temporary.
        # Positions holding padding_idx give its row no gradient, as in torch.nn.Embedding.
        scatter_add_backward(d_out, ids, self.weight.grad, skip_id=self.padding_idx)


class LayerNorm(Module):
    """Normalise the last axis to zero mean and unit variance, then scale and shift.

    The math of both directions is in ``nanohf/kernels/layernorm.py``.
    """

    def __init__(self, normalized_shape: int, eps: float = 1e-5):
        self.weight = Parameter(np.ones(normalized_shape, dtype=np.float32))
        self.bias = Parameter(np.zeros(normalized_shape, dtype=np.float32))
        self.eps = eps

    def reset_parameters(self, std: float = 0.02) -> None:
        """Scale 1, shift 0: the identity after normalising (``std`` is not used)."""
        self.weight.data[...] = 1.0
        self.bias.data[...] = 0.0

    def forward(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        keep = is_grad_enabled()
        y, mean, rstd = layernorm_forward(x, self.weight.data, self.bias.data, self.eps, out=None if keep else out)
        self._cache = (x, mean, rstd) if keep else None
        return y

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        x, mean, rstd = self.pop_cache()
        dx, dw, db = layernorm_backward(d_out, x, mean, rstd, self.weight.data)
        accumulate_grad(self.weight, lambda: dw)
        accumulate_grad(self.bias, lambda: db)
        return dx


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by ``1/(1-p)``.

    The mask drawn in the forward is reused by the backward: ``dx = d_out · mask / (1-p)``
    (the kernel, with its random numbers, is in ``nanohf/kernels/dropout.py``).
    """

    def __init__(self, p: float = 0.1):
        self.p = float(p)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0.0:
            self._cache = None
            return x
        seed = int(get_generator().integers(0, 2**63))  # one draw per call; the kernel hashes it per element
        out, keep = dropout_forward(x, self.p, seed)
        self._cache = keep if is_grad_enabled() else None
        return out

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        keep = self._cache
        self._cache = None
        return d_out if keep is None else dropout_backward(d_out, keep, self.p)

    def reapply(self, x: np.ndarray) -> np.ndarray:
        """The last forward's output rebuilt from its input ``x``, bit for bit, with the kept mask (for a
        caller that would rather not keep the output itself). Call before ``backward``, which frees the mask."""
        return x if self._cache is None else dropout_backward(x, self._cache, self.p)


class Activation(Module):
    """A stand-alone activation by transformers name (``"gelu"``, ``"relu"``, ``"tanh"``, …)."""

    def __init__(self, name: str):
        self.name = name
        self.act = resolve_activation(name)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._cache = x if is_grad_enabled() else None
        return bias_activation_forward(x, None, self.act)

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        return bias_activation_backward(d_out, self.pop_cache(), None, self.act)

"""Multi-head scaled dot-product attention, the one idea every model here shares.

With ``hidden = heads · head_dim`` and queries, keys and values already projected::

    q, k, v : (batch, seq, hidden)  ->  split heads  ->  (batch, heads, seq, head_dim)
    scores  = q @ kᵀ                                     (batch, heads, seq, seq)
    probs   = softmax(scores · scale + mask)             over the key axis
    context = dropout(probs) @ v                         (batch, heads, seq, head_dim)
            -> merge heads -> (batch, seq, hidden)

``scale`` is 1/√head_dim. ``mask`` is the additive padding mask (0 for a token, finfo.min for
padding, shape (batch, seq)), so a padded key gets probability 0 and cannot leak into any output.

Backward, reading the forward bottom-up (P = probs, P' = dropout(P)):

    dP' = d_context @ vᵀ        dv = P'ᵀ @ d_context
    dP  = dropout backward(dP')
    d_scores = softmax backward(P, dP) · scale          (see nanohf/kernels/softmax.py)
    dq  = d_scores @ k          dk = d_scoresᵀ @ q
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.kernels.softmax import masked_softmax_backward, masked_softmax_forward
from nanohf.nn.layers import Dropout
from nanohf.nn.module import Module


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(batch, seq, hidden)`` -> ``(batch, heads, seq, head_dim)`` as a view (no copy)."""
    batch, seq, hidden = x.shape
    return x.reshape(batch, seq, num_heads, hidden // num_heads).transpose(0, 2, 1, 3)


def matmul_merge_heads(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` per head, ``(batch, heads, seq, head_dim)``, returned merged as ``(batch, seq, hidden)``.

    BLAS writes each head's product straight into that head's columns of the merged array (its rows
    are ``hidden`` apart), so the heads need no separate copy to be merged (~12 % of the product's time).
    """
    batch, heads, seq, head_dim = *a.shape[:3], b.shape[-1]
    out = np.empty((batch, seq, heads, head_dim), dtype=np.result_type(a, b))
    np.matmul(a, b, out=out.transpose(0, 2, 1, 3))
    return out.reshape(batch, seq, heads * head_dim)


class ScaledDotProductAttention(Module):
    """The parameter-free core of attention: from projected q, k, v to the merged context.

    ``causal=True`` is the decoder's mask (a token sees only itself and the past). ``scale``
    defaults to 1/√head_dim; GPT-2 options can change it. ``past`` holds the keys and values of
    earlier tokens, ``(batch, heads, past_len, head_dim)`` each, for generation with a KV cache.
    """

    # Keys longer than the queries are a generation cache (constants) unless a subclass says they are inputs
    # (BART's cross-attention: the encoder's states, which get their gradient).
    keys_are_inputs = False

    def __init__(self, num_heads: int, dropout_prob: float, causal: bool = False, scale: float | None = None):
        self.num_heads = num_heads
        self.dropout = Dropout(dropout_prob)
        self.causal = causal
        self.scale = scale

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray, past=None):
        """``q, k, v (batch, seq, hidden)``, ``mask (batch, past_len + seq)`` ->
        ``(context (batch, seq, hidden), probs (batch, heads, seq, past_len + seq), present)``.

        ``present`` is ``(keys, values)`` including this step's, ready to be the next ``past``.
        """
        qh, kh, vh = (split_heads(t, self.num_heads) for t in (q, k, v))
        if past is not None:
            kh = np.concatenate([past[0], kh], axis=2)
            vh = np.concatenate([past[1], vh], axis=2)
        scale = qh.shape[-1] ** -0.5 if self.scale is None else self.scale
        scores = qh @ kh.transpose(0, 1, 3, 2)  # BLAS: one (seq, head_dim) x (head_dim, seq) per head
        probs = masked_softmax_forward(scores, mask, scale, self.causal)
        dropped = self.dropout(probs)
        # dropout(probs) is not kept: it is as large as probs, and the dropout's mask rebuilds it exactly.
        self._cache = (qh, kh, vh, probs, scale) if is_grad_enabled() else None
        return matmul_merge_heads(dropped, vh), probs, (kh, vh)

    def backward(self, d_context: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``d_context (batch, seq, hidden)`` -> ``(dq, dk, dv)``, each ``(batch, seq, hidden)``."""
        qh, kh, vh, probs, scale = self.pop_cache()
        if kh.shape[2] != qh.shape[2] and not self.keys_are_inputs:
            raise NotImplementedError("no backward through cached past keys and values (they are constants)")
        d_ctx = split_heads(d_context, self.num_heads)
        d_dropped = d_ctx @ vh.transpose(0, 1, 3, 2)
        dv = matmul_merge_heads(self.dropout.reapply(probs).transpose(0, 1, 3, 2), d_ctx)
        d_scores = masked_softmax_backward(probs, self.dropout.backward(d_dropped), scale)
        dq = matmul_merge_heads(d_scores, kh)
        dk = matmul_merge_heads(d_scores.transpose(0, 1, 3, 2), qh)
        return dq, dk, dv

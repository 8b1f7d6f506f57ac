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

Grouped-query attention (GQA; Llama 2 70B, Llama 3, Mistral, Qwen2): k and v have fewer heads,
``num_key_value_heads``, and each serves a group of ``G = heads / num_key_value_heads`` query heads
(query head h reads k/v head h // G, transformers' ``repeat_kv``). MHA is G = 1, multi-query G = heads.
The k/v heads are never copied G times: the G query heads of a group are stacked as G·seq rows of one
product with their shared k/v head. So in the backward the sum over the group that the shared
weights demand comes out of the same products: ``dk = d_scoresᵀ @ q`` and ``dv = P'ᵀ @ d_context``
contract over the G·seq stacked rows, i.e. dk_kv = Σ_{h in group} d_scores_hᵀ @ q_h.
The cache (``present``) keeps the un-repeated k/v heads: G times less memory.

Rotary embeddings (nanohf/nn/rotary.py), when given ``rotary=(cos, sin)``, turn q and the new k
after the heads are split; the backward turns dq and dk back (the inverse rotation) before merging.
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.kernels.softmax import masked_softmax_backward, masked_softmax_forward
from nanohf.nn.layers import Dropout
from nanohf.nn.module import Module
from nanohf.nn.rotary import apply_rotary


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


def grouped(x: np.ndarray, kv_heads: int) -> np.ndarray:
    """``(batch, heads, seq, d)`` -> ``(batch, kv_heads, G·seq, d)``: each group's heads stacked as rows."""
    batch, heads, seq, d = x.shape
    return x.reshape(batch, kv_heads, heads // kv_heads * seq, d)


class ScaledDotProductAttention(Module):
    """The parameter-free core of attention: from projected q, k, v to the merged context.

    ``causal=True`` is the decoder's mask (a token sees only itself and the past); ``sliding_window``
    (with ``causal``) hides keys that many positions back or more (Mistral). ``scale`` defaults to
    1/√head_dim; GPT-2 options can change it. ``num_key_value_heads`` (default ``num_heads``) gives GQA.
    ``past`` holds the keys and values of earlier tokens, ``(batch, kv_heads, past_len, head_dim)`` each,
    for generation with a KV cache.
    """

    # Keys longer than the queries are a generation cache (constants) unless a subclass says they are inputs
    # (BART's cross-attention: the encoder's states, which get their gradient).
    keys_are_inputs = False

    def __init__(self, num_heads: int, dropout_prob: float, causal: bool = False, scale: float | None = None,
                 num_key_value_heads: int | None = None, sliding_window: int | None = None):  # fmt: skip
        self.num_heads = num_heads
        self.num_key_value_heads = num_heads if num_key_value_heads is None else num_key_value_heads
        if num_heads % self.num_key_value_heads:
            raise ValueError(f"num_heads {num_heads} is not a multiple of num_key_value_heads "
                             f"{self.num_key_value_heads}")  # fmt: skip
        self.dropout = Dropout(dropout_prob)
        self.causal = causal
        self.scale = scale
        self.sliding_window = sliding_window

    def forward(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray, past=None, rotary=None):
        """``q (batch, seq, heads·d)``, ``k, v (batch, seq, kv_heads·d)``, ``mask (batch, past_len + seq)`` ->
        ``(context (batch, seq, heads·d), probs (batch, heads, seq, past_len + seq), present)``.

        ``present`` is ``(keys, values)`` including this step's, ready to be the next ``past``.
        ``rotary`` is ``(cos, sin)`` of this step's positions, ``(batch or 1, seq, d)`` each, or None.
        """
        kv_heads = self.num_key_value_heads
        qh, kh, vh = split_heads(q, self.num_heads), split_heads(k, kv_heads), split_heads(v, kv_heads)
        if rotary is not None:
            qh, kh = apply_rotary(qh, *rotary), apply_rotary(kh, *rotary)
        if past is not None:
            kh = np.concatenate([past[0], kh], axis=2)
            vh = np.concatenate([past[1], vh], axis=2)
        batch, heads, seq, head_dim = qh.shape
        scale = head_dim**-0.5 if self.scale is None else self.scale
        if kv_heads == heads:  # BLAS: one (seq, head_dim) x (head_dim, keys) product per head
            scores = qh @ kh.transpose(0, 1, 3, 2)
        else:  # one (G·seq, head_dim) x (head_dim, keys) product per k/v head
            scores = (grouped(qh, kv_heads) @ kh.transpose(0, 1, 3, 2)).reshape(batch, heads, seq, -1)
        probs = masked_softmax_forward(scores, mask, scale, self.causal, self.sliding_window)
        dropped = self.dropout(probs)
        # dropout(probs) is not kept: it is as large as probs, and the dropout's mask rebuilds it exactly.
        self._cache = (qh, kh, vh, probs, scale, rotary) if is_grad_enabled() else None
        return self._weighted_values(dropped, vh), probs, (kh, vh)

    def _weighted_values(self, probs: np.ndarray, vh: np.ndarray) -> np.ndarray:
        """``probs (batch, heads, seq, keys) @ v`` per query head, merged: ``(batch, seq, heads·d)``."""
        if self.num_key_value_heads == self.num_heads:
            return matmul_merge_heads(probs, vh)
        batch, heads, seq, keys = probs.shape
        kv_heads, head_dim = vh.shape[1], vh.shape[-1]
        out = np.empty((batch, seq, kv_heads, heads // kv_heads, head_dim), dtype=np.result_type(probs, vh))
        groups = probs.reshape(batch, kv_heads, heads // kv_heads, seq, keys)
        np.matmul(groups, vh[:, :, None], out=out.transpose(0, 2, 3, 1, 4))  # each group reads its one v head
        return out.reshape(batch, seq, heads * head_dim)

    def backward(self, d_context: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``d_context (batch, seq, heads·d)`` -> ``(dq (batch, seq, heads·d), dk, dv (batch, seq, kv_heads·d))``."""
        qh, kh, vh, probs, scale, rotary = self.pop_cache()
        if kh.shape[2] != qh.shape[2] and not self.keys_are_inputs:
            raise NotImplementedError("no backward through cached past keys and values (they are constants)")
        kv_heads = self.num_key_value_heads
        d_ctx = split_heads(d_context, self.num_heads)
        dropped = self.dropout.reapply(probs)
        if kv_heads == self.num_heads:
            d_dropped = d_ctx @ vh.transpose(0, 1, 3, 2)
            dv = matmul_merge_heads(dropped.transpose(0, 1, 3, 2), d_ctx)
        else:
            # The group's query heads are stacked rows: each product below sums over the group.
            d_ctx_g = grouped(d_ctx, kv_heads)
            d_dropped = (d_ctx_g @ vh.transpose(0, 1, 3, 2)).reshape(probs.shape)
            dv = matmul_merge_heads(grouped(dropped, kv_heads).transpose(0, 1, 3, 2), d_ctx_g)
        d_scores = masked_softmax_backward(probs, self.dropout.backward(d_dropped), scale)
        if kv_heads == self.num_heads and rotary is None:  # BERT, GPT-2, BART: products written merged
            return matmul_merge_heads(d_scores, kh), matmul_merge_heads(d_scores.transpose(0, 1, 3, 2), qh), dv
        if kv_heads == self.num_heads:
            dq_heads = d_scores @ kh
            dk_heads = d_scores.transpose(0, 1, 3, 2) @ qh
        else:
            d_scores_g = grouped(d_scores, kv_heads)
            dq_heads = (d_scores_g @ kh).reshape(qh.shape)
            dk_heads = d_scores_g.transpose(0, 1, 3, 2) @ grouped(qh, kv_heads)
        if rotary is not None:  # the inverse rotation: a rotation's transpose turns by the opposite angle
            cos, sin = rotary
            return merge_rotated(dq_heads, cos, -sin), merge_rotated(dk_heads, cos, -sin), dv
        return merge_heads(dq_heads), merge_heads(dk_heads), dv


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(batch, heads, seq, d)`` -> ``(batch, seq, heads·d)`` (one copy)."""
    batch, heads, seq, d = x.shape
    return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(batch, seq, heads * d)


def merge_rotated(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """``apply_rotary(x, cos, sin)`` written straight into merged heads ``(batch, seq, heads·d)``."""
    batch, heads, seq, d = x.shape
    out = np.empty((batch, seq, heads, d), dtype=x.dtype)
    apply_rotary(x, cos, sin, out=out.transpose(0, 2, 1, 3))
    return out.reshape(batch, seq, heads * d)

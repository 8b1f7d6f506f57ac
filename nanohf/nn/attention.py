"""Multi-head scaled dot-product attention, the one idea every model here shares.

With ``hidden = heads * head_dim`` and queries, keys and values already projected::

    q, k, v : (batch, seq, hidden)  ->  split heads  ->  (batch, heads, seq, head_dim)
    scores  = q @ kᵀ                                     (batch, heads, seq, seq)
    probs   = softmax(scores * scale + mask)             over the key axis
    context = probs @ v                                  (batch, heads, seq, head_dim)
            -> merge heads -> (batch, seq, hidden)

``scale`` is 1/√head_dim. ``mask`` is the additive padding mask (0 for a token, finfo.min for
padding, shape (batch, seq)), so a padded key gets probability 0 and cannot leak into any output.
"""

import numpy as np

from nanohf.kernels.softmax import masked_softmax_forward


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """``(batch, seq, hidden)`` -> ``(batch, heads, seq, head_dim)`` as a view (no copy)."""
    batch, seq, hidden = x.shape
    return x.reshape(batch, seq, num_heads, hidden // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """``(batch, heads, seq, head_dim)`` -> ``(batch, seq, hidden)`` (one copy, contiguous)."""
    batch, heads, seq, head_dim = x.shape
    return x.transpose(0, 2, 1, 3).reshape(batch, seq, heads * head_dim)


def scaled_dot_product_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray, num_heads: int, dropout=None
) -> tuple[np.ndarray, np.ndarray]:
    """Attention of ``q``, ``k``, ``v`` (each ``(batch, seq, hidden)``).

    Returns ``(context (batch, seq, hidden), probs (batch, heads, seq, seq))``. ``dropout``, a
    Dropout module, is applied to the probabilities in training as transformers does.
    """
    qh, kh, vh = split_heads(q, num_heads), split_heads(k, num_heads), split_heads(v, num_heads)
    head_dim = qh.shape[-1]
    scores = qh @ kh.transpose(0, 1, 3, 2)  # BLAS, one (seq, head_dim) x (head_dim, seq) per head
    probs = masked_softmax_forward(scores, mask, head_dim**-0.5)
    dropped = probs if dropout is None else dropout(probs)
    return merge_heads(dropped @ vh), probs

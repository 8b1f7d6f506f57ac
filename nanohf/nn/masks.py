"""The attention masks, where they are built and where they are applied.

Three masks decide which keys a query may read; all three give a hidden key the score
``finfo(float32).min`` before the softmax (transformers' additive convention), so its probability is 0:

- **padding** (every model): ``additive_padding_mask(attention_mask)`` turns the tokenizer's 1/0 mask
  ``(batch, keys)`` into 0 / finfo.min, once per forward, shared by every layer and head;
- **causal** (GPT-2, BART's decoder, Llama): query i sees keys j <= i + offset, offset = the cached
  past keys; and the **sliding window** (Mistral, Qwen2's sliding layers) also hides keys with
  i + offset - j >= window.

The causal and window masks are never built as arrays: they are rules on (i, j) that the softmax
kernel applies as it walks each row (nanohf/kernels/softmax.py; ``causal=`` and ``sliding_window=``
of ``ScaledDotProductAttention`` in nanohf/nn/attention.py), so no ``(batch, q, k)`` tensor is
allocated, and a generation step with a long cache costs one row per query.
"""

import numpy as np

from nanohf.kernels.softmax import MASK_MIN


def additive_padding_mask(attention_mask: np.ndarray, dtype=np.float32) -> np.ndarray:
    """``(batch, seq)`` of 1 (token) / 0 (padding) -> additive ``(batch, seq)``: 0 / finfo.min."""
    return np.where(attention_mask != 0, 0.0, MASK_MIN).astype(dtype)

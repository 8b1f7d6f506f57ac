"""The pieces every transformer repeats, each written once with its backward beside its forward.

- ``LayerStack``: N layers run in order (hidden states and attentions collected, the per-layer KV cache
  carried), their backward in reverse;
- ``select_token`` / ``select_token_backward``: one token's state per row (the first token, the last
  non-pad token from ``last_non_pad_index``, the last ``</s>`` from ``last_index_of``) and its
  zeros-and-scatter backward; ``keep_positions`` / ``keep_positions_backward``: transformers'
  ``logits_to_keep``, the positions a language-model head projects;
- ``feed_forward`` / ``feed_forward_backward``: ``fc2(act(fc1(x)))`` with fc2's input recomputed in the
  backward instead of kept;
- ``pre_norm_residual`` / ``pre_norm_residual_backward``: the pre-norm block of the decoders (GPT-2, Llama),
  ``h = x + attention(norm₁(x))``, ``out = h + mlp(norm₂(h))``.

The models (bert.py, distilbert.py, roberta.py, gpt2.py, bart.py, llama.py, …) keep their own layer classes
and attribute names, because an attribute path is a checkpoint tensor name.
"""

from typing import Any, NamedTuple

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.kernels.activations import IDENTITY
from nanohf.nn.kv_cache import KVCache, LayerCache
from nanohf.nn.layers import Dropout, Linear
from nanohf.nn.module import Module, ModuleList

# --- the layer stack ------------------------------------------------------------------------------------


class LayerOutput(NamedTuple):
    """What a layer of a ``LayerStack`` returns: its output ``(batch, seq, hidden)``, its attention
    probabilities ``(batch, heads, seq, keys)``, a decoder's cross-attention probabilities, and a decoder's
    ``LayerCache`` (its keys and values including this call's, the next call's ``past``)."""

    hidden_states: np.ndarray
    attentions: np.ndarray | None = None
    cross_attentions: np.ndarray | None = None
    cache: LayerCache | None = None


class StackOutput(NamedTuple):
    """``last_hidden_state``; ``hidden_states`` (the stack's input, then every layer's output, the last one
    after ``final_norm``), ``attentions`` and ``cross_attentions`` when asked for; ``cache`` when ``use_cache``."""

    last_hidden_state: np.ndarray
    hidden_states: tuple | None = None
    attentions: tuple | None = None
    cross_attentions: tuple | None = None
    cache: KVCache | None = None


class LayerStack(ModuleList):
    """N layers named ``0``, ``1``, … (``encoder.layer.3``, ``h.3``, ``layers.3``), run in order.

    A layer is called ``layer(hidden_states, *args)`` — plus ``past=`` its ``LayerCache`` when the stack is
    given a cache — and returns a ``LayerOutput``. Its ``backward(d_out)`` returns ``d_hidden_states``, or
    ``(d_hidden_states, d_arg, ...)`` when it also differentiates an input of ``args`` (BART's decoder layers:
    the encoder states); the stack sums those over the layers.

    ``final_norm`` (pre-LN stacks: GPT-2's ``ln_f``, Llama's ``norm``) is applied after the last layer, and
    the last entry of ``hidden_states`` is its output, as transformers returns it.
    """

    def forward(
        self,
        hidden_states: np.ndarray,
        *args: Any,
        past: KVCache | None = None,
        use_cache: bool = False,
        final_norm: Module | None = None,
        output_hidden_states: bool = False,
        output_attentions: bool = False,
    ) -> StackOutput:
        all_hidden = [hidden_states] if output_hidden_states else None
        attentions, cross_attentions, caches = [], [], []
        for i, layer in enumerate(self):
            out = layer(hidden_states, *args) if past is None else layer(hidden_states, *args, past=past[i])
            hidden_states = out.hidden_states
            if output_hidden_states:
                all_hidden.append(hidden_states)
            attentions.append(out.attentions)
            cross_attentions.append(out.cross_attentions)
            caches.append(out.cache)
        if final_norm is not None:
            hidden_states = final_norm(hidden_states)
            if output_hidden_states:
                all_hidden[-1] = hidden_states
        self._cache = (final_norm,) if is_grad_enabled() else None
        has_cross = any(probs is not None for probs in cross_attentions)
        return StackOutput(
            hidden_states,
            tuple(all_hidden) if output_hidden_states else None,
            tuple(attentions) if output_attentions else None,
            tuple(cross_attentions) if output_attentions and has_cross else None,
            KVCache(caches) if use_cache else None,
        )

    def backward(self, d_hidden_states: np.ndarray):
        """``d_last_hidden_state`` -> ``d_hidden_states`` of the stack's input (and the summed gradients of
        the inputs the layers differentiate, see the class docstring)."""
        (final_norm,) = self.pop_cache()
        if final_norm is not None:
            d_hidden_states = final_norm.backward(d_hidden_states)
        extras = None
        for layer in reversed(list(self)):
            d = layer.backward(d_hidden_states)
            if isinstance(d, tuple):
                d_hidden_states = d[0]
                extras = list(d[1:]) if extras is None else [a + b for a, b in zip(extras, d[1:], strict=True)]
            else:
                d_hidden_states = d
        return d_hidden_states if extras is None else (d_hidden_states, *extras)


class EncoderStack(Module):
    """A module whose ``layer`` is the ``LayerStack`` of an encoder (BERT's ``encoder``, DistilBERT's
    ``transformer``), so that the checkpoint names read ``encoder.layer.3…``."""

    def __init__(self, layers: list[Module]):
        self.layer = LayerStack(layers)

    def forward(self, hidden_states, mask, output_hidden_states=False, output_attentions=False) -> StackOutput:
        return self.layer(hidden_states, mask, output_hidden_states=output_hidden_states,
                          output_attentions=output_attentions)  # fmt: skip

    def backward(self, d_hidden_states) -> np.ndarray:
        return self.layer.backward(d_hidden_states)


# --- one token per row ------------------------------------------------------------------------------------


def select_token(hidden_states: np.ndarray, index: int | np.ndarray) -> np.ndarray:
    """``hidden_states (batch, seq, hidden)`` -> ``(batch, hidden)``: row b's state at position ``index``
    (an int: the same position in every row, e.g. 0 for [CLS] / <s>; or ``(batch,)`` positions)."""
    if isinstance(index, int | np.integer):
        return hidden_states[:, index]
    return hidden_states[np.arange(hidden_states.shape[0]), index]


def select_token_backward(
    d_selected: np.ndarray, shape: tuple, index: int | np.ndarray, into: np.ndarray | None = None
) -> np.ndarray:
    """The gradient of ``select_token``: zeros of ``shape`` (or ``into``, added to), with ``d_selected``
    ``(batch, hidden)`` scattered back to the selected positions — only they fed the output."""
    d_hidden = np.zeros(shape, d_selected.dtype) if into is None else into
    if isinstance(index, int | np.integer):
        d_hidden[:, index] += d_selected
    else:
        d_hidden[np.arange(shape[0]), index] += d_selected
    return d_hidden


def keep_positions(hidden_states: np.ndarray, logits_to_keep: int | np.ndarray) -> np.ndarray:
    """transformers' ``logits_to_keep``: the positions of ``hidden_states (batch, seq, hidden)`` that a language
    model head projects onto its vocabulary (``generate`` keeps 1: only the next token's scores are needed).

    - an int n: the last n positions, ``(batch, n, hidden)``; 0 keeps them all;
    - ``(n,)`` positions: the same positions of every row, ``(batch, n, hidden)``;
    - ``(batch, n)`` integer positions: each row's own, ``(batch, n, hidden)``;
    - ``(batch, seq)`` booleans: the True positions, flattened to ``(count, hidden)``.
    """
    if isinstance(logits_to_keep, int | np.integer):
        return hidden_states if logits_to_keep == 0 else hidden_states[:, -int(logits_to_keep):]
    keep = np.asarray(logits_to_keep)
    if keep.ndim == 2 and keep.dtype == np.bool_:
        if keep.shape != hidden_states.shape[:2]:
            raise ValueError(f"logits_to_keep: a boolean mask of shape {keep.shape} for hidden states of "
                             f"(batch, seq) {hidden_states.shape[:2]}")  # fmt: skip
        return hidden_states[keep]
    if keep.ndim == 2:
        return np.take_along_axis(hidden_states, keep[..., None], axis=1)
    return hidden_states[:, keep]


def keep_positions_backward(d_kept: np.ndarray, shape: tuple, logits_to_keep: int | np.ndarray) -> np.ndarray:
    """The gradient of ``keep_positions``: zeros of ``shape`` with ``d_kept`` added back at the kept
    positions (a position kept twice gets both gradients)."""
    if isinstance(logits_to_keep, int | np.integer) and logits_to_keep == 0:
        return d_kept
    d_hidden = np.zeros(shape, d_kept.dtype)
    if isinstance(logits_to_keep, int | np.integer):
        d_hidden[:, -int(logits_to_keep):] = d_kept
        return d_hidden
    keep = np.asarray(logits_to_keep)
    if keep.ndim == 2 and keep.dtype == np.bool_:
        d_hidden[keep] = d_kept  # each True position once
    elif keep.ndim == 2:
        np.add.at(d_hidden, (np.arange(shape[0])[:, None], keep), d_kept)
    else:
        np.add.at(d_hidden, (slice(None), keep), d_kept)
    return d_hidden


def last_non_pad_index(input_ids: np.ndarray, pad_token_id: int | None) -> np.ndarray:
    """``(batch,)``: the rightmost position whose id is not ``pad_token_id`` (0 when a row is all padding),
    as transformers' sequence classifiers of decoders find it. Without a pad id: the last column, for a
    batch of one only (transformers' rule)."""
    batch, seq = input_ids.shape
    if pad_token_id is None:
        if batch != 1:
            raise ValueError("Cannot handle batch sizes > 1 if no padding token is defined.")
        return np.full(batch, seq - 1)
    return (np.arange(seq) * (input_ids != pad_token_id)).argmax(axis=-1)


def last_index_of(input_ids: np.ndarray, token_id: int) -> np.ndarray:
    """``(batch,)``: the last position of ``token_id`` in each row (BART reads its last ``</s>``); a row
    without it gives its last column — the caller checks that every row has one."""
    return input_ids.shape[1] - 1 - (input_ids == token_id)[:, ::-1].argmax(axis=1)


# --- the feed-forward block --------------------------------------------------------------------------------


def feed_forward(fc1: Linear, fc2: Linear, x: np.ndarray, dropout: Dropout | None = None) -> np.ndarray:
    """``fc2(dropout(act(fc1(x))))``: ``(..., hidden)`` -> ``(..., intermediate)`` -> ``(..., hidden)``.

    Memory: fc2's input ``a = act(h + b)`` is the largest activation of a layer, ``(tokens, intermediate)``,
    and fc1 keeps its pre-activation ``h`` anyway (its own backward needs act'(h)). So fc2 does not keep ``a``:
    ``feed_forward_backward`` recomputes it from fc1's ``h`` (one activation pass; DistilBERT 8×128: 75 MB less
    at the peak of a step). Not when an active dropout sits between (fc2's input is then dropout(a), kept),
    nor when fc1 has no activation (it keeps no ``h``).
    """
    hidden = fc1(x)
    fc2_input = hidden if dropout is None else dropout(hidden)
    recompute = fc2_input is hidden and fc1.activation != IDENTITY
    return fc2(fc2_input, keep_input=not recompute)


def feed_forward_backward(fc1: Linear, fc2: Linear, d_out: np.ndarray, dropout: Dropout | None = None) -> np.ndarray:
    """``d_out (..., hidden)`` -> ``d_x``; fc2's input, when its forward did not keep it, is recomputed here
    (``fc1.output_again()``, before fc1's backward frees ``h``)."""
    d_hidden = fc2.backward(d_out, input_again=fc1.output_again)
    if dropout is not None:
        d_hidden = dropout.backward(d_hidden)
    return fc1.backward(d_hidden)


# --- the pre-norm residual block ------------------------------------------------------------------------


def pre_norm_residual(attn_norm: Module, attention: Module, mlp_norm: Module, mlp: Module, x: np.ndarray,
                      *attention_args: Any) -> tuple[np.ndarray, np.ndarray | None, Any]:  # fmt: skip
    """The pre-norm block (GPT-2 with LayerNorm, Llama with RMSNorm): ``h = x + attention(norm₁(x), *args)``,
    ``out = h + mlp(norm₂(h))``; x and out ``(batch, seq, hidden)``. ``attention`` returns
    ``(output, probs, cache)``; so does this, with ``out`` for the output."""
    h, probs, present = attention(attn_norm(x), *attention_args)
    h += x
    out = mlp(mlp_norm(h))
    out += h
    return out, probs, present


def pre_norm_residual_backward(attn_norm: Module, attention: Module, mlp_norm: Module, mlp: Module,
                               d_out: np.ndarray) -> np.ndarray:  # fmt: skip
    """d loss/d x. A residual sum passes its gradient straight through and into its branch:
    ``d_h = d_out + norm₂ᵀ(mlpᵀ(d_out))``, then ``d_x = d_h + norm₁ᵀ(attentionᵀ(d_h))``."""
    d_h = d_out + mlp_norm.backward(mlp.backward(d_out))
    return d_h + attn_norm.backward(attention.backward(d_h))

"""Llama (Touvron et al., 2023): the decoder of today's open models, and its task heads, in one file.

    input_ids ─► embed_tokens (no position table: positions enter as rotations of q and k)
              ─► N × [ x + attention(RMSNorm(x)) with RoPE, GQA, causal ─► x + SwiGLU-MLP(RMSNorm(x)) ]
              ─► norm (RMSNorm) ─► last_hidden_state (batch, seq, hidden_size)
              ─► lm_head: next-token logits (batch, seq, vocab_size)   (tied to embed_tokens if asked)

What differs from GPT-2 (gpt2.py), piece by piece:

- **RMSNorm** instead of LayerNorm: ``y = w · x / sqrt(mean(x²) + eps)``, no mean, no bias
  (nanohf/nn/rmsnorm.py, the kernel and its backward in nanohf/kernels/rmsnorm.py);
- **rotary position embeddings** instead of a learned position table: q and k of position m are
  turned by angles m·θᵢ, so ``q·k`` depends only on the distance between the two tokens
  (nanohf/nn/rotary.py: the math, the scaling types ``linear``, ``dynamic``, ``llama3``);
- **grouped-query attention**: ``num_key_value_heads`` k/v heads, each shared by
  ``num_attention_heads / num_key_value_heads`` query heads (nanohf/nn/attention.py: the group sum
  of the backward, the cache of un-repeated heads);
- **the SiLU-gated MLP** (SwiGLU): ``down(silu(gate(x)) · up(x))`` instead of ``fc2(gelu(fc1(x)))``;
- no biases (``attention_bias``, ``mlp_bias`` turn them on), no dropout but ``attention_dropout``.

The layer stack, the KV cache and generation are the shared ones (nanohf/nn/blocks.py,
nanohf/nn/kv_cache.py, nanohf/generation.py). Qwen2 (qwen2.py) and Mistral (mistral.py) are this
file's classes with a few settings changed.
"""

import sys
import types

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.generation import GenerationMixin, _warn_once
from nanohf.models.config_validation import ConfigRules
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.heads import finish, make_loss, question_answering_output, token_classification_output
from nanohf.models.inputs import as_array, check_labels, check_model_inputs
from nanohf.models.losses import cross_entropy_loss, sequence_classification_loss
from nanohf.models.modeling_utils import PreTrainedModel
from nanohf.models.outputs import BaseModelOutputWithPast, CausalLMOutputWithPast, SequenceClassifierOutputWithPast
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.blocks import (
    LayerOutput,
    LayerStack,
    keep_positions,
    keep_positions_backward,
    last_non_pad_index,
    pre_norm_residual,
    pre_norm_residual_backward,
    select_token,
    select_token_backward,
)
from nanohf.nn.kv_cache import KVCache, LayerCache
from nanohf.nn.layers import Dropout, Embedding, Linear
from nanohf.nn.masks import additive_padding_mask
from nanohf.nn.module import Module, Parameter, accumulate_grad
from nanohf.nn.rmsnorm import RMSNorm
from nanohf.nn.rotary import RotaryEmbedding, standardize_rope_parameters

# Why a Llama refuses a position past max_position_embeddings, and the two ways on (default RoPE ignores the field).
POSITION_LIMIT_HINT = (
    "; config.rope_parameters has no scaling (rope_type 'default'), so nanohf stops there. transformers rotates any "
    "position (it only warns): for its numbers, raise config.max_position_embeddings (the default RoPE does not "
    "read it), or give rope_parameters a scaling type ('linear', 'dynamic', 'llama3')"
)


class LlamaConfig(PretrainedConfig):
    """transformers' LlamaConfig: the same fields and defaults (Llama-2-7B's shape).

    ``head_dim`` defaults to ``hidden_size // num_attention_heads`` and ``num_key_value_heads`` to
    ``num_attention_heads`` (plain multi-head attention). RoPE settings live in ``rope_parameters``;
    the older ``rope_scaling`` and ``rope_theta`` keywords (hub config.json files) are read into it.
    """

    model_type = "llama"
    rules = ConfigRules(
        positive=(
            "vocab_size",
            "hidden_size",
            "intermediate_size",
            "num_attention_heads",
            "num_key_value_heads",
            "max_position_embeddings",
            "head_dim",
        ),  # fmt: skip
        probabilities=("attention_dropout",),
        epsilons=("rms_norm_eps",),
        activations=("hidden_act",),
        divides=(("hidden_size", "num_attention_heads"),),
        multiples=(("num_attention_heads", "num_key_value_heads"),),
        layers=("num_hidden_layers",),
        width="hidden_size",
    )

    def __init__(
        self,
        vocab_size: int = 32000,
        hidden_size: int = 4096,
        intermediate_size: int = 11008,
        num_hidden_layers: int = 32,
        num_attention_heads: int = 32,
        num_key_value_heads: int | None = None,
        hidden_act: str = "silu",
        max_position_embeddings: int = 2048,
        initializer_range: float = 0.02,
        rms_norm_eps: float = 1e-6,
        use_cache: bool = True,
        pad_token_id: int | None = None,
        bos_token_id: int | None = 1,
        eos_token_id: int | list[int] | None = 2,
        pretraining_tp: int | None = 1,
        tie_word_embeddings: bool = False,
        rope_parameters: dict | None = None,
        attention_bias: bool = False,
        attention_dropout: float = 0.0,
        mlp_bias: bool = False,
        head_dim: int | None = None,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.intermediate_size = intermediate_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.num_key_value_heads = num_attention_heads if num_key_value_heads is None else num_key_value_heads
        self.hidden_act = hidden_act
        self.max_position_embeddings = max_position_embeddings
        self.initializer_range = initializer_range
        self.rms_norm_eps = rms_norm_eps
        self.use_cache = use_cache
        self.pretraining_tp = pretraining_tp
        self.attention_bias = attention_bias
        self.attention_dropout = attention_dropout
        self.mlp_bias = mlp_bias
        # (sizes that are not positive integers are refused below by the config rules, naming the field)
        sizes = all(type(v) is int and v > 0 for v in (hidden_size, num_attention_heads))
        self.head_dim = hidden_size // num_attention_heads if head_dim is None and sizes else head_dim
        self.rope_parameters = standardize_rope_parameters(
            rope_parameters, kwargs.pop("rope_scaling", None), kwargs.pop("rope_theta", None), max_position_embeddings
        )
        super().__init__(pad_token_id=pad_token_id, bos_token_id=bos_token_id, eos_token_id=eos_token_id,
                         tie_word_embeddings=tie_word_embeddings, **kwargs)  # fmt: skip

    # The fields of transformers' LlamaConfig that a derived family's config does not have (Qwen2 and Mistral fix their
    # biases; Qwen2 derives head_dim), so that its config.json carries exactly transformers' keys.
    llama_only_fields: tuple[str, ...] = ()

    def _drop_llama_only_fields(self, given) -> None:
        """Remove each of ``llama_only_fields`` not in ``given`` (the keywords the caller passed): transformers keeps
        any extra keyword as a field, and writes it."""
        for key in self.llama_only_fields:
            if key not in given:
                del self.__dict__[key]

    @property
    def rope_scaling(self) -> dict:
        """The older name of ``rope_parameters`` (transformers 5 keeps it as an alias)."""
        return self.rope_parameters


class LlamaMLP(Module):
    """The SiLU-gated feed-forward block (SwiGLU): ``down_proj(silu(gate_proj(x)) · up_proj(x))``.

    ``(batch, seq, hidden)`` -> ``(batch, seq, hidden)`` through ``intermediate_size``. With a = silu(g),
    g = gate(x), u = up(x) and y = down(a · u), the backward is the product rule:

        d(a·u) = down backward(dy)       da = d(a·u) · u       du = d(a·u) · a
        dg = da · silu'(g)  (inside gate_proj, which fused the activation)
        dx = gate backward(dg) + up backward(du)      (x fed both projections)
    """

    def __init__(self, config: LlamaConfig, bias: bool | None = None):
        bias = config.mlp_bias if bias is None else bias
        self.gate_proj = Linear(config.hidden_size, config.intermediate_size, bias=bias, activation=config.hidden_act)
        self.up_proj = Linear(config.hidden_size, config.intermediate_size, bias=bias)
        self.down_proj = Linear(config.intermediate_size, config.hidden_size, bias=bias)

    def forward(self, x: np.ndarray) -> np.ndarray:
        gated, up = self.gate_proj(x), self.up_proj(x)
        self._cache = (gated, up) if is_grad_enabled() else None
        return self.down_proj(gated * up)

    def backward(self, d_out: np.ndarray) -> np.ndarray:
        gated, up = self.pop_cache()
        d_product = self.down_proj.backward(d_out)
        return self.gate_proj.backward(d_product * up) + self.up_proj.backward(d_product * gated)


class LlamaAttention(Module):
    """Causal self-attention with RoPE on q and k, and GQA.

    ``q_proj``: hidden -> heads·head_dim; ``k_proj``, ``v_proj``: hidden -> kv_heads·head_dim (smaller
    when kv_heads < heads); ``o_proj``: heads·head_dim -> hidden. Biases: ``attention_bias`` on all four
    (Qwen2 passes ``qkv_bias=True, o_bias=False``). ``sliding_window``: Mistral's window, or None.
    """

    def __init__(self, config: LlamaConfig, layer_idx: int, qkv_bias: bool | None = None,
                 o_bias: bool | None = None, sliding_window: int | None = None):  # fmt: skip
        qkv_bias = config.attention_bias if qkv_bias is None else qkv_bias
        o_bias = config.attention_bias if o_bias is None else o_bias
        heads, kv_heads, head_dim = config.num_attention_heads, config.num_key_value_heads, config.head_dim
        self.layer_idx = layer_idx
        self.q_proj = Linear(config.hidden_size, heads * head_dim, bias=qkv_bias)
        self.k_proj = Linear(config.hidden_size, kv_heads * head_dim, bias=qkv_bias)
        self.v_proj = Linear(config.hidden_size, kv_heads * head_dim, bias=qkv_bias)
        self.o_proj = Linear(heads * head_dim, config.hidden_size, bias=o_bias)
        self.attention_core = ScaledDotProductAttention(
            heads, config.attention_dropout, causal=True, scale=head_dim**-0.5, num_key_value_heads=kv_heads,
            sliding_window=sliding_window,
        )  # fmt: skip

    def forward(self, hidden_states, mask, rotary, past=None):
        """``(batch, seq, hidden)`` -> ``(output, probs, (keys, values))``, the keys already rotated."""
        q, k, v = self.q_proj(hidden_states), self.k_proj(hidden_states), self.v_proj(hidden_states)
        context, probs, present = self.attention_core(q, k, v, mask, past, rotary=rotary)
        return self.o_proj(context), probs, present

    def backward(self, d_out) -> np.ndarray:
        dq, dk, dv = self.attention_core.backward(self.o_proj.backward(d_out))
        return self.q_proj.backward(dq) + self.k_proj.backward(dk) + self.v_proj.backward(dv)


class LlamaDecoderLayer(Module):
    """Pre-norm residual block: ``h = x + attn(RMSNorm(x))``; ``out = h + mlp(RMSNorm(h))``."""

    def __init__(self, config: LlamaConfig, layer_idx: int, self_attn: LlamaAttention | None = None,
                 mlp_bias: bool | None = None):  # fmt: skip
        self.input_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.self_attn = LlamaAttention(config, layer_idx) if self_attn is None else self_attn
        self.post_attention_layernorm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.mlp = LlamaMLP(config, bias=mlp_bias)

    def forward(self, x, mask, rotary, past=None) -> LayerOutput:
        norms_and_branches = (self.input_layernorm, self.self_attn, self.post_attention_layernorm, self.mlp)
        out, probs, (keys, values) = pre_norm_residual(*norms_and_branches, x, mask, rotary, past)
        return LayerOutput(out, probs, cache=LayerCache(keys, values))

    def backward(self, d_out) -> np.ndarray:
        return pre_norm_residual_backward(self.input_layernorm, self.self_attn, self.post_attention_layernorm,
                                          self.mlp, d_out)  # fmt: skip


class LlamaPreTrainedModel(PreTrainedModel):
    config_class = LlamaConfig
    base_model_prefix = "model"
    # Older checkpoints carry the rotary frequencies as a buffer; they are computed from the config here.
    _keys_to_ignore_on_load = (*PreTrainedModel._keys_to_ignore_on_load, r"rotary_emb\.inv_freq$")
    # Init by type (PreTrainedModel._init_weights): Linear/Embedding normal(0, initializer_range), RMSNorm at 1.


class LlamaModel(LlamaPreTrainedModel):
    """The decoder stack: ``input_ids (batch, seq)`` -> ``last_hidden_state (batch, seq, hidden_size)``."""

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.embed_tokens = Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.layers = LayerStack([self.make_layer(config, i) for i in range(config.num_hidden_layers)])
        self.norm = RMSNorm(config.hidden_size, eps=config.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(config.rope_parameters, config.head_dim, config.max_position_embeddings)
        self.post_init()

    @staticmethod
    def make_layer(config: LlamaConfig, layer_idx: int) -> LlamaDecoderLayer:
        """Layer ``layer_idx`` of the stack (Mistral and Qwen2 give theirs a sliding window here)."""
        return LlamaDecoderLayer(config, layer_idx)

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, inputs_embeds=None,
                use_cache=None, output_attentions=None, output_hidden_states=None, return_dict=None,
                cache=None):  # fmt: skip
        """``input_ids (batch, seq)``; with ``past_key_values`` (a ``KVCache``: the previous call's), only the
        new tokens, and ``attention_mask (batch, past_len + seq)`` covering past and new tokens.

        ``inputs_embeds (batch, seq, hidden_size)`` instead of ``input_ids``: vectors that go where the embedding
        rows would (soft prompts, embeddings mixed by hand). Pass a ``nanohf.nn.Parameter`` to have
        ``loss.backward()`` add d loss / d inputs_embeds into its ``.grad``, as a torch leaf with requires_grad.
        ``position_ids`` default to ``past_len, past_len + 1, …`` for every row, as transformers' (generate()
        passes positions that skip left padding). ``cache`` is transformers 5's new name of ``past_key_values``.
        """
        config = self.config
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("You must specify exactly one of input_ids or inputs_embeds")
        if cache is not None and past_key_values is not None:
            raise ValueError("You cannot specify both `cache` and `past_key_values`. use `cache` only.")
        past = KVCache.from_legacy(cache if cache is not None else past_key_values)
        past_len = 0 if past is None else past.get_seq_length()
        embeds = None if inputs_embeds is None else self._embeddings_given(inputs_embeds)
        # Types, shapes and ids first (positions unbounded there), then the positions against position_limit().
        # Given embeddings, the checks of the mask and positions read only their (batch, seq).
        unbounded = types.SimpleNamespace(vocab_size=config.vocab_size, max_position_embeddings=sys.maxsize)
        ids = np.zeros(embeds.shape[:2], dtype=np.int64) if input_ids is None else input_ids
        ids, attention_mask = check_model_inputs(unbounded, ids, attention_mask, None, position_ids,
                                                 past_length=past_len)  # fmt: skip
        given = position_ids is not None
        if not given:
            position_ids = np.arange(past_len, past_len + ids.shape[1])[None, :]
        self._check_positions(np.asarray(position_ids), given)
        use_cache = config.use_cache if use_cache is None else use_cache
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        output_attentions = config.output_attentions if output_attentions is None else output_attentions

        # Where backward sends the gradient of the stack's input: the embedding table (None), or inputs_embeds.
        self._cache = (inputs_embeds,) if is_grad_enabled() else None
        hidden = self.embed_tokens(ids) if embeds is None else embeds
        mask = additive_padding_mask(attention_mask, hidden.dtype)
        rotary = self.rotary_emb(position_ids, hidden.dtype)  # cos, sin: (1 or batch, seq, head_dim), all layers
        stack = self.layers(hidden, mask, rotary, past=past, use_cache=use_cache, final_norm=self.norm,
                            output_hidden_states=output_hidden_states, output_attentions=output_attentions)  # fmt: skip
        out = BaseModelOutputWithPast(stack.last_hidden_state, stack.cache, stack.hidden_states, stack.attentions)
        return finish(config, out, return_dict)

    def position_limit(self) -> int | None:
        """How many positions the model places: ``max_position_embeddings`` without RoPE scaling (``rope_type``
        "default"), None with a scaling type, which is meant to reach past it. transformers has no limit at all
        (it rotates any position and only warns in generate()); docs/from-gpt2-to-llama.md says why nanohf has one."""
        config = self.config
        return config.max_position_embeddings if config.rope_parameters["rope_type"] == "default" else None

    def _check_positions(self, position_ids: np.ndarray, given: bool) -> None:
        """Refuse a position at or past ``position_limit()``, naming the field and the ways past it."""
        limit = self.position_limit()
        if limit is None or not position_ids.size or position_ids.max() < limit:
            return
        last = int(position_ids.max())
        if given:
            raise ValueError(f"position_ids holds {last}, outside [0, max_position_embeddings={limit})"
                             f"{POSITION_LIMIT_HINT}")  # fmt: skip
        raise ValueError(f"sequence length {last + 1} (past and new tokens) exceeds max_position_embeddings={limit}"
                         f"{POSITION_LIMIT_HINT}")  # fmt: skip

    def _embeddings_given(self, inputs_embeds) -> np.ndarray:
        """``inputs_embeds`` (an array or a Parameter) as a fresh ``(batch, seq, hidden_size)`` array of the model's
        dtype (the layers may work on it in place; the caller's array stays as it was)."""
        data = inputs_embeds.data if isinstance(inputs_embeds, Parameter) else inputs_embeds
        embeds = as_array("inputs_embeds", data, integer=False)
        if embeds.ndim != 3 or embeds.shape[-1] != self.config.hidden_size:
            raise ValueError(f"inputs_embeds has shape {embeds.shape}, expected (batch, seq, hidden_size="
                             f"{self.config.hidden_size})")  # fmt: skip
        return np.array(embeds, dtype=self.embed_tokens.weight.dtype)

    def backward(self, d_last_hidden_state) -> np.ndarray | None:
        """Fills the parameters' ``.grad``. After a forward on ``inputs_embeds``, returns d inputs_embeds
        ``(batch, seq, hidden_size)`` (added into its ``.grad`` too when it is a Parameter); the embedding table
        then gets no gradient, as in torch."""
        (given,) = self.pop_cache()
        d_embeds = self.layers.backward(d_last_hidden_state)
        if given is None:
            self.embed_tokens.backward(d_embeds)
            return None
        if isinstance(given, Parameter):
            accumulate_grad(given, lambda: d_embeds)
        return d_embeds


class LlamaForCausalLM(GenerationMixin, LlamaPreTrainedModel):
    """last_hidden_state -> lm_head: ``logits (batch, seq, vocab_size)``.

    ``tie_word_embeddings=True`` makes lm_head.weight the embedding matrix itself (one parameter, two names;
    Llama 3.2 1B/3B and Qwen2 0.5B do this); False (Llama's default) gives lm_head its own weight.
    With ``labels`` the loss is next-token cross-entropy: logits at t against the label at t + 1, -100 ignored.
    """

    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}
    base_model_class = LlamaModel
    _position_limit_hint = POSITION_LIMIT_HINT  # generate()'s error past the limit says how to reach further

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.model = self.base_model_class(config)
        self.vocab_size = config.vocab_size
        self.lm_head = Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, inputs_embeds=None,
                labels=None, use_cache=None, output_attentions=None, output_hidden_states=None, return_dict=None,
                cache=None, logits_to_keep=0):  # fmt: skip
        """``logits_to_keep``: the positions to score (transformers' argument; see ``keep_positions``):
        ``generate`` passes 1, so a prompt's other positions skip the (vocab × hidden) product."""
        base = self.model(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                          output_attentions, output_hidden_states, return_dict=True, cache=cache)  # fmt: skip
        hidden = base.last_hidden_state
        self._cache = (hidden.shape, logits_to_keep) if is_grad_enabled() else None
        logits = self.lm_head(keep_positions(hidden, logits_to_keep))
        loss = None
        if labels is not None:
            labels = check_labels(labels, logits.shape[:2])
            # Shift: position t predicts token t + 1; the last position has nothing to predict.
            shifted = np.concatenate([labels[:, 1:], np.full((labels.shape[0], 1), -100)], axis=1)
            loss = make_loss(cross_entropy_loss(logits, shifted), self.backward)
        out = CausalLMOutputWithPast(loss, logits, base.past_key_values, base.hidden_states, base.attentions)
        return finish(self.config, out, return_dict)

    def _position_limit(self) -> int | None:
        """generate()'s limit: the base model's (None with RoPE scaling: then generate() only warns past it)."""
        return self.model.position_limit()

    def backward(self, d_logits) -> None:
        # Tied: lm_head.weight is embed_tokens.weight, and both gradients add into its one .grad.
        shape, logits_to_keep = self.pop_cache()
        self.model.backward(keep_positions_backward(self.lm_head.backward(d_logits), shape, logits_to_keep))


class LlamaForSequenceClassification(LlamaPreTrainedModel):
    """The state of each row's last non-pad token -> ``score``: ``logits (batch, num_labels)``.

    As transformers: the last position whose id is not ``pad_token_id`` (index 0 for an all-pad row);
    without a pad token only a batch of one can be classified. ``score`` has no bias.
    """

    base_model_class = LlamaModel

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = self.base_model_class(config)
        self.score = Linear(config.hidden_size, config.num_labels, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, inputs_embeds=None,
                labels=None, use_cache=None, output_attentions=None, output_hidden_states=None,
                return_dict=None):  # fmt: skip
        base = self.model(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                          output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        hidden = base.last_hidden_state
        pad = self.config.pad_token_id
        if input_ids is None and pad is not None:  # embeddings carry no pad id to look for: the last position
            _warn_once(f"{type(self).__name__} will not detect padding tokens in `inputs_embeds`. Results may be "
                       "unexpected if using padding tokens in conjunction with `inputs_embeds.`")  # fmt: skip
            last = np.full(hidden.shape[0], hidden.shape[1] - 1)
        else:  # the last non-pad id; without a pad id the last position, for a batch of one only (ids not read)
            last = last_non_pad_index(np.asarray(input_ids) if input_ids is not None else hidden[..., 0], pad)
        self._cache = (hidden.shape, last) if is_grad_enabled() else None
        logits = self.score(select_token(hidden, last))
        loss = None
        if labels is not None:
            loss = make_loss(sequence_classification_loss(logits, labels, self.config), self.backward)
        out = SequenceClassifierOutputWithPast(loss, logits, base.past_key_values, base.hidden_states, base.attentions)
        return finish(self.config, out, return_dict)

    def backward(self, d_logits) -> None:
        shape, last = self.pop_cache()
        self.model.backward(select_token_backward(self.score.backward(d_logits), shape, last))


class LlamaForTokenClassification(LlamaPreTrainedModel):
    """last_hidden_state -> dropout -> score: ``logits (batch, seq, num_labels)``.

    The dropout is ``classifier_dropout`` if the config has it, else ``hidden_dropout``, else 0.1 (transformers).
    """

    base_model_class = LlamaModel

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = self.base_model_class(config)
        rate = getattr(config, "classifier_dropout", None)
        rate = getattr(config, "hidden_dropout", None) if rate is None else rate
        self.dropout = Dropout(0.1 if rate is None else rate)
        self.score = Linear(config.hidden_size, config.num_labels, bias=getattr(config, "token_classification_bias",
                                                                                True))  # fmt: skip
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, inputs_embeds=None,
                labels=None, use_cache=None, output_attentions=None, output_hidden_states=None,
                return_dict=None):  # fmt: skip
        base = self.model(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, use_cache,
                          output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        logits = self.score(self.dropout(base.last_hidden_state))
        return token_classification_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.model.backward(self.dropout.backward(self.score.backward(d_logits)))


class LlamaForQuestionAnswering(LlamaPreTrainedModel):
    """last_hidden_state -> qa_outputs: ``start_logits`` and ``end_logits``, each (batch, seq).

    The base model sits under ``transformer`` here, as in transformers (kept for older checkpoints).
    """

    base_model_prefix = "transformer"
    base_model_class = LlamaModel

    def __init__(self, config: LlamaConfig):
        super().__init__(config)
        self.transformer = self.base_model_class(config)
        self.qa_outputs = Linear(config.hidden_size, 2)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                inputs_embeds=None, start_positions=None, end_positions=None, output_attentions=None,
                output_hidden_states=None, return_dict=None):  # fmt: skip
        base = self.transformer(input_ids, attention_mask, position_ids, past_key_values, inputs_embeds, False,
                                output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        logits = self.qa_outputs(base.last_hidden_state)
        return question_answering_output(logits, start_positions, end_positions, base, self.config, self.backward,
                                         return_dict)  # fmt: skip

    def backward(self, d_logits) -> None:
        """``d_logits (batch, seq, 2)``: the start and end gradients side by side."""
        self.transformer.backward(self.qa_outputs.backward(d_logits))

"""GPT-2 (Radford et al., 2019): the decoder stack, its LM and classification heads, in one file.

    input_ids ─► token + position embeddings
              ─► N × [ x + attention(LN(x)) with the causal mask ─► x + MLP(LN(x)) ]   (pre-LN)
              ─► ln_f ─► last_hidden_state (batch, seq, n_embd)
              ─► lm_head (the token embedding matrix again): next-token logits (batch, seq, vocab)

What differs from BERT (bert.py): LayerNorm comes *before* each sub-layer and once more at the
end (``ln_f``); attention is causal — token t sees tokens 0..t only — so a model trained to
predict token t+1 cannot peek at it; the linear layers are ``Conv1D`` (weight stored
``(in, out)``); the activation is the tanh GELU (``gelu_new``). For generation each layer returns
its keys and values (``past_key_values``), so the next step computes one new token only.
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.generation import GenerationMixin
from nanohf.models.config_validation import ConfigRules
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.heads import finish, make_loss
from nanohf.models.inputs import check_labels
from nanohf.models.losses import cross_entropy_loss, sequence_classification_loss
from nanohf.models.modeling_utils import PreTrainedModel
from nanohf.models.outputs import (
    BaseModelOutputWithPastAndCrossAttentions,
    CausalLMOutputWithCrossAttentions,
    SequenceClassifierOutputWithPast,
)
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.blocks import (
    LayerOutput,
    LayerStack,
    feed_forward,
    feed_forward_backward,
    keep_positions,
    keep_positions_backward,
    last_non_pad_index,
    pre_norm_residual,
    pre_norm_residual_backward,
    select_token,
    select_token_backward,
)
from nanohf.nn.kv_cache import KVCache, LayerCache
from nanohf.nn.layers import Conv1D, Dropout, Embedding, LayerNorm, Linear
from nanohf.nn.masks import additive_padding_mask
from nanohf.nn.module import Module


class GPT2Config(PretrainedConfig):
    model_type = "gpt2"
    attribute_map = {
        "hidden_size": "n_embd",
        "max_position_embeddings": "n_positions",
        "num_attention_heads": "n_head",
        "num_hidden_layers": "n_layer",
    }

    rules = ConfigRules(
        positive=("vocab_size", "n_positions", "n_embd", "n_head", "n_inner"),
        probabilities=("resid_pdrop", "embd_pdrop", "attn_pdrop", "summary_first_dropout"),
        epsilons=("layer_norm_epsilon",),
        activations=("activation_function",),
        divides=(("n_embd", "n_head"),),
        unsupported=("add_cross_attention",),  # GPT-2 as a decoder of an encoder-decoder: not in nanohf
        layers=("n_layer",),
        width="n_embd",
    )

    def __init__(
        self,
        vocab_size: int = 50257,
        n_positions: int = 1024,
        n_embd: int = 768,
        n_layer: int = 12,
        n_head: int = 12,
        n_inner: int | None = None,
        activation_function: str = "gelu_new",
        resid_pdrop: float = 0.1,
        embd_pdrop: float = 0.1,
        attn_pdrop: float = 0.1,
        layer_norm_epsilon: float = 1e-5,
        initializer_range: float = 0.02,
        summary_type: str = "cls_index",
        summary_use_proj: bool = True,
        summary_activation: str | None = None,
        summary_proj_to_labels: bool = True,
        summary_first_dropout: float = 0.1,
        scale_attn_weights: bool = True,
        use_cache: bool = True,
        bos_token_id: int | None = 50256,
        eos_token_id: int | None = 50256,
        pad_token_id: int | None = None,
        scale_attn_by_inverse_layer_idx: bool = False,
        reorder_and_upcast_attn: bool = False,
        add_cross_attention: bool = False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.n_positions = n_positions
        self.n_embd = n_embd
        self.n_layer = n_layer
        self.n_head = n_head
        self.n_inner = n_inner
        self.activation_function = activation_function
        self.resid_pdrop = resid_pdrop
        self.embd_pdrop = embd_pdrop
        self.attn_pdrop = attn_pdrop
        self.layer_norm_epsilon = layer_norm_epsilon
        self.initializer_range = initializer_range
        self.summary_type = summary_type
        self.summary_use_proj = summary_use_proj
        self.summary_activation = summary_activation
        self.summary_proj_to_labels = summary_proj_to_labels
        self.summary_first_dropout = summary_first_dropout
        self.scale_attn_weights = scale_attn_weights
        self.use_cache = use_cache
        self.scale_attn_by_inverse_layer_idx = scale_attn_by_inverse_layer_idx
        self.reorder_and_upcast_attn = reorder_and_upcast_attn  # float32 already: nothing to reorder
        self.add_cross_attention = add_cross_attention
        super().__init__(bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id, **kwargs)


class GPT2Attention(Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        if config.n_embd % config.n_head:
            raise ValueError(f"n_embd {config.n_embd} is not a multiple of n_head {config.n_head}")
        self.n_embd = config.n_embd
        head_dim = config.n_embd // config.n_head
        scale = head_dim**-0.5 if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= layer_idx + 1
        self.c_attn = Conv1D(3 * config.n_embd, config.n_embd)  # q, k and v in one matrix product
        self.c_proj = Conv1D(config.n_embd, config.n_embd)
        # GPT-2's init scales the projections that feed the residual stream by 1/√(2·n_layer).
        self.c_proj.init_std_scale = (2 * config.n_layer) ** -0.5
        self.attention_core = ScaledDotProductAttention(config.n_head, config.attn_pdrop, causal=True, scale=scale)
        self.resid_dropout = Dropout(config.resid_pdrop)

    def forward(self, hidden_states, mask, past: LayerCache | None = None):
        """``(batch, seq, n_embd)`` -> ``(output, probs, present)``; ``present``: this layer's ``LayerCache``,
        ``past``'s keys and values followed by this call's."""
        qkv = self.c_attn(hidden_states)
        n = self.n_embd
        q, k, v = qkv[..., :n], qkv[..., n : 2 * n], qkv[..., 2 * n :]  # views into qkv, no copies
        context, probs, (keys, values) = self.attention_core(
            q, k, v, mask, None if past is None else past.self_attention()
        )
        return self.resid_dropout(self.c_proj(context)), probs, LayerCache(keys, values)

    def backward(self, d_out) -> np.ndarray:
        dq, dk, dv = self.attention_core.backward(self.c_proj.backward(self.resid_dropout.backward(d_out)))
        return self.c_attn.backward(np.concatenate([dq, dk, dv], axis=-1))


class GPT2MLP(Module):
    def __init__(self, config: GPT2Config):
        inner = config.n_inner if config.n_inner is not None else 4 * config.n_embd
        self.c_fc = Conv1D(inner, config.n_embd, activation=config.activation_function)
        self.c_proj = Conv1D(config.n_embd, inner)
        self.c_proj.init_std_scale = (2 * config.n_layer) ** -0.5
        self.dropout = Dropout(config.resid_pdrop)

    def forward(self, hidden_states) -> np.ndarray:
        return self.dropout(feed_forward(self.c_fc, self.c_proj, hidden_states))  # c_proj's input recomputed

    def backward(self, d_out) -> np.ndarray:
        return feed_forward_backward(self.c_fc, self.c_proj, self.dropout.backward(d_out))


class GPT2Block(Module):
    def __init__(self, config: GPT2Config, layer_idx: int):
        self.ln_1 = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config, layer_idx)
        self.ln_2 = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config)

    def forward(self, x, mask, past: LayerCache | None = None) -> LayerOutput:
        """Pre-LN residual blocks: h = x + attn(LN₁(x)); out = h + mlp(LN₂(h))."""
        out, probs, present = pre_norm_residual(self.ln_1, self.attn, self.ln_2, self.mlp, x, mask, past)
        return LayerOutput(out, probs, cache=present)

    def backward(self, d_out) -> np.ndarray:
        return pre_norm_residual_backward(self.ln_1, self.attn, self.ln_2, self.mlp, d_out)


class GPT2PreTrainedModel(PreTrainedModel):
    config_class = GPT2Config
    base_model_prefix = "transformer"
    # Old GPT-2 files carry the causal mask itself as buffers named attn.bias / attn.masked_bias.
    _keys_to_ignore_on_load = (*PreTrainedModel._keys_to_ignore_on_load, r"attn\.(masked_)?bias$")


class GPT2Model(GPT2PreTrainedModel):
    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.wte = Embedding(config.vocab_size, config.n_embd)
        self.wpe = Embedding(config.n_positions, config.n_embd)
        self.drop = Dropout(config.embd_pdrop)
        self.h = LayerStack([GPT2Block(config, i) for i in range(config.n_layer)])
        self.ln_f = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.post_init()

    def forward(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None, use_cache=None,
                output_attentions=None, output_hidden_states=None, return_dict=None):  # fmt: skip
        """``input_ids (batch, seq)`` -> ``last_hidden_state (batch, seq, n_embd)``.

        With ``past_key_values`` (the previous call's ``KVCache``), ``input_ids`` holds only the new
        tokens and ``attention_mask`` covers past and new tokens: ``(batch, past_len + seq)``.
        """
        config = self.config
        past_key_values = KVCache.from_legacy(past_key_values)
        past_len = 0 if past_key_values is None else past_key_values.get_seq_length()
        input_ids, attention_mask = self.check_inputs(input_ids, attention_mask, None, position_ids,
                                                      past_length=past_len)  # fmt: skip
        if position_ids is None:
            position_ids = np.arange(past_len, past_len + input_ids.shape[1])[None, :]
        use_cache = config.use_cache if use_cache is None else use_cache
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        output_attentions = config.output_attentions if output_attentions is None else output_attentions

        hidden = self.wte(input_ids)
        self.wpe(position_ids, out=hidden)
        hidden = self.drop(hidden)
        mask = additive_padding_mask(attention_mask, hidden.dtype)
        stack = self.h(hidden, mask, past=past_key_values, use_cache=use_cache, final_norm=self.ln_f,
                       output_hidden_states=output_hidden_states, output_attentions=output_attentions)  # fmt: skip
        out = BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=stack.last_hidden_state,
            past_key_values=stack.cache,
            hidden_states=stack.hidden_states,
            attentions=stack.attentions,
        )
        return finish(config, out, return_dict)

    def backward(self, d_last_hidden_state) -> None:
        d = self.drop.backward(self.h.backward(d_last_hidden_state))  # ln_f's backward included
        self.wte.backward(d)
        self.wpe.backward(d)


class GPT2LMHeadModel(GenerationMixin, GPT2PreTrainedModel):
    """last_hidden_state -> lm_head (tied to ``wte``): ``logits (batch, seq, vocab_size)``.

    With ``labels`` (usually the input ids themselves) the loss is next-token cross-entropy:
    the logits at position t are scored against the label at t + 1; -100 labels are ignored.
    """

    _tied_weights_keys = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.transformer = GPT2Model(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None, labels=None,
                use_cache=None, output_attentions=None, output_hidden_states=None, return_dict=None,
                logits_to_keep=0):  # fmt: skip
        """``logits_to_keep``: the positions to score (transformers' argument; see ``keep_positions``):
        ``generate`` passes 1, so a prompt's other positions skip the (vocab × hidden) product."""
        base = self.transformer(input_ids, past_key_values, attention_mask, position_ids, use_cache,
                                output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        hidden = base.last_hidden_state
        self._cache = (hidden.shape, logits_to_keep) if is_grad_enabled() else None
        logits = self.lm_head(keep_positions(hidden, logits_to_keep))
        loss = None
        if labels is not None:
            labels = check_labels(labels, logits.shape[:2])
            # Shift: position t predicts token t + 1; the last position has nothing to predict.
            shifted = np.concatenate([labels[:, 1:], np.full((labels.shape[0], 1), -100)], axis=1)
            loss = make_loss(cross_entropy_loss(logits, shifted), self.backward)
        out = CausalLMOutputWithCrossAttentions(loss, logits, base.past_key_values, base.hidden_states, base.attentions)
        return finish(self.config, out, return_dict)

    def backward(self, d_logits) -> None:
        # lm_head.weight is wte.weight: its gradient and the embedding's add into one .grad.
        shape, logits_to_keep = self.pop_cache()
        self.transformer.backward(keep_positions_backward(self.lm_head.backward(d_logits), shape, logits_to_keep))


class GPT2ForSequenceClassification(GPT2PreTrainedModel):
    """The hidden state of each sequence's last real token -> score: ``logits (batch, num_labels)``.

    "Last real token" is the last position whose id is not ``pad_token_id``, as transformers
    finds it; without a pad token only a batch of one can be classified.
    """

    def __init__(self, config: GPT2Config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.transformer = GPT2Model(config)
        self.score = Linear(config.n_embd, config.num_labels, bias=False)
        self.post_init()

    def forward(self, input_ids, past_key_values=None, attention_mask=None, position_ids=None, labels=None,
                use_cache=None, output_attentions=None, output_hidden_states=None, return_dict=None):  # fmt: skip
        base = self.transformer(input_ids, past_key_values, attention_mask, position_ids, use_cache,
                                output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        last = last_non_pad_index(np.asarray(input_ids), self.config.pad_token_id)
        hidden = base.last_hidden_state
        self._cache = (hidden.shape, last) if is_grad_enabled() else None
        logits = self.score(select_token(hidden, last))
        loss = None
        if labels is not None:
            loss = make_loss(sequence_classification_loss(logits, labels, self.config), self.backward)
        out = SequenceClassifierOutputWithPast(loss, logits, base.past_key_values, base.hidden_states, base.attentions)
        return finish(self.config, out, return_dict)

    def backward(self, d_logits) -> None:
        shape, last = self.pop_cache()
        self.transformer.backward(select_token_backward(self.score.backward(d_logits), shape, last))

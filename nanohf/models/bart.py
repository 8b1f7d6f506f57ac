"""BART (Lewis et al., 2019): an encoder-decoder transformer and its heads, in one file.

    input_ids ─► token · embed_scale + learned positions ─► layernorm_embedding
              ─► N × [ x = LN(x + self-attention(x)) ─► x = LN(x + MLP(x)) ]            (post-LN, like BERT)
              ─► encoder_hidden_states (batch, src, d_model)
    decoder_input_ids ─► the same embeddings (one shared table)
              ─► N × [ x = LN(x + causal self-attention(x))
                       x = LN(x + cross-attention(x, encoder_hidden_states))
                       x = LN(x + MLP(x)) ]
              ─► last_hidden_state (batch, tgt, d_model) ─► lm_head (tied) + final_logits_bias

Details that differ from BERT and GPT-2: the position table has two extra rows and position p
reads row p + 2 (a fairseq legacy); ``scale_embedding`` multiplies token embeddings by
√d_model; the decoder input is the target shifted one to the right behind
``decoder_start_token_id`` (``shift_tokens_right``); cross-attention reads the encoder states
with the encoder's padding mask. For generation each decoder layer returns its ``LayerCache``
(nn/kv_cache.py): its self-attention keys and values ``(batch, heads, tgt_so_far, head_dim)``, which
grow a token per step, and the projected encoder keys and values ``(batch, src, d_model)`` (its
cross keys and values), computed on the first step and reused after.
"""

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.generation import GenerationMixin
from nanohf.models.config_validation import ConfigRules
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.heads import TanhClassificationHead, finish, make_loss
from nanohf.models.inputs import as_array
from nanohf.models.losses import cross_entropy_loss, sequence_classification_loss
from nanohf.models.modeling_utils import PreTrainedModel
from nanohf.models.outputs import BaseModelOutput, ModelOutput
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.blocks import (
    LayerOutput,
    LayerStack,
    StackOutput,
    feed_forward,
    feed_forward_backward,
    last_index_of,
    select_token,
    select_token_backward,
)
from nanohf.nn.kv_cache import KVCache, LayerCache
from nanohf.nn.layers import Dropout, Embedding, LayerNorm, Linear
from nanohf.nn.masks import additive_padding_mask
from nanohf.nn.module import Module, Parameter

POSITION_OFFSET = 2  # BART's position p is row p + 2 of the table


class BartConfig(PretrainedConfig):
    model_type = "bart"
    attribute_map = {
        "num_attention_heads": "encoder_attention_heads",
        "hidden_size": "d_model",
        "num_hidden_layers": "encoder_layers",
    }
    rules = ConfigRules(
        positive=("vocab_size", "max_position_embeddings", "encoder_ffn_dim",
                  "encoder_attention_heads", "decoder_ffn_dim", "decoder_attention_heads", "d_model"),
        probabilities=("dropout", "attention_dropout", "activation_dropout", "classifier_dropout",
                       "encoder_layerdrop", "decoder_layerdrop"),
        activations=("activation_function",),
        divides=(("d_model", "encoder_attention_heads"), ("d_model", "decoder_attention_heads")),
        layers=("encoder_layers", "decoder_layers"),
        width="d_model",
    )  # fmt: skip

    def __init__(
        self,
        vocab_size: int = 50265,
        max_position_embeddings: int = 1024,
        encoder_layers: int = 12,
        encoder_ffn_dim: int = 4096,
        encoder_attention_heads: int = 16,
        decoder_layers: int = 12,
        decoder_ffn_dim: int = 4096,
        decoder_attention_heads: int = 16,
        encoder_layerdrop: float = 0.0,
        decoder_layerdrop: float = 0.0,
        activation_function: str = "gelu",
        d_model: int = 1024,
        dropout: float = 0.1,
        attention_dropout: float = 0.0,
        activation_dropout: float = 0.0,
        init_std: float = 0.02,
        classifier_dropout: float = 0.0,
        scale_embedding: bool = False,
        use_cache: bool = True,
        pad_token_id: int | None = 1,
        bos_token_id: int | None = 0,
        eos_token_id: int | None = 2,
        is_encoder_decoder: bool = True,
        decoder_start_token_id: int | None = 2,
        forced_eos_token_id: int | None = 2,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.encoder_layers = encoder_layers
        self.encoder_ffn_dim = encoder_ffn_dim
        self.encoder_attention_heads = encoder_attention_heads
        self.decoder_layers = decoder_layers
        self.decoder_ffn_dim = decoder_ffn_dim
        self.decoder_attention_heads = decoder_attention_heads
        self.encoder_layerdrop = encoder_layerdrop  # LayerDrop is not implemented: training uses every layer
        self.decoder_layerdrop = decoder_layerdrop
        self.activation_function = activation_function
        self.d_model = d_model
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation_dropout = activation_dropout
        self.init_std = init_std
        self.classifier_dropout = classifier_dropout
        self.scale_embedding = scale_embedding
        self.use_cache = use_cache
        self.decoder_start_token_id = decoder_start_token_id
        self.forced_eos_token_id = forced_eos_token_id
        if kwargs.get("id2label") is None:  # BART's classification head defaults to 3 labels (MNLI)
            kwargs.setdefault("num_labels", 3)
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            is_encoder_decoder=is_encoder_decoder,
            **kwargs,
        )

    @property
    def initializer_range(self) -> float:  # the name PreTrainedModel._init_weights reads
        return self.init_std


def shift_tokens_right(input_ids, pad_token_id: int, decoder_start_token_id: int) -> np.ndarray:
    """``(batch, seq)`` -> the decoder inputs: start token, then ids[:, :-1]; -100 labels become padding."""
    if pad_token_id is None:
        raise ValueError("shift_tokens_right needs config.pad_token_id (it replaces -100 labels)")
    input_ids = np.asarray(input_ids)
    shifted = np.empty_like(input_ids)
    shifted[:, 1:] = input_ids[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    shifted[shifted == -100] = pad_token_id
    return shifted


# --- outputs ----------------------------------------------------------------------------------------


@dataclass
class Seq2SeqModelOutput(ModelOutput):
    """Decoder ``last_hidden_state (batch, tgt, d_model)`` and the encoder's ``(batch, src, d_model)``."""

    last_hidden_state: np.ndarray | None = None
    past_key_values: tuple | None = None
    decoder_hidden_states: tuple | None = None
    decoder_attentions: tuple | None = None
    cross_attentions: tuple | None = None
    encoder_last_hidden_state: np.ndarray | None = None
    encoder_hidden_states: tuple | None = None
    encoder_attentions: tuple | None = None


@dataclass
class Seq2SeqLMOutput(ModelOutput):
    """``logits (batch, tgt, vocab_size)``: at each decoder position, the scores of the next token."""

    loss: Any = None
    logits: np.ndarray | None = None
    past_key_values: tuple | None = None
    decoder_hidden_states: tuple | None = None
    decoder_attentions: tuple | None = None
    cross_attentions: tuple | None = None
    encoder_last_hidden_state: np.ndarray | None = None
    encoder_hidden_states: tuple | None = None
    encoder_attentions: tuple | None = None


@dataclass
class Seq2SeqSequenceClassifierOutput(Seq2SeqLMOutput):
    """``logits (batch, num_labels)``, read at each row's last eos token."""


# What a head copies from BartModel's output into its own: every field but last_hidden_state.
_BASE_FIELDS = tuple(f.name for f in fields(Seq2SeqModelOutput) if f.name != "last_hidden_state")


# --- layers -----------------------------------------------------------------------------------------


class BartScaledWordEmbedding(Embedding):
    """Token embeddings times ``embed_scale`` (√d_model with ``scale_embedding``, else 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None, embed_scale: float = 1.0):
        super().__init__(num_embeddings, embedding_dim, padding_idx)
        self.embed_scale = embed_scale

    def forward(self, ids: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        hidden = super().forward(ids)
        if self.embed_scale != 1.0:
            hidden *= hidden.dtype.type(self.embed_scale)
        return hidden

    def backward(self, d_out: np.ndarray) -> None:
        super().backward(d_out * d_out.dtype.type(self.embed_scale) if self.embed_scale != 1.0 else d_out)


class BartLearnedPositionalEmbedding(Embedding):
    """``max_position_embeddings + 2`` rows; position p reads row p + 2."""

    def __init__(self, num_positions: int, embedding_dim: int):
        super().__init__(num_positions + POSITION_OFFSET, embedding_dim)

    def forward(self, positions: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return super().forward(positions + POSITION_OFFSET, out=out)


class CrossAttentionCore(ScaledDotProductAttention):
    """Attention whose keys and values come from the encoder: ``src`` keys for ``tgt`` queries.

    The parent's backward refuses keys longer than the queries (there they would be a cache, a
    constant); here they are the encoder's projected states and get their gradient. Same math.
    """

    keys_are_inputs = True


class BartAttention(Module):
    """Multi-head attention with q/k/v/out projections; self-attention, or cross-attention when
    ``key_value_states`` (the encoder's output) is given."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float, causal: bool = False, cross: bool = False):
        if embed_dim % num_heads:
            raise ValueError(f"d_model {embed_dim} is not a multiple of the number of heads {num_heads}")
        self.k_proj = Linear(embed_dim, embed_dim)
        self.v_proj = Linear(embed_dim, embed_dim)
        self.q_proj = Linear(embed_dim, embed_dim)
        self.out_proj = Linear(embed_dim, embed_dim)
        core = CrossAttentionCore if cross else ScaledDotProductAttention
        self.attention_core = core(num_heads, dropout, causal=causal)

    def forward(self, hidden_states, mask, key_value_states=None, past=None):
        """``(batch, seq, d_model)`` -> ``(output, probs, present)``.

        Self-attention: ``past``/``present`` are head-split keys and values that grow each step.
        Cross-attention: ``present`` is the projected encoder keys and values ``(batch, src, d_model)``;
        passed back as ``past`` they are reused instead of recomputed.
        """
        q = self.q_proj(hidden_states)
        if key_value_states is None:
            k, v = self.k_proj(hidden_states), self.v_proj(hidden_states)
            context, probs, present = self.attention_core(q, k, v, mask, past)
        else:
            k, v = past if past is not None else (self.k_proj(key_value_states), self.v_proj(key_value_states))
            context, probs, _ = self.attention_core(q, k, v, mask)
            present = (k, v)
        return self.out_proj(context), probs, present

    def backward(self, d_out) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``(d_hidden_states, d_kv_source)``: for self-attention both are the same input."""
        dq, dk, dv = self.attention_core.backward(self.out_proj.backward(d_out))
        return self.q_proj.backward(dq), self.k_proj.backward(dk) + self.v_proj.backward(dv)


class BartEncoderLayer(Module):
    """Post-LN: h = LN(x + attn(x)); out = LN(h + MLP(h)). The decoder layer is this one with cross-attention
    between the two blocks; the block methods below serve both."""

    def __init__(self, config: BartConfig, num_heads: int | None = None, ffn_dim: int | None = None,
                 causal: bool = False):  # fmt: skip
        d = config.d_model
        num_heads = num_heads or config.encoder_attention_heads
        ffn_dim = ffn_dim or config.encoder_ffn_dim
        self.self_attn = BartAttention(d, num_heads, config.attention_dropout, causal=causal)
        self.self_attn_layer_norm = LayerNorm(d)
        # One Dropout per use: each keeps the mask its forward drew until its backward needs it.
        self.self_attn_dropout = Dropout(config.dropout)
        self.ffn_dropout = Dropout(config.dropout)
        self.activation_dropout = Dropout(config.activation_dropout)
        # The decoder's cross-attention goes here: the attribute order is the order weights are initialised in.
        self.add_cross_attention(config, num_heads)
        self.fc1 = Linear(d, ffn_dim, activation=config.activation_function)
        self.fc2 = Linear(ffn_dim, d)
        self.final_layer_norm = LayerNorm(d)

    def add_cross_attention(self, config: BartConfig, num_heads: int) -> None:
        """The encoder layer has none."""

    def forward(self, x, mask) -> LayerOutput:
        attn, probs, _ = self.self_attn(x, mask)
        return LayerOutput(self.feed_forward_block(self.self_attn_layer_norm(x + self.self_attn_dropout(attn))), probs)

    def backward(self, d_out) -> np.ndarray:
        return self.self_attention_block_backward(self.feed_forward_block_backward(d_out))

    def feed_forward_block(self, h) -> np.ndarray:
        """``LN(h + dropout(fc2(dropout(act(fc1(h))))))``."""
        # fc2's input is recomputed in the backward when no active dropout sits between (nn/blocks.py)
        return self.final_layer_norm(h + self.ffn_dropout(feed_forward(self.fc1, self.fc2, h, self.activation_dropout)))

    def feed_forward_block_backward(self, d_out) -> np.ndarray:
        d_h = self.final_layer_norm.backward(d_out)
        d_mlp = self.ffn_dropout.backward(d_h)
        return d_h + feed_forward_backward(self.fc1, self.fc2, d_mlp, self.activation_dropout)

    def self_attention_block_backward(self, d_h) -> np.ndarray:
        """Gradient of ``h = LN(x + dropout(attn(x)))`` -> gradient of x (its residual, queries, keys and values)."""
        d_x = self.self_attn_layer_norm.backward(d_h)
        d_query, d_kv = self.self_attn.backward(self.self_attn_dropout.backward(d_x))
        return d_x + d_query + d_kv


class BartDecoderLayer(BartEncoderLayer):
    """Post-LN, three blocks: causal self-attention, cross-attention on the encoder's states, MLP."""

    def __init__(self, config: BartConfig):
        super().__init__(config, config.decoder_attention_heads, config.decoder_ffn_dim, causal=True)

    def add_cross_attention(self, config: BartConfig, num_heads: int) -> None:
        self.encoder_attn = BartAttention(config.d_model, num_heads, config.attention_dropout, cross=True)
        self.encoder_attn_layer_norm = LayerNorm(config.d_model)
        self.cross_attn_dropout = Dropout(config.dropout)

    def forward(self, x, mask, encoder_hidden_states, encoder_mask, past: LayerCache | None = None) -> LayerOutput:
        """Returns the hidden states, both attentions' probabilities and this layer's ``LayerCache``
        (self keys and values including this step's; the projected encoder keys and values as cross ones)."""
        self_past, cross_past = (None, None) if past is None else (past.self_attention(), past.cross_attention())
        attn, self_probs, (keys, values) = self.self_attn(x, mask, past=self_past)
        h = self.self_attn_layer_norm(x + self.self_attn_dropout(attn))
        attn, cross_probs, (cross_keys, cross_values) = self.encoder_attn(
            h, encoder_mask, encoder_hidden_states, cross_past
        )
        h = self.encoder_attn_layer_norm(h + self.cross_attn_dropout(attn))
        present = LayerCache(keys, values, cross_keys, cross_values)
        return LayerOutput(self.feed_forward_block(h), self_probs, cross_probs, present)

    def backward(self, d_out) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``(d_x, d_encoder_hidden_states)``."""
        d_h = self.encoder_attn_layer_norm.backward(self.feed_forward_block_backward(d_out))
        d_query, d_encoder = self.encoder_attn.backward(self.cross_attn_dropout.backward(d_h))
        return self.self_attention_block_backward(d_h + d_query), d_encoder


# --- encoder and decoder ---------------------------------------------------------------------------


class BartStack(Module):
    """The encoder's and the decoder's common part: embeddings, then ``layer_class`` layers."""

    layer_class: type[Module]
    num_layers_field: str  # the config field that counts the layers

    def __init__(self, config: BartConfig, embed_scale: float):
        self.dropout = Dropout(config.dropout)
        self.embed_tokens = BartScaledWordEmbedding(config.vocab_size, config.d_model, config.pad_token_id, embed_scale)
        self.embed_positions = BartLearnedPositionalEmbedding(config.max_position_embeddings, config.d_model)
        num_layers = getattr(config, self.num_layers_field)
        self.layers = LayerStack([self.layer_class(config) for _ in range(num_layers)])
        self.layernorm_embedding = LayerNorm(config.d_model)

    def embed(self, input_ids, past_len: int = 0) -> np.ndarray:
        """``(batch, seq)`` ids at positions ``past_len, past_len + 1, ...`` -> ``(batch, seq, d_model)``."""
        hidden = self.embed_tokens(input_ids)
        self.embed_positions(np.arange(past_len, past_len + input_ids.shape[1])[None, :], out=hidden)
        return self.dropout(self.layernorm_embedding(hidden))

    def embed_backward(self, d_hidden) -> None:
        d_embed = self.layernorm_embedding.backward(self.dropout.backward(d_hidden))
        self.embed_tokens.backward(d_embed)
        self.embed_positions.backward(d_embed)


class BartEncoder(BartStack):
    layer_class = BartEncoderLayer
    num_layers_field = "encoder_layers"

    def forward(self, input_ids, attention_mask, output_hidden_states=False, output_attentions=False):
        hidden = self.embed(input_ids)
        mask = additive_padding_mask(attention_mask, hidden.dtype)
        out = self.layers(hidden, mask, output_hidden_states=output_hidden_states, output_attentions=output_attentions)
        return BaseModelOutput(out.last_hidden_state, out.hidden_states, out.attentions)

    def backward(self, d_hidden) -> None:
        self.embed_backward(self.layers.backward(d_hidden))


class BartDecoder(BartStack):
    layer_class = BartDecoderLayer
    num_layers_field = "decoder_layers"

    def forward(self, input_ids, attention_mask, encoder_hidden_states, encoder_mask, past_key_values=None,
                use_cache=False, output_hidden_states=False, output_attentions=False) -> StackOutput:  # fmt: skip
        """``attention_mask (batch, past + tgt)`` pads the decoder; the causal mask is added on top."""
        hidden = self.embed(input_ids, 0 if past_key_values is None else past_key_values.get_seq_length())
        mask = additive_padding_mask(attention_mask, hidden.dtype)
        cross_mask = additive_padding_mask(encoder_mask, hidden.dtype)
        return self.layers(hidden, mask, encoder_hidden_states, cross_mask, past=past_key_values, use_cache=use_cache,
                           output_hidden_states=output_hidden_states, output_attentions=output_attentions)  # fmt: skip

    def backward(self, d_hidden) -> np.ndarray:
        """Returns the gradient with respect to the encoder's output (summed over the layers)."""
        d_hidden, d_encoder = self.layers.backward(d_hidden)
        self.embed_backward(d_hidden)
        return d_encoder


# --- models -----------------------------------------------------------------------------------------


class BartPreTrainedModel(PreTrainedModel):
    config_class = BartConfig
    base_model_prefix = "model"
    _keys_to_ignore_on_load = (*PreTrainedModel._keys_to_ignore_on_load, r"(en|de)coder\.version$")


class BartModel(BartPreTrainedModel):
    def __init__(self, config: BartConfig):
        super().__init__(config)
        embed_scale = config.d_model**0.5 if config.scale_embedding else 1.0
        self.shared = BartScaledWordEmbedding(config.vocab_size, config.d_model, config.pad_token_id, embed_scale)
        self.encoder = BartEncoder(config, embed_scale)
        self.decoder = BartDecoder(config, embed_scale)
        # One token table under three names: the encoder and decoder modules share shared's Parameter.
        self.encoder.embed_tokens.weight = self.decoder.embed_tokens.weight = self.shared.weight
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, past_key_values=None, use_cache=None, output_attentions=None,
                output_hidden_states=None, return_dict=None):  # fmt: skip
        """``input_ids (batch, src)``, ``decoder_input_ids (batch, tgt)`` -> ``last_hidden_state (batch, tgt, d)``.

        Without ``decoder_input_ids`` the decoder reads ``shift_tokens_right(input_ids)`` (denoising).
        ``encoder_outputs`` (a previous encoder result) skips the encoder; ``past_key_values`` holds
        the decoder caches, and ``decoder_input_ids`` then holds only the new tokens.
        """
        config = self.config
        output_attentions = config.output_attentions if output_attentions is None else output_attentions
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        use_cache = config.use_cache if use_cache is None else use_cache
        run_encoder = encoder_outputs is None
        if run_encoder or input_ids is not None:  # checked before they are shifted into decoder inputs
            if input_ids is None:
                raise ValueError("BART needs input_ids (or encoder_outputs) to encode")
            input_ids, attention_mask = self.check_inputs(input_ids, attention_mask)
        if decoder_input_ids is None:
            if input_ids is None:
                raise ValueError("BART needs decoder_input_ids, or input_ids to shift into them")
            decoder_input_ids = shift_tokens_right(input_ids, config.pad_token_id, config.decoder_start_token_id)

        if run_encoder:
            encoder_outputs = self.encoder(input_ids, attention_mask, output_hidden_states, output_attentions)
        elif not isinstance(encoder_outputs, BaseModelOutput):
            encoder_outputs = BaseModelOutput(*encoder_outputs)
        encoder_hidden = encoder_outputs.last_hidden_state
        if attention_mask is None:
            attention_mask = np.ones(encoder_hidden.shape[:2], dtype=np.int64)
        attention_mask = np.asarray(attention_mask)
        if attention_mask.shape != encoder_hidden.shape[:2]:
            raise ValueError(
                f"attention_mask has shape {attention_mask.shape}, expected {encoder_hidden.shape[:2]} like the encoder"
            )

        past_key_values = KVCache.from_legacy(past_key_values)
        past_len = 0 if past_key_values is None else past_key_values.get_seq_length()
        decoder_input_ids, decoder_attention_mask = self.check_inputs(
            decoder_input_ids, decoder_attention_mask, past_length=past_len, prefix="decoder_"
        )
        if decoder_input_ids.shape[0] != encoder_hidden.shape[0]:
            raise ValueError(
                f"decoder_input_ids has {decoder_input_ids.shape[0]} rows, but the encoder states have "
                f"{encoder_hidden.shape[0]}: one decoder row per input"
            )
        decoded = self.decoder(decoder_input_ids, decoder_attention_mask, encoder_hidden, attention_mask,
                               past_key_values, use_cache, output_hidden_states, output_attentions)  # fmt: skip
        self._cache = run_encoder if is_grad_enabled() else None
        out = Seq2SeqModelOutput(
            last_hidden_state=decoded.last_hidden_state,
            past_key_values=decoded.cache,
            decoder_hidden_states=decoded.hidden_states,
            decoder_attentions=decoded.attentions,
            cross_attentions=decoded.cross_attentions,
            encoder_last_hidden_state=encoder_hidden,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions,
        )
        return finish(config, out, return_dict)

    def get_encoder(self) -> BartEncoder:
        return self.encoder

    def backward(self, d_last_hidden_state) -> None:
        ran_encoder = self.pop_cache()
        d_encoder = self.decoder.backward(d_last_hidden_state)
        if ran_encoder:  # given encoder_outputs are constants: the gradient stops there
            self.encoder.backward(d_encoder)


class BartForConditionalGeneration(GenerationMixin, BartPreTrainedModel):
    """Decoder states -> lm_head (tied to the shared table) + final_logits_bias: ``logits (batch, tgt, vocab)``.

    With ``labels`` the decoder reads ``shift_tokens_right(labels)`` and the loss is cross-entropy
    of the logits at t against label t (-100 ignored). ``final_logits_bias`` is a buffer in
    transformers: loaded and saved, never trained.
    """

    _tied_weights_keys = {"lm_head.weight": "model.shared.weight"}

    def __init__(self, config: BartConfig):
        super().__init__(config)
        self.model = BartModel(config)
        self.final_logits_bias = Parameter(np.zeros((1, config.vocab_size), dtype=np.float32), requires_grad=False)
        self.lm_head = Linear(config.d_model, config.vocab_size, bias=False)
        self.post_init()

    def get_encoder(self) -> BartEncoder:
        return self.model.encoder

    def reset_parameters(self, std: float = 0.02) -> None:
        """The model's own parameter: ``final_logits_bias`` starts at 0 (its layers initialise themselves)."""
        self.final_logits_bias.data[...] = 0.0

    def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, past_key_values=None, labels=None, use_cache=None, output_attentions=None,
                output_hidden_states=None, return_dict=None):  # fmt: skip
        if labels is not None:
            use_cache = False
            labels = as_array("labels", labels, integer=True)
            if labels.ndim != 2 or labels.shape[1] == 0:
                raise ValueError(f"labels must be (batch, target length >= 1) token ids; got shape {labels.shape}")
            rows = None if input_ids is None else np.shape(input_ids)[0]
            if rows is not None and labels.shape[0] != rows:
                raise ValueError(f"labels has shape {labels.shape}, but input_ids has {rows} rows (one target each)")
            if decoder_input_ids is None:
                decoder_input_ids = shift_tokens_right(
                    labels, self.config.pad_token_id, self.config.decoder_start_token_id
                )
        base = self.model(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
                          past_key_values, use_cache, output_attentions, output_hidden_states, True)  # fmt: skip
        logits = self.lm_head(base.last_hidden_state)
        logits += self.final_logits_bias.data
        loss = None if labels is None else make_loss(cross_entropy_loss(logits, labels), self.backward)
        out = Seq2SeqLMOutput(loss=loss, logits=logits, **{k: getattr(base, k) for k in _BASE_FIELDS})
        return finish(self.config, out, return_dict)

    def prepare_decoder_input_ids_from_labels(self, labels) -> np.ndarray:
        """``labels (batch, tgt)`` -> the decoder inputs forward would make from them (DataCollatorForSeq2Seq)."""
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

    def backward(self, d_logits) -> None:
        # lm_head.weight is the shared table: its gradient adds to the embeddings' in one .grad.
        self.model.backward(self.lm_head.backward(d_logits))


class BartForSequenceClassification(BartPreTrainedModel):
    """The decoder state at each row's last eos token -> dense -> tanh -> out_proj: ``(batch, num_labels)``.

    Every row must hold the same number (≥ 1) of eos tokens, as transformers requires.
    """

    def __init__(self, config: BartConfig):
        super().__init__(config)
        self.model = BartModel(config)
        self.classification_head = TanhClassificationHead(config.d_model, config.num_labels, config.classifier_dropout)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                encoder_outputs=None, labels=None, use_cache=None, output_attentions=None,
                output_hidden_states=None, return_dict=None):  # fmt: skip
        if labels is not None:
            use_cache = False
        base = self.model(input_ids, attention_mask, decoder_input_ids, decoder_attention_mask, encoder_outputs,
                          None, use_cache, output_attentions, output_hidden_states, return_dict=True)  # fmt: skip
        hidden = base.last_hidden_state
        is_eos = np.asarray(input_ids) == self.config.eos_token_id
        counts = is_eos.sum(axis=1)
        if (counts != counts[0]).any():
            raise ValueError("All examples must have the same number of <eos> tokens.")
        if counts[0] == 0:
            raise ValueError("Each example must contain at least one <eos> token.")
        last_eos = last_index_of(np.asarray(input_ids), self.config.eos_token_id)
        self._cache = (hidden.shape, last_eos) if is_grad_enabled() else None
        logits = self.classification_head(select_token(hidden, last_eos))
        loss = None
        if labels is not None:
            loss = make_loss(sequence_classification_loss(logits, labels, self.config), self.backward)
        out = Seq2SeqSequenceClassifierOutput(loss=loss, logits=logits, **{k: getattr(base, k) for k in _BASE_FIELDS})
        return finish(self.config, out, return_dict)

    def backward(self, d_logits) -> None:
        shape, last_eos = self.pop_cache()
        self.model.backward(select_token_backward(self.classification_head.backward(d_logits), shape, last_eos))

"""DistilBERT (Sanh et al., 2019): BERT distilled to 6 layers, in one file.

What differs from BERT (see bert.py for the shared idea):
- no token-type embeddings and no pooler; embeddings = word + position, then LayerNorm (eps 1e-12);
- the block is the same post-LN pattern with other names: ``q_lin/k_lin/v_lin/out_lin``,
  ``sa_layer_norm``, ``ffn.lin1/lin2``, ``output_layer_norm``;
- the classification head reads the first token through ``pre_classifier`` -> ReLU -> ``classifier``;
- optional fixed sinusoidal position embeddings (``sinusoidal_pos_embds``).
"""

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.models.config_validation import ConfigRules
from nanohf.models.configuration_utils import PretrainedConfig
from nanohf.models.heads import (
    QuestionAnsweringHead,
    TokenClassificationHead,
    finish,
    masked_lm_output,
    sequence_classification_output,
)
from nanohf.models.modeling_utils import PreTrainedModel
from nanohf.models.outputs import BaseModelOutput
from nanohf.nn.attention import ScaledDotProductAttention
from nanohf.nn.blocks import (
    EncoderStack,
    LayerOutput,
    feed_forward,
    feed_forward_backward,
    select_token,
    select_token_backward,
)
from nanohf.nn.layers import Dropout, Embedding, LayerNorm, Linear
from nanohf.nn.masks import additive_padding_mask
from nanohf.nn.module import Module

LAYER_NORM_EPS = 1e-12  # hard-coded in DistilBERT, not a config field


class DistilBertConfig(PretrainedConfig):
    model_type = "distilbert"
    attribute_map = {"hidden_size": "dim", "num_attention_heads": "n_heads", "num_hidden_layers": "n_layers"}
    rules = ConfigRules(
        positive=("vocab_size", "max_position_embeddings", "n_heads", "dim", "hidden_dim"),
        probabilities=("dropout", "attention_dropout", "qa_dropout", "seq_classif_dropout"),
        activations=("activation",),
        divides=(("dim", "n_heads"),),
        layers=("n_layers",),
        width="dim",
    )

    def __init__(
        self,
        vocab_size: int = 30522,
        max_position_embeddings: int = 512,
        sinusoidal_pos_embds: bool = False,
        n_layers: int = 6,
        n_heads: int = 12,
        dim: int = 768,
        hidden_dim: int = 4 * 768,
        dropout: float = 0.1,
        attention_dropout: float = 0.1,
        activation: str = "gelu",
        initializer_range: float = 0.02,
        qa_dropout: float = 0.1,
        seq_classif_dropout: float = 0.2,
        pad_token_id: int | None = 0,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.max_position_embeddings = max_position_embeddings
        self.sinusoidal_pos_embds = sinusoidal_pos_embds
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dim = dim
        self.hidden_dim = hidden_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation = activation
        self.initializer_range = initializer_range
        self.qa_dropout = qa_dropout
        self.seq_classif_dropout = seq_classif_dropout
        # hidden_size=..., num_attention_heads=..., num_hidden_layers=... in kwargs land on
        # dim/n_heads/n_layers through attribute_map when the base class sets them.
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def sinusoidal_position_embeddings(n_pos: int, dim: int) -> np.ndarray:
    """``(n_pos, dim)``: sin(pos / 10000^(2i/dim)) in even columns, cos(...) in odd ones."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    angles = pos / np.power(10000, 2 * (j // 2) / dim)
    table = np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


class SinusoidalPositionEmbedding(Embedding):
    """Position embeddings fixed to the sin/cos table (``sinusoidal_pos_embds=True``), not trained."""

    def __init__(self, num_positions: int, dim: int):
        super().__init__(num_positions, dim)
        self.weight.requires_grad = False

    def reset_parameters(self, std: float = 0.02) -> None:
        super().reset_parameters(std)  # the generator's draws stay those of any embedding (later layers unchanged)
        self.weight.data[...] = sinusoidal_position_embeddings(*self.weight.shape)


class Embeddings(Module):
    def __init__(self, config: DistilBertConfig):
        self.word_embeddings = Embedding(config.vocab_size, config.dim, padding_idx=config.pad_token_id)
        position_class = SinusoidalPositionEmbedding if config.sinusoidal_pos_embds else Embedding
        self.position_embeddings = position_class(config.max_position_embeddings, config.dim)
        self.LayerNorm = LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.dropout = Dropout(config.dropout)

    def forward(self, input_ids, position_ids=None) -> np.ndarray:
        """``(batch, seq)`` ids -> ``(batch, seq, dim)``."""
        if position_ids is None:
            position_ids = np.arange(input_ids.shape[1])[None, :]
        hidden_states = self.word_embeddings(input_ids)
        self.position_embeddings(position_ids, out=hidden_states)
        return self.dropout(self.LayerNorm(hidden_states, out=hidden_states))

    def backward(self, d_embeddings) -> None:
        d_sum = self.LayerNorm.backward(self.dropout.backward(d_embeddings))
        self.word_embeddings.backward(d_sum)
        self.position_embeddings.backward(d_sum)


class DistilBertSelfAttention(Module):
    def __init__(self, config: DistilBertConfig):
        if config.dim % config.n_heads:
            raise ValueError(f"dim {config.dim} is not a multiple of n_heads {config.n_heads}")
        self.n_heads = config.n_heads
        self.q_lin = Linear(config.dim, config.dim)
        self.k_lin = Linear(config.dim, config.dim)
        self.v_lin = Linear(config.dim, config.dim)
        self.out_lin = Linear(config.dim, config.dim)
        self.attention_core = ScaledDotProductAttention(config.n_heads, config.attention_dropout)

    def forward(self, hidden_states, mask) -> tuple[np.ndarray, np.ndarray]:
        q, k, v = self.q_lin(hidden_states), self.k_lin(hidden_states), self.v_lin(hidden_states)
        context, probs, _ = self.attention_core(q, k, v, mask)
        return self.out_lin(context), probs

    def backward(self, d_out) -> np.ndarray:
        dq, dk, dv = self.attention_core.backward(self.out_lin.backward(d_out))
        return self.q_lin.backward(dq) + self.k_lin.backward(dk) + self.v_lin.backward(dv)


class FFN(Module):
    def __init__(self, config: DistilBertConfig):
        self.lin1 = Linear(config.dim, config.hidden_dim, activation=config.activation)
        self.lin2 = Linear(config.hidden_dim, config.dim)
        self.dropout = Dropout(config.dropout)

    def forward(self, x) -> np.ndarray:
        return self.dropout(feed_forward(self.lin1, self.lin2, x))  # lin2's input recomputed in the backward

    def backward(self, d_out) -> np.ndarray:
        return feed_forward_backward(self.lin1, self.lin2, self.dropout.backward(d_out))


class TransformerBlock(Module):
    def __init__(self, config: DistilBertConfig):
        self.attention = DistilBertSelfAttention(config)
        self.sa_layer_norm = LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.ffn = FFN(config)
        self.output_layer_norm = LayerNorm(config.dim, eps=LAYER_NORM_EPS)

    def forward(self, hidden_states, mask) -> LayerOutput:
        # Post-LN residual blocks, as in BERT: x = LN(x + attention(x)); x = LN(x + FFN(x)).
        attention_output, probs = self.attention(hidden_states, mask)
        attention_output += hidden_states
        attention_output = self.sa_layer_norm(attention_output, out=attention_output)
        ffn_output = self.ffn(attention_output)
        ffn_output += attention_output
        return LayerOutput(self.output_layer_norm(ffn_output, out=ffn_output), probs)

    def backward(self, d_out) -> np.ndarray:
        # Each residual sum sends its gradient both through its branch and straight past it.
        d_attention_output = self.output_layer_norm.backward(d_out)
        d_attention_output = d_attention_output + self.ffn.backward(d_attention_output)
        d_hidden = self.sa_layer_norm.backward(d_attention_output)
        return d_hidden + self.attention.backward(d_hidden)


class Transformer(EncoderStack):
    """``layer``: the stack of ``TransformerBlock`` (nn/blocks.py runs it)."""

    def __init__(self, config: DistilBertConfig):
        super().__init__([TransformerBlock(config) for _ in range(config.n_layers)])


class DistilBertPreTrainedModel(PreTrainedModel):
    config_class = DistilBertConfig
    base_model_prefix = "distilbert"

    def add_base_model(self, config: DistilBertConfig, add_pooling_layer: bool = False) -> None:
        """``self.distilbert``, built as BERT's heads build ``self.bert`` (DistilBERT has no pooler)."""
        if add_pooling_layer:
            raise ValueError("DistilBERT has no pooler")
        self.distilbert = DistilBertModel(config)


class DistilBertModel(DistilBertPreTrainedModel):
    def __init__(self, config: DistilBertConfig):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.transformer = Transformer(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        """``input_ids (batch, seq)`` -> ``last_hidden_state (batch, seq, dim)``.

        ``token_type_ids`` is accepted and ignored (DistilBERT has no segment embeddings),
        as transformers 5 does.
        """
        config = self.config
        input_ids, attention_mask = self.check_inputs(input_ids, attention_mask, None, position_ids)
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        output_attentions = config.output_attentions if output_attentions is None else output_attentions

        embeddings = self.embeddings(input_ids, position_ids)
        mask = additive_padding_mask(attention_mask, embeddings.dtype)
        encoded = self.transformer(embeddings, mask, output_hidden_states, output_attentions)
        self._cache = True if is_grad_enabled() else None
        out = BaseModelOutput(encoded.last_hidden_state, encoded.hidden_states, encoded.attentions)
        return finish(config, out, return_dict)

    def backward(self, d_last_hidden_state) -> None:
        self.pop_cache()
        self.embeddings.backward(self.transformer.backward(d_last_hidden_state))


# --- task heads ------------------------------------------------------------------------------------


class DistilBertForSequenceClassification(DistilBertPreTrainedModel):
    """h[:, 0] -> pre_classifier -> ReLU -> dropout -> classifier: ``logits (batch, num_labels)``."""

    def __init__(self, config: DistilBertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.add_base_model(config)
        self.pre_classifier = Linear(config.dim, config.dim, activation="relu")
        self.classifier = Linear(config.dim, config.num_labels)
        self.dropout = Dropout(config.seq_classif_dropout)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.distilbert(input_ids, attention_mask, None, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        hidden = base.last_hidden_state
        self._cache = hidden.shape if is_grad_enabled() else None
        pooled = self.pre_classifier(select_token(hidden, 0))
        logits = self.classifier(self.dropout(pooled))
        return sequence_classification_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        d_first = self.pre_classifier.backward(self.dropout.backward(self.classifier.backward(d_logits)))
        self.distilbert.backward(select_token_backward(d_first, self.pop_cache(), 0))  # only token 0 fed the head


class DistilBertForMaskedLM(DistilBertPreTrainedModel):
    """h -> vocab_transform + activation -> vocab_layer_norm -> vocab_projector (tied to the embeddings)."""

    _tied_weights_keys = {"vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight"}

    def __init__(self, config: DistilBertConfig):
        super().__init__(config)
        self.add_base_model(config)
        self.vocab_transform = Linear(config.dim, config.dim, activation=config.activation)
        self.vocab_layer_norm = LayerNorm(config.dim, eps=LAYER_NORM_EPS)
        self.vocab_projector = Linear(config.dim, config.vocab_size)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.distilbert(input_ids, attention_mask, None, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        h = self.vocab_transform(base.last_hidden_state)
        logits = self.vocab_projector(self.vocab_layer_norm(h, out=h))
        return masked_lm_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        d_h = self.vocab_layer_norm.backward(self.vocab_projector.backward(d_logits))
        self.distilbert.backward(self.vocab_transform.backward(d_h))


class DistilBertForTokenClassification(TokenClassificationHead, DistilBertPreTrainedModel):
    """h -> dropout -> classifier (heads.py): ``logits (batch, seq, num_labels)``."""

    def head_dropout_prob(self, config: DistilBertConfig) -> float:
        return config.dropout


class DistilBertForQuestionAnswering(QuestionAnsweringHead, DistilBertPreTrainedModel):
    """h -> dropout -> qa_outputs (heads.py): ``start_logits`` and ``end_logits``, each (batch, seq)."""

    def __init__(self, config: DistilBertConfig):
        if config.num_labels != 2:
            raise ValueError(f"DistilBertForQuestionAnswering needs num_labels == 2, got {config.num_labels}")
        super().__init__(config)

    def head_dropout_prob(self, config: DistilBertConfig) -> float:
        return config.qa_dropout

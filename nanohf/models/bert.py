"""BERT (Devlin et al., 2018): the encoder stack and its task heads, in one file.

    input_ids ─► word + position + token-type embeddings ─► LayerNorm
              ─► N × [ self-attention ─► add & LayerNorm ─► GELU MLP ─► add & LayerNorm ]
              ─► last_hidden_state (batch, seq, hidden) ─► pooler: tanh(W · h[CLS])
              ─► a task head: classifier, MLM decoder, per-token classifier, QA start/end

Class and attribute names follow transformers' ``modeling_bert.py`` exactly, because the
attribute path *is* the checkpoint tensor name (``encoder.layer.0.attention.self.query.weight``).
RoBERTa (roberta.py) reuses all of it through two hooks: ``BertModel.embeddings_class`` and the heads'
``base_model_class`` (built under ``base_model_prefix``: ``bert`` here, ``roberta`` there).
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
from nanohf.models.outputs import BaseModelOutputWithPoolingAndCrossAttentions
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
from nanohf.nn.module import Module, Parameter


class BertConfig(PretrainedConfig):
    model_type = "bert"
    rules = ConfigRules(
        positive=("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size",
                  "max_position_embeddings", "type_vocab_size"),
        probabilities=("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"),
        epsilons=("layer_norm_eps",),
        activations=("hidden_act",),
        divides=(("hidden_size", "num_attention_heads"),),
        unsupported=("is_decoder", "add_cross_attention"),  # no causal mask, no cross-attention in nanohf's BERT
        layers=("num_hidden_layers",),
        width="hidden_size",
    )  # fmt: skip

    def __init__(
        self,
        vocab_size: int = 30522,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 3072,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 512,
        type_vocab_size: int = 2,
        initializer_range: float = 0.02,
        layer_norm_eps: float = 1e-12,
        pad_token_id: int | None = 0,
        use_cache: bool = True,
        classifier_dropout: float | None = None,
        is_decoder: bool = False,
        add_cross_attention: bool = False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        self.use_cache = use_cache
        self.classifier_dropout = classifier_dropout
        self.is_decoder = is_decoder
        self.add_cross_attention = add_cross_attention
        super().__init__(pad_token_id=pad_token_id, **kwargs)


def classifier_dropout_prob(config: BertConfig) -> float:
    """The classifier heads' dropout: ``classifier_dropout``, else the hidden layers' rate."""
    return config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob


# --- the encoder ---------------------------------------------------------------------------------


class BertEmbeddings(Module):
    def __init__(self, config: BertConfig):
        self.word_embeddings = Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None, position_ids=None) -> np.ndarray:
        """``(batch, seq)`` ids -> ``(batch, seq, hidden)``: the three lookups summed, then normalised."""
        seq = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = np.zeros((1, seq), dtype=np.int64)  # broadcast over the batch
        if position_ids is None:
            position_ids = np.arange(seq)[None, :]
        hidden_states = self.word_embeddings(input_ids)
        self.token_type_embeddings(token_type_ids, out=hidden_states)
        self.position_embeddings(position_ids, out=hidden_states)
        return self.dropout(self.LayerNorm(hidden_states, out=hidden_states))

    def backward(self, d_embeddings) -> None:
        # The sum's gradient reaches each of the three tables unchanged.
        d_sum = self.LayerNorm.backward(self.dropout.backward(d_embeddings))
        for table in (self.word_embeddings, self.token_type_embeddings, self.position_embeddings):
            table.backward(d_sum)


class BertSelfAttention(Module):
    def __init__(self, config: BertConfig):
        if config.hidden_size % config.num_attention_heads:
            raise ValueError(
                f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads "
                f"{config.num_attention_heads}"
            )
        self.num_attention_heads = config.num_attention_heads
        self.query = Linear(config.hidden_size, config.hidden_size)
        self.key = Linear(config.hidden_size, config.hidden_size)
        self.value = Linear(config.hidden_size, config.hidden_size)
        self.attention_core = ScaledDotProductAttention(config.num_attention_heads, config.attention_probs_dropout_prob)

    def forward(self, hidden_states, mask) -> tuple[np.ndarray, np.ndarray]:
        q, k, v = self.query(hidden_states), self.key(hidden_states), self.value(hidden_states)
        context, probs, _ = self.attention_core(q, k, v, mask)
        return context, probs

    def backward(self, d_context) -> np.ndarray:
        dq, dk, dv = self.attention_core.backward(d_context)
        # hidden_states fed all three projections: their input gradients add up.
        return self.query.backward(dq) + self.key.backward(dk) + self.value.backward(dv)


class BertAddNorm(Module):
    """``LayerNorm(dropout(dense(x)) + residual)``: BERT's post-LN residual block ending.

    transformers names it ``BertSelfOutput`` after attention and ``BertOutput`` after the MLP;
    the computation is the same, so here it is one class.
    """

    def __init__(self, in_features: int, config: BertConfig):
        self.dense = Linear(in_features, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, x, residual) -> np.ndarray:
        return self.add_norm(self.dense(x), residual)

    def backward(self, d_out) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``(d_x, d_residual)``: the sum passes its gradient to both branches."""
        d_dense, d_residual = self.add_norm_backward(d_out)
        return self.dense.backward(d_dense), d_residual

    def add_norm(self, dense_output, residual) -> np.ndarray:
        """``LayerNorm(dropout(dense_output) + residual)``, the part after ``dense``."""
        h = self.dropout(dense_output)
        h += residual
        return self.LayerNorm(h, out=h)

    def add_norm_backward(self, d_out) -> tuple[np.ndarray, np.ndarray]:
        """Returns ``(d_dense_output, d_residual)``."""
        d_sum = self.LayerNorm.backward(d_out)
        return self.dropout.backward(d_sum), d_sum


class BertAttention(Module):
    def __init__(self, config: BertConfig):
        self.self = BertSelfAttention(config)
        self.output = BertAddNorm(config.hidden_size, config)

    def forward(self, hidden_states, mask) -> tuple[np.ndarray, np.ndarray]:
        context, probs = self.self(hidden_states, mask)
        return self.output(context, hidden_states), probs

    def backward(self, d_out) -> np.ndarray:
        d_context, d_residual = self.output.backward(d_out)
        return self.self.backward(d_context) + d_residual


class BertIntermediate(Module):
    def __init__(self, config: BertConfig):
        # hidden_act (exact-erf "gelu" for BERT) is fused into the bias add of the first MLP matrix.
        self.dense = Linear(config.hidden_size, config.intermediate_size, activation=config.hidden_act)

    def forward(self, hidden_states) -> np.ndarray:
        return self.dense(hidden_states)

    def backward(self, d_out) -> np.ndarray:
        return self.dense.backward(d_out)


class BertLayer(Module):
    def __init__(self, config: BertConfig):
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertAddNorm(config.intermediate_size, config)

    def forward(self, hidden_states, mask) -> LayerOutput:
        attention_output, probs = self.attention(hidden_states, mask)
        # The MLP intermediate.dense -> output.dense; output.dense's input act(h) is recomputed in the backward.
        mlp = feed_forward(self.intermediate.dense, self.output.dense, attention_output)
        return LayerOutput(self.output.add_norm(mlp, attention_output), probs)

    def backward(self, d_out) -> np.ndarray:
        d_mlp, d_attention_output = self.output.add_norm_backward(d_out)
        d_attention_output = d_attention_output + feed_forward_backward(
            self.intermediate.dense, self.output.dense, d_mlp
        )
        return self.attention.backward(d_attention_output)


class BertEncoder(EncoderStack):
    """``layer``: the stack of ``BertLayer`` (nn/blocks.py runs it)."""

    def __init__(self, config: BertConfig):
        super().__init__([BertLayer(config) for _ in range(config.num_hidden_layers)])


class BertPooler(Module):
    """``tanh(dense(h[:, 0]))``: the [CLS] token's state, for sentence-level heads."""

    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size, activation="tanh")

    def forward(self, hidden_states) -> np.ndarray:
        return self.dense(select_token(hidden_states, 0))

    def backward(self, d_pooled, d_hidden_states) -> None:
        """Adds the pooler's gradient into the first token's row of ``d_hidden_states``."""
        select_token_backward(self.dense.backward(d_pooled), d_hidden_states.shape, 0, into=d_hidden_states)


class BertPreTrainedModel(PreTrainedModel):
    config_class = BertConfig
    base_model_prefix = "bert"

    def add_base_model(self, config: BertConfig, add_pooling_layer: bool = True) -> None:
        """Build the encoder a head sits on, under its checkpoint name: ``self.bert`` here, ``self.roberta``
        for RoBERTa's heads, which reuse BERT's (``base_model_class`` and ``base_model_prefix`` differ)."""
        setattr(self, self.base_model_prefix, self.base_model_class(config, add_pooling_layer=add_pooling_layer))

    def head_dropout_prob(self, config: BertConfig) -> float:
        return classifier_dropout_prob(config)


class BertModel(BertPreTrainedModel):
    embeddings_class = BertEmbeddings  # RoBERTa numbers its positions differently (roberta.py)

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__(config)
        self.embeddings = self.embeddings_class(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.post_init()

    def forward(
        self,
        input_ids,
        attention_mask=None,
        token_type_ids=None,
        position_ids=None,
        output_hidden_states=None,
        output_attentions=None,
        return_dict=None,
    ):
        """``input_ids (batch, seq)`` -> ``last_hidden_state (batch, seq, hidden)``
        and ``pooler_output (batch, hidden)``."""
        config = self.config
        input_ids, attention_mask = self.check_inputs(input_ids, attention_mask, token_type_ids, position_ids)
        output_hidden_states = config.output_hidden_states if output_hidden_states is None else output_hidden_states
        output_attentions = config.output_attentions if output_attentions is None else output_attentions

        embeddings = self.embeddings(input_ids, token_type_ids, position_ids)
        mask = additive_padding_mask(attention_mask, embeddings.dtype)
        encoded = self.encoder(embeddings, mask, output_hidden_states, output_attentions)
        sequence_output = encoded.last_hidden_state
        pooled_output = self.pooler(sequence_output) if self.pooler is not None else None
        self._cache = (sequence_output.shape, sequence_output.dtype) if is_grad_enabled() else None
        out = BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=sequence_output,
            pooler_output=pooled_output,
            hidden_states=encoded.hidden_states,
            attentions=encoded.attentions,
        )
        return finish(config, out, return_dict)

    def backward(self, d_last_hidden_state=None, d_pooler_output=None) -> None:
        """Gradients of the outputs in, parameter gradients out: the forward read in reverse."""
        shape, dtype = self.pop_cache()
        d_hidden = np.zeros(shape, dtype) if d_last_hidden_state is None else d_last_hidden_state.copy()
        if d_pooler_output is not None:
            self.pooler.backward(d_pooler_output, d_hidden)
        self.embeddings.backward(self.encoder.backward(d_hidden))


# --- task heads ------------------------------------------------------------------------------------


class BertForSequenceClassification(BertPreTrainedModel):
    """pooler_output -> dropout -> classifier: ``logits (batch, num_labels)``."""

    base_model_class = BertModel

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.add_base_model(config)
        self.dropout = Dropout(self.head_dropout_prob(config))
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        logits = self.classifier(self.dropout(base.pooler_output))
        return sequence_classification_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.base_model.backward(d_pooler_output=self.dropout.backward(self.classifier.backward(d_logits)))


class BertPredictionHeadTransform(Module):
    def __init__(self, config: BertConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size, activation=config.hidden_act)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, hidden_states) -> np.ndarray:
        h = self.dense(hidden_states)
        return self.LayerNorm(h, out=h)

    def backward(self, d_out) -> np.ndarray:
        return self.dense.backward(self.LayerNorm.backward(d_out))


class BertLMPredictionHead(Module):
    def __init__(self, config: BertConfig):
        self.transform = BertPredictionHeadTransform(config)
        # One output bias per vocabulary entry; the decoder's bias *is* this Parameter, so both
        # checkpoint names (cls.predictions.bias and cls.predictions.decoder.bias) load it.
        self.bias = Parameter(np.zeros(config.vocab_size, dtype=np.float32))
        # The decoder's weight is tied to the word embeddings (see _tied_weights_keys).
        self.decoder = Linear(config.hidden_size, config.vocab_size)
        self.decoder.bias = self.bias

    def reset_parameters(self, std: float = 0.02) -> None:
        self.bias.data[...] = 0.0

    def forward(self, hidden_states) -> np.ndarray:
        return self.decoder(self.transform(hidden_states))

    def backward(self, d_logits) -> np.ndarray:
        # The decoder's weight is the word-embedding table: its gradient adds to the same .grad.
        return self.transform.backward(self.decoder.backward(d_logits))


class BertOnlyMLMHead(Module):
    def __init__(self, config: BertConfig):
        self.predictions = BertLMPredictionHead(config)

    def forward(self, sequence_output) -> np.ndarray:
        return self.predictions(sequence_output)

    def backward(self, d_logits) -> np.ndarray:
        return self.predictions.backward(d_logits)


class BertForMaskedLM(BertPreTrainedModel):
    """last_hidden_state -> dense + GELU + LayerNorm -> decoder (tied to the word embeddings)."""

    base_model_class = BertModel

    _tied_weights_keys = {"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight"}

    def __init__(self, config: BertConfig):
        super().__init__(config)
        self.add_base_model(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        return masked_lm_output(self.cls(base.last_hidden_state), labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.base_model.backward(self.cls.backward(d_logits))


class BertForTokenClassification(TokenClassificationHead, BertPreTrainedModel):
    """last_hidden_state -> dropout -> classifier (heads.py): ``logits (batch, seq, num_labels)``."""

    base_model_class = BertModel


class BertForQuestionAnswering(QuestionAnsweringHead, BertPreTrainedModel):
    """last_hidden_state -> qa_outputs (heads.py): ``start_logits`` and ``end_logits``, each (batch, seq)."""

    base_model_class = BertModel

    def head_dropout_prob(self, config: BertConfig) -> float:
        return 0.0  # BERT's QA head has no dropout

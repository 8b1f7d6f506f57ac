"""RoBERTa (Liu et al., 2019): BERT's encoder, retrained; only the edges differ, and only those are here.

    input_ids ─► word + position + token-type embeddings ─► LayerNorm      positions count real tokens only,
              ─► N × BERT layer (bert.py, unchanged)                      from pad_token_id + 1 (fairseq's way)
              ─► last_hidden_state ─► a head: dense → tanh → out_proj on <s>; dense → GELU → layer_norm →
                                      decoder (tied to the word embeddings); per-token classifier; QA start/end

The token-classification and question-answering heads are BERT's, over a RobertaModel named ``roberta``
(the attribute path is the checkpoint name: ``roberta.encoder.layer.0...``, ``lm_head.dense.weight``).
"""

import dataclasses

import numpy as np

from nanohf.autograd import is_grad_enabled
from nanohf.models.bert import (
    BertConfig,
    BertEmbeddings,
    BertForQuestionAnswering,
    BertForTokenClassification,
    BertModel,
    BertPreTrainedModel,
    classifier_dropout_prob,
)
from nanohf.models.heads import TanhClassificationHead, masked_lm_output, sequence_classification_output
from nanohf.nn.blocks import select_token, select_token_backward
from nanohf.nn.layers import LayerNorm, Linear
from nanohf.nn.module import Module, Parameter


class RobertaConfig(BertConfig):
    """BertConfig with RoBERTa's defaults: a 50,265-token byte-level BPE vocabulary, <pad> = 1, <s> = 0,
    </s> = 2. Checkpoints set max_position_embeddings to 514: two rows sit below the first position."""

    model_type = "roberta"
    rules = dataclasses.replace(BertConfig.rules, required=("pad_token_id",))  # positions count from it

    def __init__(
        self,
        vocab_size: int = 50265,
        pad_token_id: int | None = 1,
        bos_token_id: int | None = 0,
        eos_token_id: int | None = 2,
        **kwargs,
    ):
        super().__init__(
            vocab_size=vocab_size,
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            **kwargs,
        )


def create_position_ids_from_input_ids(input_ids: np.ndarray, padding_idx: int) -> np.ndarray:
    """``(batch, seq)`` ids -> ``(batch, seq)`` position ids: padding_idx + 1, + 2, ... along the real tokens,
    padding_idx at padding (whose row of the table stays zero and untrained). Left padding thus does not shift
    the positions of the text."""
    not_pad = (input_ids != padding_idx).astype(np.int64)
    return np.cumsum(not_pad, axis=1) * not_pad + padding_idx


class RobertaEmbeddings(BertEmbeddings):
    def __init__(self, config: RobertaConfig):
        super().__init__(config)
        self.padding_idx = config.pad_token_id
        self.position_embeddings.padding_idx = config.pad_token_id  # as torch's Embedding(padding_idx=...)

    def forward(self, input_ids, token_type_ids=None, position_ids=None) -> np.ndarray:
        """As BERT's, with position ids computed from ``input_ids`` when not given."""
        if position_ids is None:
            position_ids = create_position_ids_from_input_ids(input_ids, self.padding_idx)
            table_size = self.position_embeddings.weight.shape[0]
            if position_ids.size and position_ids.max() >= table_size:
                longest = table_size - self.padding_idx - 1
                raise ValueError(
                    f"an input has {position_ids.max() - self.padding_idx} tokens, but RoBERTa's "
                    f"positions run from {self.padding_idx + 1} to max_position_embeddings - 1 = "
                    f"{table_size - 1}: at most {longest} tokens (tokenizer(..., truncation=True, "
                    f"max_length={longest}))"
                )
        return super().forward(input_ids, token_type_ids, position_ids)


class RobertaPreTrainedModel(BertPreTrainedModel):
    config_class = RobertaConfig
    base_model_prefix = "roberta"


class RobertaModel(RobertaPreTrainedModel, BertModel):
    """BertModel with RobertaEmbeddings: ``last_hidden_state (batch, seq, hidden)`` and
    ``pooler_output (batch, hidden)``."""

    embeddings_class = RobertaEmbeddings


# --- task heads ------------------------------------------------------------------------------------


class RobertaClassificationHead(TanhClassificationHead):
    """h[:, 0] (the <s> token) -> dropout -> tanh(dense) -> dropout -> out_proj: ``(batch, num_labels)``.
    Unlike BERT there is no pretrained pooler: this dense layer is trained with the task."""

    def __init__(self, config: RobertaConfig):
        super().__init__(config.hidden_size, config.num_labels, classifier_dropout_prob(config))

    def forward(self, features) -> np.ndarray:
        self._cache = features.shape if is_grad_enabled() else None
        return super().forward(select_token(features, 0))

    def backward(self, d_logits) -> np.ndarray:
        """``d_logits (batch, num_labels)`` -> gradient of the features, nonzero on the first token only."""
        return select_token_backward(super().backward(d_logits), self.pop_cache(), 0)


class RobertaForSequenceClassification(RobertaPreTrainedModel):
    """last_hidden_state -> RobertaClassificationHead: ``logits (batch, num_labels)``."""

    base_model_class = RobertaModel

    def __init__(self, config: RobertaConfig):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.add_base_model(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids,
                            output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        logits = self.classifier(base.last_hidden_state)
        return sequence_classification_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.roberta.backward(self.classifier.backward(d_logits))


class RobertaLMHead(Module):
    """dense -> GELU -> layer_norm -> decoder: ``logits (batch, seq, vocab_size)``.

    The decoder's weight is the word-embedding table (tied) and its bias is ``lm_head.bias``: one
    Parameter each under two names, so either checkpoint name loads it.
    """

    def __init__(self, config: RobertaConfig):
        self.dense = Linear(config.hidden_size, config.hidden_size, activation="gelu")  # exact GELU, always
        self.layer_norm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.decoder = Linear(config.hidden_size, config.vocab_size)
        self.bias = Parameter(np.zeros(config.vocab_size, dtype=np.float32))
        self.decoder.bias = self.bias

    def reset_parameters(self, std: float = 0.02) -> None:
        self.bias.data[...] = 0.0

    def forward(self, features) -> np.ndarray:
        h = self.dense(features)
        return self.decoder(self.layer_norm(h, out=h))

    def backward(self, d_logits) -> np.ndarray:
        return self.dense.backward(self.layer_norm.backward(self.decoder.backward(d_logits)))


class RobertaForMaskedLM(RobertaPreTrainedModel):
    """last_hidden_state -> RobertaLMHead: ``logits (batch, seq, vocab_size)``."""

    base_model_class = RobertaModel
    _tied_weights_keys = {"lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight"}

    def __init__(self, config: RobertaConfig):
        super().__init__(config)
        self.add_base_model(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.roberta(input_ids, attention_mask, token_type_ids, position_ids,
                            output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        logits = self.lm_head(base.last_hidden_state)
        return masked_lm_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.roberta.backward(self.lm_head.backward(d_logits))


class RobertaForTokenClassification(RobertaPreTrainedModel, BertForTokenClassification):
    """BERT's head (dropout -> classifier on every token) over ``self.roberta``."""

    base_model_class = RobertaModel


class RobertaForQuestionAnswering(RobertaPreTrainedModel, BertForQuestionAnswering):
    """BERT's head (qa_outputs: start and end logits) over ``self.roberta``."""

    base_model_class = RobertaModel

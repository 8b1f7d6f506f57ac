"""Task heads: what every head does after its logits, and the heads that are the same in every encoder.

Where the layers differ (BERT's classifier reads the pooler, DistilBERT's a pre-classifier), the model
file computes its own logits; from logits on, all models are the same (``*_output`` below).
``backward`` is the model's own ``backward(d_logits)``: ``loss.backward()`` calls it with the
loss's gradient with respect to the logits.

The token-classification and question-answering heads are one dropout and one Linear over
``last_hidden_state`` in BERT, DistilBERT and RoBERTa alike: ``TokenClassificationHead`` and
``QuestionAnsweringHead`` are those, written once, and each model's class names its encoder.
"""

import numpy as np

from nanohf.autograd import Loss, is_grad_enabled
from nanohf.models.losses import (
    cross_entropy_loss,
    question_answering_loss,
    sequence_classification_loss,
)
from nanohf.models.outputs import (
    MaskedLMOutput,
    ModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from nanohf.nn.layers import Dropout, Linear
from nanohf.nn.module import Module


def finish(config, out: ModelOutput, return_dict: bool | None):
    """The output object, or its tuple when ``return_dict`` (or ``config.return_dict``) is False."""
    use_dict = config.return_dict if return_dict is None else return_dict
    return out if use_dict else out.to_tuple()


def make_loss(value_and_grad, backward) -> Loss:
    """A Loss whose ``backward()`` runs ``backward(d_logits)`` — if the forward kept its caches."""
    value, d_logits = value_and_grad
    if not is_grad_enabled():
        return Loss(value, None)
    return Loss(value, lambda d_loss: backward(d_logits(d_loss)))


def sequence_classification_output(logits, labels, base, config, backward, return_dict=None):
    """``logits (batch, num_labels)``; the loss type follows ``config.problem_type``."""
    loss = None if labels is None else make_loss(sequence_classification_loss(logits, labels, config), backward)
    return finish(config, SequenceClassifierOutput(loss, logits, base.hidden_states, base.attentions), return_dict)


def token_classification_output(logits, labels, base, config, backward, return_dict=None):
    """``logits (batch, seq, num_labels)``; cross-entropy per token, label -100 ignored."""
    loss = None if labels is None else make_loss(cross_entropy_loss(logits, labels), backward)
    return finish(config, TokenClassifierOutput(loss, logits, base.hidden_states, base.attentions), return_dict)


def masked_lm_output(logits, labels, base, config, backward, return_dict=None):
    """``logits (batch, seq, vocab_size)``; cross-entropy on the masked positions (others are -100)."""
    loss = None if labels is None else make_loss(cross_entropy_loss(logits, labels), backward)
    return finish(config, MaskedLMOutput(loss, logits, base.hidden_states, base.attentions), return_dict)


def question_answering_output(logits, start_positions, end_positions, base, config, backward, return_dict=None):
    """``logits (batch, seq, 2)`` split into ``start_logits`` and ``end_logits``, each (batch, seq)."""
    start_logits = np.ascontiguousarray(logits[..., 0])
    end_logits = np.ascontiguousarray(logits[..., 1])
    loss = None
    if start_positions is not None and end_positions is not None:
        qa = question_answering_loss(start_logits, end_logits, start_positions, end_positions)
        loss = make_loss(qa, backward)
    out = QuestionAnsweringModelOutput(loss, start_logits, end_logits, base.hidden_states, base.attentions)
    return finish(config, out, return_dict)


class TanhClassificationHead(Module):
    """dropout -> dense -> tanh -> dropout -> out_proj: ``(batch, hidden)`` -> ``(batch, num_labels)``.

    The sentence classifier of RoBERTa (on <s>) and BART (on the last </s>), trained with the task.
    """

    def __init__(self, hidden_size: int, num_labels: int, dropout: float):
        self.dense = Linear(hidden_size, hidden_size, activation="tanh")
        self.dropout = Dropout(dropout)
        self.dropout_after_tanh = Dropout(dropout)  # transformers reuses one; ours keeps a mask per use
        self.out_proj = Linear(hidden_size, num_labels)

    def forward(self, x) -> np.ndarray:
        return self.out_proj(self.dropout_after_tanh(self.dense(self.dropout(x))))

    def backward(self, d_logits) -> np.ndarray:
        d = self.dense.backward(self.dropout_after_tanh.backward(self.out_proj.backward(d_logits)))
        return self.dropout.backward(d)


# --- heads shared by the encoders ------------------------------------------------------------------
# Mixins, listed before the model's PreTrainedModel class: ``class BertForTokenClassification(
# TokenClassificationHead, BertPreTrainedModel)``. The model class supplies ``add_base_model(config,
# add_pooling_layer=False)``, which builds the encoder under ``base_model_prefix`` (the checkpoint name),
# and ``head_dropout_prob(config)``, the head's dropout rate (its config field differs between models).


class TokenClassificationHead:
    """last_hidden_state -> dropout -> classifier: ``logits (batch, seq, num_labels)``."""

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.add_base_model(config, add_pooling_layer=False)
        self.dropout = Dropout(self.head_dropout_prob(config))
        self.classifier = Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None, labels=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        logits = self.classifier(self.dropout(base.last_hidden_state))
        return token_classification_output(logits, labels, base, self.config, self.backward, return_dict)

    def backward(self, d_logits) -> None:
        self.base_model.backward(self.dropout.backward(self.classifier.backward(d_logits)))


class QuestionAnsweringHead:
    """last_hidden_state -> dropout -> qa_outputs: ``start_logits`` and ``end_logits``, each (batch, seq)."""

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.add_base_model(config, add_pooling_layer=False)
        self.qa_outputs = Linear(config.hidden_size, config.num_labels)
        self.dropout = Dropout(self.head_dropout_prob(config))
        self.post_init()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, position_ids=None,
                start_positions=None, end_positions=None,
                output_hidden_states=None, output_attentions=None, return_dict=None):  # fmt: skip
        base = self.base_model(input_ids, attention_mask, token_type_ids, position_ids,
                               output_hidden_states, output_attentions, return_dict=True)  # fmt: skip
        logits = self.qa_outputs(self.dropout(base.last_hidden_state))
        return question_answering_output(
            logits, start_positions, end_positions, base, self.config, self.backward, return_dict
        )

    def backward(self, d_logits) -> None:
        """``d_logits (batch, seq, 2)``: the start and end gradients side by side."""
        self.base_model.backward(self.dropout.backward(self.qa_outputs.backward(d_logits)))

"""What every task head does after its logits: the loss (when labels are given) and the output.

Each model file computes its own logits (the layers differ: BERT's classifier reads the pooler,
DistilBERT's a pre-classifier); from logits on, BERT, DistilBERT and later models are the same.
``backward`` is the model's own ``backward(d_logits)``: ``loss.backward()`` calls it with the
loss's gradient with respect to the logits.
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

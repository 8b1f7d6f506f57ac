"""zero-shot-classification: score labels chosen at call time with a model trained on NLI.

Each candidate label becomes a hypothesis ("This example is sports.") paired with the text as premise;
the model's *entailment* logit says how well the label fits. One input gives one feature per label,
so the base Pipeline batches premise/hypothesis pairs across labels and inputs alike. Any model with a
sequence-classification head and an "entailment" label works: BERT-style (``[CLS] A [SEP] B [SEP]``),
RoBERTa (roberta-large-mnli, ``<s> A </s></s> B </s>``) or BART (bart-large-mnli, pooled at the last ``</s>``).
"""

import logging

import numpy as np

from nanohf.models.auto import AutoModelForSequenceClassification
from nanohf.pipelines.base import Pipeline, require_head, softmax

logger = logging.getLogger(__name__)

DEFAULT_TEMPLATE = "This example is {}."


def parse_labels(candidate_labels) -> list[str]:
    """A list of labels, or one string of comma-separated labels ("sports, politics")."""
    if isinstance(candidate_labels, str):
        return [label.strip() for label in candidate_labels.split(",") if label.strip()]
    return list(candidate_labels or [])


class ZeroShotClassificationPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(model, AutoModelForSequenceClassification, "zero-shot-classification",
                     "a sequence-classification head trained on NLI (such as bart-large-mnli)")  # fmt: skip
        super().__init__(model, tokenizer, batch_size, **defaults)
        if self.entailment_id == -1:
            # As transformers: carry on with the last column as "entailment", but say so.
            logger.warning(
                "No label starting with 'entail' in the model's label2id %s: using id -1 as entailment. "
                "Give the config a descriptive label2id for meaningful scores.",
                self.label2id,
            )

    @property
    def label2id(self) -> dict:
        config = self.model.config
        return config.label2id or {label: i for i, label in config.id2label.items()}

    @property
    def entailment_id(self) -> int:
        """The id of the first label whose name starts with "entail" (any case); -1 when there is none."""
        return next((i for label, i in self.label2id.items() if label.lower().startswith("entail")), -1)

    def __call__(self, sequences, *args, **kwargs):
        """``pipe(text_or_texts, candidate_labels, hypothesis_template=..., multi_label=False)``."""
        if len(args) == 1 and "candidate_labels" not in kwargs:
            kwargs["candidate_labels"], args = args[0], ()
        if args:
            raise ValueError(f"Unable to understand extra arguments {args}")
        return super().__call__(sequences, **kwargs)

    def preprocess(self, sequence, candidate_labels=None, hypothesis_template=DEFAULT_TEMPLATE, **_) -> list[dict]:
        """One text -> one (premise=text, hypothesis=template(label)) feature per candidate label."""
        labels = parse_labels(candidate_labels)
        if not labels or not sequence:
            raise ValueError("zero-shot-classification needs at least one candidate label and a non-empty sequence")
        if hypothesis_template.format(labels[0]) == hypothesis_template:
            raise ValueError(
                f"hypothesis_template {hypothesis_template!r} has no place for the label: "
                "it must contain a formatting field such as {}"
            )
        pairs = [(label, self._encode(sequence, hypothesis_template.format(label))) for label in labels]
        return [{**encoded, "candidate_label": label, "sequence": sequence} for label, encoded in pairs]

    def _encode(self, premise: str, hypothesis: str) -> dict:
        # Truncate the premise only: the hypothesis carries the label and must survive whole.
        try:
            return dict(self.tokenizer(premise, hypothesis, truncation="only_first"))
        except ValueError as error:
            if "too short" not in str(error):
                raise
            # The premise alone cannot be cut enough (a long hypothesis): like transformers, don't truncate.
            return dict(self.tokenizer(premise, hypothesis))

    def postprocess(self, features_and_outputs, multi_label: bool = False, **_) -> dict:
        """Per label: logits (num_labels,) -> a score; the labels sorted by score, best first."""
        labels = [feature["candidate_label"] for feature, _ in features_and_outputs]
        logits = np.stack([np.asarray(out["logits"], dtype=np.float32) for _, out in features_and_outputs])
        entail = self.entailment_id
        if multi_label or len(labels) == 1:
            # Each label on its own: softmax over (contradiction, entailment). transformers takes column 0
            # as contradiction, or the last column when entailment is column 0.
            contradiction = -1 if entail == 0 else 0
            scores = softmax(logits[:, [contradiction, entail]])[:, 1]
        else:
            # The labels compete: softmax of the entailment logits across labels.
            scores = softmax(logits[:, entail])
        order = np.argsort(scores)[::-1]  # ties: the later label first, as transformers' reversed argsort
        return {
            "sequence": features_and_outputs[0][0]["sequence"],
            "labels": [labels[i] for i in order],
            "scores": [float(scores[i]) for i in order],
        }

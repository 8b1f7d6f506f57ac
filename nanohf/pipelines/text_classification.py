"""text-classification / sentiment-analysis: a label and a score for each text (or text pair)."""

import numpy as np

from nanohf.models.auto import AutoModelForSequenceClassification
from nanohf.pipelines.base import Pipeline, require_head, sigmoid, softmax

_LEGACY = object()  # top_k not given: one {"label", "score"} per input, as transformers


class TextClassificationPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(model, AutoModelForSequenceClassification, "text-classification",
                     "a sequence-classification head")  # fmt: skip
        super().__init__(model, tokenizer, batch_size=batch_size, **defaults)

    def preprocess(self, item, **params) -> list[dict]:
        """A string, or a {"text": ..., "text_pair": ...} dict for sentence-pair models."""
        if isinstance(item, dict):
            return [self.tokenizer(item["text"], item.get("text_pair"), truncation=True)]
        return [self.tokenizer(item, truncation=True)]

    def postprocess(self, features_and_outputs, top_k=_LEGACY, function_to_apply=None, **_):
        config = self.model.config
        if function_to_apply is None:
            # transformers' default: none for regression, sigmoid for multi-label or one output, else softmax.
            if config.problem_type == "regression":
                function_to_apply = "none"
            elif config.problem_type == "multi_label_classification" or config.num_labels == 1:
                function_to_apply = "sigmoid"
            else:
                function_to_apply = "softmax"
        transforms = {"softmax": softmax, "sigmoid": sigmoid, "none": lambda x: x}
        if str(function_to_apply).lower() not in transforms:
            raise ValueError(f"Unrecognized `function_to_apply` argument: {function_to_apply}")
        [(_, outputs)] = features_and_outputs
        row = transforms[str(function_to_apply).lower()](np.asarray(outputs["logits"], dtype=np.float32))
        if top_k is _LEGACY:
            return {"label": config.id2label[int(row.argmax())], "score": float(row.max())}
        ranked = sorted(
            ({"label": config.id2label[i], "score": float(s)} for i, s in enumerate(row)),
            key=lambda item: item["score"],
            reverse=True,
        )
        return ranked if top_k is None else ranked[:top_k]

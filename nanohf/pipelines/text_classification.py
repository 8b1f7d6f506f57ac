"""text-classification / sentiment-analysis: a label and a score for each text (or text pair)."""

import numpy as np

from nanohf.pipelines.base import Pipeline, sigmoid, softmax

_LEGACY = object()  # top_k not given: one {"label", "score"} per input, as transformers


class TextClassificationPipeline(Pipeline):
    def preprocess(self, inputs: list, **params) -> dict:
        """Strings, or {"text": ..., "text_pair": ...} dicts for sentence-pair models."""
        if all(isinstance(x, dict) for x in inputs):
            texts = [x["text"] for x in inputs]
            pairs = [x.get("text_pair") for x in inputs]
            return self.tokenizer(texts, pairs, padding=True, truncation=True, return_tensors="np")
        return self.tokenizer(inputs, padding=True, truncation=True, return_tensors="np")

    def postprocess(self, model_outputs, model_inputs: dict, top_k=_LEGACY, function_to_apply=None, **_) -> list:
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
        scores = transforms[str(function_to_apply).lower()](np.asarray(model_outputs.logits, dtype=np.float32))
        results = []
        for row in scores:
            if top_k is _LEGACY:
                results.append({"label": config.id2label[int(row.argmax())], "score": float(row.max())})
                continue
            ranked = sorted(
                ({"label": config.id2label[i], "score": float(s)} for i, s in enumerate(row)),
                key=lambda item: item["score"],
                reverse=True,
            )
            results.append(ranked if top_k is None else ranked[:top_k])
        return results

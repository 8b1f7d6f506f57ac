"""feature-extraction: the model's hidden state for every token of a text (no head, no pooling).

    "hello world" -> [[[h_0...], [h_1...], ...]]   nested lists of shape (1, seq, hidden)
    return_tensors=True -> the same as a float32 NumPy array (transformers gives a torch tensor)

One difference from transformers, on purpose: with ``batch_size`` > 1 transformers returns each text
padded to its batch's longest text (the padding positions' states included); nanohf returns each
text's own tokens only, so the answer does not depend on which texts were batched together.
"""

import numpy as np

from nanohf.pipelines.base import Pipeline


class FeatureExtractionPipeline(Pipeline):
    def preprocess(self, item: str, truncation=None, tokenize_kwargs: dict | None = None, **_) -> list[dict]:
        """A text -> one feature; ``tokenize_kwargs`` (e.g. truncation, max_length) go to the tokenizer."""
        tokenize_kwargs = dict(tokenize_kwargs or {})
        if truncation is not None:
            if "truncation" in tokenize_kwargs:
                raise ValueError("truncation is given twice: as a keyword argument and in tokenize_kwargs")
            tokenize_kwargs["truncation"] = truncation
        return [self.tokenizer(item, **tokenize_kwargs)]

    def _forward(self, model_inputs: dict) -> dict:
        """``(batch, seq)`` ids -> the model's first output: ``last_hidden_state (batch, seq, hidden)``
        for a base model (a model with a head gives its logits, as in transformers)."""
        return {"features": self.model(**model_inputs)[0]}

    def postprocess(self, features_and_outputs, return_tensors: bool = False, **_):
        """One text's states -> ``(1, seq, hidden)``: nested lists, or an array with ``return_tensors``."""
        [(feature, outputs)] = features_and_outputs
        features = outputs["features"]
        if features.ndim >= 2:  # per-token output: drop the batch's padding positions
            features = features[: len(feature["input_ids"])]
        features = np.asarray(features)[None]
        return features if return_tensors else features.tolist()

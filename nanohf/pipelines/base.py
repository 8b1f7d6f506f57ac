"""Pipeline: text in, answers out — the three steps the course takes apart in chapter 2.

    preprocess   text -> token ids            (the tokenizer)
    _forward     token ids -> logits          (the model, without gradients)
    postprocess  logits -> labels and scores  (softmax, id2label, ...)

Inputs are processed ``batch_size`` at a time; each batch is padded to its own longest input.
"""

import os

import numpy as np

from nanohf.autograd import no_grad


class Pipeline:
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.defaults = defaults  # call-time parameters given at construction (e.g. top_k=2)

    def __call__(self, inputs, batch_size: int | None = None, **kwargs):
        params = {**self.defaults, **kwargs}
        single = not isinstance(inputs, list)
        items = [inputs] if single else inputs
        batch_size = batch_size or self.batch_size
        results = []
        for start in range(0, len(items), batch_size):
            chunk = items[start : start + batch_size]
            encoded = self.preprocess(chunk, **params)
            with no_grad():
                outputs = self._forward(encoded)
            results.extend(self.postprocess(outputs, encoded, **params))
        return results[0] if single else results

    def preprocess(self, inputs: list, **params) -> dict:
        raise NotImplementedError

    def _forward(self, model_inputs: dict):
        names = getattr(self.tokenizer, "model_input_names", None) or list(model_inputs)
        return self.model(**{k: v for k, v in model_inputs.items() if k in names})

    def postprocess(self, model_outputs, model_inputs: dict, **params) -> list:
        raise NotImplementedError


def load_model_and_tokenizer(model, tokenizer, auto_model_class):
    """Accept folders or loaded objects for ``model`` and ``tokenizer`` (tokenizer default: the model folder)."""
    from nanohf.tokenizers import AutoTokenizer

    if model is None:
        raise ValueError("nanohf.pipeline needs model= (a checkpoint folder or a model): nothing is downloaded")
    if isinstance(model, (str, os.PathLike)):
        folder = model
        model = auto_model_class.from_pretrained(folder)
        if tokenizer is None:
            tokenizer = folder
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = AutoTokenizer.from_pretrained(tokenizer)
    if tokenizer is None:
        raise ValueError("nanohf.pipeline needs tokenizer= when model is an already-loaded model")
    return model, tokenizer


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))

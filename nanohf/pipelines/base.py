"""Pipeline: text in, answers out — the three steps the course takes apart in chapter 2.

    preprocess   one input -> one or more "features" (token ids; a long QA context gives several windows,
                 a zero-shot input one premise/hypothesis pair per candidate label)
    _forward     a padded batch of features -> model outputs (no gradients)
    postprocess  one input's features and their outputs -> its answer (softmax, id2label, spans, ...)

All features of all inputs are run ``batch_size`` at a time; each batch is padded to its own longest
feature (dynamic padding), and each output row is handed back to the input it came from.
"""

import logging
import os
import types

import numpy as np

from nanohf.autograd import no_grad

logger = logging.getLogger(__name__)


class Pipeline:
    def __init__(self, model, tokenizer, batch_size: int | None = 1, *, task: str = "", device="cpu",
                 binary_output: bool = False, num_workers: int | None = None, **defaults):  # fmt: skip
        """``defaults``: call-time parameters given at construction (e.g. ``top_k=2``); a call's own win.

        ``device`` is always the CPU (``pipeline()`` has refused any other); ``num_workers`` (transformers'
        DataLoader workers) and ``binary_output`` are kept for transformers' spelling and change no answer."""
        for construction_only in ("dtype", "torch_dtype", "args_parser"):  # consumed by pipeline() already
            defaults.pop(construction_only, None)
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.task = task
        self.device = device
        self.binary_output = binary_output
        self.batch_size = batch_size or 1
        self.num_workers = num_workers
        self.defaults = defaults

    @property
    def dtype(self):
        """The model's parameter dtype (float32 unless it was loaded otherwise)."""
        return getattr(self.model, "dtype", None)

    @property
    def torch_dtype(self):
        logger.warning("`torch_dtype` attribute is deprecated. Use `dtype` instead!")
        return self.dtype

    def __repr__(self) -> str:
        return f"{type(self).__name__}(task={self.task!r}, model={type(self.model).__name__}, device={self.device!r})"

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs) -> None:
        """Save the model and the tokenizer in one folder, which ``pipeline(task, model=folder)`` reloads."""
        os.makedirs(save_directory, exist_ok=True)
        self.model.save_pretrained(save_directory, **kwargs)
        self.tokenizer.save_pretrained(save_directory)

    def push_to_hub(self, repo_id: str, *args, **kwargs):
        """transformers uploads to huggingface.co here; nanohf works offline and never uploads."""
        raise OSError(
            f"pipeline.push_to_hub({repo_id!r}): nanohf works offline and never uploads to the Hugging Face Hub. "
            "Save with pipe.save_pretrained(folder), then upload that folder with huggingface_hub "
            "(`hf upload <repo_id> <folder>`) if you want it there."
        )

    def predict(self, inputs):
        """scikit-learn's spelling of ``__call__`` (as transformers)."""
        return self(inputs)

    transform = predict

    def __call__(self, inputs, *args, num_workers: int | None = None, batch_size: int | None = None, **kwargs):
        """One input -> its answer; a list -> a list of answers; a generator -> an iterator of answers, read
        and run ``batch_size`` inputs at a time (as transformers streams a generator)."""
        if isinstance(inputs, types.GeneratorType):
            return self._stream(inputs, args, batch_size or self.batch_size, kwargs)
        params = {**self.defaults, **kwargs}
        single = not isinstance(inputs, list)
        items = [inputs] if single else inputs
        features = [list(self.preprocess(item, *args, **params)) for item in items]
        flat = [feature for item_features in features for feature in item_features]
        outputs = self.run_model(flat, batch_size or self.batch_size)
        results, start = [], 0
        for item_features in features:
            pairs = list(zip(item_features, outputs[start : start + len(item_features)], strict=True))
            results.append(self.postprocess(pairs, **params))
            start += len(item_features)
        return results[0] if single else results

    def _stream(self, inputs, args: tuple, batch_size: int, kwargs: dict):
        chunk = []
        for item in inputs:
            chunk.append(item)
            if len(chunk) == batch_size:
                yield from Pipeline.__call__(self, chunk, *args, batch_size=batch_size, **kwargs)
                chunk = []
        if chunk:
            yield from Pipeline.__call__(self, chunk, *args, batch_size=batch_size, **kwargs)

    def run_model(self, features: list[dict], batch_size: int) -> list[dict]:
        """Model outputs for each feature: a dict of arrays, one row of the padded batch per feature.

        Per-token outputs keep the batch's padded length ``seq``; a feature's own tokens are the first
        ``len(feature["input_ids"])`` (padding is on the right)."""
        names = list(getattr(self.tokenizer, "model_input_names", None) or ["input_ids", "attention_mask"])
        rows = []
        for start in range(0, len(features), batch_size):
            chunk = features[start : start + batch_size]
            batch = self.tokenizer.pad([{k: f[k] for k in names if k in f} for f in chunk], return_tensors="np")
            with no_grad():
                outputs = self._forward(dict(batch))
            rows.extend({key: value[i] for key, value in outputs.items()} for i in range(len(chunk)))
        return rows

    def preprocess(self, item, **params) -> list[dict]:
        """One input -> its features: dicts holding at least ``input_ids`` (lists, unpadded)."""
        raise NotImplementedError

    def _forward(self, model_inputs: dict) -> dict:
        """A padded batch ``(batch, seq)`` -> a dict of output arrays with a leading batch axis."""
        outputs = self.model(**model_inputs)
        return {key: value for key, value in outputs.items() if isinstance(value, np.ndarray)}

    def postprocess(self, features_and_outputs: list[tuple[dict, dict]], **params):
        """One input's ``(feature, outputs)`` pairs -> the answer the user sees."""
        raise NotImplementedError


class MissingHeadError(TypeError, ValueError):
    """The model given to a pipeline lacks the head its task needs (a TypeError; a ValueError too, for callers
    that caught the ValueError token-classification used to raise)."""


def require_head(model, auto_class, task: str, head: str) -> None:
    """Raise MissingHeadError, naming the model's class and the head needed, unless ``model`` is one of the
    classes ``auto_class`` loads (e.g. AutoModelForMaskedLM for fill-mask; ``head`` = "a masked-language-modeling
    head")."""
    classes = auto_class.model_classes()
    if not isinstance(model, classes):
        names = ", ".join(cls.__name__ for cls in classes)
        raise MissingHeadError(
            f"{task} needs a model with {head}; {type(model).__name__} has none "
            f"(load the checkpoint with {auto_class.__name__}: {names})"
        )


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))

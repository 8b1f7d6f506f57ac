"""text-classification / sentiment-analysis: a label and a score for each text (or text pair).

What comes back, as transformers 5 returns it:

    classifier("one text")                      -> [{"label", "score"}]          a one-element list
    classifier(["a", "b"])                      -> [{"label", "score"}, {...}]   one dict per text
    classifier({"text": a, "text_pair": b})     -> {"label", "score"}            a pair: the bare dict
    classifier([{"text": a, "text_pair": b}])   -> [{"label", "score"}]
    classifier("one text", top_k=2)             -> [{...}, {...}]                the 2 best labels, best first
    classifier(["a", "b"], top_k=None)          -> [[every label], [every label]]

``top_k`` given when the pipeline is built (``pipeline(..., top_k=None)``) ranks the labels too, but a
single text then still gets the outer one-element list: ``[[{...}, {...}, {...}]]`` (transformers' rule:
only a call-time ``top_k`` drops it). ``return_all_scores`` was removed in transformers 5, which passes it to
the tokenizer and ignores it; nanohf gives the same answer (the best label only) and warns.
Other keyword arguments go to the tokenizer (``truncation``, ``max_length``, ...); nanohf truncates to the
model's maximum length unless told ``truncation=False`` (transformers would fail on a longer text).
"""

import warnings

import numpy as np

from nanohf.models.auto import AutoModelForSequenceClassification
from nanohf.pipelines.base import Pipeline, require_head, sigmoid, softmax

_LEGACY = object()  # top_k not given: one {"label", "score"} per input, as transformers
PAIR_HINT = ('if you are trying to send text pairs, you can try to send a dictionary '
             '`{"text": "My text", "text_pair": "My pair"}` in order to send a text pair.')  # fmt: skip


class TextClassificationPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(model, AutoModelForSequenceClassification, "text-classification",
                     "a sequence-classification head")  # fmt: skip
        if "return_all_scores" in defaults:
            warn_return_all_scores(defaults.pop("return_all_scores"))
        super().__init__(model, tokenizer, batch_size=batch_size, **defaults)

    def __call__(self, inputs, **kwargs):
        if "return_all_scores" in kwargs:
            warn_return_all_scores(kwargs.pop("return_all_scores"))
        result = super().__call__(inputs, **kwargs)
        # transformers: a bare string without a call-time top_k gets its result wrapped in a list.
        return [result] if isinstance(inputs, str) and "top_k" not in kwargs else result

    def preprocess(self, item, top_k=None, function_to_apply=None, **tokenizer_kwargs) -> list[dict]:
        """A string, a {"text": ..., "text_pair": ...} dict, or transformers' older ``[[text, pair]]``."""
        tokenizer_kwargs.setdefault("truncation", True)
        if isinstance(item, dict):
            return [self.tokenizer(**item, **tokenizer_kwargs)]
        if isinstance(item, list) and len(item) == 1 and isinstance(item[0], list) and len(item[0]) == 2:
            return [self.tokenizer(item[0][0], item[0][1], **tokenizer_kwargs)]
        if isinstance(item, list):
            raise ValueError(f"The pipeline received invalid inputs, {PAIR_HINT}")
        if isinstance(item, tuple):
            # transformers' tokenizer reads a tuple as a batch and the pipeline keeps the first text's score
            # only: a silent half-answer, refused here.
            raise ValueError(f"text-classification got a tuple {item!r:.80}: {PAIR_HINT}")
        if not isinstance(item, str):
            raise ValueError(f"text-classification takes strings or text-pair dicts, not {type(item).__name__}")
        return [self.tokenizer(item, **tokenizer_kwargs)]

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
        name = str(getattr(function_to_apply, "value", function_to_apply)).lower()
        if name not in transforms:
            raise ValueError(f"Unrecognized `function_to_apply` argument: {function_to_apply}")
        [(_, outputs)] = features_and_outputs
        row = transforms[name](np.asarray(outputs["logits"], dtype=np.float32))
        if top_k is _LEGACY:
            return {"label": config.id2label[int(row.argmax())], "score": float(row.max())}
        ranked = sorted(
            ({"label": config.id2label[i], "score": float(s)} for i, s in enumerate(row)),
            key=lambda item: item["score"],
            reverse=True,
        )
        return ranked if top_k is None else ranked[:top_k]


def warn_return_all_scores(value) -> None:
    warnings.warn(
        f"return_all_scores={value!r} is ignored: transformers 5 removed it (and ignores it too, returning the "
        "best label only). Use top_k=None for every label's score, top_k=1 for the best one in a list.",
        UserWarning,
        stacklevel=3,
    )

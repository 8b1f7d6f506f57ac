"""question-answering: the span of the context that answers the question, as transformers 4.x computes it.

    qa(question="Where do I live?", context="My name is Wolfgang and I live in Berlin")
    -> {"score": 0.92, "start": 34, "end": 40, "answer": "Berlin"}

1. preprocess: "[CLS] question [SEP] context [SEP]"; a context too long for ``max_seq_len`` is cut into
   windows that overlap by ``doc_stride`` tokens, one feature per window.
2. the model gives a start logit and an end logit per token.
3. postprocess, per window: tokens outside the context (question, [SEP], padding) get logit -10000, a softmax
   turns each logit row into probabilities, and a span (s, e) scores p_start(s) * p_end(e) if
   0 <= e - s < ``max_answer_len``. The best spans of every window are mapped back to characters (whole
   words with ``align_to_words``); spans that give the same text (case-insensitively) add up their scores.
   With ``handle_impossible_answer`` the empty answer competes too, scored p_start([CLS]) * p_end([CLS])
   (its lowest value over the windows).

transformers 5 dropped this pipeline; tests/data/qa_golden.json holds what 4.57.1 returns.
"""

import types

import numpy as np

from nanohf.models.auto import AutoModelForQuestionAnswering
from nanohf.pipelines.base import Pipeline, require_head

MASKED_LOGIT = -10000.0  # what 4.x writes over the logits of tokens that cannot be in an answer


class QuestionAnsweringPipeline(Pipeline):
    def __init__(self, model, tokenizer, batch_size: int = 1, **defaults):
        require_head(
            model, AutoModelForQuestionAnswering, "question-answering", "a span-prediction head (start/end logits)"
        )
        # As in 4.x, a parameter set to None means "the default", at construction as at call time.
        super().__init__(model, tokenizer, batch_size=batch_size, **without_none(defaults))

    def __call__(self, *args, question=None, context=None, batch_size: int | None = None, **params):
        """``qa(question=..., context=...)`` (each a str or a list), ``qa({"question", "context"})``,
        ``qa([{...}, {...}])`` or ``qa(question, context)``. One answer per example; a single example (even
        in a one-element list) gets its answer alone, as in transformers 4."""
        if len(args) == 1 and isinstance(args[0], types.GeneratorType):  # an iterator of answers, as 4.x streams
            return (self(example, batch_size=batch_size, **params) for example in args[0])
        examples = [check_example(example) for example in gather_examples(args, question, context)]
        params = without_none(params)
        check_params(**{**self.defaults, **params})
        inputs = examples[0] if len(examples) == 1 else examples
        return super().__call__(inputs, batch_size=batch_size, **params)

    # ------------------------------------------------------------------ 1. windows
    def preprocess(self, example: dict, max_seq_len=None, doc_stride=None, **_) -> list[dict]:
        """One example -> one feature per window: model inputs (unpadded lists) plus
        ``p_mask`` (1 = this token cannot be part of an answer), the window's ``encoding`` and the ``context``.

        (``max_question_len`` is accepted and ignored: 4.x only used it with slow tokenizers.)"""
        tokenizer = self.tokenizer
        if max_seq_len is None:
            max_seq_len = min(tokenizer.model_max_length, 384)
        if doc_stride is None:
            doc_stride = min(max_seq_len // 2, 128)
        if doc_stride > max_seq_len:
            raise ValueError(f"`doc_stride` ({doc_stride}) is larger than `max_seq_len` ({max_seq_len})")
        # Right-padding tokenizers put the question first; only the context is truncated into windows.
        question_first = tokenizer.padding_side == "right"
        question, context = example["question"], example["context"]
        texts = (question, context) if question_first else (context, question)
        encoded = tokenizer(*texts, truncation="only_second" if question_first else "only_first",
                            max_length=max_seq_len, stride=doc_stride, return_token_type_ids=True,
                            return_overflowing_tokens=True, return_offsets_mapping=True)  # fmt: skip
        context_index = 1 if question_first else 0
        features = []
        for window, encoding in enumerate(encoded.encodings):
            # [CLS] stays selectable: its probabilities score the "no answer" option. (4.x masked nothing at
            # all for left-padding tokenizers, question tokens included; we mask all but the context.)
            p_mask = [int(seq != context_index and token != tokenizer.cls_token_id)
                      for seq, token in zip(encoding.sequence_ids, encoding.ids, strict=True)]  # fmt: skip
            inputs = {name: encoded[name][window] for name in ("input_ids", "token_type_ids", "attention_mask")
                      if name in encoded}  # fmt: skip
            features.append({**inputs, "p_mask": p_mask, "encoding": encoding, "context": context,
                             "context_index": context_index})  # fmt: skip
        return features

    # ------------------------------------------------------------------ 2. model
    def _forward(self, model_inputs: dict) -> dict:
        outputs = self.model(**model_inputs)
        return {"start_logits": outputs["start_logits"], "end_logits": outputs["end_logits"]}

    # ------------------------------------------------------------------ 3. spans -> answers
    def postprocess(self, features_and_outputs, top_k=1, handle_impossible_answer=False, max_answer_len=15,
                    align_to_words=True, **_):  # fmt: skip
        """The ``top_k`` best answers over all windows: a dict when there is one, else a list of dicts."""
        # align_to_words may map several token spans to one text: ask for more spans than top_k.
        n_spans = top_k * 2 + 10 if align_to_words else top_k
        null_score = 1000000.0  # lowest "no answer" score over the windows (4.x's starting value)
        answers: dict[str, dict] = {}  # lower-cased text -> answer (the first spelling seen is kept)
        for feature, outputs in features_and_outputs:
            n = len(feature["input_ids"])  # the window's own tokens (the batch may have padded it)
            allowed = np.array(feature["p_mask"]) == 0
            p_start = masked_softmax(outputs["start_logits"][:n], allowed)
            p_end = masked_softmax(outputs["end_logits"][:n], allowed)
            null_score = min(null_score, float(p_start[0] * p_end[0]))
            p_start[0] = p_end[0] = 0.0  # the first token ([CLS]) is never part of a real answer
            for s, e, score in best_spans(p_start, p_end, allowed, n_spans, max_answer_len):
                first, last = char_span(feature["encoding"], s, e, feature["context_index"], align_to_words)
                text = feature["context"][first:last]
                if text.lower() in answers:
                    answers[text.lower()]["score"] += score
                else:
                    answers[text.lower()] = {"score": score, "start": first, "end": last, "answer": text}
        ranked = list(answers.values())
        if handle_impossible_answer:
            ranked.append({"score": null_score, "start": 0, "end": 0, "answer": ""})
        ranked = sorted(ranked, key=lambda answer: answer["score"], reverse=True)[:top_k]  # stable: ties keep order
        return ranked[0] if len(ranked) == 1 else ranked


def gather_examples(args: tuple, question, context) -> list:
    """The call's inputs as a list of (unchecked) examples, accepting every form 4.x accepts."""
    if args:
        if len(args) == 2 and all(isinstance(arg, str) for arg in args):
            return [{"question": args[0], "context": args[1]}]
        inputs = args[0] if len(args) == 1 else list(args)
        return [inputs] if isinstance(inputs, dict) else list(inputs)
    if question is None or context is None:
        raise ValueError("question-answering needs question= and context= (or {'question': ..., 'context': ...})")
    if isinstance(question, str) and isinstance(context, str):
        return [{"question": question, "context": context}]
    if isinstance(question, list) and isinstance(context, str):
        return [{"question": q, "context": context} for q in question]
    if isinstance(question, list) and isinstance(context, list):
        if len(question) != len(context):
            raise ValueError(f"Questions and contexts don't have the same lengths ({len(question)} != {len(context)})")
        return [{"question": q, "context": c} for q, c in zip(question, context, strict=True)]
    raise ValueError(f"question/context must be str or lists of str, got {type(question).__name__} and "
                     f"{type(context).__name__}")  # fmt: skip


def without_none(params: dict) -> dict:
    return {name: value for name, value in params.items() if value is not None}


def check_example(example) -> dict:
    if not isinstance(example, dict):
        raise ValueError(f"{example!r}: each question-answering input must be a dict {{'question':..., 'context':...}}")
    for key in ("question", "context"):
        if key not in example:
            raise KeyError(f"question-answering inputs are dicts with keys 'question' and 'context'; {key!r} missing")
        if example[key] is None:
            raise ValueError(f"`{key}` cannot be None")
        if isinstance(example[key], str) and not example[key]:
            raise ValueError(f"`{key}` cannot be empty")
    return example


def check_params(top_k=None, max_answer_len=None, **_) -> None:
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k parameter should be >= 1 (got {top_k})")
    if max_answer_len is not None and max_answer_len < 1:
        raise ValueError(f"max_answer_len parameter should be >= 1 (got {max_answer_len})")


def masked_softmax(logits: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """``logits (seq,)`` -> probabilities (seq,) in float32; tokens not ``allowed`` get logit -10000 first."""
    logits = np.where(allowed, np.asarray(logits, dtype=np.float32), np.float32(MASKED_LOGIT))
    e = np.exp(logits - logits.max())
    return e / e.sum()


def best_spans(p_start: np.ndarray, p_end: np.ndarray, allowed: np.ndarray, k: int, max_answer_len: int):
    """The ``k`` highest ``p_start[s] * p_end[e]`` with ``s <= e < s + max_answer_len``, best first, as
    ``[(s, e, score)]``; spans touching a token that is not ``allowed`` are dropped after the ranking (so
    fewer than ``k`` may come back)."""
    n = len(p_start)
    scores = np.triu(np.tril(np.outer(p_start, p_end), max_answer_len - 1))  # (n, n): row s, column e
    flat = scores.ravel()
    # The same selection calls as 4.x, so that equal scores (the zeros) are ranked in the same order.
    if k == 1:
        order = np.array([np.argmax(flat)])
    elif flat.size < k:
        order = np.argsort(-flat)
    else:
        top = np.argpartition(-flat, k)[:k]
        order = top[np.argsort(-flat[top])]
    starts, ends = order // n, order % n
    keep = allowed[starts] & allowed[ends]
    return [(int(s), int(e), float(scores[s, e])) for s, e in zip(starts[keep], ends[keep], strict=True)]


def char_span(encoding, s: int, e: int, context_index: int, align_to_words: bool) -> tuple[int, int]:
    """Characters of the context covered by tokens s..e; widened to whole words with ``align_to_words``
    (a word cut by the window's edge only counts its tokens inside the window)."""
    if align_to_words:
        start_word, end_word = encoding.words[s], encoding.words[e]
        if start_word is not None and end_word is not None:
            first = encoding.word_to_chars(start_word, context_index)
            last = encoding.word_to_chars(end_word, context_index)
            if first is not None and last is not None:
                return first[0], last[1]
        # A token outside any word ([CLS]) keeps its own offsets, as 4.x falls back to.
    return encoding.offsets[s][0], encoding.offsets[e][1]

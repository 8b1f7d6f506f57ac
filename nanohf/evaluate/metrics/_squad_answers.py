"""The answer comparison of the official SQuAD evaluation scripts (v1.1 and v2.0), shared by squad and squad_v2.

An answer is compared after normalisation: lowercase, drop every ASCII punctuation character
(string.punctuation), drop the words "a", "an", "the", collapse whitespace. Then
    exact match = 1 if the two normalised strings are equal, else 0
    F1          = 2 P R / (P + R) over the normalised words, where common = the multiset intersection,
                  P = |common| / |predicted words|, R = |common| / |gold words|
A question scores the maximum over its gold answers. The two scripts differ only where a side has no words:
v1.1's F1 is 0 whenever nothing is in common (so also when both are empty); v2.0's is 1 when both are empty
and 0 when only one is.
"""

import re
import string
from collections import Counter

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)


def normalize_answer(text: str) -> str:
    """Lowercase, no punctuation, no articles, single spaces: "The  Norman-conquest!" -> "normanconquest"."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> int:
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1(prediction: str, gold: str, v2: bool = False) -> float:
    """Word-overlap F1 of two answers; ``v2``: the v2.0 script's rule for empty answers."""
    predicted, true = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if v2 and (not predicted or not true):
        return float(predicted == true)
    same = sum((Counter(predicted) & Counter(true)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(true)
    return 2 * precision * recall / (precision + recall)


def check_inputs(metric: str, predictions, references, prediction_keys: tuple[str, ...]) -> None:
    """evaluate's input format, with errors that name the example at fault."""
    for i, prediction in enumerate(predictions):
        missing = [k for k in prediction_keys if not isinstance(prediction, dict) or k not in prediction]
        if missing:
            raise ValueError(f"{metric}: prediction {i} must be a dict with keys {list(prediction_keys)} "
                             f"(missing {missing})")  # fmt: skip
    for i, reference in enumerate(references):
        answers = reference.get("answers") if isinstance(reference, dict) else None
        if not isinstance(answers, dict) or "text" not in answers or "id" not in reference:
            raise ValueError(f"{metric}: reference {i} must be {{'id': ..., 'answers': {{'text': [...], "
                             f"'answer_start': [...]}}}}, got {reference!r:.200}")  # fmt: skip

"""Evaluation metrics in NumPy, with scikit-learn's and scipy's definitions (the math of nanohf.evaluate).

    import nanohf.evaluate as evaluate           # 🤗 evaluate's load / compute: see nanohf/evaluate/
    metric = evaluate.load("glue", "mrpc")
    metric.compute(predictions=[1, 0, 1], references=[1, 1, 1])   # {"accuracy": 0.667, "f1": 0.8}

Arguments come as (predictions, references), the order of 🤗 evaluate's compute() (scikit-learn's
functions take y_true first). For one class c, counting over the examples:

    tp = predicted c and truly c,  fp = predicted c but not c,  fn = truly c but predicted otherwise
    precision = tp / (tp + fp)     recall = tp / (tp + fn)     f1 = 2 tp / (2 tp + fp + fn)

`average` combines classes: "binary" reports class `pos_label` only; "macro" is the plain mean over the
classes present in either array; "weighted" weights that mean by each class's number of true examples;
"micro" adds up tp, fp and fn over the classes first (for single-label data it equals accuracy). A 0/0
(a class never predicted, say) is `zero_division` (0.0 by default, as scikit-learn's "warn" returns).
"""

import warnings

import numpy as np

GLUE_TASKS = (
    "sst2",
    "mnli",
    "mnli_mismatched",
    "mnli_matched",
    "cola",
    "stsb",
    "mrpc",
    "qqp",
    "qnli",
    "rte",
    "wnli",
    "hans",
)


class EvalPrediction:
    """What `compute_metrics` receives: `predictions` (e.g. logits (N, C)) and `label_ids` (N,).

    Unpacks like a tuple, as in transformers: `logits, labels = eval_pred`. `inputs` and `losses` are
    included (in that order) when given.
    """

    def __init__(self, predictions, label_ids, inputs=None, losses=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs
        self.losses = losses
        self.elements = (predictions, label_ids) + tuple(x for x in (inputs, losses) if x is not None)

    def __iter__(self):
        return iter(self.elements)

    def __getitem__(self, index):
        if index < 0 or index >= len(self.elements):
            raise IndexError("tuple index out of range")
        return self.elements[index]

    def __len__(self):
        return len(self.elements)

    def __repr__(self):
        return f"EvalPrediction(predictions={self.predictions!r}, label_ids={self.label_ids!r})"


def _pair(predictions, references):
    """Two 1-D arrays of the same length."""
    predictions, references = np.asarray(predictions).reshape(-1), np.asarray(references).reshape(-1)
    if len(predictions) != len(references):
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: [{len(references)}, {len(predictions)}]"
        )
    if len(predictions) == 0:
        raise ValueError("Cannot compute a metric on empty predictions and references.")
    return predictions, references


def accuracy(predictions, references, normalize=True, sample_weight=None):
    """Fraction (or with normalize=False, weighted count) of predictions equal to their reference."""
    predictions, references = _pair(predictions, references)
    correct = (predictions == references).astype(np.float64)
    weights = np.ones_like(correct) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return float(np.average(correct, weights=weights)) if normalize else float(correct @ weights)


def _class_counts(predictions, references, labels, sample_weight):
    """Per label: (tp, predicted count, true count), weighted."""
    weights = np.ones(len(predictions)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    tp = np.array([weights[(predictions == c) & (references == c)].sum() for c in labels])
    predicted = np.array([weights[predictions == c].sum() for c in labels])
    true = np.array([weights[references == c].sum() for c in labels])
    return tp, predicted, true


def _divide(numerator, denominator, zero_division):
    """numerator / denominator, with `zero_division` where the denominator is 0."""
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, zero_division, numerator / safe)


def precision_recall_f1(
    predictions, references, average="binary", pos_label=1, labels=None, sample_weight=None, zero_division=0.0
):
    """(precision, recall, f1): floats, or arrays over `labels` when average=None.

    average: "binary", "micro", "macro", "weighted" or None. labels: the classes to report (default:
    every value present in predictions or references, sorted).
    """
    predictions, references = _pair(predictions, references)
    present = np.unique(np.concatenate([references, predictions]))
    if average not in (None, "binary", "micro", "macro", "weighted"):
        raise ValueError("average has to be one of (None, 'micro', 'macro', 'weighted', 'binary')")
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                "Target is multiclass but average='binary'. Please choose another average setting, "
                "one of [None, 'micro', 'macro', 'weighted']."
            )
        if pos_label not in present and len(present) >= 2:
            raise ValueError(f"pos_label={pos_label} is not a valid label. It should be one of {present.tolist()}")
        labels = [pos_label]
    elif pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got "
            f"{average!r}). You may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=2,
        )
    labels = present if labels is None else np.asarray(labels)
    tp, predicted, true = _class_counts(predictions, references, labels, sample_weight)
    if average == "micro":
        tp, predicted, true = tp.sum(keepdims=True), predicted.sum(keepdims=True), true.sum(keepdims=True)
    precision = _divide(tp, predicted, zero_division)
    recall = _divide(tp, true, zero_division)
    f1 = _divide(2 * tp, true + predicted, zero_division)  # = 2 P R / (P + R), without 0/0 in P or R
    if average is None:
        return precision, recall, f1
    weights = true if average == "weighted" else None
    if weights is not None and weights.sum() == 0:
        return (float(zero_division),) * 3
    return tuple(float(np.average(x, weights=weights)) for x in (precision, recall, f1))


def precision(
    predictions, references, average="binary", pos_label=1, labels=None, sample_weight=None, zero_division=0.0
):
    """tp / (tp + fp), see `precision_recall_f1`."""
    return precision_recall_f1(predictions, references, average, pos_label, labels, sample_weight, zero_division)[0]


def recall(predictions, references, average="binary", pos_label=1, labels=None, sample_weight=None, zero_division=0.0):
    """tp / (tp + fn), see `precision_recall_f1`."""
    return precision_recall_f1(predictions, references, average, pos_label, labels, sample_weight, zero_division)[1]


def f1(predictions, references, average="binary", pos_label=1, labels=None, sample_weight=None, zero_division=0.0):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall; see `precision_recall_f1`."""
    return precision_recall_f1(predictions, references, average, pos_label, labels, sample_weight, zero_division)[2]


def matthews_corrcoef(predictions, references, sample_weight=None):
    """Matthews correlation: the correlation between predicted and true classes, in [-1, 1], 0 for chance
    (also when either array holds a single class). Multiclass form, from the confusion matrix C:

        (c s - t.p) / sqrt((s^2 - p.p)(s^2 - t.t)),  c = trace(C), s = total, t/p = true/predicted per class
    """
    predictions, references = _pair(predictions, references)
    weights = np.ones(len(predictions)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    classes = np.unique(np.concatenate([references, predictions]))
    true = np.array([weights[references == c].sum() for c in classes])
    predicted = np.array([weights[predictions == c].sum() for c in classes])
    correct = weights[predictions == references].sum()
    total = predicted.sum()
    covariance = correct * total - true @ predicted
    spread = (total**2 - predicted @ predicted) * (total**2 - true @ true)
    return 0.0 if spread == 0 else float(covariance / np.sqrt(spread))


def pearsonr(predictions, references):
    """Pearson's r: the cosine of the two centred vectors (nan, with a warning, if one is constant)."""
    x, y = (a.astype(np.float64) for a in _pair(predictions, references))
    if len(x) < 2:
        raise ValueError("x and y must have length at least 2.")
    x, y = x - x.mean(), y - y.mean()
    norm_x, norm_y = np.linalg.norm(x), np.linalg.norm(y)
    if norm_x == 0 or norm_y == 0:
        warnings.warn(
            "An input array is constant; the correlation coefficient is not defined.", RuntimeWarning, stacklevel=2
        )
        return float("nan")
    return float(np.clip((x / norm_x) @ (y / norm_y), -1.0, 1.0))


def rankdata(values):
    """Ranks 1..n, tied values sharing the mean of their ranks (scipy's method="average")."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    # Start a new group wherever the sorted value changes; a group's rank is the mean of its positions + 1.
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], len(values)]
    group_rank = (starts + ends + 1) / 2.0  # mean of (start + 1) .. end
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(group_rank, ends - starts)
    return ranks


def spearmanr(predictions, references):
    """Spearman's rho: Pearson's r of the ranks (ties averaged)."""
    predictions, references = _pair(predictions, references)
    return pearsonr(rankdata(predictions), rankdata(references))


def glue_metrics(task, predictions, references):
    """The metrics 🤗 evaluate's "glue" reports for a task: cola -> matthews_correlation; stsb -> pearson and
    spearmanr; mrpc/qqp -> accuracy and f1; the others -> accuracy."""
    if task not in GLUE_TASKS:
        raise KeyError(f"You should supply a configuration name selected in {list(GLUE_TASKS)}")
    if task == "cola":
        return {"matthews_correlation": matthews_corrcoef(predictions, references)}
    if task == "stsb":
        return {"pearson": pearsonr(predictions, references), "spearmanr": spearmanr(predictions, references)}
    if task in ("mrpc", "qqp"):
        return {"accuracy": accuracy(predictions, references), "f1": f1(predictions, references)}
    return {"accuracy": accuracy(predictions, references)}


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) = B(x; a, b) / B(a, b), for p-values.

    Evaluated by its continued fraction (modified Lentz), which converges fast for x < (a + 1) / (a + b + 2);
    beyond, the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) brings x back into that range.
    """
    if x <= 0.0 or x >= 1.0:
        return float(x >= 1.0)
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _betainc(b, a, 1.0 - x)
    log_front = a * np.log(x) + b * np.log1p(-x) - np.log(a) - _log_beta(a, b)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 10_000):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):  # fmt: skip
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-16:
            break
    return float(np.exp(log_front) * fraction)


def _log_beta(a: float, b: float) -> float:
    from math import lgamma

    return lgamma(a) + lgamma(b) - lgamma(a + b)


def pearsonr_pvalue(r: float, n: int) -> float:
    """Two-sided p-value of Pearson's r for n samples under independence (scipy's default): r follows a beta
    distribution on [-1, 1] with a = b = n/2 - 1, so p = 2 I_{(1-|r|)/2}(n/2 - 1, n/2 - 1)."""
    if n < 3 or np.isnan(r):
        return float("nan")
    half = n / 2.0 - 1.0
    return float(min(1.0, 2.0 * _betainc(half, half, 0.5 * (1.0 - abs(r)))))


def spearmanr_pvalue(rho: float, n: int) -> float:
    """Two-sided p-value of Spearman's rho (scipy's t approximation): t = rho sqrt((n-2) / (1 - rho²)) with
    n - 2 degrees of freedom, and P(|T| > t) = I_{df/(df + t²)}(df/2, 1/2)."""
    if n < 3 or np.isnan(rho):
        return float("nan")
    df = n - 2.0
    if abs(rho) >= 1.0:
        return 0.0
    t_squared = rho * rho * df / ((1.0 - rho) * (1.0 + rho))
    return float(_betainc(df / 2.0, 0.5, df / (df + t_squared)))


def load_metric(path: str, config_name: str | None = None, **kwargs):
    """``nanohf.evaluate.load`` under its older name (see nanohf/evaluate/)."""
    from nanohf.evaluate import load

    return load(path, config_name, **kwargs)

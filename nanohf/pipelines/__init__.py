"""``pipeline(task, model=..., tokenizer=...)``: the course's first line, readable step by step."""

from nanohf.pipelines.base import Pipeline
from nanohf.pipelines.text_classification import TextClassificationPipeline

TASK_ALIASES = {"sentiment-analysis": "text-classification"}


def pipeline(task: str, model=None, tokenizer=None, batch_size: int = 1, **kwargs) -> Pipeline:
    """Build the pipeline for ``task`` from a checkpoint folder (or loaded model and tokenizer)."""
    from nanohf.models.auto import AutoModelForSequenceClassification
    from nanohf.pipelines.base import load_model_and_tokenizer

    tasks = {"text-classification": (TextClassificationPipeline, AutoModelForSequenceClassification)}
    name = TASK_ALIASES.get(task, task)
    if name not in tasks:
        raise KeyError(f"Unknown task {task!r}; nanohf has {sorted(tasks) + sorted(TASK_ALIASES)}")
    pipeline_class, auto_model = tasks[name]
    model, tokenizer = load_model_and_tokenizer(model, tokenizer, auto_model)
    return pipeline_class(model, tokenizer, batch_size=batch_size, **kwargs)


__all__ = ["Pipeline", "TextClassificationPipeline", "pipeline"]

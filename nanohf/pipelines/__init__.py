"""``pipeline(task, model=..., tokenizer=...)``: the course's first line, readable step by step.

Each task lives in its own module; it is imported when a pipeline for it is built.
"""

import importlib

from nanohf.pipelines.base import Pipeline

# task -> (module in nanohf.pipelines, pipeline class, the Auto class that loads its model)
TASKS = {
    "text-classification": ("text_classification", "TextClassificationPipeline", "AutoModelForSequenceClassification"),
    "fill-mask": ("fill_mask", "FillMaskPipeline", "AutoModelForMaskedLM"),
    "token-classification": ("token_classification", "TokenClassificationPipeline", "AutoModelForTokenClassification"),
    "question-answering": ("question_answering", "QuestionAnsweringPipeline", "AutoModelForQuestionAnswering"),
    "feature-extraction": ("feature_extraction", "FeatureExtractionPipeline", "AutoModel"),
    "zero-shot-classification": (
        "zero_shot_classification", "ZeroShotClassificationPipeline", "AutoModelForSequenceClassification"
    ),
    "text-generation": ("text_generation", "TextGenerationPipeline", "AutoModelForCausalLM"),
    "text2text-generation": ("text2text_generation", "Text2TextGenerationPipeline", "AutoModelForSeq2SeqLM"),
    "summarization": ("text2text_generation", "SummarizationPipeline", "AutoModelForSeq2SeqLM"),
    "translation": ("text2text_generation", "TranslationPipeline", "AutoModelForSeq2SeqLM"),
}  # fmt: skip
TASK_ALIASES = {"sentiment-analysis": "text-classification", "ner": "token-classification"}


def pipeline(task: str, model=None, tokenizer=None, batch_size: int = 1, **kwargs) -> Pipeline:
    """Build the pipeline for ``task`` from a checkpoint folder (or loaded model and tokenizer)."""
    from nanohf.models import auto
    from nanohf.pipelines.base import load_model_and_tokenizer

    name = TASK_ALIASES.get(task, task)
    if name not in TASKS and name.startswith("translation"):
        # "translation_en_to_fr": the translation pipeline, told its language pair (as transformers 4 did).
        parts = name.split("_")
        if len(parts) != 4 or parts[2] != "to":
            raise KeyError(f"Invalid translation task {task!r}, use 'translation_XX_to_YY' format")
        name, kwargs["task"] = "translation", name
    if name not in TASKS:
        known = sorted(TASKS) + sorted(TASK_ALIASES) + ["translation_XX_to_YY"]
        raise KeyError(f"Unknown task {task!r}; nanohf has {known}")
    module, class_name, auto_class = TASKS[name]
    pipeline_class = getattr(importlib.import_module(f"nanohf.pipelines.{module}"), class_name)
    model, tokenizer = load_model_and_tokenizer(model, tokenizer, getattr(auto, auto_class))
    return pipeline_class(model, tokenizer, batch_size=batch_size, **kwargs)


__all__ = ["Pipeline", "TASKS", "TASK_ALIASES", "pipeline"]

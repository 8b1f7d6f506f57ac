"""``pipeline(task, model=..., tokenizer=...)``: the course's first line, readable step by step.

Each task lives in its own module; it is imported when a pipeline for it is built. ``pipeline()`` takes
transformers 5's arguments; what they mean on a CPU-only NumPy library is in ``options`` (device, dtype) and
``defaults`` (no model: the task's default checkpoint from the local Hugging Face cache).
"""

import importlib
import logging
import os

from nanohf.pipelines.base import Pipeline
from nanohf.pipelines.defaults import DEFAULT_MODELS, cached_snapshot, default_checkpoint
from nanohf.pipelines.options import check_device_map, device_name, numpy_dtype

logger = logging.getLogger(__name__)

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
# Components of transformers' multimodal pipelines; every nanohf task reads text with a tokenizer only.
NON_TEXT_COMPONENTS = ("feature_extractor", "image_processor", "video_processor", "processor")


def check_task(task: str) -> tuple[str, dict]:
    """A task name or alias -> (the task nanohf registers it under, extra constructor arguments)."""
    name = TASK_ALIASES.get(task, task)
    if name not in TASKS and name.startswith("translation"):
        # "translation_en_to_fr": the translation pipeline, told its language pair (as transformers 4 did).
        parts = name.split("_")
        if len(parts) != 4 or parts[2] != "to":
            raise KeyError(f"Invalid translation task {task!r}, use 'translation_XX_to_YY' format")
        return "translation", {"task": name}
    if name not in TASKS:
        known = sorted(TASKS) + sorted(TASK_ALIASES) + ["translation_XX_to_YY"]
        raise KeyError(f"Unknown task {task!r}; nanohf has {known}")
    return name, {"task": name}


def pipeline(
    task: str | None = None,
    model=None,
    config=None,
    tokenizer=None,
    feature_extractor=None,
    image_processor=None,
    video_processor=None,
    processor=None,
    revision: str | None = None,
    use_fast: bool = True,
    token: str | bool | None = None,
    device=None,
    device_map=None,
    dtype="auto",
    trust_remote_code: bool | None = None,
    model_kwargs: dict | None = None,
    pipeline_class=None,
    **kwargs,
) -> Pipeline:
    """Build the pipeline for ``task`` from a checkpoint folder, a model id in the local cache, or loaded objects.

    The arguments are transformers 5's. Those about the Hub (``revision`` picks a cached snapshot, ``token``,
    ``trust_remote_code``: nanohf runs no code from checkpoints) or about the tokenizer's implementation
    (``use_fast``: nanohf has one) change nothing else; ``device``/``device_map``/``dtype`` accept the CPU and
    float32 (see ``nanohf.pipelines.options``); ``model_kwargs`` go to the model's ``from_pretrained``; the
    remaining ``kwargs`` (``batch_size``, ``top_k``, ...) go to the pipeline, as in transformers.
    """
    from nanohf.models import auto

    model_kwargs = dict(model_kwargs or {})
    if "code_revision" in model_kwargs and kwargs.get("code_revision") is not None:
        raise ValueError(
            'You cannot use both `pipeline(... code_revision=..., model_kwargs={"code_revision":...})` as those'
            " arguments might conflict, use only one."
        )
    for hub_only in ("code_revision", "_commit_hash", "local_files_only"):  # nothing is downloaded anyway
        kwargs.pop(hub_only, None)
        model_kwargs.pop(hub_only, None)
    if task is None and model is None:
        raise RuntimeError(
            "Impossible to instantiate a pipeline without either a task or a model being specified. "
            "Please provide a task class or a model"
        )
    if model is None and tokenizer is not None:
        raise RuntimeError(
            "Impossible to instantiate a pipeline with tokenizer specified but not the model as the provided tokenizer"
            " may not be compatible with the default model. Please provide a model (a checkpoint folder) when"
            " providing tokenizer."
        )
    components = (feature_extractor, image_processor, video_processor, processor)
    given = [name for name, value in zip(NON_TEXT_COMPONENTS, components, strict=True) if value is not None]
    if given:
        raise ValueError(f"nanohf's pipelines read text with a tokenizer; {given} belong to transformers' "
                         "audio, image and video pipelines, which nanohf does not have")  # fmt: skip
    if task is None:
        raise RuntimeError(
            "pipeline() needs a task: transformers infers it from the model's `pipeline_tag` on the Hugging Face Hub "
            "(and cannot offline); nanohf never asks the Hub. Pass it, e.g. pipeline('text-classification', model=...)"
        )
    name, task_kwargs = check_task(task)

    # Where and in what precision the model runs (transformers' checks, in its order).
    if device_map is not None:
        if "device_map" in model_kwargs:
            raise ValueError(
                'You cannot use both `pipeline(... device_map=..., model_kwargs={"device_map":...})` as those'
                " arguments might conflict, use only one.)"
            )
        model_kwargs["device_map"] = device_map
    check_device_map(model_kwargs.pop("device_map", None))
    device = device_name(device)
    if (torch_dtype := kwargs.pop("torch_dtype", None)) is not None:
        logger.warning("`torch_dtype` is deprecated! Use `dtype` instead!")
        dtype = torch_dtype if dtype == "auto" else dtype
    if "torch_dtype" in model_kwargs or "dtype" in model_kwargs:
        if "torch_dtype" in model_kwargs:
            logger.warning("`torch_dtype` is deprecated! Use `dtype` instead!")
        if dtype != "auto":
            raise ValueError(
                'You cannot use both `pipeline(... dtype=..., model_kwargs={"dtype":...})` as those'
                " arguments might conflict, use only one.)"
            )
        dtype = model_kwargs.pop("dtype", None) or model_kwargs.pop("torch_dtype", None)
    dtype = numpy_dtype(dtype)

    # The model: a loaded one, a folder, a model id in the local cache, or the task's default.
    cache_dir = model_kwargs.pop("cache_dir", None)
    if model is None:
        model = default_checkpoint(name, revision, cache_dir)
        logger.warning(
            "No model was supplied, defaulted to %s and revision %s (%s).\nUsing a pipeline without specifying a "
            "model name and revision in production is not recommended.",
            DEFAULT_MODELS[name][0], revision or DEFAULT_MODELS[name][1], model,
        )  # fmt: skip
    if isinstance(model, (str, os.PathLike)) and not os.path.isdir(model):
        model = (
            cached_snapshot(str(model), revision, cache_dir) or model
        )  # else from_pretrained says where the files go
    if isinstance(config, (str, os.PathLike)):
        if tokenizer is None and not isinstance(model, (str, os.PathLike)):
            tokenizer = config  # transformers' order: the tokenizer of the model, else of the config
        config = auto.AutoConfig.from_pretrained(config)
    if config is not None:
        model_kwargs["config"] = config
    module, class_name, auto_class = TASKS[name]
    if pipeline_class is None:
        pipeline_class = getattr(importlib.import_module(f"nanohf.pipelines.{module}"), class_name)
    model, tokenizer = load_model_and_tokenizer(model, tokenizer, getattr(auto, auto_class), dtype, model_kwargs)
    return pipeline_class(model, tokenizer, device=device, **task_kwargs, **kwargs)


def load_model_and_tokenizer(model, tokenizer, auto_model_class, dtype=None, model_kwargs: dict | None = None):
    """Accept folders or loaded objects for ``model`` and ``tokenizer`` (tokenizer default: the model folder).

    ``tokenizer`` may also be transformers' ``(folder, {tokenizer kwargs})`` pair."""
    from nanohf.tokenizers import AutoTokenizer

    if isinstance(model, (str, os.PathLike)):
        folder = model
        extra = dict(model_kwargs or {})
        if dtype is not None:
            extra["dtype"] = dtype
        model = auto_model_class.from_pretrained(folder, **extra)
        if tokenizer is None:
            tokenizer = folder
    tokenizer_kwargs = {}
    if isinstance(tokenizer, tuple):
        tokenizer, tokenizer_kwargs = tokenizer[0], dict(tokenizer[1])
        tokenizer_kwargs.pop("use_fast", None)  # nanohf's tokenizers are the fast ones' equivalents
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = AutoTokenizer.from_pretrained(tokenizer, **tokenizer_kwargs)
    if tokenizer is None:
        raise ValueError("nanohf.pipeline needs tokenizer= when model is an already-loaded model")
    return model, tokenizer


__all__ = ["DEFAULT_MODELS", "Pipeline", "TASKS", "TASK_ALIASES", "check_task", "pipeline"]

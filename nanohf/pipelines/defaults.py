"""``pipeline(task)`` with no model: the task's default checkpoint, found in the local Hugging Face cache.

The default model ids (and the revisions they were pinned to) are transformers'. Tasks transformers 5 still
has use its 5.x defaults; the tasks it removed (question-answering, summarization, translation,
text2text-generation), which nanohf keeps with 4.x behaviour, use 4.x's. Nothing is downloaded: the files must
already sit in the cache that ``huggingface_hub`` writes::

    $HF_HUB_CACHE  (else $HF_HOME/hub, else ~/.cache/huggingface/hub)
        models--org--name/refs/main            -> the commit hash of the snapshot to use
        models--org--name/snapshots/<commit>/  -> config.json, model.safetensors, tokenizer files

The lookup itself is ``cached_snapshot`` in nanohf/models/hub.py, the one home of the cache layout (a ref file
is followed only when it names a snapshot folder directly; a ref that points elsewhere is refused).
"""

import os
from pathlib import Path

from nanohf.models.hub import cached_snapshot, repo_cache_dir

# task -> (model id, revision) as transformers pins them.
DEFAULT_MODELS = {
    "text-classification": ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "714eb0f"),
    "token-classification": ("dbmdz/bert-large-cased-finetuned-conll03-english", "4c53496"),
    "fill-mask": ("distilbert/distilroberta-base", "fb53ab8"),
    "feature-extraction": ("distilbert/distilbert-base-cased", "6ea8117"),
    "zero-shot-classification": ("facebook/bart-large-mnli", "d7645e1"),
    "text-generation": ("HuggingFaceTB/SmolLM3-3B", "a07cc9a"),
    # removed from transformers 5; transformers 4's defaults
    "question-answering": ("distilbert/distilbert-base-cased-distilled-squad", "564e9b5"),
    "summarization": ("sshleifer/distilbart-cnn-12-6", "a4f8f3e"),
    "translation": ("google-t5/t5-base", "a9723ea"),
    "text2text-generation": ("google-t5/t5-base", "a9723ea"),
}


def default_checkpoint(task: str, revision: str | None = None, cache_dir: str | os.PathLike | None = None) -> Path:
    """The local folder of ``task``'s default model, or a FileNotFoundError naming the id and where to put it."""
    model_id, pinned_revision = DEFAULT_MODELS[task]
    snapshot = cached_snapshot(model_id, revision, cache_dir)
    if snapshot is None and revision is None:
        snapshot = cached_snapshot(model_id, pinned_revision, cache_dir)
    if snapshot is not None:
        return snapshot
    raise FileNotFoundError(
        f"pipeline({task!r}) with no model uses transformers' default for the task, {model_id!r} (revision "
        f"{revision or pinned_revision}), and nanohf downloads nothing. Either pass model= a folder holding a "
        f"checkpoint (config.json, model.safetensors, tokenizer files), or put {model_id!r}'s files in the local "
        f"Hugging Face cache: {repo_cache_dir(model_id, cache_dir)}/snapshots/<commit>/, with refs/main "
        "holding <commit>."
    )

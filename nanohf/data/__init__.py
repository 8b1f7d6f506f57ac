"""Data sets, batching and collation, as in 🤗 datasets and transformers' data collators.

    from nanohf.data import load_glue, DataCollatorWithPadding, DataLoader

    raw = load_glue("mrpc")
    tokenized = raw.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
    tokenized = tokenized.remove_columns(["sentence1", "sentence2", "idx"])
    loader = DataLoader(tokenized["train"], batch_size=8, shuffle=True, seed=42,
                        collate_fn=DataCollatorWithPadding(tokenizer))

Modules: features (Value, ClassLabel, List), columns (NumPy storage), dataset (Dataset), mapping (map,
filter), fingerprint and cache (the map cache), dataset_dict, loading (csv/json/text), glue, collators,
dataloader.
"""

from .cache import default_cache_dir, disable_caching, enable_caching, is_caching_enabled
from .collators import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    default_data_collator,
)
from .dataloader import DataLoader
from .dataset import Dataset
from .dataset_dict import DatasetDict
from .features import ClassLabel, Features, List, Sequence, Value
from .glue import load_glue
from .loading import load_dataset
from .mapping import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

__all__ = [
    "ClassLabel",
    "DataCollatorForLanguageModeling",
    "DataCollatorForTokenClassification",
    "DataCollatorWithPadding",
    "DataLoader",
    "Dataset",
    "DatasetDict",
    "Features",
    "List",
    "Sequence",
    "Value",
    "are_progress_bars_disabled",
    "default_cache_dir",
    "default_data_collator",
    "disable_caching",
    "disable_progress_bars",
    "enable_caching",
    "enable_progress_bars",
    "is_caching_enabled",
    "load_dataset",
    "load_glue",
]

"""Data sets, batching and collation, as in 🤗 datasets and transformers' data collators.

    from nanohf.data import load_glue, DataCollatorWithPadding, DataLoader

    raw = load_glue("mrpc")
    tokenized = raw.map(lambda b: tokenizer(b["sentence1"], b["sentence2"], truncation=True), batched=True)
    tokenized = tokenized.remove_columns(["sentence1", "sentence2", "idx"])
    loader = DataLoader(tokenized["train"], batch_size=8, shuffle=True, seed=42,
                        collate_fn=DataCollatorWithPadding(tokenizer))

Modules: features (Value, ClassLabel, List), columns (NumPy storage), dataset (Dataset), mapping (map,
filter) and parallel (num_proc), fingerprint and cache (the disk cache), dataset_dict, readers (csv / json /
text / parquet, compressed), loading (load_dataset), streaming (IterableDataset), combine (concatenate,
interleave), export (save_to_disk, to_json / to_csv / to_parquet, pandas), arrow (🤗 datasets' feature
forms), search (add_faiss_index), glue, collators, dataloader.
"""

from .cache import default_cache_dir, disable_caching, enable_caching, is_caching_enabled
from .collators import (
    DataCollatorForLanguageModeling,
    DataCollatorForTokenClassification,
    DataCollatorWithPadding,
    default_data_collator,
)
from .combine import concatenate_datasets, interleave_datasets
from .dataloader import DataLoader
from .dataset import Dataset
from .dataset_dict import DatasetDict
from .features import ClassLabel, Features, List, Sequence, Value
from .glue import load_glue
from .loading import list_datasets, load_dataset, load_from_disk
from .mapping import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars
from .streaming import IterableDataset, IterableDatasetDict

__all__ = [
    "ClassLabel",
    "DataCollatorForLanguageModeling",
    "DataCollatorForTokenClassification",
    "DataCollatorWithPadding",
    "DataLoader",
    "Dataset",
    "DatasetDict",
    "Features",
    "IterableDataset",
    "IterableDatasetDict",
    "List",
    "Sequence",
    "Value",
    "are_progress_bars_disabled",
    "default_cache_dir",
    "default_data_collator",
    "disable_caching",
    "disable_progress_bars",
    "enable_caching",
    "concatenate_datasets",
    "enable_progress_bars",
    "interleave_datasets",
    "is_caching_enabled",
    "list_datasets",
    "load_dataset",
    "load_from_disk",
    "load_glue",
]

"""`DatasetDict`: the splits of a data set ("train", "validation", "test") by name.

It is a dict of `Dataset`s whose methods apply the same transform to every split:

    raw = load_glue("mrpc")                       # DatasetDict({train: ..., validation: ...})
    tokenized = raw.map(tokenize, batched=True)   # each split mapped (and cached) on its own
    tokenized["train"].column_names
"""


from .export import load_saved, save_dataset_dict
from .streaming import IterableDatasetDict


class DatasetDict(dict):
    """{split name: Dataset}; transforms return a new DatasetDict (set_format changes this one)."""

    # The class of the splits, set by dataset.py (which imports this module, so this one cannot import it).
    dataset_class = None

    def _apply(self, method, *args, **kwargs):
        return DatasetDict({name: getattr(ds, method)(*args, **kwargs) for name, ds in self.items()})

    # ------------------------------------------------------------------ description
    @property
    def column_names(self):
        return {name: ds.column_names for name, ds in self.items()}

    @property
    def num_rows(self):
        return {name: ds.num_rows for name, ds in self.items()}

    @property
    def num_columns(self):
        return {name: ds.num_columns for name, ds in self.items()}

    @property
    def shape(self):
        return {name: ds.shape for name, ds in self.items()}

    def __repr__(self):
        body = ",\n".join(f"    {name}: " + repr(ds).replace("\n", "\n    ") for name, ds in self.items())
        return f"DatasetDict({{\n{body}\n}})"

    # ------------------------------------------------------------------ transforms (see Dataset)
    def map(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
            drop_last_batch=False, remove_columns=None, load_from_cache_file=None, fn_kwargs=None, features=None,
            desc=None, num_proc=None, **ignored):
        """`Dataset.map` on every split."""
        return self._apply("map", function, with_indices, input_columns, batched, batch_size, drop_last_batch,
                           remove_columns, load_from_cache_file, fn_kwargs, features, desc, num_proc, **ignored)

    def filter(self, function=None, with_indices=False, input_columns=None, batched=False, batch_size=1000,
               fn_kwargs=None, load_from_cache_file=None, desc=None, num_proc=None, **ignored):
        """`Dataset.filter` on every split."""
        return self._apply("filter", function, with_indices, input_columns, batched, batch_size, fn_kwargs,
                           load_from_cache_file, desc, num_proc, **ignored)

    def shuffle(self, seed=None, seeds=None, generators=None):
        """Shuffle every split: the same `seed` for all, or `seeds`/`generators` as {split: value}."""
        if seed is not None and seeds is not None:
            raise ValueError("Please specify seed or seeds, but not both")
        out = {}
        for name, ds in self.items():
            generator = (generators or {}).get(name)
            split_seed = seeds.get(name) if isinstance(seeds, dict) else (seeds if seeds is not None else seed)
            out[name] = ds.shuffle(seed=None if generator is not None else split_seed, generator=generator)
        return DatasetDict(out)

    def sort(self, column_names, reverse=False):
        return self._apply("sort", column_names, reverse)

    def rename_column(self, original_column_name, new_column_name):
        return self._apply("rename_column", original_column_name, new_column_name)

    def rename_columns(self, column_mapping):
        return self._apply("rename_columns", column_mapping)

    def remove_columns(self, column_names):
        return self._apply("remove_columns", column_names)

    def select_columns(self, column_names):
        return self._apply("select_columns", column_names)

    def cast_column(self, column, feature):
        return self._apply("cast_column", column, feature)

    def flatten_indices(self):
        return self._apply("flatten_indices")

    def unique(self, column):
        return {name: ds.unique(column) for name, ds in self.items()}

    # ------------------------------------------------------------------ format
    def with_format(self, type=None, columns=None, output_all_columns=False):
        return self._apply("with_format", type, columns, output_all_columns)

    def set_format(self, type=None, columns=None, output_all_columns=False):
        """Set the format of every split in place."""
        for ds in self.values():
            ds.set_format(type, columns, output_all_columns)

    def reset_format(self):
        for ds in self.values():
            ds.reset_format()

    # ------------------------------------------------------------------ files
    @property
    def cache_files(self):
        return {name: ds.cache_files for name, ds in self.items()}

    def save_to_disk(self, dataset_dict_path, max_shard_size=None, num_shards=None, num_proc=None,
                     storage_options=None):
        """dataset_dict.json (the split names) and one save_to_disk folder per split."""
        save_dataset_dict(self, dataset_dict_path)

    @staticmethod
    def load_from_disk(dataset_dict_path, keep_in_memory=None, storage_options=None):
        return load_saved(dataset_dict_path, DatasetDict.dataset_class, DatasetDict)

    def push_to_hub(self, repo_id, *args, **kwargs):
        next(iter(self.values())).push_to_hub(repo_id)

    def to_iterable_dataset(self, num_shards=1):
        return IterableDatasetDict({name: ds.to_iterable_dataset(num_shards) for name, ds in self.items()})

"""`load_dataset("csv" | "json" | "text" | "parquet", data_files=...)`: local files -> a DatasetDict, as 🤗
datasets reads them, written once to the disk cache and memory-mapped from there.

    raw = load_dataset("csv", data_files={"train": "train.tsv.gz", "test": "test.tsv"}, delimiter="\\t")
    raw["train"].cache_files        # [{"filename": ".../csv-<fingerprint>/train/table.json"}]
    test = load_dataset("json", data_files="test.jsonl", split="train[:10%]")   # one split -> a Dataset
    stream = load_dataset("json", data_files="big.jsonl.gz", split="train", streaming=True)  # IterableDataset

`load_dataset("conll", data_files=...)` reads CoNLL token-per-line NER files and `load_dataset("wnut_17")` the
shipped WNUT-17 (conll.py: tokens + ClassLabel ner_tags, in memory). `load_dataset("squad" | "squad_v2",
data_files=...)` reads official SQuAD JSON files, `load_dataset("squad_v2")` the shipped SQuAD 2.0 dev subset
(squad.py: one row per question, 🤗's columns, in memory).

data_files is a path (or glob), a list of them (both give the split "train"), or {split: path(s)}; paths
may be relative to `data_dir`. The formats and their options are in readers.py.

The cache: `<cache dir>/<format>-<fingerprint>/<split>/`, the fingerprint hashing the format, the reader
options, the declared features and, for every file, its absolute path, size and modification time. A
second call with the same files and options reads nothing but the tiny table.json and maps the columns;
editing a file (new size or mtime) or changing an option reads the files again.
`download_mode="force_redownload"` rebuilds the cache.

split: "train", a slice ("train[10:20]", "train[:10%]", "train[-5:]"; percentages rounded to the closest
row as 🤗 datasets' default "closest" rounding, or "(pct1_dropremainder)"), or a sum of them
("train+test", "train[:10%]+test[-5:]"), concatenated in that order.
"""

import glob
import math
import os
import re

from . import cache
from .combine import concatenate_datasets
from .conll import OPTIONS as CONLL_OPTIONS
from .conll import load_wnut17, read_conll_files
from .dataset import Dataset
from .dataset_dict import DatasetDict
from .export import load_saved
from .fingerprint import hash_value
from .readers import (
    OPTIONS,
    HubUnavailableError,
    csv_features,
    file_stamp,
    read_csv,
    read_json,
    read_parquet,
    read_text,
)
from .squad import load_squad_v2_subset, read_squad_files
from .streaming import IterableDatasetDict, stream_files

_READERS = {"csv": read_csv, "json": read_json, "text": read_text, "parquet": read_parquet}
_ALIASES = {"jsonl": "json", "tsv": "csv", "txt": "text"}  # not 🤗 datasets' names: a clearer error below
_IGNORED = ("download_config", "verification_mode", "save_infos", "revision", "token",
            "storage_options", "trust_remote_code", "num_proc")  # accepted, no meaning for local files


def list_datasets(*args, **kwargs):
    """🤗 datasets' old `list_datasets` (now huggingface_hub's): listing the Hub needs the network."""
    raise HubUnavailableError("list_datasets lists the Hugging Face Hub, which needs the network; nanohf works "
                              "offline on local files: load_dataset('csv' | 'json' | 'text' | 'parquet', "
                              "data_files=...).")


def load_from_disk(dataset_path, keep_in_memory=None, storage_options=None):
    """A Dataset or DatasetDict written by `save_to_disk`, memory-mapped from its folder."""
    return load_saved(dataset_path, Dataset, DatasetDict)


def _resolve_files(data_files, data_dir=None):
    """data_files -> {split: [existing paths]} (globs expanded, sorted; relative to data_dir if given)."""
    if data_files is None:
        if data_dir is None:
            raise ValueError("At least one data file must be specified: data_files=path, [paths] or {split: paths}.")
        data_files = os.path.join(data_dir, "*")
        data_dir = None
    if isinstance(data_files, (str, os.PathLike, list, tuple)):
        data_files = {"train": data_files}
    resolved = {}
    for split, patterns in data_files.items():
        patterns = [patterns] if isinstance(patterns, (str, os.PathLike)) else list(patterns)
        paths = []
        for pattern in map(os.fspath, patterns):
            if data_dir is not None and not os.path.isabs(pattern):
                pattern = os.path.join(data_dir, pattern)
            if pattern.startswith(("http://", "https://", "hf://", "s3://", "gs://")):
                raise HubUnavailableError(f"{pattern}: nanohf does not download files; download it once and pass "
                                          "the local path.")
            matches = sorted(p for p in glob.glob(pattern) if os.path.isfile(p)) if glob.has_magic(pattern) \
                else [pattern]
            if not matches or not all(os.path.isfile(p) for p in matches):
                raise FileNotFoundError(f"Unable to find '{os.path.abspath(pattern)}'")
            paths += matches
        resolved[str(split)] = paths
    return resolved


# ---------------------------------------------------------------------- split strings
_PART = re.compile(r"^(?P<split>\w+)(\[((?P<from>-?[\d_]+)(?P<from_pct>%)?)?:((?P<to>-?[\d_]+)(?P<to_pct>%)?)?\])?"
                   r"(\((?P<rounding>[^)]*)\))?$")


def _part_bounds(match, n):
    """(start, stop) rows of one "split[from:to]" part, with 🤗 datasets' rules."""
    percent = bool(match.group("from_pct") or match.group("to_pct"))
    rounding = match.group("rounding")
    if rounding is not None and rounding not in ("closest", "pct1_dropremainder"):
        raise ValueError("rounding must be either closest or pct1_dropremainder")
    if rounding is not None and not percent:
        raise ValueError("It is forbidden to specify rounding if not using percent slicing.")
    if percent and (match.group("from") and not match.group("from_pct") or
                    match.group("to") and not match.group("to_pct")):
        raise ValueError(f"Unrecognized split format: {match.group(0)!r} (mixes rows and percentages)")

    def absolute(text, default):
        if not text:
            return default
        value = int(text)
        if not percent:
            return value
        if rounding == "pct1_dropremainder":
            if n < 100:
                raise ValueError('Using "pct1_dropremainder" rounding on a split with less than 100 elements is '
                                 "forbidden: it always results in an empty dataset.")
            return value * math.trunc(n / 100.0)
        return int(round(value * n / 100.0))

    start, stop = absolute(match.group("from"), 0), absolute(match.group("to"), n)
    start, stop = (max(n + b, 0) if b < 0 else b for b in (start, stop))
    return min(start, n), min(stop, n)


def select_split(dataset_dict, split):
    """"train" -> that Dataset; "train[:100]", "train[10%:]", "train+test" -> slices / concatenations."""
    parts = []
    for spec in re.split(r"\s*\+\s*", str(split).strip()):
        match = _PART.match(spec.replace(" ", ""))
        if not match:
            raise ValueError(f"Unrecognized split format: {spec!r}")
        name = match.group("split")
        if name not in dataset_dict:
            raise ValueError(f'Unknown split "{name}". Should be one of {list(dataset_dict)}.')
        ds = dataset_dict[name]
        if match.group(2) is None and match.group("rounding") is None:
            parts.append(ds)
            continue
        start, stop = _part_bounds(match, len(ds))
        parts.append(ds.select(range(start, max(start, stop))))
    return parts[0] if len(parts) == 1 else concatenate_datasets(parts)


# ---------------------------------------------------------------------- reading through the cache
def _table(data, features):
    """A file's {column: values} -> a Dataset of its typed rows (for streaming)."""
    return Dataset.from_dict(data, features=csv_features(data, features))


def _read_split(kind, paths, options, features):
    """Files of one split -> (data dict, features)."""
    if kind == "parquet":
        data, stored = _READERS[kind](paths, **options)
        return data, features or stored
    data = _READERS[kind](paths, **options)
    return data, csv_features(data, features) if kind == "csv" else features


def _cached_split(kind, folder, paths, options, features, fingerprint, refresh):
    """One split: read from its cache folder, or read the files and write the folder first."""
    if not refresh and (loaded := cache.load_table(folder)) is not None:
        columns, stored, num_rows = loaded
        return Dataset(columns, stored, num_rows, fingerprint=fingerprint, cache_files=cache.table_files(folder))
    data, split_features = _read_split(kind, paths, options, features)
    ds = Dataset.from_dict(data, features=split_features)
    try:
        cache.save_table(folder, ds._columns, ds._features, len(ds), overwrite=True,
                         extra={"source_files": [file_stamp(p) for p in paths]})
    except cache.NotCacheable:  # values JSON cannot hold exactly: keep this split in memory
        return ds._derive(fingerprint=fingerprint)
    columns, stored, num_rows = cache.load_table(folder)
    return Dataset(columns, stored, num_rows, fingerprint=fingerprint, cache_files=cache.table_files(folder))


def load_dataset(path, name=None, data_dir=None, data_files=None, split=None, cache_dir=None, features=None,
                 download_mode=None, keep_in_memory=None, streaming=False, **config_kwargs):
    """Read local csv/json/text/parquet files into a DatasetDict ({split: Dataset}), or one Dataset with `split`.

    Args:
        path: "csv", "json", "text" or "parquet" (the reader; nanohf does not download data sets from the Hub).
        name: a configuration name (no meaning for local files; must be None or "default").
        data_dir: folder that relative data_files are in (all its files if data_files is None).
        data_files: a path or glob, a list of them (split "train"), or {split: path(s)}; .gz/.bz2/.xz/.zst/.zip
            are decompressed.
        split: return only this split (or a slice, or a sum of splits: see the module docstring).
        cache_dir: where the cache folder goes (default: $NANOHF_CACHE or ~/.cache/nanohf/datasets).
        features: declared column types (e.g. a ClassLabel for a label column of names or ids).
        download_mode: "force_redownload" re-reads the files and rewrites the cache.
        keep_in_memory: read the files into memory, without the disk cache.
        streaming: return IterableDatasets that read the files lazily, example by example.
        **config_kwargs: reader options (readers.OPTIONS): csv: sep/delimiter, header, names/column_names,
            usecols, skiprows, nrows, na_values, keep_default_na, quotechar, quoting, escapechar, encoding;
            json: field, encoding; text: keep_linebreaks, sample_by, encoding; parquet: columns.
    """
    kind = os.fspath(path) if isinstance(path, os.PathLike) else path
    if kind in ("conll", "wnut_17", "leondz/wnut_17"):  # token-per-line NER files, read in memory (conll.py)
        unknown = set(config_kwargs) - set(CONLL_OPTIONS) - set(_IGNORED)
        if unknown or streaming or name not in (None, "default", "wnut_17"):
            raise TypeError(f"load_dataset({kind!r}) accepts {sorted(CONLL_OPTIONS)} (no streaming, no config name); "
                            f"got {sorted(unknown)}, streaming={streaming}, name={name!r}")
        dataset_dict = (read_conll_files(_resolve_files(data_files, data_dir), features=features, **config_kwargs)
                        if kind == "conll" else load_wnut17(data_dir))  # fmt: skip
        return dataset_dict if split is None else select_split(dataset_dict, split)
    if kind in ("squad", "squad_v2", "rajpurkar/squad", "rajpurkar/squad_v2"):  # SQuAD JSON, in memory (squad.py)
        if streaming or name not in (None, "default", "plain_text", "squad_v2") or set(config_kwargs) - set(_IGNORED):
            raise TypeError(f"load_dataset({kind!r}) takes data_files= (no streaming, no config name, no reader "
                            f"options); got streaming={streaming}, name={name!r}, options {sorted(config_kwargs)}")
        if data_files is None and data_dir is None and not kind.endswith("squad_v2"):
            raise ValueError(f"load_dataset({kind!r}) needs data_files=: nanohf ships only SQuAD 2.0's dev subset, "
                             "as load_dataset('squad_v2')")  # fmt: skip
        dataset_dict = (load_squad_v2_subset() if data_files is None and data_dir is None
                        else read_squad_files(_resolve_files(data_files, data_dir)))  # fmt: skip
        return dataset_dict if split is None else select_split(dataset_dict, split)
    if kind not in _READERS:
        hint = f" (🤗 datasets calls this reader {_ALIASES[kind]!r})" if kind in _ALIASES else ""
        raise HubUnavailableError(
            f"Couldn't reach {path!r} on the Hub: nanohf does not download from the Hub (no network). load_dataset "
            f"reads local files: path must be one of {sorted(_READERS)}{hint}; for GLUE use nanohf.data.load_glue.")
    if name not in (None, "default"):
        raise ValueError(f"load_dataset({kind!r}) has no configuration {name!r}; pass the files as data_files=")
    for k in _IGNORED:
        config_kwargs.pop(k, None)
    unknown = set(config_kwargs) - set(OPTIONS[kind])
    if unknown:
        raise TypeError(f"load_dataset({kind!r}) got unexpected options {sorted(unknown)}; it accepts "
                        f"{sorted(OPTIONS[kind])}")
    files = _resolve_files(data_files, data_dir)
    if streaming:
        streams = IterableDatasetDict({s: stream_files(kind, paths, config_kwargs, features, _table)
                                       for s, paths in files.items()})
        if split is None:
            return streams
        if str(split) not in streams:
            raise ValueError(f'Bad split: {split}. Available splits: {list(streams)}')
        return streams[str(split)]
    options = {**{k: v for k, v in OPTIONS[kind].items() if k in config_kwargs}, **config_kwargs}
    root = cache_dir or cache.default_cache_dir()
    key = hash_value(kind, sorted(options.items()), repr(features),
                     {s: [file_stamp(p) for p in paths] for s, paths in files.items()})
    refresh = download_mode in ("force_redownload", "FORCE_REDOWNLOAD")
    splits = {}
    for split_name, paths in files.items():
        if not re.fullmatch(r"\w+(\.\w+)*", split_name):
            raise ValueError(f"Split name should match '^\\w+(\\.\\w+)*$' but got '{split_name}'.")
        fingerprint = hash_value(key, split_name)
        if keep_in_memory:
            data, split_features = _read_split(kind, paths, config_kwargs, features)
            splits[split_name] = Dataset.from_dict(data, features=split_features)._derive(fingerprint=fingerprint)
        else:
            folder = os.path.join(os.fspath(root), f"{kind}-{key}", split_name)
            splits[split_name] = _cached_split(kind, folder, paths, config_kwargs, features, fingerprint, refresh)
    dataset_dict = DatasetDict(splits)
    return dataset_dict if split is None else select_split(dataset_dict, split)

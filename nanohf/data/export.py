"""A Dataset to and from other forms: a folder (`save_to_disk` / `load_from_disk`), JSON Lines, CSV, parquet
and pandas, as 🤗 datasets writes and reads them.

    ds.save_to_disk("drugs")               # drugs/table.json + column files (cache.py's safe format)
    DatasetDict.save_to_disk("drugs")      # drugs/dataset_dict.json + drugs/<split>/...
    load_from_disk("drugs")                # memory-mapped back, features and format kept
    ds.to_json("drugs.jsonl")              # one JSON object per line (🤗 datasets' default lines=True)
    ds.to_csv("drugs.csv"); ds.to_parquet("drugs.parquet")   # parquet needs pyarrow
    df = ds.to_pandas(); Dataset.from_pandas(df)              # need pandas

pandas and pyarrow are optional: imported when used, with a clear error when absent. With pyarrow installed,
`to_pandas`/`from_pandas` go through an Arrow table exactly as 🤗 datasets does (lists become NumPy arrays,
missing numbers NaN, NaN read back as None).
"""

import csv
import io
import json
import os

from . import cache
from .arrow import arrow_table, features_from_schema
from .features import Features
from .readers import HubUnavailableError, require_pyarrow

STATE_FILE = "state.json"
DICT_FILE = "dataset_dict.json"


def require_pandas(what):
    try:
        import pandas
    except ImportError:
        raise ImportError(f"{what} needs the optional `pandas` package: pip install pandas") from None
    return pandas


def _pyarrow():
    try:
        import pyarrow
    except ImportError:
        return None
    return pyarrow


def _write_text(path_or_buf, text):
    """Write text to a path (atomically: temp file + rename) or a buffer; returns the bytes written."""
    data = text.encode("utf-8")
    if isinstance(path_or_buf, (str, os.PathLike)):
        path = os.fspath(path_or_buf)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    elif isinstance(path_or_buf, io.TextIOBase):
        path_or_buf.write(text)
    else:
        path_or_buf.write(data)
    return len(data)


class DatasetIOMixin:
    """save_to_disk, to_json/to_csv/to_parquet, to_pandas/from_pandas for `Dataset` (see the module docstring)."""

    def save_to_disk(self, dataset_path, max_shard_size=None, num_shards=None, num_proc=None, storage_options=None):
        """Write the rows (in their current order), features and format to the folder `dataset_path`."""
        path = os.fspath(dataset_path)
        flat = self.flatten_indices()
        state = {"fingerprint": self.fingerprint, "format": self._format}
        cache.save_table(path, flat._columns, flat._features, len(flat), overwrite=True, extra={"state": state})

    def push_to_hub(self, repo_id, *args, **kwargs):
        """The Hub needs the network: a clear error (save_to_disk / to_parquet write the data locally)."""
        raise HubUnavailableError(f"push_to_hub({repo_id!r}): nanohf works offline and does not upload to the Hub; "
                                  "write the data locally with save_to_disk, to_parquet or to_json.")

    def to_json(self, path_or_buf, batch_size=None, num_proc=None, storage_options=None, lines=True,
                orient="records", force_ascii=False, **to_json_kwargs):
        """JSON Lines (one object per row; lines=False: one JSON list). Returns the number of bytes written."""
        if orient != "records":
            raise ValueError(f"nanohf writes orient='records' only, not {orient!r}")
        rows = self.with_format(None).to_list()
        if lines:
            text = "".join(json.dumps(row, ensure_ascii=force_ascii) + "\n" for row in rows)
        else:
            text = json.dumps(rows, ensure_ascii=force_ascii)
        return _write_text(path_or_buf, text)

    def to_csv(self, path_or_buf, batch_size=None, num_proc=None, storage_options=None, header=True, index=False,
               sep=",", **to_csv_kwargs):
        """CSV as pandas writes it (header row, no index, missing values empty). Returns the bytes written."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=sep, lineterminator="\n")
        names = self.column_names
        if header:
            writer.writerow(([""] if index else []) + names)
        data = self.with_format(None).to_dict()
        for i in range(len(self)):
            writer.writerow(([i] if index else []) + ["" if data[n][i] is None else data[n][i] for n in names])
        return _write_text(path_or_buf, out.getvalue())

    def to_parquet(self, path_or_buf, batch_size=None, storage_options=None, **parquet_writer_kwargs):
        """A parquet file (needs pyarrow) carrying the features as 🤗 datasets writes them. Returns its size."""
        pa = require_pyarrow("Dataset.to_parquet")
        table = arrow_table(self.with_format(None))
        sink = io.BytesIO()
        pa.parquet.write_table(table, sink, **parquet_writer_kwargs)
        data = sink.getvalue()
        if isinstance(path_or_buf, (str, os.PathLike)):
            path = os.fspath(path_or_buf)
            tmp = f"{path}.tmp-{os.getpid()}"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        else:
            path_or_buf.write(data)
        return len(data)

    def to_pandas(self, batch_size=None, batched=False):
        """A pandas DataFrame of the rows (or, batched=True, an iterator of DataFrames of batch_size rows)."""
        if batched:
            step = batch_size or 10_000
            return (self.select(range(i, min(i + step, len(self)))).to_pandas() for i in range(0, len(self), step))
        pd = require_pandas("Dataset.to_pandas")
        if _pyarrow() is not None:
            return arrow_table(self.with_format(None)).to_pandas()
        return pd.DataFrame(self.with_format(None).to_dict())

    @classmethod
    def from_pandas(cls, df, features=None, info=None, split=None, preserve_index=None):
        """A Dataset of a DataFrame's columns. preserve_index=None keeps an index that is not a RangeIndex as a
        column (named after it, or "__index_level_0__"), True always, False never; NaN becomes None."""
        pd = require_pandas("Dataset.from_pandas")
        pa = _pyarrow()
        if pa is not None:
            table = pa.Table.from_pandas(df, preserve_index=preserve_index)
            stored = features_from_schema(table.schema)
            data = table.to_pydict()
            return cls.from_dict(data, features=Features(features) if features else
                                 Features({k: v for k, v in stored.items() if v is not None}))
        keep_index = preserve_index is True or (preserve_index is None and not isinstance(df.index, pd.RangeIndex))
        data = {}
        if keep_index:
            data[df.index.name or "__index_level_0__"] = df.index.tolist()
        for name in df.columns:
            values = df[name].tolist()
            data[str(name)] = [None if isinstance(v, float) and v != v else v for v in values]
        return cls.from_dict(data, features=features)


def save_dataset_dict(dataset_dict, dataset_dict_path):
    """DatasetDict.save_to_disk: dataset_dict.json (the split names) and one folder per split."""
    path = os.fspath(dataset_dict_path)
    for name in dataset_dict:
        if not name or os.sep in name or name in (".", ".."):
            raise ValueError(f"split name {name!r} cannot be a folder name")
    os.makedirs(path, exist_ok=True)
    for name, ds in dataset_dict.items():
        ds.save_to_disk(os.path.join(path, name))
    _write_text(os.path.join(path, DICT_FILE), json.dumps({"splits": list(dataset_dict)}))


def load_saved(dataset_path, dataset_class, dict_class):
    """A `dataset_class` or `dict_class` written by `save_to_disk`, memory-mapped from its folder (the classes
    are parameters: dataset.py and dataset_dict.py import this module)."""
    path = os.fspath(dataset_path)
    if os.path.isfile(os.path.join(path, DICT_FILE)):
        with open(os.path.join(path, DICT_FILE), encoding="utf-8") as f:
            splits = json.load(f)["splits"]
        return dict_class({name: _load_split(dataset_class, dict_class, path, name) for name in splits})
    table = cache.read_manifest(path)
    if table is None:
        if os.path.isfile(os.path.join(path, "dataset_info.json")) or os.path.isfile(os.path.join(path, STATE_FILE)):
            raise FileNotFoundError(f"{path} looks like a 🤗 datasets save_to_disk folder (Arrow files); nanohf reads "
                                    "its own save_to_disk format. Load it with datasets and pass the Dataset "
                                    "itself, or save it with to_parquet / to_json and read that.")
        raise FileNotFoundError(f"Directory {path} is neither a `Dataset` directory nor a `DatasetDict` directory.")
    columns, features, num_rows = cache.load_table(path)
    state = table.get("state") or {}
    return dataset_class(columns, features, num_rows, fingerprint=state.get("fingerprint"), format=state.get("format"),
                   cache_files=cache.table_files(path))


def _load_split(dataset_class, dict_class, path, name):
    folder = os.path.join(path, name)
    if os.path.dirname(os.path.realpath(folder)) != os.path.realpath(path):
        raise cache.UnsafeCacheError(f"{os.path.join(path, DICT_FILE)}: split {name!r} is not a folder inside {path}")
    loaded = load_saved(folder, dataset_class, dict_class)
    if not isinstance(loaded, dataset_class):
        raise ValueError(f"{folder}: expected a saved Dataset")
    return loaded


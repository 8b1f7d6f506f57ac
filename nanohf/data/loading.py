"""`load_dataset("csv" | "json" | "text", data_files=...)`: local files -> a DatasetDict, as 🤗 datasets reads
them.

    raw = load_dataset("csv", data_files={"train": "train.tsv", "test": "test.tsv"}, delimiter="\\t")
    raw["train"][0]
    test = load_dataset("json", data_files="test.jsonl", split="train")   # one split -> a Dataset

data_files is a path (or glob), a list of them (both give the split "train"), or {split: path(s)}.

Readers:

* csv: a header row names the columns (or `column_names=`); each column gets pandas' type: int64 if every
  value is an integer, float64 if every value is a number (missing values become NaN), bool for
  True/False, else strings, missing values (empty, "NA", "null", ...) becoming None. Quoting follows the
  csv module: `quoting=csv.QUOTE_NONE` for files whose text contains stray quote characters.
* json: JSON Lines (one object per line) or one JSON list of objects; `field="data"` reads the list
  (or {column: list} dict) under that key of a single JSON object.
* text: one row per line in a column "text" (line breaks removed unless keep_linebreaks=True);
  sample_by="paragraph" (blank-line separated) or "document" (one row per file).
"""

import csv
import glob
import json
import math
import os
import re

from .dataset import Dataset
from .dataset_dict import DatasetDict

# pandas' default missing-value markers (read_csv's na_values).
NA_VALUES = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
             "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"}
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|Inf|INF|infinity|Infinity)\s*$")
_BOOL = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}

_OPTIONS = {
    "csv": {"sep": ",", "delimiter": None, "column_names": None, "quotechar": '"', "quoting": csv.QUOTE_MINIMAL,
            "encoding": None},
    "json": {"field": None, "encoding": None},
    "text": {"keep_linebreaks": False, "sample_by": "line", "encoding": None},
}


def _convert_csv_column(raw):
    """Strings of one CSV column -> typed Python values, with pandas' inference rules."""
    present = [v for v in raw if v is not None and v not in NA_VALUES]
    if present and all(_INT.match(v) for v in present):
        if len(present) == len(raw):
            return [int(v) for v in raw]
        return [math.nan if v is None or v in NA_VALUES else float(v) for v in raw]
    if present and all(_FLOAT.match(v) for v in present):
        return [math.nan if v is None or v in NA_VALUES else float(v) for v in raw]
    if present and len(present) == len(raw) and all(v in _BOOL for v in present):
        return [_BOOL[v] for v in raw]
    return [None if v is None or v in NA_VALUES else v for v in raw]


def read_csv(paths, sep=",", delimiter=None, column_names=None, quotechar='"', quoting=csv.QUOTE_MINIMAL,
             encoding=None):
    """CSV/TSV files -> {column: values}. Blank lines are skipped; short rows are padded with None."""
    sep = delimiter if delimiter is not None else sep
    names, rows = column_names, []
    for path in paths:
        # utf-8-sig also reads plain UTF-8, and drops a byte-order mark as pandas does.
        with open(path, newline="", encoding=encoding or "utf-8-sig") as f:
            reader = csv.reader(f, delimiter=sep, quotechar=quotechar, quoting=quoting)
            file_rows = [row for row in reader if row]
        if column_names is None:
            if not file_rows:
                continue
            header, file_rows = file_rows[0], file_rows[1:]
            if names is not None and header != names:
                raise ValueError(f"{path}: columns {header} differ from those of the previous files {names}")
            names = header
        for line, row in enumerate(file_rows, start=2 if column_names is None else 1):
            if len(row) > len(names):
                raise ValueError(f"Error tokenizing data: expected {len(names)} fields in {path} row {line}, saw "
                                 f"{len(row)}. Check the delimiter, or pass quoting=csv.QUOTE_NONE if the text "
                                 "contains quote characters.")
            rows.append(row + [None] * (len(names) - len(row)))
    names = names or []
    return {name: _convert_csv_column([row[i] for row in rows]) for i, name in enumerate(names)}


def read_json(paths, field=None, encoding=None):
    """JSON Lines / JSON files -> list of row dicts (or a {column: list} dict under `field`)."""
    rows, columns = [], None
    for path in paths:
        with open(path, encoding=encoding or "utf-8") as f:
            text = f.read()
        if field is not None:
            data = json.loads(text)[field]
            if isinstance(data, dict):  # {column: list}
                columns = {k: (columns or {}).get(k, []) + list(v) for k, v in data.items()}
                continue
            rows += data
        elif text.lstrip().startswith("["):
            rows += json.loads(text)
        else:
            try:
                rows += [json.loads(line) for line in text.splitlines() if line.strip()]
            except json.JSONDecodeError as error:
                raise ValueError(f"{path} is neither JSON Lines nor a JSON list ({error}); for one JSON object "
                                 "holding the examples, pass field=<the key of the list>.") from None
    if columns is not None:
        return columns
    names = list(dict.fromkeys(key for row in rows for key in row))  # every key, in order of appearance
    return {name: [row.get(name) for row in rows] for name in names}


def read_text(paths, keep_linebreaks=False, sample_by="line", encoding=None):
    """Text files -> {"text": lines (or paragraphs, or documents)}."""
    texts = []
    for path in paths:
        with open(path, encoding=encoding or "utf-8") as f:  # universal newlines: \r\n and \r become \n
            content = f.read()
        if sample_by == "document":
            texts.append(content)
        elif sample_by == "paragraph":
            texts += [p for p in content.split("\n\n") if p]
        elif sample_by == "line":
            # str.splitlines would also split on \x0b, \x1c, \u2028, ...: only \n ends a line here.
            lines = content.split("\n") if content else []
            if content.endswith("\n"):
                lines.pop()
            if keep_linebreaks:
                ends = ["\n"] * (len(lines) - 1) + (["\n" if content.endswith("\n") else ""] if lines else [])
                lines = [line + end for line, end in zip(lines, ends, strict=True)]
            texts += lines
        else:
            raise ValueError(f"sample_by must be 'line', 'paragraph' or 'document', not {sample_by!r}")
    return {"text": texts}


_READERS = {"csv": read_csv, "json": read_json, "text": read_text}


def _resolve_files(data_files):
    """data_files -> {split: [existing paths]} (globs expanded)."""
    if data_files is None:
        raise ValueError("At least one data file must be specified: data_files=path, [paths] or {split: paths}.")
    if isinstance(data_files, (str, os.PathLike)) or isinstance(data_files, (list, tuple)):
        data_files = {"train": data_files}
    resolved = {}
    for split, patterns in data_files.items():
        patterns = [patterns] if isinstance(patterns, (str, os.PathLike)) else list(patterns)
        paths = []
        for pattern in map(os.fspath, patterns):
            matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
            if not matches or not all(os.path.isfile(p) for p in matches):
                raise FileNotFoundError(f"Unable to find '{os.path.abspath(pattern)}'")
            paths += matches
        resolved[split] = paths
    return resolved


_SPLIT = re.compile(r"^(\w+)(?:\[(-?\d*)(%?):(-?\d*)(%?)\])?$")


def _select_split(dataset_dict, split):
    """"train" -> that Dataset; "train[:100]" / "train[10%:]" -> a slice of it."""
    match = _SPLIT.match(split.replace(" ", ""))
    if not match or match.group(1) not in dataset_dict:
        name = match.group(1) if match else split
        raise ValueError(f'Unknown split "{name}". Should be one of {list(dataset_dict)}.')
    ds = dataset_dict[match.group(1)]
    if match.group(2) is None:
        return ds
    n = len(ds)

    def bound(text, percent, default):
        if text == "":
            return default
        value = int(text)
        return int(round(value * n / 100)) if percent else value

    start, stop = bound(match.group(2), match.group(3), 0), bound(match.group(4), match.group(5), n)
    return ds.select(range(*slice(start, stop).indices(n)))


def load_dataset(path, data_files=None, split=None, features=None, **options):
    """Read local csv/json/text files into a DatasetDict ({split: Dataset}), or one Dataset if `split` is given.

    Args:
        path: "csv", "json" or "text" (the reader; nanohf does not download data sets from the Hub).
        data_files: a path or glob, a list of them (split "train"), or {split: path(s)}.
        split: return only this split; "train[:100]" or "train[:10%]" take a slice of it.
        features: declared column types (e.g. a ClassLabel for a label column of names or ids).
        **options: reader options: csv: sep/delimiter, column_names, quotechar, quoting, encoding;
            json: field, encoding; text: keep_linebreaks, sample_by, encoding.
    """
    if path not in _READERS:
        raise ValueError(f"load_dataset reads local files: path must be one of {sorted(_READERS)}, not {path!r}. "
                         "nanohf does not download from the Hub; for GLUE use nanohf.data.load_glue.")
    unknown = set(options) - set(_OPTIONS[path])
    if unknown:
        raise TypeError(f"load_dataset({path!r}) got unexpected options {sorted(unknown)}; it accepts "
                        f"{sorted(_OPTIONS[path])}")
    splits = {}
    for name, paths in _resolve_files(data_files).items():
        data = _READERS[path](paths, **options)
        splits[name] = Dataset.from_dict(data, features=features)
    dataset_dict = DatasetDict(splits)
    return dataset_dict if split is None else _select_split(dataset_dict, split)

"""The file formats `load_dataset` reads: csv, json, text, parquet, plain or compressed, into {column: values}.

* Compression is recognised by the file's first bytes, whatever its name: gzip, bz2, xz/lzma, zstd (needs the
  `zstandard` package) and zip (every file inside, sorted by name, hidden files and folders such as
  __MACOSX skipped), as 🤗 datasets extracts them.
* csv: pandas' rules. The header row names the columns (`header=None`, `names=`/`column_names=` otherwise):
  an empty name becomes "Unnamed: <position>", a repeated one "a.1", "a.2". Each column gets pandas' type:
  int64 if every value is an integer, float64 if every value is a number (missing values become None, as
  Arrow stores pandas' NaN), bool for True/False, else strings, missing ones (empty, "NA", "null", ...)
  becoming None. Quoting follows the csv module: `quoting=csv.QUOTE_NONE` for files whose text contains
  stray quote characters.
* json: JSON Lines (one object per line) or one JSON list of objects; `field="data"` reads the list (or
  {column: list} dict) under that key of a single JSON object.
* text: one row per line in a column "text" (line breaks removed unless keep_linebreaks=True);
  sample_by="paragraph" (blank-line separated) or "document" (one row per file).
* parquet: through pyarrow (optional), `columns=` to read only some.
"""

import bz2
import csv
import gzip
import io
import json
import lzma
import math
import os
import re
import zipfile

from .arrow import features_from_schema
from .features import Features, Value

# pandas' default missing-value markers (read_csv's na_values).
NA_VALUES = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                       "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|Inf|INF|infinity|Infinity)\s*$")
_BOOL = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}
_MAGIC = [(b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ\x00", "xz"), (b"\x28\xb5\x2f\xfd", "zstd"),
          (b"PK\x03\x04", "zip")]  # fmt: skip

OPTIONS = {
    "csv": {"sep": ",", "delimiter": None, "header": "infer", "names": None, "column_names": None, "usecols": None,
            "skiprows": None, "nrows": None, "na_values": None, "keep_default_na": True, "quotechar": '"',
            "quoting": csv.QUOTE_MINIMAL, "escapechar": None, "doublequote": True, "skipinitialspace": False,
            "encoding": None},
    "json": {"field": None, "encoding": None},
    "text": {"keep_linebreaks": False, "sample_by": "line", "encoding": None},
    "parquet": {"columns": None},
}  # fmt: skip


class HubUnavailableError(ConnectionError, ValueError):
    """nanohf reads local files only: a Hub data set name cannot be resolved (no network). A ConnectionError, as
    🤗 datasets raises offline ("Couldn't reach ... on the Hub"), and a ValueError, as nanohf raised before."""


# ---------------------------------------------------------------------- compressed files
def compression_of(path):
    """"gzip" / "bz2" / "xz" / "zstd" / "zip", or None for a plain file (from its magic bytes)."""
    with open(path, "rb") as f:
        head = f.read(6)
    return next((name for magic, name in _MAGIC if head.startswith(magic)), None)


class CompressionUnavailable(ImportError, ValueError):
    """A compression whose package is not installed (an ImportError; a ValueError like 🤗 datasets' "Compression
    type zstd not supported")."""


def _zstd_reader(raw):
    try:
        import zstandard
    except ImportError:
        raw.close()
        raise CompressionUnavailable("Reading a .zst (zstandard-compressed) file needs the `zstandard` package: "
                                     "pip install zstandard") from None
    return zstandard.ZstdDecompressor().stream_reader(raw)


def open_members(path):
    """Yield (name, binary file) for a data file: itself (decompressed), or each file inside a zip archive."""
    kind = compression_of(path)
    if kind == "zip":
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if not n.endswith("/") and not _hidden(n))
            for name in names:
                with archive.open(name) as member:
                    yield f"{path}/{name}", io.BytesIO(member.read())
        return
    openers = {None: lambda p: open(p, "rb"), "gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open,
               "zstd": lambda p: _zstd_reader(open(p, "rb"))}
    with openers[kind](path) as f:
        yield path, f


def _hidden(name):
    return any(part.startswith((".", "__")) for part in name.split("/"))


def read_texts(path, encoding=None, newline=None):
    """Yield (name, decoded text) for each member of a data file, with a clear error for undecodable bytes."""
    for name, binary in open_members(path):
        data = binary.read()
        try:
            text = data.decode(encoding or "utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{name}: not {encoding or 'utf-8'} text ({error}); pass encoding=... if the file "
                             "uses another encoding") from None
        if newline is None:  # universal newlines, as open() in text mode
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        yield name, text


# ---------------------------------------------------------------------- csv
def _convert_csv_column(raw, na):
    """Strings of one CSV column -> typed Python values, with pandas' inference rules (missing -> None)."""
    present = [v for v in raw if v is not None and v not in na]
    missing = len(present) != len(raw)
    if present and all(_INT.match(v) for v in present):
        return [None if v is None or v in na else (float(v) if missing else int(v)) for v in raw]
    if present and all(_FLOAT.match(v) for v in present):
        return [None if v is None or v in na else float(v) for v in raw]
    if present and not missing and all(v in _BOOL for v in present):
        return [_BOOL[v] for v in raw]
    return [None if v is None or v in na else v for v in raw]


def _mangle(header):
    """pandas' column names: "" -> "Unnamed: i", a repeat of "a" -> "a.1", "a.2", ..."""
    names, seen = [], {}
    for i, name in enumerate(header):
        name = name if name != "" else f"Unnamed: {i}"
        base, count = name, seen.get(name, 0)
        while name in seen:
            count += 1
            name = f"{base}.{count}"
        seen[base] = count
        seen[name] = seen.get(name, 0)
        names.append(name)
    return names


def read_csv(paths, sep=",", delimiter=None, header="infer", names=None, column_names=None, usecols=None,
             skiprows=None, nrows=None, na_values=None, keep_default_na=True, quotechar='"',
             quoting=csv.QUOTE_MINIMAL, escapechar=None, doublequote=True, skipinitialspace=False, encoding=None):
    """CSV/TSV files -> {column: values}. Blank lines are skipped; short rows are padded with None."""
    sep = delimiter if delimiter is not None else sep
    names = column_names if column_names is not None else names
    if header == "infer":
        header = None if names is not None else 0
    if header not in (None, 0):
        raise ValueError(f"header must be 'infer', 0 or None, not {header!r}")
    na = (NA_VALUES if keep_default_na else frozenset()) | frozenset(
        [na_values] if isinstance(na_values, str) else (na_values or []))
    columns, rows = None if names is None else list(names), []
    for path in paths:
        # utf-8-sig also reads plain UTF-8, and drops a byte-order mark as pandas does.
        for member, text in read_texts(path, encoding or "utf-8-sig", newline=""):
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar=quotechar, quoting=quoting,
                                escapechar=escapechar, doublequote=doublequote, skipinitialspace=skipinitialspace)
            file_rows = [row for row in reader if row]
            if skiprows:
                file_rows = file_rows[skiprows:]
            if header == 0:
                if not file_rows:
                    continue
                found, file_rows = _mangle(file_rows[0]), file_rows[1:]
                if names is None:
                    if columns is not None and found != columns:
                        raise ValueError(f"{member}: columns {found} differ from those of the previous files "
                                         f"{columns}")
                    columns = found
            if nrows is not None:
                file_rows = file_rows[:nrows]
            if columns is None:  # header=None without names: pandas numbers the columns
                columns = [str(i) for i in range(max(map(len, file_rows), default=0))]
            for line, row in enumerate(file_rows, start=2 if header == 0 else 1):
                if len(row) > len(columns):
                    raise ValueError(f"Error tokenizing data: expected {len(columns)} fields in {member} row {line}, "
                                     f"saw {len(row)}. Check the delimiter, or pass quoting=csv.QUOTE_NONE if the "
                                     "text contains quote characters.")
                rows.append(row + [None] * (len(columns) - len(row)))
    columns = columns or []
    data = {name: _convert_csv_column([row[i] for row in rows], na) for i, name in enumerate(columns)}
    if usecols is not None:
        chosen = [columns[c] if isinstance(c, int) else c for c in usecols]
        unknown = [c for c in chosen if c not in data]
        if unknown:
            raise ValueError(f"Usecols do not match columns, columns expected but not found: {unknown}")
        data = {name: data[name] for name in columns if name in chosen}
    return data


def csv_features(data, declared=None):
    """Features pandas gives that the values alone do not show: a column with no value at all is float64 (NaN)."""
    hints = {name: Value("float64") for name, values in data.items() if values and all(v is None for v in values)}
    return Features({**hints, **(declared or {})}) if hints else declared


# ---------------------------------------------------------------------- json, text
def read_json(paths, field=None, encoding=None):
    """JSON Lines / JSON files -> {column: values} (every key, in order of appearance; missing -> None)."""
    rows, columns = [], None
    for path in paths:
        for member, text in read_texts(path, encoding):
            if field is not None:
                try:
                    data = json.loads(text)[field]
                except KeyError:
                    raise ValueError(f"{member}: no field {field!r} in the JSON object") from None
                if isinstance(data, dict):  # {column: list}
                    columns = {k: (columns or {}).get(k, []) + list(v) for k, v in data.items()}
                    continue
                rows += data
            elif text.lstrip().startswith("["):
                rows += json.loads(text)
            else:
                try:
                    rows += [json.loads(line) for line in text.split("\n") if line.strip()]
                except json.JSONDecodeError as error:
                    raise ValueError(f"{member} is neither JSON Lines nor a JSON list ({error}); for one JSON "
                                     "object holding the examples, pass field=<the key of the list>.") from None
    if columns is not None:
        return columns
    bad = next((row for row in rows if not isinstance(row, dict)), None)
    if bad is not None:
        raise ValueError(f"JSON examples must be objects ({{column: value}}), got {bad!r:.80}")
    names = list(dict.fromkeys(key for row in rows for key in row))
    return {name: [row.get(name) for row in rows] for name in names}


def read_text(paths, keep_linebreaks=False, sample_by="line", encoding=None):
    """Text files -> {"text": lines (or paragraphs, or documents)}."""
    if sample_by not in ("line", "paragraph", "document"):
        raise ValueError(f"sample_by must be 'line', 'paragraph' or 'document', not {sample_by!r}")
    texts = []
    for path in paths:
        for _, content in read_texts(path, encoding):
            if sample_by == "document":
                texts.append(content)
            elif sample_by == "paragraph":
                texts += [p for p in content.split("\n\n") if p]
            else:
                # str.splitlines would also split on \x0b, \x1c, \u2028, ...: only \n ends a line here.
                lines = content.split("\n") if content else []
                if content.endswith("\n"):
                    lines.pop()
                if keep_linebreaks:
                    ends = ["\n"] * (len(lines) - 1) + (["\n" if content.endswith("\n") else ""] if lines else [])
                    lines = [line + end for line, end in zip(lines, ends, strict=True)]
                texts += lines
    return {"text": texts}


# ---------------------------------------------------------------------- parquet
def require_pyarrow(what):
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ImportError(f"{what} needs the optional `pyarrow` package: pip install pyarrow") from None
    return pyarrow


def read_parquet(paths, columns=None):
    """Parquet files -> ({column: values}, features stored in the file by 🤗 datasets / nanohf, or None)."""
    pa = require_pyarrow("Reading parquet files")
    data, features = {}, None
    for path in paths:
        for member, binary in open_members(path):
            table = pa.parquet.read_table(binary, columns=columns)
            features = features or features_from_schema(table.schema)
            for name, values in table.to_pydict().items():
                data.setdefault(name, []).extend(values)
            if set(data) != set(table.column_names):
                raise ValueError(f"{member}: columns {table.column_names} differ from those of the previous files")
    return data, features


def float_or_none(value):
    """NaN -> None (how Arrow stores pandas' missing numbers)."""
    return None if isinstance(value, float) and math.isnan(value) else value


def reader_options(kind):
    """The options `load_dataset(kind, ...)` accepts, with their defaults."""
    return OPTIONS[kind]


def file_stamp(path):
    """What identifies a file's version for the cache: absolute path, size, modification time (ns)."""
    stat = os.stat(path)
    return [os.path.abspath(path), stat.st_size, stat.st_mtime_ns]

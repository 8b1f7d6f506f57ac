"""How one column of a `Dataset` is stored: NumPy arrays wherever the values are numbers.

Three layouts cover what NLP data sets hold:

    NumericColumn   one number per row          label    -> array (n,)
    RaggedColumn    a list of numbers per row   input_ids -> values (total,) + offsets (n + 1,)
    ObjectColumn    anything else               sentence -> object array (n,) of str (or None, lists, ...)

A ragged column keeps all rows end to end in one flat array; row i is values[offsets[i]:offsets[i + 1]].
That is compact (67,349 tokenized SST-2 sentences are one int32 array, not 67,349 Python lists), it is cheap
to save as two .npy files and to memory-map back, and a padded batch of equal-length rows is just a reshape.

Every layout answers the same questions for a set of row positions `idx` (an int64 array): `take(idx)` (a
new column), `python(idx)` (a list of Python values), `numpy(idx)` (an array), plus one-row versions.
"""

import itertools

import numpy as np

from .features import ClassLabel, List, Value

# 🤗 datasets stores tokenizer outputs in the smallest type that holds them; so do we (same features).
TOKEN_COLUMN_DTYPES = {"input_ids": np.int32, "attention_mask": np.int8, "token_type_ids": np.int8,
                       "special_tokens_mask": np.int8}


def _value_feature(dtype):
    return Value("string") if dtype.kind in "OUS" else Value(dtype.name)


class NumericColumn:
    """One number (int, float or bool) per row, as a 1-D array."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data)

    def take(self, idx):
        return NumericColumn(self.data[idx])

    def python(self, idx):
        return self.data[idx].tolist()

    def numpy(self, idx):
        return self.data[idx]

    def row_python(self, i):
        return self.data[i].item()

    def row_numpy(self, i):
        return self.data[i]

    def feature(self):
        return _value_feature(self.data.dtype)


class RaggedColumn:
    """A list of numbers per row, the rows stored end to end.

    Args:
        values: (total, *inner) all rows concatenated; inner is () for lists of ids, (2,) for offset pairs.
        offsets: (n + 1,) int64; row i is values[offsets[i]:offsets[i + 1]].
    """

    def __init__(self, values, offsets):
        self.values = values
        self.offsets = offsets

    def __len__(self):
        return len(self.offsets) - 1

    @property
    def lengths(self):
        return np.diff(self.offsets)

    def _gather(self, idx):
        """Rows `idx` -> (their values end to end, their offsets)."""
        starts, lengths = self.offsets[idx], self.lengths[idx]
        offsets = np.zeros(len(idx) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        # Position k of the output comes from starts[row] + (k - offsets[row]), row being the row k belongs to.
        positions = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return self.values[positions], offsets

    def take(self, idx):
        return RaggedColumn(*self._gather(idx))

    def python(self, idx):
        values, offsets = self._gather(idx)
        flat = values.tolist()  # one conversion, then cheap list slices
        return [flat[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]

    def numpy(self, idx):
        """(rows, length, *inner) when every row has the same length, else an object array of arrays."""
        values, offsets = self._gather(idx)
        lengths = np.diff(offsets)
        if len(idx) and (lengths == lengths[0]).all():
            return values.reshape(len(idx), int(lengths[0]), *values.shape[1:])
        rows = np.empty(len(idx), dtype=object)
        for k in range(len(idx)):
            rows[k] = values[offsets[k]:offsets[k + 1]]
        return rows

    def row_python(self, i):
        return self.values[self.offsets[i]:self.offsets[i + 1]].tolist()

    def row_numpy(self, i):
        return np.array(self.values[self.offsets[i]:self.offsets[i + 1]])

    def feature(self):
        feature = _value_feature(self.values.dtype)
        for _ in range(self.values.ndim):
            feature = List(feature)
        return feature


class ObjectColumn:
    """Python objects, one per row, in a 1-D object array: strings (None for missing), lists of strings, ..."""

    def __init__(self, data):
        self.data = data

    def __len__(self):
        return len(self.data)

    def take(self, idx):
        return ObjectColumn(self.data[idx])

    def python(self, idx):
        return [_fresh(v) for v in self.data[idx]]

    def numpy(self, idx):
        values = self.python(idx)
        if all(isinstance(v, str) for v in values):
            return np.array(values, dtype=str) if values else np.array([], dtype=str)
        return object_array(values)

    def row_python(self, i):
        return _fresh(self.data[i])

    def row_numpy(self, i):
        value = self.data[i]
        if isinstance(value, str):
            return np.str_(value)
        try:
            array = np.asarray(value)
        except ValueError:  # ragged nested lists
            return _fresh(value)
        return array if array.dtype != object else _fresh(value)

    def feature(self):
        return infer_feature(self.data)


def _fresh(value):
    """A copy of a mutable value, so that editing a returned row cannot change the data set."""
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    return value


def object_array(values):
    """A 1-D object array holding `values` as they are (np.array would turn a list of lists into 2-D)."""
    return np.fromiter(values, dtype=object, count=len(values))


def infer_feature(values):
    """The feature of a sequence of Python values (first non-None value decides), or None if all are None."""
    for value in values:
        if value is None:
            continue
        if isinstance(value, str):
            return Value("string")
        if isinstance(value, (bool, np.bool_)):
            return Value("bool")
        if isinstance(value, (int, np.integer, float, np.floating)):  # ints and floats mixed: float64, as Arrow
            floats = any(isinstance(v, (float, np.floating)) for v in values)
            return Value("float64" if floats else "int64")
        if isinstance(value, (list, tuple, np.ndarray)):  # the elements of every row decide (the first may be [])
            lists = (v for v in values if isinstance(v, (list, tuple, np.ndarray)))
            inner = infer_feature(list(itertools.chain.from_iterable(lists)))
            return None if inner is None else List(inner)
        if isinstance(value, dict):  # a struct, e.g. SQuAD's answers {"text": [...], "answer_start": [...]}
            rows = [v for v in values if isinstance(v, dict)]
            keys = dict.fromkeys(key for row in rows for key in row)  # every row's fields, as Arrow unifies them
            return {key: infer_feature([row.get(key) for row in rows]) for key in keys}
        return None
    return None


# ---------------------------------------------------------------------- building columns from values
def _numeric_kind(types):
    """np.int64 / np.float64 / np.bool_ when every type in `types` is that kind of number, else None."""
    if types <= {bool, np.bool_}:
        return np.bool_
    if any(issubclass(t, (bool, np.bool_)) for t in types):
        return None  # mixed bools and numbers: keep as they are
    if all(issubclass(t, (int, np.integer)) for t in types):
        return np.int64
    if all(issubclass(t, (int, float, np.integer, np.floating)) for t in types):
        return np.float64
    return None


def _ragged_from_lists(values):
    """Rows that are lists/tuples/arrays of numbers -> RaggedColumn, or None when they are not."""
    lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
    flat = list(itertools.chain.from_iterable(values))
    if not flat:
        return RaggedColumn(np.zeros(0, dtype=np.int64), np.zeros(len(values) + 1, dtype=np.int64))
    try:
        flat_values = np.array(flat)
    except (ValueError, OverflowError):  # inner lists of different lengths, huge ints
        return None
    if flat_values.dtype.kind not in "biuf":
        return None
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return RaggedColumn(flat_values, offsets)


def column_from_values(values, name=None, feature=None):
    """Values of one column (a list or an array, one entry per row) -> the column that stores them best.

    Args:
        values: list of Python values, or an array whose first axis is the rows.
        name: the column name; tokenizer outputs (input_ids, attention_mask, ...) get 🤗 datasets' small
            integer types (int32 ids, int8 masks).
        feature: the declared feature, if any: its dtype is used, and a ClassLabel turns names into ids.
    """
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.dtype.kind in "US":
            column = ObjectColumn(object_array([str(v) for v in values]))
        elif values.ndim == 1:
            column = NumericColumn(values)
        else:  # (rows, length, ...): equal-length lists
            n, length = values.shape[:2]
            column = RaggedColumn(values.reshape(n * length, *values.shape[2:]),
                                  np.arange(n + 1, dtype=np.int64) * length)
    else:
        values = list(values)
        types = set(map(type, values))
        if isinstance(feature, ClassLabel) and str in types:
            values = [feature.str2int(v) if isinstance(v, str) else v for v in values]
            types = set(map(type, values))
        kind = _numeric_kind(types) if values else None
        column = None
        if kind is not None:
            try:
                column = NumericColumn(np.array(values, dtype=kind))
            except OverflowError:
                column = None
        elif values and all(issubclass(t, (list, tuple, np.ndarray)) for t in types):
            column = _ragged_from_lists(values)
        if column is None:
            column = ObjectColumn(object_array(_conformed([_tuples_as_lists(v) for v in values], feature)))
    return _cast(column, name, feature)


def _tuples_as_lists(value):
    """Arrow has lists, not tuples: a tuple inside a row (an offset pair) is stored, and read back, as a list."""
    if isinstance(value, (list, tuple)):
        return [_tuples_as_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _tuples_as_lists(v) for k, v in value.items()}
    return value


def _has_struct(feature):
    if isinstance(feature, dict):
        return True
    return isinstance(feature, List) and _has_struct(feature.feature)


def _conform(value, feature):
    """A value with every field of its struct feature (missing ones None), as Arrow stores structs."""
    if isinstance(feature, dict) and isinstance(value, dict):
        return {key: _conform(value.get(key), inner) for key, inner in feature.items()}
    if isinstance(feature, List) and isinstance(value, (list, tuple)):
        return [_conform(v, feature.feature) for v in value]
    return value


def _conformed(values, feature):
    """Struct values (JSON objects, SQuAD's answers) with the same fields in every row."""
    feature = feature if feature is not None else infer_feature(values)
    return [_conform(v, feature) for v in values] if _has_struct(feature) else values


def _cast(column, name, feature):
    """Apply the declared feature's dtype, or the small token dtypes, to a numeric/ragged column."""
    target = None
    if isinstance(feature, Value) and feature.dtype == "string" and isinstance(column, NumericColumn):
        return ObjectColumn(object_array([str(v) for v in column.data.tolist()]))  # declared text, read as numbers
    if hasattr(feature, "numpy_dtype"):  # Value, ClassLabel, List (not a struct)
        dtype = feature.numpy_dtype
        target = None if dtype.kind == "O" else dtype
    if isinstance(column, NumericColumn):
        if target is not None and column.data.dtype != target:
            column = NumericColumn(column.data.astype(target))
        return column
    if isinstance(column, RaggedColumn):
        if target is None and feature is None and name in TOKEN_COLUMN_DTYPES and column.values.dtype.kind in "iu":
            small = np.dtype(TOKEN_COLUMN_DTYPES[name])
            info = np.iinfo(small)
            values = column.values
            if values.size == 0 or (values.min() >= info.min and values.max() <= info.max):
                target = small
        if target is not None and column.values.dtype != target:
            column = RaggedColumn(column.values.astype(target), column.offsets)
    return column


def concat_columns(columns, name=None, feature=None):
    """Columns of the same name, one after the other -> one column (rows of the first, then the second, ...).

    Same layouts with the same dtype are joined as arrays (offsets shifted); anything else goes through
    Python values and `column_from_values`.
    """
    columns = list(columns)
    if len(columns) == 1:
        return columns[0]
    kinds = {type(c) for c in columns}
    if kinds == {NumericColumn} and len({c.data.dtype for c in columns}) == 1:
        return NumericColumn(np.concatenate([np.asarray(c.data) for c in columns]))
    if kinds == {RaggedColumn} and len({(c.values.dtype, c.values.shape[1:]) for c in columns}) == 1:
        values = np.concatenate([np.asarray(c.values) for c in columns])
        lengths = np.concatenate([c.lengths for c in columns])
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return RaggedColumn(values, offsets)
    values = list(itertools.chain.from_iterable(c.python(np.arange(len(c), dtype=np.int64)) for c in columns))
    return column_from_values(values, name, feature)

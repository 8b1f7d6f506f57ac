"""What a column holds: `Value("int64")`, `ClassLabel(names=[...])`, `List(Value("int32"))`.

A `Features` object is the schema of a `Dataset`: {column name: feature}. It is metadata, as in 🤗 datasets:
values are stored as plain numbers (a ClassLabel column is an int64 column), the feature says how to read
them (`features["label"].int2str(1)` -> "positive").

    features = Features({"sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    features["label"].num_classes  # 2
"""

import numpy as np

# The dtypes a Value can have, with the NumPy dtype that stores them ("string" columns hold Python strs).
VALUE_DTYPES = {
    "bool": np.bool_, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "float16": np.float16, "float32": np.float32, "float64": np.float64, "string": object,
}  # fmt: skip
# Aliases 🤗 datasets accepts too.
DTYPE_ALIASES = {"float": "float32", "double": "float64", "str": "string", "large_string": "string"}


class Value:
    """A scalar: `Value("int64")`, `Value("float32")`, `Value("string")`, `Value("bool")`, ..."""

    def __init__(self, dtype):
        dtype = DTYPE_ALIASES.get(dtype, dtype)
        if dtype not in VALUE_DTYPES:
            raise ValueError(f"Value dtype must be one of {sorted(VALUE_DTYPES)}, not {dtype!r}")
        self.dtype = dtype

    @property
    def numpy_dtype(self):
        """The NumPy dtype a column of this feature is stored in (object for strings)."""
        return np.dtype(VALUE_DTYPES[self.dtype])

    def __repr__(self):
        return f"Value({self.dtype!r})"

    def __eq__(self, other):
        return type(other) is Value and other.dtype == self.dtype

    def __hash__(self):
        return hash(("Value", self.dtype))


class ClassLabel:
    """Integer class ids with names: `ClassLabel(names=["negative", "positive"])`.

    Args:
        num_classes: number of classes; the names default to "0", "1", ... when only this is given.
        names: the class names, id i being names[i].
        names_file: a text file with one name per line (instead of `names`).
    """

    dtype = "int64"

    def __init__(self, num_classes=None, names=None, names_file=None):
        if names_file is not None:
            if names is not None:
                raise ValueError("Please provide either names or names_file but not both.")
            with open(names_file, encoding="utf-8") as f:
                names = [line.strip() for line in f.read().splitlines() if line.strip()]
        if names is None:
            if num_classes is None:
                raise ValueError("Please provide either num_classes, names or names_file.")
            names = [str(i) for i in range(num_classes)]
        names = [str(name) for name in names]
        if num_classes is not None and num_classes != len(names):
            raise ValueError(f"ClassLabel number of names do not match the defined num_classes. Got {len(names)} "
                             f"names VS {num_classes} num_classes")
        if len(set(names)) != len(names):
            raise ValueError(f"Some label names are duplicated: {names}")
        self.names = names
        self._str2int = {name: i for i, name in enumerate(names)}

    @property
    def num_classes(self):
        return len(self.names)

    @property
    def numpy_dtype(self):
        return np.dtype(np.int64)

    def int2str(self, values):
        """Class id -> name; a list (or array) of ids -> list of names."""
        if isinstance(values, (list, tuple, np.ndarray)):
            return [self.int2str(v) for v in values]
        if not 0 <= int(values) < self.num_classes:
            raise ValueError(f"Invalid integer class label {values}")
        return self.names[int(values)]

    def str2int(self, values):
        """Class name -> id; a list of names -> list of ids."""
        if isinstance(values, (list, tuple, np.ndarray)):
            return [self.str2int(v) for v in values]
        if values not in self._str2int:
            raise ValueError(f"Invalid string class label {values}")
        return self._str2int[values]

    def __repr__(self):
        return f"ClassLabel(names={self.names!r})"

    def __eq__(self, other):
        return type(other) is ClassLabel and other.names == self.names

    def __hash__(self):
        return hash(("ClassLabel", tuple(self.names)))


class List:
    """A list of values per row, e.g. token ids: `List(Value("int32"))` (🤗 datasets' `List`/`Sequence`).

    Args:
        feature: what each element is (a Value, a ClassLabel for token labels, or another List).
        length: -1 for lists of any length, else the fixed length of every list.
    """

    def __init__(self, feature, length=-1):
        self.feature = feature
        self.length = length

    @property
    def numpy_dtype(self):
        return self.feature.numpy_dtype

    def __repr__(self):
        return f"List({self.feature!r})" if self.length == -1 else f"List({self.feature!r}, length={self.length})"

    def __eq__(self, other):
        return type(other) is List and other.feature == self.feature and other.length == self.length

    def __hash__(self):
        return hash(("List", self.feature, self.length))


Sequence = List  # the older 🤗 datasets name


class Features(dict):
    """{column name: feature}, in column order."""

    def copy(self):
        return Features(self)


# ---------------------------------------------------------------------- (de)serialising, for the map cache
def feature_to_dict(feature):
    """A feature -> a JSON-able dict (what the cache writes next to the data)."""
    if isinstance(feature, Value):
        return {"_type": "Value", "dtype": feature.dtype}
    if isinstance(feature, ClassLabel):
        return {"_type": "ClassLabel", "names": feature.names}
    if isinstance(feature, List):
        return {"_type": "List", "feature": feature_to_dict(feature.feature), "length": feature.length}
    if isinstance(feature, dict):  # a struct: {field: feature}
        return {"_type": "struct", "fields": {k: feature_to_dict(v) for k, v in feature.items()}}
    if feature is None:
        return None
    raise TypeError(f"cannot serialise feature {feature!r}")


def feature_from_dict(data):
    """The inverse of `feature_to_dict`."""
    if data is None:
        return None
    kind = data["_type"]
    if kind == "Value":
        return Value(data["dtype"])
    if kind == "ClassLabel":
        return ClassLabel(names=data["names"])
    if kind == "List":
        return List(feature_from_dict(data["feature"]), data.get("length", -1))
    if kind == "struct":
        return {k: feature_from_dict(v) for k, v in data["fields"].items()}
    raise ValueError(f"unknown feature type {kind!r}")


def align_features(features_list):
    """{column: feature} over several data sets' features, with 🤗 datasets' rule: a column present in several
    must have one feature (None, a column of nulls only, aligns with anything)."""
    merged = {}
    for features in features_list:
        for name, feature in features.items():
            if merged.get(name) is None:
                merged[name] = feature
            elif feature is not None and feature != merged[name]:
                raise ValueError(f"The features can't be aligned because the key {name} of features {features} "
                                 f"has unexpected type - {feature} (expected either {merged[name]} or "
                                 'Value("null").')
    return merged


def same_storage(old, new):
    """Whether a column described by `new` (inferred from data) can keep the richer feature `old`:
    a ClassLabel stays a ClassLabel while the data are still int64 ids (map returning `label` unchanged)."""
    if old == new:
        return True
    if isinstance(old, ClassLabel):
        return isinstance(new, Value) and new.dtype == "int64"
    if isinstance(old, List) and isinstance(new, List):
        return same_storage(old.feature, new.feature)
    return False

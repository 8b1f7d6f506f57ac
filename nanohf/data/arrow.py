"""Features in 🤗 datasets' interchange forms: its `Features.to_dict()` JSON and Arrow schemas (pyarrow, optional).

    {"label": {"names": ["neg", "pos"], "_type": "ClassLabel"}, "ids": {"feature": {"dtype": "int32",
     "_type": "Value"}, "_type": "List"}, "answers": {"text": {...}, "answer_start": {...}}}   # a struct

Parquet files written by `to_parquet` carry that JSON in their schema metadata under b"huggingface", as
🤗 datasets writes them, so class names survive a round trip through either library.
"""

import json

from .features import ClassLabel, Features, List, Value

_ARROW_VALUE = {"bool": "bool_", "int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64",
                "uint8": "uint8", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "float16": "float16",
                "float32": "float32", "float64": "float64", "string": "string"}  # fmt: skip
_FROM_ARROW = {"bool": "bool", "halffloat": "float16", "float": "float32", "double": "float64", "string": "string",
               "large_string": "string", "string_view": "string", "null": None}  # fmt: skip


def feature_to_hf(feature):
    """One nanohf feature -> 🤗 datasets' dict form."""
    if isinstance(feature, Value):
        return {"dtype": feature.dtype, "_type": "Value"}
    if isinstance(feature, ClassLabel):
        return {"names": list(feature.names), "_type": "ClassLabel"}
    if isinstance(feature, List):
        out = {"feature": feature_to_hf(feature.feature)}
        if feature.length != -1:
            out["length"] = feature.length
        return {**out, "_type": "List"}
    if isinstance(feature, dict):
        return {name: feature_to_hf(value) for name, value in feature.items()}
    if feature is None:  # a column of None only
        return {"dtype": "null", "_type": "Value"}
    raise TypeError(f"cannot describe feature {feature!r} for 🤗 datasets")


def feature_from_hf(data):
    """🤗 datasets' dict form of one feature -> nanohf's (Sequence is read as List)."""
    if not isinstance(data, dict):
        raise ValueError(f"not a feature description: {data!r:.80}")
    kind = data.get("_type")
    if kind == "Value":
        return None if data["dtype"] == "null" else Value(data["dtype"])
    if kind == "ClassLabel":
        return ClassLabel(names=data["names"])
    if kind in ("List", "Sequence", "LargeList"):
        inner = data["feature"]
        if kind == "Sequence" and isinstance(inner, dict) and "_type" not in inner:  # Sequence of a struct
            return {name: List(feature_from_hf(value)) for name, value in inner.items()}
        return List(feature_from_hf(inner), data.get("length", -1))
    if kind is None:
        return {name: feature_from_hf(value) for name, value in data.items()}
    raise ValueError(f"feature type {kind!r} is not supported by nanohf")


def features_to_hf(features):
    return {name: feature_to_hf(feature) for name, feature in features.items()}


def features_from_hf(data):
    return Features({name: feature_from_hf(value) for name, value in data.items()})


def feature_from_arrow(type_):
    """A pyarrow DataType -> a nanohf feature."""
    import pyarrow as pa

    if pa.types.is_struct(type_):
        return {type_.field(i).name: feature_from_arrow(type_.field(i).type) for i in range(type_.num_fields)}
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return List(feature_from_arrow(type_.value_type))
    if pa.types.is_fixed_size_list(type_):
        return List(feature_from_arrow(type_.value_type), type_.list_size)
    if pa.types.is_dictionary(type_):
        return feature_from_arrow(type_.value_type)
    name = _FROM_ARROW.get(str(type_), str(type_))
    return None if name is None else Value(name)


def features_from_schema(schema):
    """The features a parquet/arrow schema describes: 🤗 datasets' metadata if present, else the Arrow types."""
    metadata = schema.metadata or {}
    if b"huggingface" in metadata:
        try:
            info = json.loads(metadata[b"huggingface"])
            return features_from_hf(info["info"]["features"])
        except (ValueError, KeyError, TypeError):
            pass
    return Features({field.name: feature_from_arrow(field.type) for field in schema})


def arrow_type(feature):
    """A nanohf feature -> the pyarrow DataType 🤗 datasets stores it as."""
    import pyarrow as pa

    if isinstance(feature, ClassLabel):
        return pa.int64()
    if isinstance(feature, Value):
        return getattr(pa, _ARROW_VALUE[feature.dtype])()
    if isinstance(feature, List):
        inner = arrow_type(feature.feature)
        return pa.list_(inner) if feature.length == -1 else pa.list_(inner, feature.length)
    if isinstance(feature, dict):
        return pa.struct([(name, arrow_type(value)) for name, value in feature.items()])
    return pa.null()


def arrow_table(ds):
    """A Dataset's rows (in order, Python values) as a pyarrow Table with 🤗 datasets' schema metadata."""
    import pyarrow as pa

    features = ds.features
    data = ds.to_dict()
    fields = [pa.field(name, arrow_type(features[name])) for name in data]
    metadata = {"huggingface": json.dumps({"info": {"features": features_to_hf(features)}})}
    return pa.table({name: pa.array(values, type=field.type) for (name, values), field in
                     zip(data.items(), fields, strict=True)}, schema=pa.schema(fields, metadata=metadata))

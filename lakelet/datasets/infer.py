"""Column types inferred from data: an Arrow schema, an Arrow table or batch, or a pandas DataFrame.

Arrow types map one to one where lakelet has the type (ints, floats, bool, text, timestamps with
unit and zone, dates, durations, decimals, lists, structs, fixed-size lists as embeddings,
dictionary-encoded text -- pandas categoricals -- as class labels whose names come from the data).
A pandas object column is looked at value by value only when Arrow cannot type it: pixel arrays and
PIL images become ``Image``, equal-length numeric vectors ``Embedding``, bytes ``Binary``. What
cannot be inferred (an all-null column, a time of day, a map) raises a :class:`SchemaError` that
names the column and asks for an override: ``overrides={"col": types.Text()}`` wins over inference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from . import types as T
from .errors import SchemaError
from .ingest import frame_columns

_SCALAR_NAMES = {str(cls._arrow): cls for cls in T._SCALARS.values()}


def type_for(arrow: pa.DataType, column: str, labels: list[str] | None = None) -> T.DataType:
    """The lakelet type for an Arrow type (``labels``: the names of a dictionary column, if known)."""
    if str(arrow) in _SCALAR_NAMES:
        return _SCALAR_NAMES[str(arrow)]()
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow) or pa.types.is_string_view(arrow):
        return T.Text()
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow) or pa.types.is_binary_view(arrow):
        return T.Binary()
    if pa.types.is_dictionary(arrow):
        if not (pa.types.is_string(arrow.value_type) or pa.types.is_large_string(arrow.value_type)):
            return type_for(arrow.value_type, column)
        return T.ClassLabel(T._index_dtype(arrow.index_type), labels or [])
    if pa.types.is_timestamp(arrow):
        return T.Timestamp(arrow.unit, arrow.tz)
    if pa.types.is_date(arrow):
        return T.Date()
    if pa.types.is_duration(arrow):
        return T.Duration(arrow.unit)
    if pa.types.is_decimal(arrow):
        return T.Decimal(arrow.precision, arrow.scale)
    if pa.types.is_fixed_size_list(arrow) and str(arrow.value_type) in _SCALAR_NAMES:
        return T.Embedding(arrow.list_size, str(arrow.value_type))
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow) or pa.types.is_fixed_size_list(arrow):
        return T.Sequence(type_for(arrow.value_type, column))
    if pa.types.is_struct(arrow):
        if arrow.num_fields == 0:
            raise SchemaError(f"column {column!r}: an empty struct has no fields to store", column=column)
        return T.Struct({arrow.field(i).name: type_for(arrow.field(i).type, column) for i in range(arrow.num_fields)})
    if pa.types.is_null(arrow):
        raise SchemaError(
            f"column {column!r} holds only nulls, so its type cannot be inferred; give it one, e.g. "
            f"schema={{{column!r}: types.Text()}}",
            column=column,
        )
    raise SchemaError(
        f"column {column!r}: no lakelet type for Arrow {arrow}; convert it or give a type for it", column=column
    )


def _labels(values: Any) -> list[str] | None:
    """The names of a dictionary-encoded column (all chunks' dictionaries, in first-seen order)."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    names: dict[str, None] = {}
    for chunk in chunks:
        for name in chunk.dictionary.to_pylist():
            names.setdefault(name, None)
    return list(names)


def _special_type(values: np.ndarray) -> T.DataType | None:
    """Image, Binary or Embedding for object columns of pixel arrays / PIL images, bytes, or numpy
    vectors all of one length; None for anything else."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    first = present[0]
    if T._is_pil(first) or (isinstance(first, np.ndarray) and first.ndim in (2, 3) and first.dtype == np.uint8):
        return T.Image()
    if isinstance(first, bytes | bytearray | memoryview):
        return T.Binary()
    if isinstance(first, np.ndarray) and first.ndim == 1 and first.dtype.kind in "biuf":
        sizes = {len(v) for v in present if isinstance(v, np.ndarray)}
        if len(sizes) == 1 and all(isinstance(v, np.ndarray) for v in present):
            return T.Embedding(sizes.pop(), first.dtype.name if first.dtype.kind == "f" else "float32")
    return None


def _object_type(values: np.ndarray, column: str) -> T.DataType:
    """A type for a pandas/numpy object column that Arrow could not type."""
    present = [v for v in values if v is not None]
    if not present:
        return type_for(pa.null(), column)
    first = present[0]
    special = _special_type(values)
    if special is not None:
        return special
    try:
        arrow = pa.array(present[:1000]).type
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
        raise SchemaError(
            f"column {column!r}: cannot infer a type for values like {first!r:.60} ({e}); give it one", column=column
        ) from e
    return type_for(arrow, column)


def _column_type(values: Any, column: str) -> T.DataType:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        labels = _labels(values) if pa.types.is_dictionary(values.type) else None
        return type_for(values.type, column, labels)
    if isinstance(values, np.ndarray) and values.dtype != object:
        if values.ndim == 2 and values.dtype.kind in "biuf":
            return T.Embedding(values.shape[1], values.dtype.name if values.dtype.kind == "f" else "float32")
        if values.dtype.kind in "US":
            return T.Text()
        return type_for(pa.from_numpy_dtype(values.dtype), column)
    if isinstance(values, np.ndarray) and values.dtype == object:
        if values.ndim != 1:
            raise SchemaError(f"column {column!r}: expected a 1-D column, got shape {values.shape}", column=column)
        special = _special_type(values)
        if special is not None:
            return special
        try:
            return _column_type(pa.array(values, from_pandas=True), column)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
            return _object_type(values, column)
    if isinstance(values, list | tuple):
        column_values = np.empty(len(values), dtype=object)
        for i, value in enumerate(values):  # element by element: nested lists stay one value per row
            column_values[i] = value
        return _column_type(column_values, column)
    raise SchemaError(f"column {column!r}: cannot infer a type from a {type(values).__name__}", column=column)


def infer_schema(data: Any, overrides: Mapping[str, Any] | None = None) -> dict[str, T.DataType]:
    """Column name -> lakelet type for ``data`` (a pandas DataFrame, an Arrow table, batch or schema,
    or a dict of columns), with ``overrides`` (name -> type) taking precedence.

    >>> import pyarrow as pa
    >>> infer_schema(pa.schema({"t": pa.timestamp("ms", "UTC"), "n": pa.int32()}), {"n": "int64"})
    {'t': Timestamp(unit='ms', tz='UTC'), 'n': Int64()}
    """
    overrides = dict(overrides or {})
    if isinstance(data, pa.Schema):
        columns: dict[str, Any] = {f.name: f.type for f in data}
    elif isinstance(data, pa.Table | pa.RecordBatch):
        columns = {name: data.column(name) for name in data.column_names}
    elif hasattr(data, "columns") and hasattr(data, "iloc"):  # a pandas DataFrame
        columns = frame_columns(data)
    elif isinstance(data, Mapping):
        columns = dict(data)
    else:
        raise SchemaError(
            f"cannot infer a schema from a {type(data).__name__}: give a pandas DataFrame, an Arrow table, batch"
            " or schema, or a dict of columns"
        )
    unknown = [name for name in overrides if name not in columns]
    if unknown:
        raise SchemaError(f"types given for column(s) {unknown} that the data does not have: {list(columns)}",
                          column=unknown[0])
    out: dict[str, T.DataType] = {}
    for name, values in columns.items():
        if not isinstance(name, str):
            raise SchemaError(f"column names must be strings, got {name!r}")
        if name in overrides:
            out[name] = T.as_type(overrides[name])
        elif isinstance(values, pa.DataType):
            out[name] = type_for(values, name)
        else:
            out[name] = _column_type(values, name)
    return out

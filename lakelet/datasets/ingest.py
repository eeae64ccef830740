"""Turning what users append (a row dict, a dict of columns, a list of row dicts, a
DataFrame or an Arrow table) into validated Arrow arrays, all or nothing.

Phase one converts and checks every column without side effects; only when the
whole batch is valid are media values written to the blob store (phase two), so
a rejected batch leaves nothing behind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from . import types as T
from .errors import SchemaError
from .schema import Schema


def _depth(value: Any) -> int:
    if isinstance(value, np.ndarray):
        if value.dtype == object and value.size:
            return value.ndim + _depth(value.flat[0])
        return value.ndim
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return 1
    depth = 0
    while isinstance(value, list | tuple | np.ndarray) and not isinstance(value, str):
        if isinstance(value, np.ndarray):
            return depth + _depth(value)
        depth += 1
        if not value:
            break
        value = value[0]
    return depth


def _type_depth(dtype: T.DataType) -> int:
    if isinstance(dtype, T.Array) and dtype.fixed_shape is None:
        return dtype.dimensions
    if isinstance(dtype, T.Embedding):
        return len(dtype.shape)
    if isinstance(dtype, T.Sequence):
        return 1 + _type_depth(dtype.inner)
    if isinstance(dtype, T._Shapes):
        return dtype.depth
    return 0


def is_single_value(dtype: T.DataType, value: Any) -> bool:
    """Whether ``value`` is one cell of ``dtype`` (rather than a column of cells)."""
    if value is None or isinstance(value, str | bytes | bytearray | memoryview | dict | os.PathLike):
        return True
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return False
    if hasattr(value, "read") and dtype.is_media:
        return True
    if isinstance(dtype, T._Mask) and isinstance(value, np.ndarray):
        return value.dtype != object and value.ndim in (2, 3)  # one mask (a batch: a list of them)
    if isinstance(dtype, T.Image):  # an H x W (x C) pixel array or a PIL image is one image
        if isinstance(value, np.ndarray):
            return value.dtype != object and value.ndim in (2, 3)
        if T._is_pil(value):
            return True
    if np.isscalar(value):
        return True
    return _depth(value) == _type_depth(dtype)


class Columns(dict):
    """A dict of columns, each a sequence of rows, said so explicitly: ``{"k": [[]]}`` is then one row
    of an empty list, never the single value ``[[]]`` (importers build batches as these)."""


def to_columns(data: Any, schema: Schema) -> tuple[dict[str, Any], int]:
    """Normalise an append payload to ``{column name: sequence of values}`` and its row count."""
    if isinstance(data, Columns):
        _check_names(list(data), schema)
        lengths = {name: len(value) for name, value in data.items()}
        if len(set(lengths.values())) > 1:
            raise SchemaError(f"columns have different lengths: {lengths}")
        return dict(data), next(iter(lengths.values()), 0)
    if isinstance(data, pa.Table | pa.RecordBatch):
        data = {name: data.column(name) for name in data.column_names}
    elif hasattr(data, "to_dict") and hasattr(data, "columns") and hasattr(data, "iloc"):  # pandas DataFrame
        data = frame_columns(data)
    if isinstance(data, Mapping):
        return _from_mapping(dict(data), schema)
    if isinstance(data, list | tuple):
        return _from_rows(list(data), schema)
    raise SchemaError(
        f"cannot append a {type(data).__name__}: pass a row dict, a dict of columns, a list of row dicts,"
        " a pandas DataFrame or an Arrow table"
    )


def frame_columns(frame: Any) -> dict[str, Any]:
    """A DataFrame's columns as numpy arrays (plain numeric/bool dtypes: zero copy, NaN kept) or Arrow
    arrays (nullable ints/bools, categoricals, zoned datetimes, strings...: their nulls and types kept).

    Object columns stay numpy object arrays with pandas' missing markers (None, NaN, NA, NaT) as None.
    """
    out: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        if not isinstance(name, str):
            raise SchemaError(f"column names must be strings, got {name!r}")
        kind = getattr(series.dtype, "kind", "O")
        if isinstance(series.dtype, np.dtype) and kind in "biuf":
            out[name] = series.to_numpy()
        elif isinstance(series.dtype, np.dtype) and kind == "O":
            values = series.to_numpy(dtype=object, copy=True)
            missing = series.isna().to_numpy()
            if missing.any():
                values[missing] = None
            out[name] = values
        else:
            out[name] = pa.Array.from_pandas(series)
    return out


def _check_names(names: list[str], schema: Schema) -> None:
    unknown = [n for n in names if n not in schema]
    if unknown:
        raise SchemaError(f"unknown column(s) {unknown}; the dataset has {schema.names}", column=unknown[0])


def _from_mapping(data: dict[str, Any], schema: Schema) -> tuple[dict[str, Any], int]:
    _check_names(list(data), schema)
    if not data:
        return {}, 0
    single = {name: is_single_value(schema[name].type, value) for name, value in data.items()}
    if all(single.values()):
        return {name: [value] for name, value in data.items()}, 1
    if any(single.values()):
        odd = [n for n, s in single.items() if s]
        raise SchemaError(
            f"column(s) {odd} hold a single value while others hold a list of rows; give every column a list",
            column=odd[0],
        )
    lengths = {name: len(value) for name, value in data.items()}
    if len(set(lengths.values())) > 1:
        raise SchemaError(f"columns have different lengths: {lengths}")
    return data, next(iter(lengths.values()))


def _from_rows(rows: list[Any], schema: Schema) -> tuple[dict[str, Any], int]:
    names: dict[str, None] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise SchemaError(f"row {i} is a {type(row).__name__}, expected a dict of column -> value", row=i)
        for key in row:
            names.setdefault(key, None)
    _check_names(list(names), schema)
    return {name: [row.get(name) for row in rows] for name in names}, len(rows)


def convert_batch(columns: dict[str, Any], rows: int, schema: Schema, blobs: Any) -> dict[str, pa.Array]:
    """Validate every column (phase one), then store media (phase two); column id -> array."""
    converted: dict[str, pa.Array] = {}
    prepared: dict[str, list[Any]] = {}
    for column in schema:
        if column.name not in columns:
            converted[column.id] = pa.nulls(rows, column.type.arrow)
            continue
        values = columns[column.name]
        if column.type.is_media:
            prepared[column.id] = column.type.prepare(values, column.name)  # type: ignore[attr-defined]
        else:
            arr = column.type.convert(values, column.name)
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            converted[column.id] = arr
    for column_id, values in prepared.items():
        dtype = schema.by_id(column_id).type  # type: ignore[union-attr]
        converted[column_id] = dtype.store(values, blobs)  # type: ignore[attr-defined]
    return converted

"""Saving an Arrow table (a query result) as a new dataset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pyarrow as pa

from .._hashing import is_key
from . import types as T

if TYPE_CHECKING:
    from .dataset import Dataset


def _source_type(name: str, arrow: pa.DataType, sources: Mapping[str, Dataset]) -> tuple[T.DataType, Dataset | None]:
    for ds in sources.values():
        if name in ds.schema and ds.schema[name].type.arrow == arrow:
            return ds.schema[name].type, ds
    return T.from_arrow(arrow), None


def _source_label(name: str, column: pa.Array, sources: Mapping[str, Dataset]) -> T.ClassLabel | None:
    """The class-label type of a source column ``name`` whose names ``column`` holds, if any."""
    if not pa.types.is_dictionary(column.type):
        return None
    names = column.dictionary.to_pylist()
    for ds in sources.values():
        dtype = ds.schema[name].type if name in ds.schema else None
        if isinstance(dtype, T.ClassLabel) and list(dtype.labels) == names:
            return dtype
    return None


def save_table(table: pa.Table, target: Dataset, sources: Mapping[str, Dataset]) -> Dataset:
    """Give ``target`` the table's columns and rows, copy referenced media, and commit."""
    arrays = {}
    for name in table.column_names:
        if name == "_rowid":
            continue
        column = table.column(name).combine_chunks()
        label = _source_label(name, column, sources)
        if label is not None:  # label names (a query result's view of them): stored as the codes
            column = column.indices.cast(label.arrow)
        dtype, origin = _source_type(name, column.type, sources)
        target.add_column(name, dtype)
        if dtype.is_media and origin is not None:
            for ref in set(column.to_pylist()) - {None}:
                if is_key(ref) and ref not in target.blobs:
                    target.blobs.write(origin.blobs.read_bytes(ref))
        arrays[name] = column
    if table.num_rows:
        target.checked_out.append_arrow(arrays, table.num_rows)
    target.commit("saved from a query")
    return target

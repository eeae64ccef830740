"""Row and column access: ``ds[i]``, ``ds[a:b]``, ``ds[[i, j]]``, ``ds["col"][...]``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import InvalidArgument

if TYPE_CHECKING:
    from .dataset import Dataset


def normalize_index(index: Any, length: int) -> int | np.ndarray:
    """An int row (negative counts from the end) or an int64 array of rows; IndexError when out of range."""
    if isinstance(index, bool):
        raise InvalidArgument("a bool is not a row index")
    if isinstance(index, int | np.integer):
        i = int(index)
        if i < 0:
            i += length
        if not 0 <= i < length:
            raise IndexError(f"row {index} out of range for {length} rows")
        return i
    if isinstance(index, slice):
        return np.arange(*index.indices(length), dtype=np.int64)
    if isinstance(index, range):
        return normalize_index(list(index), length)
    if isinstance(index, list | tuple | np.ndarray | pa.Array):
        arr = np.asarray(index.to_pylist() if isinstance(index, pa.Array) else index)
        if arr.dtype == bool:
            if len(arr) != length:
                raise IndexError(f"boolean mask has {len(arr)} entries for {length} rows")
            return np.flatnonzero(arr).astype(np.int64)
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        if arr.dtype.kind not in "iu":
            raise InvalidArgument(f"row indices must be integers, got dtype {arr.dtype}")
        arr = arr.astype(np.int64).reshape(-1)
        arr = np.where(arr < 0, arr + length, arr)
        if arr.min() < 0 or arr.max() >= length:
            raise IndexError(f"row index out of range for {length} rows")
        return arr
    raise InvalidArgument(f"cannot index rows with {type(index).__name__}")


class ColumnView:
    """``ds["col"]``: read with ``[...]`` (numpy for numbers/tensors, lists otherwise), write with ``[...] =``."""

    def __init__(self, dataset: Dataset, name: str, rows: np.ndarray | None = None) -> None:
        self._ds = dataset
        self.name = name
        self._rows = rows  # None: every row of the dataset

    @property
    def type(self) -> Any:
        return self._ds.schema[self.name].type

    def __len__(self) -> int:
        return len(self._ds) if self._rows is None else len(self._rows)

    def _global(self, index: Any) -> int | np.ndarray:
        local = normalize_index(index, len(self))
        if self._rows is None:
            return local
        return int(self._rows[local]) if isinstance(local, int) else self._rows[local]

    def __getitem__(self, index: Any) -> Any:
        if self._rows is None and isinstance(index, slice) and index.step in (None, 1):
            start, stop, _ = index.indices(len(self))
            return self._ds.checked_out.read_range(self.name, start, stop)  # no index array for plain ranges
        rows = self._global(index)
        if isinstance(rows, int):
            return self._ds.checked_out.read_one(self.name, rows)
        return self._ds.checked_out.read_many(self.name, rows)

    def __setitem__(self, index: Any, value: Any) -> None:
        rows = self._global(index)
        if isinstance(rows, int):
            self._ds.checked_out.write_values(self.name, np.array([rows]), [value])
        else:
            self._ds.checked_out.write_values(self.name, rows, value)

    def numpy(self) -> Any:
        return self[:]

    def create_index(self, kind: str = "embedding", *, metric: str = "cosine", progress: bool | None = None) -> Any:
        """Deep Lake's call shape for :meth:`Dataset.create_index` of this column."""
        return self._ds.create_index(self.name, kind, metric=metric, progress=progress)

    def drop_index(self, kind: str | None = None) -> int:
        return self._ds.drop_index(self.name, kind)

    @property
    def indexes(self) -> list[Any]:
        """This column's stored search indexes."""
        from .indexes import list_indexes

        return list_indexes(self._ds, self.name)

    def to_arrow(self) -> pa.ChunkedArray | pa.Array:
        if self._rows is None:
            return self._ds.to_arrow([self.name]).column(0)
        return self._ds.checked_out.take_arrow(self.name, self._rows)

    def __iter__(self) -> Iterator[Any]:
        values = self[:]
        return iter(values)

    def __repr__(self) -> str:
        return f"ColumnView({self.name!r}, {self.type!r}, rows={len(self)})"


class Row:
    """``ds[i]``: one row; ``row["col"]`` reads, ``row["col"] = v`` writes."""

    def __init__(self, dataset: Dataset, index: int) -> None:
        self._ds = dataset
        self.row_id = index

    def __getitem__(self, name: str) -> Any:
        return self._ds.checked_out.read_one(name, self.row_id)

    def __setitem__(self, name: str, value: Any) -> None:
        self._ds.checked_out.write_values(name, np.array([self.row_id]), [value])

    def keys(self) -> list[str]:
        return self._ds.schema.names

    def to_dict(self) -> dict[str, Any]:
        return {name: self[name] for name in self.keys()}

    def __repr__(self) -> str:
        return f"Row({self.row_id}, {self.to_dict()!r:.200})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Row):
            other = other.to_dict()
        return isinstance(other, dict) and _equal(self.to_dict(), other)


def _equal(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(
        np.array_equal(np.asarray(a[k]), np.asarray(b[k])) if isinstance(a[k], np.ndarray) else a[k] == b[k] for k in a
    )


class RowView:
    """``ds[a:b]`` or ``ds[[i, j, ...]]``: a lazy selection of rows (gathered on read)."""

    def __init__(self, dataset: Dataset, rows: np.ndarray) -> None:
        self._ds = dataset
        self.indices = rows

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            return ColumnView(self._ds, index, self.indices)[:]
        local = normalize_index(index, len(self))
        if isinstance(local, int):
            return Row(self._ds, int(self.indices[local]))
        return RowView(self._ds, self.indices[local])

    def __iter__(self) -> Iterator[Row]:
        return (Row(self._ds, int(i)) for i in self.indices)

    def to_arrow(self, columns: list[str] | None = None) -> pa.Table:
        names = columns or self._ds.schema.names
        return pa.table({n: self._ds.checked_out.take_arrow(n, self.indices) for n in names})

    def to_pandas(self, columns: list[str] | None = None) -> Any:
        return self.to_arrow(columns).to_pandas()

    def to_dicts(self) -> list[dict[str, Any]]:
        columns = {n: self[n] for n in self._ds.schema.names}
        return [{n: columns[n][i] for n in columns} for i in range(len(self))]

    def __repr__(self) -> str:
        return f"RowView({len(self)} rows of {self._ds.path})"

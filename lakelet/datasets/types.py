"""Column types of lakelet datasets (``lakelet.types``), each mapped to one Arrow type.

A type validates and converts incoming values (lists, numpy arrays, Arrow
arrays) into its Arrow array, and decodes stored arrays back into numpy arrays
or Python lists. Media types (Image, Video, Audio, Binary) store their bytes
content-addressed in the dataset's blob store; the column holds the sha256 key,
or the URL for values given as a remote link.

>>> from lakelet import types
>>> types.Embedding(4).arrow
FixedSizeListType(fixed_size_list<item: float>[4])
"""

from __future__ import annotations

import io
import json
import os
import re
import zlib
from collections.abc import Sequence as SequenceOf
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from .._hashing import is_key
from . import _arrow
from .errors import SchemaError


def _pc() -> Any:
    """``pyarrow.compute``, imported on first use: it costs ~25 ms, which opening a dataset does not need."""
    import pyarrow.compute

    return pyarrow.compute


_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class BlobStore(Protocol):
    """What media types need from the dataset: content-addressed put and get."""

    def write(self, value: Any) -> str: ...

    def read_bytes(self, key: str) -> bytes: ...


class DataType:
    """Base of every column type."""

    #: stored content-addressed (columns hold references)
    is_media: bool = False

    @property
    def arrow(self) -> pa.DataType:
        """The Arrow type of the stored column."""
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataType) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_json(), sort_keys=True))

    def __repr__(self) -> str:
        args = {k: v for k, v in self.to_json().items() if k != "type"}
        inner = ", ".join(f"{k}={v!r}" for k, v in args.items())
        return f"{type(self).__name__}({inner})"

    # ------------------------------------------------------------------ conversion
    def convert(self, values: Any, column: str) -> pa.Array:
        """Validate ``values`` and return them as an Arrow array of :attr:`arrow` type."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if isinstance(values, pa.Array):
            return self._cast(values, column)
        if isinstance(values, np.ndarray):
            return self._from_numpy(values, column)
        return self._from_list(list(values), column)

    def _cast(self, values: pa.Array, column: str) -> pa.Array:
        if values.type == self.arrow:
            return values
        try:
            return values.cast(self.arrow, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
            row = _first_failing(values, self.arrow)
            if row is not None:
                raise self._error(column, row, f"{values[row].as_py()!r:.80} does not fit: {e}") from e
            raise self._error(column, None, str(e)) from e

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        if values.ndim != 1:
            raise self._error(column, None, f"expected a 1-D array, got shape {values.shape}")
        return self._cast(_numpy_to_arrow(values, column, self), column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        try:
            return pa.array(values, type=self.arrow, from_pandas=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            self._raise_first_bad(values, column, e)
            raise

    def _raise_first_bad(self, values: list[Any], column: str, cause: Exception) -> None:
        for row, value in enumerate(values):
            try:
                pa.array([value], type=self.arrow, from_pandas=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
                raise self._error(column, row, f"{value!r:.80} does not fit: {e}") from e
        raise self._error(column, None, str(cause)) from cause

    def _error(self, column: str, row: int | None, why: str) -> SchemaError:
        where = f"row {row} of column {column!r}" if row is not None else f"column {column!r}"
        return SchemaError(f"{where} ({self!r}): {why}", column=column, type=repr(self), row=row)

    # ------------------------------------------------------------------ decoding
    def present(self, values: pa.Array) -> pa.Array:
        """Stored values as users see them in ``to_arrow``/``to_pandas`` (class labels as names)."""
        return values

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        """Stored values as a numpy array (numbers, tensors) or a list (everything else)."""
        return values.to_pylist()

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        """The single value of a length-1 array."""
        decoded = self.decode(values, blobs)
        return decoded[0]


def _first_failing(values: pa.Array, target: pa.DataType) -> int | None:
    """The first row whose safe cast to ``target`` fails (a cast is element-wise: bisect on prefixes)."""

    def fails(n: int) -> bool:
        try:
            values.slice(0, n).cast(target, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return True
        return False

    if not fails(len(values)) or fails(0):
        return None
    lo, hi = 0, len(values)  # fails(lo) is False, fails(hi) is True
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if fails(mid) else (mid, hi)
    return hi - 1


def _np_dtype(scalar: DataType) -> np.dtype:
    """The numpy dtype of a scalar type, without ``pa.DataType.to_pandas_dtype`` (which imports pandas)."""
    return np.dtype(type(scalar).__name__.lower())


def _numpy_to_arrow(values: np.ndarray, column: str, dtype: DataType) -> pa.Array:
    if values.dtype.kind == "O" or values.dtype.kind == "U":
        return pa.array(values.tolist())
    try:
        return _arrow.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise dtype._error(column, None, str(e)) from e


# ---------------------------------------------------------------------------- scalars
class _Scalar(DataType):
    _arrow: pa.DataType
    _kinds: str = "biuf"

    @property
    def arrow(self) -> pa.DataType:
        return self._arrow

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        if values.ndim != 1:
            raise self._error(column, None, f"expected a 1-D array, got shape {values.shape}")
        if values.dtype.kind not in self._kinds:
            return self._from_list(values.tolist(), column)
        if values.dtype.kind == "f" and pa.types.is_integer(self._arrow):
            bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)))
            if bad.size:
                raise self._error(column, int(bad[0]), f"{values[bad[0]]!r} is not an integer")
        return self._cast(_arrow.array(values), column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        if pa.types.is_integer(self._arrow) or pa.types.is_boolean(self._arrow):
            # pa.array([1.5], pa.int64()) silently stores 1: refuse fractions (and NaN) first
            for row, value in enumerate(values):
                if isinstance(value, float | np.floating) and not (
                    pa.types.is_integer(self._arrow) and np.isfinite(value) and float(value).is_integer()
                ):
                    what = "an integer" if pa.types.is_integer(self._arrow) else "a bool"
                    raise self._error(column, row, f"{value!r} is not {what}; refusing a lossy conversion")
        return super()._from_list(values, column)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return _arrow.to_numpy(values)

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values[0].as_py()


def _scalar(name: str, arrow: pa.DataType, kinds: str, doc: str) -> type[_Scalar]:
    return type(name, (_Scalar,), {"_arrow": arrow, "_kinds": kinds, "__doc__": doc, "__module__": __name__})


Bool = _scalar("Bool", pa.bool_(), "b", "True/False.")
Int8 = _scalar("Int8", pa.int8(), "biu", "Signed 8-bit integer.")
Int16 = _scalar("Int16", pa.int16(), "biu", "Signed 16-bit integer.")
Int32 = _scalar("Int32", pa.int32(), "biu", "Signed 32-bit integer.")
Int64 = _scalar("Int64", pa.int64(), "biu", "Signed 64-bit integer.")
UInt8 = _scalar("UInt8", pa.uint8(), "biu", "Unsigned 8-bit integer.")
UInt16 = _scalar("UInt16", pa.uint16(), "biu", "Unsigned 16-bit integer.")
UInt32 = _scalar("UInt32", pa.uint32(), "biu", "Unsigned 32-bit integer.")
UInt64 = _scalar("UInt64", pa.uint64(), "biu", "Unsigned 64-bit integer.")
Float16 = _scalar("Float16", pa.float16(), "biuf", "Half-precision float.")
Float32 = _scalar("Float32", pa.float32(), "biuf", "Single-precision float.")
Float64 = _scalar("Float64", pa.float64(), "biuf", "Double-precision float.")

_SCALARS: dict[str, type[_Scalar]] = {
    cls.__name__.lower(): cls
    for cls in (Bool, Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float16, Float32, Float64)
}
_DTYPE_ALIASES = {"float": "float32", "double": "float64", "int": "int64", "bool_": "bool", "half": "float16"}


def _scalar_type(dtype: str | DataType | type | np.dtype) -> _Scalar:
    if isinstance(dtype, _Scalar):
        return dtype
    if isinstance(dtype, type) and issubclass(dtype, _Scalar):
        return dtype()
    try:
        name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype.lower()
    except TypeError:
        name = repr(dtype)
    name = _DTYPE_ALIASES.get(name, name)
    if name not in _SCALARS:
        raise SchemaError(f"unknown numeric dtype {dtype!r}; expected one of {sorted(_SCALARS)}", type=str(dtype))
    return _SCALARS[name]()


class Text(DataType):
    """UTF-8 text."""

    @property
    def arrow(self) -> pa.DataType:
        return pa.string()

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        return self._from_list(values.tolist(), column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        fast = _arrow.strings(values)
        return fast if fast is not None else super()._from_list(values, column)


class Link(Text):
    """A URL to data kept elsewhere; stored as text, returned as the URL."""


class Dict(DataType):
    """A schemaless JSON object per row (stored as JSON text)."""

    @property
    def arrow(self) -> pa.DataType:
        return pa.string()

    def convert(self, values: Any, column: str) -> pa.Array:
        if isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.to_pylist()
        out = []
        for row, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            if not isinstance(value, dict):
                raise self._error(column, row, f"expected a dict, got {type(value).__name__}")
            try:
                out.append(json.dumps(value, sort_keys=True, allow_nan=True))
            except (TypeError, ValueError) as e:
                raise self._error(column, row, f"not JSON-serialisable: {e}") from e
        return pa.array(out, type=pa.string())

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return [None if v is None else json.loads(v) for v in values.to_pylist()]


# ---------------------------------------------------------------------------- time and decimals
_UNITS = ("s", "ms", "us", "ns")


class _Arrowish(DataType):
    """A type that is exactly one parametrised Arrow type; every conversion is Arrow's *safe* cast,
    so a value that would lose precision (nanoseconds into ``unit="us"``, a third decimal into
    ``scale=2``) is refused rather than rounded."""

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        if values.ndim != 1:
            raise self._error(column, None, f"expected a 1-D array, got shape {values.shape}")
        if values.dtype.kind in "OU":
            return self._from_list(values.tolist(), column)
        return self._cast(_numpy_to_arrow(values, column, self), column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        if any(isinstance(v, str) for v in values):  # ISO text: parsed by Arrow's checked cast
            if all(v is None or isinstance(v, str) for v in values):
                return self._cast(pa.array(values, type=pa.string()), column)
            values = [self._parse_one(v, column, row) if isinstance(v, str) else v for row, v in enumerate(values)]
        try:
            return pa.array(values, type=self.arrow, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
            self._raise_first_bad(values, column, e)
            raise

    def convert(self, values: Any, column: str) -> pa.Array:
        return _zero_under_nulls(super().convert(values, column))

    def _parse_one(self, value: str, column: str, row: int) -> Any:
        try:
            return pa.array([value], type=pa.string()).cast(self.arrow, safe=True)[0].as_py()
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise self._error(column, row, f"{value!r:.80} does not fit: {e}") from e

    def _raise_first_bad(self, values: list[Any], column: str, cause: Exception) -> None:
        for row, value in enumerate(values):
            try:
                if isinstance(value, str):
                    pa.array([value], type=pa.string()).cast(self.arrow, safe=True)
                else:
                    pa.array([value], type=self.arrow, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as e:
                raise self._error(column, row, f"{value!r:.80} does not fit: {e}") from e
        raise self._error(column, None, str(cause)) from cause

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values.to_numpy(zero_copy_only=False)

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values[0].as_py()


def _zero_under_nulls(values: pa.Array) -> pa.Array:
    """The same array with zeros in the slots under nulls. pandas leaves NaT (int64 min) there, and
    DuckDB converts those slots too (``Could not convert Interval``), although they are null."""
    if not values.null_count or values.type.bit_width not in (32, 64):
        return values
    storage = values.view(pa.int64() if values.type.bit_width == 64 else pa.int32())
    filled = _pc().fill_null(storage, 0)
    valid = _pc().is_valid(values)  # a fresh bitmap at offset 0, like ``filled``
    return pa.Array.from_buffers(values.type, len(values), [valid.buffers()[1], filled.buffers()[1]],
                                 values.null_count)


class Timestamp(_Arrowish):
    """A point in time: ``unit`` ("s", "ms", "us", "ns") and an optional time zone ``tz`` ("UTC",
    "Europe/Paris"). Accepts datetimes, numpy ``datetime64``, pandas timestamps, ISO strings; reads
    back as ``datetime64[unit]`` (UTC for zoned columns) and as zoned pandas/Arrow/DuckDB values."""

    def __init__(self, unit: str = "us", tz: str | None = None) -> None:
        if unit not in _UNITS:
            raise SchemaError(f"Timestamp unit must be one of {_UNITS}, got {unit!r}", type="Timestamp")
        if tz is not None and not isinstance(tz, str):
            raise SchemaError(f"Timestamp tz must be a time zone name or None, got {tz!r}", type="Timestamp")
        self.unit, self.tz = unit, tz

    @property
    def arrow(self) -> pa.DataType:
        return pa.timestamp(self.unit, self.tz)

    def to_json(self) -> dict[str, Any]:
        return {"type": "Timestamp", "unit": self.unit, "tz": self.tz}

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        if self.tz is not None:  # a naive datetime in a zoned column would be silently read as UTC
            for row, value in enumerate(values):
                if getattr(value, "tzinfo", False) is None:
                    raise self._error(column, row, f"{value!r} has no time zone; this column is in {self.tz}")
        return super()._from_list(values, column)


class Date(_Arrowish):
    """A calendar date (``datetime.date``, ``datetime64[D]``, "2024-05-01"); reads back as ``datetime64[D]``."""

    @property
    def arrow(self) -> pa.DataType:
        return pa.date32()


class Duration(_Arrowish):
    """A length of time (``timedelta``, ``timedelta64``) in ``unit``; reads back as ``timedelta64[unit]``."""

    def __init__(self, unit: str = "us") -> None:
        if unit not in _UNITS:
            raise SchemaError(f"Duration unit must be one of {_UNITS}, got {unit!r}", type="Duration")
        self.unit = unit

    @property
    def arrow(self) -> pa.DataType:
        return pa.duration(self.unit)

    def to_json(self) -> dict[str, Any]:
        return {"type": "Duration", "unit": self.unit}


class Decimal(_Arrowish):
    """An exact decimal number with ``precision`` digits, ``scale`` of them after the point
    (``decimal.Decimal`` values; reads back as them)."""

    def __init__(self, precision: int = 38, scale: int = 9) -> None:
        if not (isinstance(precision, int) and 1 <= precision <= 76 and isinstance(scale, int)
                and 0 <= scale <= precision):
            raise SchemaError(f"Decimal needs 1 <= precision <= 76 and 0 <= scale <= precision, "
                              f"got ({precision!r}, {scale!r})", type="Decimal")
        self.precision, self.scale = precision, scale

    @property
    def arrow(self) -> pa.DataType:
        if self.precision <= 38:
            return pa.decimal128(self.precision, self.scale)
        return pa.decimal256(self.precision, self.scale)

    def to_json(self) -> dict[str, Any]:
        return {"type": "Decimal", "precision": self.precision, "scale": self.scale}

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        if values.dtype.kind == "f":
            raise self._error(column, None, "float values: give decimal.Decimal or str values (floats are inexact)")
        return super()._from_numpy(values, column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        for row, value in enumerate(values):
            if isinstance(value, float | np.floating):  # a binary float is not the decimal it prints as
                raise self._error(column, row, f"{value!r} is a float; give decimal.Decimal or str values")
        return super()._from_list(values, column)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values.to_pylist()


# ---------------------------------------------------------------------------- tensors
class Embedding(DataType):
    """A fixed-size vector (default float32); decoded as a 2-D numpy array."""

    def __init__(self, size: int, dtype: str = "float32") -> None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise SchemaError(f"Embedding size must be a positive int, got {size!r}", type="Embedding")
        self.size = size
        self.dtype = _scalar_type(dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.size,)

    @property
    def arrow(self) -> pa.DataType:
        return pa.list_(self.dtype.arrow, self.size)

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "size": self.size, "dtype": type(self.dtype).__name__.lower()}

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        shape = self.shape
        if values.dtype.kind == "O":
            return self._from_list(list(values), column)
        if values.ndim != 1 + len(shape) or tuple(values.shape[1:]) != shape:
            raise self._error(column, None, f"expected shape (n, {', '.join(map(str, shape))}), got {values.shape}")
        np_dtype = _np_dtype(self.dtype)
        if values.dtype.kind not in "biuf":
            raise self._error(column, None, f"expected numbers, got dtype {values.dtype}")
        flat = np.ascontiguousarray(values, dtype=np_dtype).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(_arrow.array(flat), int(np.prod(shape)))

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        width = int(np.prod(self.shape))
        np_dtype = _np_dtype(self.dtype)
        flat = np.empty((len(values), width), dtype=np_dtype)
        mask = np.zeros(len(values), dtype=bool)
        for row, value in enumerate(values):
            if value is None:
                mask[row] = True
                flat[row] = 0
                continue
            try:
                arr = np.asarray(value, dtype=np_dtype)
            except (TypeError, ValueError) as e:
                raise self._error(column, row, f"{value!r:.60} is not numeric: {e}") from e
            if arr.shape != self.shape:  # [[1], [2], [3]] is not a vector of 3: refuse, never reshape
                raise self._error(column, row, f"{value!r:.60} has shape {arr.shape}, expected {self.shape}")
            flat[row] = arr.reshape(-1)
        arr = pa.FixedSizeListArray.from_arrays(_arrow.array(flat.reshape(-1)), width)
        if mask.any():
            arr = pa.FixedSizeListArray.from_arrays(arr.values, width, mask=_arrow.array(mask))
        return arr

    def _cast(self, values: pa.Array, column: str) -> pa.Array:
        if values.type == self.arrow:
            return values
        listy = pa.types.is_list(values.type) or pa.types.is_large_list(values.type)
        if listy or pa.types.is_fixed_size_list(values.type):
            if len(self.shape) == 1 and pa.types.is_integer(values.type.value_type) | pa.types.is_floating(
                values.type.value_type
            ):
                try:  # flat numeric lists of the right length: one vectorised, checked cast
                    return values.cast(self.arrow, safe=True)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass  # a wrong length somewhere: the row-wise path names it
            return self._from_list(values.to_pylist(), column)
        raise self._error(column, None, f"cannot store Arrow {values.type} here")

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        n = len(values)
        width = int(np.prod(self.shape))
        if values.null_count:  # a missing vector reads as all-NaN (all-zero for integer tensors)
            fill = float("nan") if pa.types.is_floating(self.dtype.arrow) else 0
            values = values.fill_null(pa.scalar([fill] * width, self.arrow))
        if not n:
            return np.empty((0, *self.shape), dtype=_np_dtype(self.dtype))
        child = values.values  # the child array before the list offset (``flatten()`` imports pyarrow.compute)
        return _arrow.to_numpy(child.slice(values.offset * width, n * width)).reshape((n, *self.shape))

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return self.decode(values, blobs)[0]


class Array(Embedding):
    """An n-dimensional tensor: fixed ``shape`` (a 2-D+ numpy column) or ``dimensions`` of ragged lists."""

    def __init__(
        self, dtype: str | DataType = "float32", shape: SequenceOf[int] | None = None, dimensions: int | None = None
    ) -> None:
        self.dtype = _scalar_type(dtype)
        if shape is not None:
            shape = tuple(int(s) for s in shape)
            if not shape or any(s < 1 for s in shape):
                raise SchemaError(f"Array shape must be positive ints, got {shape!r}", type="Array")
        self.fixed_shape = shape
        self.dimensions = len(shape) if shape is not None else (dimensions or 1)
        self.size = int(np.prod(shape)) if shape is not None else 0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.fixed_shape or ()

    @property
    def arrow(self) -> pa.DataType:
        if self.fixed_shape is not None:
            return pa.list_(self.dtype.arrow, self.size)
        inner: pa.DataType = self.dtype.arrow
        for _ in range(self.dimensions):
            inner = pa.list_(inner)
        return inner

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "Array", "dtype": type(self.dtype).__name__.lower()}
        if self.fixed_shape is not None:
            out["shape"] = list(self.fixed_shape)
        else:
            out["dimensions"] = self.dimensions
        return out

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        if self.fixed_shape is not None:
            return super()._from_numpy(values, column)
        return self._from_list(list(values), column)

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        if self.fixed_shape is not None:
            return super()._from_list(values, column)
        out = []
        for row, value in enumerate(values):
            if value is None:
                out.append(None)
                continue
            arr = np.asarray(value)
            if arr.ndim != self.dimensions or arr.dtype.kind not in "biuf":
                raise self._error(column, row, f"expected a {self.dimensions}-D numeric array, got {arr.shape}")
            out.append(arr.tolist())
        return DataType._from_list(self, out, column)

    def _cast(self, values: pa.Array, column: str) -> pa.Array:
        if self.fixed_shape is not None:
            return super()._cast(values, column)
        return DataType._cast(self, values, column)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        if self.fixed_shape is not None:
            return super().decode(values, blobs)
        np_dtype = _np_dtype(self.dtype)
        return [None if v is None else np.asarray(v, dtype=np_dtype) for v in values.to_pylist()]

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return self.decode(values, blobs)[0]


# ---------------------------------------------------------------------------- nested
class Struct(DataType):
    """A record of typed fields (non-media); decoded as dicts."""

    def __init__(self, fields: dict[str, DataType | type[DataType]]) -> None:
        if not isinstance(fields, dict) or not fields:
            raise SchemaError("Struct needs a non-empty dict of field name -> type", type="Struct")
        self.fields = {name: as_type(t) for name, t in fields.items()}
        for name, t in self.fields.items():
            if t.is_media:
                raise SchemaError(f"Struct field {name!r} cannot be a media type ({t!r})", type="Struct")

    @property
    def arrow(self) -> pa.DataType:
        return pa.struct([pa.field(name, t.arrow) for name, t in self.fields.items()])

    def to_json(self) -> dict[str, Any]:
        return {"type": "Struct", "fields": {name: t.to_json() for name, t in self.fields.items()}}


class Sequence(DataType):
    """A variable-length list of values of one (non-media) type."""

    def __init__(self, inner: DataType | type[DataType]) -> None:
        self.inner = as_type(inner)
        if self.inner.is_media:
            raise SchemaError(f"Sequence cannot hold a media type ({self.inner!r})", type="Sequence")

    @property
    def arrow(self) -> pa.DataType:
        return pa.list_(self.inner.arrow)

    def to_json(self) -> dict[str, Any]:
        return {"type": "Sequence", "inner": self.inner.to_json()}

    def __repr__(self) -> str:
        return f"Sequence({self.inner!r})"


class ClassLabel(DataType):
    """An integer class id; strings from ``labels`` are accepted and stored as their index.

    ``ClassLabel(["cat", "dog"])`` is ``ClassLabel("int32", labels=["cat", "dog"])``: the names
    first is how Hugging Face and pandas users write it."""

    def __init__(self, dtype: str | SequenceOf[str] = "int32", labels: SequenceOf[str] | None = None) -> None:
        if isinstance(dtype, list | tuple) and labels is None and all(isinstance(x, str) for x in dtype):
            dtype, labels = "int32", dtype
        self.dtype = _scalar_type(dtype)  # type: ignore[arg-type]  # a list of names was taken above
        if not pa.types.is_integer(self.dtype.arrow):
            raise SchemaError(f"ClassLabel dtype must be an integer type, got {dtype!r}", type="ClassLabel")
        self.labels = list(labels) if labels is not None else []

    @property
    def arrow(self) -> pa.DataType:
        return self.dtype.arrow

    def to_json(self) -> dict[str, Any]:
        return {"type": "ClassLabel", "dtype": type(self.dtype).__name__.lower(), "labels": self.labels}

    def convert(self, values: Any, column: str) -> pa.Array:
        """Codes from label names (lists, numpy/Arrow string arrays, pandas categoricals, Arrow
        dictionaries) or from integer codes; an unknown name or an out-of-range code is refused."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if isinstance(values, np.ndarray) and values.dtype.kind in "OUS":
            values = values.tolist()
        if isinstance(values, list | tuple) and any(isinstance(v, str) for v in values):
            try:
                values = pa.array(values, type=pa.string())
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return self._from_names(list(values), column)
        if isinstance(values, pa.Array) and pa.types.is_dictionary(values.type):
            values = values.dictionary_decode() if not pa.types.is_integer(values.type.value_type) else (
                values.cast(values.type.value_type))
        if isinstance(values, pa.Array) and (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return self._codes_of(values, column)
        try:
            codes = self.dtype.convert(values, column)
        except SchemaError as e:
            raise self._error(column, e.row, str(e)) from e
        self._check_range(codes, column)
        return codes

    def _codes_of(self, names: pa.Array, column: str) -> pa.Array:
        codes = _pc().index_in(names, value_set=pa.array(self.labels, type=pa.string()))
        unknown = _pc().and_(_pc().is_null(codes), _pc().is_valid(names))
        if _pc().any(unknown).as_py():
            row = int(_pc().index(unknown, True).as_py())
            raise self._error(column, row, f"unknown label {names[row].as_py()!r}; known: {self.labels}")
        return codes.cast(self.arrow)

    def _from_names(self, values: list[Any], column: str) -> pa.Array:
        index = {label: i for i, label in enumerate(self.labels)}
        codes = []
        for row, value in enumerate(values):
            if isinstance(value, str):
                if value not in index:
                    raise self._error(column, row, f"unknown label {value!r}; known: {self.labels}")
                value = index[value]
            codes.append(value)
        return self.convert(codes, column)

    def _check_range(self, codes: pa.Array, column: str) -> None:
        if not self.labels or not len(codes) or codes.null_count == len(codes):
            return
        bad = _pc().or_(_pc().less(codes, 0), _pc().greater_equal(codes, len(self.labels)))
        if _pc().any(bad).as_py():
            row = int(_pc().index(bad, True).as_py())
            top = len(self.labels) - 1
            raise self._error(column, row, f"code {codes[row].as_py()} is not a label index (0..{top})")

    def present(self, values: pa.Array) -> pa.Array:
        """The codes as an Arrow dictionary array of the label names (pandas: a Categorical)."""
        if not self.labels:
            return values
        if isinstance(values, pa.ChunkedArray):
            return pa.chunked_array([self.present(c) for c in values.chunks],
                                    type=pa.dictionary(self.arrow, pa.string()))
        return pa.DictionaryArray.from_arrays(values, pa.array(self.labels, type=pa.string()))

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values.to_numpy(zero_copy_only=False)

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values[0].as_py()


# ---------------------------------------------------------------------------- media
class _Media(DataType):
    """Bytes kept content-addressed in the dataset's blob store; the column holds the key."""

    is_media = True

    @property
    def arrow(self) -> pa.DataType:
        return pa.string()

    def prepare(self, values: Any, column: str) -> list[Any]:
        """Check every value without storing anything (phase one of an append)."""
        if isinstance(values, pa.Array | pa.ChunkedArray):
            values = values.to_pylist()
        out = []
        for row, value in enumerate(values):
            out.append(self._check(value, column, row))
        return out

    def _check(self, value: Any, column: str, row: int) -> Any:
        if value is None or isinstance(value, bytes | bytearray | memoryview):
            return value
        if isinstance(value, os.PathLike):
            value = os.fspath(value)
        if isinstance(value, str):
            if _URL_RE.match(value) and not value.startswith("file://"):
                return ("link", value)  # a reference to data elsewhere: kept as the URL
            path = Path(value[7:] if value.startswith("file://") else value)
            if not path.is_file():
                raise self._error(column, row, f"no such file {value!r}")
            return path
        if isinstance(value, io.IOBase) or hasattr(value, "read"):
            return value
        raise self._error(
            column, row, f"expected bytes, a file path, a URL or a binary file, got {type(value).__name__}"
        )

    def store(self, prepared: list[Any], blobs: BlobStore) -> pa.Array:
        """Write prepared values to the blob store (phase two) and return the reference column."""
        refs: list[str | None] = []
        for value in prepared:
            if value is None:
                refs.append(None)
            elif isinstance(value, tuple):
                refs.append(value[1])
            else:
                refs.append(blobs.write(value))
        return pa.array(refs, type=pa.string())

    def convert(self, values: Any, column: str) -> pa.Array:
        raise SchemaError(f"column {column!r}: media values need the dataset's blob store", column=column)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        refs = values.to_pylist()
        if blobs is None:
            return refs
        return [r if r is None or not is_key(r) else blobs.read_bytes(r) for r in refs]


class Binary(_Media):
    """Arbitrary bytes, stored content-addressed and deduplicated."""


class Image(_Media):
    """An image: encoded bytes (PNG, JPEG...), a file path or URL, a numpy array (H x W, H x W x 1/3/4)
    or a PIL image. Arrays and PIL images are encoded with ``sample_compression`` ("png" by default;
    "jpeg", "webp", "tiff", "bmp"); encoded bytes and files are stored as given. Read back as bytes."""

    def __init__(self, dtype: str = "uint8", sample_compression: str | None = None) -> None:
        if sample_compression is not None and sample_compression.lower() not in _IMAGE_FORMATS:
            raise SchemaError(
                f"unknown image compression {sample_compression!r}; expected one of {sorted(_IMAGE_FORMATS)}",
                type="Image",
            )
        self.dtype = dtype
        self.sample_compression = sample_compression

    def to_json(self) -> dict[str, Any]:
        return {"type": "Image", "dtype": self.dtype, "sample_compression": self.sample_compression}

    def _check(self, value: Any, column: str, row: int) -> Any:
        if isinstance(value, np.ndarray) or _is_pil(value):
            try:
                return encode_image(value, self.sample_compression or "png")
            except (ValueError, TypeError, OSError) as e:
                raise self._error(column, row, f"cannot encode this image: {e}") from e
        return super()._check(value, column, row)


_IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP", "tiff": "TIFF", "tif": "TIFF",
                  "bmp": "BMP"}


def _is_pil(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "mode")


def encode_image(value: Any, compression: str) -> bytes:
    """Encode a numpy array or a PIL image with Pillow (imported only here)."""
    try:
        from PIL import Image as PILImage
    except ImportError as e:
        from ..errors import MissingDependency

        raise MissingDependency('images from arrays need Pillow: pip install "lakelet[images]"') from e
    if isinstance(value, np.ndarray):
        if value.ndim == 3 and value.shape[2] == 1:
            value = value[:, :, 0]
        if value.dtype == np.bool_:
            value = value.astype(np.uint8) * 255
        if value.ndim not in (2, 3) or (value.ndim == 3 and value.shape[2] not in (3, 4)):
            raise ValueError(f"expected H x W, H x W x 1, x 3 or x 4, got shape {value.shape}")
        if value.dtype != np.uint8 and not (value.ndim == 2 and value.dtype == np.uint16):
            raise ValueError(f"expected uint8 pixels (or uint16 grayscale), got {value.dtype}; convert first")
        value = PILImage.fromarray(np.ascontiguousarray(value))
    out = io.BytesIO()
    value.save(out, format=_IMAGE_FORMATS[compression.lower()])
    return out.getvalue()


class Video(_Media):
    """An encoded video file; read back as bytes."""


class Audio(_Media):
    """An encoded audio file; read back as bytes."""


# ---------------------------------------------------------------------------- annotations (Deep Lake's)
class _Shapes(DataType):
    """Per row, a list of fixed-width float vectors (boxes, points), or of lists of them (polygons)."""

    width: int
    nesting: int = 1  # lists around the fixed-width vectors, per row

    def __init__(self, dtype: str = "float32") -> None:
        self.dtype = _scalar_type(dtype)

    @property
    def arrow(self) -> pa.DataType:
        inner: pa.DataType = pa.list_(self.dtype.arrow, self.width)
        for _ in range(self.nesting):
            inner = pa.list_(inner)
        return inner

    @property
    def depth(self) -> int:
        """Nesting of one row's value as lists (for telling one row from a column of rows)."""
        return self.nesting + 1

    def to_json(self) -> dict[str, Any]:
        return {"type": type(self).__name__, "dtype": type(self.dtype).__name__.lower()}

    def _from_numpy(self, values: np.ndarray, column: str) -> pa.Array:
        return self._from_list(list(values), column)

    def _rows(self, value: Any, column: str, row: int, level: int) -> Any:
        if level == 0:
            arr = np.asarray(value, dtype=_np_dtype(self.dtype))
            if arr.size == 0:
                arr = arr.reshape(0, self.width)
            if arr.ndim != 2 or arr.shape[1] != self.width:
                raise self._error(column, row, f"expected k x {self.width} numbers per row, got shape {arr.shape}")
            return arr.tolist()
        if isinstance(value, np.ndarray | list | tuple):
            return [self._rows(v, column, row, level - 1) for v in value]
        raise self._error(column, row, f"expected a list, got {type(value).__name__}")

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        out = [None if v is None else self._rows(v, column, row, self.nesting - 1) for row, v in enumerate(values)]
        return pa.array(out, type=self.arrow)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        np_dtype = _np_dtype(self.dtype)

        def one(v: Any, level: int) -> Any:
            if v is None:
                return None
            if level == 0:
                return np.asarray(v, dtype=np_dtype).reshape(-1, self.width)
            return [one(x, level - 1) for x in v]

        return [one(v, self.nesting - 1) for v in values.to_pylist()]

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return self.decode(values, blobs)[0]


class BoundingBox(_Shapes):
    """Boxes, k per row, as a k x 4 array; ``format`` says what the four numbers are ("ltwh": left, top,
    width, height as in COCO; "ltrb"; "ccwh": centre, width, height) and ``bbox_type`` in what units
    ("pixel" or "fractional"). Both are recorded, not converted."""

    width = 4
    _FORMATS = ("ltwh", "ltrb", "ccwh")

    def __init__(self, dtype: str = "float32", format: str | None = None, bbox_type: str | None = None) -> None:  # noqa: A002 - Deep Lake's name
        super().__init__(dtype)
        if format is not None and format not in self._FORMATS:
            raise SchemaError(f"BoundingBox format must be one of {self._FORMATS}, got {format!r}", type="BoundingBox")
        if bbox_type is not None and bbox_type not in ("pixel", "fractional"):
            raise SchemaError(f"bbox_type must be 'pixel' or 'fractional', got {bbox_type!r}", type="BoundingBox")
        self.format, self.bbox_type = format, bbox_type

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "format": self.format, "bbox_type": self.bbox_type}


class Point(_Shapes):
    """Points (keypoints, landmarks), k per row, as a k x ``dimensions`` array."""

    def __init__(self, dimensions: int = 2, dtype: str = "float32") -> None:
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            raise SchemaError(f"Point dimensions must be a positive int, got {dimensions!r}", type="Point")
        super().__init__(dtype)
        self.width = dimensions

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "dimensions": self.width}


class Polygon(_Shapes):
    """Polygons, k per row, each an m x 2 array of (x, y) vertices; a row reads back as a list of them."""

    width = 2
    nesting = 2


class _Mask(_Media):
    """A pixel mask kept as compressed numpy bytes (lossless, any shape) in the media store; reads back
    as the numpy array."""

    _dtype: str

    def _check(self, value: Any, column: str, row: int) -> Any:
        if value is None:
            return None
        arr = np.asarray(value)
        if arr.ndim not in (2, 3):
            raise self._error(column, row, f"expected an H x W (or H x W x N) mask, got shape {arr.shape}")
        if arr.dtype.kind not in "biu":
            raise self._error(column, row, f"expected {self._dtype} values, got {arr.dtype}")
        stored = arr.astype(self._dtype)
        if not np.array_equal(stored, arr):  # 2 in a binary mask, 300 in a uint8 segment mask
            raise self._error(column, row, f"values do not fit {self._dtype}; refusing a lossy conversion")
        buf = io.BytesIO()
        np.save(buf, np.ascontiguousarray(stored), allow_pickle=False)
        return zlib.compress(buf.getvalue(), 6)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        raw = super().decode(values, blobs)
        if blobs is None:
            return raw
        return [None if b is None else np.load(io.BytesIO(zlib.decompress(b)), allow_pickle=False) for b in raw]


class BinaryMask(_Mask):
    """A boolean mask per row (H x W, or H x W x N for N objects)."""

    _dtype = "bool"

    def __init__(self, sample_compression: str | None = None, chunk_compression: str | None = None) -> None:
        self.sample_compression, self.chunk_compression = sample_compression, chunk_compression


class SegmentMask(_Mask):
    """A class id per pixel (H x W); ``labels`` names the ids, as for :class:`ClassLabel`."""

    def __init__(self, dtype: str = "uint8", sample_compression: str | None = None,
                 chunk_compression: str | None = None, labels: SequenceOf[str] | None = None) -> None:
        if _scalar_type(dtype).to_json()["type"] not in ("UInt8", "UInt16", "UInt32", "Int32"):
            raise SchemaError(f"SegmentMask dtype must be uint8, uint16, uint32 or int32, got {dtype!r}",
                              type="SegmentMask")
        self._dtype = dtype
        self.sample_compression, self.chunk_compression = sample_compression, chunk_compression
        self.labels = list(labels) if labels is not None else []

    def to_json(self) -> dict[str, Any]:
        return {"type": "SegmentMask", "dtype": self._dtype, "labels": self.labels}


# ---------------------------------------------------------------------------- registry
_BY_NAME: dict[str, Any] = {
    **{cls.__name__: cls for cls in _SCALARS.values()},
    "Text": Text,
    "Link": Link,
    "Dict": Dict,
    "Binary": Binary,
    "Video": Video,
    "Audio": Audio,
    "Date": Date,
    "Timestamp": Timestamp,
    "Duration": Duration,
    "Polygon": Polygon,
    "BoundingBox": BoundingBox,
    "Point": Point,
    "BinaryMask": BinaryMask,
    "SegmentMask": SegmentMask,
}


def as_type(value: DataType | type[DataType] | str) -> DataType:
    """A DataType instance from an instance, a class (``types.Int64``) or a dtype name (``"int64"``)."""
    if isinstance(value, DataType):
        return value
    if isinstance(value, type) and issubclass(value, DataType):
        try:
            return value()
        except TypeError as e:
            raise SchemaError(f"{value.__name__} needs arguments: {e}", type=value.__name__) from e
    if isinstance(value, str):
        if value in _BY_NAME:
            return _BY_NAME[value]()
        if value.lower() in ("str", "string", "text"):
            return Text()
        return _scalar_type(value)
    raise SchemaError(f"not a column type: {value!r}", type=repr(value))


def from_json(data: dict[str, Any]) -> DataType:
    """Rebuild a type from :meth:`DataType.to_json`."""
    name = data["type"]
    if name in _BY_NAME and len(data) == 1:
        return _BY_NAME[name]()
    if name == "Embedding":
        return Embedding(data["size"], data["dtype"])
    if name == "Array":
        return Array(data["dtype"], shape=data.get("shape"), dimensions=data.get("dimensions"))
    if name == "Struct":
        return Struct({k: from_json(v) for k, v in data["fields"].items()})
    if name == "Sequence":
        return Sequence(from_json(data["inner"]))
    if name == "ClassLabel":
        return ClassLabel(data["dtype"], data.get("labels"))
    if name == "Image":
        return Image(data.get("dtype", "uint8"), data.get("sample_compression"))
    if name == "Timestamp":
        return Timestamp(data.get("unit", "us"), data.get("tz"))
    if name == "Duration":
        return Duration(data.get("unit", "us"))
    if name == "Decimal":
        return Decimal(data["precision"], data["scale"])
    if name == "BoundingBox":
        return BoundingBox(data.get("dtype", "float32"), data.get("format"), data.get("bbox_type"))
    if name == "Point":
        return Point(data.get("dimensions", 2), data.get("dtype", "float32"))
    if name == "Polygon":
        return Polygon(data.get("dtype", "float32"))
    if name == "SegmentMask":
        return SegmentMask(data.get("dtype", "uint8"), labels=data.get("labels"))
    raise SchemaError(f"unknown column type {name!r} in dataset metadata", type=name)


def _index_dtype(index: pa.DataType) -> str:
    """A ClassLabel code dtype for an Arrow dictionary's index type (codes are never negative)."""
    return {8: "int16", 16: "int32"}.get(index.bit_width, "int32") if pa.types.is_unsigned_integer(index) else (
        {8: "int8", 16: "int16", 32: "int32"}.get(index.bit_width, "int64"))


def from_arrow(arrow: pa.DataType) -> DataType:
    """The closest lakelet type for an Arrow type (used when saving query results)."""
    for cls in _SCALARS.values():
        if cls._arrow == arrow:
            return cls()
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return Text()
    if pa.types.is_fixed_size_list(arrow) and arrow.value_type in [c._arrow for c in _SCALARS.values()]:
        return Embedding(arrow.list_size, from_arrow(arrow.value_type).to_json()["type"].lower())
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return Sequence(from_arrow(arrow.value_type))
    if pa.types.is_struct(arrow):
        return Struct({arrow.field(i).name: from_arrow(arrow.field(i).type) for i in range(arrow.num_fields)})
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow):
        return Sequence(UInt8())  # raw bytes from a query: kept as values, not blobs
    if pa.types.is_timestamp(arrow):
        return Timestamp(arrow.unit, arrow.tz)
    if pa.types.is_date(arrow):
        return Date()
    if pa.types.is_duration(arrow):
        return Duration(arrow.unit)
    if pa.types.is_decimal(arrow):
        return Decimal(arrow.precision, arrow.scale)
    if pa.types.is_dictionary(arrow) and (pa.types.is_string(arrow.value_type) or pa.types.is_large_string(
        arrow.value_type
    )):
        return ClassLabel(_index_dtype(arrow.index_type))
    raise SchemaError(f"no lakelet column type for Arrow type {arrow}", type=str(arrow))


__all__ = [
    "Array",
    "Audio",
    "Binary",
    "BinaryMask",
    "Bool",
    "BoundingBox",
    "ClassLabel",
    "DataType",
    "Date",
    "Decimal",
    "Dict",
    "Duration",
    "Embedding",
    "Float16",
    "Float32",
    "Float64",
    "Image",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "Link",
    "Point",
    "Polygon",
    "SegmentMask",
    "Sequence",
    "Struct",
    "Text",
    "Timestamp",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Video",
    "as_type",
    "from_arrow",
    "from_json",
]


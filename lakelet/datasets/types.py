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
from collections.abc import Sequence as SequenceOf
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from .errors import SchemaError

_KEY_RE = re.compile(r"[0-9a-f]{64}")
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
            self._raise_first_bad(values.to_pylist(), column, e)
            raise  # pragma: no cover - _raise_first_bad always raises

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
    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        """Stored values as a numpy array (numbers, tensors) or a list (everything else)."""
        return values.to_pylist()

    def decode_one(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        """The single value of a length-1 array."""
        decoded = self.decode(values, blobs)
        return decoded[0]


def _numpy_to_arrow(values: np.ndarray, column: str, dtype: DataType) -> pa.Array:
    if values.dtype.kind == "O" or values.dtype.kind == "U":
        return pa.array(values.tolist())
    try:
        return pa.array(values)
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
        return self._cast(pa.array(values), column)

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        return values.to_numpy(zero_copy_only=False)

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
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype.lower()
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
        np_dtype = self.dtype.arrow.to_pandas_dtype()
        if values.dtype.kind not in "biuf":
            raise self._error(column, None, f"expected numbers, got dtype {values.dtype}")
        flat = np.ascontiguousarray(values, dtype=np_dtype).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat), int(np.prod(shape)))

    def _from_list(self, values: list[Any], column: str) -> pa.Array:
        width = int(np.prod(self.shape))
        np_dtype = self.dtype.arrow.to_pandas_dtype()
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
            if arr.shape != self.shape and arr.size != width:
                raise self._error(column, row, f"expected shape {self.shape}, got {arr.shape}")
            flat[row] = arr.reshape(-1)
        arr = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), width)
        if mask.any():
            arr = pa.FixedSizeListArray.from_arrays(arr.values, width, mask=pa.array(mask))
        return arr

    def _cast(self, values: pa.Array, column: str) -> pa.Array:
        if values.type == self.arrow:
            return values
        if pa.types.is_list(values.type) or pa.types.is_large_list(values.type) or pa.types.is_fixed_size_list(
            values.type
        ):
            return self._from_list(values.to_pylist(), column)
        raise self._error(column, None, f"cannot store Arrow {values.type} here")

    def decode(self, values: pa.Array, blobs: BlobStore | None = None) -> Any:
        n = len(values)
        width = int(np.prod(self.shape))
        if values.null_count:  # a missing vector reads as all-NaN (all-zero for integer tensors)
            fill = float("nan") if pa.types.is_floating(self.dtype.arrow) else 0
            values = values.fill_null(pa.scalar([fill] * width, self.arrow))
        if not n:
            return np.empty((0, *self.shape), dtype=self.dtype.arrow.to_pandas_dtype())
        return values.flatten().to_numpy(zero_copy_only=False).reshape((n, *self.shape))

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
        np_dtype = self.dtype.arrow.to_pandas_dtype()
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
    """An integer class id; strings from ``labels`` are accepted and stored as their index."""

    def __init__(self, dtype: str = "int32", labels: SequenceOf[str] | None = None) -> None:
        self.dtype = _scalar_type(dtype)
        if not pa.types.is_integer(self.dtype.arrow):
            raise SchemaError(f"ClassLabel dtype must be an integer type, got {dtype!r}", type="ClassLabel")
        self.labels = list(labels) if labels is not None else []

    @property
    def arrow(self) -> pa.DataType:
        return self.dtype.arrow

    def to_json(self) -> dict[str, Any]:
        return {"type": "ClassLabel", "dtype": type(self.dtype).__name__.lower(), "labels": self.labels}

    def convert(self, values: Any, column: str) -> pa.Array:
        if isinstance(values, list | tuple) and any(isinstance(v, str) for v in values):
            index = {label: i for i, label in enumerate(self.labels)}
            codes = []
            for row, value in enumerate(values):
                if isinstance(value, str):
                    if value not in index:
                        raise self._error(column, row, f"unknown label {value!r}; known: {self.labels}")
                    value = index[value]
                codes.append(value)
            values = codes
        try:
            return self.dtype.convert(values, column)
        except SchemaError as e:
            raise self._error(column, e.row, str(e)) from e

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
        return [r if r is None or not _KEY_RE.fullmatch(r) else blobs.read_bytes(r) for r in refs]


class Binary(_Media):
    """Arbitrary bytes, stored content-addressed and deduplicated."""


class Image(_Media):
    """An encoded image (PNG, JPEG...) as bytes or a file path; read back as bytes."""

    def __init__(self, dtype: str = "uint8", sample_compression: str | None = None) -> None:
        self.dtype = dtype
        self.sample_compression = sample_compression

    def to_json(self) -> dict[str, Any]:
        return {"type": "Image", "dtype": self.dtype, "sample_compression": self.sample_compression}


class Video(_Media):
    """An encoded video file; read back as bytes."""


class Audio(_Media):
    """An encoded audio file; read back as bytes."""


# ---------------------------------------------------------------------------- registry
_BY_NAME: dict[str, Any] = {
    **{cls.__name__: cls for cls in _SCALARS.values()},
    "Text": Text,
    "Link": Link,
    "Dict": Dict,
    "Binary": Binary,
    "Video": Video,
    "Audio": Audio,
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
    if name in _BY_NAME:
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
    raise SchemaError(f"unknown column type {name!r} in dataset metadata", type=name)


def from_arrow(arrow: pa.DataType) -> DataType:
    """The closest lakelet type for an Arrow type (used when saving query results)."""
    for cls in _SCALARS.values():
        if cls._arrow == arrow:
            return cls()
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return Text()
    if pa.types.is_fixed_size_list(arrow) and arrow.value_type in [c._arrow for c in _SCALARS.values()]:
        return Embedding(arrow.list_size, arrow.value_type.to_pandas_dtype().__name__)
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return Sequence(from_arrow(arrow.value_type))
    if pa.types.is_struct(arrow):
        return Struct({arrow.field(i).name: from_arrow(arrow.field(i).type) for i in range(arrow.num_fields)})
    if pa.types.is_binary(arrow) or pa.types.is_large_binary(arrow):
        return Sequence(UInt8())  # raw bytes from a query: kept as values, not blobs
    if pa.types.is_date(arrow) or pa.types.is_timestamp(arrow):
        return Int64()
    raise SchemaError(f"no lakelet column type for Arrow type {arrow}", type=str(arrow))


__all__ = [
    "Array",
    "Audio",
    "Binary",
    "Bool",
    "ClassLabel",
    "DataType",
    "Dict",
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
    "Sequence",
    "Struct",
    "Text",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Video",
    "as_type",
    "from_arrow",
    "from_json",
]


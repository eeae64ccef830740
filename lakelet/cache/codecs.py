"""How cached values become blobs and come back.

=========  ===========================================  ===============================
codec      used for                                      restore
=========  ===========================================  ===============================
``npy``    numpy arrays (not of objects)                 memory-mapped, copy-on-write
``arrow``  pandas DataFrames that round-trip exactly,    memory-mapped Arrow IPC file,
           Arrow tables and record batches               zero-copy columns
``pickle`` everything else (pickle, then cloudpickle);   large buffers out of band, each
           small pickles live inline in the entry        memory-mapped
=========  ===========================================  ===============================

A value is described by a JSON-able dict (``{"codec": ..., "blobs": [...]}``)
that the index entry holds; blobs are content-addressed in the storage.

Two ways in: :func:`encode` streams a value straight into the storage (no copy
in memory), :func:`prepare` serializes it into memory first and returns a
:class:`Prepared` snapshot whose :meth:`~Prepared.store` does the I/O later,
possibly in another thread. Both produce the same blobs and descriptors. The
snapshot holds the exact bytes the value had when ``prepare`` returned, so
mutating the value afterwards cannot change what gets stored.
"""

from __future__ import annotations

import base64
import contextlib
import io
import mmap
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import StorageCorruption
from .errors import UnstorableValue

Descriptor = dict[str, Any]

INLINE_LIMIT = 16 * 1024  # pickles up to this size live inside the index entry
OUT_OF_BAND = 1 * 2**20  # buffers from this size on are stored (and mapped) on their own
_FILE_CODEC_MIN = 64 * 1024  # smaller arrays and frames are simply pickled


def encode(value: Any, storage: Any) -> Descriptor:
    """Store ``value`` in ``storage`` (a HashKeyStorage); return its descriptor."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray) and _big_plain_array(value):
        return _encode_npy(value, storage, np)
    table, kind = _arrow_value(value)
    if table is not None:
        return _encode_arrow(table, storage, kind)
    return _encode_pickle(value, storage)


@dataclass
class Prepared:
    """A value serialized in memory, independent of the live object: ready to be stored.

    ``parts`` are owned, immutable buffers (``main`` is a pickle's out-of-line
    stream). A ``private`` value is a deep copy nobody else references (a
    DataFrame of plain columns: copying it is cheaper than converting it), which
    :meth:`store` encodes like :func:`encode` does. ``nbytes`` is about what
    :meth:`store` will write.
    """

    codec: str
    descriptor: Descriptor  # the descriptor minus blob keys
    parts: list[Any] = field(default_factory=list)  # the blobs to write, in descriptor order
    main: Any = None
    private: Any = None
    nbytes: int = 0

    def __post_init__(self) -> None:
        if self.private is None:
            self.nbytes = sum(memoryview(p).nbytes for p in self.parts)
            self.nbytes += memoryview(self.main).nbytes if self.main is not None else 0

    def store(self, storage: Any) -> Descriptor:
        """Write the blobs into ``storage`` (a HashKeyStorage); return the full descriptor."""
        if self.private is not None:
            return encode(self.private, storage)
        keys = [storage.write(part) for part in self.parts]
        descriptor = dict(self.descriptor)
        if self.codec == "pickle":
            return _pickle_descriptor(descriptor, keys, storage.write(self.main) if self.main is not None else None)
        descriptor["blobs"] = keys
        return descriptor


def prepare(value: Any, *, max_bytes: int | None = None) -> Prepared | None:
    """Snapshot ``value`` in memory (about one copy of it); None if that takes more than ``max_bytes``.

    Raises :class:`UnstorableValue` if no codec can serialize it.
    """
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray) and _big_plain_array(value):
        if max_bytes is not None and value.nbytes > max_bytes:
            return None
        return Prepared("npy", {"codec": "npy", "size": int(value.nbytes)}, [_npy_bytes(value, np)])
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame) and _plain_frame(value):
        size = int(value.memory_usage(deep=False).sum())
        if max_bytes is not None and size > max_bytes:
            return None
        # a deep copy holds no Python objects anyone could mutate: convert it later, off the caller's time
        return Prepared("frame", {"size": size}, private=value.copy(deep=True), nbytes=size)
    table, kind = _arrow_value(value)
    if table is not None:
        if max_bytes is not None and table.nbytes > max_bytes:
            return None
        return Prepared("arrow", {"codec": "arrow", "kind": kind, "size": int(table.nbytes)}, [_ipc_bytes(table)])
    estimate = _pickle_estimate(value)
    if max_bytes is not None and estimate is not None and estimate > max_bytes:
        return None
    data, buffers = _pickle_parts(value)
    copies = [bytes(b.raw()) for b in buffers]  # out-of-band buffers alias the live value: copy them now
    descriptor: Descriptor = {"codec": "pickle", "size": len(data) + sum(len(c) for c in copies)}
    if len(data) <= INLINE_LIMIT:
        descriptor["inline"] = base64.b64encode(data).decode()
        return Prepared("pickle", descriptor, copies)
    return Prepared("pickle", descriptor, copies, main=data)


def _plain_frame(df: Any) -> bool:
    """A big DataFrame whose deep copy shares nothing mutable: no object columns, no attrs."""
    if df.attrs or df.memory_usage(deep=False).sum() < _FILE_CODEC_MIN:
        return False
    return all(getattr(dtype, "kind", "O") != "O" for dtype in df.dtypes) and df.index.dtype.kind != "O"


def _arrow_value(value: Any) -> tuple[Any, str]:
    """(Arrow table, kind) for values the arrow codec takes, else (None, "")."""
    pa = sys.modules.get("pyarrow")
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame) and value.memory_usage(deep=False).sum() >= _FILE_CODEC_MIN:
        table = _arrow_table_of(value)
        if table is not None:
            return table, "pandas"
    if pa is not None and isinstance(value, pa.Table | pa.RecordBatch) and value.nbytes >= _FILE_CODEC_MIN:
        if isinstance(value, pa.RecordBatch):
            return pa.Table.from_batches([value]), "batch"
        return value, "table"
    return None, ""


def _pickle_estimate(value: Any) -> int | None:
    """A cheap lower bound of a pickled value's size, for the big containers of data we know."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(value, pd.DataFrame):
        return int(value.memory_usage(deep=False).sum())
    if pd is not None and isinstance(value, pd.Series):
        return int(value.memory_usage(deep=False))
    return None


def _big_plain_array(array: Any) -> bool:
    return not array.dtype.hasobject and array.nbytes >= _FILE_CODEC_MIN


def decode(descriptor: Descriptor, storage: Any, *, verify: bool = False) -> Any:
    """Restore a value from its descriptor; ``verify`` re-hashes every blob first."""
    codec = descriptor.get("codec")
    handler = _DECODERS.get(codec)  # type: ignore[arg-type]
    if handler is None:
        raise StorageCorruption(f"cache entry names an unknown codec {codec!r}")
    return handler(descriptor, storage, verify)


def blobs_of(descriptor: Descriptor) -> list[str]:
    """Every storage key a descriptor refers to."""
    return list(descriptor.get("blobs", ()))


# ------------------------------------------------------------------------------ npy
def _encode_npy(array: Any, storage: Any, np: Any) -> Descriptor:
    key = _write_file(storage, lambda f: np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False))
    return {"codec": "npy", "blobs": [key], "size": int(array.nbytes)}


def _npy_bytes(array: Any, np: Any) -> bytearray:
    """The ``.npy`` file of ``array`` in one buffer (exactly what ``write_array`` writes), one copy."""
    header_data = np.lib.format.header_data_from_array_1_0(array)
    header = io.BytesIO()
    try:
        np.lib.format.write_array_header_1_0(header, header_data)
    except ValueError:  # a header over 64 KiB (huge structured dtypes) needs format 2.0
        header = io.BytesIO()
        np.lib.format.write_array_header_2_0(header, header_data)
    head = header.getvalue()
    out = bytearray(len(head) + array.nbytes)
    out[: len(head)] = head
    order = "F" if header_data["fortran_order"] else "C"
    target = np.ndarray(array.shape, dtype=array.dtype, buffer=out, offset=len(head), order=order)
    np.copyto(target, array, casting="no")
    return out


def _decode_npy(descriptor: Descriptor, storage: Any, verify: bool) -> Any:
    import numpy as np

    (key,) = descriptor["blobs"]
    with _blob(storage, key, verify) as value:
        if isinstance(value, Path):
            if value.stat().st_size == 0:
                raise StorageCorruption("empty .npy blob", key=key)
            # copy-on-write: the result is writable like a fresh array, the file is never touched
            return np.load(value, mmap_mode="c", allow_pickle=False).view(np.ndarray)
        return np.lib.format.read_array(io.BytesIO(value), allow_pickle=False)


# ------------------------------------------------------------------------------ arrow
def _arrow_table_of(df: Any) -> Any | None:
    """An Arrow table that restores ``df`` exactly (same columns, dtypes, index), else None."""
    import pandas as pd
    import pyarrow as pa

    columns = list(df.columns)
    if df.attrs or not all(isinstance(c, str) for c in columns) or len(set(columns)) != len(columns):
        return None
    try:
        table = pa.Table.from_pandas(df)
        probe = table.schema.empty_table().to_pandas()
    except (pa.ArrowException, TypeError, ValueError, NotImplementedError, KeyError):
        return None
    if list(probe.columns) != columns or list(probe.dtypes) != list(df.dtypes):
        return None
    if type(probe.index) is not type(df.index):
        return None
    if not isinstance(df.index, pd.RangeIndex) and list(probe.index.names) != list(df.index.names):
        return None  # (an empty probe drops a RangeIndex's name; the real restore keeps it)
    if getattr(probe.index, "dtype", None) != getattr(df.index, "dtype", None):
        return None
    return table


def _write_ipc(sink: Any, table: Any) -> None:
    """An uncompressed Arrow IPC file: restores by memory-mapping, columns zero-copy."""
    import pyarrow as pa

    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def _ipc_bytes(table: Any) -> Any:
    """The IPC file of ``table`` in one exactly-sized Arrow buffer (a single copy of the data)."""
    import pyarrow as pa

    sizer = pa.MockOutputStream()
    _write_ipc(sizer, table)
    buffer = pa.allocate_buffer(sizer.size())
    _write_ipc(pa.FixedSizeBufferWriter(buffer), table)
    return buffer


def _encode_arrow(table: Any, storage: Any, kind: str) -> Descriptor:
    import pyarrow as pa

    def produce(f: BinaryIO) -> None:
        _write_ipc(pa.PythonFile(f, mode="w"), table)

    key = _write_file(storage, produce)
    return {"codec": "arrow", "kind": kind, "blobs": [key], "size": int(table.nbytes)}


def _decode_arrow(descriptor: Descriptor, storage: Any, verify: bool) -> Any:
    import pyarrow as pa

    (key,) = descriptor["blobs"]
    with _blob(storage, key, verify) as value:
        source = pa.memory_map(str(value)) if isinstance(value, Path) else pa.py_buffer(value)
        table = pa.ipc.open_file(source).read_all()
    kind = descriptor.get("kind")
    if kind == "pandas":
        return table.to_pandas(split_blocks=True)  # zero-copy columns over the mapped file
    if kind == "batch":
        return table.combine_chunks().to_batches()[0]
    return table


# ------------------------------------------------------------------------------ pickle
def _encode_pickle(value: Any, storage: Any) -> Descriptor:
    data, buffers = _pickle_parts(value)
    descriptor: Descriptor = {"codec": "pickle", "size": len(data) + sum(b.raw().nbytes for b in buffers)}
    keys = [storage.write(b.raw()) for b in buffers]
    if len(data) <= INLINE_LIMIT:
        descriptor["inline"] = base64.b64encode(data).decode()
        return _pickle_descriptor(descriptor, keys, None)
    return _pickle_descriptor(descriptor, keys, storage.write(data))


def _pickle_parts(value: Any) -> tuple[bytes, list[pickle.PickleBuffer]]:
    """The pickle stream and its out-of-band buffers (views of the value's memory, not copies)."""
    buffers: list[pickle.PickleBuffer] = []

    def keep(buffer: pickle.PickleBuffer) -> bool:
        if buffer.raw().nbytes < OUT_OF_BAND:
            return True  # small: serialize in band
        buffers.append(buffer)
        return False

    return _dumps(value, keep), buffers


def _pickle_descriptor(descriptor: Descriptor, buffer_keys: list[str], main: str | None) -> Descriptor:
    """Complete a pickle descriptor (which has ``inline`` unless ``main`` is given) with its blob keys."""
    if buffer_keys:
        descriptor["buffers"] = buffer_keys
    if main is None:
        descriptor["blobs"] = list(buffer_keys)
    else:
        descriptor["main"] = main
        descriptor["blobs"] = [main, *buffer_keys]
    return descriptor


def _dumps(value: Any, keep: Callable[[pickle.PickleBuffer], bool]) -> bytes:
    """pickle first (classes of ``__main__`` stay references), cloudpickle for what pickle refuses."""
    try:
        return pickle.dumps(value, protocol=5, buffer_callback=keep)
    except Exception as first:  # noqa: BLE001 - pickling runs the value's own code: anything can fail
        import cloudpickle

        try:
            return cloudpickle.dumps(value, protocol=5, buffer_callback=keep)
        except Exception as e:  # noqa: BLE001 - reported as UnstorableValue, chained
            raise UnstorableValue(f"a {type(value).__qualname__} cannot be pickled: {e}") from first


def _decode_pickle(descriptor: Descriptor, storage: Any, verify: bool) -> Any:
    if "inline" in descriptor:
        data = base64.b64decode(descriptor["inline"])
    else:
        with _blob(storage, descriptor["main"], verify) as value:
            data = value.read_bytes() if isinstance(value, Path) else value
    buffers = [_mapped(storage, key, verify) for key in descriptor.get("buffers", ())]
    return pickle.loads(data, buffers=buffers)  # trusted: see the trust model in signing.py


def _mapped(storage: Any, key: str, verify: bool) -> Any:
    with _blob(storage, key, verify) as value:
        if isinstance(value, Path):
            with open(value, "rb") as f:
                if os.fstat(f.fileno()).st_size == 0:
                    return bytearray()
                return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
        return bytearray(value)


# ------------------------------------------------------------------------------ blobs
@contextlib.contextmanager
def _blob(storage: Any, key: str, verify: bool) -> Iterator[Path | bytes]:
    """A blob as a local path (zero copy) or bytes; re-hashed against its key if ``verify``
    (a verified read through the storage heals a bad cache copy from a lower level)."""
    with storage.read(key, verify=verify) as value:
        yield value if isinstance(value, Path) else value.read()


def _write_file(storage: Any, produce: Callable[[BinaryIO], None]) -> str:
    """Write a value we produce ourselves through the storage's hashing writer; return its key.

    Big values are staged once in a write target's folder and linked into place.
    """
    with storage.writer() as f:
        produce(f)
    return f.key


_DECODERS: dict[str, Callable[[Descriptor, Any, bool], Any]] = {
    "npy": _decode_npy,
    "arrow": _decode_arrow,
    "pickle": _decode_pickle,
}

__all__ = ["INLINE_LIMIT", "Descriptor", "Prepared", "blobs_of", "decode", "encode", "prepare"]

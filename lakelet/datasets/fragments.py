"""Immutable column files and the pieces a dataset version is made of.

A version is an ordered list of *pieces* (fragments). A piece has a row count
and one source per physical column: either the relative path of an immutable
Arrow IPC file holding exactly that column (one record batch), or, for
uncommitted work, an in-memory Arrow array. Column files are never rewritten:
an edit makes a new file for the edited column only, and unchanged columns keep
pointing at the old files, so versions share storage. A committed piece also
carries per-column statistics of its files (:mod:`lakelet.datasets.stats`),
used to skip pieces a query's filter cannot match.

Local files are memory-mapped (zero copy: a query touches only the pages of
the columns it reads); remote files are fetched whole, column by column, and
kept in a per-handle LRU cache (immutable, so never stale).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .storage_io import Reader, Writer, parallel_map, translated

ROWID = "_rowid"
Source = str | pa.Array


@dataclass
class Piece:
    """A run of rows: one source (file path or in-memory array) per physical column id."""

    rows: int
    columns: dict[str, Source] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # column id -> its file's statistics

    def stats_for(self, column_id: str) -> dict[str, Any] | None:
        """Statistics of the committed file of ``column_id`` (None if unknown or not a file)."""
        return self.stats.get(column_id) if isinstance(self.columns.get(column_id), str) else None

    @property
    def committed(self) -> bool:
        return all(isinstance(src, str) for src in self.columns.values())

    def to_json(self) -> dict[str, Any]:
        if not self.committed:
            raise ValueError("only committed pieces are serialised")
        out: dict[str, Any] = {"id": self.id, "rows": self.rows, "columns": dict(self.columns)}
        stats = {cid: s for cid, s in self.stats.items() if cid in self.columns}
        if stats:  # absent in manifests written before statistics existed
            out["stats"] = stats
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Piece:
        stats = data.get("stats")
        return cls(
            rows=int(data["rows"]),
            columns=dict(data["columns"]),
            id=data["id"],
            stats=dict(stats) if isinstance(stats, dict) else {},
        )


def serialize_array(array: pa.Array, compression: str | None) -> bytes:
    """An Arrow IPC file holding ``array`` as the single column ``v`` of one record batch."""
    batch = pa.record_batch([array], names=["v"])
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_file(sink, batch.schema, options=options) as w:
        w.write_batch(batch)
    return sink.getvalue().to_pybytes()


def write_array(writer: Writer, path: str, array: pa.Array, compression: str | None) -> None:
    """Write one column file at ``path``, published atomically (temp file + rename locally)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    local = writer.local_path(path)
    if local is None:
        writer.set(path, serialize_array(array, compression))
        return
    batch = pa.record_batch([array], names=["v"])
    options = pa.ipc.IpcWriteOptions(compression=compression)
    folder = os.path.dirname(local)
    tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}-{os.getpid()}")
    with translated(local):
        os.makedirs(folder, exist_ok=True)
        try:
            with pa.OSFile(tmp, "wb") as f, pa.ipc.new_file(f, batch.schema, options=options) as w:
                w.write_batch(batch)  # native file: no GIL held while writing
            os.replace(tmp, local)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def _decode(buffer: Any) -> pa.Array:
    reader = pa.ipc.open_file(buffer)
    if reader.num_record_batches == 1:
        return reader.get_batch(0).column(0)
    table = reader.read_all()
    return table.column(0).combine_chunks()


class ColumnLoader:
    """Reads column files: memory-mapped locally, fetched and LRU-cached remotely."""

    def __init__(self, reader: Reader, max_bytes: int = 1 << 30) -> None:
        self.reader = reader
        self.max_bytes = max_bytes
        self._cache: OrderedDict[str, tuple[pa.Array, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def load(self, path: str) -> pa.Array:
        with self._lock:
            hit = self._cache.get(path)
            if hit is not None:
                self._cache.move_to_end(path)
                return hit[0]
        local = self.reader.local_path(path)
        if local is not None:
            with translated(local):
                array = _decode(pa.memory_map(local, "r"))
            size = 0  # mapped pages belong to the OS page cache, not to us
        else:
            data = self.reader.get(path)
            array = _decode(pa.py_buffer(data))
            size = len(data)
        self._remember(path, array, size)
        return array

    def load_many(self, paths: list[str]) -> list[pa.Array]:
        """Load several column files; remote ones in parallel (bounded by ``concurrency()``)."""
        if self.reader.kind in ("local", "memory"):
            return [self.load(p) for p in paths]
        return parallel_map(self.load, paths)

    def _remember(self, path: str, array: pa.Array, size: int) -> None:
        with self._lock:
            if path in self._cache:
                return
            self._cache[path] = (array, size)
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._cache) > 1:
                _, (_, old_size) = self._cache.popitem(last=False)
                self._bytes -= old_size


def source_array(loader: ColumnLoader, source: Source) -> pa.Array:
    """The array behind a piece's column source."""
    if isinstance(source, str):
        return loader.load(source)
    return source

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

Remote column files are written as record batches of a fixed number of rows
(recorded in the file's schema metadata), so a few random rows cost the
file's footer and the batches holding them — byte ranges, not whole columns
(:meth:`ColumnLoader.take`). An Arrow IPC file ends with a footer listing
every batch's offset, which is what makes this possible.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from . import _arrow
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


#: schema metadata key: rows per record batch of a column file (absent: one batch)
BATCH_ROWS_KEY = b"lakelet.batch_rows"
#: target bytes of one record batch in a remote file: one ranged GET per random row costs about this much
BATCH_TARGET_BYTES = 64 * 1024
_MIN_BATCH_ROWS = 256


def batch_rows_for(array: pa.Array) -> int:
    """Rows per record batch so that a batch holds about :data:`BATCH_TARGET_BYTES`."""
    per_row = max(1, array.nbytes // max(1, len(array)))
    rows = max(_MIN_BATCH_ROWS, BATCH_TARGET_BYTES // per_row)
    return int(min(rows, max(len(array), 1)))


def serialize_array(array: pa.Array, compression: str | None, *, batched: bool = True) -> bytes:
    """An Arrow IPC file holding ``array`` as the single column ``v``.

    ``batched``: in record batches of :func:`batch_rows_for` rows (remote files,
    for ranged random reads); otherwise one batch (memory-mapped local files).
    """
    step = batch_rows_for(array) if batched and len(array) > _MIN_BATCH_ROWS else max(len(array), 1)
    schema = pa.schema([pa.field("v", array.type)], metadata={BATCH_ROWS_KEY: str(step).encode()})
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_file(sink, schema, options=options) as w:
        if len(array) == 0:
            w.write_batch(pa.record_batch([array], schema=schema))
        for start in range(0, len(array), step):
            w.write_batch(pa.record_batch([array.slice(start, step)], schema=schema))
    return sink.getvalue().to_pybytes()


def write_array(writer: Writer, path: str, array: pa.Array, compression: str | None) -> None:
    """Write one column file at ``path``, published atomically (temp file + rename locally)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    local = writer.local_path(path)
    if local is None:
        writer.set(path, serialize_array(array, compression, batched=writer.kind != "memory"))
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
        self._footers: OrderedDict[str, tuple[pa.ipc.RecordBatchFileReader, threading.Lock]] = OrderedDict()
        #: bytes of record batches fetched by ranged reads (decoded size; for tests and benchmarks)
        self.ranged_bytes = 0

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

    def take(self, path: str, rows: np.ndarray) -> pa.Array:
        """Values at ``rows`` of the column file ``path``: whole-file load when local, cached or when most
        batches are wanted; otherwise only the footer and the record batches holding ``rows`` are fetched."""
        with self._lock:
            cached = self._cache.get(path)
        if cached is not None or self.reader.kind in ("local", "memory"):
            return _take(self.load(path), rows)
        opened, guard = self._ranged(path)
        step = int((opened.schema.metadata or {}).get(BATCH_ROWS_KEY, b"0"))
        batches = np.unique(rows // step) if step else np.zeros(0, dtype=np.int64)
        if not step or opened.num_record_batches < 2 or len(batches) * 4 > opened.num_record_batches:
            return _take(self.load(path), rows)
        with guard, translated(self.reader.full(path), self.reader.kind):  # one file position per handle
            parts = {int(b): opened.get_batch(int(b)).column(0) for b in batches}
        self.ranged_bytes += sum(p.nbytes for p in parts.values())
        first = {b: i for i, b in enumerate(parts)}
        offsets = np.cumsum([0, *[len(p) for p in parts.values()]])
        where = np.array([offsets[first[int(r // step)]] + r % step for r in rows], dtype=np.int64)
        return _take(pa.concat_arrays(list(parts.values())), where)

    def _ranged(self, path: str) -> tuple[pa.ipc.RecordBatchFileReader, threading.Lock]:
        """An IPC file reader over ranged GETs of a remote file (the footer is read once and kept)."""
        with self._lock:
            found = self._footers.get(path)
        if found is None:
            full = self.reader.full(path)
            with translated(full, self.reader.kind):
                handle = self.reader.fs.open(full, "rb", block_size=64 * 1024, cache_type="bytes")
                found = (pa.ipc.open_file(pa.PythonFile(handle, mode="r")), threading.Lock())
            with self._lock:
                self._footers[path] = found
                while len(self._footers) > 256:
                    self._footers.popitem(last=False)
        return found

    def load_many(self, paths: list[str]) -> list[pa.Array]:
        """Load several column files; remote ones in parallel (bounded by ``concurrency()``)."""
        if self.reader.kind in ("local", "memory"):
            return [self.load(p) for p in paths]
        return parallel_map(self.load, paths)

    def load_columns(self, pieces: Iterable[Piece], column_ids: set[str]) -> None:
        """Load (remote: in parallel) the files of ``pieces`` holding the columns ``column_ids``,
        before a reader walks them piece by piece."""
        files = [src for p in pieces for cid, src in p.columns.items() if cid in column_ids and isinstance(src, str)]
        self.load_many(files)

    def _remember(self, path: str, array: pa.Array, size: int) -> None:
        with self._lock:
            if path in self._cache:
                return
            self._cache[path] = (array, size)
            self._bytes += size
            while self._bytes > self.max_bytes and len(self._cache) > 1:
                _, (_, old_size) = self._cache.popitem(last=False)
                self._bytes -= old_size


def _take(values: pa.Array | pa.ChunkedArray, rows: np.ndarray | pa.Array) -> pa.Array:
    """``values`` at ``rows``, as one array."""
    if isinstance(values, pa.ChunkedArray) and values.num_chunks == 1:
        values = values.chunk(0)
    if isinstance(values, pa.Array):
        positions = _arrow.to_numpy(rows) if isinstance(rows, pa.Array) else np.asarray(rows)
        return _arrow.take(values, positions)  # numpy where it can: no pyarrow.compute import
    if not isinstance(rows, pa.Array):
        rows = _arrow.array(np.asarray(rows, dtype=np.int64))  # pa.array would import pandas
    out = values.take(rows)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def source_array(loader: ColumnLoader, source: Source) -> pa.Array:
    """The array behind a piece's column source."""
    if isinstance(source, str):
        return loader.load(source)
    return source

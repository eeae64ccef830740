"""The rows of one dataset version: a schema plus an ordered list of pieces.

States are treated as values: every edit returns a new :class:`State`, so a
handle can keep the last committed state for ``rollback()`` and a failed
append never leaves half a batch behind.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa

from . import _arrow
from .fragments import ROWID, ColumnLoader, Piece, Source, _take, source_array
from .schema import Column, Schema

_CHUNK_LIMIT = 256  # in-memory chunks per column before they are combined


def new_rowids(n: int) -> pa.Array:
    """Random-based, unique-in-practice 64-bit row ids for ``n`` new rows (stable across edits)."""
    out = np.empty(n, dtype=np.int64)
    step = 1 << 23
    for start in range(0, n, step):
        stop = min(n, start + step)
        base = secrets.randbits(39) << 23
        out[start:stop] = base + np.arange(stop - start, dtype=np.int64)
    return _arrow.array(out)


@dataclass(frozen=True)
class State:
    """Schema + pieces. ``pieces`` is never mutated in place."""

    schema: Schema
    pieces: tuple[Piece, ...] = ()
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64), compare=False)

    @classmethod
    def of(cls, schema: Schema, pieces: list[Piece] | tuple[Piece, ...]) -> State:
        pieces = tuple(p for p in pieces if p.rows > 0)
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        if pieces:
            offsets[1:] = np.cumsum([p.rows for p in pieces])
        return cls(schema, pieces, offsets)

    @property
    def num_rows(self) -> int:
        return int(self.offsets[-1])

    @property
    def committed(self) -> bool:
        return all(p.committed for p in self.pieces)

    # ---------------------------------------------------------------- reading
    def chunk(self, loader: ColumnLoader, piece: Piece, column_id: str) -> pa.Array | pa.ChunkedArray:
        source = piece.columns.get(column_id)
        if source is not None:
            return source_array(loader, source)
        if column_id == ROWID:
            raise KeyError("piece without row ids")
        column = self.schema.by_id(column_id)
        if column is None:
            raise KeyError(column_id)
        return column.default_array(piece.rows)

    def column(self, loader: ColumnLoader, column_id: str, arrow_type: pa.DataType | None = None) -> pa.ChunkedArray:
        chunks: list[pa.Array] = []
        for piece in self.pieces:
            arr = self.chunk(loader, piece, column_id)
            chunks.extend(arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr])
        if arrow_type is None:
            arrow_type = pa.int64() if column_id == ROWID else self.schema.by_id(column_id).type.arrow  # type: ignore[union-attr]
        return pa.chunked_array(chunks, type=arrow_type)

    def table(
        self, loader: ColumnLoader, names: list[str] | None = None, *, rowid: bool = False, by_id: bool = False
    ) -> pa.Table:
        """The rows as an Arrow table (zero copy over memory-mapped files)."""
        columns = [self.schema[n] for n in (names if names is not None else self.schema.names)]
        arrays = [self.column(loader, c.id, c.type.arrow) for c in columns]
        labels = [c.id if by_id else c.name for c in columns]
        if rowid:
            arrays.append(self.column(loader, ROWID))
            labels.append(ROWID)
        if not arrays:
            return pa.table({})
        return pa.table(arrays, names=labels)

    def locate(self, indices: np.ndarray) -> np.ndarray:
        """Piece number of each global row index."""
        return np.searchsorted(self.offsets, indices, side="right") - 1

    def take(self, loader: ColumnLoader, column: Column | str, indices: np.ndarray) -> pa.Array:
        """Values of one column at global row ``indices`` (any order, repeats allowed)."""
        column_id = column if isinstance(column, str) else column.id
        if len(indices) == 0:
            arrow_type = pa.int64() if column_id == ROWID else self.schema.by_id(column_id).type.arrow  # type: ignore[union-attr]
            return pa.array([], type=arrow_type)
        where = self.locate(indices)
        if (where == where[0]).all():  # one piece: one take
            piece = self.pieces[int(where[0])]
            local = indices - self.offsets[where[0]]
            return self._take_piece(loader, piece, column_id, local)
        order = np.argsort(where, kind="stable")
        parts = []
        for p in np.unique(where):
            sel = order[where[order] == p]
            piece = self.pieces[int(p)]
            parts.append(self._take_piece(loader, piece, column_id, indices[sel] - self.offsets[p]))
        combined = pa.concat_arrays(parts)
        inverse = np.empty(len(indices), dtype=np.int64)
        inverse[np.concatenate([order[where[order] == p] for p in np.unique(where)])] = np.arange(len(indices))
        return _arrow.take(combined, inverse)

    def _take_piece(self, loader: ColumnLoader, piece: Piece, column_id: str, local: np.ndarray) -> pa.Array:
        source = piece.columns.get(column_id)
        if isinstance(source, str):  # a file: the loader may read just the byte ranges holding these rows
            return loader.take(source, local)
        return _take(self.chunk(loader, piece, column_id), local)

    # ---------------------------------------------------------------- edits (each returns a new State)
    def with_schema(self, schema: Schema) -> State:
        return State.of(schema, self.pieces)

    def appended(self, arrays: dict[str, pa.Array], rows: int) -> State:
        """Add ``rows`` rows; ``arrays`` maps column id -> values (missing ids read as defaults)."""
        arrays = {ROWID: new_rowids(rows), **arrays} if ROWID not in arrays else dict(arrays)
        pieces = list(self.pieces)
        last_in_memory = bool(pieces) and not any(isinstance(src, str) for src in pieces[-1].columns.values())
        # an edited piece mixes file paths and arrays: it is not extended, a new piece starts
        if last_in_memory and set(pieces[-1].columns) == set(arrays):
            last = pieces[-1]
            merged: dict[str, Source] = {}
            for cid, arr in arrays.items():
                old = last.columns[cid]
                chunks = [*(old.chunks if isinstance(old, pa.ChunkedArray) else [old]), arr]
                merged[cid] = pa.chunked_array(chunks).combine_chunks() if len(chunks) > _CHUNK_LIMIT else (
                    pa.chunked_array(chunks)
                )
            pieces[-1] = Piece(last.rows + rows, merged, last.id)
        else:
            pieces.append(Piece(rows, dict(arrays)))
        return State.of(self.schema, pieces)

    def updated(self, loader: ColumnLoader, column: Column, indices: np.ndarray, values: pa.Array) -> State:
        """Replace the values of ``column`` at global rows ``indices`` (copy-on-write of that column only)."""
        pieces = list(self.pieces)
        where = self.locate(indices)
        for p in np.unique(where):
            sel = np.flatnonzero(where == p)
            piece = pieces[int(p)]
            old = self.chunk(loader, piece, column.id)
            if isinstance(old, pa.ChunkedArray):
                old = old.combine_chunks()
            local = indices[sel] - self.offsets[p]
            mapping = np.arange(piece.rows, dtype=np.int64)
            mapping[local] = piece.rows + np.arange(len(sel))
            new = pa.concat_arrays([old, values.take(pa.array(sel))]).take(pa.array(mapping))
            kept = {cid: st for cid, st in piece.stats.items() if cid != column.id}  # other files unchanged
            pieces[int(p)] = Piece(piece.rows, {**piece.columns, column.id: new}, stats=kept)
        return State.of(self.schema, pieces)

    def deleted(self, loader: ColumnLoader, indices: np.ndarray) -> State:
        """Remove the rows at global ``indices``."""
        pieces = list(self.pieces)
        where = self.locate(indices)
        for p in np.unique(where):
            piece = pieces[int(p)]
            keep = np.ones(piece.rows, dtype=bool)
            keep[indices[where == p] - self.offsets[p]] = False
            kept = pa.array(np.flatnonzero(keep))
            ids = [c.id for c in self.schema] + [ROWID]
            columns = {cid: _take(self.chunk(loader, piece, cid), kept) for cid in ids}
            pieces[int(p)] = Piece(int(keep.sum()), columns)
        return State.of(self.schema, pieces)

    def materialized_ids(self) -> set[str]:
        return {c.id for c in self.schema} | {ROWID}

    def pruned(self) -> State:
        """Drop sources of columns no longer in the schema (their files stay for older versions)."""
        keep = self.materialized_ids()
        return State.of(
            self.schema,
            [
                replace(
                    p,
                    columns={k: v for k, v in p.columns.items() if k in keep},
                    stats={k: v for k, v in p.stats.items() if k in keep},
                )
                for p in self.pieces
            ],
        )


"""What one :class:`~lakelet.datasets.dataset.Dataset` handle has checked out, and its uncommitted work.

A handle is a thin facade (``ds.append``, ``ds.commit``, ``ds.query``...) over one :class:`Checkout`:
the storage it reads and writes, the version it stands on (branch, head commit and the head's
sequence number for the compare-and-swap), the committed state of that version and the staged state
on top of it, merge parents and spilled files. The dataset layer's own modules (version control,
queries, views, gc, indexes, Dask) work through this object's public fields and methods, never
through another module's private attributes; users see only the Dataset.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import InvalidArgument
from . import manifest as M
from . import refs
from .errors import DatasetReadOnly, VersionNotFound
from .fragments import ROWID, ColumnLoader, Piece, write_array
from .schema import Schema
from .state import State
from .stats import compute as column_stats
from .storage_io import Writer, parallel_map


class Checkout:
    """One handle's storage, version and staged changes (see the module doc)."""

    def __init__(self, writer: Writer, *, settings: dict[str, Any], read_only: bool = False) -> None:
        self.writer = writer
        self.loader = ColumnLoader(writer)
        self.settings = settings
        self.read_only = read_only
        self.search_indexes: dict[str, Any] = {}  # index path -> loaded index (lakelet.datasets.indexes)
        self.branch: str | None = None
        self.head_id = ""
        self.head_seq: int | None = None
        self.base = State.of(Schema([]), [])  # the committed state of the head (set by load)
        self.state = self.base  # base plus the uncommitted work
        self.dirty = False
        self.merge_parents: list[str] = []
        self.pending_bytes = 0  # bytes of uncommitted appended arrays held in memory
        self.spilled: list[str] = []  # column files written ahead of the coming commit
        self._media: Any = None
        self._duckdb: Any = None

    @property
    def path(self) -> str:
        return self.writer.original_path

    # ------------------------------------------------------------------ the version stood on
    def load(self, ref: str) -> None:
        """Stand on ``ref`` (a branch, tag or commit id), dropping any uncommitted work."""
        kind, commit, seq = self.resolve(ref)
        manifest = M.load(self.writer, commit)
        self.branch = ref if kind == "branch" else None
        self.head_id, self.head_seq = commit, seq
        self.base = State.of(manifest.schema, manifest.pieces)
        self._drop_work()

    def resolve(self, ref: str) -> tuple[str, str, int | None]:
        """``(kind, commit id, head sequence)`` for a branch, tag, or (prefix of a) commit id."""
        if not isinstance(ref, str) or not ref:
            raise InvalidArgument(f"a version must be a branch, tag or commit id, got {ref!r}")
        if refs.is_ref_name(ref):
            try:
                seq, commit = refs.head(self.writer, ref)
                return "branch", commit, seq
            except VersionNotFound:
                pass
            tagged = refs.tag_commit(self.writer, ref)
            if tagged is not None:
                return "tag", tagged, None
        if all(c in "0123456789abcdef" for c in ref):
            if self.writer.exists(f"versions/{ref}.json"):
                return "commit", ref, None
            full = M.find_by_prefix(self.writer, ref) if len(ref) >= 4 else None
            if full is not None:
                return "commit", full, None
        raise VersionNotFound(f"no branch, tag or version {ref!r} in {self.path}")

    def manifest_state(self, ref: str) -> tuple[str, State]:
        """The commit id ``ref`` names and the committed state of that version."""
        _, commit, _ = self.resolve(ref)
        manifest = M.load(self.writer, commit)
        return commit, State.of(manifest.schema, manifest.pieces)

    # ------------------------------------------------------------------ staged work
    def set_state(self, state: State) -> None:
        """Stage ``state`` as the handle's uncommitted work."""
        self.state = state
        self.dirty = True

    def reset(self) -> None:
        """Drop the uncommitted work (and the media keys it wrote): back to the head's committed state."""
        self._drop_work()
        if self._media is not None:
            self._media.pending.clear()

    def _drop_work(self) -> None:
        # not the pending media keys: ``Dataset.refresh`` replays the appends that wrote them
        self.state = self.base
        self.dirty = False
        self.merge_parents = []
        self.pending_bytes = 0
        self.spilled = []

    def require_writable(self) -> None:
        self.require_not_read_only()
        if self.branch is None:
            raise DatasetReadOnly(
                f"{self.path} is checked out at version {self.head_id[:12]}, not a branch; "
                "checkout a branch (or ds.checkout(name, create=True)) to change it"
            )

    def require_not_read_only(self) -> None:
        if self.read_only:
            raise DatasetReadOnly(f"{self.path} was opened read-only")

    def adopt(self, pieces: list[Piece]) -> None:
        """Append pieces whose files were written elsewhere (by Dask workers); the next commit publishes them."""
        self.require_writable()
        self.set_state(State.of(self.state.schema, [*self.state.pieces, *pieces]))

    def append_arrow(self, arrays: dict[str, pa.Array], rows: int) -> None:
        """Append stored-form arrays (column name -> array of the column's Arrow type) as is."""
        self.require_writable()
        schema = self.state.schema
        by_id = {schema[name].id: arr.cast(schema[name].type.arrow) for name, arr in arrays.items()}
        self.set_state(self.state.appended(by_id, rows))

    def write_pieces(self, state: State, written: list[str] | None = None) -> list[Piece]:
        """Write the uncommitted arrays of ``state`` as column files (in parallel); its pieces with
        paths. ``written`` collects the paths of the files written."""
        compression = self.settings.get("compression")
        jobs: list[tuple[Piece, str, pa.Array]] = []
        pieces = []
        for piece in state.pieces:
            if piece.committed:
                pieces.append(piece)
                continue
            new = Piece(piece.rows)
            for cid, source in piece.columns.items():
                if isinstance(source, str):
                    new.columns[cid] = source
                    if cid in piece.stats:
                        new.stats[cid] = piece.stats[cid]
                else:
                    new.columns[cid] = f"data/{new.id}/{cid}.arrow"
                    jobs.append((new, cid, source))
                    if written is not None:
                        written.append(new.columns[cid])
            pieces.append(new)

        def write(job: tuple[Piece, str, pa.Array]) -> None:
            piece, cid, array = job
            write_array(self.writer, piece.columns[cid], array, compression)  # type: ignore[arg-type]
            found = column_stats(array) if cid != ROWID else None  # for pruning: see stats.py
            if found is not None:
                piece.stats[cid] = found  # one key per job: no two threads write the same key

        parallel_map(write, jobs)
        return pieces

    # ------------------------------------------------------------------ reading
    @property
    def media(self) -> Any:
        """The dataset's content-addressed media store (a TrackedBlobs over a HashKeyStorage)."""
        if self._media is None:
            from .media import TrackedBlobs, media_store

            self._media = TrackedBlobs(media_store(self.writer))
        return self._media

    def freshen_media(self) -> None:
        """Renew the age of the media this handle stored (or found stored) since its last commit, so a
        gc cannot collect them before the commit that refers to them (see :mod:`.media`)."""
        if self._media is not None and self._media.pending:
            from .media import freshen

            freshen(self.writer, self._media.pending)

    def take_arrow(self, name: str, rows: np.ndarray, state: State | None = None) -> pa.Array:
        """The stored values of column ``name`` at ``rows`` (sorted row numbers) of ``state``
        (default: the checked-out one)."""
        state = state if state is not None else self.state
        column = state.schema[name]
        n = len(rows)
        nearby = self.writer.kind in ("local", "memory")  # remote: take() may read only the needed byte ranges
        if n and nearby and rows[-1] - rows[0] == n - 1 and (n == 1 or bool(np.all(np.diff(rows) == 1))):
            whole = state.column(self.loader, column.id, column.type.arrow)
            return whole.slice(int(rows[0]), n).combine_chunks()
        return state.take(self.loader, column, rows)

    def read_range(self, name: str, start: int, stop: int) -> Any:
        """Decoded values of column ``name`` for rows ``start:stop``."""
        column = self.state.schema[name]
        whole = self.state.column(self.loader, column.id, column.type.arrow)
        arr = whole.slice(start, max(stop - start, 0)).combine_chunks()
        return column.type.decode(arr, self.media if column.type.is_media else None)

    def read_many(self, name: str, rows: np.ndarray) -> Any:
        """Decoded values of column ``name`` at ``rows``."""
        column = self.state.schema[name]
        return column.type.decode(self.take_arrow(name, rows), self.media if column.type.is_media else None)

    def read_one(self, name: str, row: int) -> Any:
        """The decoded value of column ``name`` at ``row``."""
        column = self.state.schema[name]
        arr = self.take_arrow(name, np.array([row]))
        return column.type.decode_one(arr, self.media if column.type.is_media else None)

    def write_values(self, name: str, rows: np.ndarray, values: Any) -> None:
        """Stage new values of column ``name`` at ``rows`` (converted and checked like an append)."""
        from .ingest import convert_batch, to_columns

        self.require_writable()
        column = self.state.schema[name]
        probe = Schema([column])
        if isinstance(values, np.ndarray | pa.Array) or not isinstance(values, list | tuple):
            columns, count = to_columns({name: values}, probe)
        else:
            columns, count = {name: list(values)}, len(values)
        if count != len(rows):
            raise InvalidArgument(f"{count} values given for {len(rows)} rows of column {name!r}")
        arr = convert_batch(columns, count, probe, self.media)[column.id]
        self.set_state(self.state.updated(self.loader, column, rows, arr))

    def engine(self) -> Any:
        """This handle's DuckDB connection (made on first use: importing DuckDB costs ~35 ms)."""
        if self._duckdb is None:
            from .sql import engine_connection

            self._duckdb = engine_connection()
        return self._duckdb


__all__ = ["Checkout"]

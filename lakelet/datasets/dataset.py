"""The :class:`Dataset` handle: typed columns, row access, and version control.

A handle works on one branch (or a fixed version, read-only). Appends and edits
stay in the handle, visible to it (``ds.has_changes``), until :meth:`Dataset.commit`
writes their column files, a manifest, and moves the branch head by
compare-and-swap. Other handles keep seeing the last commit they read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ..errors import InvalidArgument, MissingDependency
from . import manifest as M
from . import refs
from . import types as T
from .checkout import Checkout
from .errors import DatasetError, MergeConflict
from .fragments import ROWID, Piece
from .ingest import convert_batch, to_columns
from .schema import Schema
from .state import State
from .storage_io import Writer
from .views import ColumnView, Row, RowView, normalize_index

if TYPE_CHECKING:
    from .gc import GCReport


#: uncommitted appended bytes a handle keeps in memory before writing them as a piece (Dataset.spill)
SPILL_BYTES = 256 << 20


@dataclass(frozen=True)
class Version:
    """One commit in a dataset's history."""

    id: str
    message: str
    timestamp: float
    parents: tuple[str, ...]
    rows: int

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=UTC)

    def __repr__(self) -> str:
        return f"Version({self.id[:12]}, {self.message!r}, {self.time:%Y-%m-%d %H:%M:%S}, rows={self.rows})"


class Dataset:
    """A typed, versioned table stored as immutable column files on any backend."""

    def __init__(
        self, writer: Writer, *, settings: dict[str, Any], read_only: bool = False, ref: str | None = None
    ) -> None:
        #: what this handle stands on and its uncommitted work (see :mod:`lakelet.datasets.checkout`)
        self.checked_out = Checkout(writer, settings=settings, read_only=read_only)
        #: uncommitted appends above this many bytes are written to storage as a piece (see :meth:`spill`)
        self.spill_bytes = SPILL_BYTES
        self.checked_out.load(ref or settings.get("default_branch", "main"))

    @property
    def blobs(self) -> Any:
        """The dataset's content-addressed media store (a HashKeyStorage)."""
        return self.checked_out.media

    # ------------------------------------------------------------------ properties
    @property
    def path(self) -> str:
        return self.checked_out.writer.original_path

    @property
    def schema(self) -> Schema:
        return self.checked_out.state.schema

    @property
    def version(self) -> str:
        """Id of the commit this handle's data derives from."""
        return self.checked_out.head_id

    @property
    def current_branch(self) -> str | None:
        return self.checked_out.branch

    @property
    def has_changes(self) -> bool:
        """Whether there is uncommitted work in this handle."""
        return self.checked_out.dirty

    @property
    def read_only(self) -> bool:
        co = self.checked_out
        return co.read_only or co.branch is None

    def __len__(self) -> int:
        return self.checked_out.state.num_rows

    def __repr__(self) -> str:
        co = self.checked_out
        where = co.branch or f"version {co.head_id[:12]}"
        dirty = ", uncommitted changes" if co.dirty else ""
        return f"Dataset({self.path!r}, {where}, rows={len(self)}, columns={self.schema.names}{dirty})"

    # ------------------------------------------------------------------ schema
    def add_column(self, name: str, dtype: Any, default_value: Any = None) -> None:
        """Add a column; existing rows read as ``default_value`` (no data is rewritten)."""
        co = self.checked_out
        co.require_writable()
        dtype = T.as_type(dtype)
        default = None
        if default_value is not None:
            probe = Schema([]).added(name, dtype, None)
            arrays = convert_batch({name: [default_value]}, 1, probe, self.blobs)
            default = next(iter(arrays.values()))[0].as_py()
        co.set_state(co.state.with_schema(self.schema.added(name, dtype, default)))

    def remove_column(self, name: str) -> None:
        co = self.checked_out
        co.require_writable()
        co.set_state(co.state.with_schema(self.schema.removed(name)))

    def rename_column(self, name: str, new_name: str) -> None:
        co = self.checked_out
        co.require_writable()
        co.set_state(co.state.with_schema(self.schema.renamed(name, new_name)))

    # ------------------------------------------------------------------ rows
    def append(self, data: Any) -> None:
        """Add rows: a row dict, a dict of columns, a list of row dicts, a DataFrame or an Arrow table.

        The batch is validated whole first: a bad value raises :class:`SchemaError`
        naming the column and row, and nothing of the batch is kept.
        """
        co = self.checked_out
        co.require_writable()
        from .dask_io import is_dask_collection

        if is_dask_collection(data):  # partitions are converted and written by the workers
            from .dask_io import write_dask

            write_dask(self, data)
            return
        columns, rows = to_columns(data, self.schema)
        if rows == 0:
            return
        arrays = convert_batch(columns, rows, self.schema, self.blobs)
        co.set_state(co.state.appended(arrays, rows))
        co.pending_bytes += sum(a.nbytes for a in arrays.values())
        if co.pending_bytes >= self.spill_bytes:
            self.spill()

    extend = append

    def spill(self) -> None:
        """Write the uncommitted rows held in memory to storage now, as pieces of the coming commit.

        Appends call this by themselves once more than :attr:`spill_bytes` are held, so a dataset
        larger than memory is ingested in one commit with memory bounded by about one piece.
        Nothing is published: readers, other handles and the branch head see the files only when
        :meth:`commit` names them in a manifest; a crash (or :meth:`rollback`) leaves them as
        garbage that :meth:`gc` collects after its grace period. A commit must follow within that
        grace period (checked: a commit whose spilled file was collected fails, publishing nothing).
        """
        co = self.checked_out
        co.require_writable()
        state = co.state
        if state.committed:
            return
        keep = state.materialized_ids()
        trimmed = [
            p
            if p.committed
            else Piece(
                p.rows,
                {k: v for k, v in p.columns.items() if k in keep},
                p.id,
                {k: v for k, v in p.stats.items() if k in keep},
            )
            for p in state.pieces
        ]
        written: list[str] = []
        pieces = co.write_pieces(State.of(state.schema, trimmed), written)
        co.state = State.of(state.schema, pieces)
        co.spilled += written
        co.pending_bytes = 0
        # the written arrays were combined/serialised on pool threads that are gone now: hand their
        # freed pages back to the OS, or the allocator may keep several pieces' worth resident
        pa.default_memory_pool().release_unused()

    def delete(self, index: Any) -> None:
        """Remove rows (an int, a slice or a list of indices)."""
        co = self.checked_out
        co.require_writable()
        rows = normalize_index(index, len(self))
        rows = np.array([rows]) if isinstance(rows, int) else np.unique(rows)
        if len(rows):
            co.set_state(co.state.deleted(co.loader, rows))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            self.schema[index]
            return ColumnView(self, index)
        rows = normalize_index(index, len(self))
        if isinstance(rows, int):
            return Row(self, rows)
        return RowView(self, rows)

    def __iter__(self) -> Iterator[Row]:
        return (Row(self, i) for i in range(len(self)))

    # ------------------------------------------------------------------ bulk reads
    def to_arrow(self, columns: list[str] | None = None, *, labels: bool = False) -> pa.Table:
        """The rows as an Arrow table (zero copy over local column files; media as references).

        ``labels=True``: class-label columns as dictionary arrays of their names instead of codes.
        """
        co = self.checked_out
        table = co.state.table(co.loader, columns)
        return self.schema.present(table) if labels else table

    def to_pandas(self, columns: list[str] | None = None, *, labels: bool = True) -> Any:
        """The rows as a DataFrame: class labels as ``Categorical`` (``labels=False``: the codes),
        integer/bool columns with nulls as pandas nullable dtypes (see :mod:`.frames`)."""
        from .frames import to_pandas

        return to_pandas(self.to_arrow(columns, labels=labels))

    def batches(self, batch_size: int = 1024, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """Dicts of decoded column values, ``batch_size`` rows at a time."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgument(f"batch_size must be a positive int, got {batch_size!r}")
        names = columns or self.schema.names
        for start in range(0, len(self), batch_size):
            rows = np.arange(start, min(start + batch_size, len(self)), dtype=np.int64)
            yield {name: self.checked_out.read_many(name, rows) for name in names}

    def pytorch(self, transform: Any = None, columns: list[str] | None = None) -> Any:
        """A ``torch.utils.data.IterableDataset`` over the rows (needs torch only when called)."""
        try:
            import torch.utils.data as tud
        except ImportError as e:
            raise MissingDependency("ds.pytorch() needs PyTorch: pip install torch") from e
        dataset = self
        names = columns or self.schema.names

        class _Rows(tud.IterableDataset):  # type: ignore[misc]
            def __iter__(self) -> Iterator[Any]:
                for batch in dataset.batches(1024, names):
                    for i in range(len(batch[names[0]])):
                        row = {n: batch[n][i] for n in names}
                        yield transform(row) if transform is not None else row

            def __len__(self) -> int:
                return len(dataset)

        return _Rows()

    def to_dask(
        self,
        columns: list[str] | None = None,
        filter: str | None = None,
        *,
        labels: bool = True,  # noqa: A002
    ) -> Any:
        """This version as a Dask DataFrame, one partition per piece (see :mod:`lakelet.datasets.dask_io`)."""
        from .dask_io import to_dask

        return to_dask(self, columns=columns, filter=filter, labels=labels)

    def __dask_tokenize__(self) -> tuple[str, ...]:
        """Dask's token: the committed version, so a new commit is new data to Dask and the same one is not.

        Uncommitted rows have no name outside this handle: a fresh random token each time.
        """
        co = self.checked_out
        if co.dirty:
            import uuid

            return ("lakelet.Dataset", uuid.uuid4().hex)
        return ("lakelet.Dataset", self.path, co.head_id)

    def summary(self) -> None:
        """Print the dataset's location, version, size and columns."""
        print(self._summary_text())

    def _summary_text(self) -> str:
        co = self.checked_out
        lines = [
            f"Dataset {self.path}",
            f"  branch: {co.branch or '(detached)'}  version: {co.head_id[:12]}"
            + ("  (uncommitted changes)" if co.dirty else ""),
            f"  rows: {len(self)}",
            "  columns:",
        ]
        width = max((len(c.name) for c in self.schema), default=4)
        lines += [f"    {c.name:<{width}}  {c.type!r}" for c in self.schema]
        return "\n".join(lines)

    def query(self, sql: str, *, prune: bool = True, labels: bool = True, indexes: bool = True) -> Any:
        """Run DuckDB SQL where this version is the table ``ds`` (``SELECT * WHERE ...`` needs no FROM).

        Only the columns the SQL mentions are read, and (``prune=True``) only the
        pieces whose statistics do not rule out the WHERE clause. Class labels are
        their names (``WHERE zone = 'SoHo'``); ``labels=False`` gives the stored codes.
        ``indexes``: a top-k vector ranking and ``bm25_similarity`` use the search
        indexes built for this version (:meth:`create_index`); ``False`` ranks exactly.
        """
        from .quick_filter import query as quick_query
        from .results import check_arguments

        check_arguments(sql, prune=prune, labels=labels, indexes=indexes)
        quick = quick_query(self, sql, prune=prune, labels=labels, indexes=indexes)  # no DuckDB needed
        if quick is not None:
            return quick
        from .sql import query_dataset

        return query_dataset(self, sql, prune=prune, labels=labels, indexes=indexes)

    # ------------------------------------------------------------------ search indexes
    def create_index(
        self, column: str, kind: str = "embedding", *, metric: str = "cosine", progress: bool | None = None
    ) -> Any:
        """Build a search index of ``column`` for this (committed) version: ``"embedding"``
        (approximate nearest neighbours; ``metric`` cosine, l2 or inner_product) or ``"bm25"``
        (full text). Same as ``ds[column].create_index(kind)``."""
        from .indexes import create

        return create(self, column, kind, metric=metric, progress=progress)

    def drop_index(self, column: str, kind: str | None = None) -> int:
        """Remove ``column``'s indexes (of ``kind``, or all); the number removed."""
        from .indexes import drop

        return drop(self, column, kind)

    @property
    def indexes(self) -> list[Any]:
        """Every stored search index; ``current`` ones answer queries of this version."""
        from .indexes import list_indexes

        return list_indexes(self)

    # ------------------------------------------------------------------ version control
    def commit(self, message: str | None = None) -> str:
        """Publish the uncommitted work as a new version of the branch; returns its id."""
        co = self.checked_out
        co.require_writable()
        state = co.state.pruned()
        co.freshen_media()  # before anything is published: see media.py
        if co.spilled:
            from .spill import freshen_files

            freshen_files(co.writer, co.spilled)  # like media: a collected file fails the commit
        pieces = co.write_pieces(state)
        manifest = M.Manifest.build([co.head_id, *co.merge_parents], message or "", state.schema, pieces)
        M.store(co.writer, manifest)
        co.head_seq = refs.move(co.writer, co.branch, co.head_seq, manifest.id)  # type: ignore[arg-type]
        co.head_id = manifest.id
        co.base = State.of(state.schema, pieces)
        co.reset()
        return manifest.id

    def rollback(self) -> None:
        """Drop every uncommitted change of this handle."""
        self.checked_out.reset()

    def refresh(self) -> None:
        """Move to the latest commit of the branch; uncommitted appends are replayed on top of it."""
        co = self.checked_out
        if co.branch is None:
            return
        appended = self._pending_appends()
        old_schema = co.state.schema
        spilled, pending = co.spilled, co.pending_bytes
        co.load(co.branch)
        for piece in appended:
            arrays: dict[str, Any] = {}
            stats = {}
            for cid, source in piece.columns.items():
                column = old_schema.by_id(cid)
                if cid != ROWID and (column is None or column.name not in self.schema):
                    name = column.name if column is not None else cid
                    raise MergeConflict(f"the new head has no column {name!r} that your appends use", columns=[name])
                new_id = ROWID if cid == ROWID else self.schema[column.name].id  # type: ignore[union-attr]
                arrays[new_id] = source if isinstance(source, str) else _array(source)
                if cid in piece.stats:
                    stats[new_id] = piece.stats[cid]
            if piece.committed:  # spilled or adopted: files already written, kept as a piece
                kept = Piece(piece.rows, arrays, stats=stats)
                co.state = State.of(co.state.schema, [*co.state.pieces, kept])
            else:
                co.state = co.state.appended(arrays, piece.rows)
        co.dirty = bool(appended)
        co.spilled, co.pending_bytes = spilled, pending

    def _pending_appends(self) -> list[Piece]:
        co = self.checked_out
        if not co.dirty:
            return []
        base, now = co.base.pieces, co.state.pieces
        same_prefix = len(now) >= len(base) and all(a is b for a, b in zip(base, now[: len(base)], strict=True))
        if co.state.schema != co.base.schema or not same_prefix:
            raise MergeConflict(
                "this handle has uncommitted edits other than appends; commit them on a new branch, or rollback()"
            )
        return list(now[len(base) :])

    @property
    def history(self) -> list[Version]:
        """Commits reachable from this handle's version, newest first (first parents)."""
        co = self.checked_out
        out = []
        commit: str | None = co.head_id
        while commit:
            m = M.load(co.writer, commit)
            out.append(Version(m.id, m.message, m.timestamp, m.parents, m.rows))
            commit = m.parents[0] if m.parents else None
        return out

    def log(self) -> list[Version]:
        """Print and return :attr:`history`."""
        versions = self.history
        for v in versions:
            print(f"{v.id[:12]}  {v.time:%Y-%m-%d %H:%M:%S}  rows={v.rows:<8} {v.message}")
        return versions

    def tag(self, name: str, version: str | None = None) -> str:
        """Name a version (default: this handle's); tags never move."""
        co = self.checked_out
        co.require_not_read_only()
        commit = co.resolve(version)[1] if version else co.head_id
        refs.create_tag(co.writer, name, commit)
        return commit

    @property
    def tags(self) -> dict[str, str]:
        return refs.tags(self.checked_out.writer)

    @property
    def branches(self) -> list[str]:
        return refs.branches(self.checked_out.writer)

    def branch(self, name: str, version: str | None = None) -> str:
        """Create a branch at ``version`` (default: this handle's version); does not switch to it."""
        co = self.checked_out
        co.require_not_read_only()
        commit = co.resolve(version)[1] if version else co.head_id
        refs.create_branch(co.writer, name, commit)
        return name

    def delete_branch(self, name: str) -> None:
        co = self.checked_out
        co.require_not_read_only()
        if name == co.settings.get("default_branch", "main"):
            raise DatasetError(f"cannot delete the default branch {name!r}")
        refs.head(co.writer, name)
        refs.delete_branch(co.writer, name)

    def checkout(self, name: str, create: bool = False) -> None:
        """Switch to a branch, a tag or a version (tags and versions are read-only)."""
        co = self.checked_out
        if co.dirty:
            raise DatasetError("uncommitted changes: commit() or rollback() before checkout")
        if create:
            self.branch(name)
        co.load(name)

    def merge(self, name: str, message: str | None = None) -> str:
        """Merge a branch or version into this branch; raises :class:`MergeConflict` on conflicting rows."""
        from .vcs import merge

        return merge(self, name, message)

    def diff(self, a: str | None = None, b: str | None = None) -> Any:
        """Rows added, removed and changed from version ``a`` to ``b`` (default: last commit to working state)."""
        from .vcs import diff

        return diff(self, a, b)

    def gc(self, *, grace_period: float = 3600, dry_run: bool = False) -> GCReport:
        """Delete stored files no branch or tag reaches (leftovers of crashed or conflicting commits,
        deleted branches) that are older than ``grace_period`` seconds; see :mod:`lakelet.datasets.gc`."""
        from .gc import collect

        return collect(self, grace_period=grace_period, dry_run=dry_run)

    def browse(self, **options: Any) -> Any:
        """An interactive browser widget for this dataset (ipywidgets; see :mod:`lakelet.display`)."""
        from ..display import browser

        return browser(self, **options)


def _array(source: Any) -> pa.Array:
    return source.combine_chunks() if isinstance(source, pa.ChunkedArray) else source

"""Datasets as Dask collections: read a version as a ``dask.dataframe``, write one from it.

A committed version is a list of immutable pieces, which is exactly what a Dask
DataFrame wants: :func:`to_dask` makes one partition per piece. The client
decides which pieces are read (a piece whose statistics rule out ``filter`` is
never scheduled, see :mod:`lakelet.datasets.pruning`) and which column files;
each task reads only its piece's files for those columns, from whatever backend
holds the dataset, and applies the filter with DuckDB. The graph names the
commit, so a re-run over the same version is the same graph, and a new commit
is a new one (``Dataset.__dask_tokenize__``).

:func:`write_dask` (``ds.extend(ddf)``, ``lakelet.from_dask``) writes the other way: each partition is converted and its
column files written *on the worker* (in parallel, straight to the dataset's
storage), the workers send back only the descriptions of the pieces they
wrote, and the client publishes them as one new version with one
compare-and-swap on the branch head. A failure anywhere publishes nothing;
files of a failed run are garbage that ``ds.gc()`` collects after its grace
period.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .._optional import require
from ..errors import InvalidArgument
from .fragments import ColumnLoader, Piece
from .schema import Schema
from .state import State
from .storage_io import Reader, Writer

if TYPE_CHECKING:
    from .dataset import Dataset


def _dask_dataframe() -> Any:
    return require("dask.dataframe", extra="dask", what="a dataset as a Dask collection")


def is_dask_collection(data: Any) -> bool:
    """True for a Dask DataFrame (checked without importing Dask)."""
    return type(data).__module__.startswith("dask") and hasattr(data, "map_partitions")


# ---------------------------------------------------------------------------------------------- reading
def _where_conditions(ds: Dataset, where: str) -> list[Any]:
    """Prunable conditions of ``where`` (a SQL boolean expression over the columns); checks that it binds."""
    import duckdb

    from .pruning import conditions
    from .sql import _parse, connect

    con = connect(ds.checked_out.engine())
    sql = f"SELECT * FROM ds WHERE {where}"
    con.register("ds", State.of(ds.schema, []).table(ds.checked_out.loader, ds.schema.names))
    try:
        tree = _parse(con, sql)
        con.execute(f"{sql} LIMIT 0").fetchall()
    except (duckdb.Error, InvalidArgument) as e:
        raise InvalidArgument(f"filter {where!r} does not apply to {ds.path}: {e}") from e
    statements = tree.get("statements") or []
    if len(statements) != 1 or (statements[0].get("node") or {}).get("type") != "SELECT_NODE":
        raise InvalidArgument(f"filter must be one boolean expression, got {where!r}")
    return conditions(tree, "ds", ds.schema)


class _ReadPiece:
    """The task of one partition: everything it needs travels with it (storage, schema, piece)."""

    def __init__(
        self, reader: Reader, schema: Schema, columns: list[str], where: str | None, version: str, labels: bool
    ) -> None:
        self.reader, self.schema, self.columns, self.where = reader, schema, columns, where
        self.version, self.labels = version, labels

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        """The same read of the same version is the same graph (the pieces are tokenized beside it)."""
        return ("lakelet.to_dask", repr(self.reader), self.version, tuple(self.columns), self.where, self.labels)

    def __call__(self, piece: dict[str, Any]) -> Any:
        state = State.of(self.schema, [Piece.from_json(piece)])
        return self.frame(state.table(ColumnLoader(self.reader), self.columns))

    def frame(self, table: pa.Table) -> Any:
        """``table`` filtered (by DuckDB) and as pandas: also gives the partitions' meta, from no rows."""
        if self.where is not None:
            from .results import to_arrow
            from .sql import connect

            con = connect()
            con.register("piece", table)
            table = to_arrow(con.sql(f"SELECT * FROM piece WHERE {self.where}"))
        if self.labels:  # what ds.to_pandas() shows: class labels as Categoricals
            table = self.schema.present(table)
        from .frames import to_pandas

        return to_pandas(table)


def to_dask(
    ds: Dataset, columns: list[str] | None = None, filter: str | None = None, *, labels: bool = True  # noqa: A002
) -> Any:
    """This version of ``ds`` as a Dask DataFrame with one partition per piece.

    ``columns``: the columns to read (default all); ``filter``: a SQL boolean
    expression over the columns as ``ds.query`` sees them (``"score > 0.5"``).
    Pieces whose statistics rule the filter out are not read at all. Partitions
    have the dtypes of ``ds.to_pandas(labels=labels)``.
    Uncommitted rows live only in this process, so they must be committed first.
    """
    dd = _dask_dataframe()
    if ds.has_changes:
        raise InvalidArgument(f"{ds.path} has uncommitted changes: commit() first (workers read committed pieces)")
    names = list(ds.schema.names) if columns is None else list(columns)
    if not names:
        raise InvalidArgument(f"to_dask needs at least one column of {ds.path}")
    for name in names:
        if not isinstance(name, str) or name not in ds.schema:
            raise InvalidArgument(f"{ds.path} has no column {name!r} (columns: {', '.join(ds.schema.names)})")
    if filter is not None and (not isinstance(filter, str) or not filter.strip()):
        raise InvalidArgument(f"filter must be a SQL boolean expression, got {filter!r}")
    from .pruning import keep

    state = ds.checked_out.state
    found = _where_conditions(ds, filter) if filter is not None else []
    pieces = [p.to_json() for p in state.pieces if not found or keep(p, state.schema, found)]
    task = _ReadPiece(ds.checked_out.writer.reader(), state.schema, names, filter, ds.version, labels)
    meta = task.frame(State.of(state.schema, []).table(ds.checked_out.loader, names))
    if not pieces:
        return dd.from_pandas(meta, npartitions=1)
    return dd.from_map(
        task,
        pieces,
        meta=meta,
        label=f"lakelet-{ds.version[:12]}",
        enforce_metadata=False,
    )


# ---------------------------------------------------------------------------------------------- writing
class _WritePartition:
    """On a worker: convert one partition with the dataset's types and write its column files."""

    def __init__(self, dataset_type: type[Dataset], writer: Writer, settings: Mapping[str, Any], branch: str,
                 schema: Schema) -> None:
        self.dataset_type, self.writer, self.settings = dataset_type, writer, dict(settings)
        self.branch, self.schema = branch, schema

    def __call__(self, frame: Any) -> list[dict[str, Any]]:
        from .errors import CommitConflict

        if len(frame) == 0:
            return []
        ds = self.dataset_type(self.writer, settings=self.settings, ref=self.branch)
        if [(c.id, c.name) for c in ds.schema] != [(c.id, c.name) for c in self.schema]:
            raise CommitConflict(f"the schema of {ds.path}@{self.branch} changed while Dask was writing to it")
        ds.checked_out.set_state(State.of(self.schema, []))  # only this partition's rows: the head's pieces stay put
        ds.append(frame)
        ds.checked_out.freshen_media()
        return [p.to_json() for p in ds.checked_out.write_pieces(ds.checked_out.state.pruned())]


def write_dask(ds: Dataset, ddf: Any) -> int:
    """Write ``ddf``'s partitions as pieces of ``ds`` from the workers; ``ds`` adopts them (uncommitted).

    Returns the number of rows added. The caller commits (one compare-and-swap).
    """
    import dask

    ds.checked_out.require_writable()
    if ds.has_changes:
        raise InvalidArgument(f"{ds.path} has uncommitted changes: commit() or rollback() before extending from Dask")
    task = _WritePartition(type(ds), ds.checked_out.writer, ds.checked_out.settings, ds.current_branch, ds.schema)  # type: ignore[arg-type]
    parts = ddf.to_delayed()
    described = dask.compute(*[dask.delayed(task)(part) for part in parts])
    pieces = [Piece.from_json(p) for batch in described for p in batch]
    ds.checked_out.adopt(pieces)
    return sum(p.rows for p in pieces)

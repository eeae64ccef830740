"""What a query returns: :class:`QueryView`, a lazy result read through DuckDB.

Its own module, without DuckDB at import: a result whose rows :mod:`.quick_filter` found holds only
their positions, and a fresh kernel that asks only for ``len`` never starts DuckDB.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import InvalidArgument
from .types import ClassLabel

if TYPE_CHECKING:
    import duckdb

    from .dataset import Dataset


def to_arrow(relation: Any) -> pa.Table:
    """A DuckDB relation's rows as an Arrow table (the method's name differs in DuckDB 1.x and 2.x)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def check_arguments(sql: Any, *, prune: Any, labels: Any, indexes: Any) -> None:
    """Refuse what ``ds.query`` cannot take, before any path runs it."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidArgument("the query must be a non-empty SQL string")
    for name, value in (("prune", prune), ("labels", labels), ("indexes", indexes)):
        if not isinstance(value, bool):
            raise InvalidArgument(f"{name} must be True or False, got {value!r}")


class QueryView:
    """The result of a query: lazy until read; ``len``, ``to_arrow``, ``to_pandas``, ``save``."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None, sql: str, sources: dict[str, Dataset]) -> None:
        self._con = con
        self.sql = sql
        self._sources = sources
        self._table: pa.Table | None = None
        self._len: int | None = None
        self._through_duckdb: Callable[[], QueryView] | None = None
        self.indexes_used: list[str] = []  # "table.column (kind)" of each search index that answered

    @classmethod
    def deferred(
        cls, sql: str, sources: dict[str, Dataset], length: int, through_duckdb: Callable[[], QueryView]
    ) -> QueryView:
        """A result whose rows are known (``length`` of them) but not yet read: ``through_duckdb``
        makes the equivalent DuckDB result when something needs it (see :mod:`.quick_filter`)."""
        view = cls(None, sql, sources)
        view._len = length
        view._through_duckdb = through_duckdb
        return view

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None and self._through_duckdb is not None:
            self._con = self._through_duckdb()._con
            self._through_duckdb = None
        return self._con  # type: ignore[return-value]

    @property
    def relation(self) -> duckdb.DuckDBPyRelation:
        """The DuckDB relation (compose it further with DuckDB's relational API)."""
        return self._connection().sql(self.sql)

    def __len__(self) -> int:
        if self._len is None:
            if self._table is not None:
                self._len = self._table.num_rows
            else:
                self._len = int(self._connection().execute(f"SELECT count(*) FROM ({self.sql})").fetchall()[0][0])
        return self._len

    def to_arrow(self) -> pa.Table:
        if self._table is None:
            self._table = as_labels(to_arrow(self._connection().sql(self.sql)), self._sources)
        return self._table

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()

    def __getitem__(self, column: str) -> Any:
        return self.to_arrow().column(column).to_pylist()

    def save(self, url: str, creds: Mapping[str, Any] | None = None) -> Dataset:
        """Write the result as a new dataset at ``url`` (media columns keep their content)."""
        from .layout import _writer, initialize
        from .save import save_table
        from .schema import Schema

        writer = _writer(url, creds)
        kind = type(next(iter(self._sources.values())))  # a view is made from datasets: make one of theirs
        target = kind(writer, settings=initialize(writer, Schema()))
        return save_table(self.to_arrow(), target, self._sources)

    def __repr__(self) -> str:
        return f"QueryView({len(self)} rows)\n{self.to_arrow().slice(0, 10).to_pandas()!r}"

    def _repr_html_(self) -> str:
        head = self.to_arrow().slice(0, 50).to_pandas()
        return f"<p>{len(self)} rows</p>" + head.to_html(max_rows=50)


def as_labels(table: pa.Table, sources: Mapping[str, Dataset]) -> pa.Table:
    """Result columns named like a class-label column of a source, holding only its names, as that
    column reads in ``to_arrow``: a dictionary of the label names (DuckDB hands ENUMs back as text).
    Text that is not all label names (``upper(zone) AS zone``) stays text."""
    kinds: dict[str, ClassLabel] = {}
    for ds in sources.values():
        for column in ds.schema:
            if isinstance(column.type, ClassLabel) and column.type.labels:
                kinds.setdefault(column.name, column.type)
    for i, name in enumerate(table.column_names):
        dtype, values = kinds.get(name), table.column(i)
        if dtype is None or not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        import pyarrow.compute as pc

        codes = pc.index_in(values, value_set=pa.array(list(dtype.labels), pa.string()))
        if codes.null_count == values.null_count:
            table = table.set_column(i, name, dtype.present(codes.cast(dtype.arrow)))
    return table

"""DuckDB over datasets.

``ds.query(sql)`` exposes the handle's version (uncommitted rows included) as
the table ``ds``; a query with no FROM, Deep Lake style ``SELECT * WHERE ...``,
reads from it. :func:`query` names datasets by URL:
``FROM dataset('s3://bucket/ds', version='v1')``.

Only the columns a query mentions are loaded: the SQL is parsed by DuckDB
(``json_serialize_sql``) and its column references select the column files to
read, and the pieces whose statistics prove the WHERE clause cannot match are
skipped (:mod:`lakelet.datasets.pruning`). Local files are memory-mapped and handed to DuckDB as Arrow without a
copy; remote ones are fetched in parallel through fsspec (DuckDB's httpfs is
not needed). ``cosine_similarity`` and ``l2_distance`` are NULL, never NaN, for
zero or NaN vectors, so ``ORDER BY ... DESC LIMIT k`` ranks them last.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import InvalidArgument, MissingDependency
from . import search
from .fragments import ROWID
from .pruning import Condition, conditions, keep
from .results import QueryView, check_arguments
from .state import State
from .types import ClassLabel

if TYPE_CHECKING:
    from .dataset import Dataset

# A NULL vector is NULL, not an error: DuckDB's list functions see the null slots of an Arrow
# fixed-size list as NULL elements and refuse them, so the CASE keeps such rows away from them.
# A zero vector has no direction: its NaN similarity becomes NULL (ranked last). ``nullif(f(...), nan)``
# would evaluate f twice (DuckDB expands nullif into a CASE): 47 ms instead of 25 ms for 200k x 128,
# so the value goes through a one-element list and a lambda, computed once.
_MACRO = (
    "CREATE MACRO {name}(a, b) AS CASE WHEN a IS NULL OR b IS NULL THEN NULL "
    "ELSE list_transform([{builtin}(a::FLOAT[], b::FLOAT[])], {lambda_}nullif(v, 'nan'::FLOAT))[1] END"
)
_VECTOR_FUNCTIONS = (
    ("cosine_similarity", "list_cosine_similarity"),
    ("l2_distance", "list_distance"),
    ("inner_product", "list_inner_product"),
)


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the vector functions; DuckDB 1.3+ spells a lambda ``lambda v: ...`` (2.0 refuses ``v -> ...``)."""
    for lambda_ in ("lambda v: ", "v -> "):
        try:
            for name, builtin in _VECTOR_FUNCTIONS:
                con.execute(_MACRO.format(name=name, builtin=builtin, lambda_=lambda_))
            return
        except duckdb.ParserException:
            continue  # DuckDB before 1.3: the arrow
    raise MissingDependency(
        f"DuckDB {duckdb.__version__} cannot define lakelet's vector functions: pip install 'duckdb>=1.1'"
    )


def connect(engine: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with lakelet's vector functions, for one query.

    A handle keeps one ``engine`` (a connection to the process's database, see
    :func:`engine_connection`) and each query gets a cheap cursor of it; tables
    registered on a cursor are private to that cursor.
    """
    con = engine.cursor() if engine is not None else engine_connection()
    con.execute("SET enable_progress_bar = false")
    con.execute("SET default_null_order = 'nulls_last'")
    return con


_DATABASE_LOCK = threading.Lock()  # a DuckDB connection object is not to be used by two threads at once


@functools.cache
def _database(pid: int) -> duckdb.DuckDBPyConnection:
    """This process's in-memory DuckDB database, with the macros defined (no extension downloads).

    Creating a database costs ~20 ms (DuckDB loads its catalog), which every dataset handle paid
    for its first query, so a notebook re-opening a dataset paid it again each time. One per
    process (``pid``: a forked child makes its own), and each handle works on its own connection
    to it, where its tables are registered privately."""
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    _macros(con)
    return con


def engine_connection() -> duckdb.DuckDBPyConnection:
    """A new connection to this process's DuckDB database (see :func:`_database`)."""
    with _DATABASE_LOCK:
        con = _database(os.getpid()).cursor()
    con.execute("SET enable_progress_bar = false")
    return con


def _parse(con: duckdb.DuckDBPyConnection, sql: str) -> dict[str, Any]:
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    except duckdb.Error as e:
        raise InvalidArgument(f"cannot parse SQL: {e}") from e
    if tree.get("error"):
        raise InvalidArgument(f"cannot parse SQL: {tree.get('error_message', tree)}")
    return tree


def referenced(tree: Any) -> tuple[set[str], bool]:
    """Column names a parsed query mentions, and whether it uses ``*``."""
    names: set[str] = set()
    star = False
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            cls = node.get("class")
            if cls == "COLUMN_REF":
                names.add(node["column_names"][-1])
            elif cls == "STAR":
                star = True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return names, star


def _unparse(con: duckdb.DuckDBPyConnection, tree: dict[str, Any]) -> str:
    """SQL text of a (rewritten) parse tree: the rewrites work on DuckDB's tree, so string
    literals, quoted names and comments can never be mistaken for clauses."""
    try:
        return con.execute("SELECT json_deserialize_sql(?)", [json.dumps(tree)]).fetchall()[0][0]
    except duckdb.Error as e:
        raise InvalidArgument(f"cannot rewrite this query ({e}); name the dataset with an explicit FROM") from e


def _table_ref(con: duckdb.DuckDBPyConnection, name: str, alias: str = "") -> dict[str, Any]:
    """The parse-tree node of ``FROM name [AS alias]`` (taken from DuckDB, so it fits its version)."""
    ref = _parse(con, f'SELECT 1 FROM "{name}"')["statements"][0]["node"]["from_table"]
    ref["alias"] = alias
    return ref


def _with_from(con: duckdb.DuckDBPyConnection, tree: dict[str, Any], table: str) -> str:
    """A FROM-less ``SELECT ... WHERE ...`` with ``FROM table`` added, as SQL text."""
    rewritten = copy.deepcopy(tree)
    rewritten["statements"][0]["node"]["from_table"] = _table_ref(con, table)
    return _unparse(con, rewritten)


def _needs_from(tree: dict[str, Any]) -> bool:
    statements = tree.get("statements", [])
    if len(statements) != 1:
        return False
    node = statements[0]["node"]
    return node.get("type") == "SELECT_NODE" and node.get("from_table", {}).get("type") == "EMPTY"


def run(
    sql: str,
    datasets: Mapping[str, Dataset],
    default: str | None = None,
    engine: duckdb.DuckDBPyConnection | None = None,
    *,
    prune: bool = True,
    labels: bool = True,
    indexes: bool = True,
    restrict: Mapping[str, tuple[State, np.ndarray]] | None = None,
) -> QueryView:
    """Run ``sql`` with each dataset registered under its key; ``default`` feeds a FROM-less SELECT.

    ``prune``: skip pieces whose statistics prove the WHERE clause matches none
    of their rows (see :mod:`lakelet.datasets.pruning`); results are the same.
    ``labels``: class-label columns are their names in SQL (``WHERE zone = 'SoHo'``,
    ``GROUP BY zone``) and in the result (an Arrow dictionary, a pandas Categorical);
    ``labels=False`` gives the stored integer codes, as before names existed.
    ``indexes``: answer a top-k vector ranking from an embedding index built for the version read,
    and read ``bm25_similarity`` from a bm25 index (see :mod:`lakelet.datasets.search`);
    ``indexes=False`` ranks every row exactly.
    ``restrict``: a dataset is only these rows of this state (a result :mod:`.quick_filter` found,
    read now through DuckDB).
    """
    check_arguments(sql, prune=prune, labels=labels, indexes=indexes)
    con = connect(engine)
    tree = _parse(con, sql)
    from_less = default is not None and _needs_from(tree)
    if from_less:
        sql = _with_from(con, tree, default)  # type: ignore[arg-type]
    names, star = referenced(tree)
    if from_less:
        tree = _parse(con, sql)

    def matching(table_name: str, node: dict[str, Any], rows: np.ndarray) -> np.ndarray | None:
        return _matching(con, datasets[table_name], table_name, node, rows, labels=labels)

    planned = search.plan(con, tree, sql, dict(datasets), matching) if indexes else search.Plan(sql)
    if not indexes and search.uses_bm25(tree):
        raise InvalidArgument(f"{search.BM25_FUNCTION} reads a bm25 index: it cannot run with indexes=False")
    for table_name, ds in datasets.items():
        found = conditions(tree, table_name, ds.schema, default=from_less and table_name == default) if prune else []
        if labels:  # statistics hold codes, the query compares names: such conditions prune nothing
            found = [c for c in found if not isinstance(c.column.type, ClassLabel)]
        only = (restrict or {}).get(table_name)
        if only is not None:
            table = table_for(ds, names, star, labels=labels, rows=only[1], state=only[0])
        else:
            table = table_for(ds, names, star, found, labels=labels, rows=planned.rows.get(table_name))
        for hidden, values in planned.scores.get(table_name, {}).items():
            rows = planned.rows.get(table_name)
            table = table.append_column(hidden, pa.array(values if rows is None else values[rows]))
        con.register(table_name, table)
    sql = planned.sql
    try:
        # bind now, so a bad column or function fails at query() rather than at the first read
        con.execute(f"SELECT * FROM ({sql.strip().rstrip(';')}) LIMIT 0").fetchall()
    except duckdb.Error as e:
        raise InvalidArgument(f"query failed: {e}") from e
    view = QueryView(con, sql.strip().rstrip(";"), dict(datasets))
    view.indexes_used = list(planned.used)
    return view


_POSITION = "__lakelet_position"


def _matching(
    con: duckdb.DuckDBPyConnection,
    ds: Dataset,
    table_name: str,
    node: dict[str, Any],
    rows: np.ndarray,
    *,
    labels: bool,
) -> np.ndarray | None:
    """Which of ``rows`` (sorted positions in ``ds``, registered as ``table_name``) the WHERE clause of
    the parsed SELECT ``node`` keeps, reading only the columns it names at those rows; None when it
    names other things."""
    names, star = referenced(node["where_clause"])
    if star or not names <= set(ds.schema.names):
        return None
    rows = rows[rows < len(ds)]
    table = table_for(ds, names, False, labels=labels, rows=rows)
    table = table.append_column(_POSITION, pa.array(rows, pa.int64()))
    shell = _parse(con, f'SELECT "{_POSITION}"')
    shell["statements"][0]["node"]["from_table"] = node["from_table"]  # with the query's alias
    shell["statements"][0]["node"]["where_clause"] = node["where_clause"]
    select = _unparse(con, shell)
    filter_con = con.cursor()  # its own registrations: the query's tables are registered later
    try:
        filter_con.register(table_name, table)
        found = np.asarray(filter_con.execute(select).fetchnumpy()[_POSITION], dtype=np.int64)
    except duckdb.Error:
        return None  # the query itself reports what is wrong
    finally:
        filter_con.close()
    return np.sort(found)


def table_for(
    ds: Dataset,
    names: set[str],
    star: bool,
    where: list[Condition] | None = None,
    *,
    labels: bool = False,
    rows: np.ndarray | None = None,
    state: State | None = None,
) -> pa.Table:
    """The Arrow table DuckDB sees for ``ds``: only the mentioned columns are loaded, and with
    ``where`` (conditions of the query's filter) only the pieces that may match it; ``labels``:
    class-label columns as dictionaries of their names (DuckDB sees an ENUM); ``rows``: only these
    rows (an index's candidates); ``state``: this version of the handle's data (default: its own)."""
    state = state if state is not None else ds.checked_out.state
    schema = state.schema
    wanted = schema.names if star else [n for n in schema.names if n in names]
    if rows is not None:
        take = ds.checked_out.take_arrow
        table = pa.table({n: take(n, rows, state) for n in wanted}) if wanted else pa.table({ROWID: pa.array(rows)})
        return _as_duckdb_reads(schema.present(table) if labels else table)
    if where:
        kept = [p for p in state.pieces if keep(p, state.schema, where)]
        if len(kept) < len(state.pieces):
            state = State.of(state.schema, kept)
    ds.checked_out.loader.load_columns(state.pieces, {schema[n].id for n in wanted} | {ROWID})
    if not wanted:  # e.g. count(*): row ids give the row count cheaply
        rowids = state.column(ds.checked_out.loader, ROWID) if state.pieces else pa.chunked_array([], pa.int64())
        return pa.table({ROWID: rowids})
    table = state.table(ds.checked_out.loader, wanted)
    return _as_duckdb_reads(schema.present(table) if labels else table)


def _half_to_single(kind: pa.DataType) -> pa.DataType:
    """``kind`` with every float16 (at any depth) as float32."""
    if pa.types.is_float16(kind):
        return pa.float32()
    if pa.types.is_fixed_size_list(kind):
        return pa.list_(pa.field(kind.value_field.name, _half_to_single(kind.value_type)), kind.list_size)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        make = pa.list_ if pa.types.is_list(kind) else pa.large_list
        return make(pa.field(kind.value_field.name, _half_to_single(kind.value_type)))
    if pa.types.is_struct(kind):
        return pa.struct([f.with_type(_half_to_single(f.type)) for f in kind])
    return kind


def _as_duckdb_reads(table: pa.Table) -> pa.Table:
    """DuckDB has no half-precision float: Float16 columns (and float16 embeddings) are shown to it as
    float32, which holds every float16 value exactly; everything else as it is."""
    wanted = pa.schema([f.with_type(_half_to_single(f.type)) for f in table.schema])
    return table if wanted == table.schema else table.cast(wanted)


def query_dataset(ds: Dataset, sql: str, *, prune: bool = True, labels: bool = True, indexes: bool = True) -> QueryView:
    """``ds.query``, through DuckDB (:meth:`Dataset.query` tries :mod:`.quick_filter` first)."""
    engine = ds.checked_out.engine()
    return run(sql, {"ds": ds}, default="ds", engine=engine, prune=prune, labels=labels, indexes=indexes)


def _replace_dataset_calls(node: Any, swap: Any) -> None:
    """Replace, in place, every ``dataset(...)`` table function of a parse tree by ``swap(node)``."""
    if isinstance(node, dict):
        for field, child in node.items():
            if isinstance(child, dict) and child.get("type") == "TABLE_FUNCTION" and _is_dataset_call(child):
                node[field] = swap(child)
            else:
                _replace_dataset_calls(child, swap)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            if isinstance(child, dict) and child.get("type") == "TABLE_FUNCTION" and _is_dataset_call(child):
                node[i] = swap(child)
            else:
                _replace_dataset_calls(child, swap)


def _is_dataset_call(node: dict[str, Any]) -> bool:
    function = node.get("function") or {}
    return str(function.get("function_name", "")).lower() == "dataset" and not function.get("schema")


def _string(expression: dict[str, Any]) -> str | None:
    literal = expression.get("literal") if expression.get("class") == "CONSTANT" else None
    return literal.get("text") if isinstance(literal, dict) and literal.get("kind") == "STRING" else None


def _dataset_arguments(function: dict[str, Any]) -> tuple[str, str | None]:
    """(url, version or branch) of ``dataset('url'[, version='v1' | branch := 'b'])``."""
    usage = "use dataset('url') or dataset('url', version='...')"
    args = function.get("arguments") or function.get("children") or []
    args = [a.get("expression", a) if isinstance(a, dict) and "expression" in a else a for a in args]
    names = [a.get("name", "") for a in function.get("arguments") or []] or [""] * len(args)
    if not 1 <= len(args) <= 2 or _string(args[0]) is None:
        raise InvalidArgument(f"dataset(...) takes a URL string and an optional version; {usage}")
    url = _string(args[0])
    if len(args) == 1:
        return url, None  # type: ignore[return-value]
    arg, name = args[1], names[1] if len(names) > 1 else ""
    if name and name.lower() in ("version", "branch"):
        ref = _string(arg)
    elif arg.get("class") == "COMPARISON" and arg.get("type") == "COMPARE_EQUAL":
        left = arg.get("left", {})
        is_ref = left.get("class") == "COLUMN_REF" and [n.lower() for n in left.get("column_names", [])] in (
            ["version"],
            ["branch"],
        )
        ref = _string(arg.get("right", {})) if is_ref else None
    else:
        ref = None
    if ref is None:
        raise InvalidArgument(f"dataset(...)'s second argument must be version='...' or branch='...'; {usage}")
    return url, ref  # type: ignore[return-value]

"""SQL that uses a dataset's search indexes (:mod:`lakelet.datasets.indexes`).

Two shapes are planned before DuckDB runs the query:

* **Top-k by vector** — ``SELECT ... FROM ds ORDER BY cosine_similarity(emb, [..]) DESC LIMIT k``
  (or ``ORDER BY score`` naming such a select item; ``l2_distance`` ASC and ``inner_product`` DESC
  likewise), with no GROUP BY, DISTINCT or aggregate. With an embedding index of that metric
  built for the version read, the table DuckDB sees holds only the index's candidates (at least
  ``OVERSAMPLE * k`` and ``MIN_CANDIDATES`` of them, see :mod:`.indexes`), and DuckDB ranks them by
  the exact function: scores are exact, only the membership of the top k is approximate. Anything
  else, or no index, runs exact over every row.
  **With a WHERE** (no subquery in it), the index's nearest neighbours are filtered: the WHERE runs
  on those candidates only (the columns it names, at those rows), and when fewer than the wanted
  number pass, the index is asked once more, for as many as the share that passed says are needed,
  up to :data:`MAX_FILTERED_CANDIDATES` (and a quarter of the index). A filter that keeps too few
  rows for that gets the plain plan: DuckDB filters every row and ranks the matches exactly in one
  pass, which is what is fast for it.
* **BM25** — ``bm25_similarity(text, 'words')`` anywhere in a query reads the BM25 score of each
  row (0 where no word matches) from the column's BM25 index; there is no exact fallback for a
  corpus-wide score, so without an index the query fails and says how to build one. Under
  ``ORDER BY bm25_similarity(...) DESC LIMIT k`` with no WHERE, only the best ``k`` rows are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from ..errors import InvalidArgument
from . import indexes
from . import types as T

if TYPE_CHECKING:
    from .dataset import Dataset

BM25_FUNCTION = "bm25_similarity"
#: never ask the index for more neighbours than this for a filtered top-k: past it, a filter keeps so
#: few rows that DuckDB filtering every row and ranking the matches is faster (measured at 500k rows:
#: a graph search for 19,200 neighbours took ~80 ms, the filtered exact query 8-14 ms)
MAX_FILTERED_CANDIDATES = 5_000
#: ``matching(table, select, rows)``: which of ``rows`` (positions in ``table``) the SELECT's WHERE keeps
#: (None: it cannot tell, e.g. the WHERE names something else)
Matching = Callable[[str, dict[str, Any], "np.ndarray"], "np.ndarray | None"]
_BY_FUNCTION = {fn: (metric, order) for metric, (fn, order) in indexes.METRICS.items()}


@dataclass
class Plan:
    """What the indexes change for one query: the rows and extra columns each table exposes."""

    sql: str
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # table -> the only rows it exposes
    scores: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # table -> hidden column -> values
    used: list[str] = field(default_factory=list)  # "table.column (kind)" of every index used


def plan(
    con: duckdb.DuckDBPyConnection,
    tree: dict[str, Any],
    sql: str,
    datasets: dict[str, Dataset],
    matching: Matching | None = None,
) -> Plan:
    """The indexed plan of a parsed ``sql`` (a plain plan when no index applies); ``matching``
    evaluates a WHERE clause, for a filtered top-k (without it a filtered top-k runs exact)."""
    out = Plan(sql)
    statements = tree.get("statements") or []
    if len(statements) != 1:
        return out
    node = statements[0]["node"]
    calls = _bm25_calls(node) if BM25_FUNCTION in sql.lower() else []
    if calls:
        _plan_bm25(con, tree, node, calls, datasets, out)
    else:
        _plan_vector(con, node, datasets, out, matching)
    return out


def uses_bm25(tree: dict[str, Any]) -> bool:
    return bool(_bm25_calls(tree))


# ------------------------------------------------------------------ shapes
def _single_table(node: dict[str, Any], datasets: dict[str, Dataset], *, where: bool = False) -> tuple[str, str] | None:
    """(table, alias) when ``node`` is a plain top-k SELECT over one registered dataset (with a
    WHERE clause only when ``where``)."""
    if node.get("type") != "SELECT_NODE" or (node.get("cte_map") or {}).get("map"):
        return None
    if node.get("where_clause") and (not where or '"SUBQUERY"' in json.dumps(node["where_clause"])):
        return None
    if node.get("group_expressions") or node.get("group_sets"):
        return None
    if node.get("having") or node.get("qualify") or node.get("sample"):
        return None
    source = node.get("from_table") or {}
    if source.get("type") != "BASE_TABLE" or source.get("schema_name") or source.get("table_name") not in datasets:
        return None
    kinds = [m.get("type") for m in node.get("modifiers") or []]
    if kinds != ["ORDER_MODIFIER", "LIMIT_MODIFIER"]:
        return None
    return source["table_name"], source.get("alias") or source["table_name"]


def _limit(node: dict[str, Any]) -> int | None:
    """``LIMIT k [OFFSET n]`` as k + n, for constant integers."""
    modifier = node["modifiers"][1]
    total = 0
    for part in (modifier.get("limit"), modifier.get("offset")):
        if part is None:
            continue
        literal = part.get("literal") if part.get("class") == "CONSTANT" else None
        if not isinstance(literal, dict) or literal.get("kind") not in ("INTEGER", "BIGINT"):
            return None
        total += int(literal["text"])
    return total if total > 0 else None


def _strip(expression: Any) -> Any:
    """An expression without the fields that differ between two spellings of the same thing."""
    if isinstance(expression, dict):
        return {
            k: _strip(v) for k, v in expression.items() if k not in ("alias", "query_location", "query_location_length")
        }
    if isinstance(expression, list):
        return [_strip(v) for v in expression]
    return expression


def _ranking(node: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The function a single ORDER BY ranks by (directly or by a select item's alias), and its order."""
    orders = node["modifiers"][0].get("orders") or []
    if len(orders) != 1:
        return None
    expression, order = orders[0]["expression"], orders[0]["type"]
    if expression.get("class") == "COLUMN_REF" and len(expression.get("column_names", [])) == 1:
        named = [s for s in node.get("select_list", []) if s.get("alias") == expression["column_names"][0]]
        if len(named) == 1:
            expression = named[0]
    if expression.get("class") != "FUNCTION" or expression.get("schema"):
        return None
    return expression, order


def _simple_select(node: dict[str, Any], function: dict[str, Any]) -> bool:
    """Only columns, constants, * and the ranking function itself are selected (nothing that
    reads other rows, such as an aggregate or a window)."""
    ranked = None
    for item in node.get("select_list", []):
        if item.get("class") in ("STAR", "COLUMN_REF", "CONSTANT") or item is function:
            continue
        if item.get("class") != "FUNCTION" or item.get("function_name") != function.get("function_name"):
            return False
        ranked = _strip(function) if ranked is None else ranked  # the same call written twice
        if _strip(item) != ranked:
            return False
    return True


def _column(expression: dict[str, Any], table: str, alias: str) -> str | None:
    if expression.get("class") != "COLUMN_REF":
        return None
    names = expression.get("column_names") or []
    if len(names) == 1:
        return names[0]
    if len(names) == 2 and names[0] in (table, alias):
        return names[1]
    return None


def _literal_list(expression: dict[str, Any]) -> list[float] | None:
    """``[1.0, -2, ...]`` (optionally cast to a FLOAT/DOUBLE array) read without DuckDB: a query
    vector of 128 numbers is the common case, and evaluating it costs a few milliseconds."""
    if expression.get("class") == "CAST":
        type_name = str((expression.get("type_expr") or {}).get("type_name", "")).lower()
        if type_name not in ("array", "list"):
            return None
        expression = expression.get("child") or {}
    if expression.get("class") != "FUNCTION" or expression.get("function_name") != "list_value":
        return None
    values = []
    for arg in _arguments(expression):
        sign = 1.0
        if arg.get("class") == "FUNCTION" and arg.get("function_name") == "-" and len(_arguments(arg)) == 1:
            sign, arg = -1.0, _arguments(arg)[0]  # DuckDB parses -0.5 as the operator on 0.5
        literal = arg.get("literal") if arg.get("class") == "CONSTANT" else None
        if not isinstance(literal, dict) or literal.get("kind") not in (
            "INTEGER",
            "BIGINT",
            "NUMERIC",
            "DOUBLE",
            "DECIMAL",
            "FLOAT",
        ):
            return None
        try:
            values.append(sign * float(literal["text"]))
        except (KeyError, TypeError, ValueError):
            return None
    return values


def _constant(con: duckdb.DuckDBPyConnection, expression: dict[str, Any]) -> Any:
    """The value of an expression that reads no column, evaluated by DuckDB (None if it reads one)."""
    quick = _literal_list(expression)
    if quick is not None:
        return quick
    text = json.dumps(expression)
    if any(f'"class": "{c}"' in text for c in ("COLUMN_REF", "SUBQUERY", "PARAMETER", "STAR")):
        return None
    shell = json.loads(con.execute("SELECT json_serialize_sql('SELECT 1')").fetchall()[0][0])  # type: ignore[index]
    shell["statements"][0]["node"]["select_list"] = [expression]
    select = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(shell)]).fetchall()[0][0]  # type: ignore[index]
    try:
        return con.execute(select).fetchall()[0][0]  # type: ignore[index]
    except duckdb.Error:
        return None  # DuckDB reports the error when it runs the query itself


def _arguments(function: dict[str, Any]) -> list[dict[str, Any]]:
    args = function.get("arguments") or function.get("children") or []
    return [a.get("expression", a) if isinstance(a, dict) and "expression" in a else a for a in args]


# ------------------------------------------------------------------ vector top-k
def _plan_vector(
    con: duckdb.DuckDBPyConnection,
    node: dict[str, Any],
    datasets: dict[str, Dataset],
    out: Plan,
    matching: Matching | None,
) -> None:
    shape = _single_table(node, datasets, where=matching is not None)
    if shape is None:
        return
    table, alias = shape
    k = _limit(node)
    ranking = _ranking(node)
    if k is None or ranking is None:
        return
    function, order = ranking
    metric_order = _BY_FUNCTION.get(str(function.get("function_name", "")).lower())
    if metric_order is None or not _simple_select(node, function):
        return
    metric, best_first = metric_order
    if order != best_first and not (best_first == "ASCENDING" and order == "ORDER_DEFAULT"):
        return  # ranking the worst first: every row is a candidate
    ds = datasets[table]
    args = _arguments(function)
    if len(args) != 2:
        return
    for column_arg, vector_arg in ((args[0], args[1]), (args[1], args[0])):
        column = _column(column_arg, table, alias)
        if column is None or column not in ds.schema:
            continue
        dtype = ds.schema[column].type
        if not isinstance(dtype, T.Embedding) or isinstance(dtype, T.Array):
            return
        index = indexes.find(ds, column, "embedding")
        if index is None or index.metric != metric:
            return
        vector = _constant(con, vector_arg)
        if not isinstance(vector, list | tuple) or len(vector) != dtype.size:
            return
        if any(v is None for v in vector):
            return
        query = np.asarray(vector, dtype=np.float32)
        where = node.get("where_clause")
        if where and matching is not None:
            rows = _filtered_candidates(index, query, k, lambda found: matching(table, node, found))
            if rows is not None:
                out.rows[table] = rows
                out.used.append(f"{table}.{column} (embedding, {metric}, filtered)")
            return
        rows = index.candidates(query, k)
        if rows is None:
            return
        out.rows[table] = np.unique(rows[(rows >= 0) & (rows < len(ds))])
        out.used.append(f"{table}.{column} (embedding, {metric})")
        return


def _filtered_candidates(
    index: Any, query: np.ndarray, k: int, passing: Callable[[np.ndarray], np.ndarray | None]
) -> np.ndarray | None:
    """Rows for a top-k under a WHERE (see the module doc): the nearest neighbours that ``passing``
    keeps, once enough of them pass; None: rank every row (the plain plan)."""
    wanted = max(k * indexes.OVERSAMPLE, indexes.MIN_CANDIDATES)
    count = wanted
    for _ in range(2):  # a first ask, then one sized by the share of it that passed
        rows = index.candidates(query, k, count)
        if rows is None:
            return None
        kept = passing(np.unique(rows[rows >= 0]))
        if kept is None:
            return None
        if len(kept) >= wanted or len(rows) >= index.size:  # enough, or every indexed row was read
            return kept if len(kept) >= k else None  # too few: rows without a vector may fill the rest
        count = int(wanted * count / max(len(kept), 1) * 1.5)
        if count > min(MAX_FILTERED_CANDIDATES, max(index.size // 4, wanted)):
            return None  # so few rows pass that filtering every row first is faster
    return None


# ------------------------------------------------------------------ bm25
def _bm25_calls(node: Any, found: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    found = [] if found is None else found
    if isinstance(node, dict):
        if node.get("class") == "FUNCTION" and str(node.get("function_name", "")).lower() == BM25_FUNCTION:
            found.append(node)
        for value in node.values():
            _bm25_calls(value, found)
    elif isinstance(node, list):
        for value in node:
            _bm25_calls(value, found)
    return found


def _plan_bm25(
    con: duckdb.DuckDBPyConnection,
    tree: dict[str, Any],
    node: dict[str, Any],
    calls: list[dict[str, Any]],
    datasets: dict[str, Dataset],
    out: Plan,
) -> None:
    usage = f"use {BM25_FUNCTION}(text_column, 'words')"
    tables = _tables(node, datasets)
    hidden: dict[str, tuple[str, str, str]] = {}  # identity of the call -> (table, column name, hidden name)
    for call in calls:
        args = _arguments(call)
        if len(args) != 2:
            raise InvalidArgument(f"{BM25_FUNCTION} takes a text column and the words to look for; {usage}")
        words = _constant(con, args[1])
        if not isinstance(words, str):
            raise InvalidArgument(f"{BM25_FUNCTION}'s second argument must be a text constant; {usage}")
        owner = None
        for table, alias in tables:
            column = _column(args[0], table, alias)
            if column is not None and column in datasets[table].schema:
                owner = (table, column)
                break
        if owner is None:
            raise InvalidArgument(f"{BM25_FUNCTION}'s first argument must be a Text column of a dataset; {usage}")
        table, column = owner
        ds = datasets[table]
        if not isinstance(ds.schema[column].type, T.Text):
            raise InvalidArgument(f"{BM25_FUNCTION} needs a Text column; {column!r} is {ds.schema[column].type!r}")
        index = indexes.find(ds, column, "bm25")
        if index is None:
            built = [i for i in indexes.list_indexes(ds, column) if i.kind == "bm25"]
            why = (
                "its bm25 index was built for other data (rows were added, deleted or edited since, or "
                "are not committed): rebuild it"
                if built
                else "there is no bm25 index on it"
            )
            raise InvalidArgument(
                f"{BM25_FUNCTION}({column}, ...) needs a bm25 index for this version of "
                f"{table}, and {why}: ds[{column!r}].create_index('bm25')"
            )
        key = json.dumps([table, column, words])
        if key not in hidden:
            name = f"__lakelet_bm25_{len(hidden)}"
            hidden[key] = (table, column, name)
            limit = _bm25_limit(node, call, datasets)
            rows, scores = index.scores(words, limit)
            values = np.zeros(len(ds), dtype=np.float64)
            values[rows[rows < len(ds)]] = scores[rows < len(ds)]
            out.scores.setdefault(table, {})[name] = values
            if limit is not None and len(rows) >= limit:
                out.rows[table] = np.sort(rows[rows < len(ds)])
            out.used.append(f"{table}.{column} (bm25)")
        name, alias = hidden[key][2], call.get("alias", "")
        call.clear()  # the call becomes a reference to its hidden score column, keeping its alias
        call.update({"class": "COLUMN_REF", "type": "COLUMN_REF", "alias": alias, "column_names": [name]})
    _exclude_hidden(node, [name for _, _, name in hidden.values()])
    out.sql = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(tree)]).fetchall()[0][0]  # type: ignore[index]


def _tables(node: dict[str, Any], datasets: dict[str, Dataset]) -> list[tuple[str, str]]:
    """(table, alias) of every registered dataset the query's FROM names."""
    out: list[tuple[str, str]] = []

    def walk(ref: Any) -> None:
        if not isinstance(ref, dict):
            return
        if ref.get("type") == "BASE_TABLE" and ref.get("table_name") in datasets:
            out.append((ref["table_name"], ref.get("alias") or ref["table_name"]))
        for key in ("left", "right"):
            walk(ref.get(key))

    walk(node.get("from_table"))
    return out


def _bm25_limit(node: dict[str, Any], call: dict[str, Any], datasets: dict[str, Dataset]) -> int | None:
    """k when the query is ``ORDER BY <this call> DESC LIMIT k`` over one table (only the best k
    matter); None when every row's score may be read."""
    if _single_table(node, datasets) is None or _limit(node) is None:
        return None
    ranking = _ranking(node)
    if ranking is None or ranking[1] != "DESCENDING" or _strip(ranking[0]) != _strip(call):
        return None
    if not _simple_select(node, call):
        return None
    return _limit(node)


def _exclude_hidden(node: Any, names: list[str]) -> None:
    """``*`` never shows the hidden score columns."""
    if isinstance(node, dict):
        if node.get("class") == "STAR" and not node.get("relation_name") and not node.get("columns"):
            node["exclude_list"] = [*node.get("exclude_list", []), *names]
        for value in node.values():
            _exclude_hidden(value, names)
    elif isinstance(node, list):
        for value in node:
            _exclude_hidden(value, names)

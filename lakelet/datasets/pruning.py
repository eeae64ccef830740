"""Skip pieces a query's filter cannot match, using the statistics in the manifest.

The query is parsed by DuckDB (``json_serialize_sql``). Pruning applies to a
dataset only when that is provably the same as filtering afterwards: the
statement is one plain ``SELECT`` (no set operation, no CTE) whose FROM is the
dataset itself (no join, no sample), and the dataset's table is named nowhere
else in the query (a subquery over it would see the pruned rows too). Every
conjunct of its WHERE (``AND`` at the top) of one of these forms is then used;
any other conjunct is ignored, which only prunes less::

    col = v   col <> v   col < v   col <= v   col > v   col >= v   (either side)
    col BETWEEN a AND b   col IN (v, ...)   col IS NULL   col IS NOT NULL   bool_col

``col`` is a column of the dataset (bare, or qualified by the table's name or
alias; DuckDB resolves a WHERE name to a column before a select alias) and the
values are literals of the column's family: integer literals for integer
columns, integer or decimal literals for float columns, strings for text,
``true``/``false`` for bool. Integer and text comparisons are exact (text
compares by code point, as DuckDB compares UTF-8 bytes). Anything involving a
float or a decimal literal keeps a margin (relative 1e-6, absolute 1e-37), as
DuckDB may round the literal to the column's type (``float_col = 0.7`` matches
``float32(0.7)``). NaN follows DuckDB's order (greater than every number, equal
to itself): a piece with NaNs is kept for ``>``, ``>=`` and ``<>``.

A piece is skipped when its statistics prove that no row satisfies one of the
conjuncts. Pieces without statistics (old manifests, uncommitted rows) are
always kept. A column a piece does not store reads its default, whose
statistics are exact.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .fragments import Piece
from .schema import Column, Schema
from .stats import constant, decode_bound, kind_of

_INT_TEXT = re.compile(r"[+-]?\d+")
_NUM_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_FLIP = {
    "COMPARE_EQUAL": "COMPARE_EQUAL",
    "COMPARE_NOTEQUAL": "COMPARE_NOTEQUAL",
    "COMPARE_LESSTHAN": "COMPARE_GREATERTHAN",
    "COMPARE_GREATERTHAN": "COMPARE_LESSTHAN",
    "COMPARE_LESSTHANOREQUALTO": "COMPARE_GREATERTHANOREQUALTO",
    "COMPARE_GREATERTHANOREQUALTO": "COMPARE_LESSTHANOREQUALTO",
}
_EXACT_INT = 1 << 63  # integer literals beyond this may be compared as doubles: keep a margin
_REL, _ABS = 1e-6, 1e-37


@dataclass(frozen=True)
class Condition:
    """One usable conjunct: ``column <op> values`` (op: =, <>, <, <=, >, >=, between, in, null, notnull)."""

    column: Column
    op: str
    values: tuple[Any, ...] = ()
    exact: bool = True


# ---------------------------------------------------------------- extraction from DuckDB's parse tree
def conditions(tree: dict[str, Any], table: str, schema: Schema, *, default: bool = False) -> list[Condition]:
    """The conjuncts of ``tree`` usable to prune the table ``table`` (empty: prune nothing).

    ``default``: the table also feeds a FROM-less ``SELECT`` (``ds.query``).
    """
    statements = tree.get("statements") or []
    if len(statements) != 1:
        return []
    node = statements[0].get("node") or {}
    if node.get("type") != "SELECT_NODE" or (node.get("cte_map") or {}).get("map") or node.get("sample"):
        return []
    source = node.get("from_table") or {}
    if source.get("type") == "EMPTY" and default:
        alias = ""
    elif source.get("type") == "BASE_TABLE" and _is_table(source, table) and not source.get("sample"):
        if source.get("at_clause") or source.get("column_name_alias"):
            return []
        alias = source.get("alias") or ""
    else:
        return []
    if _count_references(tree, table) != (0 if source.get("type") == "EMPTY" else 1):
        return []
    names = {alias.lower()} if alias else {table.lower()}
    out: list[Condition] = []
    for conjunct in _conjuncts(node.get("where_clause")):
        condition = _condition(conjunct, names, schema)
        if condition is not None:
            out.append(condition)
    return out


def _is_table(ref: dict[str, Any], table: str) -> bool:
    return (
        str(ref.get("table_name", "")).lower() == table.lower()
        and not ref.get("schema_name")
        and not ref.get("catalog_name")
    )


def _count_references(tree: Any, table: str) -> int:
    count = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "BASE_TABLE" and str(node.get("table_name", "")).lower() == table.lower():
                count += 1
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def _conjuncts(expr: Any) -> list[dict[str, Any]]:
    if not isinstance(expr, dict):
        return []
    if expr.get("class") == "CONJUNCTION" and expr.get("type") == "CONJUNCTION_AND":
        return [c for child in expr.get("children") or [] for c in _conjuncts(child)]
    return [expr]


def _column(expr: Any, names: set[str], schema: Schema) -> Column | None:
    """The dataset column ``expr`` names (a case-insensitive identifier, as in DuckDB), else None."""
    if not isinstance(expr, dict) or expr.get("class") != "COLUMN_REF":
        return None
    parts = expr.get("column_names") or []
    if len(parts) == 2 and str(parts[0]).lower() in names:
        parts = parts[1:]
    if len(parts) != 1:
        return None
    found = [c for c in schema if c.name.lower() == str(parts[0]).lower()]
    if len(found) != 1 or kind_of(found[0].type.arrow) is None:
        return None
    return found[0]


def _literal(expr: Any, kind: str) -> tuple[Any, bool] | None:
    """``(value, exact)`` of a literal usable against a column of ``kind``; None if not usable."""
    if not isinstance(expr, dict) or expr.get("class") != "CONSTANT":
        return None
    literal = expr.get("literal") or {}
    lit_kind, text = literal.get("kind"), literal.get("text")
    if not isinstance(text, str):
        return None
    if kind == "int" and lit_kind == "INTEGER" and _INT_TEXT.fullmatch(text):
        value = int(text)
        return value, abs(value) < _EXACT_INT
    if kind == "float" and lit_kind in ("INTEGER", "NUMERIC") and _NUM_TEXT.fullmatch(text):
        return Fraction(text), False
    if kind == "text" and lit_kind == "STRING":
        return text, True
    if kind == "bool" and lit_kind == "BOOLEAN" and text.lower() in ("true", "false"):
        return text.lower() == "true", True
    return None


def _condition(expr: dict[str, Any], names: set[str], schema: Schema) -> Condition | None:
    cls, kind_name = expr.get("class"), expr.get("type")
    if cls == "COLUMN_REF":
        column = _column(expr, names, schema)
        if column is not None and kind_of(column.type.arrow) == "bool":
            return Condition(column, "=", (True,))
        return None
    if cls == "COMPARISON" and kind_name in _FLIP:
        left, right, op = expr.get("left"), expr.get("right"), kind_name
        if _column(left, names, schema) is None:
            left, right, op = right, left, _FLIP[kind_name]
        column = _column(left, names, schema)
        if column is None:
            return None
        value = _literal(right, kind_of(column.type.arrow))  # type: ignore[arg-type]
        if value is None:
            return None
        symbol = {"COMPARE_EQUAL": "=", "COMPARE_NOTEQUAL": "<>", "COMPARE_LESSTHAN": "<",
                  "COMPARE_GREATERTHAN": ">", "COMPARE_LESSTHANOREQUALTO": "<=",
                  "COMPARE_GREATERTHANOREQUALTO": ">="}[op]
        return Condition(column, symbol, (value[0],), value[1])
    if cls == "BETWEEN" and kind_name == "COMPARE_BETWEEN":
        column = _column(expr.get("input"), names, schema)
        if column is None:
            return None
        kind = kind_of(column.type.arrow)
        lower, upper = _literal(expr.get("lower"), kind), _literal(expr.get("upper"), kind)  # type: ignore[arg-type]
        if lower is None or upper is None:
            return None
        return Condition(column, "between", (lower[0], upper[0]), lower[1] and upper[1])
    if cls == "OPERATOR" and kind_name in ("COMPARE_IN", "OPERATOR_IS_NULL", "OPERATOR_IS_NOT_NULL"):
        children = expr.get("children") or []
        column = _column(children[0], names, schema) if children else None
        if column is None:
            return None
        if kind_name == "OPERATOR_IS_NULL":
            return Condition(column, "null") if len(children) == 1 else None
        if kind_name == "OPERATOR_IS_NOT_NULL":
            return Condition(column, "notnull") if len(children) == 1 else None
        kind = kind_of(column.type.arrow)
        values = [_literal(child, kind) for child in children[1:]]  # type: ignore[arg-type]
        if not values or any(v is None for v in values):
            return None
        return Condition(column, "in", tuple(v[0] for v in values), all(v[1] for v in values))  # type: ignore[index]
    return None


# ---------------------------------------------------------------- evaluation against statistics
def keep(piece: Piece, schema: Schema, condition_list: list[Condition]) -> bool:
    """False only when the statistics of ``piece`` prove no row satisfies every condition."""
    for condition in condition_list:
        stats = _piece_stats(piece, condition.column)
        if stats is not None and not _may_match(stats, piece.rows, condition):
            return False
    return True


def _piece_stats(piece: Piece, column: Column) -> dict[str, Any] | None:
    if column.id not in piece.columns:  # never stored in this piece: every row reads the default
        return constant(column.type.arrow, column.default, piece.rows) if piece.committed else None
    return piece.stats_for(column.id)


def _cmp(a: Any, b: Any) -> int:
    """-1, 0 or 1 comparing a bound with a literal exactly (floats may be ±inf, never NaN)."""
    if isinstance(a, float) and math.isinf(a):
        return 1 if a > 0 else -1
    if isinstance(a, float):
        a = Fraction(a)
    return (a > b) - (a < b)


def _near(a: Any, b: Any) -> bool:
    """Whether DuckDB's rounding could make a bound ``a`` and literal ``b`` compare differently than exactly."""
    if isinstance(a, float) and math.isinf(a):
        return abs(b) > Fraction(3, 1) * Fraction(10) ** 38  # a float32 literal that large rounds to inf
    fa, fb = Fraction(a), Fraction(b)
    return abs(fa - fb) <= max(abs(fa), abs(fb)) * Fraction(_REL) + Fraction(_ABS)


def _may_match(stats: dict[str, Any], rows: int, c: Condition) -> bool:
    kind = kind_of(c.column.type.arrow)
    nulls = int(stats.get("nulls", 0))
    nans = int(stats.get("nans", 0))
    if c.op == "null":
        return nulls > 0
    if c.op == "notnull":
        return nulls < rows
    if nulls + nans >= rows and "lo" not in stats and "hi" not in stats:  # only nulls and NaNs
        return nans > 0 and c.op in (">", ">=", "<>")
    if nans and c.op in (">", ">=", "<>"):
        return True  # NaN is greater than every number in DuckDB (and unequal to it)
    lo = decode_bound(kind, stats.get("lo"))  # type: ignore[arg-type]
    hi = decode_bound(kind, stats.get("hi"))  # type: ignore[arg-type]
    if kind == "bool":
        lo, hi = (None if lo is None else int(lo)), (None if hi is None else int(hi))
    values = tuple(int(v) if isinstance(v, bool) else v for v in c.values)

    def below(bound: Any, value: Any, strict: bool) -> bool:
        """Proof that ``bound < value`` (strict) or ``bound <= value``; an unknown bound proves nothing."""
        if bound is None:
            return False
        if not c.exact and _near(bound, value):
            return False
        order = _cmp(bound, value)
        return order < 0 if strict else order <= 0

    def above(bound: Any, value: Any, strict: bool) -> bool:
        if bound is None:
            return False
        if not c.exact and _near(bound, value):
            return False
        order = _cmp(bound, value)
        return order > 0 if strict else order >= 0

    def outside(value: Any) -> bool:
        return below(hi, value, strict=True) or above(lo, value, strict=True)

    if c.op == "=":
        return not outside(values[0])
    if c.op == "in":
        return not all(outside(v) for v in values)
    if c.op == "<>":  # no row differs from v only if every value is v
        if nulls + nans >= rows or lo is None or hi is None or not c.exact:
            return nulls + nans < rows
        return not (_cmp(lo, values[0]) == 0 and _cmp(hi, values[0]) == 0)
    if c.op == ">":
        return not below(hi, values[0], strict=False)
    if c.op == ">=":
        return not below(hi, values[0], strict=True)
    if c.op == "<":
        return not above(lo, values[0], strict=False)
    if c.op == "<=":
        return not above(lo, values[0], strict=True)
    if c.op == "between":
        return not (below(hi, values[0], strict=True) or above(lo, values[1], strict=True))
    return True

"""The plainest filter, answered without starting DuckDB.

The first ``ds.query("SELECT * WHERE score > 0.99")`` of a fresh kernel used to spend most of its
time before reading a row: importing DuckDB (~30 ms) and creating its database (~20 ms). This
module recognises one shape of query and finds its rows with numpy over the column files::

    SELECT * [FROM ds] WHERE <predicate> [LIMIT n] [;]

where the predicate combines, with ``AND``, ``OR``, ``NOT`` and parentheses, comparisons of a
numeric column (Int8..UInt64, Float32, Float64) with a number (``=``, ``==``, ``<>``, ``!=``,
``<``, ``<=``, ``>``, ``>=``, either side), ``[NOT] BETWEEN a AND b``, equality of a text or
class-label column with a string (``label = 'cat'``, ``text <> 'x'``) and ``IS [NOT] NULL``. It is
a recogniser, not a second engine: anything else (ordering of text, LIKE, functions, arithmetic,
comments, other columns in the select list, ORDER BY) returns None and goes to DuckDB unchanged,
and so does a number DuckDB might type differently (more than 18 digits, integers past 2**63, or
past 2**53 against a float column).

The answer is DuckDB's, rule for rule (``tests/datasets/test_quick_filter.py`` holds it against
DuckDB on generated tables and predicates, every run): NULL is three-valued; NaN is greater than
every number and equal to itself; a float column meets an integer or decimal literal in its own
precision (``float32_col = 0.7`` matches ``float32(0.7)``) and a literal with an exponent in double
precision; an integer column meets an integer or decimal literal exactly; text is equal byte for
byte, and a class label equals a name when its code is that name's (a name that is no label matches
no row). The view it returns knows
its rows and its length; reading them (``to_arrow``, ``relation``...) runs the query through DuckDB
over the matched rows of the version that was queried, so a result's columns and types are the same
whichever path found the rows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import _arrow
from .pruning import Condition, keep
from .schema import Column, Schema
from .types import ClassLabel, Float32, Float64, Int8, Int16, Int32, Int64, Text, UInt8, UInt16, UInt32, UInt64

if TYPE_CHECKING:
    from .dataset import Dataset
    from .results import QueryView

_TOKEN = re.compile(
    r"\s*(?:(?P<number>(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r'|"(?P<quoted>[^"]+)"|(?P<string>\'(?:[^\']|\'\')*\')|(?P<symbol><>|!=|>=|<=|==|[=<>()*;-]))'
)
# Words DuckDB reserves (PostgreSQL's list): never read as a column name, so a query DuckDB refuses
# is refused by DuckDB, not answered here.
# fmt: off
_RESERVED = frozenset((
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "between", "both", "case",
    "cast", "check", "collate", "column", "constraint", "create", "default", "deferrable", "desc", "distinct",
    "do", "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
    "initially", "intersect", "into", "is", "isnull", "lateral", "leading", "like", "limit", "not", "notnull",
    "null", "offset", "on", "only", "or", "order", "placing", "primary", "qualify", "references", "returning",
    "select", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "using",
    "variadic", "when", "where", "window", "with",
))
# fmt: on
_NUMERIC = (Int8, Int16, Int32, Int64, UInt8, UInt16, UInt32, UInt64, Float32, Float64)
_OPS = {"=": "=", "==": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FLIP = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_FLOATS = (Float32().arrow, Float64().arrow)
_MAX_DIGITS = 18  # DuckDB types a longer number differently (wide DECIMAL, HUGEINT, DOUBLE): leave it to DuckDB
_EXACT_IN_DOUBLE = 2**53


@dataclass(frozen=True)
class Literal:
    """A number as DuckDB types it: ``int`` (INTEGER/BIGINT), ``decimal`` (DECIMAL) or ``double``."""

    text: str
    kind: str
    exact: Fraction | None  # int and decimal
    double: float  # the nearest double (what DuckDB compares in double precision)


@dataclass(frozen=True)
class Filter:
    """A recognised query: the predicate tree, the columns it reads and its LIMIT."""

    predicate: tuple[Any, ...]
    columns: tuple[Column, ...]
    limit: int | None
    sql: str  # the same query with ``FROM ds``, for DuckDB when the rows are read
    prune: tuple[Condition, ...]  # top-level conjuncts the piece statistics can rule out


class _Decline(Exception):
    """Not the recognised shape: DuckDB answers."""


def parse(sql: str, schema: Schema, table: str = "ds", *, labels: bool = True) -> Filter | None:
    """The recognised form of ``sql`` over ``schema``, or None when DuckDB must answer it.
    ``labels``: class-label columns are their names in SQL (``ds.query(labels=True)``)."""
    tokens = _tokens(sql)
    if tokens is None:
        return None
    try:
        return _Parser(tokens, schema, table, labels).query()
    except _Decline:
        return None


def _tokens(sql: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos, end = 0, len(sql.rstrip())
    while pos < end:
        match = _TOKEN.match(sql, pos)
        if match is None or match.end() == pos:
            return None  # a string, a comment, an operator we do not read: DuckDB's job
        kind = match.lastgroup
        text = match.group(kind)  # type: ignore[arg-type]
        out.append((kind if kind != "word" else ("keyword" if text.lower() in _RESERVED else "name"), text))  # type: ignore[arg-type]
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], schema: Schema, table: str, labels: bool) -> None:
        self.tokens = tokens
        self.labels = labels
        self.i = 0
        self.schema = schema
        self.table = table
        self.columns: dict[str, Column] = {}

    # ------------------------------------------------------------------ token helpers
    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else ("end", "")

    def keyword(self, word: str) -> bool:
        kind, text = self.peek()
        if kind == "keyword" and text.lower() == word:
            self.i += 1
            return True
        return False

    def symbol(self, *symbols: str) -> str | None:
        kind, text = self.peek()
        if kind == "symbol" and text in symbols:
            self.i += 1
            return text
        return None

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise _Decline

    # ------------------------------------------------------------------ grammar
    def query(self) -> Filter:
        self.expect_keyword("select")
        if not self.symbol("*"):
            raise _Decline
        if self.keyword("from"):
            kind, text = self.peek()
            if kind not in ("name", "quoted") or text.lower() != self.table.lower():
                raise _Decline
            self.i += 1
        self.expect_keyword("where")
        where_start = self.i
        predicate = self.disjunction()
        where_end = self.i
        limit = None
        if self.keyword("limit"):
            kind, text = self.peek()
            if kind != "number" or not text.isdigit():
                raise _Decline
            self.i += 1
            limit = int(text)
        self.symbol(";")
        if self.peek()[0] != "end":
            raise _Decline
        where = " ".join(f'"{t}"' if k == "quoted" else t for k, t in self.tokens[where_start:where_end])
        sql = f'SELECT * FROM "{self.table}" WHERE {where}' + (f" LIMIT {limit}" if limit is not None else "")
        return Filter(predicate, tuple(self.columns.values()), limit, sql, tuple(_conditions(predicate)))

    def disjunction(self) -> tuple[Any, ...]:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else ("or", tuple(parts))

    def conjunction(self) -> tuple[Any, ...]:
        parts = [self.negation()]
        while self.keyword("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def negation(self) -> tuple[Any, ...]:
        if self.keyword("not"):
            return ("not", self.negation())
        return self.predicate()

    def predicate(self) -> tuple[Any, ...]:
        if self.symbol("("):
            inner = self.disjunction()
            if not self.symbol(")"):
                raise _Decline
            return inner
        kind, _ = self.peek()
        if kind == "string":  # 'text' op column
            value = self.string()
            op = self.operator()
            return self.text_comparison(self.column(), op, value)
        if kind in ("number", "symbol"):  # literal op column
            literal = self.literal()
            op = self.operator()
            return ("cmp", self.checked(self.numeric(self.column()), literal), _FLIP[op], literal)
        column = self.column()
        if self.keyword("is"):
            negated = self.keyword("not")
            self.expect_keyword("null")
            return ("null", column, negated)
        negated = self.keyword("not")
        if self.keyword("between"):
            low = self.literal()
            self.expect_keyword("and")
            high = self.literal()
            node = ("between", self.checked(self.numeric(column), low, high), low, high)
            return ("not", node) if negated else node
        if negated:
            raise _Decline
        op = self.operator()
        if self.peek()[0] == "string":
            return self.text_comparison(column, op, self.string())
        literal = self.literal()
        return ("cmp", self.checked(self.numeric(column), literal), op, literal)

    def text_comparison(self, column: Column, op: str, value: str) -> tuple[Any, ...]:
        """``column = 'value'`` / ``<>`` on a text or class-label column (other orders compare
        names by bytes in DuckDB and are left to it)."""
        if op not in ("=", "<>") or self.kind_of(column) not in ("text", "label"):
            raise _Decline
        return ("text", column, op, value)

    def kind_of(self, column: Column) -> str | None:
        """How this module reads ``column``: ``number``, ``text``, ``label`` (codes), or None."""
        if type(column.type) in _NUMERIC:
            return "number"
        if isinstance(column.type, Text) and column.type.arrow == pa.string():
            return "text"
        names = column.type.labels if isinstance(column.type, ClassLabel) and self.labels else []
        if names and len(set(names)) == len(names):
            return "label"
        return None

    def numeric(self, column: Column) -> Column:
        if self.kind_of(column) != "number":
            raise _Decline
        return column

    def string(self) -> str:
        kind, text = self.peek()
        if kind != "string":
            raise _Decline
        self.i += 1
        return text[1:-1].replace("''", "'")

    @staticmethod
    def checked(column: Column, *literals: Literal) -> Column:
        """``column``, unless DuckDB could round one of ``literals`` against it otherwise than we do."""
        if column.type.arrow in _FLOATS and any(
            lit.kind == "int" and abs(lit.exact) > _EXACT_IN_DOUBLE
            for lit in literals  # type: ignore[arg-type]
        ):
            raise _Decline  # an integer past 2**53 is rounded on its way to a float: whose rounding?
        return column

    def operator(self) -> str:
        kind, text = self.peek()
        if kind != "symbol" or text not in _OPS:
            raise _Decline
        self.i += 1
        return _OPS[text]

    def column(self) -> Column:
        kind, text = self.peek()
        if kind not in ("name", "quoted"):
            raise _Decline
        self.i += 1
        found = [c for c in self.schema if c.name.lower() == text.lower()]  # DuckDB binds names case-insensitively
        if len(found) != 1 or self.kind_of(found[0]) is None:
            raise _Decline
        self.columns[found[0].id] = found[0]
        return found[0]

    def literal(self) -> Literal:
        negative = self.symbol("-") is not None
        kind, text = self.peek()
        if kind != "number":
            raise _Decline
        self.i += 1
        if sum(ch.isdigit() for ch in text.split("e")[0].split("E")[0]) > _MAX_DIGITS:
            raise _Decline
        signed = "-" + text if negative else text
        if "e" in text or "E" in text:
            return Literal(signed, "double", None, float(signed))
        exact = Fraction(signed)
        return Literal(signed, "decimal" if "." in text else "int", exact, float(signed))


def _conditions(predicate: tuple[Any, ...]) -> list[Condition]:
    """The top-level conjuncts :func:`pruning.keep` understands (the others prune nothing)."""
    parts = predicate[1] if predicate[0] == "and" else (predicate,)
    out = []
    for part in parts:
        if part[0] == "null":
            out.append(Condition(part[1], "notnull" if part[2] else "null"))
            continue
        if part[0] == "text":
            if isinstance(part[1].type, Text):
                out.append(Condition(part[1], part[2], (part[3],)))  # text statistics are exact
            continue  # label statistics hold codes
        if part[0] == "cmp":
            lits: tuple[Literal, ...] = (part[3],)
        elif part[0] == "between":
            lits = (part[2], part[3])
        else:
            continue
        if any(lit.kind == "double" for lit in lits):
            continue  # pruning reads the literals DuckDB types as INTEGER or DECIMAL only
        floats = part[1].type.arrow in _FLOATS
        if not floats and any(lit.kind != "int" for lit in lits):
            continue
        values = tuple(lit.exact if floats else int(lit.exact) for lit in lits)  # type: ignore[arg-type]
        op = part[2] if part[0] == "cmp" else "between"
        out.append(Condition(part[1], op, values, exact=not floats))
    return out


# ---------------------------------------------------------------------- evaluation
def rows(ds: Dataset, found: Filter, state: Any = None, *, prune: bool = True) -> np.ndarray:
    """Positions (sorted) of the rows of ``state`` (default: the handle's) where the predicate is TRUE;
    ``prune``: skip the pieces whose statistics rule the predicate out (same rows, fewer reads)."""
    checkout = ds.checked_out
    state = state if state is not None else checkout.state
    conditions = list(found.prune) if prune else []
    kept = [i for i, piece in enumerate(state.pieces) if keep(piece, state.schema, conditions)]
    checkout.loader.load_columns([state.pieces[i] for i in kept], {c.id for c in found.columns})
    out: list[np.ndarray] = []
    remaining = found.limit
    for i in kept:
        if remaining is not None and remaining <= 0:
            break
        piece = state.pieces[i]
        hits = matches(found, {c.id: state.chunk(checkout.loader, piece, c.id) for c in found.columns}, piece.rows)
        if remaining is not None:
            hits = hits[:remaining]
            remaining -= len(hits)
        out.append(hits + int(state.offsets[i]))
    return np.concatenate(out).astype(np.int64, copy=False) if out else np.zeros(0, dtype=np.int64)


def matches(found: Filter, arrays: dict[str, Any], n: int) -> np.ndarray:
    """Positions where the predicate is TRUE, given the Arrow arrays of its columns (by column id)
    for ``n`` rows (the LIMIT is the caller's)."""
    texts = {c.id for c in found.columns if isinstance(c.type, Text)}
    read = {cid: (_strings(a) if cid in texts else _numbers(a)) for cid, a in arrays.items()}
    true, _ = _evaluate(found.predicate, read, n)
    return np.flatnonzero(true)


def _one(array: Any) -> pa.Array:
    if isinstance(array, pa.ChunkedArray):
        return array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    return array


def _numbers(array: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """(values, validity or None) of a numeric Arrow array, zero copy where the layout allows."""
    array = _one(array)
    if array.type not in _arrow.NUMPY or len(array.buffers()) != 2:
        raise _Decline  # not the plain layout of its schema type (never written so today): DuckDB reads it
    return _arrow.numbers(array), _arrow.validity(array)


def _strings(array: Any) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray | None]:
    """((offsets, bytes), validity or None) of an Arrow string array, zero copy."""
    array = _one(array)
    if array.type != pa.string():
        raise _Decline
    return _arrow.string_parts(array), _arrow.validity(array)


def _text_equal(offsets: np.ndarray, data: np.ndarray, value: bytes) -> np.ndarray:
    """Which strings are exactly ``value`` (DuckDB compares text byte for byte)."""
    lengths = np.diff(offsets)
    equal = lengths == len(value)
    if value:
        wanted = np.frombuffer(value, dtype=np.uint8)
        candidates = np.flatnonzero(equal)
        step = max(1, (1 << 22) // len(value))  # bounded gathers: a long value over many rows
        for start in range(0, len(candidates), step):
            rows = candidates[start : start + step]
            at = offsets[rows].astype(np.int64)[:, None] + np.arange(len(value))
            equal[rows] = (data[at] == wanted).all(axis=1)
    return equal


def _evaluate(
    node: tuple[Any, ...], values: dict[str, tuple[np.ndarray, np.ndarray | None]], n: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """(TRUE, NULL) masks of ``node`` (SQL's three-valued logic; NULL mask None: no NULL)."""
    kind = node[0]
    if kind == "and" or kind == "or":
        parts = [_evaluate(child, values, n) for child in node[1]]
        true, unknown = parts[0]
        for other_true, other_unknown in parts[1:]:
            if kind == "and":
                false = ~true & ~_or_none(unknown, n) | ~other_true & ~_or_none(other_unknown, n)
                true = true & other_true
                unknown = None if unknown is None and other_unknown is None else ~true & ~false
            else:
                true = true | other_true
                either = _combine(unknown, other_unknown)
                unknown = None if either is None else either & ~true
        return true, unknown
    if kind == "not":
        true, unknown = _evaluate(node[1], values, n)
        return ~true if unknown is None else ~true & ~unknown, unknown
    column = node[1]
    data, valid = values[column.id]
    if kind == "null":
        is_null = np.zeros(n, dtype=bool) if valid is None else ~valid
        return (~is_null if node[2] else is_null), None
    if kind == "text":
        if isinstance(column.type, ClassLabel):  # codes: the label's position, or none at all
            names = column.type.labels
            true = data == names.index(node[3]) if node[3] in names else np.zeros(n, dtype=bool)
        else:
            true = _text_equal(data[0], data[1], node[3].encode())
        if node[2] == "<>":
            true = ~true
    elif kind == "between":
        low, high = node[2], node[3]
        true = _compare(data, ">=", low, (low, high)) & _compare(data, "<=", high, (low, high))
    else:
        true = _compare(data, node[2], node[3], (node[3],))
    if valid is None:
        return true, None
    return true & valid, ~valid


def _or_none(mask: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool) if mask is None else mask


def _combine(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    return a if b is None else a | b


_NUMPY_OPS = {
    "=": np.equal,
    "<>": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}


def _compare(data: np.ndarray, op: str, literal: Literal, together: tuple[Literal, ...]) -> np.ndarray:
    """``data <op> literal`` as DuckDB compares them; ``together``: every literal of the expression
    (BETWEEN casts all of them to one type)."""
    double = any(lit.kind == "double" for lit in together)
    if data.dtype.kind in "iu":
        if double:
            return _NUMPY_OPS[op](data.astype(np.float64), literal.double)
        return _compare_exact(data, op, literal.exact)  # type: ignore[arg-type]
    if double or data.dtype == np.float64:
        if data.dtype != np.float64:
            data = data.astype(np.float64)
        bound: Any = literal.double
    else:
        bound = np.float32(literal.double)  # the decimal's nearest double, then float32: DuckDB's cast
    result = _NUMPY_OPS[op](data, bound)
    if op in (">", ">="):
        result |= np.isnan(data)  # NaN sorts above every number in DuckDB
    return result


def _compare_exact(data: np.ndarray, op: str, value: Fraction) -> np.ndarray:
    """An integer column against an exact number, as DuckDB compares them (no rounding)."""
    if op in ("=", "<>"):
        if value.denominator != 1:
            return np.full(len(data), op == "<>")
        bound = int(value)
    elif op in (">", "<="):
        bound = math.floor(value)
    else:  # "<", ">="
        bound = math.ceil(value)
    info = np.iinfo(data.dtype)
    if bound < info.min or bound > info.max:
        above = bound > info.max  # every value is below the bound
        constant = {"=": False, "<>": True, "<": above, "<=": above, ">": not above, ">=": not above}[op]
        return np.full(len(data), constant)
    return _NUMPY_OPS[op](data, data.dtype.type(bound))


def query(ds: Dataset, sql: str, *, prune: bool, labels: bool, indexes: bool) -> QueryView | None:
    """``ds.query(sql)`` answered here, or None when DuckDB must answer it."""
    found = parse(sql, ds.schema, labels=labels)
    if found is None:
        return None
    from .results import QueryView

    state = ds.checked_out.state  # the version queried: reading the rows later sees this one
    try:
        matched = rows(ds, found, state, prune=prune)
    except _Decline:
        return None

    def through_duckdb() -> QueryView:
        from .sql import run

        return run(
            found.sql,
            {"ds": ds},
            default="ds",
            engine=ds.checked_out.engine(),
            prune=prune,
            labels=labels,
            indexes=indexes,
            restrict={"ds": (state, matched)},
        )

    return QueryView.deferred(found.sql, {"ds": ds}, len(matched), through_duckdb)

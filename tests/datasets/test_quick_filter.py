"""The DuckDB-free filter (lakelet/datasets/quick_filter.py) answers exactly as DuckDB does.

The property test generates numeric tables (NULLs, NaN, infinities, signed zeros, the edges of
each integer type, float32 roundings of decimals) and predicates over them (every comparison,
BETWEEN, IS NULL, AND/OR/NOT, literals DuckDB types as INTEGER, DECIMAL and DOUBLE, on either side)
and compares the rows found with DuckDB's answer to the same SQL over the same Arrow table. The
end-to-end tests run the flows a notebook runs: a fresh kernel's first filter (no DuckDB started),
reading its rows, a result kept while the dataset changes, many pieces with a LIMIT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lakelet.datasets as L
from lakelet.datasets import quick_filter
from lakelet.datasets.sql import query_dataset

COLUMNS = {
    "i8": (L.types.Int8(), pa.int8()),
    "i64": (L.types.Int64(), pa.int64()),
    "u8": (L.types.UInt8(), pa.uint8()),
    "u64": (L.types.UInt64(), pa.uint64()),
    "f32": (L.types.Float32(), pa.float32()),
    "f64": (L.types.Float64(), pa.float64()),
    "s": (L.types.Text(), pa.string()),
    "lab": (L.types.ClassLabel(["cat", "dog", "Cat", "c'at"]), pa.int32()),  # stored as codes
}
TEXTS = ["cat", "Cat", "", "it's", "café", "a", "bird", "c'at", "cat "]
INT_VALUES = [
    0,
    1,
    -1,
    2,
    3,
    100,
    127,
    -128,
    128,
    255,
    256,
    -(2**31),
    2**31 - 1,
    2**53,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    10**17,
]
FLOAT_VALUES = [
    0.0,
    -0.0,
    0.5,
    0.7,
    0.99,
    float(np.float32(0.7)),
    float(np.float32(0.99)),
    2.5,
    -2.5,
    1.0,
    3.0,
    1e38,
    3.4028234663852886e38,
    1e300,
    float("inf"),
    float("-inf"),
    float("nan"),
    2.0**53,
    0.1 + 0.2,
    0.3,
    1 / 3,
]
INTEGER_LITERALS = [
    "0",
    "1",
    "2",
    "3",
    "100",
    "127",
    "128",
    "255",
    "256",
    "2147483647",
    "2147483648",
    "9007199254740992",
    "9007199254740993",
    "999999999999999999",
    "00042",
]
DECIMAL_LITERALS = [
    "0.5",
    "0.7",
    "0.99",
    "2.5",
    "1.0",
    "3.0",
    "127.5",
    "255.0",
    "0.3",
    "0.33333333",
    "0.30000000000000004",
    ".5",
    "10000000000000000.0",
    "0.000001",
]
DOUBLE_LITERALS = ["7e-1", "9.9e-1", "2.5e0", "1e400", "1.5E38", "3.4028235e38", "1e300", "3e0", "1e-400"]


def _fits(value: int, arrow: pa.DataType) -> bool:
    info = np.iinfo(arrow.to_pandas_dtype())
    return info.min <= value <= info.max


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 24))
    arrays = {}
    for name, (_, arrow) in COLUMNS.items():
        values = draw(st.lists(st.one_of(st.none(), st.sampled_from(_pool(name, arrow))), min_size=n, max_size=n))
        arrays[name] = pa.array(values, arrow)
    arrays["__pos"] = pa.array(np.arange(n, dtype=np.int64))
    return pa.table(arrays)


def _pool(name: str, arrow: pa.DataType) -> list:
    if name == "s":
        return TEXTS
    if name == "lab":
        return [0, 1, 2, 3]
    if pa.types.is_floating(arrow):
        return FLOAT_VALUES + [float(v) for v in INT_VALUES[:12]]
    return [v for v in INT_VALUES if _fits(v, arrow)]


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(INTEGER_LITERALS + DECIMAL_LITERALS + DOUBLE_LITERALS))
    return draw(st.sampled_from(["", "-", "- "])) + text


@st.composite
def predicates(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["cmp", "cmp", "cmp", "between", "null"] + (["and", "or", "not"] if depth < 3 else [])))
    name = draw(st.sampled_from(list(COLUMNS)))
    column = draw(st.sampled_from([name, name.upper(), f'"{name}"']))
    if name in ("s", "lab") and kind in ("cmp", "between"):
        op = draw(st.sampled_from(["=", "==", "<>", "!="]))
        literal = _sql_string(draw(st.sampled_from(TEXTS)))
        return f"{literal} {op} {column}" if draw(st.booleans()) else f"{column} {op} {literal}"
    if kind == "cmp":
        op = draw(st.sampled_from(["=", "==", "<>", "!=", "<", "<=", ">", ">="]))
        literal = _literal(draw)
        return f"{literal} {op} {column}" if draw(st.booleans()) else f"{column} {op} {literal}"
    if kind == "between":
        negated = draw(st.sampled_from(["", "NOT ", "not "]))
        return f"{column} {negated}BETWEEN {_literal(draw)} AND {_literal(draw)}"
    if kind == "null":
        return f"{column} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if kind == "not":
        return f"NOT ({draw(predicates(depth + 1))})"
    joiner = draw(st.sampled_from([" AND ", " and ", " OR ", " or "] if kind == "and" else [" OR ", " Or "]))
    parts = draw(st.lists(predicates(depth + 1), min_size=2, max_size=3))
    return "(" + joiner.join(parts) + ")"


@pytest.fixture(scope="module")
def schema():
    ds = L.create("memory://quick-filter-schema", schema={name: dtype for name, (dtype, _) in COLUMNS.items()})
    yield ds.schema
    L.delete("memory://quick-filter-schema")


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(table=tables(), predicate=predicates())
def test_rows_are_duckdbs(schema, table: pa.Table, predicate: str) -> None:
    sql = f"SELECT * WHERE {predicate}"
    found = quick_filter.parse(sql, schema)
    if found is None:  # only integers past 2**53 (against a float column) are left to DuckDB
        assert any(big in sql for big in ("9007199254740993", "999999999999999999")), sql
        return
    con = duckdb.connect()
    con.register("ds", schema.present(table))  # labels by name, as lakelet shows them to DuckDB
    expected = [row[0] for row in con.execute(f"SELECT __pos FROM ({found.sql}) ORDER BY __pos").fetchall()]
    arrays = {schema[c.name].id: table.column(c.name) for c in found.columns}
    got = quick_filter.matches(found, arrays, table.num_rows).tolist()
    assert got == expected, (sql, table.to_pydict())


def _every_value() -> pa.Table:
    """Each column cycles through all its interesting values (and a NULL), 40 rows."""
    n = 40
    arrays = {}
    for name, (_, arrow) in COLUMNS.items():
        pool = [*_pool(name, arrow), None]
        arrays[name] = pa.array([pool[i % len(pool)] for i in range(n)], arrow)
    arrays["__pos"] = pa.array(np.arange(n, dtype=np.int64))
    return pa.table(arrays)


@pytest.mark.parametrize(
    "predicate",
    [
        "f32 BETWEEN 0.7 AND 1e400",  # one DOUBLE bound: both compared in double precision
        "f32 BETWEEN 7e-1 AND 1",
        "f32 BETWEEN 0.7 AND 1",  # DECIMAL bounds: float32 precision
        "i8 BETWEEN 2.5 AND 1e1",
        "i64 BETWEEN 2 AND 2.5",
        "f32 = 0.7",
        "f32 = 7e-1",
        "f64 = 0.7",
        "f32 >= 0.99",
        "f32 > 9.9e-1",
        "f64 < 0.3",
        "f32 > 3.4028235e38",
        "f32 >= 1e400",
        "f64 = 1e400",
        "f32 < -1e400",
        "f64 > 1e-400",
        "f32 = -0.0",
        "u64 > 1e19",
        "u64 = 1.8446744073709552e19",
        "i64 >= 9007199254740992",
        "i64 > 2.5",
        "i8 <> 2.0",
        "u8 < -1",
        "i8 > 999999999999999999",
        "NOT (f32 > 0.5 OR f64 IS NULL)",
        "NOT f32 BETWEEN 0 AND 1",
        "(i8 > 1 AND f32 > 0.5) OR NOT (u8 = 255 AND f64 <> 0.5)",
        "s = 'cat'",
        "s = 'cat '",
        "s <> ''",
        "s = 'it''s'",
        "'café' = s",
        "lab = 'c''at'",
        "lab <> 'bird'",
        "lab = 'Cat' OR s = 'Cat'",
        "NOT lab = 'cat'",
        "lab IS NULL AND s IS NOT NULL",
    ],
)
def test_edges_are_duckdbs(schema, predicate: str) -> None:
    table = _every_value()
    found = quick_filter.parse(f"SELECT * WHERE {predicate}", schema)
    assert found is not None
    con = duckdb.connect()
    con.register("ds", schema.present(table))
    expected = [row[0] for row in con.execute(f"SELECT __pos FROM ({found.sql}) ORDER BY __pos").fetchall()]
    arrays = {schema[c.name].id: table.column(c.name) for c in found.columns}
    assert quick_filter.matches(found, arrays, table.num_rows).tolist() == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id WHERE score > 0.5",  # not every column
        "SELECT * WHERE score > 0.5 ORDER BY id",
        "SELECT * WHERE score > 0.5 -- comment",
        "SELECT * WHERE score > 1 + 1",  # arithmetic
        "SELECT * WHERE abs(score) > 1",
        "SELECT * WHERE label > 'cat'",  # names ordered as text: DuckDB's
        "SELECT * WHERE label = 1",  # a label against a number
        "SELECT * WHERE text LIKE 'a%'",
        "SELECT * WHERE text = 'a' COLLATE nocase",
        "SELECT * WHERE text = E'a'",
        "SELECT * WHERE text = 'unterminated",
        "SELECT * WHERE half > 0.5",  # Float16: DuckDB has no such type
        "SELECT * WHERE nope > 1",  # unknown column: DuckDB reports it
        "SELECT * WHERE score > 9007199254740993",  # an integer past 2**53 against a float
        "SELECT * WHERE id > 1234567890123456789",  # 19 digits
        "SELECT * WHERE id > 1.",
        "SELECT * FROM other WHERE id > 1",
        "SELECT * FROM ds AS d WHERE id > 1",
        "SELECT * WHERE score > 0.5 LIMIT 2 OFFSET 1",
        "SELECT * WHERE id > 1 AND",
        "SELECT * WHERE (id > 1",
        "SELECT * WHERE id BETWEEN 1 AND 2 AND 3",
        "SELECT * WHERE id IS NOT 1",
        "SELECT * WHERE id > 1; SELECT 1",
        "SELECT * WHERE id",
    ],
)
def test_other_queries_go_to_duckdb(tmp_path, sql: str) -> None:
    """Shapes outside the recognised one are DuckDB's, unchanged."""
    ds = L.create(
        str(tmp_path / "ds"),
        schema={
            "id": L.types.Int64(),
            "score": L.types.Float32(),
            "text": L.types.Text(),
            "label": L.types.ClassLabel(["cat", "dog"]),
            "half": L.types.Float16(),
        },
    )
    assert quick_filter.parse(sql, ds.schema) is None


def test_label_names_only_when_labels_are_names(tmp_path) -> None:
    """``labels=False`` shows DuckDB the codes: a comparison with a name is then DuckDB's to judge."""
    ds = L.create(str(tmp_path / "ds"), schema={"label": L.types.ClassLabel(["cat", "dog"])})
    ds.append({"label": ["cat", "dog", "cat"]})
    assert quick_filter.parse("SELECT * WHERE label = 'cat'", ds.schema) is not None
    assert quick_filter.parse("SELECT * WHERE label = 'cat'", ds.schema, labels=False) is None
    assert len(ds.query("SELECT * WHERE label = 'cat'")) == 2
    assert ds.query("SELECT * WHERE label = 0", labels=False).to_arrow().column("label").to_pylist() == [0, 0]


def _dataset(url: str, pieces: int = 3, rows: int = 1000) -> L.Dataset:
    rng = np.random.default_rng(5)
    ds = L.create(
        url,
        schema={
            "id": L.types.Int64(),
            "score": L.types.Float32(),
            "text": L.types.Text(),
            "label": L.types.ClassLabel(["cat", "dog"]),
        },
    )
    for p in range(pieces):
        score = rng.random(rows, dtype=np.float32)
        score[::97] = np.nan
        ds.append(
            {
                "id": np.arange(p * rows, (p + 1) * rows),
                "score": score,
                "text": [f"t{i}" for i in range(rows)],
                "label": ["cat", "dog"] * (rows // 2),
            }
        )
        ds.commit(f"piece {p}")
    return ds


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * WHERE score > 0.99",
        "select * from ds where ID >= 1500 and score <= 0.5 limit 7",
        "SELECT * WHERE id BETWEEN 990 AND 2010 AND NOT score < 0.25",
        "SELECT * WHERE id > 2995 OR id < 3",
        "SELECT * WHERE score > 2",  # only the NaNs
        "SELECT * WHERE id < 0",  # nothing
        "SELECT * WHERE score IS NULL",
    ],
)
def test_results_equal_duckdbs_end_to_end(tmp_path, sql: str) -> None:
    ds = _dataset(str(tmp_path / "ds"))
    ds.append({"id": [5000, 5001], "score": [0.995, None], "text": ["a", "b"], "label": ["dog", "cat"]})  # staged
    quick = ds.query(sql)
    assert quick._con is None  # answered without DuckDB
    reference = query_dataset(ds, sql)
    assert len(quick) == len(reference)
    ours, theirs = quick.to_arrow(), reference.to_arrow()
    assert ours.schema == theirs.schema
    assert ours.to_pandas().equals(theirs.to_pandas())  # NaN where DuckDB has NaN
    assert len(quick.relation.fetchall()) == len(reference)


def test_columns_added_later_read_their_default(tmp_path) -> None:
    ds = L.create(str(tmp_path / "ds"), schema={"a": L.types.Int64()})
    ds.append({"a": [1, 2, 3]})
    ds.commit("one")
    ds.add_column("b", L.types.Float32())
    ds.add_column("c", L.types.Int32(), default_value=7)
    ds.append({"a": [4, 5], "b": [0.5, None], "c": [1, 8]})
    ds.commit("two")
    for sql in (
        "SELECT * WHERE b IS NULL",
        "SELECT * WHERE b > 0.1 OR a < 3",
        "SELECT * WHERE NOT b > 0.1",
        "SELECT * WHERE c = 7",
        "SELECT * WHERE c > 5 AND b IS NULL",
        "SELECT * WHERE c < 7 OR b < 1",
    ):
        quick = ds.query(sql)
        assert quick._con is None, sql
        reference = query_dataset(ds, sql)
        assert quick.to_arrow().to_pydict() == reference.to_arrow().to_pydict(), sql


def test_a_result_keeps_the_version_it_was_asked_of(tmp_path) -> None:
    ds = _dataset(str(tmp_path / "ds"), pieces=1, rows=10)
    ids_before = [i for i in range(10)]
    view = ds.query("SELECT * WHERE id >= 0")
    ds.append({"id": [100], "score": [0.5], "text": ["new"], "label": ["cat"]})
    ds["id"][0] = 42  # an update in place, staged
    assert len(view) == 10
    assert view.to_arrow().column("id").to_pylist() == ids_before  # what was asked of, not what is now
    assert ds.query("SELECT * WHERE id >= 0").to_arrow().column("id").to_pylist() == [42, *range(1, 10), 100]


def test_a_fresh_kernel_filters_without_starting_duckdb(tmp_path) -> None:
    """The first filter after a kernel start: no DuckDB import, the right count; reading the rows
    afterwards starts DuckDB and gives DuckDB's rows."""
    url = str(tmp_path / "ds")
    ds = _dataset(url)
    expected = query_dataset(ds, "SELECT * WHERE score > 0.9 AND id < 2500").to_arrow().column("id").to_pylist()
    script = textwrap.dedent(
        f"""
        import json, sys
        import lakelet.datasets as L
        ds = L.open({url!r})
        view = ds.query("SELECT * WHERE score > 0.9 AND id < 2500")
        n = len(view)
        before = "duckdb" in sys.modules
        ids = view.to_arrow().column("id").to_pylist()
        print(json.dumps({{"n": n, "duckdb_before_reading": before, "ids": ids}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["duckdb_before_reading"] is False
    assert result["n"] == len(expected) > 0
    assert result["ids"] == expected


def test_pieces_the_statistics_rule_out_are_not_read(tmp_path) -> None:
    ds = _dataset(str(tmp_path / "ds"), pieces=3, rows=100)
    found = quick_filter.parse("SELECT * WHERE id >= 250", ds.schema)
    assert found is not None and found.prune  # the conjunct reaches the piece statistics
    reads: list[str] = []
    loader = ds.checked_out.loader
    original = loader.load_many

    def recording(sources):
        reads.extend(sources)
        return original(sources)

    loader.load_many = recording  # type: ignore[method-assign]
    positions = quick_filter.rows(ds, found)
    assert positions.tolist() == list(range(250, 300))
    assert len(reads) == 1  # the id file of the last piece only
    reads.clear()
    assert quick_filter.rows(ds, found, prune=False).tolist() == list(range(250, 300))
    assert len(reads) == 3  # prune=False reads every piece


@pytest.mark.parametrize("place", ["local", "s3", "gcs", "azure"], indirect=True)
def test_a_second_machine_filters_through_the_shared_store(place) -> None:
    """Written here, filtered by another process through the server: DuckDB's rows, DuckDB not started."""
    url, creds = place("shared")
    rng = np.random.default_rng(9)
    ds = L.create(url, creds, schema={"id": L.types.Int64(), "score": L.types.Float64()})
    for p in range(2):
        ds.append({"id": np.arange(p * 500, (p + 1) * 500), "score": rng.random(500)})
        ds.commit(f"piece {p}")
    sql = "SELECT * WHERE score >= 0.75 AND id BETWEEN 100 AND 899"
    expected = query_dataset(ds, sql).to_arrow().column("id").to_pylist()
    script = textwrap.dedent(
        f"""
        import json, sys
        import lakelet.datasets as L
        ds = L.open({url!r}, {creds!r})
        view = ds.query({sql!r})
        n, started = len(view), "duckdb" in sys.modules
        print(json.dumps({{"n": n, "duckdb": started, "ids": view.to_arrow().column("id").to_pylist()}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["duckdb"] is False
    assert result["n"] == len(expected) > 0
    assert result["ids"] == expected

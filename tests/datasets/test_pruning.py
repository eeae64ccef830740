"""Fragment pruning: per-piece statistics in the manifest skip pieces a query's WHERE cannot match.

The property test compares every query with pruning on and off over random
multi-piece data and random predicates; the others prove fewer files are read
(locally and on S3), that edits never leave stale statistics, and that old
manifests without statistics still read (unpruned).
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import lakelet.datasets as L
from lakelet.datasets import pruning, types
from lakelet.datasets.fragments import Piece
from lakelet.datasets.stats import compute

SCHEMA = {"i": types.Int64(), "u": types.UInt8(), "f": types.Float32(), "d": types.Float64(), "s": types.Text(),
          "b": types.Bool()}

# ---------------------------------------------------------------- helpers


def _norm(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def _rows(view: Any) -> list[tuple[Any, ...]]:
    table = view.to_arrow()
    return [tuple(_norm(v) for v in row.values()) for row in table.to_pylist()]


def _spy_loads(ds: Any) -> list[str]:
    """Record the column files ``ds`` loads (memory-mapped locally, fetched remotely)."""
    seen: list[str] = []
    original = ds.checked_out.loader.load

    def load(path: str) -> Any:
        seen.append(path)
        return original(path)

    ds.checked_out.loader.load = load
    return seen


def _spy_gets(ds: Any) -> list[str]:
    """Record the byte reads ``ds`` makes through its storage reader (what crosses the network on S3)."""
    seen: list[str] = []
    reader = ds.checked_out.loader.reader
    original = reader.get

    def get(path: str, start: int | None = None, end: int | None = None) -> bytes:
        seen.append(path)
        return original(path, start, end)

    reader.get = get
    return seen


def _pieces(paths: list[str]) -> set[str]:
    return {p.split("/")[1] for p in paths if p.startswith("data/")}


# ---------------------------------------------------------------- the property: same rows with and without pruning

_NAN = float("nan")
_FLOATS = [0.0, -0.0, 0.7, float(np.float32(0.7)), 1e-45, -2.5, 3.0, 1e38, float("inf"), float("-inf"), _NAN, _NAN]
_TEXTS = ["", "a", "ab", "b", "é", "z" * 300, "a" * 300, "s1"]


@st.composite
def piece_rows(draw: Any) -> dict[str, list[Any]]:
    n = draw(st.integers(1, 6))

    def col(values: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(st.one_of(st.none(), values) if draw(st.booleans()) else values, min_size=n, max_size=n))

    return {
        "i": col(st.integers(-5, 5) | st.sampled_from([2**62, -(2**62)])),
        "u": col(st.integers(0, 255)),
        "f": col(st.sampled_from(_FLOATS) | st.floats(-1, 1, width=32)),
        "d": col(st.sampled_from(_FLOATS)),
        "s": col(st.sampled_from(_TEXTS)),
        "b": col(st.booleans()),
    }


_LITERALS = {
    "i": ["0", "-5", "3", "5", "2.5", "4611686018427387904", "99999999999999999999", "'3'", "NULL"],
    "u": ["0", "255", "-1", "1000", "7"],
    "f": ["0", "0.7", "-0.0", "1e-50", "1e-45", "-2.5", "3", "1e38", "1e39", "'nan'", "'inf'"],
    "d": ["0", "0.7", "-2.5", "1e-50", "3.0", "1e308", "1e309", "'-inf'"],
    "s": ["''", "'a'", "'ab'", "'b'", "'é'", "'s1'", "'zzz'", "'" + "z" * 300 + "'"],
    "b": ["true", "false"],
}


@st.composite
def predicate(draw: Any) -> str:
    col = draw(st.sampled_from(sorted(SCHEMA)))
    lit = st.sampled_from(_LITERALS[col])
    form = draw(st.integers(0, 8))
    if form == 0:
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        a, b = (col, draw(lit)) if draw(st.booleans()) else (draw(lit), col)
        return f"{a} {op} {b}"
    if form == 1:
        return f"{col} BETWEEN {draw(lit)} AND {draw(lit)}"
    if form == 2:
        return f"{col} IN ({', '.join(draw(st.lists(lit, min_size=1, max_size=3)))})"
    if form == 3:
        return f"{col} IS {draw(st.sampled_from(['NULL', 'NOT NULL']))}"
    if form == 4:
        return "b" if draw(st.booleans()) else "ds.b"
    if form == 5:
        return f"ds.{col} >= {draw(lit)}"
    if form == 6:
        return f"({draw(predicate())} OR {draw(predicate())})"
    if form == 7:
        return f"NOT ({col} < {draw(lit)})"
    return f"{draw(predicate())} AND {draw(predicate())}"


def _edge_piece(f: list[float], s: list[str]) -> dict[str, list[Any]]:
    n = len(f)
    return {"i": list(range(n)), "u": [1] * n, "f": f, "d": f, "s": s, "b": [True] * n}


_EDGES = [  # known traps, checked on every run
    _edge_piece([1.0, _NAN], ["a", "b"]),  # NaN sorts above every number in DuckDB
    _edge_piece([float(np.float32(0.7))], ["z" * 300]),  # float_col = 0.7 matches float32(0.7); cut text bounds
    _edge_piece([_NAN, _NAN], ["é", ""]),
    _edge_piece([float("inf"), 0.0], ["ab", "a"]),
    _edge_piece([float("inf")], ["s1"]),  # 1e39 rounds to a float32 inf
]
_EDGE_WHERES = ["d > 3", "f >= 3", "d <> 1", "f = 0.7", "d IN (0.7, 5)", "f BETWEEN 0.7 AND 0.7", "0.7 >= f",
                "f <= 1e39", "f = 1e39", "d > 1e308", "s > 'zz'", "s = '" + "z" * 300 + "'", "s >= 'é'", "i > 2.5"]


@example(pieces=_EDGES, wheres=_EDGE_WHERES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(pieces=st.lists(piece_rows(), min_size=1, max_size=4), wheres=st.lists(predicate(), min_size=1, max_size=8))
def test_pruning_never_changes_results(pieces: list[dict[str, list[Any]]], wheres: list[str]) -> None:
    ds = L.create(f"memory://prune-{uuid.uuid4().hex[:12]}/ds", schema=SCHEMA)
    for rows in pieces:
        ds.append(rows)
        ds.commit("piece")
    for where in wheres:
        forms = (f"SELECT * WHERE {where}", f"SELECT count(*) AS n, max(i) AS m FROM ds WHERE {where}")
        for sql in forms:
            try:
                expected = _rows(ds.query(sql, prune=False))
            except L.InvalidArgument:  # e.g. a literal DuckDB cannot cast: pruning must fail the same way
                with pytest.raises(L.InvalidArgument):
                    _rows(ds.query(sql))
                continue
            assert _rows(ds.query(sql)) == expected, sql


# ---------------------------------------------------------------- fewer files read


def _five_pieces(url: str, creds: dict[str, Any] | None = None) -> None:
    ds = L.create(url, creds=creds, schema={"id": types.Int64(), "score": types.Float32(), "tag": types.Text()})
    for k in range(5):
        ids = np.arange(k * 100, (k + 1) * 100)
        ds.append({"id": ids, "score": ids.astype(np.float32) / 10, "tag": [f"t{k}"] * 100})
        ds.commit(f"piece {k}")


def _reads(url: str, sql: str, creds: dict[str, Any] | None, *, prune: bool, spy: Any) -> tuple[list[Any], set[str]]:
    ds = L.open_read_only(url, creds=creds)  # a fresh handle: no cached column files
    seen = spy(ds)
    result = ds.query(sql, prune=prune)["id"]
    return result, _pieces(seen)


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_selective_filter_reads_only_matching_pieces(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if kind == "local":
        url, creds, spy = str(tmp_path / "ds"), None, _spy_loads
    else:
        server = request.getfixturevalue("s3_server")
        creds = server.creds
        url, spy = f"s3://{server.new_bucket()}/ds", _spy_gets
    _five_pieces(url, creds)
    sql = "SELECT id, tag WHERE id BETWEEN 250 AND 260 AND score > 1"
    pruned, read_pruned = _reads(url, sql, creds, prune=True, spy=spy)
    full, read_full = _reads(url, sql, creds, prune=False, spy=spy)
    assert pruned == full == list(range(250, 261))
    assert len(read_full) == 5 and len(read_pruned) == 1
    nothing, read_nothing = _reads(url, "SELECT id WHERE tag = 'nope' OR id < 0 AND id > 10", creds, prune=True,
                                   spy=spy)
    assert nothing == [] and len(read_nothing) == 5  # OR: not a conjunction, nothing pruned
    none, read_none = _reads(url, "SELECT id WHERE tag IN ('x', 'y')", creds, prune=True, spy=spy)
    assert none == [] and read_none == set()


def test_shapes_that_are_not_pruned(tmp_path: Path) -> None:
    url = str(tmp_path / "ds")
    _five_pieces(url)
    ds = L.open_read_only(url)
    seen = _spy_loads(ds)
    # the dataset is named twice: the subquery must see every piece
    assert ds.query("SELECT id FROM ds WHERE id > 10 AND id = (SELECT max(id) FROM ds)")["id"] == [499]
    assert len(_pieces(seen)) == 5
    seen.clear()
    assert ds.query("WITH t AS (SELECT * FROM ds) SELECT id FROM t WHERE id = 3")["id"] == [3]
    assert len(_pieces(seen)) == 5
    seen.clear()
    assert ds.query("SELECT id FROM ds WHERE id = 3 UNION ALL SELECT 1")["id"] == [3, 1]
    assert len(_pieces(seen)) == 5
    seen.clear()
    assert ds.query("SELECT id FROM ds WHERE ds.id = 3")["id"] == [3]
    assert len(_pieces(seen)) == 1
    seen.clear()
    module = L.query(f"SELECT id FROM dataset('{url}') AS d WHERE d.id >= 498")
    assert module["id"] == [498, 499]


# ---------------------------------------------------------------- statistics stay true through edits


def test_edits_and_added_columns_never_leave_stale_statistics(mem_url: str) -> None:
    ds = L.create(mem_url, schema={"id": types.Int64()})
    for k in range(3):
        ds.append({"id": np.arange(k * 10, (k + 1) * 10)})
        ds.commit(f"piece {k}")
    ds["id"][5] = 1000  # piece 0's id file is replaced; its old statistics said max 9
    ds.commit("edit")
    assert ds.query("SELECT id WHERE id = 1000")["id"] == [1000]
    ds.delete(15)
    ds.commit("delete")
    assert ds.query("SELECT count(*) AS n WHERE id = 15")["n"] == [0]
    assert ds.query("SELECT count(*) AS n WHERE id BETWEEN 10 AND 19")["n"] == [9]
    ds.add_column("label", types.Text(), default_value="old")
    ds.append({"id": [7], "label": ["new"]})
    ds.commit("labelled")
    assert ds.query("SELECT id WHERE label = 'new'")["id"] == [7]
    assert ds.query("SELECT count(*) AS n WHERE label = 'old'")["n"] == [29]
    assert ds.query("SELECT count(*) AS n WHERE label IS NULL")["n"] == [0]
    ds.rename_column("label", "kind")
    assert ds.query("SELECT id WHERE kind = 'new' AND id < 10")["id"] == [7]


def test_manifest_without_statistics_is_read_unpruned(tmp_path: Path) -> None:
    url = str(tmp_path / "ds")
    _five_pieces(url)
    head = L.open(url).version
    path = tmp_path / "ds" / "versions" / f"{head}.json"
    data = json.loads(path.read_text())
    for piece in data["pieces"]:
        assert "stats" in piece
        del piece["stats"]  # as written before statistics existed
    path.write_text(json.dumps(data))
    ds = L.open_read_only(url)
    seen = _spy_loads(ds)
    assert ds.query("SELECT id WHERE id = 42")["id"] == [42]
    assert len(_pieces(seen)) == 5
    assert Piece.from_json({"id": "x", "rows": 1, "columns": {"c": "data/x/c.arrow"}}).stats == {}


def test_nan_aware_statistics() -> None:
    import pyarrow as pa

    stats = compute(pa.array([1.5, float("nan"), None, float("-inf")], pa.float32()))
    assert stats == {"nulls": 1, "nans": 1, "lo": "-inf", "hi": 1.5}
    assert compute(pa.array([float("nan"), None], pa.float64())) == {"nulls": 1, "nans": 1}
    assert compute(pa.array([[1.0]], pa.list_(pa.float32()))) is None
    long = compute(pa.array(["b" * 300, "a" * 300]))
    assert long is not None and long["lo"] == "a" * 256 and "hi" not in long  # a cut max would not be a bound


def test_nan_only_piece_is_kept_for_greater_than(mem_url: str) -> None:
    ds = L.create(mem_url, schema={"x": types.Float64()})
    ds.append({"x": [float("nan")] * 3})
    ds.commit("nan")
    ds.append({"x": [1.0, 2.0]})
    ds.commit("numbers")
    schema = ds.schema
    tree = json.loads(ds.checked_out.engine().execute("SELECT json_serialize_sql(?)", ["SELECT * FROM ds WHERE x > 5"])
                      .fetchall()[0][0])
    found = pruning.conditions(tree, "ds", schema)
    assert [c.op for c in found] == [">"]
    assert [pruning.keep(p, schema, found) for p in ds.checked_out.state.pieces] == [True, False]
    assert len(ds.query("SELECT * WHERE x > 5")) == len(ds.query("SELECT * WHERE x > 5", prune=False)) == 3
    assert len(ds.query("SELECT * WHERE x < 5")) == 2

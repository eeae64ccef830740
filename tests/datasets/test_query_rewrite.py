"""Issue 15.20: the FROM-less rewrite and the dataset('url') substitution work on DuckDB's parse tree,
so string literals, quoted names and comments that look like clauses are never edited."""

from __future__ import annotations

import pytest

import lakelet.datasets as L
from lakelet.errors import InvalidArgument


@pytest.fixture
def ds(mem_url):
    ds = L.create(mem_url, schema={"n": "int64", "s": "text"})
    ds.append({"n": [1, 2, 3], "s": ["a WHERE b", "x", "y"]})
    ds.commit("three")
    return ds


def test_from_less_rewrite_leaves_literals_and_comments_alone(ds):
    assert ds.query("SELECT $$ WHERE $$ AS s LIMIT 1")["s"] == [" WHERE "]
    assert ds.query("SELECT ' ORDER BY ' AS s, n WHERE n = 2")["s"] == [" ORDER BY "]
    assert ds.query("SELECT n AS \"where\" WHERE s = 'a WHERE b'")["where"] == [1]
    assert ds.query("SELECT n -- WHERE n = 3\nWHERE n > 1 /* LIMIT 0 */ ORDER BY n")["n"] == [2, 3]
    assert ds.query("SELECT (SELECT 'LIMIT 5') AS t, n WHERE n < 2")["t"] == ["LIMIT 5"]


def test_dataset_calls_are_replaced_on_the_parse_tree(ds):
    text = f"dataset('{ds.path}')"
    out = L.query(f"SELECT '{text.replace(chr(39), chr(39) * 2)}' AS t, count(*) AS c FROM dataset('{ds.path}')")
    assert out["t"] == [text] and out["c"] == [3]
    assert L.query(f"SELECT n FROM dataset('{ds.path}', branch := 'main') WHERE n = 3")["n"] == [3]
    with pytest.raises(InvalidArgument, match="second argument"):
        L.query(f"SELECT * FROM dataset('{ds.path}', 'v1')")
    with pytest.raises(InvalidArgument, match="names no dataset"):
        L.query("SELECT 'dataset(''memory://nope'')' AS t")

"""Search indexes (issue 11.5): an embedding index answers ``ORDER BY cosine_similarity(...) LIMIT k``
with the exact top k on clustered vectors, only for the data it was built from; a bm25 index scores
``bm25_similarity``; both are found again by a fresh process, locally and on S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from lakelet import datasets
from lakelet.datasets import types as T
from lakelet.datasets.errors import DatasetError
from lakelet.errors import InvalidArgument

pytest.importorskip("usearch")
pytest.importorskip("tantivy")

DIM = 16
WORDS = ["apple", "banana", "cherry", "delta", "echo", "fox", "golf", "hotel"]


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((50, DIM)).astype(np.float32)
    return centres[rng.integers(0, 50, n)] + 0.5 * rng.standard_normal((n, DIM)).astype(np.float32)


def _queries(n: int, seed: int) -> np.ndarray:
    """Points near the data (as a search for similar items is), not from other clusters."""
    rng = np.random.default_rng(seed)
    return _vectors(3000)[rng.integers(0, 3000, n)] + 0.3 * rng.standard_normal((n, DIM)).astype(np.float32)


def _make(url: str, n: int = 3000, creds: dict | None = None) -> datasets.Dataset:
    rng = np.random.default_rng(1)
    ds = datasets.create(url, schema={"id": T.Int64(), "emb": T.Embedding(DIM), "text": T.Text()}, creds=creds)
    ds.append({"id": np.arange(n), "emb": _vectors(n), "text": [" ".join(rng.choice(WORDS, 4)) for _ in range(n)]})
    ds.commit("data")
    return ds


def _top(q: np.ndarray, k: int = 10, fn: str = "cosine_similarity", order: str = "DESC") -> str:
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in q) + "]"
    return f"SELECT id, {fn}(emb, {vec}) AS score FROM ds ORDER BY score {order} LIMIT {k}"


def _exact_ids(ds: datasets.Dataset, sql: str) -> list[int]:
    return ds.query(sql, indexes=False).to_arrow()["id"].to_pylist()


def test_the_graph_search_finds_nearly_all_of_the_top_k_and_scores_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HNSW is approximate: recall, not identity, is what it promises (figures at 2M in docs/benchmarks.md)."""
    from lakelet.datasets import indexes

    monkeypatch.setattr(indexes, "BRUTE_FORCE_BELOW", 0)  # the graph even at test size
    ds = _make(str(tmp_path / "ds"), n=20_000)
    ds["emb"].create_index("embedding")
    found = total = 0
    for q in _queries(30, seed=9):
        view = ds.query(_top(q, k=10))
        assert view.indexes_used == ["ds.emb (embedding, cosine)"]
        got = view.to_arrow()
        exact = ds.query(_top(q, k=10), indexes=False).to_arrow()
        found += len(set(got["id"].to_pylist()) & set(exact["id"].to_pylist()))
        total += 10
        by_id = dict(zip(exact["id"].to_pylist(), exact["score"].to_pylist(), strict=True))
        for i, score in zip(got["id"].to_pylist(), got["score"].to_pylist(), strict=True):
            if i in by_id:
                assert score == pytest.approx(by_id[i])  # the scores are exact, whatever the graph found
    assert found / total >= 0.95
    # filtered through the graph: the neighbours it finds, then the WHERE on them
    found = total = 0
    for q in _queries(10, seed=10):
        vec = "[" + ", ".join(f"{float(v):.6f}" for v in q) + "]"
        sql = f"SELECT id FROM ds WHERE id % 2 = 0 ORDER BY cosine_similarity(emb, {vec}) DESC LIMIT 10"
        view = ds.query(sql)
        assert view.indexes_used == ["ds.emb (embedding, cosine, filtered)"]
        got = view.to_arrow()["id"].to_pylist()
        assert all(i % 2 == 0 for i in got) and len(got) == 10
        found += len(set(got) & set(_exact_ids(ds, sql)))
        total += 10
    assert found / total >= 0.95


def test_embedding_index_answers_top_k_exactly_on_clustered_vectors(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"))
    info = ds["emb"].create_index("embedding")
    assert (info.column, info.kind, info.metric, info.rows, info.built_by) == (
        "emb",
        "embedding",
        "cosine",
        3000,
        ds.version,
    )
    queries = _queries(20, seed=7)
    for q in queries:
        sql = _top(q)
        view = ds.query(sql)
        got = view.to_arrow()
        assert view.indexes_used == ["ds.emb (embedding, cosine)"]
        exact = ds.query(sql, indexes=False).to_arrow()
        assert got["id"].to_pylist() == exact["id"].to_pylist()
        assert got["score"].to_pylist() == pytest.approx(exact["score"].to_pylist())  # exact scores
    # the other spellings of the same ranking: the call in ORDER BY, SELECT *, a FROM-less query, OFFSET
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in queries[0]) + "]"
    for sql in (
        f"SELECT * FROM ds ORDER BY cosine_similarity(emb, {vec}) DESC LIMIT 5",
        f"SELECT id ORDER BY cosine_similarity({vec}::FLOAT[{DIM}], emb) DESC LIMIT 5 OFFSET 3",
    ):
        view = ds.query(sql)
        assert view.to_arrow()["id"].to_pylist() == _exact_ids(ds, sql) and view.indexes_used, sql


def test_shapes_the_index_cannot_answer_run_exact(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"))
    ds.create_index("emb")
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in _queries(1, seed=3)[0]) + "]"
    for sql in (
        f"SELECT id FROM ds WHERE id % 2 = 0 ORDER BY cosine_similarity(emb, {vec}) DESC LIMIT 5",  # a filter
        f"SELECT id FROM ds ORDER BY cosine_similarity(emb, {vec}) ASC LIMIT 5",  # the worst first
        f"SELECT id, count(*) OVER () AS n FROM ds ORDER BY cosine_similarity(emb, {vec}) DESC LIMIT 5",
        f"SELECT id FROM ds ORDER BY l2_distance(emb, {vec}) LIMIT 5",  # another metric
        f"SELECT id FROM ds ORDER BY cosine_similarity(emb, {vec}) DESC",  # no LIMIT
    ):
        view = ds.query(sql)
        assert view.indexes_used == [], sql
        assert view.to_arrow()["id"].to_pylist() == _exact_ids(ds, sql)


def test_an_index_answers_only_for_the_data_it_was_built_from(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"))
    built_at = ds.version
    ds.create_index("emb")
    target = _queries(1, seed=11)[0] * 3
    sql = _top(target, k=3)
    ds.append({"id": [99_999], "emb": [target], "text": ["new"]})
    assert ds.query(sql).indexes_used == []  # uncommitted rows: exact, and the new row is found
    assert ds.query(sql).to_arrow()["id"].to_pylist()[0] == 99_999
    ds.commit("one more row")
    view = ds.query(sql)
    assert view.indexes_used == [] and view.to_arrow()["id"].to_pylist()[0] == 99_999
    assert [i.current for i in ds.indexes] == [False]
    old = datasets.open(str(tmp_path / "ds"), version=built_at)  # the version it was built for: used again
    assert old.query(sql).indexes_used and 99_999 not in old.query(sql).to_arrow()["id"].to_pylist()
    ds.create_index("emb")  # rebuilt for the new version
    assert ds.query(sql).indexes_used and ds.query(sql).to_arrow()["id"].to_pylist()[0] == 99_999
    ds.add_column("note", T.Text())  # another column changes: the embedding data did not
    ds.commit("a column")
    assert ds.query(sql).indexes_used
    ds["emb"][0] = target  # an edit of the column: exact again, and row 0 is found
    ds.commit("edit row 0")
    view = ds.query(sql)
    assert view.indexes_used == [] and set(view.to_arrow()["id"].to_pylist()[:2]) == {0, 99_999}
    assert ds.drop_index("emb") == 2 and ds.indexes == []


def test_null_and_zero_vectors_are_left_out_and_l2_has_its_own_index(tmp_path: Path) -> None:
    ds = datasets.create(str(tmp_path / "ds"), schema={"id": T.Int64(), "emb": T.Embedding(DIM)})
    vectors = list(_vectors(500))
    vectors[3] = None
    vectors[4] = np.zeros(DIM, np.float32)
    ds.append({"id": np.arange(500), "emb": vectors})
    ds.commit()
    assert ds.create_index("emb").rows == 498
    l2 = ds.create_index("emb", metric="l2")
    assert l2.metric == "l2" and len(ds.indexes) == 1  # one embedding index per column: the newest metric
    q = _queries(1, seed=5)[0]
    sql = _top(q, 10, "l2_distance", "ASC")
    view = ds.query(sql)
    assert view.indexes_used == ["ds.emb (embedding, l2)"]
    assert view.to_arrow()["id"].to_pylist() == _exact_ids(ds, sql)
    assert ds.query(_top(q)).indexes_used == []  # cosine now has no index: exact


def test_bad_requests_say_what_is_wrong_and_write_nothing(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"), n=50)
    with pytest.raises(InvalidArgument, match="needs an Embedding column; 'text'"):
        ds["text"].create_index("embedding")
    with pytest.raises(InvalidArgument, match="needs a Text column; 'emb'"):
        ds["emb"].create_index("bm25")
    with pytest.raises(InvalidArgument, match="index kind must be one of"):
        ds["emb"].create_index("hnsw")
    with pytest.raises(InvalidArgument, match="metric must be one of"):
        ds["emb"].create_index("embedding", metric="hamming")
    with pytest.raises(InvalidArgument, match="no column 'nope'"):
        ds.create_index("nope")
    ds.append({"id": [1], "emb": [np.ones(DIM)], "text": ["x"]})
    with pytest.raises(DatasetError, match="uncommitted changes: commit them"):
        ds.create_index("emb")
    assert not (tmp_path / "ds" / "indexes").exists()


def test_bm25_scores_words_with_stemming_and_needs_its_index(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"), n=400)
    sql = "SELECT id, text, bm25_similarity(text, 'cherries') AS s FROM ds ORDER BY s DESC LIMIT 5"
    with pytest.raises(InvalidArgument, match=r"there is no bm25 index on it: ds\['text'\].create_index\('bm25'\)"):
        ds.query(sql)
    info = ds["text"].create_index("bm25")
    assert info.rows == 400
    view = ds.query(sql)
    rows = view.to_arrow().to_pylist()
    assert view.indexes_used == ["ds.text (bm25)"] and len(rows) == 5
    assert all("cherry" in r["text"] and r["s"] > 0 for r in rows)  # "cherries" is stemmed to "cherry"
    best = max(r["text"].split().count("cherry") for r in ds.query("SELECT text").to_arrow().to_pylist())
    assert rows[0]["text"].split().count("cherry") == best  # the most mentions rank first (same length)
    every = ds.query("SELECT *, bm25_similarity(text, 'golf') AS s").to_arrow()
    assert every.column_names == ["id", "emb", "text", "s"]  # * hides lakelet's score column
    for text, score in zip(every["text"].to_pylist(), every["s"].to_pylist(), strict=True):
        assert (score > 0) == ("golf" in text.split())
    filtered = ds.query("SELECT id FROM ds WHERE bm25_similarity(text, 'golf hotel') > 0 AND id < 100").to_arrow()
    assert filtered["id"].to_pylist() == [
        i for i, t in enumerate(every["text"].to_pylist()[:100]) if {"golf", "hotel"} & set(t.split())
    ]
    ds.append({"id": [400], "emb": [np.ones(DIM)], "text": ["cherry cherry cherry cherry"]})
    ds.commit()
    with pytest.raises(InvalidArgument, match="was built for other data .* rebuild it"):
        ds.query(sql)
    ds["text"].create_index("bm25")
    assert ds.query(sql).to_arrow()["id"].to_pylist()[0] == 400


CHILD = textwrap.dedent(
    """
    import json, sys
    from lakelet import datasets
    creds = json.loads(sys.argv[3]) or None
    ds = datasets.open(sys.argv[1], creds=creds)
    view = ds.query(sys.argv[2])
    got = view.to_arrow()["id"].to_pylist()
    exact = ds.query(sys.argv[2], indexes=False).to_arrow()["id"].to_pylist()
    bm25 = ds.query("SELECT id FROM ds ORDER BY bm25_similarity(text, 'fox') DESC LIMIT 3")
    print(json.dumps({"got": got, "exact": exact, "used": view.indexes_used + bm25.indexes_used,
                      "bm25": len(bm25.to_arrow())}))
    """
)


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_a_fresh_process_finds_the_indexes(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    if backend == "s3":
        server = request.getfixturevalue("s3_server")
        creds = server.creds
        url = f"s3://{server.new_bucket()}/ds"
    else:
        creds, url = None, str(tmp_path / "ds")
    ds = _make(url, n=2000, creds=creds)
    ds["emb"].create_index("embedding")
    ds["text"].create_index("bm25")
    sql = _top(_queries(1, seed=9)[0])
    env = {**os.environ, "LAKELET_HOME": str(tmp_path / "home2")}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, sql, json.dumps(creds)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["used"] == ["ds.emb (embedding, cosine)", "ds.text (bm25)"]
    assert result["got"] == result["exact"] and len(result["got"]) == 10 and result["bm25"] == 3


def test_gc_keeps_the_indexes_of_heads_and_tags_and_removes_the_rest(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"), n=500)
    first = ds.version
    old = ds["emb"].create_index("embedding")
    ds.tag("v1")  # a tag keeps its index
    ds.append({"id": [500], "emb": _vectors(1, seed=3), "text": ["apple"]})
    ds.commit("one more")
    ds["emb"].create_index("embedding")
    ds["text"].create_index("bm25")
    ds.append({"id": [501], "emb": _vectors(1, seed=4), "text": ["banana"]})
    ds.commit("again")  # the second emb index and the bm25 index now answer for history only
    head_index = ds["emb"].create_index("embedding")
    report = ds.gc(grace_period=0)
    removed = {p for p in report.removed_names if p.startswith("indexes/")}
    kept = {i.path for i in ds.indexes}
    assert kept == {old.path, head_index.path}
    assert len(removed) == 4  # two indexes of the middle commit, each with its .json
    assert all(not Path(tmp_path / "ds" / p).exists() for p in removed)
    assert ds.query(_top(_queries(1, seed=2)[0])).indexes_used == ["ds.emb (embedding, cosine)"]
    ds.checkout("v1")
    assert ds.version == first
    assert ds.query(_top(_queries(1, seed=2)[0])).indexes_used == ["ds.emb (embedding, cosine)"]
    # a young index of an old version is kept until the grace period has passed
    ds.checkout("main")
    assert not {p for p in ds.gc().removed_names if p.startswith("indexes/")}


def test_a_copied_dataset_keeps_its_indexes(tmp_path: Path) -> None:
    ds = _make(str(tmp_path / "ds"), n=800)
    ds["emb"].create_index("embedding")
    ds["text"].create_index("bm25")
    copied = datasets.copy(str(tmp_path / "ds"), "memory://copied-with-indexes")
    assert sorted((i.column, i.kind, i.current) for i in copied.indexes) == [
        ("emb", "embedding", True),
        ("text", "bm25", True),
    ]
    q = _queries(1, seed=5)[0]
    view = copied.query(_top(q))
    assert view.indexes_used == ["ds.emb (embedding, cosine)"]
    assert view.to_arrow()["id"].to_pylist() == _exact_ids(ds, _top(q))
    sql = "SELECT id FROM ds WHERE bm25_similarity(text, 'apples') > 0 ORDER BY id"
    assert copied.query(sql).to_arrow()["id"].to_pylist() == ds.query(sql).to_arrow()["id"].to_pylist()


def _labelled(url: str, n: int) -> datasets.Dataset:
    ds = datasets.create(
        url, schema={"id": T.Int64(), "emb": T.Embedding(DIM), "kind": T.ClassLabel(["cat", "dog", "owl"])}
    )
    rng = np.random.default_rng(2)
    kinds = rng.choice(["cat", "dog", "owl"], n, p=[0.1, 0.3, 0.6]).tolist()
    ds.append({"id": np.arange(n), "emb": _vectors(n), "kind": kinds})
    ds.commit("data")
    ds["emb"].create_index("embedding")
    return ds


def test_a_filtered_top_k_returns_the_exact_answer_among_the_matching_rows(tmp_path: Path) -> None:
    ds = _labelled(str(tmp_path / "ds"), 20_000)  # post-filtering needs the index a few times larger than its ask
    cases = {  # WHERE -> whether the index's neighbours are enough (else DuckDB filters every row)
        "kind = 'cat'": True,  # 10% of the rows
        "d.kind <> 'owl' AND d.id % 3 = 1": True,
        "id < 50": False,  # too few rows pass among any neighbours the index may be asked for
        "id < 0": False,
    }
    for i, q in enumerate(_queries(12, seed=11)):
        where = list(cases)[i % len(cases)]
        vec = "[" + ", ".join(f"{float(v):.6f}" for v in q) + "]"
        sql = f"SELECT d.id, cosine_similarity(emb, {vec}) AS s FROM ds AS d WHERE {where} ORDER BY s DESC LIMIT 10"
        view = ds.query(sql)
        got = view.to_arrow()
        exact = ds.query(sql, indexes=False).to_arrow()
        assert got["id"].to_pylist() == exact["id"].to_pylist(), where
        assert got["s"].to_pylist() == pytest.approx(exact["s"].to_pylist())
        assert view.indexes_used == (["ds.emb (embedding, cosine, filtered)"] if cases[where] else []), where
        assert got.num_rows == (0 if where == "id < 0" else 10)
    # a WHERE the filter step cannot evaluate alone (a subquery) runs exact, with the same answer
    q = "[" + ", ".join("0.1" for _ in range(DIM)) + "]"
    sql = (
        f"SELECT id FROM ds WHERE id IN (SELECT id FROM ds WHERE kind = 'dog') "
        f"ORDER BY cosine_similarity(emb, {q}) DESC LIMIT 5"
    )
    assert ds.query(sql).to_arrow()["id"].to_pylist() == _exact_ids(ds, sql)


def test_a_filtered_top_k_keeps_rows_without_a_vector_when_too_few_others_pass(tmp_path: Path) -> None:
    """The whole index read, fewer than k of its rows pass the WHERE: rows with a NULL vector (not
    indexed) that pass fill the result after them, as in exact search."""
    ds = datasets.create(str(tmp_path / "ds"), schema={"id": T.Int64(), "emb": T.Embedding(DIM)})
    vectors = _vectors(100)
    ds.append({"id": np.arange(100), "emb": [None if i % 2 else list(v) for i, v in enumerate(vectors)]})
    ds.commit("half without a vector")
    ds["emb"].create_index("embedding")
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in _queries(1, seed=3)[0]) + "]"
    sql = f"SELECT id FROM ds WHERE id % 10 < 2 ORDER BY cosine_similarity(emb, {vec}) DESC LIMIT 12"
    got = ds.query(sql).to_arrow()["id"].to_pylist()
    assert got == _exact_ids(ds, sql)
    assert len(got) == 12 and sum(i % 2 for i in got) == 2  # 10 with a vector, then 2 without

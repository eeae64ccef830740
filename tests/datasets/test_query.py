"""DuckDB layer: ds.query, FROM-less SELECT, vector functions with zero/NaN vectors, save, lakelet query()."""

from __future__ import annotations

import numpy as np
import pytest

import lakelet
import lakelet.datasets as L
from lakelet.datasets import types


@pytest.fixture
def ds(mem_url):
    ds = L.create(mem_url, schema={"id": types.Int64(), "x": types.Float32(), "emb": types.Embedding(3)})
    emb = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [np.nan, 1, 1], [0.9, 0.1, 0], [1, 1, 0]], dtype=np.float32)
    ds.append({"id": np.arange(6), "x": np.linspace(0, 1, 6, dtype=np.float32), "emb": emb})
    ds.commit("six")
    return ds


def test_query_without_from(ds):
    view = ds.query("SELECT * WHERE x > 0.5")
    assert len(view) == 3
    assert view.to_arrow().column("id").to_pylist() == [3, 4, 5]
    assert list(view.to_pandas().columns) == ["id", "x", "emb"]
    assert len(ds.query("select id where id < 2 order by id desc limit 1;")) == 1
    assert ds.query("SELECT count(*) AS n FROM ds")["n"] == [6]


def test_cosine_top_k_ignores_zero_and_nan(ds):
    view = ds.query("SELECT id, cosine_similarity(emb, [1, 0, 0]) AS s ORDER BY s DESC LIMIT 6")
    ids = view["id"]
    assert ids[:2] == [0, 4]
    assert set(ids[-2:]) == {2, 3}  # zero and NaN vectors rank last, as NULL
    assert view["s"][-1] is None
    near = ds.query("SELECT id ORDER BY l2_distance(emb, [0, 0.9, 0]) LIMIT 6")["id"]
    assert near[:2] == [1, 2] and near[-1] == 3  # a NaN vector has no distance: last
    deeplake_spelling = ds.query("SELECT id ORDER BY COSINE_SIMILARITY(emb, ARRAY[0.0, 1.0, 0.0]) DESC LIMIT 1")
    assert deeplake_spelling["id"] == [1]


def test_uncommitted_rows_are_queried(ds):
    ds.append({"id": 99, "x": 2.0, "emb": [1, 1, 1]})
    assert ds.query("SELECT id WHERE x > 1.5")["id"] == [99]


def test_bad_sql(ds):
    with pytest.raises(lakelet.InvalidArgument, match="parse"):
        ds.query("SELEC nonsense")
    with pytest.raises(lakelet.InvalidArgument):
        ds.query("SELECT nope WHERE x > 1")


def test_save_as_dataset(ds, tmp_path):
    saved = ds.query("SELECT id, emb WHERE id >= 4").save(str(tmp_path / "subset"))
    again = L.open(str(tmp_path / "subset"))
    assert again["id"][:].tolist() == [4, 5]
    assert again.schema["emb"].type == types.Embedding(3)
    assert saved.history[0].message == "saved from a query"


def test_module_query_by_url_and_version(ds):
    first = ds.version
    ds.append({"id": 6, "x": 0.0, "emb": [0, 0, 1]})
    ds.commit("seven")
    ds.tag("v1", first)
    old = L.query(f"SELECT count(*) AS n FROM dataset('{ds.path}', version='v1')")
    new = L.query(f"SELECT count(*) AS n FROM dataset('{ds.path}')")
    assert old["n"] == [6] and new["n"] == [7]
    both = L.query(
        f"SELECT a.id FROM dataset('{ds.path}') a JOIN dataset('{ds.path}', version='v1') b USING (id) WHERE a.id > 4"
    )
    assert both["id"] == [5]


def test_column_pruning_loads_only_mentioned_columns(ds):
    seen = []
    loader = ds.checked_out.loader
    original = loader.load

    def spy(path):
        seen.append(path)
        return original(path)

    loader.load = spy
    ds.query("SELECT id WHERE x > 0.5").to_arrow()
    column_ids = {p.rsplit("/", 1)[-1].split(".")[0] for p in seen}
    assert ds.schema["emb"].id not in column_ids
    assert {ds.schema["id"].id, ds.schema["x"].id} <= column_ids


def test_half_floats_are_queried_as_single_floats(tmp_path) -> None:
    """DuckDB has no float16: a Float16 column (and a float16 embedding) reaches it as float32, which
    holds each value exactly, instead of failing with DuckDB's 'Unsupported Internal Arrow Type'."""
    ds = L.create(str(tmp_path / "ds"), schema={"h": L.types.Float16(), "v": L.types.Embedding(2, dtype="float16")})
    ds.append({"h": [0.5, 1.5, None], "v": [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]})
    ds.commit("halves")
    table = ds.query("SELECT * FROM ds WHERE h > 1 OR h IS NULL ORDER BY h").to_arrow()
    assert table.column("h").to_pylist() == [1.5, None]
    assert table.column("v").to_pylist() == [[0.0, 1.0], [0.5, 0.5]]
    top = ds.query("SELECT h FROM ds ORDER BY cosine_similarity(v, [1.0, 0.0]) DESC LIMIT 1").to_arrow()
    assert top.column("h").to_pylist() == [0.5]

"""Columns, appends in every shape, validation, indexing and bulk reads."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import lakelet
import lakelet.datasets as L
from lakelet.datasets import types


@pytest.fixture
def ds(mem_url):
    ds = L.create(mem_url, schema={"id": types.Int64(), "text": types.Text(), "emb": types.Embedding(3)})
    ds.append({"id": [0, 1, 2], "text": ["a", "b", "c"], "emb": np.arange(9, dtype=np.float32).reshape(3, 3)})
    return ds


def test_append_shapes(ds):
    ds.append({"id": 3, "text": "d", "emb": [1, 2, 3]})  # one row
    ds.append([{"id": 4, "text": "e", "emb": [0, 0, 1]}, {"id": 5, "text": "f", "emb": [0, 1, 0]}])  # rows
    ds.append(pd.DataFrame({"id": [6], "text": ["g"], "emb": [np.ones(3)]}))
    ds.append(pa.table({"id": [7], "text": ["h"], "emb": pa.array([[1.0, 1.0, 1.0]], pa.list_(pa.float32(), 3))}))
    assert len(ds) == 8
    assert ds["id"][:].tolist() == list(range(8))
    assert ds["text"][-1] == "h"
    assert ds["emb"][:].shape == (8, 3)


def test_bad_row_rejected_whole(ds):
    with pytest.raises(L.SchemaError) as err:
        ds.append({"id": [10, 11, "twelve"], "text": ["x", "y", "z"], "emb": np.zeros((3, 3))})
    assert err.value.column == "id" and err.value.row == 2
    assert "row 2" in str(err.value) and "'id'" in str(err.value) and "Int64" in str(err.value)
    assert isinstance(err.value, TypeError) and isinstance(err.value, lakelet.LakeletError)
    with pytest.raises(L.SchemaError) as err:
        ds.append([{"id": 1, "text": "ok", "emb": [1, 2, 3]}, {"id": 2, "text": "bad", "emb": [1, 2]}])
    assert err.value.column == "emb" and err.value.row == 1
    with pytest.raises(L.SchemaError, match="unknown column"):
        ds.append({"nope": 1})
    assert len(ds) == 3  # nothing of the rejected batches was kept


def test_media_batch_rejected_writes_nothing(mem_url, tmp_path):
    ds = L.create(mem_url, schema={"img": types.Image(), "n": types.Int32()})
    with pytest.raises(L.SchemaError):
        ds.append({"img": [b"png-bytes", b"more"], "n": [1, "x"]})
    assert list(ds.blobs.keys()) == []
    f = tmp_path / "pic.png"
    f.write_bytes(b"\x89PNG...")
    ds.append({"img": [f, b"\x89PNG..."], "n": [1, 2]})
    assert ds["img"][:] == [b"\x89PNG...", b"\x89PNG..."]
    assert len(list(ds.blobs.keys())) == 1


def test_columns_add_default_remove_rename(ds):
    ds.commit("three rows")
    ds.add_column("score", types.Float32(), default_value=0.5)
    assert ds["score"][:].tolist() == [0.5, 0.5, 0.5]
    ds.append({"id": 3, "text": "d", "emb": [0, 0, 0], "score": 2.0})
    ds.rename_column("text", "label")
    assert ds.schema.names == ["id", "label", "emb", "score"]
    ds.remove_column("emb")
    ds.commit("schema")
    again = L.open(ds.path)
    assert again.schema.names == ["id", "label", "score"]
    assert again["label"][:] == ["a", "b", "c", "d"]
    assert again["score"][:].tolist() == [0.5, 0.5, 0.5, 2.0]
    again.add_column("emb", types.Text())  # same name, new column: old data is not resurrected
    assert again["emb"][:] == [None] * 4
    with pytest.raises(L.SchemaError):
        again.add_column("id", types.Int64())
    with pytest.raises(lakelet.InvalidName):
        again.add_column("bad name", types.Int64())


def test_indexing_and_views(ds):
    assert ds[1]["text"] == "b"
    assert ds[-1]["id"] == 2
    view = ds[0:2]
    assert len(view) == 2 and view["text"] == ["a", "b"]
    gathered = ds[[2, 0, 2]]
    assert gathered["id"].tolist() == [2, 0, 2]
    assert gathered.to_arrow().num_rows == 3
    assert ds["emb"][[2, 0]].tolist() == [[6, 7, 8], [0, 1, 2]]
    assert ds["id"][np.array([True, False, True])].tolist() == [0, 2]
    with pytest.raises(IndexError):
        ds[3]
    assert ds[0].to_dict()["emb"].tolist() == [0, 1, 2]


def test_updates_and_deletes(ds):
    ds["text"][1] = "B"
    ds[0]["id"] = 100
    ds["emb"][0:2] = [[1, 1, 1], [2, 2, 2]]
    ds.delete(2)
    assert ds["text"][:] == ["a", "B"]
    assert ds["id"][:].tolist() == [100, 1]
    ds.commit("edits")
    assert L.open(ds.path)["emb"][:].tolist() == [[1, 1, 1], [2, 2, 2]]
    with pytest.raises(L.SchemaError):
        ds["id"][0] = "not a number"


def test_bulk_reads(ds):
    assert ds.to_arrow().num_rows == 3
    frame = ds.to_pandas()
    assert list(frame.columns) == ["id", "text", "emb"]
    batches = list(ds.batches(2))
    assert [len(b["id"]) for b in batches] == [2, 1]
    assert batches[0]["emb"].shape == (2, 3)
    ds.summary()
    assert "emb" in ds._summary_text()


def test_pytorch_needs_torch_only_when_called(ds, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "torch.utils", None)
    monkeypatch.setitem(sys.modules, "torch.utils.data", None)
    with pytest.raises(lakelet.MissingDependency, match="pip install torch"):
        ds.pytorch()


def test_types_roundtrip(mem_url):
    schema = {
        "b": types.Bool(),
        "u8": types.UInt8(),
        "f16": types.Float16(),
        "arr": types.Array("int16", shape=(2, 2)),
        "rag": types.Array("float32", dimensions=1),
        "st": types.Struct({"x": types.Int32(), "y": types.Text()}),
        "seq": types.Sequence(types.Int64()),
        "lab": types.ClassLabel(labels=["cat", "dog"]),
        "d": types.Dict(),
        "link": types.Link(),
        "bin": types.Binary(),
        "audio": types.Audio(),
    }
    ds = L.create(mem_url, schema=schema)
    ds.append(
        {
            "b": True, "u8": 7, "f16": 0.5, "arr": [[1, 2], [3, 4]], "rag": [1.0, 2.0, 3.0],
            "st": {"x": 1, "y": "z"}, "seq": [1, 2, 3], "lab": "dog", "d": {"k": [1, 2]},
            "link": "https://example.com/x", "bin": b"\x00\x01", "audio": b"RIFF",
        }
    )
    ds.commit("all types")
    again = L.open(mem_url)
    row = again[0].to_dict()
    assert row["b"] is True and row["u8"] == 7 and row["lab"] == 1
    assert again["arr"][:].shape == (1, 2, 2)
    assert row["rag"].tolist() == [1.0, 2.0, 3.0]
    assert row["st"] == {"x": 1, "y": "z"} and row["seq"] == [1, 2, 3] and row["d"] == {"k": [1, 2]}
    assert row["bin"] == b"\x00\x01" and row["audio"] == b"RIFF" and row["link"] == "https://example.com/x"
    for name, dtype in schema.items():
        assert again.schema[name].type == dtype
    with pytest.raises(L.SchemaError, match="unknown label"):
        again.append({"lab": "bird"})
    with pytest.raises(L.SchemaError):
        again.append({"u8": 300})


def test_create_open_errors(mem_url, tmp_path):
    L.create(mem_url)
    with pytest.raises(L.DatasetExists):
        L.create(mem_url)
    with pytest.raises(L.DatasetNotFound):
        L.open(mem_url + "-nope")
    with pytest.raises(lakelet.InvalidArgument):
        L.create("ftp://x/y")
    with pytest.raises(lakelet.InvalidPath):
        L.create("memory://a/../b")
    with pytest.raises(lakelet.InvalidArgument, match="unknown creds"):
        L.create(str(tmp_path / "x"), creds={"password": "x"})
    ro = L.open_read_only(mem_url)
    with pytest.raises(L.DatasetReadOnly):
        ro.add_column("x", types.Int64())
    like = L.like(mem_url, str(tmp_path / "like"))
    assert like.schema == L.open(mem_url).schema and len(like) == 0
    L.delete(mem_url)
    assert not L.exists(mem_url)
    with pytest.raises(L.DatasetNotFound):
        L.delete(mem_url)


def test_gather_across_pieces_matches_numpy(mem_url):
    ds = L.create(mem_url, schema={"n": types.Int64(), "e": types.Embedding(2)})
    expected = []
    for start in range(0, 50, 7):  # several commits: several pieces, plus an uncommitted one
        chunk = list(range(start, min(start + 7, 50)))
        ds.append({"n": chunk, "e": [[x, -x] for x in chunk]})
        expected += chunk
        if start < 40:
            ds.commit(f"rows from {start}")
    rng = np.random.default_rng(3)
    picks = rng.integers(0, len(expected), 40)
    assert ds["n"][picks].tolist() == [expected[i] for i in picks]
    assert ds["e"][picks][:, 1].tolist() == [-expected[i] for i in picks]
    assert ds[10:30]["n"].tolist() == expected[10:30]


def test_null_embedding_reads_as_nan(mem_url):
    ds = L.create(mem_url, schema={"e": types.Embedding(2), "n": types.Int64()})
    ds.append([{"e": [1, 2], "n": 1}, {"e": None, "n": 2}])
    values = ds["e"][:]
    assert values[0].tolist() == [1, 2] and np.isnan(values[1]).all()

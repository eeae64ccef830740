"""The storage-system seed's examples, run on every backend."""

from __future__ import annotations

import numpy as np
import pytest

import lakelet
import lakelet.datasets as L
import lakelet.storage
from lakelet.datasets import types


def test_local_storage_example(place):
    url, creds = place("local_dataset")
    dataset = L.create(url, creds=creds)
    dataset.add_column("data", types.Text())
    dataset.append({"data": "sample text"})
    dataset.commit("Added sample data")
    assert dataset.path == url
    again = L.open(url, creds=creds)
    assert again["data"][:] == ["sample text"]
    assert [v.message for v in again.history] == ["Added sample data", "created"]


def test_s3_style_batch_of_links_and_labels(place):
    url, creds = place("my-dataset")
    ds = L.create(url, creds=creds)
    ds.add_column("images", types.Image())
    ds.add_column("labels", types.Text())
    batch = [{"images": f"s3://my-bucket/images/img_{i}.jpg", "labels": f"label_{i}"} for i in range(1000)]
    ds.extend(batch)
    ds.commit("Uploaded batch")
    reopened = L.open_read_only(url, creds=creds)
    assert len(reopened) == 1000
    assert reopened["labels"][999] == "label_999"
    assert reopened["images"][3] == "s3://my-bucket/images/img_3.jpg"  # a link is kept as its URL


def test_embeddings_and_media_roundtrip(place):
    url, creds = place("emb")
    ds = L.create(url, creds=creds)
    ds.add_column("embeddings", types.Embedding(size=768))
    ds.add_column("video", types.Video())
    ds.append({"embeddings": [0.1] * 768, "video": b"\x00fake-mp4\x01" * 100})
    ds.append({"embeddings": [0.2] * 768, "video": b"\x00fake-mp4\x01" * 100})  # same bytes: stored once
    ds.commit("Added embeddings")
    ds = L.open(url, creds=creds)
    emb = ds["embeddings"][:]
    assert emb.shape == (2, 768) and emb.dtype == np.float32
    assert ds["video"][1] == b"\x00fake-mp4\x01" * 100
    assert len(set(ds.to_arrow(["video"]).column(0).to_pylist())) == 1
    assert len(list(ds.blobs.keys())) == 1


def test_multi_cloud_same_schema_and_copy(place, tmp_path):
    url, creds = place("multi")
    ds = L.create(url, creds=creds)
    ds.add_column("id", types.Int64())
    ds.add_column("data", types.Text())
    ds.add_column("timestamp", types.Int64())
    ds.append({"id": 1, "data": "Sample data", "timestamp": 1640995200})
    first = ds.commit("Initial data")
    ds.append({"id": 2, "data": "more", "timestamp": 1640995201})
    ds.commit("second")
    copied = L.copy(url, str(tmp_path / "dev-copy"), src_creds=creds)
    assert len(copied) == 2
    assert [v.message for v in copied.history] == ["second", "Initial data", "created"]
    old = L.open_read_only(str(tmp_path / "dev-copy"), version=first)
    assert old["id"][:].tolist() == [1]
    back = L.copy(str(tmp_path / "dev-copy"), url + "-back", dst_creds=creds)
    assert back["data"][:] == ["Sample data", "more"]


def test_benchmark_helper_and_concurrency(place):
    url, creds = place("bench")
    ds = L.create(url, creds=creds)
    ds.add_column("data", types.Text())
    ds.add_column("value", types.Float32())
    original = lakelet.storage.concurrency()
    lakelet.storage.set_concurrency(4)
    try:
        assert lakelet.storage.concurrency() == 4
        ds.extend([{"data": f"sample_{i}", "value": i * 0.1} for i in range(100)])
        ds.commit("Added 100 rows")
    finally:
        lakelet.storage.set_concurrency(original)
    assert len(L.open(url, creds=creds)) == 100


def test_error_handling_example(place):
    url, creds = place("missing")
    with pytest.raises(lakelet.StorageKeyNotFound):
        L.open(url, creds=creds)
    with pytest.raises(L.DatasetNotFound):
        L.open(url, creds=creds)
    assert not L.exists(url, creds=creds)


def test_reader_writer(place):
    url, creds = place("raw")
    writer = lakelet.storage.Writer.from_url(url, creds)
    writer.set("a/b.bin", b"0123456789")
    assert writer.get("a/b.bin", 2, 5) == b"234"
    assert writer.length("a/b.bin") == 10
    assert writer.list("a") == ["b.bin"]
    sub = writer.subdir("a")
    assert sub.get("b.bin") == b"0123456789"
    meta = writer.meta("a/b.bin")
    assert isinstance(meta, lakelet.storage.ResourceMeta) and meta.size == 10
    assert writer.create("a/c.bin", b"x") and not writer.create("a/c.bin", b"y")
    assert writer.get("a/c.bin") == b"x"
    writer.remove("a/b.bin")
    with pytest.raises(lakelet.StorageKeyNotFound):
        writer.get("a/b.bin")
    writer.remove_directory("a")
    assert writer.list("a") == []

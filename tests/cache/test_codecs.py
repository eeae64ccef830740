"""Codecs: the right format per type, exact round trips, lazy restores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lakelet.cache import codecs
from lakelet.hashstore import HashKeyStorage


@pytest.fixture(params=["disk", "memory"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> HashKeyStorage:
    return HashKeyStorage(tmp_path / "lake" if request.param == "disk" else "memory://")


def round_trip(value, storage):
    descriptor = codecs.encode(value, storage)
    return descriptor, codecs.decode(descriptor, storage)


def test_array_is_npy_and_memory_mapped(storage: HashKeyStorage) -> None:
    array = np.random.default_rng(0).random((1000, 50))
    descriptor, back = round_trip(array, storage)
    assert descriptor["codec"] == "npy"
    np.testing.assert_array_equal(back, array)
    assert type(back) is np.ndarray and back.flags.writeable
    if isinstance(storage.location.url, str) and not storage.location.url.startswith("memory"):
        assert back.base is not None  # a view of the mapped file, not a copy


def test_frame_is_arrow(storage: HashKeyStorage) -> None:
    frame = pd.DataFrame({"a": np.arange(20_000), "b": np.random.default_rng(1).random(20_000)})
    frame.index.name = "row"
    descriptor, back = round_trip(frame, storage)
    assert descriptor["codec"] == "arrow"
    pd.testing.assert_frame_equal(back, frame)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({1: np.arange(20_000)}),  # non-string column names
        pd.DataFrame({"o": pd.Series(["x"] * 20_000, dtype=object)}),  # object dtype would change
        pd.DataFrame(np.arange(40_000).reshape(20_000, 2), columns=["a", "a"]),  # duplicate names
    ],
)
def test_frames_arrow_cannot_restore_exactly_are_pickled(storage: HashKeyStorage, frame) -> None:
    descriptor, back = round_trip(frame, storage)
    assert descriptor["codec"] == "pickle"
    pd.testing.assert_frame_equal(back, frame)


def test_arrow_table(storage: HashKeyStorage) -> None:
    table = pa.table({"a": np.arange(50_000), "s": [str(i) for i in range(50_000)]})
    descriptor, back = round_trip(table, storage)
    assert descriptor["codec"] == "arrow"
    assert back.equals(table)


def test_small_values_are_inline_and_big_buffers_out_of_band(storage: HashKeyStorage) -> None:
    descriptor, back = round_trip({"a": [1, 2]}, storage)
    assert "inline" in descriptor and descriptor["blobs"] == []
    assert back == {"a": [1, 2]}
    nested = {"x": np.arange(1_000_000), "y": "label"}
    descriptor, back = round_trip(nested, storage)
    assert len(descriptor["buffers"]) == 1
    np.testing.assert_array_equal(back["x"], nested["x"])


def test_cloudpickle_for_lambdas(storage: HashKeyStorage) -> None:
    _, back = round_trip(lambda v: v + 1, storage)
    assert back(1) == 2


def test_unknown_codec_is_corruption(storage: HashKeyStorage) -> None:
    from lakelet.errors import StorageCorruption

    with pytest.raises(StorageCorruption):
        codecs.decode({"codec": "nope"}, storage)


SNAPSHOT_VALUES = {
    "array": lambda: np.random.default_rng(2).random((300, 100)),
    "fortran": lambda: np.asfortranarray(np.random.default_rng(3).random((300, 100))),
    "strided": lambda: np.arange(400_000, dtype=np.int64)[::3],
    "structured": lambda: np.zeros(50_000, dtype=[("a", "<i4"), ("b", ">f8")]),
    "frame": lambda: pd.DataFrame({"a": np.arange(20_000), "b": np.linspace(0, 1, 20_000)}),
    "object frame": lambda: pd.DataFrame({"s": [str(i) for i in range(20_000)], "n": np.arange(20_000)}),
    "table": lambda: pa.table({"a": np.arange(50_000)}),
    "batch": lambda: pa.record_batch({"a": np.arange(50_000)}),
    "buffers": lambda: {"x": np.arange(1_000_000), "y": "label"},
    "small": lambda: {"a": [1, 2]},
    "big pickle": lambda: list(range(50_000)),
}


@pytest.mark.parametrize("kind", sorted(SNAPSHOT_VALUES))
def test_prepare_stores_exactly_what_encode_stores(storage: HashKeyStorage, kind: str) -> None:
    value = SNAPSHOT_VALUES[kind]()
    prepared = codecs.prepare(value)
    assert prepared is not None
    assert prepared.store(storage) == codecs.encode(value, storage)  # same codec, same blob keys


def test_prepare_is_a_snapshot(storage: HashKeyStorage) -> None:
    base = np.zeros(100_000)
    values = {
        "array": base.copy(),
        "aliasing frame": pd.DataFrame({"x": base, "y": np.arange(100_000)}, copy=False),
        "aliasing table": pa.table({"z": base}),
        "buffers": {"big": np.zeros(300_000)},
    }
    prepared = {name: codecs.prepare(value) for name, value in values.items()}
    base[:] = 1
    values["array"][:] = 1
    values["buffers"]["big"][:] = 1
    for name, p in prepared.items():
        back = codecs.decode(p.store(storage), storage)
        if isinstance(back, pd.DataFrame):
            assert back["x"].sum() == 0, name
        elif isinstance(back, pa.Table):
            assert back.column("z").to_numpy().sum() == 0, name
        elif isinstance(back, dict):
            assert back["big"].sum() == 0, name
        else:
            assert back.sum() == 0, name


def test_prepare_declines_values_over_the_limit() -> None:
    assert codecs.prepare(np.zeros(100_000), max_bytes=1000) is None
    assert codecs.prepare(pd.DataFrame({"a": np.zeros(100_000)}), max_bytes=1000) is None
    assert codecs.prepare({"a": 1}, max_bytes=0) is not None  # small pickles are always prepared

"""Which locations are durable, and the records facade of HashKeyStorage."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakelet import Disk, Fanout, HashKeyStorage, Level, Levels, Memory, Small
from lakelet.errors import InvalidArgument, StorageKeyNotFound
from lakelet.registry import open_location


def test_durable_flags_of_locations_and_composites(tmp_path: Path) -> None:
    disk, memory = Disk(tmp_path / "d"), Memory()
    assert disk.durable and not memory.durable
    assert Levels(memory, disk).durable
    assert not Levels(memory, Level(disk, write=False)).durable  # the disk is never written
    assert Small(disk, max_size=10).durable and not Small(memory, max_size=10).durable
    assert Fanout(disk, Disk(tmp_path / "e")).durable and not Fanout(disk, memory).durable
    assert open_location({"levels": [{"small": "memory://", "max_size": "10 MiB"}, str(tmp_path / "lake")]}).durable
    assert not open_location("memory://").durable


def test_redis_is_a_cache_unless_marked_durable() -> None:
    pytest.importorskip("redis")
    assert not open_location("redis://127.0.0.1:1/0").durable  # constructing never connects
    assert open_location("redis://127.0.0.1:1/0?durable=true").durable
    assert open_location({"url": "redis://127.0.0.1:1/0", "durable": True}).durable
    with pytest.raises(InvalidArgument, match="durable"):
        open_location("redis://127.0.0.1:1/0?durable=maybe")
    with pytest.raises(InvalidArgument, match="durable"):
        open_location({"url": "redis://127.0.0.1:1/0", "durable": "yes"})


def test_records_facade(tmp_path: Path) -> None:
    storage = HashKeyStorage(Levels(Memory(), Disk(tmp_path / "lake")))
    assert storage.records.put("cache/function/a", b"1") is True
    assert storage.records.put("cache/function/a", b"2") is False
    assert storage.records.get("cache/function/a") == b"1"
    assert storage.records.put("cache/function/a", b"2", replace=True) is True
    assert "cache/function/a" in storage.records and "cache/x" not in storage.records
    assert list(storage.records.list("cache/")) == ["cache/function/a"]
    assert list(storage.keys()) == []
    # the record reached the durable level: a new process (a fresh stack) reads it
    assert HashKeyStorage(Disk(tmp_path / "lake")).records.get("cache/function/a") == b"2"
    assert storage.records.delete("cache/function/a") is True
    with pytest.raises(StorageKeyNotFound):
        storage.records.get("cache/function/a")

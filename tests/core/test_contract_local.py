"""The Location contract, run by every local location and by composites of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakelet import Disk, Fanout, Level, Levels, Memory, Small
from lakelet.locations.abc import Location
from lakelet.testing.locations import LocationTests


def disk_raw_put(root: Path):
    def put(key: str, data: bytes) -> None:
        path = root / key[:2] / key[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            os.chmod(path, 0o644)
        path.write_bytes(data)

    return put


def disk_raw_get(root: Path):
    def get(key: str) -> bytes | None:
        path = root / key[:2] / key[2:]
        return path.read_bytes() if path.exists() else None

    return get


def memory_raw_put(memory: Memory):
    def put(key: str, data: bytes) -> None:
        memory._values[key] = data
        memory._bytes += len(data)

    return put


def memory_raw_get(memory: Memory):
    return lambda key: memory._values.get(key)


class TestDisk(LocationTests):
    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        return Disk(tmp_path / "lake")

    @pytest.fixture
    def raw_put(self, location: Disk):
        return disk_raw_put(location.root)

    @pytest.fixture
    def raw_get(self, location: Disk):
        return disk_raw_get(location.root)


class TestPlainPath(TestDisk):
    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        from lakelet.registry import open_location

        return open_location(str(tmp_path / "lake"))


class TestDiskFsync(TestDisk):
    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        return Disk(tmp_path / "lake", fsync=True)


class TestMemory(LocationTests):
    @pytest.fixture
    def location(self) -> Location:
        return Memory()

    @pytest.fixture
    def raw_put(self, location: Memory):
        return memory_raw_put(location)

    @pytest.fixture
    def raw_get(self, location: Memory):
        return memory_raw_get(location)


class TestLevelsMemoryOverDisk(LocationTests):
    """Writes land in memory (the first level that accepts); backdoor values sit on disk."""

    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        self.memory = Memory()
        self.disk = Disk(tmp_path / "lake")
        return Levels(self.memory, self.disk)

    @pytest.fixture
    def raw_put(self, location: Levels):
        return disk_raw_put(self.disk.root)

    @pytest.fixture
    def raw_get(self, location: Levels):
        mem, disk = memory_raw_get(self.memory), disk_raw_get(self.disk.root)
        return lambda key: mem(key) if mem(key) is not None else disk(key)


class TestLevelsCacheOverDisk(LocationTests):
    """tarn's lab setup: write-less cache levels above the one that is written."""

    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        self.bottom = Disk(tmp_path / "nfs")
        return Levels(Level(Memory(), write=False), Level(Disk(tmp_path / "ssd"), write=False), self.bottom)

    @pytest.fixture
    def raw_put(self, location: Levels):
        return disk_raw_put(self.bottom.root)

    @pytest.fixture
    def raw_get(self, location: Levels):
        return disk_raw_get(self.bottom.root)


class TestFanoutOfDisks(LocationTests):
    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        self.first = Disk(tmp_path / "hdd1", max_size=10_000_000)
        self.second = Disk(tmp_path / "hdd2")
        return Fanout(self.first, self.second)

    @pytest.fixture
    def raw_put(self, location: Fanout):
        return disk_raw_put(self.second.root)

    @pytest.fixture
    def raw_get(self, location: Fanout):
        a, b = disk_raw_get(self.first.root), disk_raw_get(self.second.root)
        return lambda key: a(key) if a(key) is not None else b(key)


class TestSmallMemory(LocationTests):
    large_size = 0  # Small declines big values by design; its own tests cover the fall-through

    @pytest.fixture
    def location(self) -> Location:
        self.memory = Memory()
        return Small(self.memory, max_size=1_000_000)

    @pytest.fixture
    def raw_put(self, location: Small):
        return memory_raw_put(self.memory)

    @pytest.fixture
    def raw_get(self, location: Small):
        return memory_raw_get(self.memory)


class TestNested(LocationTests):
    """Levels(Small(memory), Fanout(disk, Levels(disk, disk)), disk): composites nest freely."""

    @pytest.fixture
    def location(self, tmp_path: Path) -> Location:
        self.memory = Memory()
        self.last = Disk(tmp_path / "last")
        return Levels(
            Small(self.memory, max_size=10 * 2**20),
            Fanout(Disk(tmp_path / "a", max_size=2**30), Levels(Disk(tmp_path / "b"), Disk(tmp_path / "c"))),
            self.last,
        )

    @pytest.fixture
    def raw_put(self, location: Levels):
        return disk_raw_put(self.last.root)

    @pytest.fixture
    def raw_get(self, location: Levels):
        mem, disk = memory_raw_get(self.memory), disk_raw_get(self.last.root)
        return lambda key: mem(key) if mem(key) is not None else disk(key)

"""Behaviour specific to Levels, Level(write=False), Fanout and Small."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lakelet import Disk, Fanout, HashKeyStorage, Level, Levels, Memory, Small, StorageCorruption, StorageFull
from lakelet.testing.locations import key_of


def test_levels_write_reaches_the_first_durable_level(tmp_path: Path) -> None:
    top, bottom = Memory(), Disk(tmp_path / "bottom")
    storage = HashKeyStorage(Levels(top, bottom))
    assert not top.durable and bottom.durable and storage.location.durable
    key = storage.write(b"value")
    assert top.contains(key)  # the volatile level keeps its copy for fast reads
    assert bottom.contains(key)  # and the value outlives the process


def test_levels_of_two_disks_write_only_the_first(tmp_path: Path) -> None:
    """tarn's migration setup: new values go to the new disk; the old one is only read."""
    new, old = Disk(tmp_path / "new"), Disk(tmp_path / "old")
    storage = HashKeyStorage(Levels(new, old))
    key = storage.write(b"value")
    assert new.contains(key)
    assert not old.contains(key)


def test_levels_write_fails_when_no_durable_level_takes_it(tmp_path: Path) -> None:
    top, bottom = Memory(), Disk(tmp_path / "bottom", max_size=10)
    storage = HashKeyStorage(Levels(top, bottom))
    with pytest.raises(StorageFull):
        storage.write(b"x" * 100)  # memory took it, but a copy only in this process is not stored


def test_levels_without_durable_level_writes_first_accepting(tmp_path: Path) -> None:
    top, bottom = Memory(max_size=10), Memory()
    storage = HashKeyStorage(Levels(top, bottom))
    assert not storage.location.durable
    key = storage.write(b"x" * 100)
    assert bottom.contains(key) and not top.contains(key)
    small = storage.write(b"x")
    assert top.contains(small) and not bottom.contains(small)


def test_levels_copy_on_read_into_replicating_levels(tmp_path: Path) -> None:
    ssd, hdd, nfs = Memory(), Disk(tmp_path / "hdd"), Disk(tmp_path / "nfs")
    storage = HashKeyStorage(Levels(Level(ssd, write=False), Level(hdd, write=False), nfs))
    key = storage.write(b"lab data")
    assert nfs.contains(key) and not hdd.contains(key) and not ssd.contains(key)
    with storage.read(key) as value:
        assert value.read_bytes() == b"lab data"  # a local path: the hdd copy
    assert ssd.contains(key) and hdd.contains(key)


def test_levels_replicate_false_is_never_filled(tmp_path: Path) -> None:
    mirror, source = Memory(), Disk(tmp_path / "src")
    storage = HashKeyStorage(Levels(Level(mirror, write=False, replicate=False), source))
    key = storage.write(b"x")
    storage.read_bytes(key)
    assert not mirror.contains(key)


def test_levels_read_of_remote_stream_hands_out_local_copy(tmp_path: Path) -> None:
    memory_bottom = Memory()
    disk_top = Disk(tmp_path / "top")
    data = os.urandom(5 * 2**20)  # bigger than the in-memory spool limit
    key = key_of(data)
    memory_bottom.write(key, _blob(data))
    storage = HashKeyStorage(Levels(Level(disk_top, write=False), memory_bottom))
    with storage.read(key) as value:
        assert isinstance(value, Path)
        assert value.read_bytes() == data
    assert disk_top.contains(key)


def test_levels_skip_read_only_members_on_write(tmp_path: Path) -> None:
    seeded = Disk(tmp_path / "seeded")
    key = HashKeyStorage(seeded).write(b"seed")
    read_only = _ReadOnlyDisk(tmp_path / "seeded")
    writable = Disk(tmp_path / "w")
    storage = HashKeyStorage(Levels(read_only, writable))
    new = storage.write(b"new value")
    assert writable.contains(new)
    assert storage.read_bytes(key) == b"seed"


def test_levels_heal_corrupt_copy_from_lower_level(tmp_path: Path) -> None:
    cache, origin = Disk(tmp_path / "cache"), Disk(tmp_path / "origin")
    storage = HashKeyStorage(Levels(Level(cache, write=False), origin), verify=True)
    key = storage.write(b"precious")
    storage.read_bytes(key)
    assert cache.contains(key)
    corrupt = cache.root / key[:2] / key[2:]
    os.chmod(corrupt, 0o644)
    corrupt.write_bytes(b"bit rot")
    assert not HashKeyStorage(cache).verify(key)
    assert storage.read_bytes(key) == b"precious"  # read from origin, cache healed
    assert HashKeyStorage(cache).verify(key)


def test_levels_corruption_everywhere_raises(tmp_path: Path) -> None:
    origin = Disk(tmp_path / "origin")
    storage = HashKeyStorage(Levels(Memory(), origin), verify=True)
    key = key_of(b"promise")
    path = origin.root / key[:2] / key[2:]
    path.parent.mkdir(parents=True)
    path.write_bytes(b"broken")
    with pytest.raises(StorageCorruption):
        storage.read_bytes(key)
    assert path.exists()  # the authoritative copy is never deleted, even when bad


def test_fanout_fills_first_then_next(tmp_path: Path) -> None:
    first, second = Disk(tmp_path / "a", max_size=2500), Disk(tmp_path / "b")
    storage = HashKeyStorage(Fanout(first, second))
    keys = [storage.write(os.urandom(1000)) for _ in range(4)]
    assert [first.contains(k) for k in keys] == [True, True, False, False]
    assert [second.contains(k) for k in keys] == [False, False, True, True]
    assert all(storage.read_bytes(k) for k in keys)


def test_fanout_full_everywhere_raises_storage_full(tmp_path: Path) -> None:
    storage = HashKeyStorage(Fanout(Disk(tmp_path / "a", max_size=10), Memory(max_size=10)))
    with pytest.raises(StorageFull) as info:
        storage.write(b"x" * 100)
    assert "100 bytes" in str(info.value)
    assert isinstance(info.value, OSError)


def test_small_lets_big_values_fall_through(tmp_path: Path) -> None:
    redis_like, disk = Memory(), Disk(tmp_path / "hdd")
    storage = HashKeyStorage(Levels(Small(redis_like, max_size=100 * 1024), disk))
    small = storage.write(b"s" * 1000)
    big = storage.write(b"b" * 200_000)
    assert redis_like.contains(small) and disk.contains(small)  # a cache copy, and the durable one
    assert disk.contains(big) and not redis_like.contains(big)
    storage.read_bytes(big)
    assert not redis_like.contains(big)  # copy-on-read respects the size limit too


def test_gc_evicts_lru_from_cache_levels_only(tmp_path: Path) -> None:
    cache, origin = Memory(), Disk(tmp_path / "origin")
    storage = HashKeyStorage(Levels(Level(cache, write=False), origin))
    keys = [storage.write(os.urandom(1000)) for _ in range(5)]
    for k in keys:
        storage.read_bytes(k)  # fills the cache
    storage.read_bytes(keys[0])  # the most recently used
    report = storage.gc(max_size=2000)
    assert report.evicted == 3 and report.bytes == 3000
    assert cache.contains(keys[0])
    assert all(origin.contains(k) for k in keys)  # never from the authoritative level
    assert storage.gc(max_age=0).evicted == 2
    assert cache.usage().entries == 0


def test_gc_keeps_only_copies(tmp_path: Path) -> None:
    top, bottom = Disk(tmp_path / "top"), Disk(tmp_path / "bottom")
    storage = HashKeyStorage(Levels(top, bottom))
    key = storage.write(b"lives only in the top level")
    assert storage.gc(max_size=0).evicted == 0
    assert top.contains(key)


def test_gc_frees_the_volatile_level_of_a_durable_stack(tmp_path: Path) -> None:
    top, bottom = Memory(), Disk(tmp_path / "bottom")
    storage = HashKeyStorage(Levels(top, bottom))
    key = storage.write(b"cached above, stored below")
    assert storage.gc(max_size=0).evicted == 1
    assert not top.contains(key) and storage.read_bytes(key) == b"cached above, stored below"


def test_usage_breakdown_per_level(tmp_path: Path) -> None:
    storage = HashKeyStorage(Levels(Memory(), Disk(tmp_path / "d")))
    storage.write(b"abc")
    usage = storage.usage()
    assert usage.entries == 1 and usage.bytes == 3
    assert [u.entries for u in usage.extra["levels"]] == [1, 1]


def test_tarn_readme_nested_topology_from_specs(tmp_path: Path) -> None:
    from lakelet import open_location

    loc = open_location({"levels": [
        {"small": "memory://", "max_size": "10 MiB"},
        str(tmp_path / "ssd"),
        {"fanout": [str(tmp_path / "hdd1"), {"levels": [str(tmp_path / "hdd3"), str(tmp_path / "old")]}]},
        {"level": str(tmp_path / "nfs"), "write": True},
    ]})
    storage = HashKeyStorage(loc)
    key = storage.write(b"deep")
    assert storage.read_bytes(key) == b"deep"
    described = storage.describe()
    assert [c["kind"] for c in described["children"]] == ["small", "disk", "fanout", "disk"]


def _blob(data: bytes):
    from lakelet.locations.abc import Blob

    return Blob(data=data)


class _ReadOnlyDisk(Disk):
    writable = False

    def write(self, key, blob):  # type: ignore[no-untyped-def]
        return False


@pytest.mark.parametrize(
    "make",
    [
        lambda: Disk(123),  # type: ignore[arg-type]
        lambda: Levels(Level(Memory(), write="no")),  # type: ignore[arg-type]
        lambda: Levels(Level(Memory(), replicate=1)),  # type: ignore[arg-type]
        lambda: Levels(Memory(), 5),
        lambda: Fanout(),
        lambda: Small(Memory(), max_size="big"),  # type: ignore[arg-type]
    ],
)
def test_bad_constructor_arguments_are_lakelet_errors(make) -> None:  # type: ignore[no-untyped-def]
    from lakelet import InvalidArgument

    with pytest.raises(InvalidArgument):
        make()

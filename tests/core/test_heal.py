"""Corruption is reported and healed, never worsened (issue 15.2, 15.3, 15.7): byte flips on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lakelet
from lakelet import Disk, HashKeyStorage, Level, Levels, Memory
from lakelet.errors import StorageCorruption


def flip(disk: Disk, key: str) -> None:
    """Flip one byte of the stored file (same size: only re-hashing can tell)."""
    path = disk.root / key[:2] / key[2:]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    path.chmod(0o444)


def test_verified_read_keeps_the_last_copy_even_in_a_cache_level(tmp_path: Path) -> None:
    """15.2: Levels of two disks hold a value only in the first; a damaged copy is reported, not deleted."""
    first, second = Disk(tmp_path / "a"), Disk(tmp_path / "b")
    storage = HashKeyStorage(Levels(first, second))
    key = storage.write(b"the only copy, in the first level")
    flip(first, key)
    assert storage.verify(key) is False
    with pytest.raises(StorageCorruption):
        storage.read_bytes(key, verify=True)
    assert first.contains(key)  # still there for a person (or fsck) to look at
    assert len(first.read_bytes(key)) == len(b"the only copy, in the first level")


def test_verified_read_repairs_a_cache_copy_from_below(tmp_path: Path) -> None:
    cache, origin = Disk(tmp_path / "cache"), Disk(tmp_path / "origin")
    storage = HashKeyStorage(Levels(Level(cache, write=False, replicate=False), origin))
    key = storage.write(b"good below")
    assert cache.write(key, lakelet.Blob(data=b"good below"))
    flip(cache, key)
    assert storage.read_bytes(key, verify=True) == b"good below"
    assert HashKeyStorage(cache).verify(key)  # repaired in place, although it takes no copies


def test_gc_never_evicts_the_last_good_copy(tmp_path: Path) -> None:
    """15.3: the backing copy is damaged: gc repairs it from the cache's good copy, then evicts."""
    cache, disk = Memory(), Disk(tmp_path / "lake")
    storage = HashKeyStorage(Levels(cache, disk))
    data = os.urandom(5000)
    key = storage.write(data)
    flip(disk, key)
    report = storage.gc(max_size=0)
    assert report.evicted == 1
    assert HashKeyStorage(disk).verify(key)  # the only good copy was copied down first
    assert storage.read_bytes(key, verify=True) == data


def test_gc_keeps_a_cache_copy_when_no_good_copy_would_remain(tmp_path: Path) -> None:
    cache, disk = Disk(tmp_path / "cache"), Disk(tmp_path / "lake")
    storage = HashKeyStorage(Levels(Level(cache, write=False), disk))
    key = storage.write(b"x" * 4000)
    storage.read_bytes(key)  # copies up
    flip(cache, key)
    flip(disk, key)
    assert storage.gc(max_size=0).evicted == 0
    assert cache.contains(key) and disk.contains(key)


def test_evict_refuses_when_the_other_copy_is_damaged(tmp_path: Path) -> None:
    from lakelet import topology
    from lakelet.errors import PreconditionFailed

    cache, disk = Memory(), Disk(tmp_path / "lake")
    lake = Levels(cache, disk)
    key = HashKeyStorage(lake).write(b"cached and stored")
    flip(disk, key)
    assert topology.only_copies(lake, "0.0", [key])["only_copies"] == [key]
    with pytest.raises(PreconditionFailed):
        topology.evict(lake, "0.0", [key])
    assert cache.contains(key)


def test_writing_the_same_bytes_repairs_a_damaged_value(tmp_path: Path) -> None:
    """15.7: a create-only write of present content used to be a no-op, so bit rot stayed forever."""
    disk = Disk(tmp_path / "lake")
    storage = HashKeyStorage(Levels(Memory(), disk))
    small, big = os.urandom(100), os.urandom(3 * 2**20)
    keys = [storage.write(small), storage.write(big)]
    src = tmp_path / "big.bin"
    src.write_bytes(big)
    for key in keys:
        flip(disk, key)
    assert not any(HashKeyStorage(disk).verify(k) for k in keys)
    assert storage.write(small) == keys[0]
    assert storage.write(src) == keys[1]  # a path: staged, then put in place of the damaged copy
    assert all(HashKeyStorage(disk).verify(k) for k in keys)
    assert disk.read_bytes(keys[1]) == big


def test_signed_cache_entry_with_a_damaged_value_is_repaired(tmp_path: Path) -> None:
    """15.7: with LAKELET_CACHE_KEY a damaged value blob was refused and recomputed on every call."""
    import numpy as np

    lake = tmp_path / "lake"
    with lakelet.config_set(home=tmp_path / "home", cache_key=b"secret"):
        @lakelet.smart_cache(str(lake))
        def f(n):
            return np.arange(n)

        f(100_000)
        disk = Disk(lake)
        for key in disk.keys():
            flip(disk, key)
        fresh = lakelet.smart_cache(str(lake))(f.__wrapped__)  # a new process's view: no memory of the hit
        with pytest.warns(lakelet.CacheWarning, match="incomplete"):
            assert int(fresh(100_000).sum()) == int(np.arange(100_000).sum())  # refused, recomputed
        assert fresh.cache_info().hits == 0
        assert all(HashKeyStorage(disk).verify(k) for k in disk.keys())  # ...and the blob repaired
        again = lakelet.smart_cache(str(lake))(f.__wrapped__)
        assert int(again(100_000).sum()) == int(np.arange(100_000).sum())
        assert again.cache_info().hits == 1 and again.cache_info().errors == 0


def test_fsck_reports_and_repairs_from_other_levels(tmp_path: Path) -> None:
    cache, disk = Disk(tmp_path / "cache"), Disk(tmp_path / "lake")
    storage = HashKeyStorage(Levels(Level(cache, write=False), disk))
    k1, k2, k3, k4 = (storage.write(os.urandom(2000 + i)) for i in range(4))
    for k in (k1, k2, k3):
        storage.read_bytes(k)  # copies into the cache level
    flip(cache, k1)
    flip(disk, k2)
    flip(cache, k3)
    flip(disk, k3)
    report = storage.fsck()
    assert report.keys == 4 and report.checked == 7
    assert sorted(report.damaged) == sorted([(cache.url, k1), (disk.url, k2), (cache.url, k3), (disk.url, k3)])
    assert report.unrecoverable == [k3] and report.repaired == [] and not report.ok
    assert not HashKeyStorage(cache).verify(k1)  # looking repairs nothing
    report = storage.fsck(repair=True)
    assert sorted(report.repaired) == sorted([(cache.url, k1), (disk.url, k2)])
    assert report.unrecoverable == [k3]
    assert HashKeyStorage(cache).verify(k1) and HashKeyStorage(disk).verify(k2) and HashKeyStorage(disk).verify(k4)
    assert cache.contains(k3) and disk.contains(k3)  # no good copy anywhere: kept, reported


def test_lake_fsck_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cache, lake = tmp_path / "cache", tmp_path / "lake"
    (home / "config.toml").write_text(f'[lake]\nlevels = [{{ level = "{cache}", write = false }}, "{lake}"]\n')
    storage = HashKeyStorage([Level(Disk(cache), write=False), Disk(lake)])
    key = storage.write(b"v" * 3000)
    storage.read_bytes(key)
    flip(Disk(lake), key)
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    env = dict(os.environ, LAKELET_HOME=str(home), PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lakelet.cli", "lake", "fsck", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    looked = cli("--json")
    assert looked.returncode == 1, looked.stderr  # damage found: a failing status for scripts
    found = json.loads(looked.stdout)
    assert found["damaged"] == [{"location": str(lake), "key": key}] and found["repaired"] == []
    fixed = cli("--repair")
    assert fixed.returncode == 0, fixed.stderr
    assert "repaired 1" in fixed.stdout
    assert HashKeyStorage(Disk(lake)).verify(key)
    assert cli().returncode == 0

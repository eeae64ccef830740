"""HashKeyStorage.writer(), read(verify=), and big writes that fall through a full disk (issue 9.4, 15.15)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet import Disk, HashKeyStorage, Levels, Memory
from lakelet.errors import StorageCorruption

MiB = 2**20


def _leftovers(root: Path) -> list[Path]:
    tmp = root / ".tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


@pytest.mark.parametrize("size", [0, 1000, 9 * MiB])
def test_writer_hashes_and_publishes(tmp_path: Path, size: int) -> None:
    disk = Disk(tmp_path / "lake")
    storage = HashKeyStorage(Levels(Memory(), disk))
    data = os.urandom(size)
    with storage.writer() as f:
        for i in range(0, size, 3 * MiB + 7):  # writes of odd sizes cross the in-memory limit
            f.write(data[i : i + 3 * MiB + 7])
    assert f.key == hashlib.sha256(data).hexdigest()
    assert storage.read_bytes(f.key) == data and disk.contains(f.key)
    assert _leftovers(disk.root) == []


def test_writer_stores_nothing_when_the_block_fails(tmp_path: Path) -> None:
    disk = Disk(tmp_path / "lake")
    storage = HashKeyStorage(disk)
    writers = []

    def produce() -> None:
        with storage.writer() as f:
            writers.append(f)
            f.write(os.urandom(9 * MiB))
            raise RuntimeError("the producer failed")

    with pytest.raises(RuntimeError):
        produce()
    assert writers[0].key is None
    assert list(storage.keys()) == [] and _leftovers(disk.root) == []


def test_read_verify_per_call(tmp_path: Path) -> None:
    disk = Disk(tmp_path / "lake")
    storage = HashKeyStorage(disk)  # verify=False for the storage
    key = storage.write(b"precious bytes")
    path = disk.root / key[:2] / key[2:]
    path.chmod(0o644)
    path.write_bytes(b"precious bytez")
    assert storage.read_bytes(key) == b"precious bytez"  # unverified: the bytes as stored
    with pytest.raises(StorageCorruption), storage.read(key, verify=True):
        pass
    with pytest.raises(StorageCorruption):
        storage.read_bytes(key, verify=True)
    assert HashKeyStorage(disk, verify=True).read_bytes(key, verify=False) == b"precious bytez"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 16 MiB filesystem (tmpfs), so the disk fills up as a real one does."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            raise AssertionError(f"cannot mount a tmpfs: {done.stderr!r}")
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("how", ["stream", "path", "writer"])
def test_big_write_falls_through_a_full_first_level(tmp_path: Path, small_disk: Path, how: str) -> None:
    first, second = Disk(small_disk / "lake"), Disk(tmp_path / "big")
    storage = HashKeyStorage(Levels(first, second))
    storage.write(os.urandom(4 * MiB))  # the first level is not empty either
    data = os.urandom(40 * MiB)
    if how == "path":
        src = tmp_path / "src.bin"
        src.write_bytes(data)
        key = storage.write(src)
    elif how == "writer":
        with storage.writer() as f:
            for i in range(0, len(data), MiB):
                f.write(data[i : i + MiB])
        key = f.key
    else:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # a child feeds the pipe: a stream that cannot be read twice
            os.close(r)
            with open(w, "wb") as out:
                out.write(data)
            os._exit(0)
        os.close(w)
        with open(r, "rb") as stream:
            key = storage.write(stream)
        os.waitpid(pid, 0)
    assert key == hashlib.sha256(data).hexdigest()
    assert second.contains(key) and not first.contains(key)
    assert storage.read_bytes(key) == data
    assert _leftovers(first.root) == [] and _leftovers(second.root) == []

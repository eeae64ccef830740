"""HashKeyStorage: what it accepts, what it returns, and how it fails."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lakelet
from lakelet import (
    HashKeyStorage,
    InvalidArgument,
    InvalidKey,
    LakeletError,
    Memory,
    StorageCorruption,
    StorageKeyNotFound,
)


@pytest.fixture
def storage(tmp_path: Path) -> HashKeyStorage:
    return HashKeyStorage(tmp_path / "lake")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Pipe(io.RawIOBase):
    """A non-seekable stream that answers in short reads, like a socket."""

    def __init__(self, data: bytes, piece: int = 7000) -> None:
        self._data = memoryview(data)
        self._piece = piece
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:  # type: ignore[no-untyped-def]
        self.reads += 1
        n = min(len(buf), self._piece, len(self._data))
        buf[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@pytest.mark.parametrize("make", [bytes, bytearray, memoryview])
def test_write_bytes_like(storage: HashKeyStorage, make) -> None:  # type: ignore[no-untyped-def]
    key = storage.write(make(b"payload"))
    assert key == sha(b"payload")
    assert len(key) == 64 and key == key.lower()
    assert storage.read_bytes(key) == b"payload"


def test_write_numpy_buffer(storage: HashKeyStorage) -> None:
    array = np.arange(1000, dtype=np.float64).reshape(10, 100)
    key = storage.write(array)
    assert key == sha(array.tobytes())


@pytest.mark.parametrize("size", [0, 10, 2 * 2**20, 20 * 2**20 + 3])
def test_write_path_and_pathlike(storage: HashKeyStorage, tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    assert storage.write(src) == sha(data)
    assert storage.write(str(src)) == sha(data)
    with storage.read(sha(data)) as value:
        assert isinstance(value, Path)
        assert value.read_bytes() == data
        assert value.resolve().is_relative_to((tmp_path / "lake").resolve())  # the stored file, no copy
    assert src.read_bytes() == data  # the source is untouched


@pytest.mark.parametrize("size", [0, 100, 8 * 2**20, 8 * 2**20 + 1, 30 * 2**20])
def test_write_non_seekable_stream(storage: HashKeyStorage, size: int) -> None:
    data = os.urandom(size)
    pipe = _Pipe(data)
    assert storage.write(pipe) == sha(data)
    assert storage.read_bytes(sha(data)) == data


def test_write_seekable_file_object(storage: HashKeyStorage, tmp_path: Path) -> None:
    src = tmp_path / "f"
    src.write_bytes(b"from a file object")
    with open(src, "rb") as f:
        assert storage.write(f) == sha(b"from a file object")


def test_stream_without_readinto(storage: HashKeyStorage) -> None:
    class OnlyRead:
        def __init__(self, data: bytes) -> None:
            self.buf = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self.buf.read(min(n, 5000) if n > 0 else n)

    data = os.urandom(9 * 2**20)
    assert storage.write(OnlyRead(data)) == sha(data)


def test_big_stream_to_remote_like_location_spools_once(tmp_path: Path) -> None:
    storage = HashKeyStorage(Memory())
    data = os.urandom(12 * 2**20)
    pipe = _Pipe(data, piece=2**20)
    key = storage.write(pipe)
    assert storage.read_bytes(key) == data
    assert pipe.reads <= 12 + 2  # each byte read once (plus the end-of-stream probe)


def test_write_existing_is_noop(storage: HashKeyStorage) -> None:
    k1 = storage.write(b"same")
    k2 = storage.write(b"same")
    assert k1 == k2
    assert list(storage.keys()) == [k1]


@pytest.mark.parametrize("bad", [123, 1.5, None, {"a": 1}, ["x"]])
def test_write_rejects_unstorable_types(storage: HashKeyStorage, bad: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        storage.write(bad)
    assert type(bad).__name__ in str(info.value)


def test_write_rejects_missing_file_and_directory(storage: HashKeyStorage, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="no such file"):
        storage.write(tmp_path / "nope")
    with pytest.raises(InvalidArgument, match="not a regular file"):
        storage.write(tmp_path)


def test_missing_key_is_a_key_error(storage: HashKeyStorage) -> None:
    key = sha(b"absent")
    with pytest.raises(StorageKeyNotFound) as info:
        storage.read_bytes(key)
    assert isinstance(info.value, KeyError) and isinstance(info.value, LakeletError)
    assert key in str(info.value)
    with pytest.raises(KeyError), storage.read(key):
        pass
    assert key not in storage
    assert storage.remove(key) is False


@pytest.mark.parametrize("bad", ["nothex", "A" * 64, sha(b"x")[:-1], "../../etc/passwd"])
def test_malformed_key_names_the_key(storage: HashKeyStorage, bad: str) -> None:
    with pytest.raises(InvalidKey) as info:
        storage.read_bytes(bad)
    assert isinstance(info.value, ValueError)
    assert repr(bad)[:20] in str(info.value)


def test_remove_keys_iteration(storage: HashKeyStorage) -> None:
    keys = {storage.write(bytes([i]) * 10) for i in range(5)}
    assert set(storage) == keys
    victim = next(iter(keys))
    assert storage.remove(victim) is True
    assert set(storage.keys()) == keys - {victim}


def test_verify_and_verified_reads(tmp_path: Path) -> None:
    plain = HashKeyStorage(tmp_path / "lake")
    key = plain.write(b"original")
    path = tmp_path / "lake" / key[:2] / key[2:]
    os.chmod(path, 0o644)
    path.write_bytes(b"tampered")
    assert plain.verify(key) is False
    assert plain.read_bytes(key) == b"tampered"  # verification is opt-in on reads
    checked = HashKeyStorage(tmp_path / "lake", verify=True)
    with pytest.raises(StorageCorruption) as info:
        checked.read_bytes(key)
    assert key in str(info.value)


def test_stored_files_are_read_only(storage: HashKeyStorage) -> None:
    key = storage.write(b"immutable")
    with storage.read(key) as path:
        assert path.stat().st_mode & 0o222 == 0


def test_urls_and_specs(tmp_path: Path) -> None:
    assert isinstance(HashKeyStorage("memory://").location, Memory)
    disk = HashKeyStorage(f"file://{tmp_path}/lake")
    key = disk.write(b"file url")
    assert HashKeyStorage(tmp_path / "lake").read_bytes(key) == b"file url"
    with pytest.raises(InvalidArgument, match="unknown location scheme"):
        HashKeyStorage("nosuch://x")


def test_public_names_at_top_level() -> None:
    for name in ["HashKeyStorage", "Disk", "Memory", "Levels", "Level", "Fanout", "Small", "S3", "SFTP", "SCP",
                 "Nginx", "RedisLocation", "GCS", "Azure", "LakeletError", "StorageKeyNotFound",
                 "StorageAccessDenied", "StorageNetworkConnectionError", "StorageInternalError", "StorageFull",
                 "StorageCorruption", "open_location"]:
        assert getattr(lakelet, name) is not None, name


def test_core_imports_no_backend_library() -> None:
    code = ("import sys, lakelet; lakelet.HashKeyStorage('memory://').write(b'x');"
            "mods = ('s3fs', 'redis', 'sshfs', 'gcsfs', 'adlfs', 'botocore', 'IPython');"
            "bad = [m for m in mods if m in sys.modules];"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)

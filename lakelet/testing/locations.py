"""The contract every :class:`~lakelet.locations.abc.Location` keeps, as a reusable test suite.

A backend's test is one subclass that provides three fixtures::

    class TestMyStore(LocationTests):
        @pytest.fixture
        def location(self, tmp_path):          # a fresh, empty location
            return MyStore(tmp_path)

        @pytest.fixture
        def raw_put(self, location):           # store bytes under a key, bypassing the API
            return lambda key, data: ...

        @pytest.fixture
        def raw_get(self, location):           # the stored bytes, or None, bypassing the API
            return lambda key: ...

Read-only locations set ``read_only = True``; their values arrive through
``raw_put`` only (and their named records through an optional ``raw_put_record``
fixture). Composites run the same suite: their backdoors reach into a member.

Besides content-addressed values, every location keeps *named records*
(``read_record``/``write_record``/``delete_record``/``list_records``): create-only
unless replaced, atomically, never listed by ``keys()``; the contract covers them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from lakelet.errors import (
    InvalidKey,
    LakeletError,
    ReadOnlyLocation,
    StorageCorruption,
    StorageKeyNotFound,
)
from lakelet.hashstore import HashKeyStorage
from lakelet.locations.abc import Blob, Location

RawPut = Callable[[str, bytes], None]
RawPutRecord = Callable[[str, bytes], None]
RawGet = Callable[[str], "bytes | None"]


def key_of(data: bytes) -> str:
    """The storage key of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_all(location: Location, key: str) -> bytes:
    """Read a value through :meth:`Location.read`, whatever form it comes in."""
    with location.read(key) as value:
        if isinstance(value, Path):
            return value.read_bytes()
        return value.read()


class LocationTests:
    """Contract tests for one Location implementation; see the module docstring."""

    #: the location only reads (writes are declined, deletes refused)
    read_only: ClassVar[bool] = False
    #: a value big enough to cross multipart/chunking thresholds
    large_size: ClassVar[int] = 6 * 2**20

    @pytest.fixture
    def location(self) -> Location:
        raise NotImplementedError("a LocationTests subclass must provide the `location` fixture")

    @pytest.fixture
    def raw_put(self, location: Location) -> RawPut:
        raise NotImplementedError("a LocationTests subclass must provide the `raw_put` fixture")

    @pytest.fixture
    def raw_get(self, location: Location) -> RawGet:
        raise NotImplementedError("a LocationTests subclass must provide the `raw_get` fixture")

    @pytest.fixture
    def put(self, location: Location, raw_put: RawPut) -> Callable[[bytes], str]:
        """Store bytes the way this location gets values: write(), or the backdoor if read-only."""

        def _put(data: bytes) -> str:
            key = key_of(data)
            if self.read_only:
                raw_put(key, data)
            else:
                assert location.write(key, Blob(data=data)) is True
            return key

        return _put

    # ------------------------------------------------------------------ empty location
    def test_missing_key(self, location: Location) -> None:
        key = key_of(b"never stored")
        assert not location.contains(key)
        assert key not in location
        with pytest.raises(StorageKeyNotFound) as info, location.read(key):
            pass
        assert isinstance(info.value, KeyError)
        assert key in str(info.value)
        with pytest.raises(StorageKeyNotFound):
            location.read_bytes(key)
        with pytest.raises(StorageKeyNotFound):
            location.info(key)

    def test_empty_listing(self, location: Location) -> None:
        if location.listable:
            assert list(location.keys()) == []
            assert location.usage().entries == 0

    def test_walk_visits_it_and_what_it_is_made_of(self, location: Location) -> None:
        walked = list(location.walk())
        assert walked[0] is location
        assert all(any(w is c for w in walked) for c in location.children())

    @pytest.mark.parametrize("bad", ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61])
    def test_malformed_keys_rejected(self, location: Location, bad: str) -> None:
        with pytest.raises(InvalidKey) as info:
            location.contains(bad)
        assert isinstance(info.value, ValueError)
        with pytest.raises(InvalidKey), location.read(bad):
            pass
        if not self.read_only:
            with pytest.raises(InvalidKey):
                location.write(bad, Blob(data=b"x"))

    def test_non_string_key_rejected(self, location: Location) -> None:
        with pytest.raises(InvalidKey):
            location.contains(123)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ round trips
    @pytest.mark.parametrize("data", [b"", b"x", b"\x00\xff" * 1000, os.urandom(100_000)])
    def test_round_trip(self, location: Location, put: Callable[[bytes], str], data: bytes) -> None:
        key = put(data)
        assert location.contains(key)
        assert read_all(location, key) == data
        assert location.read_bytes(key) == data
        assert location.info(key).size == len(data)

    def test_read_value_kinds(self, location: Location, put: Callable[[bytes], str]) -> None:
        key = put(b"kind")
        with location.read(key) as value:
            if isinstance(value, Path):
                assert value.is_file()
                assert not os.access(value, os.W_OK) or os.geteuid() == 0  # read-only file (root ignores modes)
            else:
                assert isinstance(value, io.IOBase) or hasattr(value, "read")

    def test_large_value(self, location: Location, put: Callable[[bytes], str], tmp_path: Path, raw_put: RawPut):
        data = os.urandom(self.large_size)
        if self.read_only:
            key = put(data)
        else:
            src = tmp_path / "large.bin"
            src.write_bytes(data)
            key = key_of(data)
            assert location.write(key, Blob(path=src)) is True
        assert read_all(location, key) == data
        assert location.info(key).size == len(data)

    def test_owned_blob_survives_caller_cleanup(self, location: Location, tmp_path: Path) -> None:
        data = os.urandom(3000)
        src = tmp_path / "owned.bin"
        src.write_bytes(data)
        key = key_of(data)
        if self.read_only:
            assert location.write(key, Blob(path=src, owned=True)) is False
            assert src.read_bytes() == data  # a declined owned blob is left to its owner
            return
        assert location.write(key, Blob(path=src, owned=True)) is True
        src.unlink()
        assert read_all(location, key) == data

    def test_write_is_idempotent(self, location: Location, raw_get: RawGet) -> None:
        data = b"same bytes"
        key = key_of(data)
        if self.read_only:
            assert location.write(key, Blob(data=data)) is False
            assert location.write(key, Blob(data=data)) is False
            assert raw_get(key) is None
            return
        assert location.write(key, Blob(data=data)) is True
        assert location.write(key, Blob(data=data)) is True
        assert raw_get(key) == data
        if location.listable:
            assert list(location.keys()) == [key]

    def test_backdoor_value_is_visible(self, location: Location, raw_put: RawPut) -> None:
        data = b"put behind the API's back"
        key = key_of(data)
        raw_put(key, data)
        assert location.contains(key)
        assert read_all(location, key) == data

    def test_written_value_reaches_backend(self, location: Location, raw_get: RawGet) -> None:
        data = b"through the front door"
        key = key_of(data)
        stored = location.write(key, Blob(data=data))
        assert stored is (not self.read_only)
        assert raw_get(key) == (None if self.read_only else data)

    # ------------------------------------------------------------------ delete
    def test_delete(self, location: Location, put: Callable[[bytes], str]) -> None:
        key = put(b"to delete")
        if self.read_only or not location.writable:
            with pytest.raises(ReadOnlyLocation):
                location.delete(key)
            assert location.contains(key)
            return
        assert location.delete(key) is True
        assert not location.contains(key)
        assert location.delete(key) is False
        with pytest.raises(StorageKeyNotFound), location.read(key):
            pass

    def test_read_only_declines_writes(self, location: Location) -> None:
        if not self.read_only:
            assert location.writable
            return
        assert not location.writable
        assert not location.accepts(1)
        data = b"refused"
        assert location.write(key_of(data), Blob(data=data)) is False
        assert not location.contains(key_of(data))

    # ------------------------------------------------------------------ listing and usage
    def test_keys_and_entries(self, location: Location, put: Callable[[bytes], str]) -> None:
        values = [b"a", b"bb", b"ccc"]
        keys = {put(v) for v in values}
        if not location.listable:
            pytest.skip("location cannot list")
        assert set(location.keys()) == keys
        sizes = {e.key: e.size for e in location.entries()}
        assert sizes == {key_of(v): len(v) for v in values}
        usage = location.usage()
        assert usage.entries == 3
        assert usage.bytes == 6

    def test_touch(self, location: Location, put: Callable[[bytes], str]) -> None:
        key = put(b"touched")
        before = location.info(key).last_access
        assert location.touch(key) is True
        after = location.info(key).last_access
        if before is not None and after is not None:
            assert after >= before
        assert location.touch(key_of(b"absent")) is False

    # ------------------------------------------------------------------ integrity
    def test_read_verified(self, location: Location, put: Callable[[bytes], str], raw_put: RawPut) -> None:
        good = put(b"good")
        with location.read_verified(good) as value:
            data = value.read_bytes() if isinstance(value, Path) else value.read()
        assert data == b"good"
        bad = key_of(b"what the key promises")
        raw_put(bad, b"something else")
        with pytest.raises(StorageCorruption) as info, location.read_verified(bad):
            pass
        assert isinstance(info.value, OSError)
        assert bad in str(info.value)

    def test_hash_key_storage_over_location(self, location: Location, raw_put: RawPut) -> None:
        storage = HashKeyStorage(location)
        data = os.urandom(5000)
        if self.read_only:
            raw_put(key_of(data), data)
            with pytest.raises(LakeletError):
                storage.write(b"cannot land anywhere")
            key = key_of(data)
        else:
            key = storage.write(data)
        assert key == key_of(data)
        assert storage.read_bytes(key) == data
        assert key in storage
        assert storage.verify(key)

    def test_concurrent_writes_of_one_key(self, location: Location, raw_get: RawGet) -> None:
        data = os.urandom(200_000)
        key = key_of(data)
        results: list[bool] = []
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                results.append(location.write(key, Blob(data=data)))
            except LakeletError as e:  # collected and asserted empty below
                errors.append(e)

        threads = [threading.Thread(target=writer) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert results == [not self.read_only] * 6
        assert raw_get(key) == (None if self.read_only else data)

    def test_describe_is_json(self, location: Location) -> None:
        described = location.describe()
        json.dumps(described)
        assert described["kind"] == location.kind
        assert isinstance(location.url, str)
        assert repr(location)

    # ------------------------------------------------------------------ named records
    @pytest.fixture
    def raw_put_record(self, location: Location) -> RawPutRecord | None:
        """Store a record behind the API's back (read-only locations); None if there is no way."""
        return None

    @pytest.fixture
    def put_record(self, location: Location, raw_put_record: RawPutRecord | None) -> Callable[[str, bytes], None]:
        def _put(name: str, data: bytes) -> None:
            if not self.read_only:
                assert location.write_record(name, data) is True
            elif raw_put_record is not None:
                raw_put_record(name, data)
            else:
                pytest.skip("a read-only location without a raw_put_record backdoor")

        return _put

    def test_record_round_trip(self, location: Location) -> None:
        name = "cache/function/mod.f/" + key_of(b"address")
        with pytest.raises(StorageKeyNotFound) as info:
            location.read_record(name)
        assert isinstance(info.value, KeyError)
        if self.read_only:
            with pytest.raises(ReadOnlyLocation):
                location.write_record(name, b"x")
            with pytest.raises(ReadOnlyLocation):
                location.delete_record(name)
            return
        assert location.write_record(name, b"first") is True
        assert location.read_record(name) == b"first"
        assert location.write_record(name, b"second") is False  # create-only: unchanged
        assert location.read_record(name) == b"first"
        assert location.write_record(name, b"second", replace=True) is True
        assert location.read_record(name) == b"second"
        assert location.write_record(name, b"", replace=True) is True  # empty records are records
        assert location.read_record(name) == b""
        assert location.delete_record(name) is True
        assert location.delete_record(name) is False
        with pytest.raises(StorageKeyNotFound):
            location.read_record(name)

    def test_records_are_not_values(self, location: Location, put: Callable[[bytes], str],
                                    put_record: Callable[[str, bytes], None]) -> None:
        key = put(b"a value")
        hashlike = key_of(b"a record named like a key")
        put_record(hashlike, b"not the bytes of its name")
        put_record("meta/x", b"y")
        assert not location.contains(hashlike)
        assert location.read_record(hashlike) == b"not the bytes of its name"
        if location.listable:
            assert list(location.keys()) == [key]
            assert location.usage().entries == 1
        assert sorted(location.list_records()) == sorted([hashlike, "meta/x"])
        storage = HashKeyStorage(location)
        assert all(storage.verify(k) for k in storage.keys())

    def test_list_records_by_prefix(self, location: Location, put_record: Callable[[str, bytes], None]) -> None:
        names = ["cache/function/m.f/1", "cache/function/m.f/2", "cache/cell/load/1", "cache-other", "z"]
        for name in names:
            put_record(name, name.encode())
        assert sorted(location.list_records()) == sorted(names)
        assert sorted(location.list_records("cache/function/")) == names[:2]
        assert sorted(location.list_records("cache/f")) == names[:2]
        assert sorted(location.list_records("cache")) == sorted(names[:4])
        assert list(location.list_records("nothing/")) == []
        assert [location.read_record(n) for n in names] == [n.encode() for n in names]

    @pytest.mark.parametrize("bad", ["", "/a", "a/", "a//b", "../x", "a/../b", "a/./b", "a b", "caf\u00e9", "a\x00"])
    def test_record_names_validated(self, location: Location, bad: str) -> None:
        with pytest.raises(InvalidKey) as info:
            location.read_record(bad)
        assert isinstance(info.value, ValueError)
        if not self.read_only:
            with pytest.raises(InvalidKey):
                location.write_record(bad, b"x")
            with pytest.raises(InvalidKey):
                location.delete_record(bad)
        with pytest.raises(InvalidKey):
            location.read_record(123)  # type: ignore[arg-type]

    def test_record_create_only_race(self, location: Location) -> None:
        if self.read_only:
            pytest.skip("read-only")
        name = "race/one"
        wins: list[bytes] = []
        errors: list[BaseException] = []

        def writer(i: int) -> None:
            data = f"writer {i}".encode()
            try:
                if location.write_record(name, data):
                    wins.append(data)
            except LakeletError as e:  # collected and asserted empty below
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(wins) == 1
        assert location.read_record(name) == wins[0]

    def test_replaced_record_is_never_missing(self, location: Location) -> None:
        if self.read_only:
            pytest.skip("read-only")
        name = "swap/me"
        assert location.write_record(name, b"v0")
        seen: list[bytes] = []
        failures: list[BaseException] = []
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                try:
                    seen.append(location.read_record(name))
                except LakeletError as e:  # a missing record is the bug this test catches
                    failures.append(e)
                    return

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            for i in range(1, 25):
                assert location.write_record(name, f"v{i}".encode(), replace=True)
        finally:
            done.set()
            thread.join()
        assert failures == []
        assert set(seen) <= {f"v{i}".encode() for i in range(25)}
        assert location.read_record(name) == b"v24"

    # ------------------------------------------------------------------ repair (issue 15.7)
    def test_write_repairs_a_damaged_copy(self, location: Location, raw_put: RawPut, raw_get: RawGet) -> None:
        data = os.urandom(3000)
        key = key_of(data)
        raw_put(key, data[:1000])  # a truncated copy: it no longer hashes to its key
        if self.read_only:
            assert location.write(key, Blob(data=data)) is False
            return
        assert location.write(key, Blob(data=data)) is True
        assert read_all(location, key) == data
        assert raw_get(key) == data
        assert HashKeyStorage(location).verify(key)

    def test_repair_is_checked_and_atomic(self, location: Location, raw_put: RawPut, tmp_path: Path) -> None:
        data = os.urandom(5000)
        key = key_of(data)
        raw_put(key, b"bit rot")
        if self.read_only:
            with pytest.raises(ReadOnlyLocation):
                location.repair(key, Blob(data=data))
            return
        with pytest.raises(StorageCorruption):
            location.repair(key, Blob(data=b"not the bytes of this key"))
        assert location.read_bytes(key) == b"bit rot"  # a refused repair changes nothing
        src = tmp_path / "good.bin"
        src.write_bytes(data)
        assert location.repair(key, Blob(path=src)) is True
        assert location.read_bytes(key) == data
        if location.listable:
            assert location.usage().entries == 1

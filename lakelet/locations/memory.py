"""Values in this process's memory: the fastest tier, gone when the process ends.

Every ``Memory()`` owns its own dict (no module-level store), so two instances
never see each other's values.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from .._hashing import validate_key
from ..errors import InvalidArgument, StorageKeyNotFound
from ._records import record_bytes, validate_record_name, validate_record_prefix
from .abc import Blob, EntryInfo, Location, Usage, check_repair, now


class Memory(Location):
    """An in-process dict of immutable values, optionally capped at ``max_size`` bytes."""

    kind = "memory"
    durable = False  # gone with the process

    def __init__(self, *, max_size: int | None = None, name: str = "") -> None:
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise InvalidArgument(f"Memory max_size must be a non-negative int of bytes, got {max_size!r}")
        self.max_size = max_size
        self.name = name
        self._values: dict[str, bytes] = {}
        self._access: dict[str, float] = {}
        self._bytes = 0
        self._records: dict[str, bytes] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"memory://{self.name}"

    @contextmanager
    def read(self, key: str) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.read_bytes(key))

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self._lock:
            try:
                value = self._values[key]
            except KeyError:
                raise self._not_found(key) from None
            self._access[key] = now()
        return value

    def write(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        with self._lock:
            present = self._values.get(key)
            if present is None and self.max_size is not None and self._bytes + blob.size > self.max_size:
                return False
        if present is not None:
            if hashlib.sha256(present).hexdigest() != key:  # a damaged copy: the new bytes repair it
                self.repair(key, blob)
            return True
        data = blob.read_bytes()  # outside the lock: may read a file
        with self._lock:
            if key not in self._values:
                self._values[key] = data
                self._access[key] = now()
                self._bytes += len(data)
        return True

    def repair(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        check_repair(self, key, blob)
        data = blob.read_bytes()
        with self._lock:
            old = self._values.get(key)
            self._values[key] = data
            self._access[key] = now()
            self._bytes += len(data) - (len(old) if old is not None else 0)
        return True

    def delete(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            value = self._values.pop(key, None)
            self._access.pop(key, None)
            if value is None:
                return False
            self._bytes -= len(value)
            return True

    def contains(self, key: str) -> bool:
        validate_key(key)
        return key in self._values

    def touch(self, key: str) -> bool:
        validate_key(key)
        with self._lock:
            if key not in self._values:
                return False
            self._access[key] = now()
            return True

    def keys(self) -> Iterator[str]:
        with self._lock:
            snapshot = list(self._values)
        yield from snapshot

    def info(self, key: str) -> EntryInfo:
        validate_key(key)
        with self._lock:
            if key not in self._values:
                raise self._not_found(key)
            return EntryInfo(key, len(self._values[key]), last_access=self._access.get(key))

    def entries(self) -> Iterator[EntryInfo]:
        with self._lock:
            snapshot = [EntryInfo(k, len(v), last_access=self._access.get(k)) for k, v in self._values.items()]
        yield from snapshot

    def usage(self) -> Usage:
        with self._lock:
            return Usage(self._bytes, len(self._values), self.max_size)

    def capacity(self) -> int | None:
        return self.max_size

    def free_space(self) -> int | None:
        if self.max_size is None:
            return None
        return max(self.max_size - self._bytes, 0)

    # ------------------------------------------------------------------ records
    def read_record(self, name: str) -> bytes:
        validate_record_name(name)
        try:
            return self._records[name]
        except KeyError:
            raise StorageKeyNotFound("no such record", location=self, key=name) from None

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        validate_record_name(name)
        data = record_bytes(data, name)
        with self._lock:
            if not replace and name in self._records:
                return False
            self._records[name] = data
        return True

    def delete_record(self, name: str) -> bool:
        validate_record_name(name)
        with self._lock:
            return self._records.pop(name, None) is not None

    def list_records(self, prefix: str = "") -> Iterator[str]:
        validate_record_prefix(prefix)
        with self._lock:
            names = [name for name in self._records if name.startswith(prefix)]
        yield from names

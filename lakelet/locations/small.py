"""``Small``: a location that only takes values up to a size, so bigger ones fall through."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument
from .abc import Blob, EntryInfo, Location, ReadValue, Usage


class Small(Location):
    """Wraps ``location`` and declines writes of values larger than ``max_size`` bytes."""

    kind = "small"

    def __init__(self, location: Location | str | Any, max_size: int) -> None:
        from ..registry import open_location

        if not isinstance(max_size, int) or isinstance(max_size, bool) or max_size < 0:
            raise InvalidArgument(f"Small max_size must be a non-negative int of bytes, got {max_size!r}")
        self.location = open_location(location)
        self.max_size = max_size

    @property
    def writable(self) -> bool:  # type: ignore[override]
        return self.location.writable

    @property
    def listable(self) -> bool:  # type: ignore[override]
        return self.location.listable

    @property
    def durable(self) -> bool:  # type: ignore[override]
        return self.location.durable

    @property
    def url(self) -> str:
        return f"small({self.location.url}, max_size={self.max_size})"

    def children(self) -> Sequence[Location]:
        return (self.location,)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["max_size"] = self.max_size
        return d

    def staging_dir(self) -> Path | None:
        return self.location.staging_dir()

    def staging_dirs(self, size: int | None = None) -> Iterator[Path]:
        if size is None or size <= self.max_size:
            yield from self.location.staging_dirs(size)

    def accepts(self, size: int) -> bool:
        return size <= self.max_size and self.location.accepts(size)

    def write(self, key: str, blob: Blob) -> bool:
        if blob.size > self.max_size:
            return False
        return self.location.write(key, blob)

    def read(self, key: str) -> AbstractContextManager[ReadValue]:
        return self.location.read(key)

    def read_verified(self, key: str) -> AbstractContextManager[ReadValue]:
        return self.location.read_verified(key)

    def read_bytes(self, key: str) -> bytes:
        return self.location.read_bytes(key)

    def delete(self, key: str) -> bool:
        return self.location.delete(key)

    def repair(self, key: str, blob: Blob) -> bool:
        return self.location.repair(key, blob)

    # records are small metadata: they pass through whatever their size
    def read_record(self, name: str) -> bytes:
        return self.location.read_record(name)

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        return self.location.write_record(name, data, replace=replace)

    def delete_record(self, name: str) -> bool:
        return self.location.delete_record(name)

    def list_records(self, prefix: str = "") -> Iterator[str]:
        return self.location.list_records(prefix)

    def contains(self, key: str) -> bool:
        return self.location.contains(key)

    def touch(self, key: str) -> bool:
        return self.location.touch(key)

    def info(self, key: str) -> EntryInfo:
        return self.location.info(key)

    def keys(self) -> Iterator[str]:
        return self.location.keys()

    def entries(self) -> Iterator[EntryInfo]:
        return self.location.entries()

    def usage(self) -> Usage:
        return self.location.usage()

    def capacity(self) -> int | None:
        return self.location.capacity()

    def free_space(self) -> int | None:
        return self.location.free_space()

"""``Fanout``: fill one location, then the next.

A write goes to the first member that is writable and has room for the value
(its ``max_size`` cap or the free space of its disk); a read finds the key in
whichever member holds it. Named records live in the first writable durable
member (the first writable one if none is durable) and are read from any member.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument, ReadOnlyLocation, StorageKeyNotFound
from ._search import first_hit, verifies
from .abc import Blob, EntryInfo, Location, ReadValue, Usage


class Fanout(Location):
    """Several locations used as one, filled in order."""

    kind = "fanout"

    def __init__(self, *locations: Location | str | Any) -> None:
        from ..registry import open_location

        if not locations:
            raise InvalidArgument("Fanout needs at least one location")
        self.locations: tuple[Location, ...] = tuple(open_location(loc) for loc in locations)

    @property
    def writable(self) -> bool:  # type: ignore[override]
        return any(loc.writable for loc in self.locations)

    @property
    def listable(self) -> bool:  # type: ignore[override]
        return any(loc.listable for loc in self.locations)

    @property
    def durable(self) -> bool:  # type: ignore[override]
        """True if wherever a write lands is durable (every writable member is)."""
        writers = [loc for loc in self.locations if loc.writable]
        return bool(writers) and all(loc.durable for loc in writers)

    @property
    def url(self) -> str:
        return "fanout(" + ", ".join(loc.url for loc in self.locations) + ")"

    def children(self) -> Sequence[Location]:
        return self.locations

    def staging_dir(self) -> Path | None:
        for loc in self.locations:
            if loc.writable:
                return loc.staging_dir()
        return None

    def staging_dirs(self, size: int | None = None) -> Iterator[Path]:
        for loc in self.locations:
            if loc.writable:
                yield from loc.staging_dirs(size)

    def read(self, key: str) -> AbstractContextManager[ReadValue]:
        return self._read(key, verified=False)

    def read_verified(self, key: str) -> AbstractContextManager[ReadValue]:
        return self._read(key, verified=True)

    @contextmanager
    def _read(self, key: str, *, verified: bool) -> Iterator[ReadValue]:
        with ExitStack() as stack:
            # a corrupt member is skipped: another may hold a good copy (e.g. a mirrored Levels)
            found = first_hit(stack, self.locations, key, verified=verified)
            if isinstance(found, tuple):
                yield found[1]
                return
        if found is not None:
            raise found
        raise self._not_found(key)

    def write(self, key: str, blob: Blob) -> bool:
        holders = [loc for loc in self.locations if loc.contains(key)]
        if holders:
            for loc in holders:  # writing again lets a member repair a damaged copy
                if loc.writable:
                    loc.write(key, blob)
            return True
        for loc in self.locations:
            if loc.accepts(blob.size) and loc.write(key, blob):
                return True
        return False

    def repair(self, key: str, blob: Blob) -> bool:
        """Repair every writable member whose copy of ``key`` does not verify."""
        repaired = False
        for loc in self.locations:
            if loc.writable and loc.contains(key) and not verifies(loc, key):
                repaired = loc.repair(key, blob) or repaired
        return repaired

    def accepts(self, size: int) -> bool:
        return any(loc.accepts(size) for loc in self.locations)

    def delete(self, key: str) -> bool:
        self._require_writable(key)
        deleted = False
        for loc in self.locations:
            if loc.writable:
                deleted = loc.delete(key) or deleted
        return deleted

    def contains(self, key: str) -> bool:
        return any(loc.contains(key) for loc in self.locations)

    def touch(self, key: str) -> bool:
        touched = False
        for loc in self.locations:
            touched = loc.touch(key) or touched
        return touched

    def info(self, key: str) -> EntryInfo:
        for loc in self.locations:
            try:
                return loc.info(key)
            except StorageKeyNotFound:
                continue
        raise self._not_found(key)

    def keys(self) -> Iterator[str]:
        seen: set[str] = set()
        for loc in self.locations:
            if loc.listable:
                for key in loc.keys():
                    if key not in seen:
                        seen.add(key)
                        yield key

    def entries(self) -> Iterator[EntryInfo]:
        seen: set[str] = set()
        for loc in self.locations:
            if loc.listable:
                for entry in loc.entries():
                    if entry.key not in seen:
                        seen.add(entry.key)
                        yield entry

    # ------------------------------------------------------------------ records
    def _record_member(self, name: str) -> Location:
        writers = [loc for loc in self.locations if loc.writable]
        if not writers:
            raise ReadOnlyLocation("no member of this fanout accepts writes", location=self, key=name)
        return next((loc for loc in writers if loc.durable), writers[0])

    def read_record(self, name: str) -> bytes:
        for loc in self.locations:
            try:
                return loc.read_record(name)
            except StorageKeyNotFound:
                continue
        raise StorageKeyNotFound("no such record", location=self, key=name)

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        target = self._record_member(name)
        others = [loc for loc in self.locations if loc is not target]
        if not replace:
            for loc in others:
                try:
                    loc.read_record(name)
                except StorageKeyNotFound:
                    continue
                return False  # create-only: another member holds it
        if not target.write_record(name, data, replace=replace):
            return False
        if replace:
            for loc in others:
                if loc.writable:
                    loc.delete_record(name)  # never shadows the new one: reads find one copy only
        return True

    def delete_record(self, name: str) -> bool:
        self._require_writable(name)
        deleted = False
        for loc in self.locations:
            if loc.writable:
                deleted = loc.delete_record(name) or deleted
        return deleted

    def list_records(self, prefix: str = "") -> Iterator[str]:
        seen: set[str] = set()
        for loc in self.locations:
            for name in loc.list_records(prefix):
                if name not in seen:
                    seen.add(name)
                    yield name

    def capacity(self) -> int | None:
        caps = [loc.capacity() for loc in self.locations]
        return None if any(c is None for c in caps) else sum(c for c in caps if c is not None)

    def usage(self) -> Usage:
        parts = [loc.usage() for loc in self.locations]
        return Usage(sum(p.bytes for p in parts), sum(p.entries for p in parts), self.capacity(),
                     {"members": parts})


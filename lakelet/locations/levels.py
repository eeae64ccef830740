"""``Levels``: a cache hierarchy with copy-on-read, durable on write.

A write goes top-down into every level that is writable and accepts the value,
up to and including the first *durable* one (``Location.durable``): volatile
levels above it (process memory, a Redis cache) keep a copy for fast reads, and
``write`` returns only once a durable level holds the value. A stack without any
durable writable level (a bare ``memory://``) stores in the first that accepts.
A read asks the levels top-down; a hit at a lower level is copied into every
higher level that replicates (``Level(..., write=False)`` levels are filled only
that way). A verified read that meets a corrupt copy reads on; a good copy found
below replaces the bad one atomically, and a bad copy with no good one anywhere
is reported, never deleted.

Named records (``write_record``) follow the same rule: stored in the writable
levels down to the first durable one, which decides create-only; read top-down
with copy-on-read.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..errors import (
    InvalidArgument,
    LakeletWarning,
    ReadOnlyLocation,
    StorageError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._failopen import Breakers
from ._search import first_hit, verifies
from ._spool import as_blob
from .abc import Blob, EntryInfo, Location, ReadValue, Usage

_PRECHECK_FROM = 1 * 2**20  # values from this size on are offered only to levels that say they have room


@dataclass(frozen=True)
class Level:
    """One level of a :class:`Levels` stack.

    ``write``: new values may be written here. ``replicate``: values read from a
    lower level are copied here. ``Level(loc, write=False)`` is a pure cache.
    """

    #: a Location, or a spec the registry opens (a path, a URL, a dict); inside ``Levels`` always a Location
    location: Any
    write: bool = True
    replicate: bool = True
    name: str | None = None


class Levels(Location):
    """Locations stacked fastest-first; see the module docstring."""

    kind = "levels"

    def __init__(self, *levels: Level | Location | str | Any) -> None:
        from ..registry import open_location

        if not levels:
            raise InvalidArgument("Levels needs at least one location")
        resolved = []
        for level in levels:
            if not isinstance(level, Level):
                level = Level(level)
            for flag in ("write", "replicate"):
                if not isinstance(getattr(level, flag), bool):
                    raise InvalidArgument(f"Level {flag}= must be True or False, got {getattr(level, flag)!r}")
            resolved.append(Level(open_location(level.location), level.write, level.replicate, level.name))
        self.levels: tuple[Level, ...] = tuple(resolved)
        # (writer, durable) in write order, once: the write path is the hot path
        self._write_plan: tuple[tuple[Location, bool], ...] = tuple(
            (level.location, level.location.durable) for level in self.levels
            if level.write and level.location.writable
        )
        self._durable = any(durable for _, durable in self._write_plan)
        self._breakers = Breakers()  # cache tiers that stop answering are skipped (see _failopen)
        # names of records replaced or deleted while a cache tier was not answering: its copy is stale
        self._unsynced: dict[int, set[str]] = {}
        self._unsynced_lock = threading.Lock()

    def _cache_tier(self, location: Location) -> bool:
        """Whether ``location`` fails open: a non-durable level above the last one."""
        return not location.durable and location is not self.levels[-1].location

    def _guard(self, location: Location, fn: Any, fallback: Any) -> Any:
        return self._breakers.call(location, self._cache_tier(location), fn, fallback)

    def _unavailable(self, location: Location, error: StorageNetworkConnectionError) -> bool:
        if not self._cache_tier(location):
            return False
        self._breakers.trip(location, error)
        return True

    # ------------------------------------------------------------------ capabilities
    @property
    def writable(self) -> bool:  # type: ignore[override]
        return any(level.write and level.location.writable for level in self.levels)

    @property
    def listable(self) -> bool:  # type: ignore[override]
        return any(level.location.listable for level in self.levels)

    @property
    def durable(self) -> bool:  # type: ignore[override]
        """True if a write through this stack reaches a durable level."""
        return self._durable

    @property
    def url(self) -> str:
        return "levels(" + ", ".join(level.location.url for level in self.levels) + ")"

    def children(self) -> Sequence[Location]:
        return tuple(level.location for level in self.levels)

    def caches(self) -> list[tuple[Location, list[Location]]]:
        """Each member that caches (every one but the last), with the members below it: what an
        eviction may drop, and where a good copy must remain when it does."""
        members = list(self.children())
        return [(member, members[i + 1 :]) for i, member in enumerate(members[:-1])]

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        for child, level in zip(d["children"], self.levels, strict=True):
            child["level"] = {"write": level.write, "replicate": level.replicate, "name": level.name}
        return d

    def _writers(self) -> Iterator[Location]:
        for level in self.levels:
            if level.write and level.location.writable:
                yield level.location

    def staging_dir(self) -> Path | None:
        for location in self._writers():
            return location.staging_dir()
        return None

    def staging_dirs(self, size: int | None = None) -> Iterator[Path]:
        for location in self._writers():
            yield from location.staging_dirs(size)

    # ------------------------------------------------------------------ reading
    def read(self, key: str) -> AbstractContextManager[ReadValue]:
        return self._read(key, verified=False)

    def read_verified(self, key: str) -> AbstractContextManager[ReadValue]:
        return self._read(key, verified=True)

    @contextmanager
    def _read(self, key: str, *, verified: bool, start: int = 0) -> Iterator[ReadValue]:
        """Read from the first level (from ``start``) that holds ``key``, copying it up.

        A copy that fails verification is never deleted: the search goes on, and a good copy
        found below replaces it atomically. With no good copy anywhere the corruption is
        raised and every copy stays where it is, for a person (or ``fsck``) to look at.
        """
        members = [level.location for level in self.levels]
        bad: list[Location] = []
        with ExitStack() as stack:
            found = first_hit(stack, members, key, verified=verified, start=start,
                              on_corrupt=lambda _index, location: bad.append(location),
                              skip=self._breakers.skip, on_unavailable=self._unavailable)
            if isinstance(found, tuple):
                index, value = found
                yield value if index == 0 else self._replicate(key, value, index, stack, bad)
                return
        if found is not None:
            raise found
        raise self._not_found(key)

    def _replicate(self, key: str, value: ReadValue, index: int, stack: ExitStack,
                   bad: Sequence[Location] = ()) -> ReadValue:
        """Copy a value found at level ``index`` into the levels above that take copies, and
        put it in place of the damaged copies (``bad``) met on the way down.

        Returns the value to hand out: a local copy if one was made (zero-copy reads
        from then on), else the original value or its spooled file.
        """
        # No contains() check: these levels were just asked and missed, and writes are
        # create-only (a concurrent copy makes write() a no-op), so it only cost a round trip.
        targets = [level.location for level in self.levels[:index]
                   if level.replicate and level.location.writable and level.location not in bad
                   and not self._breakers.skip(level.location)]
        repairs = [location for location in bad if location.writable]
        if not targets and not repairs:
            return value
        staging = next((t.staging_dir() for t in (*targets, *repairs) if t.staging_dir() is not None), None)
        blob = stack.enter_context(as_blob(value, staging))
        for location in repairs:
            try:
                location.repair(key, blob)
            except StorageError as e:  # the good copy is still handed out; fsck can repair later
                warnings.warn(f"could not repair the damaged copy of {key[:12]} in {location.url}: {e}",
                              LakeletWarning, stacklevel=4)
        for target in targets:
            self._guard(target, lambda t=target: t.accepts(blob.size) and t.write(key, blob), False)
        if isinstance(value, Path):
            return value
        for target in (*targets, *repairs):  # a local copy now exists: hand out a path to it
            if target.staging_dir() is not None and self._guard(target, lambda t=target: t.contains(key), False):
                return cast("Path | BinaryIO", stack.enter_context(target.read(key)))
        return stack.enter_context(blob.open())

    def repair(self, key: str, blob: Blob) -> bool:
        """Repair every writable level whose copy of ``key`` does not verify."""
        repaired = False
        for level in self.levels:
            location = level.location
            if location.writable and location.contains(key) and not verifies(location, key):
                repaired = location.repair(key, blob) or repaired
        return repaired

    def read_bytes(self, key: str) -> bytes:
        # A hit in the first level needs none of read()'s machinery (no copy-on-read to do).
        first = self.levels[0].location
        try:
            found = self._guard(first, lambda: first.read_bytes(key), None)
            if found is not None:
                return found  # type: ignore[no-any-return]
        except StorageKeyNotFound:
            pass  # not in the first level: search the others, copying up
        with self._read(key, verified=False, start=1) as value:
            return value.read_bytes() if isinstance(value, Path) else value.read()

    def contains(self, key: str) -> bool:
        return any(self._guard(level.location, lambda lo=level.location: lo.contains(key), False)
                   for level in self.levels)

    def touch(self, key: str) -> bool:
        touched = False
        for level in self.levels:
            touched = self._guard(level.location, lambda lo=level.location: lo.touch(key), False) or touched
        return touched

    def info(self, key: str) -> EntryInfo:
        for level in self.levels:
            try:
                found = self._guard(level.location, lambda lo=level.location: lo.info(key), None)
            except StorageKeyNotFound:
                continue
            if found is not None:
                return found  # type: ignore[no-any-return]
        raise self._not_found(key)

    # ------------------------------------------------------------------ writing
    def write(self, key: str, blob) -> bool:  # type: ignore[no-untyped-def]
        """Store in each accepting writable level down to the first durable one that takes it.

        False when no level took the value, or when durable levels exist and none took it
        (a copy only in process memory is not a stored value).
        """
        stored = False
        need_durable = self._durable
        size = blob.size
        for location, durable in self._write_plan:
            # write() declines by itself when there is no room; the pre-check only spares
            # big values a copy that would be refused
            if durable:
                took = (size < _PRECHECK_FROM or location.accepts(size)) and location.write(key, blob)
            else:  # a cache tier: skipped while it is not answering (see _failopen)
                took = self._guard(
                    location, lambda lo=location: (size < _PRECHECK_FROM or lo.accepts(size)) and lo.write(key, blob),
                    False,
                )
            if took:
                stored = True
                if durable or not need_durable:
                    return True
        return stored and not need_durable

    def accepts(self, size: int) -> bool:
        return any(location.accepts(size) for location in self._writers())

    def delete(self, key: str) -> bool:
        """Remove the key from every level that can delete (caches included, so it cannot reappear)."""
        self._require_writable(key)
        deleted = False
        for level in self.levels:
            if level.location.writable:
                deleted = level.location.delete(key) or deleted
        return deleted

    # ------------------------------------------------------------------ records
    def _record_targets(self) -> list[Location]:
        """Writable levels down to the first durable one (or all of them, if none is durable)."""
        targets = []
        for location in self._writers():
            targets.append(location)
            if location.durable:
                break
        return targets

    def _missed(self, location: Location, name: str) -> None:
        """``location`` (a cache tier that is not answering) kept an outdated copy of record ``name``."""
        with self._unsynced_lock:
            self._unsynced.setdefault(id(location), set()).add(name)

    def _outdated(self, location: Location, name: str) -> bool:
        """Whether ``location`` may hold an outdated copy of ``name``; tries to drop that copy first.

        A record replaced while a cache tier was down is still the old one there; once the tier
        answers again its copy is deleted before the tier is read for that name again.
        """
        with self._unsynced_lock:
            pending = self._unsynced.get(id(location))
            if not pending or name not in pending:
                return False
        if self._guard(location, lambda: location.delete_record(name) or True, False):
            with self._unsynced_lock:
                pending.discard(name)
        return True

    def read_record(self, name: str) -> bytes:
        for index, level in enumerate(self.levels):
            if self._outdated(level.location, name):
                continue  # its copy was outdated (now deleted, or the tier is still down): read below
            try:
                data = self._guard(level.location, lambda lo=level.location: lo.read_record(name), None)
            except StorageKeyNotFound:
                continue
            if data is None:  # a cache tier that is not answering
                continue
            # Copy-on-read, create-only, and only into levels a replace also writes: a replace *deletes* the
            # record from cache-only levels, so a copy placed there by a read that raced the replace would
            # shadow the new record for good (a stale cache index entry).
            targets = self._record_targets()
            for upper in self.levels[:index]:
                if upper.replicate and upper.location in targets:
                    self._guard(upper.location, lambda lo=upper.location, d=data: lo.write_record(name, d), False)
            return cast(bytes, data)
        raise StorageKeyNotFound("no such record", location=self, key=name)

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        targets = self._record_targets()
        if not targets:
            raise ReadOnlyLocation("no level of this stack accepts writes", location=self, key=name)
        authority = targets[-1]
        below = [lv.location for lv in self.levels[[lv.location for lv in self.levels].index(authority) + 1 :]]
        if not replace and any(_has_record(location, name) for location in below):
            return False  # create-only: a lower level (an older lake being migrated) holds it
        if not authority.write_record(name, data, replace=replace):
            return False
        for location in targets[:-1]:  # cache copies above the durable level
            stored = self._guard(location, lambda lo=location: lo.write_record(name, data, replace=True), None)
            if stored is None and replace:
                self._missed(location, name)
        if replace:  # a stale copy in a cache-only level would shadow the new record
            for level in self.levels:
                location = level.location
                stays = not location.writable or location in targets or location in below
                if stays:
                    continue
                if self._guard(location, lambda lo=location: lo.delete_record(name) or True, None) is None:
                    self._missed(location, name)
        return True

    def delete_record(self, name: str) -> bool:
        self._require_writable(name)
        deleted = False
        for level in self.levels:
            location = level.location
            if location.writable:
                done = self._guard(location, lambda lo=location: lo.delete_record(name), None)
                if done is None:
                    self._missed(location, name)
                deleted = bool(done) or deleted
        return deleted

    def list_records(self, prefix: str = "") -> Iterator[str]:
        seen: set[str] = set()
        for level in self.levels:
            for name in level.location.list_records(prefix):
                if name not in seen:
                    seen.add(name)
                    yield name

    # ------------------------------------------------------------------ listing
    def keys(self) -> Iterator[str]:
        seen: set[str] = set()
        for level in self.levels:
            if not level.location.listable:
                continue
            for key in level.location.keys():
                if key not in seen:
                    seen.add(key)
                    yield key

    def entries(self) -> Iterator[EntryInfo]:
        seen: set[str] = set()
        for level in self.levels:
            if not level.location.listable:
                continue
            for entry in level.location.entries():
                if entry.key not in seen:
                    seen.add(entry.key)
                    yield entry

    def usage(self) -> Usage:
        total = count = 0
        for entry in self.entries():
            total += entry.size
            count += 1
        return Usage(total, count, None, {"levels": [level.location.usage() for level in self.levels]})


def _has_record(location: Location, name: str) -> bool:
    try:
        location.read_record(name)
    except StorageKeyNotFound:
        return False
    return True

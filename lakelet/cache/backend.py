"""What the function cache and the cell cache share: a storage, its entries, the journal.

Reading and writing the cache never breaks the computation it wraps: a storage
failure, a corrupt or untrusted entry, or a value that no longer unpickles is
reported as a :class:`~lakelet.cache.errors.CacheWarning` (and counted), and the
code simply runs. Hashing failures are different: they raise, because a key
that cannot be computed must never be guessed.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import get_config
from ..errors import StorageError
from ..hashstore import HashKeyStorage, open_lake
from ..locations.abc import Location
from . import codecs, persist
from .errors import CacheWarning, UnstorableValue, UntrustedEntry
from .index import Entry, EntryStore
from .journal import Journal, Record
from .lease import RedisLease, redis_levels
from .lock import EntryLock

StorageLike = HashKeyStorage | Location | str | os.PathLike[str] | dict[str, Any] | list[Any]

#: what a failed decode may raise (a class that moved, a truncated blob, a missing module...)
DECODE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    AttributeError,
    ImportError,
    ValueError,
    TypeError,
    IndexError,
    KeyError,
    OSError,
)


def open_storage(storage: StorageLike | None) -> HashKeyStorage:
    """A HashKeyStorage for a storage, location, path, URL or spec; None means the configured lake."""
    if isinstance(storage, HashKeyStorage):
        return storage
    if storage is None:
        return open_lake()
    return HashKeyStorage(storage)


#: how often counted cache hits are written to the journal at most
_HIT_FLUSH_SECONDS = 1.0


class CacheStore:
    """Entries of one storage, with warnings instead of failures on the read/write paths."""

    def __init__(self, storage: StorageLike | None) -> None:
        self._spec = storage
        self._storage: HashKeyStorage | None = storage if isinstance(storage, HashKeyStorage) else None
        self._lake: Any = None  # the lake spec _storage was opened from, when no storage was given
        self._entries: EntryStore | None = None
        self._origin: tuple[Any, str] = (None, "")
        self._leases: dict[str, tuple[RedisLease, Any]] = {}  # address -> (our cross-machine lease, its level)
        self.errors = 0
        self._hits: dict[tuple[str, str, str], int] = {}
        self._hits_flushed = time.monotonic()
        atexit.register(self.flush_hits)

    @property
    def storage(self) -> HashKeyStorage:
        if self._spec is None:  # the configured lake: follow LAKELET_HOME / config.toml when they change
            config = get_config()
            lake = config.lake_spec
            if self._storage is None or lake != self._lake:
                self._storage, self._lake = open_lake(config), lake
            return self._storage
        if self._storage is None:
            self._storage = open_storage(self._spec)
        return self._storage

    @property
    def entries(self) -> EntryStore:
        secret, storage = get_config().cache_key, self.storage
        if self._entries is None or self._entries.secret != (secret or None) or self._entries.storage is not storage:
            self._entries = EntryStore(storage, secret)
        return self._entries

    @property
    def journal(self) -> Journal:
        return Journal(get_config().home / "cache" / "journal")

    def entry_lock(self, address: str) -> EntryLock:
        """The (not yet acquired) lock that makes processes of this machine compute ``address`` once."""
        return EntryLock(Path(get_config().home) / "cache" / "locks", address)

    @contextmanager
    def lock(self, address: str) -> Iterator[None]:
        """Compute ``address`` once: per machine (a lock file), across machines (a Redis lease, if any)."""
        with self.entry_lock(address), self.lease(address):
            yield

    @contextmanager
    def lease(self, address: str) -> Iterator[RedisLease | None]:
        """Hold the lake's cross-machine lease on ``address`` (see :mod:`lakelet.cache.lease`).

        Only a lake with a Redis level has one. A Redis that fails is reported and
        the body runs without the lease: at worst an entry is computed twice.
        """
        try:
            redis = redis_levels(self.storage.location)
        except StorageError:
            redis = []
        if not redis:
            yield None
            return
        ttl = get_config().section("cache").get("lease_ttl", 30)
        level = redis[0]
        lease = RedisLease(level.client, level.prefix, address, ttl=ttl)
        try:
            with level.errors():
                lease.acquire()
        except StorageError as e:
            self.warn(f"cannot take the cache lease on {address[:12]} in {level.url}; computing without it: {e}")
            yield None
            return
        self._leases[address] = (lease, level)
        try:
            yield lease
        finally:
            self._leases.pop(address, None)
            try:
                with level.errors():
                    lease.release()
            except StorageError as e:
                self.warn(f"could not release the cache lease on {address[:12]} (it expires by itself): {e}")

    # ------------------------------------------------------------------ reading
    def load(self, address: str, kind: str | None = None) -> tuple[Entry | None, dict[str, Any] | None, bool]:
        """(entry, decoded values, stale). ``stale`` means: an entry is there but unusable, replace it.

        ``kind`` ("function" or "cell") saves looking for the entry under the other kind.
        """
        writer = persist.current_writer()
        if writer is not None:
            writer.wait(address)  # our own background write of this entry goes first
        entries = self.entries
        try:
            entry = entries.get(address, kind)
        except UntrustedEntry as e:
            self.warn(f"ignoring an untrusted cache entry {address[:12]}: {e}")
            return None, None, True
        except StorageError as e:
            self.warn(f"cannot read cache entry {address[:12]}: {e}")
            return None, None, False
        if entry is None:
            return None, None, False
        values = self.decode(entry, address)
        return entry, values, values is None

    def decode(self, entry: Entry, address: str = "") -> dict[str, Any] | None:
        """The values of an entry, or None (with a warning) if they cannot be restored."""
        entries = self.entries
        try:
            return {name: codecs.decode(d, entries.storage, verify=entries.signed) for name, d in entry.values.items()}
        except StorageError as e:
            # a value was evicted or is corrupt: the caller recomputes and rewrites the entry
            self.warn(f"cache entry {address[:12]} of {entry.name} is incomplete: {e}")
        except DECODE_ERRORS as e:
            self.warn(f"cannot restore cache entry {address[:12]} of {entry.name}: {type(e).__name__}: {e}")
        return None

    def exists(self, address: str, kind: str | None = None) -> bool:
        try:
            return self.entries.exists(address, kind)
        except StorageError as e:
            self.warn(f"cannot reach the cache storage: {e}")
            return False

    def _still_leased(self, address: str) -> bool:
        """False only when we took a lease on ``address`` and Redis says it is no longer ours."""
        held = self._leases.get(address)
        if held is None:
            return True
        lease, level = held
        try:
            with level.errors():
                return lease.held()
        except StorageError as e:
            self.warn(f"cannot check the cache lease on {address[:12]}; publishing anyway: {e}")
            return True

    # ------------------------------------------------------------------ writing
    def encode(self, value: Any) -> codecs.Descriptor:
        """Store one value; raises :class:`UnstorableValue` or a storage error."""
        return codecs.encode(value, self.entries.storage)

    def prepare(self, value: Any, *, max_bytes: int | None = None) -> codecs.Prepared | None:
        """Snapshot one value in memory (see :func:`codecs.prepare`); raises :class:`UnstorableValue`."""
        return codecs.prepare(value, max_bytes=max_bytes)

    def save(self, address: str, entry: Entry, *, replace: bool) -> bool:
        """Write ``entry``; False (with a warning) if the storage refused it."""
        entry.extra.setdefault("origin", self.origin)
        if not self._still_leased(address):
            # fencing: our lease expired (we were paused or cut off) and another process took over
            self.warn(f"the cache lease on {address[:12]} of {entry.name} expired while computing; not publishing")
            return False
        try:
            self.entries.put(address, entry, replace=replace)
        except StorageError as e:
            self.warn(f"could not store the cache entry of {entry.name}: {e}")
            return False
        self.record(entry, address, "store")
        return True

    def persister(self, address: str, entry: Entry, prepared: dict[str, codecs.Prepared], *, replace: bool) -> Any:
        """A callable that stores ``prepared`` values, then publishes ``entry`` (create-only) and journals it.

        Everything that depends on the configuration (signing key, journal folder)
        is captured now, so the callable may run later in another thread. It
        raises on failure; the entry is published last, so a failure or a crash
        midway leaves no entry.
        """
        entry.extra.setdefault("origin", self.origin)
        entries, journal = self.entries, self.journal

        def run() -> None:
            entry.values.update({name: p.store(entries.storage) for name, p in prepared.items()})
            entries.put(address, entry, replace=replace)
            try:
                journal.add(_record(entry, address, "store"))
            except OSError as e:
                raise OSError(f"the entry is stored, but the cache journal could not be updated: {e}") from e

        return run

    @property
    def origin(self) -> str:
        """Who wrote an entry: this machine's journal (host and LAKELET_HOME)."""
        home = get_config().home
        if self._origin[0] != home:  # computed once per home: it is checked on every hit
            place = f"{socket.gethostname()}\x00{home}"
            self._origin = (home, hashlib.sha256(place.encode("utf-8", "surrogatepass")).hexdigest()[:16])
        return self._origin[1]

    def count_hit(self, kind: str, name: str, address: str) -> None:
        """Count a hit for the sidebar's hit counts and time saved (cheap: no I/O on the hot path).

        Counts gather in memory and go to the journal's ``.hits`` file at most once a
        second and when the process exits.
        """
        key = (kind, name, address)
        self._hits[key] = self._hits.get(key, 0) + 1
        if time.monotonic() - self._hits_flushed >= _HIT_FLUSH_SECONDS:
            self.flush_hits()

    def flush_hits(self) -> None:
        """Write the counted hits to the journal (best effort: a failure warns once and drops them)."""
        pending, self._hits = self._hits, {}
        self._hits_flushed = time.monotonic()
        if not pending:
            return
        journal = self.journal
        try:
            for (kind, name, address), n in pending.items():
                journal.add_hit(kind, name, address, n)
        except OSError as e:
            self.warn(f"could not count cache hits in the journal: {e}")

    def record_hit(self, entry: Entry, address: str) -> None:
        """Count the hit and journal a hit on an entry written elsewhere (our own stores are journaled already)."""
        self.count_hit(entry.kind, entry.name, address)
        if entry.extra.get("origin") != self.origin:
            self.record(entry, address, "hit")

    def record(self, entry: Entry, address: str, event: str) -> None:
        """Note the use of an entry in the local journal (best effort)."""
        try:
            self.journal.add(_record(entry, address, event))
        except OSError as e:
            self.warn(f"could not update the cache journal: {e}")

    def remove(self, kind: str, name: str) -> int:
        """Delete every entry of ``name`` this machine knows of; returns how many existed."""
        writer = persist.current_writer()
        if writer is not None:
            writer.wait()  # else a pending write would bring an entry back after the clear
        removed = 0
        for address in dict.fromkeys(r.address for r in self.journal.records(kind, name)):
            try:
                removed += self.entries.remove(address)
            except StorageError as e:
                self.warn(f"could not delete cache entry {address[:12]}: {e}")
        self.journal.forget(kind, name)
        return removed

    def warn(self, message: str) -> None:
        self.errors += 1
        warnings.warn(message, CacheWarning, stacklevel=4)

    def count_error(self, message: str) -> None:
        """Count a failure reported elsewhere (a background write warns when it is flushed)."""
        self.errors += 1


def _record(entry: Entry, address: str, event: str) -> Record:
    return Record(
        name=entry.name,
        kind=entry.kind,
        address=address,
        event=event,
        time=time.time() if event == "hit" else entry.created,
        size=entry.size,
        duration=entry.duration,
        components=entry.components,
        extra=entry.extra,
    )


__all__ = ["CacheStore", "StorageLike", "UnstorableValue", "open_storage"]

"""Garbage collection of volume blobs: mark and sweep over an environment's blob store.

Volume bytes live in one content-addressed blob store per environment, shared
by all its volumes (equal files are stored once). Deleting a volume, removing
or overwriting files frees nothing by itself; :meth:`Volume.objects.gc
<VolumeObjects.gc>` does::

    report = Volume.objects.gc()                 # or: lakelet volume gc
    report.blobs_deleted, report.bytes_freed

1. **List** every blob with its age (file mtime on disk, ``LastModified`` on S3).
2. **Mark** every digest any volume manifest of the environment references.
   Small files are packed many to a blob and referenced by offset: a pack is
   live while any file points into it, and partially dead packs are kept whole
   (no repacking).
3. **Sweep** the unmarked blobs older than ``grace_period`` seconds that no
   writer stored or copied within ``grace_period`` either (the ``recent`` stamps
   of :mod:`.blob_guard`). They are *condemned* first and then *claimed* in
   batches, each claim atomic against writers, so a concurrent upload that
   re-uses one of them (a dedup hit) rescues it instead of losing it; a writer
   whose dedup hit raced the deletion itself notices (one existence check while
   a collection is or was recently active) and stores its bytes again.

What is safe: with the default grace period (an hour), collection may run at
any time next to any number of writers, as long as an upload commits within
``grace_period`` of storing its blobs. ``grace_period=0`` is only safe when no
writer is active in the environment: an upload that stored its blobs before the
collection started and commits after the mark would lose them. Readers holding a
manifest entry that was removed before the collection may find its blob gone
(:class:`~lakelet.errors.StorageKeyNotFound`). Blobs whose age the backend cannot
tell are kept (unless ``grace_period=0``).

The commit log (paths per manifest version, used by conflict detection and
``reload``) is not pruned: a working copy may be based on any old version, and
the log holds paths only, so it is small next to the blobs. It is removed with
its volume.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..config import concurrency
from ..errors import InvalidArgument, LakeletError
from ..reports import GCReport
from .aio import twin
from .blob_guard import BlobGuard, open_blob_guard
from .blobs import open_blob_storage
from .catalog import open_catalog
from .env import Environment, get_environment
from .objects import Objects
from .volume_meta import open_volume_meta

if TYPE_CHECKING:
    from ..hashstore import HashKeyStorage

DEFAULT_GRACE_PERIOD = 3600.0
_BATCH = 256


class CollectionRunning(LakeletError):
    """Another garbage collection of the same environment is running."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """The outcome of listing and marking: what a sweep would delete."""

    started: float
    cutoff: float
    candidates: dict[str, int]  # digest -> size
    listed: int
    live: int


class VolumeCollector:
    """One collection over an environment, in steps (:meth:`plan`, :meth:`condemn`,
    :meth:`sweep`) so tests can interleave writers; :meth:`run` does all of them."""

    def __init__(self, env: Environment, grace_period: float = DEFAULT_GRACE_PERIOD) -> None:
        if isinstance(grace_period, bool) or not isinstance(grace_period, int | float) or not grace_period >= 0:
            raise InvalidArgument(f"grace_period must be a non-negative number of seconds, got {grace_period!r}")
        self.env = env
        self.grace_period = float(grace_period)
        self.storage: HashKeyStorage = open_blob_storage(env)
        self.guard: BlobGuard = open_blob_guard(env)
        self._token: str | None = None

    # ------------------------------------------------------------------ steps
    def plan(self) -> Plan:
        """List blobs, then mark (in that order: a blob committed after the listing is not a candidate)."""
        started = time.time()
        cutoff = started - self.grace_period
        old: dict[str, int] = {}
        listed = 0
        for entry in self.storage.location.entries():
            listed += 1
            age_known = entry.last_access is not None
            if (age_known and entry.last_access < cutoff) or (not age_known and self.grace_period == 0):  # type: ignore[operator]
                old[entry.key] = entry.size
        live = set(self._referenced())
        young = self.guard.recent(cutoff) if self.grace_period > 0 else set()
        candidates = {d: size for d, size in old.items() if d not in live and d not in young}
        return Plan(started, cutoff, candidates, listed, len(live))

    def _referenced(self) -> Iterator[str]:
        for record in open_catalog(self.env).list("volume"):
            meta = open_volume_meta(self.env, record.id)
            try:
                _, entries = meta.snapshot()
            finally:
                meta.close()
            for stored in entries.values():
                yield stored.digest

    def condemn(self, plan: Plan) -> None:
        """Take the collector lock and publish the candidates (writers may rescue them from now on)."""
        token = self.guard.acquire()
        if token is None:
            raise CollectionRunning(f"another volume garbage collection is running in {self.env.describe()}")
        self._token = token
        self.guard.condemn(plan.candidates)

    def sweep(self, plan: Plan) -> tuple[int, int]:
        """Claim and delete the condemned blobs in batches; (blobs deleted, bytes freed)."""
        if self._token is None:
            raise InvalidArgument("condemn() the plan before sweeping it")
        # With a grace period, a writer stamp newer than the cutoff protects its blob; with
        # none, only the rescue does (see the module docstring for why that needs idle writers).
        since = plan.cutoff if self.grace_period > 0 else plan.started
        digests = list(plan.candidates)
        deleted = freed = 0
        with ThreadPoolExecutor(max(1, min(concurrency(), 16)), thread_name_prefix="lakelet-gc") as pool:
            for start in range(0, len(digests), _BATCH):
                if not self.guard.refresh(self._token):
                    raise CollectionRunning("the collector lock expired and was taken by another collection")
                claimed = self.guard.claim(digests[start : start + _BATCH], since)
                try:
                    removed = list(pool.map(self.storage.remove, claimed))
                finally:
                    self.guard.done(claimed)
                for digest, was_there in zip(claimed, removed, strict=True):
                    if was_there:
                        deleted += 1
                        freed += plan.candidates[digest]
        return deleted, freed

    def finish(self) -> None:
        """Release the lock; drop writer stamps too old to protect anything."""
        if self._token is not None:
            self.guard.finish(prune_before=time.time() - max(self.grace_period, DEFAULT_GRACE_PERIOD))
            self.guard.release(self._token)
            self._token = None

    def close(self) -> None:
        self.finish()
        self.guard.close()
        self.storage.close()

    # ------------------------------------------------------------------ all at once
    def run(self, dry_run: bool = False) -> GCReport:
        plan = self.plan()
        if dry_run:
            freed = sum(plan.candidates.values())
            kept = plan.listed - len(plan.candidates)
            return GCReport(len(plan.candidates), freed, kept, dry_run=True, live=plan.live)
        try:
            self.condemn(plan)
            deleted, freed = self.sweep(plan)
        finally:
            self.finish()
        self.storage.gc()  # half-written temporaries of crashed writers (older than an hour)
        return GCReport(deleted, freed, plan.listed - deleted, live=plan.live)


def collect_volume_garbage(
    environment_name: str | None = None, *, grace_period: float = DEFAULT_GRACE_PERIOD, dry_run: bool = False
) -> GCReport:
    """Delete the volume blobs of an environment that no volume references (see the module docstring)."""
    collector = VolumeCollector(get_environment(environment_name), grace_period)
    try:
        return collector.run(dry_run)
    finally:
        collector.close()


class VolumeObjects(Objects[Any]):
    """``Volume.objects``: list, create, delete, and garbage-collect volume bytes."""

    @twin
    def gc(
        self,
        environment_name: str | None = None,
        *,
        grace_period: float = DEFAULT_GRACE_PERIOD,
        dry_run: bool = False,
    ) -> GCReport:
        """Free the bytes no volume of the environment references any more.

        Blobs younger than ``grace_period`` seconds, or stored by a writer within
        it, are kept, so uploads that have not committed yet are safe. Use
        ``grace_period=0`` only while no writer is active. Packs of small files are
        kept whole while any file points into them. ``dry_run`` reports what would
        be deleted and deletes nothing.
        """
        return collect_volume_garbage(environment_name, grace_period=grace_period, dry_run=dry_run)


__all__ = ["CollectionRunning", "GCReport", "VolumeCollector", "VolumeObjects", "collect_volume_garbage"]

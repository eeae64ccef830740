"""Garbage collection of a dataset's storage: mark and sweep with a grace period.

Files that no branch or tag reaches pile up: column files and manifests of a
commit that lost the race for the branch head (:class:`CommitConflict`) or
whose writer was killed, media of rolled-back appends, everything only a
deleted branch used. :func:`collect` (``ds.gc()``) removes them:

1. **Clock.** "Now" is read from the storage's own clock (the modification
   time of a probe object), so a skewed client clock cannot shorten the grace
   period. It is read *before* the refs.
2. **Mark.** Every branch head and tag is a root; every version in their
   history (all parents) is live, with every column file its pieces name and
   every media key in its media columns (and media column defaults). A
   reachable manifest or media column that cannot be read aborts the gc:
   it never deletes on a partial view.
3. **Sweep.** Every file under ``data/``, ``versions/``, ``media/`` and
   ``indexes/`` that is not live and was last modified before ``now -
   grace_period`` is deleted. A search index is live when it answers for a
   branch head or a tag: an index of an older version goes (a query there runs
   exact, or builds it again with ``create_index``), so re-indexing after each
   append does not pile up one index per commit.

Why this is safe for a concurrent writer: a commit writes its column files and
manifest, then moves the head. If the head moved before the mark read the
refs, its files are live. If not, its files were written after ``now -
(duration of the commit)``, so they are younger than the grace period unless
the commit took longer than that. Media that an append found already stored
(deduplicated, possibly an old orphan) are *freshened* by the commit before it
publishes anything (see :mod:`lakelet.datasets.media`), and a commit whose
blob vanished fails instead of publishing a dangling reference. Readers are
safe because a version reachable now stays reachable (history is append-only)
unless its branch is deleted.

Not safe: a commit (or an uncommitted media append held open) that lasts
longer than the grace period, a checkout of a *commit id* that no branch or
tag reaches, and ``branch(name, version=<unreachable commit id>)`` racing a gc.
The default grace period (an hour) is far beyond any normal commit; use
``grace_period=0`` only when no one else writes to the dataset.

History is never rewritten: manifests are content-addressed and name their
parents, so old versions of a live branch are never dropped (delete a branch,
or copy the dataset, to shed history).
"""

from __future__ import annotations

import errno
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._hashing import is_key
from ..errors import InvalidArgument, StorageKeyNotFound
from ..reports import GCReport
from . import manifest as M
from . import refs
from .errors import VersionNotFound
from .fragments import ColumnLoader
from .indexes import digest_of, index_stem
from .media import key_of
from .storage_io import ResourceMeta, Writer, parallel_map

if TYPE_CHECKING:
    from .dataset import Dataset

SWEPT = ("data", "versions", "media", "indexes")


@dataclass
class Live:
    """Everything reachable from the refs."""

    versions: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    media: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)  # "<column id>/<fingerprint>" answering for a root


def collect(ds: Dataset, *, grace_period: float = 3600, dry_run: bool = False) -> GCReport:
    """Delete unreachable files of ``ds`` older than ``grace_period`` seconds (see the module doc)."""
    if isinstance(grace_period, bool) or not isinstance(grace_period, int | float) or not grace_period >= 0:
        raise InvalidArgument(f"grace_period must be a number of seconds >= 0, got {grace_period!r}")
    if not isinstance(dry_run, bool):
        raise InvalidArgument(f"dry_run must be True or False, got {dry_run!r}")
    if not dry_run:
        ds.checked_out.require_not_read_only()
    writer = ds.checked_out.writer
    cutoff = storage_now(writer, probe=not ds.checked_out.read_only) - grace_period  # before the mark: see module doc
    live = mark(writer)
    garbage: list[ResourceMeta] = []
    young: list[str] = []
    kept = 0
    for meta in (m for folder in SWEPT for m in writer.walk(folder)):
        if is_live(meta.path, live):
            kept += 1
        elif meta.modified is None or meta.modified > cutoff:
            young.append(meta.path)  # an unknown age counts as young: never guess towards deleting
        else:
            garbage.append(meta)
    freed = sum(m.size for m in garbage) if dry_run else _delete(writer, garbage)
    removed = tuple(m.path for m in garbage)
    return GCReport(
        len(removed), freed, kept, dry_run, removed_names=removed, young=tuple(young), versions=len(live.versions)
    )


def storage_now(writer: Writer, *, probe: bool = True) -> float:
    """The current time on the storage's clock (the local clock for read-only handles and local folders)."""
    if not probe or writer.kind == "local":
        return time.time()
    path = f".tmp-gc-clock-{uuid.uuid4().hex}"  # '.tmp-' names are skipped by copy()
    writer.set(path, b"")
    try:
        stamp = writer.meta(path).modified
    finally:
        writer.remove(path)
    return time.time() if stamp is None else stamp


def mark(writer: Writer) -> Live:
    """Versions, column files and media keys reachable from every branch head and tag."""
    live = Live()
    roots = set(refs.tags(writer).values())
    for branch in refs.branches(writer):
        try:
            roots.add(refs.head(writer, branch)[1])
        except (VersionNotFound, StorageKeyNotFound):
            continue  # deleted while we looked: its history is garbage now
    media_files: set[str] = set()
    frontier, at_roots = sorted(roots), True
    while frontier:
        live.versions.update(frontier)
        manifests = parallel_map(lambda v: M.load(writer, v), frontier)
        if at_roots:  # indexes are kept for the branch heads and tags, not for history
            at_roots = False
            for manifest in manifests:
                for column in manifest.schema:
                    digest = digest_of(column.id, manifest.pieces)
                    if digest is not None:
                        live.indexes.add(f"{column.id}/{digest}")
        parents: set[str] = set()
        for manifest in manifests:
            media_ids = {c.id for c in manifest.schema if c.type.is_media}
            live.media.update(c.default for c in manifest.schema if c.type.is_media and isinstance(c.default, str))
            for piece in manifest.pieces:
                for column_id, path in piece.columns.items():
                    live.files.add(path)  # type: ignore[arg-type]  # committed pieces hold paths
                    if column_id in media_ids:
                        media_files.add(path)  # type: ignore[arg-type]
            parents.update(manifest.parents)
        frontier = sorted(parents - live.versions)
    live.media.update(_media_keys(writer, media_files))
    live.media = {k for k in live.media if is_key(k)}
    return live


def _media_keys(writer: Writer, paths: Iterable[str]) -> set[str]:
    loader = ColumnLoader(writer, max_bytes=0)  # read each file once, keep nothing
    keys: set[str] = set()
    for array in parallel_map(loader.load, sorted(paths)):
        keys.update(v for v in array.to_pylist() if isinstance(v, str))
    return keys


def is_live(path: str, live: Live) -> bool:
    """Whether the file at ``path`` (relative to the dataset) must be kept whatever its age."""
    folder = path.split("/", 1)[0]
    if folder == "data":
        return path in live.files
    if folder == "versions":
        name = path[len("versions/") :]
        return name.endswith(".json") and name[: -len(".json")] in live.versions
    if folder == "indexes":
        stem = index_stem(path)
        return stem is not None and stem in live.indexes
    key = key_of(path)
    if key is not None:
        return key in live.media
    # media/.tmp/...: a local blob store's temporaries; anything else there (its layout marker) is kept
    return not path.startswith("media/.tmp/")


def _delete(writer: Writer, garbage: list[ResourceMeta]) -> int:
    def _one(meta: ResourceMeta) -> int:
        try:
            writer.remove(meta.path)
        except StorageKeyNotFound:
            return 0  # gone already (another gc)
        return meta.size

    freed = sum(parallel_map(_one, garbage))
    if writer.kind == "local":
        _prune_piece_folders(writer, {m.path.rsplit("/", 1)[0] for m in garbage if m.path.startswith("data/")})
    return freed


def _prune_piece_folders(writer: Writer, folders: set[str]) -> None:
    """Remove the piece folders gc emptied (piece ids are never reused, so no writer is filling them)."""
    for folder in folders:
        local = writer.local_path(folder)
        if local is None:
            continue
        try:
            os.rmdir(local)
        except FileNotFoundError:
            continue
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            # not empty: something young is left in it


__all__ = ["GCReport", "collect"]

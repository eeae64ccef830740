"""Content-addressed media of a dataset: the core's HashKeyStorage over the dataset's own folder.

Media values (Image, Video, Audio, Binary) are written once under their sha256
in ``<dataset>/media/``, whatever backend the dataset lives on, so equal bytes
are stored once across rows, versions and branches; columns hold the keys.

Deduplication and garbage collection meet here: an append whose bytes are
already stored (perhaps by a commit that later lost a race, so nothing
references them) writes nothing, and :meth:`Dataset.gc` could delete that old,
unreferenced blob before the append is committed. So a dataset handle tracks
the keys it wrote (:class:`TrackedBlobs`) and, when it commits, *freshens*
them (:func:`freshen`: a new modification time) before publishing anything;
gc never deletes a file younger than its grace period. Like ``git gc``'s
prune expiry, this is safe as long as a commit takes less than the grace period.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from .._hashing import is_key_folder, is_key_name, key_path, validate_key
from ..errors import StorageKeyNotFound
from ..hashstore import HashKeyStorage
from ..locations._records import record_bytes, validate_record_name, validate_record_prefix
from ..locations.abc import Blob, EntryInfo, Location, ReadValue, check_repair
from ..registry import open_location
from .errors import DatasetError
from .storage_io import Writer, parallel_map, translated

#: a remote blob modified less than this many seconds ago is fresh enough to commit without a re-put
FRESH_SECONDS = 300.0
_RECORDS = ".records"  # named records beside the media, as on a Disk


class MediaLocation(Location):
    """A dataset's ``media/`` folder as a :class:`Location`, on any backend.

    Values live at ``ab/<62 hex>``, the storage core's one blob layout (Disk's,
    and every remote location's), so a dataset copied between backends file by
    file keeps every media cell readable. Remote datasets written before this
    layout stored ``ab/<64 hex>`` (the whole key as the name): those are still
    read, listed and deleted, never written. Locally the values are a
    :class:`~lakelet.locations.disk.Disk` (zero-copy reads, linked writes).
    """

    kind = "dataset-media"
    #: the dataset's own storage: as durable as the backend the dataset lives on
    durable = True

    def __init__(self, media: Writer) -> None:
        self.media = media
        local = media.local_path("")
        self._disk = open_location(local) if local is not None else None

    @property
    def url(self) -> str:
        return self._disk.url if self._disk is not None else self.media.original_path.rstrip("/") + "/media"

    # ------------------------------------------------------------------ layout
    @staticmethod
    def _path(key: str) -> str:
        validate_key(key)
        return key_path(key)

    @staticmethod
    def _legacy_path(key: str) -> str:
        return f"{key[:2]}/{key}"

    def _legacy_bytes(self, key: str) -> bytes:
        try:
            return self.media.get(self._legacy_path(key))
        except StorageKeyNotFound:
            raise self._not_found(key) from None

    # ------------------------------------------------------------------ the SPI
    @contextmanager
    def read(self, key: str) -> Iterator[ReadValue]:
        with ExitStack() as stack:
            value: ReadValue
            if self._disk is not None:
                try:
                    value = stack.enter_context(self._disk.read(key))
                except StorageKeyNotFound:
                    value = io.BytesIO(self._legacy_bytes(key))
            else:
                value = io.BytesIO(self.read_bytes(key))
            yield value

    def read_bytes(self, key: str) -> bytes:
        try:
            if self._disk is not None:
                return self._disk.read_bytes(key)
            return self.media.get(self._path(key))
        except StorageKeyNotFound:
            return self._legacy_bytes(key)

    def write(self, key: str, blob: Blob) -> bool:
        if self._disk is not None:
            return self._disk.write(key, blob)
        try:
            stored: int | None = self.info(key).size  # one HEAD instead of re-uploading equal content
        except StorageKeyNotFound:
            stored = None
        if stored is None:
            self.media.create(self._path(key), blob.read_bytes())  # False: a racer stored equal bytes
        elif stored != blob.size:  # a truncated or damaged copy: the bytes being written repair it
            self.repair(key, blob)
        return True

    def repair(self, key: str, blob: Blob) -> bool:
        if self._disk is not None:
            repaired = self._disk.repair(key, blob)
        else:
            check_repair(self, key, blob)
            self.media.set(self._path(key), blob.read_bytes())  # one PUT / an atomic rename
            repaired = True
        self._remove(self._legacy_path(key))  # the good copy is in place first: never briefly missing
        return repaired

    def delete(self, key: str) -> bool:
        found = self._disk.delete(key) if self._disk is not None else self._remove(self._path(key))
        return self._remove(self._legacy_path(key)) or found

    def _remove(self, path: str) -> bool:
        try:
            self.media.remove(path)
        except StorageKeyNotFound:
            return False
        return True

    def contains(self, key: str) -> bool:
        here = self._disk.contains(key) if self._disk is not None else self.media.exists(self._path(key))
        return here or self.media.exists(self._legacy_path(key))

    def info(self, key: str) -> EntryInfo:
        for path in (self._path(key), self._legacy_path(key)):
            try:
                return EntryInfo(key, self.media.meta(path).size)
            except StorageKeyNotFound:
                continue
        raise self._not_found(key)

    def keys(self) -> Iterator[str]:
        seen: set[str] = set()
        for meta in self.media.walk():
            key = key_of(f"media/{meta.path}")
            if key is not None and key not in seen:
                seen.add(key)
                yield key

    def staging_dir(self) -> Path | None:
        return self._disk.staging_dir() if self._disk is not None else None

    # ------------------------------------------------------------------ named records (Disk's layout)
    def read_record(self, name: str) -> bytes:
        if self._disk is not None:
            return self._disk.read_record(name)
        try:
            return self.media.get(f"{_RECORDS}/{validate_record_name(name)}")
        except StorageKeyNotFound:
            raise StorageKeyNotFound("no such record", location=self, key=name) from None

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        if self._disk is not None:
            return self._disk.write_record(name, data, replace=replace)
        path, data = f"{_RECORDS}/{validate_record_name(name)}", record_bytes(data, name)
        if replace:
            self.media.set(path, data)  # one PUT / an atomic rename: never briefly missing
            return True
        return self.media.create(path, data)

    def delete_record(self, name: str) -> bool:
        if self._disk is not None:
            return self._disk.delete_record(name)
        return self._remove(f"{_RECORDS}/{validate_record_name(name)}")

    def list_records(self, prefix: str = "") -> Iterator[str]:
        if self._disk is not None:
            yield from self._disk.list_records(prefix)
            return
        validate_record_prefix(prefix)
        for meta in self.media.walk(_RECORDS):
            name = meta.path.removeprefix(f"{_RECORDS}/")
            if name.startswith(prefix) and not name.rsplit("/", 1)[-1].startswith(".tmp-"):
                yield name


class TrackedBlobs:
    """A dataset's blob store that remembers which keys this handle has written or relied on.

    Everything else is the wrapped :class:`~lakelet.hashstore.HashKeyStorage`'s.
    """

    def __init__(self, store: HashKeyStorage) -> None:
        self.store = store
        self.pending: set[str] = set()

    def write(self, value: Any) -> str:
        key = self.store.write(value)
        self.pending.add(key)
        return key

    def contains(self, key: str) -> bool:
        found = self.store.contains(key)
        if found:
            self.pending.add(key)  # a caller that asks usually goes on to reference the key
        return found

    def __contains__(self, key: object) -> bool:
        return self.contains(key)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __repr__(self) -> str:
        return f"TrackedBlobs({self.store!r}, pending={len(self.pending)})"


def blob_path(key: str) -> str:
    """Where ``key`` is stored relative to the dataset root: ``media/ab/<62 hex>`` on every backend."""
    validate_key(key)
    return f"media/{key_path(key)}"


def legacy_blob_path(key: str) -> str:
    """Where remote datasets written before the one layout stored ``key`` (still read, never written)."""
    validate_key(key)
    return f"media/{key[:2]}/{key}"


def key_of(path: str) -> str | None:
    """The media key stored at ``path`` (relative to the dataset root), or None for any other file."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "media" or not is_key_folder(parts[1]):
        return None
    name = parts[2]
    if is_key_name(name):
        return parts[1] + name
    if len(name) == 64 and name.startswith(parts[1]) and is_key_name(name[2:]):  # the legacy layout
        return name
    return None


def freshen(writer: Writer, keys: Iterable[str]) -> None:
    """Give these blobs a recent modification time so a concurrent gc keeps them; raise if one is gone."""

    def _one(key: str) -> None:
        for path in (blob_path(key), legacy_blob_path(key)):
            try:
                _freshen_one(writer, path)
                return
            except StorageKeyNotFound:
                continue
        raise DatasetError(
                f"media blob {key} that uncommitted rows reference is no longer stored (was it collected by "
                "ds.gc() while this handle held it longer than the grace period?); nothing was published. "
                "rollback() and append those rows again"
            )

    parallel_map(_one, sorted(set(keys)))


def _freshen_one(writer: Writer, path: str) -> None:
    local = writer.local_path(path)
    if local is not None:
        with translated(local):
            os.utime(local)
        return
    meta = writer.meta(path)
    if meta.modified is None or meta.modified < time.time() - FRESH_SECONDS:
        writer.set(path, writer.get(path))  # same bytes: readers see no change, the clock restarts


def media_store(writer: Writer) -> HashKeyStorage:
    """The blob store of a dataset rooted at ``writer``."""
    return HashKeyStorage(MediaLocation(writer.subdir("media")))

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
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from .._hashing import validate_key
from ..errors import StorageKeyNotFound
from ..hashstore import HashKeyStorage
from ..locations.abc import Blob, Location
from ..registry import open_location
from .errors import DatasetError
from .storage_io import Writer, parallel_map, translated

#: a remote blob modified less than this many seconds ago is fresh enough to commit without a re-put
FRESH_SECONDS = 300.0
_HEX2 = re.compile(r"[0-9a-f]{2}")
_HEX62 = re.compile(r"[0-9a-f]{62}")


class WriterLocation(Location):
    """A :class:`Location` over a dataset folder's ``Writer`` (any fsspec backend)."""

    kind = "dataset-media"

    def __init__(self, writer: Writer) -> None:
        self.writer = writer

    @property
    def url(self) -> str:
        return self.writer.path

    @staticmethod
    def _path(key: str) -> str:
        validate_key(key)
        return f"{key[:2]}/{key}"

    @contextmanager
    def read(self, key: str) -> Iterator[io.BytesIO]:
        yield io.BytesIO(self.read_bytes(key))

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.writer.get(self._path(key))
        except StorageKeyNotFound as e:
            raise self._not_found(key) from e

    def write(self, key: str, blob: Blob) -> bool:
        self.writer.create(self._path(key), blob.read_bytes())  # False: already there, same content
        return True

    def delete(self, key: str) -> bool:
        try:
            self.writer.remove(self._path(key))
        except StorageKeyNotFound:
            return False
        return True

    def contains(self, key: str) -> bool:
        return self.writer.exists(self._path(key))

    def keys(self) -> Iterator[str]:
        for prefix in self.writer.list():
            for name in self.writer.list(prefix):
                if len(name) == 64:
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


def blob_path(writer: Writer, key: str) -> str:
    """Where ``key`` is stored relative to the dataset root (the Disk layout locally)."""
    validate_key(key)
    if writer.kind == "local":
        return f"media/{key[:2]}/{key[2:]}"
    return f"media/{key[:2]}/{key}"


def key_of(path: str) -> str | None:
    """The media key stored at ``path`` (relative to the dataset root), or None for any other file."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != "media" or not _HEX2.fullmatch(parts[1]):
        return None
    name = parts[2]
    if _HEX62.fullmatch(name):
        return parts[1] + name
    if len(name) == 64 and name.startswith(parts[1]) and _HEX62.fullmatch(name[2:]):
        return name
    return None


def freshen(writer: Writer, keys: Iterable[str]) -> None:
    """Give these blobs a recent modification time so a concurrent gc keeps them; raise if one is gone."""

    def _one(key: str) -> None:
        path = blob_path(writer, key)
        local = writer.local_path(path)
        try:
            if local is not None:
                with translated(local):
                    os.utime(local)
                return
            meta = writer.meta(path)
            if meta.modified is None or meta.modified < time.time() - FRESH_SECONDS:
                writer.set(path, writer.get(path))  # same bytes: readers see no change, the clock restarts
        except StorageKeyNotFound as e:
            raise DatasetError(
                f"media blob {key} that uncommitted rows reference is no longer stored (was it collected by "
                "ds.gc() while this handle held it longer than the grace period?); nothing was published. "
                "rollback() and append those rows again"
            ) from e

    parallel_map(_one, sorted(set(keys)))


def media_store(writer: Writer) -> HashKeyStorage:
    """The blob store of a dataset rooted at ``writer``."""
    media = writer.subdir("media")
    local = media.local_path("")
    if local is not None:
        return HashKeyStorage(open_location(local))
    return HashKeyStorage(WriterLocation(media))

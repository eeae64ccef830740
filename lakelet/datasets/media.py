"""Content-addressed media of a dataset: the core's HashKeyStorage over the dataset's own folder.

Media values (Image, Video, Audio, Binary) are written once under their sha256
in ``<dataset>/media/``, whatever backend the dataset lives on, so equal bytes
are stored once across rows, versions and branches; columns hold the keys.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from .._hashing import validate_key
from ..errors import StorageKeyNotFound
from ..hashstore import HashKeyStorage
from ..locations.abc import Blob, Location
from ..registry import open_location
from .storage_io import Writer


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


def media_store(writer: Writer) -> HashKeyStorage:
    """The blob store of a dataset rooted at ``writer``."""
    media = writer.subdir("media")
    local = media.local_path("")
    if local is not None:
        return HashKeyStorage(open_location(local))
    return HashKeyStorage(WriterLocation(media))

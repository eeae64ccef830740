"""``FileEntry``/``FileEntryType`` (Modal's names) and the manifest entry of a stored file."""

from __future__ import annotations

import dataclasses
import enum

from .errors import NotFoundError


class FileEntryType(enum.IntEnum):
    """Kind of a listed path (Modal's values)."""

    UNSPECIFIED = 0
    FILE = 1
    DIRECTORY = 2
    SYMLINK = 3
    FIFO = 4
    SOCKET = 5


@dataclasses.dataclass(frozen=True)
class FileEntry:
    """A file or directory in a volume, as listed by ``listdir``/``iterdir``."""

    path: str
    type: FileEntryType
    mtime: int  # seconds since the epoch
    size: int  # bytes (0 for directories)


@dataclasses.dataclass(frozen=True)
class Stored:
    """Where a committed file's bytes are: ``size`` bytes at ``offset`` of blob ``digest``.

    Small files are packed many to a blob (offset > 0 is common); big files
    have a blob of their own. Copying a file only copies this record.
    """

    digest: str
    offset: int
    size: int
    mtime: int

    def dumps(self) -> str:
        return f"{self.digest}:{self.offset}:{self.size}:{self.mtime}"

    @classmethod
    def loads(cls, text: str | bytes) -> Stored:
        if isinstance(text, bytes):
            text = text.decode()
        digest, offset, size, mtime = text.split(":")
        return cls(digest, int(offset), int(size), int(mtime))

    def entry(self, path: str) -> FileEntry:
        return FileEntry(path, FileEntryType.FILE, self.mtime, self.size)


class PathNotFound(NotFoundError, FileNotFoundError):
    """No file or directory at that path in the volume."""


__all__ = ["FileEntry", "FileEntryType", "PathNotFound", "Stored"]

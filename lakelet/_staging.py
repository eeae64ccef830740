"""Private files a value is written into before it is published under its key.

A big value is staged once, in a write target's ``.tmp`` folder so the location
can hard-link it into place. Which folder: the first of the storage's staging
folders (in write order, skipping levels that already say they have no room)
that takes the whole value. A disk that fills up while a stream is being staged
is not the end of the write: :class:`StagingFile` moves what it has to the next
folder and carries on, so a full first level lets the value fall through to the
next one, as a write of in-memory bytes would.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ._owner import owned_name
from .errors import StorageFull

_FULL = (errno.ENOSPC, errno.EDQUOT)


def candidate_dirs(location: Any, size: int | None = None) -> Iterator[Path]:
    """The location's staging folders in write order, then the system temp folder; each once."""
    seen: set[Path] = set()
    for folder in (*_lazy(location, size), Path(tempfile.gettempdir())):
        if folder not in seen:
            seen.add(folder)
            yield folder


def _lazy(location: Any, size: int | None) -> Iterator[Path]:
    yield from location.staging_dirs(size)


class StagingFile:
    """A private file filled by :meth:`write`; on a full disk it moves to the next folder.

    ``folders`` is consumed lazily: a lower level's ``.tmp`` is only made when an
    upper one filled up. :meth:`discard` removes the file (call it in ``finally``).
    """

    def __init__(self, folders: Iterable[Path], prefix: str = "stage") -> None:
        self._folders = iter(folders)
        self._prefix = prefix
        self.size = 0
        self.path: Path | None = None
        self._fd: int | None = None
        self._open_next()

    def _open_next(self) -> None:
        """Open a file in the next folder that can hold what is staged so far; raise StorageFull if none."""
        last: OSError | None = None
        for folder in self._folders:
            path = Path(folder) / owned_name(self._prefix)  # swept at the next write if we are killed
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
            except OSError as e:
                if e.errno not in (*_FULL, errno.EACCES, errno.EROFS, errno.ENOENT):
                    raise
                last = e
                continue
            try:
                if self._fd is not None:
                    _copy_fd(self._fd, fd, self.size)  # what was staged so far, in the kernel
            except OSError as e:
                os.close(fd)
                path.unlink(missing_ok=True)
                if e.errno not in _FULL:
                    raise
                last = e
                continue
            self._drop_current()
            self._fd, self.path = fd, path
            return
        raise StorageFull(f"no staging folder had room for {self.size} bytes or more: {last}") from last

    def write(self, data: Any) -> None:
        """Append the whole of ``data``, moving to the next folder if this disk fills up."""
        view = memoryview(data).cast("B")
        while view.nbytes:
            try:
                n = os.write(self._fd, view)  # type: ignore[arg-type]
            except OSError as e:
                if e.errno not in _FULL:
                    raise
                self._open_next()
                continue
            view = view[n:]
            self.size += n

    def fileno(self) -> int:
        return self._fd  # type: ignore[return-value]

    def close(self) -> None:
        """Close the file, keeping it (to be published)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def discard(self) -> None:
        """Close and remove the file (a no-op after a location linked its own name to it)."""
        self._drop_current()

    def _drop_current(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


def _copy_fd(src: int, dst: int, size: int) -> None:
    offset = 0
    try:
        while offset < size:
            n = os.copy_file_range(src, dst, size - offset, offset, offset)
            if n == 0:
                break
            offset += n
        if offset == size:
            return
    except OSError as e:
        if e.errno in _FULL:
            raise
    with open(src, "rb", closefd=False) as a, open(dst, "r+b", closefd=False) as b:
        a.seek(0)
        b.seek(0)
        b.truncate()
        shutil.copyfileobj(a, b, 8 * 2**20)
        b.flush()
    os.lseek(dst, size, os.SEEK_SET)


class HashingWriter(io.RawIOBase):
    """A binary file that hashes what is written to it; see :meth:`HashKeyStorage.writer`.

    Up to ``inline`` bytes stay in memory (published like ``write(bytes)``); beyond
    that everything goes to a :class:`StagingFile`. After the ``with`` block ends
    without an exception, :attr:`key` is the stored value's sha256.
    """

    def __init__(self, storage: Any, inline: int) -> None:
        super().__init__()
        self._storage = storage
        self._inline = inline
        self._hash = hashlib.sha256()
        self._buffer: bytearray | None = bytearray()
        self._file: StagingFile | None = None
        self.size = 0
        self.key: str | None = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        n = view.nbytes
        self._hash.update(view)
        if self._buffer is not None and len(self._buffer) + n <= self._inline:
            self._buffer += view
        else:
            if self._file is None:
                self._file = StagingFile(candidate_dirs(self._storage.location), prefix="writer")
                self._file.write(self._buffer)
                self._buffer = None
            self._file.write(view)
        self.size += n
        return n

    def publish(self) -> str:
        """Store what was written under its sha256 and return it."""
        from .locations.abc import Blob

        key = self._hash.hexdigest()
        try:
            if self._file is None:
                self._storage._store(key, Blob(data=self._buffer or b""))
            else:
                self._file.close()
                self._storage._store(key, Blob(path=self._file.path, size=self.size, owned=True))
        finally:
            self.discard()
        self.key = key
        return key

    def discard(self) -> None:
        """Drop anything staged (a failed or abandoned write leaves nothing behind)."""
        if self._file is not None:
            self._file.discard()
            self._file = None
        self._buffer = None
        if not self.closed:
            super().close()


__all__ = ["HashingWriter", "StagingFile", "candidate_dirs"]

"""The bytes of volume files: content-addressed blobs in the core ``HashKeyStorage``.

Big files get a blob each (identical files are stored once, across all the
volumes of an environment). Small files are packed many to a blob, so putting
a directory of 10,000 small files costs a few dozen object-store writes instead
of 10,000. A file is then a byte range of a blob (:class:`Stored`).
"""

from __future__ import annotations

import io
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from ..config import concurrency
from ..hashstore import HashKeyStorage
from ..registry import open_location
from .blob_guard import BlobGuard
from .entries import Stored
from .env import Environment
from .errors import ConflictError

#: files up to this size are packed together
PACK_FILE_MAX = 1 * 2**20
#: a pack is closed once it holds this many bytes
PACK_TARGET = 16 * 2**20
CHUNK = 4 * 2**20


def open_blob_storage(env: Environment) -> HashKeyStorage:
    if env.shared:
        return HashKeyStorage(open_location(f"{env.volumes_url}/blobs", **dict(env.storage_options)))
    return HashKeyStorage(env.root / "blobs")


class LocalFile:
    """A local file to upload, with the size and mtime seen when it was listed."""

    __slots__ = ("path", "size", "mtime")

    def __init__(self, path: Path, size: int | None = None, mtime: int | None = None) -> None:
        if size is None or mtime is None:
            st = path.stat()
            size, mtime = st.st_size, int(st.st_mtime)
        self.path, self.size, self.mtime = path, size, mtime


#: tolerated difference between the clocks of writers and collectors (seconds)
CLOCK_SKEW = 60.0
#: how often a writer re-stores a blob that a collector deleted under it before giving up
_RESTORE_ATTEMPTS = 5


class Blobs:
    """Upload and read volume files in ``storage``.

    With a ``guard`` (:mod:`.blob_guard`), every stored blob is protected from a
    concurrent garbage collection before its manifest is committed.
    """

    def __init__(self, storage: HashKeyStorage, guard: BlobGuard | None = None) -> None:
        self.storage = storage
        self.guard = guard

    def _store(self, write: Callable[[], str], repeatable: bool = True) -> str:
        """Run ``write`` (returns a digest) and protect the digest from garbage collection."""
        for _ in range(_RESTORE_ATTEMPTS):
            began = time.time()
            digest = write()
            if self.guard is None or self._protected([digest], began):
                return digest
            # A collection deleted the blob between our dedup hit and protect(): store it again.
            if not repeatable:
                raise ConflictError(
                    f"blob {digest} was garbage-collected while this stream was stored; store it again"
                )
        raise ConflictError(f"blob {digest} kept being garbage-collected while it was stored; retry later")

    def _protected(self, digests: Sequence[str], began: float) -> bool:
        """Protect ``digests`` (see :mod:`.blob_guard`); False if one of them is gone."""
        busy, collecting = self.guard.protect(digests, began - CLOCK_SKEW)  # type: ignore[union-attr]
        if busy:
            self.guard.wait_deleted(busy)  # type: ignore[union-attr]
        # Protected now: no collection deletes them any more, so one look settles it.
        return not (busy or collecting) or all(self.storage.contains(d) for d in digests)

    def protect(self, stored: Sequence[Stored], began: float) -> None:
        """Protect blobs that a commit is about to reference without storing them (copies of
        entries read at ``began``); raises :class:`ConflictError` if one was collected meanwhile."""
        if self.guard is None or not stored:
            return
        if not self._protected(sorted({s.digest for s in stored}), began):
            raise ConflictError("source files were removed and garbage-collected meanwhile; reload and retry")

    # ------------------------------------------------------------------ writing
    def put_files(self, files: Sequence[LocalFile], advance: Callable[[int], Any] | None = None) -> list[Stored]:
        """Store local files concurrently (bounded by ``lakelet.config.concurrency()``), in order."""
        results: list[Stored | None] = [None] * len(files)
        jobs: list[Callable[[], None]] = []
        pack: list[int] = []
        pack_bytes = 0
        for i, f in enumerate(files):
            if f.size > PACK_FILE_MAX:
                jobs.append(lambda i=i: self._put_big(files, i, results, advance))
                continue
            pack.append(i)
            pack_bytes += f.size
            if pack_bytes >= PACK_TARGET:
                jobs.append(lambda members=pack: self._put_pack(files, members, results, advance))
                pack, pack_bytes = [], 0
        if pack:
            jobs.append(lambda members=pack: self._put_pack(files, members, results, advance))
        if len(jobs) <= 1:
            for job in jobs:
                job()
        else:
            with ThreadPoolExecutor(min(concurrency(), len(jobs)), thread_name_prefix="lakelet-put") as pool:
                for future in [pool.submit(job) for job in jobs]:
                    future.result()
        return results  # type: ignore[return-value]

    def _put_big(self, files: Sequence[LocalFile], i: int, out: list, advance: Callable | None) -> None:
        f = files[i]
        digest = self._store(lambda: self.storage.write(f.path))
        out[i] = Stored(digest, 0, f.size, f.mtime)
        if advance is not None:
            advance(f.size)

    def _put_pack(self, files: Sequence[LocalFile], members: list[int], out: list, advance: Callable | None) -> None:
        buf = bytearray()
        spans = []
        for i in members:
            data = files[i].path.read_bytes()
            spans.append((i, len(buf), len(data)))
            buf += data
        digest = self._store(lambda: self.storage.write(buf))
        for i, offset, size in spans:
            out[i] = Stored(digest, offset, size, files[i].mtime)
        if advance is not None:
            advance(len(buf))

    def put_stream(self, stream: BinaryIO, mtime: int) -> Stored:
        """Store everything a binary reader returns (streamed, not held in memory)."""
        counted = _Counting(stream)
        digest = self._store(lambda: self.storage.write(counted), repeatable=False)
        return Stored(digest, 0, counted.count, mtime)

    # ------------------------------------------------------------------ reading
    @contextmanager
    def open(self, stored: Stored) -> Iterator[BinaryIO]:
        """A reader of exactly the file's bytes; valid inside the ``with``."""
        with self.storage.read(stored.digest) as value:
            if isinstance(value, Path):
                with open(value, "rb") as f:
                    yield _Window(f, stored.offset, stored.size)  # type: ignore[misc]
            else:
                yield _Window(value, stored.offset, stored.size)  # type: ignore[misc]

    def copy_to_file(self, stored: Stored, dst: BinaryIO) -> int:
        with self.open(stored) as src:
            shutil.copyfileobj(src, dst, CHUNK)
        return stored.size

    def write_local(self, stored: Stored, target: Path) -> None:
        """Atomically (re)place local file ``target`` with the stored bytes, keeping the stored mtime."""
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name}.lakelet-{os.getpid()}-{id(stored):x}.tmp"
        try:
            with open(tmp, "wb") as out:
                self.copy_to_file(stored, out)
            os.utime(tmp, (stored.mtime, stored.mtime))
            os.replace(tmp, target)  # readers holding the old file open keep reading it
        finally:
            tmp.unlink(missing_ok=True)


class _Counting(io.RawIOBase):
    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        readinto = getattr(self._stream, "readinto", None)
        if readinto is not None:
            n = readinto(buf) or 0
        else:
            data = self._stream.read(len(buf))
            n = len(data)
            buf[:n] = data
        self.count += n
        return n


class _Window(io.RawIOBase):
    """``size`` bytes of ``f`` starting at ``offset``, as a seekable reader when ``f`` is."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f, self._start, self._size, self._pos = f, offset, size, 0
        self._seekable = f.seekable()
        if offset:
            if self._seekable:
                f.seek(offset)
            else:
                _skip(f, offset)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("this stored file is not seekable")
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(base + pos, 0)
        self._f.seek(self._start + min(self._pos, self._size))
        return self._pos

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), self._size - self._pos)
        if n <= 0:
            return 0
        view = memoryview(buf)[:n]
        readinto = getattr(self._f, "readinto", None)
        if readinto is not None:
            got = readinto(view) or 0
        else:
            data = self._f.read(n)
            got = len(data)
            view[:got] = data
        self._pos += got
        return got


def _skip(f: BinaryIO, n: int) -> None:
    while n > 0:
        got = f.read(min(n, CHUNK))
        if not got:
            raise EOFError("stored blob is shorter than its manifest says")
        n -= len(got)


__all__ = ["Blobs", "LocalFile", "PACK_FILE_MAX", "PACK_TARGET", "open_blob_storage"]

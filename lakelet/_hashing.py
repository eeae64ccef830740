"""Hashing while copying, in one pass over the source.

sha256 is the bottleneck of every large write, so the digest is computed in a
worker thread (hashlib releases the GIL on large buffers) while the caller's
thread reads the next chunk and writes the previous one. Two buffers rotate, so
the hash of chunk *n* overlaps the write of chunk *n* and the read of *n + 1*.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO

from .errors import InvalidArgument, InvalidKey

ALGORITHM = "sha256"
CHUNK = 8 * 2**20
# Streams are copied in 1 MiB pieces: a piece stays in the CPU caches between the read, the
# hash and the write, and (measured) 8 MiB buffers filled from a pipe made write() 5-15x slower.
STREAM_CHUNK = 2**20
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_FOLDER_RE = re.compile(r"[0-9a-f]{2}")
_NAME_RE = re.compile(r"[0-9a-f]{62}")


# The one blob layout of every location (Disk, fsspec remotes, a dataset's media): ``ab/<62 hex>``.
def is_key(value: object) -> bool:
    """Whether ``value`` is a storage key (64 lowercase hex characters)."""
    return isinstance(value, str) and _KEY_RE.fullmatch(value) is not None


def key_path(key: str) -> str:
    """Where ``key`` lives below a location's root: ``ab/<62 hex>``."""
    return f"{key[:2]}/{key[2:]}"


def is_key_folder(name: str) -> bool:
    """Whether ``name`` is a fan-out folder of the layout (two hex digits)."""
    return _FOLDER_RE.fullmatch(name) is not None


def is_key_name(name: str) -> bool:
    """Whether ``name`` is a blob's file name in the layout (the key's last 62 hex digits)."""
    return _NAME_RE.fullmatch(name) is not None


def key_of_path(relative: str) -> str | None:
    """The key stored at ``ab/<62 hex>`` (relative to a location's root), or None for anything else."""
    folder, _, name = relative.partition("/")
    return folder + name if is_key_folder(folder) and is_key_name(name) else None


def validate_key(key: object) -> str:
    """Return ``key`` if it is a 64-character lowercase hex sha256 digest, else raise :class:`InvalidKey`."""
    if not isinstance(key, str):
        raise InvalidKey(f"storage key must be a str, got {type(key).__name__}: {key!r:.80}")
    if _KEY_RE.fullmatch(key) is None:
        raise InvalidKey(f"malformed storage key {key!r:.100}: expected 64 lowercase hex characters (sha256)")
    return key


def hash_bytes(data: bytes | bytearray | memoryview) -> str:
    """sha256 hex digest of a bytes-like object, without copying it."""
    return hashlib.sha256(data).hexdigest()


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int]:
    """sha256 hex digest and size of a local file, streamed."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, ALGORITHM)
        return digest.hexdigest(), f.tell()


def _read_full(src: BinaryIO, buf: memoryview) -> int:
    """Fill ``buf`` unless the stream ends first; returns the bytes read (0 at the end).

    Sockets and pipes may answer short reads long before their end, so a short
    read is not taken as the end of the stream.
    """
    readinto = getattr(src, "readinto", None)
    filled = 0
    while filled < len(buf):
        if readinto is not None:
            got = readinto(buf[filled:])
        else:
            piece = src.read(len(buf) - filled)
            if isinstance(piece, str):
                raise InvalidArgument(
                    f"cannot store a text stream ({type(src).__name__}): open the file in binary mode ('rb') "
                    "or pass bytes (text.encode())"
                )
            got = None if piece is None else len(piece)
            if got:
                buf[filled : filled + got] = piece
        if got is None:  # "no data yet": storing what came so far would store a truncated value
            raise InvalidArgument(
                f"the stream {type(src).__name__} returned None from read(): it is non-blocking and had no "
                "data ready; pass a blocking binary stream"
            )
        if not got:
            break
        filled += got
    return filled


def copy_hashing(
    src: BinaryIO,
    write: Callable[[memoryview], object],
    *,
    chunk: int = STREAM_CHUNK,
) -> tuple[str, int]:
    """Stream ``src`` into ``write`` once, returning (sha256 hex digest, bytes copied).

    ``write`` must consume the whole buffer it is given before returning.
    """
    h = hashlib.sha256()
    first = memoryview(bytearray(chunk))
    n = _read_full(src, first)
    if n < chunk:  # a small value: no thread is worth its start-up
        data = first[:n]
        h.update(data)
        if n:
            write(data)
        return h.hexdigest(), n
    buffers = [first, memoryview(bytearray(chunk))]  # the second only for values worth two
    total = 0
    pending: Future[None] | None = None
    current = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakelet-hash") as pool:
        while n:
            data = buffers[current][:n]
            if pending is not None:
                pending.result()  # the other buffer is free again once its hash is done
            pending = pool.submit(h.update, data)
            write(data)
            total += n
            current ^= 1
            n = _read_full(src, buffers[current])
        if pending is not None:
            pending.result()
    return h.hexdigest(), total


_KERNEL_COPY_CHUNK = 64 * 2**20
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF})


def copy_file_hashing(src: int, dst: int, *, chunk: int = _KERNEL_COPY_CHUNK) -> tuple[str, int] | None:
    """Copy the open file ``src`` to the end of ``dst`` (opened read-write) in the kernel, and hash
    the copy as it grows; returns (sha256 hex digest, bytes copied).

    The bytes never pass through Python: ``copy_file_range`` copies page-cache to page-cache
    on the calling thread while a worker hashes the chunk before through a read-only
    mapping of ``dst``. Hashing the private copy, not the source, keeps the digest true to
    the stored bytes even if the source changes meanwhile. Returns None, having copied
    nothing, when the kernel cannot copy between these files (the caller streams instead).
    """
    h = hashlib.sha256()
    total = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="lakelet-hash") as pool:
        while True:
            try:
                n = os.copy_file_range(src, dst, chunk)
            except OSError as e:
                if total == 0 and e.errno in _NO_KERNEL_COPY:
                    return None
                raise
            if not n:
                break
            if pending is not None:
                pending.result()
            pending = pool.submit(_hash_mapped, h, dst, total, n)
            total += n
        if pending is not None:
            pending.result()
    return h.hexdigest(), total


def _hash_mapped(h: Any, fd: int, offset: int, length: int) -> None:
    """Feed ``length`` bytes of ``fd`` from ``offset`` to ``h`` through a read-only mapping (no copy)."""
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    with mmap.mmap(fd, length + offset - start, access=mmap.ACCESS_READ, offset=start) as mapped:
        view = memoryview(mapped)
        try:
            part = view[offset - start :]
            h.update(part)
            part.release()
        finally:
            view.release()

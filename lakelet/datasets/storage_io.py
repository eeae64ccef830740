"""Reader and Writer: byte-level access to a dataset's folder on any fsspec backend.

URLs: a local path, ``file://``, ``memory://``, ``s3://``, ``gcs://``/``gs://``,
``azure://``/``az://``, ``sftp://``. They are opened by :func:`lakelet.registry.open_tree`,
the same registry (and the same backend clients, timeouts and error maps) that
builds locations; credentials are Deep Lake's keys (``aws_access_key_id``,
``endpoint_url``, ``google_application_credentials``, ``azure_storage_key``...)
or the backend's own options, translated by :mod:`lakelet.credentials`.

Writes that must not clobber (manifests, branch heads) go through
:meth:`Writer.create`, which is create-only on every backend: ``os.link`` of a
finished temporary file locally, a lock in memory, a conditional put
(``If-None-Match: *`` / ``ifGenerationMatch=0`` / Azure ``overwrite=False``) on
object stores, and an upload to a temporary name renamed with SFTP's plain
rename (which refuses an existing target) over SFTP. Parallel I/O is bounded by :func:`lakelet.config.concurrency`.
"""

from __future__ import annotations

import os
import posixpath
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from .._epoch import to_epoch
from ..credentials import ALL_DEEPLAKE_NAMES
from ..errors import (
    InvalidPath,
    StorageError,
)
from ..locations.abc import ErrorMap, translate_errors
from ..registry import Tree, error_map, open_tree

T = TypeVar("T")
R = TypeVar("R")

CRED_KEYS = ALL_DEEPLAKE_NAMES
_MEMORY_LOCK = threading.Lock()  # makes create-only atomic on fsspec's process-wide memory filesystem


@dataclass(frozen=True)
class ResourceMeta:
    """What a backend knows of one stored object.

    ``last_modified`` is ISO 8601 (UTC) as in Deep Lake; ``modified`` is the same
    instant in seconds since the epoch, as the storage's own clock recorded it.
    """

    path: str
    size: int
    etag: str | None = None
    last_modified: str | None = None
    modified: float | None = None


Target = Tree  # a parsed dataset URL: backend kind, fsspec filesystem and root path inside it


# ------------------------------------------------------------------------------ URL parsing
def parse_url(url: str | os.PathLike[str], creds: Mapping[str, Any] | None = None) -> Tree:
    """Resolve ``url`` and ``creds`` to a filesystem and a root path (through the one registry).

    Local folders get :class:`~lakelet.datasets.localfs.LocalFS`: a cold open never imports fsspec.
    """
    from .localfs import LocalFS

    return open_tree(url, creds, local_fs=LocalFS)


# ------------------------------------------------------------------------------ errors
@contextmanager
def translated(where: str, kind: str = "local") -> Iterator[None]:
    """Turn backend exceptions into lakelet storage errors naming ``where`` (the storage core's mapping).

    ``kind`` picks the backend's exception types (botocore for S3, aiohttp and
    gcsfs for GCS, azure-core for Azure), imported only when that backend is used.
    """
    extra, classify = _error_map(kind)
    # no Location object at this layer: the error names the path instead
    with translate_errors(None, where, extra, classify):  # type: ignore[arg-type]
        yield


def _error_map(kind: str) -> tuple[ErrorMap, Callable[[BaseException], type[StorageError] | None] | None]:
    return error_map(kind)


def _meta(path: str, info: Mapping[str, Any]) -> ResourceMeta:
    etag = info.get("ETag") or info.get("etag")
    stamp = None
    for name in ("LastModified", "last_modified", "updated", "mtime", "created"):
        stamp = to_epoch(info.get(name))
        if stamp is not None:
            break
    iso = None if stamp is None else datetime.fromtimestamp(stamp, tz=UTC).isoformat()
    return ResourceMeta(path, int(info.get("size") or 0), None if etag is None else str(etag), iso, stamp)


def _join(root: str, path: str) -> str:
    if "\x00" in path:
        raise InvalidPath(f"path holds a NUL byte: {path!r}")
    parts = [p for p in path.strip("/").split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise InvalidPath(f"path {path!r} must not contain '.' or '..'")
    return "/".join([root.rstrip("/"), *parts]) if parts else root


# ------------------------------------------------------------------------------ Reader / Writer
class Reader:
    """Read access below one root folder of a backend."""

    def __init__(self, target: Target, path: str = "") -> None:
        self._target = target
        self.original_path = target.url
        self.path = _join(target.root, path)
        self.token: str | None = None

    @classmethod
    def from_url(cls, url: str | os.PathLike[str], creds: Mapping[str, Any] | None = None) -> Reader:
        return cls(parse_url(url, creds))

    @property
    def kind(self) -> str:
        return self._target.kind

    @property
    def fs(self) -> Any:
        return self._target.fs

    def full(self, path: str) -> str:
        return _join(self.path, path)

    def local_path(self, path: str) -> str | None:
        """The local file behind ``path`` (for memory-mapping), or None on remote backends."""
        return self.full(path) if self.kind == "local" else None

    def get(self, path: str, start: int | None = None, end: int | None = None) -> bytes:
        """Bytes of ``path`` (or of the byte range ``[start, end)``)."""
        full = self.full(path)
        with translated(full, self.kind):
            if start is None and end is None:
                return self.fs.cat_file(full)
            return self.fs.cat_file(full, start=start, end=end)

    def get_many(self, paths: Iterable[str]) -> list[bytes]:
        """Bytes of several paths, fetched in parallel (bounded by ``concurrency()``)."""
        return parallel_map(self.get, list(paths))

    def exists(self, path: str) -> bool:
        full = self.full(path)
        with translated(full, self.kind):
            return bool(self.fs.exists(full))

    def length(self, path: str) -> int:
        return self.meta(path).size

    def meta(self, path: str) -> ResourceMeta:
        full = self.full(path)
        with translated(full, self.kind):
            info = self.fs.info(full)
        return _meta(path, info)

    def walk(self, path: str = "") -> list[ResourceMeta]:
        """Every object below ``path`` (recursively, fresh from the backend), paths relative to this root."""
        full = self.full(path)
        base = self.path.strip("/")
        out = []
        with translated(full, self.kind):
            self.fs.invalidate_cache(full)
            try:
                found = self.fs.find(full, detail=True)
            except FileNotFoundError:
                return []
        for name, info in found.items():
            if info.get("type") == "directory":
                continue
            rel = name.strip("/")
            if not rel.startswith(base + "/"):
                continue
            out.append(_meta(rel[len(base) + 1 :], info))
        return sorted(out, key=lambda m: m.path)

    def list(self, path: str = "") -> list[str]:
        """Names directly under ``path`` (empty if it does not exist)."""
        full = self.full(path)
        with translated(full, self.kind):
            try:
                entries = self.fs.ls(full, detail=False)
            except FileNotFoundError:
                return []
        names = sorted({e.rstrip("/").rsplit("/", 1)[-1] for e in entries})
        return [n for n in names if n]

    def subdir(self, path: str) -> Reader:
        return type(self)(self._target, _join("", self.full(path)[len(self._target.root) :]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class Writer(Reader):
    """Read and write access below one root folder of a backend."""

    def set(self, path: str, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``path`` (replacing it); atomic locally (temp file + rename)."""
        full = self.full(path)
        with translated(full, self.kind):
            if self.kind == "local":
                self._local_write(full, data, create_only=False)
            elif self.kind == "sftp":
                sftp_put(self.fs, full, data, create_only=False)
            else:
                self.fs.pipe_file(full, bytes(data))

    def create(self, path: str, data: bytes | bytearray | memoryview) -> bool:
        """Write ``data`` at ``path`` only if nothing is there; False if something already was."""
        full = self.full(path)
        with translated(full, self.kind):
            try:
                if self.kind == "local":
                    self._local_write(full, data, create_only=True)
                elif self.kind == "memory":
                    with _MEMORY_LOCK:
                        self.fs.pipe_file(full, bytes(data), mode="create")
                elif self.kind == "sftp":
                    sftp_put(self.fs, full, data, create_only=True)
                else:
                    self.fs.pipe_file(full, bytes(data), mode="create")
            except FileExistsError:
                return False
        return True

    def _local_write(self, full: str, data: bytes | bytearray | memoryview, *, create_only: bool) -> None:
        folder = os.path.dirname(full)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".tmp-{uuid.uuid4().hex}-{os.getpid()}")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            if create_only:
                os.link(tmp, full)  # fails with FileExistsError: the atomic create-only publish
            else:
                os.replace(tmp, full)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def remove(self, path: str) -> None:
        """Remove one object; a missing one raises :class:`StorageKeyNotFound`."""
        full = self.full(path)
        with translated(full, self.kind):
            self.fs.rm_file(full)

    def remove_directory(self, path: str = "") -> None:
        """Remove ``path`` and everything below it (nothing if it is absent)."""
        full = self.full(path)
        with translated(full, self.kind):
            try:
                self.fs.rm(full, recursive=True)
            except FileNotFoundError:
                return

    def subdir(self, path: str) -> Writer:
        return type(self)(self._target, _join("", self.full(path)[len(self._target.root) :]))

    def reader(self) -> Reader:
        return Reader(self._target, self.path[len(self._target.root) :])


def sftp_put(fs: Any, full: str, data: bytes | bytearray | memoryview, *, create_only: bool) -> None:
    """Upload to a hidden temporary beside ``full``, then rename it into place.

    Create-only uses SFTP's plain rename, which OpenSSH implements with link():
    it refuses an existing target, so of two racing writers exactly one wins
    (``FileExistsError`` for the other). Otherwise ``posix-rename`` replaces atomically.
    """
    import asyncssh
    from fsspec.asyn import sync

    folder = posixpath.dirname(full)
    tmp = f"{folder}/.tmp-{uuid.uuid4().hex}"

    async def put() -> None:
        await fs._makedirs(folder, exist_ok=True)
        async with fs._pool.get() as channel:  # sshfs has no public rename without replace
            try:
                async with channel.open(tmp, "wb") as f:
                    await f.write(bytes(data))
                if not create_only:
                    await channel.posix_rename(tmp, full)
                    return
                try:
                    await channel.rename(tmp, full)
                except asyncssh.SFTPFailure:
                    if await channel.exists(full):
                        raise FileExistsError(full) from None
                    raise
            finally:
                try:
                    await channel.remove(tmp)
                except asyncssh.SFTPNoSuchFile:
                    pass  # renamed into place: nothing left behind

    sync(fs.loop, put)


def parallel_map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``concurrency()`` threads, in order; errors propagate."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    from ..config import concurrency  # reads the config file: not before parallel I/O is wanted

    with ThreadPoolExecutor(max_workers=min(concurrency(), len(items))) as pool:
        return list(pool.map(fn, items))


__all__ = ["Reader", "ResourceMeta", "StorageError", "Target", "Writer", "parallel_map", "parse_url", "sftp_put"]

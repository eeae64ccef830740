"""Reader and Writer: byte-level access to a dataset's folder on any fsspec backend.

URLs: a local path, ``file://``, ``memory://``, ``s3://``, ``gcs://``/``gs://``,
``azure://``/``az://``. Credentials use Deep Lake's keys (``aws_access_key_id``,
``endpoint_url``, ``google_application_credentials``, ``azure_storage_key``...).

Writes that must not clobber (manifests, branch heads) go through
:meth:`Writer.create`, which is create-only on every backend: ``os.link`` of a
finished temporary file locally, a lock in memory, and a conditional put
(``If-None-Match: *`` / ``ifGenerationMatch=0`` / Azure ``overwrite=False``) on
object stores. Parallel I/O is bounded by :func:`lakelet.config.concurrency`.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..config import concurrency
from ..errors import (
    InvalidArgument,
    InvalidPath,
    StorageAccessDenied,
    StorageError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ..locations.abc import ErrorMap, translate_errors
from ..locations.fsspec_location import to_epoch

T = TypeVar("T")
R = TypeVar("R")

CRED_KEYS = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_region",
        "endpoint_url",
        "google_application_credentials",
        "google_application_credentials_json",
        "google_project",
        "azure_storage_account",
        "azure_storage_key",
        "azure_storage_connection_string",
        "azure_storage_sas_token",
    }
)
_SCHEMES = {"file": "file", "memory": "memory", "mem": "memory", "s3": "s3", "gcs": "gcs", "gs": "gcs"}
_SCHEMES.update({"azure": "azure", "az": "azure", "abfs": "azure"})
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


@dataclass(frozen=True)
class Target:
    """A parsed dataset URL: backend kind, fsspec filesystem and root path inside it."""

    kind: str
    fs: Any
    root: str
    url: str


# ------------------------------------------------------------------------------ URL parsing
def parse_url(url: str | os.PathLike[str], creds: Mapping[str, Any] | None = None) -> Target:
    """Resolve ``url`` and ``creds`` to a filesystem and a root path."""
    creds = dict(creds or {})
    unknown = set(creds) - CRED_KEYS
    if unknown:
        raise InvalidArgument(f"unknown creds keys {sorted(unknown)}; expected some of {sorted(CRED_KEYS)}")
    text = os.fspath(url)
    if not isinstance(text, str) or not text:
        raise InvalidArgument(f"dataset URL must be a non-empty string, got {url!r}")
    if "\x00" in text:
        raise InvalidPath(f"dataset URL holds a NUL byte: {text!r}")
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    if not scheme:
        return _local(str(Path(text).expanduser().absolute()), text)
    kind = _SCHEMES.get(scheme)
    if kind is None:
        raise InvalidArgument(f"unsupported dataset URL scheme {scheme!r} in {text!r}; use one of {sorted(_SCHEMES)}")
    rest = text.split("://", 1)[1].strip("/")
    _check_parts(rest, text)
    if kind == "file":
        return _local("/" + rest, text)
    if kind == "memory":
        import fsspec

        return Target("memory", fsspec.filesystem("memory"), "/" + rest, text)
    if not rest.split("/", 1)[0]:
        raise InvalidArgument(f"{text!r} names no bucket/container")
    return Target(kind, _cloud_fs(kind, creds), rest, text)


def _check_parts(rest: str, text: str) -> None:
    for part in rest.split("/"):
        if part in ("..", "."):
            raise InvalidPath(f"dataset URL {text!r} must not contain '.' or '..' segments")


def _local(path: str, text: str) -> Target:
    from .localfs import LocalFS  # not fsspec's: its import alone would double a cold open (see localfs)

    if any(part == ".." for part in Path(path).parts):
        raise InvalidPath(f"dataset path {text!r} must not contain '..'")
    return Target("local", LocalFS(), path.rstrip("/") or "/", text)


def _import(module: str, extra: str) -> Any:
    from .._optional import require

    return require(module, extra=extra, what="this URL")


def _cloud_fs(kind: str, creds: dict[str, Any]) -> Any:
    if kind == "s3":
        s3fs = _import("s3fs", "s3")
        # no listing caches: other processes move branch heads, a cached listing would hide that
        options: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
        if "aws_access_key_id" in creds:
            options["key"] = creds["aws_access_key_id"]
            options["secret"] = creds.get("aws_secret_access_key")
        if "aws_session_token" in creds:
            options["token"] = creds["aws_session_token"]
        if "endpoint_url" in creds:
            options["endpoint_url"] = creds["endpoint_url"]
        if "aws_region" in creds:
            options["client_kwargs"] = {"region_name": creds["aws_region"]}
        from ..locations._deadlines import remote_deadlines
        from ..locations.s3 import bound_s3_requests

        deadlines = remote_deadlines()  # [remote] of config.toml: a hung server fails, never hangs
        options["config_kwargs"] = {
            "connect_timeout": deadlines.connect_timeout,
            "read_timeout": deadlines.read_timeout,
            "retries": {"max_attempts": 2, "mode": "standard"},
        }
        fs = s3fs.S3FileSystem(**options)
        bound_s3_requests(fs, deadlines, creds.get("endpoint_url") or "AWS S3")
        return fs
    if kind == "gcs":
        _import("gcsfs", "gcs")
        from gcsfs.core import GCSFileSystem  # the plain class: no gRPC bucket-layout probe

        options = {"skip_instance_cache": True, "use_listings_cache": False}
        if "google_application_credentials_json" in creds:
            token = creds["google_application_credentials_json"]
            options["token"] = json.loads(token) if isinstance(token, str) else dict(token)
        elif "google_application_credentials" in creds:
            options["token"] = str(creds["google_application_credentials"])
        elif "endpoint_url" in creds:
            options["token"] = "anon"  # an emulator without credentials
        if "endpoint_url" in creds:
            options["endpoint_url"] = creds["endpoint_url"]
        if "google_project" in creds:
            options["project"] = creds["google_project"]
        return GCSFileSystem(**options)
    _import("adlfs", "azure")
    from adlfs import AzureBlobFileSystem

    options = {"skip_instance_cache": True, "use_listings_cache": False}
    if "azure_storage_connection_string" in creds:
        options["connection_string"] = creds["azure_storage_connection_string"]
    if "azure_storage_account" in creds:
        options["account_name"] = creds["azure_storage_account"]
    if "azure_storage_key" in creds:
        options["account_key"] = creds["azure_storage_key"]
    if "azure_storage_sas_token" in creds:
        options["sas_token"] = creds["azure_storage_sas_token"]
    return AzureBlobFileSystem(**options)


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


@functools.cache
def _error_map(kind: str) -> tuple[ErrorMap, Callable[[BaseException], type[StorageError] | None] | None]:
    """Backend exception types -> lakelet errors, as lakelet.locations.{s3,gcs,azure} map them."""
    if kind == "local":
        return (), None  # OSErrors only: no fsspec import for a local folder (see localfs)
    from fsspec.exceptions import FSTimeoutError

    timeouts: ErrorMap = ((FSTimeoutError, StorageNetworkConnectionError),)
    if kind == "s3":
        return _s3_errors(timeouts)
    if kind == "gcs":
        import aiohttp
        from gcsfs.retry import HttpError

        def _gcs(error: BaseException) -> type[StorageError] | None:
            if isinstance(error, HttpError):
                return _BY_STATUS.get(getattr(error, "code", None))  # type: ignore[arg-type]
            return None

        network = (aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError)
        return ((network, StorageNetworkConnectionError), *timeouts), _gcs
    if kind == "azure":
        import azure.core.exceptions as a

        extra: ErrorMap = (
            ((a.ServiceRequestError, a.ServiceResponseError), StorageNetworkConnectionError),
            ((a.ClientAuthenticationError,), StorageAccessDenied),
            ((a.ResourceNotFoundError,), StorageKeyNotFound),
        )

        def _azure(error: BaseException) -> type[StorageError] | None:
            if isinstance(error, a.HttpResponseError):
                return _BY_STATUS.get(error.status_code)  # type: ignore[arg-type]
            return None

        return (*extra, *timeouts), _azure
    return (), None


_BY_STATUS: dict[int, type[StorageError]] = {
    401: StorageAccessDenied,
    403: StorageAccessDenied,
    404: StorageKeyNotFound,
}


def _s3_errors(timeouts: ErrorMap) -> tuple[ErrorMap, Callable[[BaseException], type[StorageError] | None]]:
    from ..locations.s3 import classify_s3_error, s3_error_map

    return (*s3_error_map(), *timeouts), classify_s3_error


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
                else:
                    self.fs.pipe_file(full, bytes(data), mode="create")
            except FileExistsError:
                return False
        return True

    def set_many(self, items: Mapping[str, bytes]) -> None:
        """Write several objects in parallel (bounded by ``concurrency()``)."""
        parallel_map(lambda kv: self.set(*kv), list(items.items()))

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


def parallel_map(fn: Callable[[T], R], items: list[T]) -> list[R]:
    """``[fn(x) for x in items]`` on up to ``concurrency()`` threads, in order; errors propagate."""
    if len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(max_workers=min(concurrency(), len(items))) as pool:
        return list(pool.map(fn, items))


__all__ = ["Reader", "ResourceMeta", "StorageError", "Target", "Writer", "parallel_map", "parse_url"]

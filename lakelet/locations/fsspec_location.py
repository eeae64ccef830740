"""A location over any fsspec filesystem, below a root prefix.

The layout is Disk's, so a lake folder copied into a bucket (or served by
nginx) reads as the same location::

    <root>/ab/<remaining 62 hex>     the value of key "ab..."
    <root>/.records/<name>           a named record (not a value; see ``_records.py``)

Anything else under the root (a ``.lakelet-location.json`` marker, ``.tmp``
folders, half-uploaded temp names) is ignored by listing.

Publishing is atomic and create-only. The default is a conditional put
(``pipe_file``/``put_file`` with ``mode="create"``): object stores make an
object visible only when its single PUT, or its whole multipart upload,
completes, and a ``FileExistsError`` means another writer stored the same
content first, which is success. Filesystems without a conditional put (SFTP)
override :meth:`FsspecLocation._publish` with write-to-temp-then-rename.

Subclasses (S3, GCS, Azure, SFTP, Nginx) only build the filesystem, name the
URL, classify their client library's exceptions and close their connections.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, BinaryIO, cast

from .._epoch import to_epoch
from .._hashing import key_of_path, key_path, validate_key
from ..errors import InvalidArgument, StorageError, StorageInternalError, StorageKeyNotFound
from ._deadlines import Deadlines, bound_fsspec
from ._records import record_bytes, validate_record_name, validate_record_prefix
from ._usage import UsageCounter
from .abc import Blob, EntryInfo, ErrorMap, Location, Usage, check_repair, translate_errors

_RECORDS = ".records"


def _is_record_name(name: str) -> bool:
    """Whether a listed path is a record (and not, say, an SFTP upload's temporary)."""
    try:
        validate_record_name(name)
    except InvalidArgument:
        return False
    last = name.rpartition("/")[2]
    return not (last.startswith(".") and last.endswith(".tmp"))


class FsspecLocation(Location):
    """Values stored as ``<root>/ab/<62 hex>`` objects of an fsspec filesystem.

    ``fs`` is a filesystem, or a function that builds one on first use (so a
    location over an unreachable server can be constructed, and fails only
    when used). It should be a private instance (``skip_instance_cache=True``,
    ``use_listings_cache=False``): values written by other processes must be
    seen at once, and :meth:`close` releases its connections. ``max_size``
    caps the bytes this location takes (checked against a listing at most
    ``_USAGE_TTL`` seconds old).
    """

    kind = "fsspec"
    #: backend exception types mapped before the built-in OSError mapping
    extra_errors: ErrorMap = ()
    #: a remote backend's deadlines: every call of its (async) filesystem is cut off after them
    request_deadlines: Deadlines | None = None

    def __init__(
        self,
        fs: Any,
        root: str,
        *,
        max_size: int | None = None,
        writable: bool = True,
    ) -> None:
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise InvalidArgument(f"{type(self).__name__} max_size must be a non-negative int, got {max_size!r}")
        if not isinstance(root, str) or "\x00" in root:
            raise InvalidArgument(f"{type(self).__name__} root must be a str without NUL bytes, got {root!r}")
        if any(part == ".." for part in root.split("/")):
            raise InvalidArgument(f"{type(self).__name__} root may not contain '..': {root!r}")
        self._fs = None if callable(fs) and not hasattr(fs, "open") else fs
        self._factory: Callable[[], Any] | None = fs if self._fs is None else None
        self._closed = False
        self.root = root.rstrip("/")
        self.max_size = max_size
        self.writable = writable
        self._lock = threading.Lock()
        self._usage = UsageCounter(self.entries)

    # ------------------------------------------------------------------ subclass hooks
    def classify(self, error: BaseException) -> type[StorageError] | None:
        """Pick the lakelet error for a backend exception the type map cannot (codes, statuses)."""
        return None

    def _close_fs(self, fs: Any) -> None:
        """Release ``fs``'s connections. The default drops the last reference, which runs
        the finalizer fsspec implementations register to close their sessions."""

    def _publish(self, path: str, blob: Blob) -> None:
        """Make ``blob`` visible at ``path`` atomically, unless something is already there."""
        try:
            if blob.data is not None:
                self.fs.pipe_file(path, blob.read_bytes(), mode="create")
            else:
                self.fs.put_file(str(blob.path), path, mode="create")
        except FileExistsError:
            return  # another writer stored this key first: equal content by construction

    def _put_record(self, path: str, data: bytes, replace: bool) -> bool:
        """Store a record's bytes at ``path`` in one atomic PUT: conditional (create-only, False if
        present) or overwriting (an object store replaces an object atomically)."""
        try:
            self.fs.pipe_file(path, data, mode="overwrite" if replace else "create")
        except FileExistsError:
            return False
        return True

    def _container_missing(self, error: BaseException) -> bool:
        """Whether a write failed because the bucket/container does not exist (yet)."""
        return isinstance(error, FileNotFoundError)

    def _create_container(self) -> bool:
        """Create the bucket/container a write found missing; False if this backend cannot."""
        return False

    def _is_missing(self, error: FileNotFoundError) -> bool:
        """Whether a FileNotFoundError from the client means the object is absent (and not,
        say, a connection failure that the client reported as "not found")."""
        return True

    def _last_access(self, info: dict[str, Any]) -> float | None:
        """Seconds since the epoch of the last access (or, failing that, modification)."""
        for name in ("atime", "mtime", "LastModified", "last_modified", "updated", "Last-Modified", "time"):
            stamp = to_epoch(info.get(name))
            if stamp is not None:
                return stamp
        return None

    # ------------------------------------------------------------------ plumbing
    @property
    def fs(self) -> Any:
        """The underlying fsspec filesystem."""
        if self._fs is None:
            if self._closed or self._factory is None:
                raise StorageInternalError("this location is closed", location=self)
            with self._lock:
                if self._fs is None:
                    with self.errors():
                        self._fs = self._factory()
        if self.request_deadlines is not None and not getattr(self._fs, "_lakelet_bounded", False):
            with self._lock:
                if not getattr(self._fs, "_lakelet_bounded", False):
                    bound_fsspec(self._fs, self.request_deadlines, self.url)
                    self._fs._lakelet_bounded = True
        return self._fs

    def errors(self, key: str | None = None) -> AbstractContextManager[None]:
        """Translate this backend's exceptions into lakelet storage errors."""
        return translate_errors(self, key, self.extra_errors, self.classify)

    def _path(self, key: str) -> str:
        return f"{self.root}/{key_path(key)}"

    def _stat(self, key: str) -> dict[str, Any] | None:
        """The fsspec info of ``key``'s object, or None if it is not stored."""
        with self.errors(key):
            try:
                info = self.fs.info(self._path(key))
            except FileNotFoundError as e:
                if self._is_missing(e):
                    return None
                raise
        return info if info.get("type", "file") == "file" else None

    # ------------------------------------------------------------------ reads
    @contextmanager
    def read(self, key: str) -> Iterator[BinaryIO]:
        validate_key(key)
        with self.errors(key):
            try:
                handle = self.fs.open(self._path(key), "rb")
            except FileNotFoundError as e:
                if self._is_missing(e):
                    raise self._not_found(key) from None
                raise
        self._after_read(key)
        reader = TranslatingReader(handle, lambda: self.errors(key))
        try:
            yield cast(BinaryIO, reader)  # a raw reader with the BinaryIO methods readers use
        finally:
            reader.close()

    def _after_read(self, key: str) -> None:
        """Hook run after a successful open (access tracking)."""

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self.errors(key):
            try:
                data = self.fs.cat_file(self._path(key))
            except FileNotFoundError as e:
                if self._is_missing(e):
                    raise self._not_found(key) from None
                raise
        self._after_read(key)
        return cast(bytes, data)

    def contains(self, key: str) -> bool:
        validate_key(key)
        return self._stat(key) is not None

    def info(self, key: str) -> EntryInfo:
        validate_key(key)
        info = self._stat(key)
        if info is None:
            raise self._not_found(key)
        return EntryInfo(key, int(info.get("size") or 0), last_access=self._last_access(info))

    # ------------------------------------------------------------------ writes
    def write(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        if not self.writable:
            return False
        try:
            stored = self.info(key).size  # a HEAD is far cheaper than re-uploading equal content
        except StorageKeyNotFound:
            stored = None
        if stored is not None:
            if stored != blob.size:  # a truncated or damaged copy: the bytes being written repair it
                self.repair(key, blob)
            return True
        if not self._has_room(blob.size):
            return False
        with self.errors(key):
            self._publish(self._path(key), blob)
        self._usage.added(blob.size)
        return True

    def repair(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        self._require_writable(key)
        check_repair(self, key, blob)
        with self.errors(key):
            self._overwrite(self._path(key), blob)
        return True

    def _overwrite(self, path: str, blob: Blob) -> None:
        """Replace the object at ``path`` in one atomic PUT (object stores never show half an object)."""
        if blob.data is not None:
            self.fs.pipe_file(path, blob.read_bytes())
        else:
            self.fs.put_file(str(blob.path), path)

    def delete(self, key: str) -> bool:
        validate_key(key)
        self._require_writable(key)
        info = self._stat(key)  # object stores delete missing objects silently: ask first
        if info is None:
            return False
        with self.errors(key):
            try:
                self.fs.rm_file(self._path(key))
            except FileNotFoundError:
                return False
        self._usage.removed(int(info.get("size") or 0))
        return True

    def _has_room(self, size: int) -> bool:
        if self.max_size is None:
            return True
        return self._usage.get()[0] + size <= self.max_size

    # ------------------------------------------------------------------ records
    def _record_path(self, name: str) -> str:
        return f"{self.root}/{_RECORDS}/{validate_record_name(name)}"

    def read_record(self, name: str) -> bytes:
        path = self._record_path(name)
        with self.errors(name):
            try:
                return cast(bytes, self.fs.cat_file(path))
            except FileNotFoundError as e:
                if self._is_missing(e):
                    raise StorageKeyNotFound("no such record", location=self, key=name) from None
                raise

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        path = self._record_path(name)
        data = record_bytes(data, name)
        self._require_writable(name)
        with self.errors(name):
            try:
                return self._put_record(path, data, replace)
            except Exception as e:
                if not self._container_missing(e) or not self._create_container():
                    raise
                return self._put_record(path, data, replace)

    def delete_record(self, name: str) -> bool:
        path = self._record_path(name)
        self._require_writable(name)
        with self.errors(name):
            if not self.fs.exists(path):  # object stores delete missing objects silently: ask first
                return False
            try:
                self.fs.rm_file(path)
            except FileNotFoundError:
                return False
        return True

    def list_records(self, prefix: str = "") -> Iterator[str]:
        validate_record_prefix(prefix)
        base = f"{self.root}/{_RECORDS}/" if self.root else f"{_RECORDS}/"
        folder, _, _ = prefix.rpartition("/")  # list only below the folder the prefix names
        with self.errors():
            try:
                found = self.fs.find(base + folder if folder else base.rstrip("/"), withdirs=False)
            except FileNotFoundError:
                return
        for path in found:
            path = path.rstrip("/")
            if not path.startswith(base):
                path = self.fs._strip_protocol(path)
                if not path.startswith(base):
                    continue
            name = path[len(base) :]
            if name.startswith(prefix) and _is_record_name(name):
                yield name

    # ------------------------------------------------------------------ listing
    def _listing(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, info) of every value under the root, from one recursive listing."""
        prefix = f"{self.root}/" if self.root else ""
        with self.errors():
            try:
                found = self.fs.find(self.root, detail=True, withdirs=False)
            except FileNotFoundError:
                return
        for path, info in found.items():
            path = path.rstrip("/")
            if not path.startswith(prefix):
                path = self.fs._strip_protocol(path)  # some backends list full URLs
                if not path.startswith(prefix):
                    continue
            key = key_of_path(path[len(prefix) :])
            if key is not None and info.get("type", "file") == "file":
                yield key, info

    def keys(self) -> Iterator[str]:
        for key, _ in self._listing():
            yield key

    def entries(self) -> Iterator[EntryInfo]:
        for key, info in self._listing():
            yield EntryInfo(key, int(info.get("size") or 0), last_access=self._last_access(info))

    def usage(self) -> Usage:
        total, count = self._usage.get(fresh=True)
        return Usage(total, count, self.max_size)

    def capacity(self) -> int | None:
        return self.max_size

    def free_space(self) -> int | None:
        if self.max_size is None:
            return None
        return max(self.max_size - self._usage.get()[0], 0)

    # ------------------------------------------------------------------ lifecycle
    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["max_size"] = self.max_size
        return d

    def close(self) -> None:
        fs, self._fs = self._fs, None
        self._closed = True
        if fs is not None:
            self._close_fs(fs)


class TranslatingReader(io.RawIOBase):
    """A binary reader over a backend file whose exceptions become lakelet errors."""

    def __init__(self, handle: Any, errors: Callable[[], AbstractContextManager[None]]) -> None:
        super().__init__()
        self._handle = handle
        self._errors = errors

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(getattr(self._handle, "seekable", lambda: False)())

    def read(self, size: int | None = -1) -> bytes:
        with self._errors():
            return cast(bytes, self._handle.read(-1 if size is None else size))

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        with self._errors():
            return cast(int, self._handle.seek(offset, whence))

    def tell(self) -> int:
        return cast(int, self._handle.tell())

    def close(self) -> None:
        if not self.closed:
            try:
                with self._errors():
                    self._handle.close()
            finally:
                super().close()


def split_root(root: str) -> str:
    """Normalise a ``bucket/prefix`` root: no leading/trailing or doubled slashes."""
    return "/".join(part for part in root.split("/") if part)


def require(module: str, extra: str) -> Any:
    """Import an optional backend library, or say exactly which extra to install."""
    from .._optional import require as _require

    return _require(module, extra=extra, what="this location")

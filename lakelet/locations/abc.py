"""The Location SPI: where bytes live.

A location is a flat map from storage keys (sha256 hex digests) to immutable
blobs. It knows nothing of hashing except in :meth:`Location.read_verified`.
Five methods are abstract; everything else has a default an implementation may
override for speed. Composites (``Levels``, ``Fanout``, ``Small``) are locations
too and run the same contract suite (:mod:`lakelet.testing`).

Implementer notes
-----------------
* ``write`` is *create-only and idempotent*: a key that is already present is
  left alone and ``True`` is returned. Content addressing makes equal keys mean
  equal bytes, so concurrent writers of one key may race freely as long as the
  publish step is atomic (rename, conditional put, ``SET NX``).
* ``write`` returns ``False`` (never raises) when the location *declines* the
  value: it is read-only, the value is too large, or there is no room.
* ``read`` raises :class:`StorageKeyNotFound`; it yields a ``Path`` only for
  files on a local disk that the caller must not modify, otherwise a readable
  binary file object. Either is valid only inside the ``with`` block.
* Backend exceptions never leak: wrap calls in :func:`translate_errors`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..errors import (
    LakeletError,
    ReadOnlyLocation,
    StorageAccessDenied,
    StorageCorruption,
    StorageError,
    StorageFull,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)

ReadValue = Path | BinaryIO


class Blob:
    """A value on its way into a location: bytes in memory or a local file, of known size.

    ``owned`` files are private temporaries that a location may hard-link into
    place instead of copying (the caller deletes its own name afterwards).
    """

    __slots__ = ("size", "data", "path", "owned")

    def __init__(
        self,
        *,
        data: bytes | bytearray | memoryview | None = None,
        path: Path | None = None,
        size: int | None = None,
        owned: bool = False,
    ) -> None:
        if (data is None) == (path is None):
            raise TypeError("a Blob holds exactly one of data= or path=")
        self.data = memoryview(data).cast("B") if data is not None else None
        self.path = Path(path) if path is not None else None
        if size is None:
            size = self.data.nbytes if self.data is not None else os.stat(cast(Path, self.path)).st_size
        self.size = size
        self.owned = owned

    @contextmanager
    def open(self) -> Iterator[BinaryIO]:
        """A fresh binary reader positioned at the start; may be called many times."""
        if self.data is not None:
            yield io.BytesIO(self.data)  # BytesIO shares the buffer until written to
        else:
            with open(cast(Path, self.path), "rb") as f:
                yield cast(BinaryIO, f)

    def read_bytes(self) -> bytes:
        """The whole value in memory; for backends that only take bytes (small values)."""
        if self.data is not None:
            return self.data.tobytes()
        return self.path.read_bytes()  # type: ignore[union-attr]

    def __repr__(self) -> str:
        where = "memory" if self.data is not None else str(self.path)
        return f"Blob(size={self.size}, {where})"


@dataclass(frozen=True)
class EntryInfo:
    """What a location knows of one stored value."""

    key: str
    size: int
    last_access: float | None = None  # seconds since the epoch; None if the backend cannot tell
    created: float | None = None


@dataclass(frozen=True)
class Usage:
    """How much a location holds, and how much it may hold."""

    bytes: int
    entries: int
    capacity: int | None = None  # max bytes (a cap or the free disk space), None if unbounded/unknown
    extra: dict[str, Any] = field(default_factory=dict)


class Location(ABC):
    """A place that stores immutable blobs under storage keys."""

    #: can values be written (and deleted)?
    writable: bool = True
    #: can the keys be enumerated?
    listable: bool = True
    #: short name of the backend, shown in topology views
    kind: str = "location"
    #: does a value written here outlive this process? Composites that must store a value
    #: somewhere durable (``Levels``) write on until a durable member holds it.
    durable: bool = True

    # --------------------------------------------------------------------------- the SPI
    @abstractmethod
    def read(self, key: str) -> AbstractContextManager[ReadValue]:
        """Yield a ``Path`` (local file, read-only) or a binary reader for ``key``."""

    @abstractmethod
    def write(self, key: str, blob: Blob) -> bool:
        """Store ``blob`` under ``key`` unless present. True if held afterwards, False if declined."""

    @abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there. Read-only locations raise :class:`ReadOnlyLocation`."""

    @abstractmethod
    def contains(self, key: str) -> bool:
        """Whether ``key`` is stored here."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""

    # --------------------------------------------------------------------------- named records
    # A second, small namespace beside the content-addressed values: named, create-only
    # (replaceable atomically on request), never listed by keys(). See locations/_records.py.
    def read_record(self, name: str) -> bytes:
        """The bytes of record ``name``; raises :class:`StorageKeyNotFound`."""
        raise self._no_records()

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        """Store record ``name`` atomically. Create-only unless ``replace``: returns False (and
        changes nothing) when the record exists; True when ``data`` was stored. A replaced
        record is never briefly missing. Read-only locations raise :class:`ReadOnlyLocation`."""
        raise self._no_records()

    def delete_record(self, name: str) -> bool:
        """Remove record ``name``; True if it was there."""
        raise self._no_records()

    def list_records(self, prefix: str = "") -> Iterator[str]:
        """Names of the records starting with ``prefix``, in no particular order."""
        raise self._no_records()

    def _no_records(self) -> StorageError:
        return StorageInternalError(f"{type(self).__name__} keeps no named records", location=self)

    # --------------------------------------------------------------------------- defaults
    @property
    def url(self) -> str:
        """Where this location is, as a URL-like string (for display and the registry)."""
        return f"{self.kind}://"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.contains(key)

    def read_bytes(self, key: str) -> bytes:
        """The whole value of ``key`` in memory."""
        with self.read(key) as value:
            if isinstance(value, Path):
                return value.read_bytes()
            return value.read()

    def touch(self, key: str) -> bool:
        """Record an access to ``key`` (for LRU eviction); True if the key is here."""
        return self.contains(key)

    def info(self, key: str) -> EntryInfo:
        """Size and access time of ``key``; raises :class:`StorageKeyNotFound`."""
        with self.read(key) as value:
            if isinstance(value, Path):
                return EntryInfo(key, value.stat().st_size)
            return EntryInfo(key, _stream_size(value))

    def entries(self) -> Iterator[EntryInfo]:
        """Info for every stored key; backends override this with one listing call."""
        for key in self.keys():
            try:
                yield self.info(key)
            except StorageKeyNotFound:
                continue  # removed between listing and stat: not an entry any more

    def usage(self) -> Usage:
        """Bytes and entries held (and the capacity, if bounded)."""
        total = count = 0
        for entry in self.entries():
            total += entry.size
            count += 1
        return Usage(total, count, self.capacity())

    def capacity(self) -> int | None:
        """The most bytes this location may hold, if bounded."""
        return None

    def free_space(self) -> int | None:
        """Bytes that may still be written, or None if unbounded/unknown."""
        cap = self.capacity()
        if cap is None:
            return None
        return max(cap - self.usage().bytes, 0)

    def accepts(self, size: int) -> bool:
        """Whether a value of ``size`` bytes would be taken by :meth:`write` (cheap pre-check)."""
        if not self.writable:
            return False
        free = self.free_space()
        return free is None or size <= free

    def repair(self, key: str, blob: Blob) -> bool:
        """Replace the stored copy of ``key`` with ``blob`` atomically (it is never briefly missing).

        For a copy that no longer hashes to its key. The offered bytes are hashed first:
        if they do not match ``key`` nothing changes and :class:`StorageCorruption` is raised.
        """
        raise StorageInternalError(f"{type(self).__name__} cannot repair values in place", location=self, key=key)

    def read_verified(self, key: str) -> AbstractContextManager[ReadValue]:
        """Like :meth:`read`, but the content is re-hashed first; raises :class:`StorageCorruption`."""
        return _read_verified(self, key)

    def staging_dir(self) -> Path | None:
        """A local folder where a writer may prepare a value so that :meth:`write` can link it.

        Only a location that writes to a local disk has one (composites ask their
        first writable member); values prepared elsewhere are copied instead.
        """
        return None

    def staging_dirs(self, size: int | None = None) -> Iterator[Path]:
        """Staging folders of the members a value of ``size`` bytes may be written to, in write
        order (a composite lists its writers'; a member that already says it has no room for
        ``size`` is skipped). Lazy: a folder is made only when the caller gets that far."""
        if size is not None and not self.accepts(size):
            return
        folder = self.staging_dir()
        if folder is not None:
            yield folder

    def children(self) -> Sequence[Location]:
        """The locations a composite is made of (empty for a plain location)."""
        return ()

    def walk(self) -> Iterator[Location]:
        """This location, then every location it is made of, depth first."""
        yield self
        for child in self.children():
            yield from child.walk()

    def describe(self) -> dict[str, Any]:
        """A JSON-able description of this location and its children, for topology views."""
        return {
            "kind": self.kind,
            "url": self.url,
            "writable": self.writable,
            "listable": self.listable,
            "durable": self.durable,
            "children": [child.describe() for child in self.children()],
        }

    def close(self) -> None:
        """Release connections and handles. The location may not be used afterwards."""
        for child in self.children():
            child.close()

    def __enter__(self) -> Location:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # helpers for implementations
    def _require_writable(self, key: str | None = None) -> None:
        if not self.writable:
            raise ReadOnlyLocation("this location is read-only", location=self, key=key)

    def _not_found(self, key: str) -> StorageKeyNotFound:
        return StorageKeyNotFound("key not found", location=self, key=key)


def _stream_size(stream: BinaryIO) -> int:
    if stream.seekable():
        return stream.seek(0, io.SEEK_END)
    size = 0
    while chunk := stream.read(2**20):
        size += len(chunk)
    return size


@contextmanager
def _read_verified(location: Location, key: str) -> Iterator[ReadValue]:
    with location.read(key) as value:
        if isinstance(value, Path):
            with open(value, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").hexdigest()
            if digest != key:
                raise StorageCorruption(f"content hashes to {digest}", location=location, key=key)
            yield value
            return
        # A stream can only be read once: spool it to a private file while hashing,
        # then hand out that file, so the caller reads exactly the bytes we checked.
        with tempfile.TemporaryDirectory(prefix="lakelet-verify-") as tmp:
            path = Path(tmp) / key
            h = hashlib.sha256()
            with open(path, "wb") as out:
                while chunk := value.read(2**20):
                    h.update(chunk)
                    out.write(chunk)
            if h.hexdigest() != key:
                raise StorageCorruption(f"content hashes to {h.hexdigest()}", location=location, key=key)
            path.chmod(0o444)
            yield path


# ------------------------------------------------------------------------------- errors
ErrorMap = Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...], type[StorageError]]]

_OS_ERRORS: ErrorMap = (
    (FileNotFoundError, StorageKeyNotFound),
    (PermissionError, StorageAccessDenied),
    ((ConnectionError, TimeoutError), StorageNetworkConnectionError),
)


@contextmanager
def translate_errors(
    location: Location,
    key: str | None = None,
    extra: ErrorMap = (),
    classify: Callable[[BaseException], type[StorageError] | None] | None = None,
) -> Iterator[None]:
    """Turn backend exceptions into lakelet's storage errors, naming location and key.

    ``extra`` maps backend exception types first; ``classify`` may inspect an
    exception (an HTTP status, an error code) and choose the lakelet type.
    Lakelet's own errors and non-``Exception`` signals pass through untouched.
    """
    try:
        yield
    except LakeletError:
        raise
    except Exception as e:
        target = classify(e) if classify is not None else None
        if target is None:
            for types, mapped in (*extra, *_OS_ERRORS):
                if isinstance(e, types):
                    target = mapped
                    break
        if target is None and isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            target = StorageFull
        if target is None:
            if not isinstance(e, OSError | RuntimeError | ValueError):
                raise
            target = StorageInternalError
        raise target(f"{type(e).__name__}: {e}", location=location, key=key) from e


def blob_digest(blob: Blob) -> str:
    """The sha256 of a blob's bytes (to check what is offered to :meth:`Location.repair`)."""
    if blob.data is not None:
        return hashlib.sha256(blob.data).hexdigest()
    with open(cast(Path, blob.path), "rb", buffering=0) as f:  # raw: file_digest reads into its own buffer
        return hashlib.file_digest(f, "sha256").hexdigest()


def check_repair(location: Location, key: str, blob: Blob) -> None:
    """Raise :class:`StorageCorruption` unless ``blob`` hashes to ``key`` (a repair never installs bad bytes)."""
    digest = blob_digest(blob)
    if digest != key:
        raise StorageCorruption(f"the bytes offered to repair this value hash to {digest}", location=location, key=key)


def copy_blob_to_file(blob: Blob, dst: BinaryIO) -> None:
    """Write a blob's bytes into an open binary file."""
    if blob.data is not None:
        dst.write(blob.data)
        return
    with open(blob.path, "rb") as src:  # type: ignore[arg-type]
        shutil.copyfileobj(src, dst, 8 * 2**20)


def now() -> float:
    """Wall-clock seconds; one place so tests and eviction agree on the clock."""
    return time.time()


__all__ = [
    "Blob",
    "blob_digest",
    "check_repair",
    "EntryInfo",
    "Location",
    "ReadValue",
    "Usage",
    "copy_blob_to_file",
    "translate_errors",
]

"""``HashKeyStorage``: content-addressed blobs over any location.

``write`` streams a value once, hashing while it copies, and stores it under its
sha256; ``read`` hands back a local path (zero copy) or a stream. Which tier a
value lands in is the location's business (``Levels``, ``Fanout``, ``Small``).

>>> from lakelet import HashKeyStorage
>>> storage = HashKeyStorage("memory://")
>>> key = storage.write(b"hello")
>>> key[:16]
'2cf24dba5fb0a30e'
>>> storage.read_bytes(key)
b'hello'
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from ._hashing import CHUNK, _read_full, copy_file_hashing, copy_hashing, hash_bytes, hash_file, validate_key
from ._heal import FsckReport, fsck, good_copy_below
from ._numbers import seconds
from ._owner import owned_name
from ._staging import HashingWriter, StagingFile, candidate_dirs
from .errors import (
    InvalidArgument,
    ReadOnlyLocation,
    StorageCorruption,
    StorageFull,
    StorageKeyNotFound,
)
from .locations.abc import Blob, EntryInfo, Location, ReadValue, Usage, translate_errors
from .locations.levels import Levels
from .registry import open_location
from .reports import GCReport

if TYPE_CHECKING:
    from .config import Config

_INLINE_FILE = 1 * 2**20  # files up to this size are read into memory before hashing


class HashKeyStorage:
    """Blobs kept under their sha256, in ``location`` (a Location, a local folder or a URL).

    ``verify=True`` re-hashes every value on read and raises
    :class:`~lakelet.StorageCorruption` on a mismatch (a ``Levels`` stack heals
    the bad copy from a lower level instead).
    """

    def __init__(self, location: Location | str | os.PathLike[str] | Any, *, verify: bool = False) -> None:
        self.location: Location = open_location(location)
        self.verify_reads = verify

    @property
    def records(self) -> Records:
        """The named records beside the values (cache index entries...): see :class:`Records`."""
        return Records(self.location)

    # ------------------------------------------------------------------ writing
    def write(self, value: bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO | Any) -> str:
        """Store ``value`` (bytes-like, a path to a file, or a binary file object); return its key.

        Writing content that is already stored is a no-op that returns the same key.
        """
        if isinstance(value, str | os.PathLike):
            return self._write_path(Path(os.fspath(value)))
        if hasattr(value, "read"):
            return self._write_stream(cast(BinaryIO, value))
        try:
            data = memoryview(value)
        except TypeError:
            raise InvalidArgument(
                f"cannot store a {type(value).__name__}: pass bytes, a path to a file, or a binary file object"
            ) from None
        if not data.contiguous:
            raise InvalidArgument("cannot store a non-contiguous buffer; make it contiguous first")
        data = data.cast("B") if data.ndim != 1 or data.format != "B" else data
        key = hash_bytes(data)
        self._store(key, Blob(data=data))
        return key

    def _write_path(self, path: Path) -> str:
        if "\x00" in str(path):
            raise InvalidArgument(f"path holds a NUL byte: {str(path)!r}")
        try:
            st = path.stat()
        except FileNotFoundError:
            raise InvalidArgument(f"cannot store {str(path)!r}: no such file") from None
        except OSError as e:  # a symlink loop (ELOOP), a name too long...
            raise InvalidArgument(f"cannot store {str(path)!r}: {e.strerror or e}") from e
        if not path.is_file():
            raise InvalidArgument(f"cannot store {str(path)!r}: not a regular file")
        if st.st_size <= _INLINE_FILE:
            data = path.read_bytes()
            key = hash_bytes(data)
            self._store(key, Blob(data=data))
            return key
        folders = list(self.location.staging_dirs(st.st_size))
        if not folders:
            # Nowhere to link from: hash in place, the location then reads the file itself.
            key, size = hash_file(path)
            self._store(key, Blob(path=path, size=size))
            return key
        with open(path, "rb") as src:
            for folder in folders:  # a full disk: stage in the next write target's folder
                try:
                    return self._stage_file_and_store(src, folder)
                except StorageFull:
                    if folder == folders[-1]:
                        raise
                    src.seek(0)
        raise AssertionError("unreachable")

    def _write_stream(self, stream: BinaryIO) -> str:
        head = memoryview(bytearray(CHUNK))
        n = _read_full(stream, head)
        if n < CHUNK:  # the whole stream fitted in one chunk
            data = head[:n]
            key = hash_bytes(data)
            self._store(key, Blob(data=data))
            return key
        return self._stage_and_store(_Prefixed(head, stream))

    def _stage_file_and_store(self, src: BinaryIO, staging: Path) -> str:
        """Copy a big local file into a private file in the kernel, hashing the copy as it grows."""
        tmp = staging / owned_name("stage")  # swept at the next write if this process is killed
        try:
            with translate_errors(self.location):
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                with open(fd, "r+b", buffering=0) as out:
                    copied = copy_file_hashing(src.fileno(), out.fileno())
                    if copied is None:  # no kernel copy between these files: stream through Python
                        copied = copy_hashing(src, out.write)
            key, size = copied
            self._store(key, Blob(path=tmp, size=size, owned=True))
            return key
        finally:
            tmp.unlink(missing_ok=True)

    def _stage_and_store(self, src: Any) -> str:
        """Copy a big source into a private file while hashing (one pass), then publish it.

        The file starts in the first write target's staging folder and moves on to the
        next one if that disk fills up (a stream cannot be read twice).
        """
        with translate_errors(self.location):
            staged = StagingFile(candidate_dirs(self.location))
        try:
            with translate_errors(self.location):
                key, size = copy_hashing(src, staged.write)
                staged.close()
            self._store(key, Blob(path=staged.path, size=size, owned=True))
            return key
        finally:
            staged.discard()

    @contextmanager
    def writer(self) -> Iterator[HashingWriter]:
        """A binary file to write a value into; on leaving the ``with`` it is hashed and stored.

        >>> with storage.writer() as f:          # doctest: +SKIP
        ...     np.save(f, array)
        >>> f.key                                  # doctest: +SKIP

        Small values stay in memory, bigger ones are staged once in a write target's
        ``.tmp`` and linked into place (no second copy). An exception inside the block
        stores nothing and leaves no temporary behind.
        """
        out = HashingWriter(self, CHUNK)
        try:
            yield out
        except BaseException:
            out.discard()
            raise
        with translate_errors(self.location):
            out.publish()

    def _store(self, key: str, blob: Blob) -> None:
        if self.location.write(key, blob):
            return
        if not self.location.writable:
            raise ReadOnlyLocation("no member of this storage accepts writes", location=self.location, key=key)
        raise StorageFull(f"no location had room for a value of {blob.size} bytes", location=self.location, key=key)

    # ------------------------------------------------------------------ reading
    @contextmanager
    def read(self, key: str, verify: bool | None = None) -> Iterator[ReadValue]:
        """Yield a read-only local ``Path`` or a binary file object; valid inside the ``with`` only.

        ``verify`` (default: this storage's ``verify=``) re-hashes the content first and
        raises :class:`~lakelet.StorageCorruption` when no copy hashes to ``key``.
        Raises :class:`~lakelet.StorageKeyNotFound` (a ``KeyError``) for a missing key.
        """
        validate_key(key)
        verify = self.verify_reads if verify is None else verify
        reader = self.location.read_verified(key) if verify else self.location.read(key)
        with reader as value:
            yield value

    def read_bytes(self, key: str, verify: bool | None = None) -> bytes:
        """The whole value of ``key`` in memory (``verify`` as in :meth:`read`)."""
        validate_key(key)
        if self.verify_reads if verify is None else verify:
            with self.read(key, verify=True) as value:
                return value.read_bytes() if isinstance(value, Path) else value.read()
        return self.location.read_bytes(key)

    def contains(self, key: str) -> bool:
        """Whether ``key`` is stored (in any tier)."""
        return self.location.contains(validate_key(key))

    def __contains__(self, key: object) -> bool:
        return self.contains(key)  # type: ignore[arg-type]

    def remove(self, key: str) -> bool:
        """Delete ``key`` from every tier that can delete; True if it was stored."""
        return self.location.delete(validate_key(key))

    def keys(self) -> Iterator[str]:
        """Every stored key (each once, even when several tiers hold it)."""
        return self.location.keys()

    def __iter__(self) -> Iterator[str]:
        return self.keys()

    def info(self, key: str) -> EntryInfo:
        """Size and last access of ``key``."""
        return self.location.info(validate_key(key))

    def verify(self, key: str) -> bool:
        """Re-hash the value a read of ``key`` returns; False if it does not match its key."""
        validate_key(key)
        try:
            with self.location.read_verified(key):
                return True
        except StorageCorruption:
            return False

    # ------------------------------------------------------------------ accounting
    def usage(self) -> Usage:
        """Bytes and entries held (composites add a per-member breakdown in ``extra``)."""
        return self.location.usage()

    def gc(self, max_size: int | str | None = None, max_age: float | None = None, *, verify: bool = True) -> GCReport:
        """Evict from cache levels: least recently used first until each holds at most ``max_size``
        bytes, and everything not accessed for ``max_age`` seconds.

        Only values that a lower level still holds *good* are evicted, so nothing is lost:
        before a cache copy goes, the lower copy is re-hashed (``verify=False`` trusts it,
        which saves reading it back from a remote level); a damaged lower copy is first
        repaired from the cache's good one, and if that is impossible the cache keeps its
        copy. The last (authoritative) level of a ``Levels`` stack is never touched.
        """
        from .registry import parse_size

        limit = None if max_size is None else parse_size(max_size)
        seconds(max_age, "max_age")  # NaN would compare False with every access time
        evicted = freed = 0
        for member in self.location.walk():
            purge = getattr(member, "purge_temporaries", None)
            if purge is not None and member.writable:
                purge()  # half-written temporaries of crashed writers, older than an hour
        for cache, backing in _cache_levels(self.location):
            n, b = _evict(cache, backing, limit, max_age, verify)
            evicted += n
            freed += b
        return GCReport(evicted, freed)  # removed, bytes_freed

    def fsck(self, *, repair: bool = False) -> FsckReport:
        """Re-hash every stored copy in every tier; report the damaged ones and, with ``repair``,
        replace each by a good copy from another tier (atomically). A damaged copy with no good
        copy anywhere is reported in ``unrecoverable`` and kept. Reads everything: slow on
        remote tiers."""
        return fsck(self.location, repair=repair)

    def describe(self) -> dict[str, Any]:
        """The topology of this storage as JSON-able data."""
        return self.location.describe()

    def close(self) -> None:
        self.location.close()

    def __enter__(self) -> HashKeyStorage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HashKeyStorage({self.location!r})"

    def browse(self, **options: Any) -> Any:
        """An interactive browser widget for this storage (ipywidgets; see :mod:`lakelet.display`)."""
        from .display import browser

        return browser(self, **options)

class Records:
    """Named records of a storage: a second, small namespace beside the content-addressed values.

    Names are ``/``-separated segments of ``[A-Za-z0-9._-]``. Records are never listed by
    :meth:`HashKeyStorage.keys` and never verified as content. ``put`` is create-only
    unless ``replace=True``, and a replaced record is never briefly missing.
    """

    __slots__ = ("location",)

    def __init__(self, location: Location) -> None:
        self.location = location

    def get(self, name: str) -> bytes:
        """The bytes of record ``name``; raises :class:`~lakelet.StorageKeyNotFound` (a ``KeyError``)."""
        return self.location.read_record(name)

    def put(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        """Store ``data`` as ``name``; False (nothing changed) if it exists and ``replace`` is False."""
        return self.location.write_record(name, data, replace=replace)

    def delete(self, name: str) -> bool:
        """Remove record ``name``; True if it existed."""
        return self.location.delete_record(name)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Names of the records starting with ``prefix``."""
        return self.location.list_records(prefix)

    def __contains__(self, name: object) -> bool:
        try:
            self.get(name)  # type: ignore[arg-type]
        except StorageKeyNotFound:
            return False
        return True


class _Prefixed:
    """A reader that first returns an already-read head, then the rest of a stream."""

    def __init__(self, head: memoryview, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readinto(self, buf: memoryview) -> int:
        if self._head.nbytes:
            n = min(len(buf), self._head.nbytes)
            buf[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        readinto = getattr(self._rest, "readinto", None)
        if readinto is not None:
            return cast(int, readinto(buf))  # None ("no data yet") must reach _read_full, never read as the end
        chunk = self._rest.read(len(buf))
        if chunk is None or isinstance(chunk, str):
            return cast(int, chunk)  # _read_full names the problem
        buf[: len(chunk)] = chunk
        return len(chunk)


def _cache_levels(location: Location) -> Iterator[tuple[Location, list[Location]]]:
    """(cache level, the levels below it) for every Levels stack in a topology."""
    for member in location.walk():
        if isinstance(member, Levels):
            yield from member.caches()


def _evict(
    cache: Location, backing: list[Location], limit: int | None, max_age: float | None, verify: bool
) -> tuple[int, int]:
    if not cache.writable or not cache.listable:
        return 0, 0
    entries = sorted(cache.entries(), key=lambda e: e.last_access or 0.0)
    total = sum(e.size for e in entries)
    cutoff = None if max_age is None else time.time() - max_age
    evicted = freed = 0
    for entry in entries:
        too_big = limit is not None and total > limit
        too_old = cutoff is not None and (entry.last_access or 0.0) < cutoff
        if not (too_big or too_old):
            continue
        if not good_copy_below(cache, backing, entry.key, verify=verify):
            continue  # the only (good) copy: keep it
        if cache.delete(entry.key):
            evicted += 1
            freed += entry.size
            total -= entry.size
    return evicted, freed


def open_lake(config: Config | None = None) -> HashKeyStorage:
    """The configured lake (``[lake]`` of config.toml, else ``$LAKELET_HOME/lake``): the one opener.

    A lake whose writes reach no durable level (process memory, a Redis not marked durable) loses
    everything it caches when the process or the server restarts. That is allowed when chosen (a bare
    ``memory://`` lake, or ``volatile = true`` under ``[lake]``) and warned about otherwise, since it
    is what a mistyped config looks like: the cache then silently never survives a kernel restart.
    """
    import warnings

    from .config import get_config
    from .errors import VolatileLake

    config = get_config() if config is None else config
    storage = HashKeyStorage(config.lake_spec)
    location = storage.location
    if location.writable and not location.durable and not config.lake_volatile:
        leaves = [leaf.url for leaf in location.walk() if not leaf.children()]
        warnings.warn(
            f"the lake configured in {config.config_file} stores nothing durably: its writable levels "
            f"({', '.join(leaves)}) are process memory or a Redis not marked durable, so cached values are lost "
            "when the kernel or the server restarts. Add a folder or bucket level (e.g. \"~/.lakelet/lake\" "
            "last in `levels`), mark a persistent Redis `durable = true`, or write `volatile = true` under [lake] "
            "if that is what you want.",
            VolatileLake,
            stacklevel=2,
        )
    return storage

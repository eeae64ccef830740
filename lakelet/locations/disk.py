"""A folder on a local disk.

Layout (shared by a plain path and ``Disk(path)``)::

    root/
      .lakelet-location.json   layout marker, written once
      .tmp/                    writes in progress (never visible as values)
      .records/<name>          named records (cache index entries...), not values
      ab/cdef...               the value of key "abcdef..." (read-only file)

A value is written to a unique file in ``.tmp`` and then renamed (or hard-linked)
into place, so a reader or a crash never sees half a value. The file's mtime is
its last access (values are immutable, so mtime is free for that) and is bumped
on read, which is what LRU eviction uses.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

from .._hashing import is_key_folder, is_key_name, key_path, validate_key
from .._owner import owned_name, sweep_dead
from ..errors import InvalidArgument, StorageCorruption, StorageInternalError, StorageKeyNotFound
from ._records import record_bytes, validate_record_name, validate_record_prefix
from ._usage import UsageCounter
from .abc import Blob, EntryInfo, Location, Usage, now, translate_errors

LAYOUT = {"layout": "lakelet-hash-v1", "fanout": 2, "hash": "sha256"}
_MARKER = ".lakelet-location.json"
_RECORDS = ".records"
class Disk(Location):
    """Values as read-only files under ``root``; optionally capped at ``max_size`` bytes.

    ``fsync=True`` makes every write durable before it becomes visible (slower).
    """

    kind = "disk"

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_size: int | None = None,
        fsync: bool = False,
        track_access: bool = True,
    ) -> None:
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise InvalidArgument(f"Disk max_size must be a non-negative int of bytes, got {max_size!r}")
        if not isinstance(root, str | os.PathLike):
            raise InvalidArgument(f"Disk root must be a path, got {type(root).__name__}: {root!r:.80}")
        root = Path(os.fspath(root)).expanduser()
        if "\x00" in str(root):
            raise InvalidArgument(f"Disk root holds a NUL byte: {str(root)!r}")
        self.root = root.absolute()
        self.max_size = max_size
        self.fsync = fsync
        self.track_access = track_access
        self._tmp = self.root / ".tmp"
        self._root = str(self.root)
        self._anonymous_temps = _HAS_TMPFILE  # O_TMPFILE + linkat; off after the first refusal
        self._lock = threading.Lock()
        self._usage = UsageCounter(self.entries)
        # Opening only reads: the folder, its layout marker and .tmp are made by the first write
        # (looking at a lake, e.g. from the JupyterLab sidebar, never writes into it).
        self._ready = False
        with translate_errors(self):
            marker = self.root / _MARKER
            if marker.exists():
                self._check_layout(marker)  # (_ready stays False: the first write sweeps .tmp)

    def _check_layout(self, marker: Path) -> None:
        found = json.loads(marker.read_text())
        if found.get("layout") != LAYOUT["layout"]:
            raise StorageInternalError(f"folder holds an unknown layout {found.get('layout')!r}", location=self)

    def _prepare(self) -> None:
        """Create the folder, ``.tmp`` and the layout marker before the first write."""
        if self._ready:
            return
        with translate_errors(self):
            self._tmp.mkdir(parents=True, exist_ok=True)
            sweep_dead(self._tmp)  # staging files of writers killed earlier (see lakelet._owner)
            marker = self.root / _MARKER
            if not marker.exists():
                _atomic_write_text(marker, json.dumps(LAYOUT), self._tmp)
            else:
                self._check_layout(marker)
        self._ready = True

    @property
    def url(self) -> str:
        return str(self.root)

    def staging_dir(self) -> Path | None:
        if not self.writable:
            return None
        self._prepare()  # the caller is about to write
        return self._tmp

    def _path(self, key: str) -> Path:
        return Path(self._file(key))

    def _file(self, key: str) -> str:
        # plain strings: pathlib's joins cost more than the syscalls on the small-value path
        return f"{self._root}/{key_path(key)}"

    # ------------------------------------------------------------------------------ read
    @contextmanager
    def read(self, key: str) -> Iterator[Path]:
        validate_key(key)
        path = self._file(key)
        if not self._touch_path(path):
            raise self._not_found(key)
        yield Path(path)

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)
        with translate_errors(self, key):
            try:
                fd = os.open(self._file(key), os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                raise self._not_found(key) from None
            try:
                data = _read_fd(fd)
                if self.track_access:
                    self._touch_fd(fd)
            finally:
                os.close(fd)
        return data

    def _touch_fd(self, fd: int) -> None:
        try:
            os.utime(fd)
        except OSError as e:
            if e.errno not in _READ_ONLY:
                raise
            self.track_access = False  # see _touch_path

    def contains(self, key: str) -> bool:
        validate_key(key)
        return self._path(key).is_file()

    def touch(self, key: str) -> bool:
        validate_key(key)
        return self._touch_path(self._file(key))

    def _touch_path(self, path: str) -> bool:
        if not self.track_access:
            return os.path.isfile(path)
        try:
            os.utime(path)
        except FileNotFoundError:
            return False
        except OSError as e:
            if e.errno not in _READ_ONLY:
                raise
            # A folder we may read but not write (a shared or read-only mount: EACCES, EPERM,
            # EROFS): stop tracking access instead of failing reads; eviction then uses write times.
            self.track_access = False
            return os.path.isfile(path)
        return True

    def info(self, key: str) -> EntryInfo:
        validate_key(key)
        try:
            st = os.stat(self._path(key))
        except FileNotFoundError:
            raise self._not_found(key) from None
        return EntryInfo(key, st.st_size, last_access=st.st_mtime)

    # ------------------------------------------------------------------------------ write
    def write(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        self._prepare()
        if blob.data is not None and self._anonymous_temps and self.max_size is None and not self.fsync:
            outcome = self._write_anonymous(key, blob.data)
            if outcome is not _UNSUPPORTED:
                if outcome is _ADDED:
                    self._usage.added(blob.size)
                elif outcome is _PRESENT:
                    self._heal_if_damaged(key, blob)
                return outcome is not _FULL
        path = self._path(key)
        if path.exists():
            self._heal_if_damaged(key, blob)
            return True
        if not self._has_room(blob.size):
            return False
        with translate_errors(self, key):
            try:
                self._publish(path, blob)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    return False  # the disk filled up under us: decline, a lower tier may take it
                raise
        self._usage.added(blob.size)
        return True

    def _heal_if_damaged(self, key: str, blob: Blob) -> None:
        """Writing a value that is present re-checks the stored copy (only then: new values
        cost nothing more); a copy that no longer hashes to its key is replaced by the bytes
        being written, atomically. So writing the same content again repairs bit rot."""
        with translate_errors(self, key):
            try:
                with open(self._file(key), "rb") as f:
                    if hashlib.file_digest(f, "sha256").hexdigest() == key:
                        return
            except FileNotFoundError:
                pass  # deleted meanwhile: the repair below stores it again
        self.repair(key, blob)

    def repair(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        self._require_writable(key)
        self._prepare()
        path = self._file(key)
        tmp = f"{self._tmp}/{owned_name('repair')}"
        with translate_errors(self, key):
            try:
                h = hashlib.sha256()
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
                try:
                    if blob.data is not None:
                        h.update(blob.data)
                        _write_fd(fd, blob.data)
                    else:
                        with open(cast(Path, blob.path), "rb") as src:
                            while chunk := src.read(8 * 2**20):
                                h.update(chunk)
                                _write_fd(fd, memoryview(chunk))
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
                if h.hexdigest() != key:
                    raise StorageCorruption(f"the bytes offered to repair this value hash to {h.hexdigest()}",
                                            location=self, key=key)
                try:
                    old = os.stat(path).st_size
                except FileNotFoundError:
                    old = None
                self._place(lambda: os.replace(tmp, path), Path(path))
            finally:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass  # renamed into place
        if old is None:
            self._usage.added(blob.size)
        else:
            self._usage.removed(old)
            self._usage.added(blob.size)
        return True

    def _write_anonymous(self, key: str, data: memoryview) -> object:
        """Publish in-memory bytes with 4 syscalls: an unnamed file (O_TMPFILE) in the key's
        folder, filled, then linked under its name. Nothing is visible until the link, a
        crashed writer leaves nothing behind, and linkat fails if the key exists (so no
        existence check is needed). Returns _ADDED, _PRESENT, _FULL, or _UNSUPPORTED when this
        filesystem cannot do it (the portable path is taken from then on)."""
        folder = f"{self._root}/{key[:2]}"
        with translate_errors(self, key):
            try:
                try:
                    fd = os.open(folder, _TMPFILE_FLAGS, 0o444)
                except FileNotFoundError:  # the key's folder does not exist yet
                    os.makedirs(folder, exist_ok=True)
                    fd = os.open(folder, _TMPFILE_FLAGS, 0o444)
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
                    raise
                self._anonymous_temps = False
                return _UNSUPPORTED
            try:
                _write_fd(fd, data)
                # A dir fd argument makes CPython call linkat(..., AT_SYMLINK_FOLLOW), which links
                # the open file itself; the destination is absolute, so the fd's value is ignored.
                os.link(f"/proc/self/fd/{fd}", f"{folder}/{key[2:]}", dst_dir_fd=fd)
            except FileExistsError:
                return _PRESENT
            except FileNotFoundError:  # no /proc mounted: fall back for good
                self._anonymous_temps = False
                return _UNSUPPORTED
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT):
                    return _FULL  # decline: a lower tier may take it
                raise
            finally:
                os.close(fd)
        return _ADDED

    def _publish(self, path: Path, blob: Blob) -> None:
        if blob.owned and blob.path is not None and not self.fsync:
            try:
                os.chmod(blob.path, 0o444)
                source = blob.path
                self._place(lambda: os.link(source, path), path)
                return
            except FileExistsError:
                return  # a concurrent writer published the same content first
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                    raise
                # another filesystem, or links not allowed: fall back to a copy
        tmp = self._tmp / owned_name("copy")
        published = False
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with open(fd, "wb", closefd=True) as f:
                if blob.data is not None:
                    f.write(blob.data)
                else:
                    with open(cast(Path, blob.path), "rb") as src:
                        _copy_file(src, f, blob.size)
                if self.fsync:
                    f.flush()
                    os.fsync(f.fileno())
            self._place(lambda: os.rename(tmp, path), path)
            published = True
        finally:
            if not published:  # failed or interrupted: leave no temporary behind
                tmp.unlink(missing_ok=True)
        if self.fsync:
            _fsync_dir(path.parent)

    @staticmethod
    def _place(op: Callable[[], object], path: Path) -> None:
        try:
            op()
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            op()

    def _has_room(self, size: int) -> bool:
        if self.max_size is None:
            return True
        return self._usage.get()[0] + size <= self.max_size

    def delete(self, key: str) -> bool:
        validate_key(key)
        path = self._path(key)
        with translate_errors(self, key):
            try:
                size = path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                return False
        self._usage.removed(size)
        return True

    # ------------------------------------------------------------------------------ records
    def _record_file(self, name: str) -> str:
        return f"{self._root}/{_RECORDS}/{validate_record_name(name)}"

    def read_record(self, name: str) -> bytes:
        path = self._record_file(name)
        with translate_errors(self, name):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except (FileNotFoundError, NotADirectoryError):
                raise StorageKeyNotFound("no such record", location=self, key=name) from None
            try:
                return _read_fd(fd)
            finally:
                os.close(fd)

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        """Written to a temporary in ``.tmp``, then linked (create-only: fails if present) or
        renamed over the old record (replace: atomic, never missing)."""
        path = self._record_file(name)
        data = record_bytes(data, name)
        self._require_writable(name)
        self._prepare()
        tmp = f"{self._tmp}/record-{uuid.uuid4().hex}"
        with translate_errors(self, name):
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
                try:
                    _write_fd(fd, memoryview(data))
                    if self.fsync:
                        os.fsync(fd)
                finally:
                    os.close(fd)
                op = (lambda: os.replace(tmp, path)) if replace else (lambda: os.link(tmp, path))
                try:
                    self._place(op, Path(path))
                except FileExistsError:
                    return False  # create-only: the record is there already
                if self.fsync:
                    _fsync_dir(Path(path).parent)
                return True
            finally:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass  # renamed into place (or never made)

    def delete_record(self, name: str) -> bool:
        path = self._record_file(name)
        self._require_writable(name)
        with translate_errors(self, name):
            try:
                os.unlink(path)
            except (FileNotFoundError, NotADirectoryError):
                return False
        return True

    def list_records(self, prefix: str = "") -> Iterator[str]:
        validate_record_prefix(prefix)
        base = f"{self._root}/{_RECORDS}"
        folder, _, _ = prefix.rpartition("/")  # walk only below the folder the prefix names
        start = f"{base}/{folder}" if folder else base
        with translate_errors(self):
            for top, _dirs, files in os.walk(start):
                rel = top[len(base) + 1 :]
                for file in files:
                    name = f"{rel}/{file}" if rel else file
                    if name.startswith(prefix):
                        yield name

    # ------------------------------------------------------------------------------ listing
    def _scan(self) -> Iterator[os.DirEntry[str]]:
        with translate_errors(self):
            try:
                tops = list(os.scandir(self.root))
            except FileNotFoundError:
                return
            for top in tops:
                name = top.name
                if not is_key_folder(name) or not top.is_dir():
                    continue
                try:
                    children = list(os.scandir(top.path))
                except FileNotFoundError:
                    continue
                for entry in children:
                    if is_key_name(entry.name):
                        yield entry

    def keys(self) -> Iterator[str]:
        for entry in self._scan():
            yield Path(entry.path).parent.name + entry.name

    def entries(self) -> Iterator[EntryInfo]:
        for entry in self._scan():
            try:
                st = entry.stat()
            except FileNotFoundError:
                continue
            yield EntryInfo(Path(entry.path).parent.name + entry.name, st.st_size, last_access=st.st_mtime)

    def usage(self) -> Usage:
        total, count = self._usage.get(fresh=True)
        return Usage(total, count, self.capacity())

    def capacity(self) -> int | None:
        return self.max_size

    def free_space(self) -> int | None:
        with translate_errors(self):
            existing = next(p for p in (self.root, *self.root.parents) if p.exists())  # root may be unmade yet
            disk_free = shutil.disk_usage(existing).free
        if self.max_size is None:
            return disk_free
        return max(min(self.max_size - self._usage.get()[0], disk_free), 0)

    def purge_temporaries(self, max_age: float = 3600.0) -> int:
        """Delete temporaries older than ``max_age`` seconds left by crashed writers; returns how many."""
        removed = 0
        cutoff = now() - max_age
        if not self._tmp.is_dir():
            return 0  # nothing was ever written here
        removed += sweep_dead(self._tmp)  # whatever their age: their writers are gone
        with translate_errors(self):
            for entry in os.scandir(self._tmp):
                try:
                    if entry.stat().st_mtime <= cutoff:
                        os.unlink(entry.path)
                        removed += 1
                except FileNotFoundError:
                    continue  # its writer finished (renamed it) meanwhile
        return removed

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["max_size"] = self.max_size
        return d


_READ_ONLY = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})
_HAS_TMPFILE = hasattr(os, "O_TMPFILE") and sys.platform.startswith("linux")
_TMPFILE_FLAGS = (os.O_WRONLY | getattr(os, "O_TMPFILE", 0) | os.O_CLOEXEC)


_ADDED, _PRESENT, _FULL, _UNSUPPORTED = (object() for _ in range(4))


def _write_fd(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data):]


def _read_fd(fd: int) -> bytes:
    """The whole of an open file: one read() for its size, more only if that read came up short."""
    size = os.fstat(fd).st_size
    data = os.read(fd, size)
    if len(data) == size:
        return data
    chunks = [data]
    while chunk := os.read(fd, 2**20):
        chunks.append(chunk)
    return b"".join(chunks)


def _copy_file(src: IO[bytes], dst: IO[bytes], size: int) -> None:
    """Kernel-side copy where the platform allows it, else a buffered copy."""
    try:
        offset = 0
        while offset < size:
            sent = os.copy_file_range(src.fileno(), dst.fileno(), size - offset, offset, offset)
            if sent == 0:
                break
            offset += sent
        if offset == size:
            return
    except (AttributeError, OSError) as e:
        if isinstance(e, OSError) and e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    src.seek(0)
    dst.seek(0)
    dst.truncate()
    shutil.copyfileobj(src, dst, 8 * 2**20)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str, tmp_dir: Path) -> None:
    tmp = tmp_dir / f"{path.name}.{uuid.uuid4().hex}"
    tmp.write_text(text)
    os.replace(tmp, path)

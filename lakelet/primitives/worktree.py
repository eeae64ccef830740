"""A local working copy of a volume: a real folder used with plain ``open()``.

The copy remembers the manifest version it was loaded from (its *base*) and
the size and mtime of each file it wrote. ``commit`` uploads what changed
since and swaps the manifest atomically, failing with :class:`ConflictError`
if another commit touched the same paths after the base; ``reload`` brings in
other commits file by file (atomic renames, so the folder is never empty and
open files keep working).
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import sys
import threading
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path

from ..errors import InvalidPath
from .blobs import Blobs, LocalFile
from .entries import Stored
from .errors import ConflictError, UncommittedChangesWarning
from .local_files import file_kind
from .names import normalize_path
from .volume_meta import VolumeMeta

_TMP_MARK = ".lakelet-"


class Status:
    """What a working copy changed since its base."""

    def __init__(self, changed: dict[str, LocalFile], deleted: set[str], stats: dict[str, tuple[int, int]]) -> None:
        self.changed, self.deleted = changed, deleted
        self.stats = stats  # (size, mtime_ns) of each changed file when it was scanned

    @property
    def paths(self) -> set[str]:
        return set(self.changed) | self.deleted

    def __bool__(self) -> bool:
        return bool(self.changed or self.deleted)

    def __repr__(self) -> str:
        return f"Status(changed={sorted(self.changed)}, deleted={sorted(self.deleted)})"


class WorkingCopy:
    """A folder holding a volume's files; see the module docstring."""

    def __init__(self, meta: VolumeMeta, blobs: Blobs, root: Path, label: str, *, owned: bool) -> None:
        self.meta, self.blobs, self.root, self.label, self.owned = meta, blobs, Path(root), label, owned
        self.lock = threading.RLock()
        self.base = 0
        self.index: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) as written or committed
        self.closed = False
        ref = weakref.ref(self)
        self._atexit = lambda: _at_exit(ref)
        atexit.register(self._atexit)

    # ------------------------------------------------------------------ loading
    def checkout(self) -> None:
        """Fill the (empty) folder with the committed files."""
        with self.lock:
            self.root.mkdir(parents=True, exist_ok=True)
            version, files = self.meta.snapshot()
            for path, stored in files.items():
                self._write(path, stored)
            self.base = version

    def _write(self, path: str, stored: Stored) -> None:
        target = self.root / path
        self.blobs.write_local(stored, target)
        st = target.stat()
        self.index[path] = (st.st_size, st.st_mtime_ns)

    def status(self) -> Status:
        """Files added, modified or deleted in the folder since the base."""
        with self.lock:
            changed: dict[str, LocalFile] = {}
            stats: dict[str, tuple[int, int]] = {}
            seen: set[str] = set()
            for path, local, st in self._scan():
                seen.add(path)
                key = (st.st_size, st.st_mtime_ns)
                if self.index.get(path) != key:
                    changed[path] = LocalFile(local, st.st_size, int(st.st_mtime))
                    stats[path] = key
            return Status(changed, set(self.index) - seen, stats)

    def _scan(self) -> Iterator[tuple[str, Path, os.stat_result]]:
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
            for name in filenames:
                local = Path(dirpath, name)
                if _TMP_MARK in name:
                    continue
                st = local.lstat()
                if not stat.S_ISREG(st.st_mode):  # a FIFO would block the upload forever
                    kind = "a symlink" if stat.S_ISLNK(st.st_mode) else file_kind(st.st_mode)
                    _skip(f"{local} is {kind}; volumes store regular files only, so it is not committed")
                    continue
                try:
                    path = normalize_path(local.relative_to(self.root).as_posix(), allow_root=False)
                except InvalidPath as e:
                    _skip(f"{local} is not committed: {e}")
                    continue
                yield path, local, st

    # ------------------------------------------------------------------ commit / reload
    def commit(self) -> int:
        """Upload local changes and publish them; returns the new version (the base if nothing changed)."""
        with self.lock:
            status = self.status()
            if not status:
                return self.base
            paths = sorted(status.changed)
            stored = self.blobs.put_files([status.changed[p] for p in paths])
            changes: dict[str, Stored | None] = dict(zip(paths, stored, strict=True))
            changes.update(dict.fromkeys(status.deleted))
            self.meta.commit(self.base, changes)
            self.index.update(status.stats)
            for path in status.deleted:
                self.index.pop(path, None)
            self._pull(committed=changes)
            return self.base

    def reload(self) -> int:
        """Bring in commits made since the base; raises :class:`ConflictError` (changing
        nothing) if one of them touched a file that is also modified here."""
        with self.lock:
            return self._pull(committed={})

    def _pull(self, committed: dict[str, Stored | None]) -> int:
        head, changes = self.meta.changes_since(self.base)
        if head == self.base:
            return head
        # our own commit comes back in the log: skip paths still holding what we committed
        changes = {p: s for p, s in changes.items() if p not in committed or committed[p] != s}
        clash = set(changes) & self.status().paths
        if clash:
            raise ConflictError("cannot reload: these files changed both here and in a newer commit", paths=clash)
        for path, stored in changes.items():
            if stored is None:
                (self.root / path).unlink(missing_ok=True)
                self.index.pop(path, None)
            else:
                self._write(path, stored)
        self.base = head
        return head

    # ------------------------------------------------------------------ closing
    def close(self, *, warn: bool = True) -> None:
        """Forget the working copy (deleting its folder if lakelet created it); warn about
        uncommitted changes."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            atexit.unregister(self._atexit)
            if warn and self.root.exists():
                status = self.status()
                if status:
                    _warn_uncommitted(self.label, self.root, status)
            if self.owned:
                shutil.rmtree(self.root, ignore_errors=True)


def _skip(message: str) -> None:
    warnings.warn(message, UncommittedChangesWarning, stacklevel=5)


def _warn_uncommitted(label: str, root: Path, status: Status) -> None:
    paths = sorted(status.paths)
    shown = ", ".join(paths[:10]) + (f" and {len(paths) - 10} more" if len(paths) > 10 else "")
    message = (
        f"{label}: {len(paths)} uncommitted change(s) in {root} are being discarded: {shown}. "
        "Call .commit() to keep changes made in a volume's folder."
    )
    print(f"\n*** lakelet WARNING *** {message}\n", file=sys.stderr, flush=True)
    warnings.warn(message, UncommittedChangesWarning, stacklevel=3)


def _at_exit(ref: weakref.ref[WorkingCopy]) -> None:
    copy = ref()
    if copy is not None:
        copy.close()


def remove_stale_worktrees(folder: Path) -> None:
    """Delete working copies left behind by processes that no longer run (named ``<pid>-<hex>``)."""
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        pid_text = child.name.split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            shutil.rmtree(child, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["Status", "WorkingCopy", "remove_stale_worktrees"]

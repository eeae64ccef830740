"""A per-entry lock file, so concurrent processes on one machine compute an entry once.

Across machines there is no lock: at worst an entry is computed twice, and the
create-only index keeps the first result. Lock files are removed after use; a
process that raced the removal merely computes again (never corrupts).

The lock is an ``flock`` on an open file description, so whoever holds the
:class:`EntryLock` object may release it from another thread: a cell that is
persisted in the background hands its lock to the writer, which releases it
once the entry is published (other processes wait for the entry, not just for
the computation).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from pathlib import Path


class EntryLock:
    """An exclusive lock named after an entry address, under ``folder``.

    Without a writable folder (a read-only home) acquiring is a no-op and the
    body runs unlocked. ``release`` is idempotent and may run in any thread.
    """

    def __init__(self, folder: Path, address: str) -> None:
        self.folder = Path(folder)
        self.path = self.folder / f"{address[:40]}.lock"
        self._fd: int | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Block until the lock is ours (or return at once if there is nowhere to lock)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # a read-only home: compute unlocked (at worst twice, never corrupt)
        locked = False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            locked = True
        finally:
            if not locked:
                os.close(fd)  # interrupted while waiting: do not leak the descriptor
        with self._guard:
            self._fd = fd

    def release(self) -> None:
        """Remove the lock file and close it (closing releases the lock)."""
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        finally:
            os.close(fd)

    def close_inherited(self) -> None:
        """In a forked child: close this copy of the descriptor, leaving the parent's lock alone."""
        with self._guard:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> EntryLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


__all__ = ["EntryLock"]

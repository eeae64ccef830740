"""A per-entry lock file, so concurrent processes on one machine compute an entry once.

Across machines there is no lock: at worst an entry is computed twice, and the
create-only index keeps the first result. Lock files are removed after use; a
process that raced the removal merely computes again (never corrupts).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def entry_lock(folder: Path, address: str) -> Iterator[None]:
    """Hold an exclusive lock named after ``address`` under ``folder``.

    Without a writable folder (a read-only home) the body runs unlocked.
    """
    path = folder / f"{address[:40]}.lock"
    fd: int | None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        fd = None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        os.close(fd)  # closing releases the lock


__all__ = ["entry_lock"]

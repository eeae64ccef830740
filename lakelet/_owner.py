"""Names of private temporaries that say which process made them.

A writer killed with ``kill -9`` leaves its staging file behind, as big as the
value it was writing. Named ``<prefix>-<host tag>-<pid>-<random>``, such a file
can be recognised by the next writer on the same machine: if its process is
gone, nobody will ever publish it, and :func:`sweep_dead` removes it at once
(instead of waiting for ``gc()`` and an hour of age). The host tag (hostname and
boot id) keeps a writer from judging files of another machine sharing the
folder (NFS) or from before a reboot by its own process table.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import uuid
from pathlib import Path


def _host_tag() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return hashlib.sha256(f"{socket.gethostname()}\0{boot}".encode()).hexdigest()[:8]


HOST_TAG = _host_tag()
_OWNED = re.compile(r"[a-z]+-([0-9a-f]{8})-([0-9]+)-[0-9a-f]{32}")


def owned_name(prefix: str) -> str:
    """A unique temporary file name recording this host and process."""
    return f"{prefix}-{HOST_TAG}-{os.getpid()}-{uuid.uuid4().hex}"


def owner_is_dead(name: str) -> bool:
    """Whether ``name`` was made by a process of this host (this boot) that no longer runs."""
    m = _OWNED.fullmatch(name)
    if m is None or m.group(1) != HOST_TAG:
        return False
    pid = int(m.group(2))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, someone else's
    return False


def sweep_dead(folder: Path) -> int:
    """Remove the temporaries in ``folder`` whose owner died; returns how many."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if owner_is_dead(entry.name):
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                continue  # another sweeper was first
    return removed


__all__ = ["HOST_TAG", "owned_name", "owner_is_dead", "sweep_dead"]

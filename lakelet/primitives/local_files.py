"""Listing local folders for ``put_directory`` (shared by volumes, NFS and bucket mounts)."""

from __future__ import annotations

import fnmatch
import os
import stat
from pathlib import Path

from ..errors import InvalidArgument, InvalidPath
from .blobs import LocalFile
from .names import join, normalize_path


def file_kind(mode: int) -> str:
    """What a non-regular file is, for messages."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def regular_stat(path: Path) -> os.stat_result:
    """``stat`` of a regular file (following symlinks), else :class:`InvalidPath` saying what it is.

    Reading a FIFO would wait forever for a writer, and a device never ends: refuse them."""
    try:
        st = path.stat()
    except OSError as e:  # a symlink loop (ELOOP), a dangling link, a vanished file...
        raise InvalidPath(f"cannot read local file {str(path)!r}: {e.strerror or e}") from e
    if not stat.S_ISREG(st.st_mode):
        raise InvalidPath(f"{str(path)!r} is {file_kind(st.st_mode)}, not a regular file; only regular files upload")
    return st


def as_local_file(path: str | os.PathLike[str]) -> LocalFile:
    p = Path(os.fspath(path)).expanduser()
    st = regular_stat(p)
    return LocalFile(p, st.st_size, int(st.st_mtime))


def collect(local_path: str | os.PathLike[str], remote_path: str, pattern: str | None) -> list[tuple[str, LocalFile]]:
    """(remote path, local file) for every regular file below ``local_path`` whose path relative
    to it matches the glob ``pattern`` (``*`` also crosses ``/``: ``"*.csv"`` matches ``a/b.csv``)."""
    root = Path(os.fspath(local_path)).expanduser()
    if not root.is_dir():
        raise InvalidArgument(f"no local directory {str(root)!r}")
    base = normalize_path(remote_path)
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            local = Path(dirpath, name)
            rel = local.relative_to(root).as_posix()
            if pattern is not None and not fnmatch.fnmatchcase(rel, pattern):
                continue
            st = regular_stat(local)
            out.append((join(base, normalize_path(rel)), LocalFile(local, st.st_size, int(st.st_mtime))))
    return out


__all__ = ["as_local_file", "collect", "file_kind", "regular_stat"]

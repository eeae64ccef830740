"""Listing local folders for ``put_directory`` (shared by volumes, NFS and bucket mounts)."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ..errors import InvalidArgument
from .blobs import LocalFile
from .names import join, normalize_path


def as_local_file(path: str | os.PathLike[str]) -> LocalFile:
    p = Path(os.fspath(path)).expanduser()
    if not p.is_file():
        raise InvalidArgument(f"no local file {str(p)!r}" + (" (it is a directory)" if p.is_dir() else ""))
    return LocalFile(p)


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
            st = local.stat()
            if not local.is_file():
                continue
            out.append((join(base, normalize_path(rel)), LocalFile(local, st.st_size, int(st.st_mtime))))
    return out


__all__ = ["as_local_file", "collect"]

"""Validation of object names and normalization of paths inside volumes and mounts."""

from __future__ import annotations

import os
import posixpath
import re
from pathlib import PurePath

from ..errors import InvalidName, InvalidPath

_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_DRIVE = re.compile(r"^[A-Za-z]:")
MAX_PATH = 4096
MAX_COMPONENT = 255


def validate_name(name: object, what: str = "name") -> str:
    """Return ``name`` if it is 1-64 characters of ``[A-Za-z0-9._-]``, else raise :class:`InvalidName`.

    >>> validate_name("my-volume.v2")
    'my-volume.v2'
    """
    if not isinstance(name, str):
        raise InvalidName(f"{what} must be a str, got {type(name).__name__}: {name!r:.80}")
    if _NAME.fullmatch(name) is None or name in (".", ".."):
        raise InvalidName(f"invalid {what} {name!r:.100}: use 1-64 characters among letters, digits, '.', '_' and '-'")
    return name


def normalize_path(path: object, *, allow_root: bool = True) -> str:
    """Normalize a path inside a volume to ``a/b/c`` ('' is the root).

    A leading ``/`` means the volume's root, as in Modal (``"/data/x.csv"`` is
    ``data/x.csv``). Rejected with :class:`InvalidPath`: NUL bytes, ``..`` that
    climbs above the root, backslashes, drive letters, ``~`` and absolute
    ``pathlib`` paths (those name files on this machine, not in the volume).

    >>> normalize_path("/data//raw/./x.csv")
    'data/raw/x.csv'
    """
    if isinstance(path, PurePath):
        if path.is_absolute():
            raise InvalidPath(
                f"{str(path)!r} is an absolute path on this machine; "
                "pass a str such as '/dir/file' for a path inside the volume"
            )
        path = path.as_posix()
    elif isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes):
        raise InvalidPath(f"paths inside a volume must be str, got bytes {path!r:.80}")
    if not isinstance(path, str):
        raise InvalidPath(f"a path must be a str, got {type(path).__name__}: {path!r:.80}")
    if "\x00" in path:
        raise InvalidPath(f"path holds a NUL byte: {path!r:.200}")
    if "\\" in path:
        raise InvalidPath(f"path {path!r:.200} holds a backslash; separate components with '/'")
    if _DRIVE.match(path) or path.startswith("~"):
        raise InvalidPath(f"{path!r:.200} is a path on this machine, not inside the volume")
    try:
        encoded = path.encode()
    except UnicodeEncodeError as e:  # lone surrogates: a file name os.fsdecode could not decode
        raise InvalidPath(
            f"path {path!r:.200} is not valid UTF-8 text (a file name in another encoding?); "
            "volume paths are stored as UTF-8"
        ) from e
    if len(encoded) > MAX_PATH:
        raise InvalidPath(f"path is longer than {MAX_PATH} bytes: {path[:80]!r}...")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidPath(f"path {path!r:.200} escapes the root with '..'")
            parts.pop()
            continue
        if len(part.encode()) > MAX_COMPONENT:
            raise InvalidPath(f"path component longer than {MAX_COMPONENT} bytes in {path!r:.200}")
        parts.append(part)
    result = "/".join(parts)
    if not result and not allow_root:
        raise InvalidPath(f"path {path!r} names the root; a file path is needed here")
    return result


def join(*parts: str) -> str:
    """Join normalized paths ('' is the root)."""
    return "/".join(p for p in parts if p)


def is_within(path: str, folder: str) -> bool:
    """Whether normalized ``path`` is ``folder`` or below it."""
    return not folder or path == folder or path.startswith(folder + "/")


def parent(path: str) -> str:
    return posixpath.dirname(path)


__all__ = ["MAX_COMPONENT", "MAX_PATH", "is_within", "join", "normalize_path", "parent", "validate_name"]

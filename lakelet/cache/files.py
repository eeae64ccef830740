"""Data files as cache inputs, keyed by their content: ``lakelet.File(path)`` and ``%%lake_cache --file``.

A path string is just a string: a function that reads ``data.csv`` cannot know
the file changed. Passing ``File("data.csv")`` instead (it is an
``os.PathLike``, so ``open``, ``pandas.read_csv`` and friends take it as is)
makes the file's *content* part of the key.

Hashing a big file on every call would be slow, so a file's digest is
remembered with its stat signature (size, mtime in ns, inode, ctime in ns) in
this process and in ``$LAKELET_HOME/cache/files/``; the content is read again
only when the signature changed. An edit that keeps size, mtime, inode and
ctime all equal is the one thing the fast path cannot see (``touch`` suffices
to force a re-hash).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import get_config
from ..errors import InvalidArgument

_CHUNK = 4 * 2**20
_memory: dict[str, tuple[tuple[int, ...], str]] = {}


class File(os.PathLike):  # type: ignore[type-arg]
    """A path whose file content (not only its name) is part of a cache key.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.txt")
    >>> _ = open(path, "w").write("one")
    >>> File(path).digest() == File(path).digest()
    True
    """

    __slots__ = ("path",)

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if isinstance(path, File):
            path = path.path
        if not isinstance(path, str | os.PathLike):
            raise InvalidArgument(f"File() takes a path, got {type(path).__name__}")
        self.path = os.fspath(path)

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"File({self.path!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, File) and other.path == self.path

    def __hash__(self) -> int:
        return hash(("lakelet.File", self.path))

    def __reduce__(self) -> tuple[Any, ...]:
        return (File, (self.path,))

    def digest(self) -> str:
        """sha256 of the file's content (``<missing>`` if there is no such file)."""
        return content_digest(self.path)


def content_digest(path: str | os.PathLike[str]) -> str:
    """The content digest of a file, read again only when its stat signature changed."""
    absolute = os.path.abspath(os.fspath(path))
    try:
        stat = os.stat(absolute)
    except FileNotFoundError:
        return "<missing>"
    except OSError as e:
        raise InvalidArgument(f"cannot read file {os.fspath(path)!r} for the cache key: {e}") from e
    if not os.path.isfile(absolute):
        raise InvalidArgument(f"{os.fspath(path)!r} is not a regular file: File() keys a file by its content")
    signature = (stat.st_size, stat.st_mtime_ns, stat.st_ino, stat.st_ctime_ns)
    known = _memory.get(absolute)
    if known is not None and known[0] == signature:
        return known[1]
    record = _record(absolute)
    stored = _read_record(record)
    if stored is not None and tuple(stored.get("signature", ())) == signature:
        digest = str(stored["digest"])
    else:
        digest = _hash(absolute)
        _write_record(record, {"path": absolute, "signature": list(signature), "digest": digest})
    _memory[absolute] = (signature, digest)
    return digest


def _hash(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except OSError as e:
        raise InvalidArgument(f"cannot read file {path!r} for the cache key: {e}") from e
    return h.hexdigest()


def _record(absolute: str) -> Path:
    name = hashlib.sha256(absolute.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return get_config().home / "cache" / "files" / f"{name}.json"


def _read_record(record: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(record.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # a torn or foreign record: hash the file again (and rewrite it)
    return found if isinstance(found, dict) else None


def _write_record(record: Path, data: dict[str, Any]) -> None:
    """Best effort: the record only saves re-hashing; the digest is right without it."""
    try:
        record.parent.mkdir(parents=True, exist_ok=True)
        temporary = record.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data))
        os.replace(temporary, record)
    except OSError:
        return


# ------------------------------------------------------------------------------ files a run opens
_recording: dict[int, dict[str, None]] = {}  # thread id -> files opened for reading while recording
_hook_installed = False
_hook_lock = threading.Lock()
_SKIP_SUFFIXES = (".py", ".pyc", ".pyd", ".so", ".pth")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _recording:
        return
    found = _recording.get(threading.get_ident())
    if found is None or not args:
        return
    path, mode = args[0], args[1] if len(args) > 1 else "r"
    if not isinstance(path, str | bytes | os.PathLike) or isinstance(path, int):
        return
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return  # written, not read
    if isinstance(mode, int) and mode & (os.O_WRONLY | os.O_RDWR):
        return
    found[os.fsdecode(path)] = None


@contextmanager
def opened_files() -> Iterator[dict[str, None]]:
    """Record the files this thread opens for reading (an audit hook; ``open``, ``os.open``, numpy, pandas).

    Files opened by C code without Python's ``open`` (Arrow's own filesystem) are not seen.
    """
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # cannot be removed: it does nothing unless a thread records
            _hook_installed = True
    found: dict[str, None] = {}
    ident = threading.get_ident()
    _recording[ident] = found
    try:
        yield found
    finally:
        _recording.pop(ident, None)


def data_files(paths: dict[str, None]) -> dict[str, str]:
    """``{absolute path: content digest}`` of recorded data files (code, libraries and the lake left out)."""
    skip = tuple(
        str(Path(d).resolve()) + os.sep
        for d in {*sysconfig.get_paths().values(), sys.prefix, str(get_config().home)}
        if d
    )
    out: dict[str, str] = {}
    for path in paths:
        absolute = os.path.abspath(path)
        if absolute.endswith(_SKIP_SUFFIXES) or str(Path(absolute).resolve()).startswith(skip):
            continue
        if not os.path.isfile(absolute):
            continue
        out[absolute] = content_digest(absolute)
    return out


def changed_files(recorded: dict[str, str]) -> list[str]:
    """The recorded files whose content is no longer what it was."""
    changed = []
    for path, digest in sorted(recorded.items()):
        try:
            now = content_digest(path)
        except InvalidArgument:
            now = "<unreadable>"
        if now != digest:
            changed.append(path)
    return changed


__all__ = ["File", "changed_files", "content_digest", "data_files", "opened_files"]

"""The Volume-like file API over a plain fsspec folder, with immediate visibility.

Used by :class:`NetworkFileSystem` (a local folder, or a prefix of the shared
environment's bucket) and :class:`CloudBucketMount` (a prefix of any bucket).
There is no commit: a write is visible to everyone once the call returns.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

from .._progress import progress_bar
from ..config import concurrency
from ..errors import InvalidArgument, ReadOnlyLocation
from ..locations.abc import translate_errors
from ..registry import error_map
from .aio import iter_twin, twin
from .blobs import CHUNK
from .entries import FileEntry, FileEntryType, PathNotFound
from .local_files import as_local_file, collect
from .names import join, normalize_path


class FsTree:
    """Files below ``root`` of filesystem ``fs``; writes raise :class:`ReadOnlyLocation` if ``read_only``.

    ``kind`` names the backend (``local``, ``s3``, ``gcs``, ``azure``, ``sftp``, ``memory``) whose
    error map (:func:`lakelet.registry.error_map`, the one its locations use) turns client
    exceptions into lakelet storage errors naming the tree and path.
    """

    def __init__(self, fs: Any, root: str, label: str, *, read_only: bool = False, kind: str | None = None) -> None:
        self.fs, self.root, self.label, self.read_only = fs, root.rstrip("/"), label, read_only
        self.local = isinstance(fs, LocalFileSystem)
        self.kind = kind or ("local" if self.local else "fsspec")

    def errors(self, path: str = "") -> AbstractContextManager[None]:
        """Backend exceptions -> lakelet errors naming this tree and ``path`` (lakelet's own pass through)."""
        extra, classify = error_map(self.kind)
        return translate_errors(self.label, path or "/", extra, classify)  # type: ignore[arg-type]

    def full(self, path: str) -> str:
        p = normalize_path(path)
        return f"{self.root}/{p}" if p else self.root

    def stat(self, full: str) -> dict[str, Any] | None:
        """``fs.info(full)``, or None when nothing is there. Not ``fs.exists``/``isfile``: those
        answer False for a dead server too, which would report its files as missing."""
        try:
            return self.fs.info(full)
        except FileNotFoundError:
            return None

    def rel(self, full: str) -> str:
        full = self.fs._strip_protocol(full).rstrip("/")
        root = self.fs._strip_protocol(self.root).rstrip("/")
        return full[len(root) + 1 :] if full.startswith(root + "/") else ""

    def check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyLocation(f"{self.label} is read-only (created with read_only=True)")

    def put_one(self, local: str | os.PathLike[str] | BinaryIO, remote: str) -> None:
        self.check_writable()
        target = self.full(normalize_path(remote, allow_root=False))
        parent = target.rsplit("/", 1)[0]
        with self.errors(remote):
            if self.local:
                os.makedirs(parent, exist_ok=True)
                tmp = f"{parent}/.lakelet-{os.getpid()}-{id(local):x}.tmp"
                try:
                    with open(tmp, "wb") as out:
                        if hasattr(local, "read"):
                            shutil.copyfileobj(local, out, CHUNK)  # type: ignore[misc]
                        else:
                            with open(os.fspath(local), "rb") as src:  # type: ignore[arg-type]
                                shutil.copyfileobj(src, out, CHUNK)
                    os.replace(tmp, target)  # atomic: readers see the old or the new file
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            elif hasattr(local, "read"):
                with self.fs.open(target, "wb") as out:
                    shutil.copyfileobj(local, out, CHUNK)  # type: ignore[misc]
            else:
                self.fs.put_file(os.fspath(local), target)  # type: ignore[arg-type]

    def put_many(self, items: Sequence[tuple[str, Path]], progress: bool | None) -> None:
        self.check_writable()
        if not items:
            return
        total = sum(p.stat().st_size for _, p in items)
        with progress_bar(total, self.label, progress) as advance:
            if self.local:
                for remote, path in items:
                    self.put_one(path, remote)
                    advance(path.stat().st_size)
            else:  # fsspec's async filesystems upload the list concurrently
                with self.errors(items[0][0]):
                    self.fs.put([str(p) for _, p in items], [self.full(r) for r, _ in items], batch_size=concurrency())
                advance(total)

    def entry(self, info: dict[str, Any]) -> FileEntry:
        kind = FileEntryType.DIRECTORY if info.get("type") == "directory" else FileEntryType.FILE
        mtime = info.get("mtime") or info.get("LastModified") or info.get("created") or 0
        if hasattr(mtime, "timestamp"):
            mtime = mtime.timestamp()
        return FileEntry(self.rel(info["name"]), kind, int(float(mtime)), int(info.get("size") or 0))

    def listdir(self, path: str, recursive: bool) -> list[FileEntry]:
        full = self.full(path)
        with self.errors(path):
            info = self.stat(full)
            if info is None:
                raise PathNotFound(f"{normalize_path(path) or '/'} not found in {self.label}")
            if info.get("type") != "directory":
                return [self.entry(info)]
            finder = self.fs.find(full, withdirs=True, detail=True).values if recursive else None
            infos = finder() if finder is not None else self.fs.ls(full, detail=True)
        out = [self.entry(i) for i in infos if ".lakelet-" not in i["name"].rsplit("/", 1)[-1]]
        return sorted((e for e in out if e.path), key=lambda e: e.path)


class TreeMethods:
    """Volume's file methods for objects holding an :class:`FsTree` at ``self._tree``."""

    _tree: FsTree

    @twin
    def put_file(
        self, local_file: str | os.PathLike[str] | BinaryIO, remote_path: str, *, progress: bool | None = None
    ) -> None:
        """Upload a local file (path or binary reader); visible at once."""
        if not hasattr(local_file, "read"):
            local_file = as_local_file(local_file).path  # type: ignore[arg-type]
        self._tree.put_one(local_file, remote_path)

    @twin
    def put_directory(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        pattern: str | None = None,
        progress: bool | None = None,
    ) -> None:
        """Upload every file below ``local_path`` matching ``pattern`` (concurrently on object stores)."""
        items = [(r, f.path) for r, f in collect(local_path, remote_path, pattern)]
        self._tree.put_many(items, progress)

    @twin
    def get_file(self, remote_path: str, local_file: str | os.PathLike[str] | BinaryIO) -> None:
        """Download a file to a local path or into a binary writer."""
        full = self._existing_file(remote_path)
        if hasattr(local_file, "write"):
            with self._tree.errors(remote_path), self._tree.fs.open(full, "rb") as src:
                shutil.copyfileobj(src, local_file, CHUNK)  # type: ignore[misc]
            return
        with self._tree.errors(remote_path):
            self._tree.fs.get_file(full, os.fspath(local_file))  # type: ignore[arg-type]

    def _existing_file(self, path: str) -> str:
        full = self._tree.full(normalize_path(path, allow_root=False))
        with self._tree.errors(path):
            info = self._tree.stat(full)
            if info is None or info.get("type") == "directory":
                raise PathNotFound(f"no file {normalize_path(path)!r} in {self._tree.label}")
        return full

    @iter_twin
    def read_file(self, path: str) -> Iterator[bytes]:
        """The file's bytes, streamed in chunks; a bad or missing path raises at the call."""
        return self._chunks(self._existing_file(path))

    def _chunks(self, full: str) -> Iterator[bytes]:
        with self._tree.errors(self._tree.rel(full)), self._tree.fs.open(full, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    @twin
    def read_file_into_fileobj(self, path: str, fileobj: BinaryIO, *, progress: bool | None = None) -> int:
        """Stream a file into an open binary writer; returns the bytes written."""
        n = 0
        for chunk in self.read_file(path):
            fileobj.write(chunk)
            n += len(chunk)
        return n

    @twin
    def listdir(self, path: str = "/", recursive: bool = False) -> list[FileEntry]:
        """Entries in ``path`` (all below it with ``recursive``)."""
        return self._tree.listdir(path, recursive)

    @iter_twin
    def iterdir(self, path: str = "/", recursive: bool = True) -> Iterator[FileEntry]:
        """Entries below ``path``, lazily; a bad path raises at the call."""
        return iter(self._tree.listdir(path, recursive))

    @twin
    def remove_file(self, path: str, recursive: bool = False) -> None:
        """Delete a file, or a directory with ``recursive=True``."""
        self._tree.check_writable()
        full = self._tree.full(normalize_path(path, allow_root=False))
        fs = self._tree.fs
        with self._tree.errors(path):
            info = self._tree.stat(full)
            if info is None:
                raise PathNotFound(f"{normalize_path(path)} not found in {self._tree.label}")
            if info.get("type") == "directory" and not recursive:
                raise InvalidArgument(f"{normalize_path(path)} is a directory; pass recursive=True")
            fs.rm(full, recursive=recursive)

    @twin
    def copy_files(self, src_paths: Sequence[str], dst_path: str) -> None:
        """Copy files or directories (recursively) within the tree, like ``cp -r``."""
        self._tree.check_writable()
        if isinstance(src_paths, str):
            raise InvalidArgument("src_paths is a list of paths; wrap a single path in a list")
        fs, dst = self._tree.fs, self._tree.full(dst_path)
        with self._tree.errors(dst_path):
            found = self._tree.stat(dst)
            into = len(src_paths) > 1 or dst_path.endswith("/") or (found or {}).get("type") == "directory"
        for src in src_paths:
            full = self._tree.full(normalize_path(src, allow_root=False))
            with self._tree.errors(src):
                info = self._tree.stat(full)
                if info is None:
                    raise PathNotFound(f"{normalize_path(src)} not found in {self._tree.label}")
                target = join(dst, full.rsplit("/", 1)[-1]) if into else dst
                fs.copy(full, target, recursive=info.get("type") == "directory")

    @twin
    def exists(self, path: str) -> bool:
        with self._tree.errors(path):
            return self._tree.stat(self._tree.full(path)) is not None

    @contextmanager
    def mount(self, local_path: str | os.PathLike[str] | None = None) -> Iterator[Path]:
        """A local folder view: the folder itself when local, else a downloaded copy whose new
        and modified files are uploaded on a normal exit (unless read-only)."""
        tree = self._tree
        if tree.local and local_path is None:
            Path(tree.root).mkdir(parents=True, exist_ok=True)
            yield Path(tree.root)
            return
        owned = local_path is None
        root = Path(tempfile.mkdtemp(prefix="lakelet-mount-")) if owned else Path(os.fspath(local_path))
        try:
            with tree.errors("/"):
                if tree.stat(tree.root) is not None:
                    tree.fs.get(tree.root + "/", str(root) + "/", recursive=True)
            before = _stats(root)
            yield root
            if not tree.read_only:
                after = _stats(root)
                changed = [(p, root / p) for p, s in after.items() if before.get(p) != s]
                tree.put_many(changed, None)
        finally:
            if owned:
                shutil.rmtree(root, ignore_errors=True)

    @property
    def fs(self) -> Any:
        """This tree as an fsspec filesystem (read-only when the tree is)."""
        tree = self._tree
        cls = ReadOnlyDirFileSystem if tree.read_only else DirFileSystem
        return cls(path=tree.root, fs=tree.fs)


def _stats(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = Path(dirpath, name)
            st = p.stat()
            out[p.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


_WRITES = [
    "pipe_file",
    "pipe",
    "put_file",
    "put",
    "rm_file",
    "rm",
    "cp_file",
    "copy",
    "mv",
    "mkdir",
    "makedirs",
    "rmdir",
    "touch",
    "_pipe_file",
    "_pipe",
    "_put_file",
    "_put",
    "_rm_file",
    "_rm",
    "_cp_file",
    "_copy",
    "_mv",
    "_mkdir",
    "_makedirs",
    "_rmdir",
    "_touch",
]


class ReadOnlyDirFileSystem(DirFileSystem):
    """A DirFileSystem refusing every write with :class:`ReadOnlyLocation`."""

    def open(self, path: str, mode: str = "rb", *args: Any, **kwargs: Any) -> Any:
        if set(mode) & set("wax+"):
            raise ReadOnlyLocation(f"cannot open {path!r} with mode {mode!r}: this mount is read-only")
        return super().open(path, mode, *args, **kwargs)


def _refuse(name: str) -> Any:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise ReadOnlyLocation(f"{name}() refused: this mount is read-only (read_only=True)")

    method.__name__ = name
    return method


for _name in _WRITES:
    setattr(ReadOnlyDirFileSystem, _name, _refuse(_name))

__all__ = ["FsTree", "ReadOnlyDirFileSystem", "TreeMethods"]

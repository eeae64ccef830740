"""A Volume as an fsspec filesystem, so pandas, pyarrow and DuckDB read (and write) it.

>>> import duckdb, pandas as pd
>>> from lakelet import Volume
>>> vol = Volume.from_name("doctest-fs", create_if_missing=True)
>>> pd.DataFrame({"x": [1, 2, 3]}).to_parquet("data/x.parquet", filesystem=vol.fs)
>>> pd.read_parquet("data/x.parquet", filesystem=vol.fs)["x"].sum()
np.int64(6)
>>> duckdb.register_filesystem(vol.fs)
>>> duckdb.sql("select sum(x) from 'lakelet-volume://data/x.parquet'").fetchall()
[(6,)]

Reads see the committed state. A file opened for writing is spooled locally
and committed (``put_file``) when it is closed.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fsspec.spec import AbstractFileSystem

from ..errors import InvalidArgument
from .entries import FileEntryType, PathNotFound
from .names import normalize_path

if TYPE_CHECKING:
    from .volume import Volume


class VolumeFileSystem(AbstractFileSystem):
    """fsspec view of one :class:`Volume` (paths are volume paths; ``lakelet-volume://`` is optional)."""

    protocol = ("lakelet-volume",)
    root_marker = ""
    cachable = False  # each instance belongs to one volume handle; never share through fsspec's cache

    def __init__(self, volume: Volume, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.volume = volume

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        if isinstance(path, list):
            return [cls._strip_protocol(p) for p in path]  # type: ignore[return-value]
        path = str(path)
        if path.startswith("lakelet-volume://"):
            path = path[len("lakelet-volume://") :]
        return normalize_path(path)

    def _details(self, entry: Any) -> dict[str, Any]:
        kind = "directory" if entry.type == FileEntryType.DIRECTORY else "file"
        return {"name": entry.path, "size": entry.size, "type": kind, "mtime": entry.mtime}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        p = self._strip_protocol(path)
        try:
            entries = self.volume.listdir(p)
        except PathNotFound as e:
            raise FileNotFoundError(p) from e
        out = [self._details(e) for e in entries]
        return out if detail else [d["name"] for d in out]

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        p = self._strip_protocol(path)
        if not p:
            return {"name": "", "size": 0, "type": "directory"}
        stored = self.volume._meta.get(p)
        if stored is not None:
            return self._details(stored.entry(p))
        if self.volume.exists(p):
            return {"name": p, "size": 0, "type": "directory"}
        raise FileNotFoundError(p)

    def modified(self, path: str) -> datetime:
        return datetime.fromtimestamp(self.info(path).get("mtime", 0), tz=UTC)

    def created(self, path: str) -> datetime:
        return self.modified(path)

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        p = self._strip_protocol(path)
        if "r" in mode:
            stored = self.volume._meta.get(p)
            if stored is None:
                raise FileNotFoundError(p)
            return _Reader(self.volume, stored)
        if "w" in mode or "x" in mode:
            if "x" in mode and self.exists(p):
                raise FileExistsError(p)
            return _Writer(self.volume, p)
        raise InvalidArgument(f"unsupported mode {mode!r} for a volume file; use 'rb' or 'wb'")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        with self._open(path) as f:
            if start:
                f.seek(start if start >= 0 else max(f.size + start, 0))
            pos = f.tell()
            if end is None:
                return f.read()
            end = end if end >= 0 else f.size + end
            return f.read(max(end - pos, 0))

    def rm_file(self, path: str) -> None:
        self.volume.remove_file(self._strip_protocol(path))

    def _rm(self, path: str) -> None:
        self.rm_file(path)

    def rm(self, path: Any, recursive: bool = False, maxdepth: int | None = None) -> None:
        for p in [path] if isinstance(path, str) else path:
            self.volume.remove_file(self._strip_protocol(p), recursive=recursive)

    def cp_file(self, path1: str, path2: str, **kwargs: Any) -> None:
        self.volume.copy_files([self._strip_protocol(path1)], self._strip_protocol(path2))

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Directories exist implicitly (as prefixes of files): nothing to do."""

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Directories exist implicitly (as prefixes of files): nothing to do."""

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        if os.path.isdir(lpath):
            return
        self.volume.put_file(lpath, self._strip_protocol(rpath))

    def get_file(self, rpath: str, lpath: str, callback: Any = None, **kwargs: Any) -> None:
        if self.isdir(rpath):
            os.makedirs(lpath, exist_ok=True)
            return
        self.volume.get_file(self._strip_protocol(rpath), lpath)


class _Reader(io.RawIOBase):
    """A seekable reader of one committed file; holds the blob open until closed."""

    def __init__(self, volume: Volume, stored: Any) -> None:
        self._stack = ExitStack()
        self._f = self._stack.enter_context(volume._blobs.open(stored))
        self.size = stored.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._f.seekable()

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(pos, whence)

    def tell(self) -> int:
        return self._f.tell()

    def readinto(self, buf: Any) -> int:
        return self._f.readinto(buf)

    def close(self) -> None:
        if not self.closed:
            self._stack.close()
        super().close()


class _Writer(io.BufferedWriter):
    """Spools writes to a local temporary file; ``close`` commits it to the volume."""

    def __init__(self, volume: Volume, path: str) -> None:
        fd, self._tmp = tempfile.mkstemp(prefix="lakelet-vol-")
        super().__init__(io.FileIO(fd, "wb"))
        self._volume, self._path = volume, path

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
            self._volume.put_file(self._tmp, self._path)
        finally:
            os.unlink(self._tmp)


__all__ = ["VolumeFileSystem"]

"""The few filesystem calls dataset storage makes on a local folder, done with ``os``.

``import fsspec`` costs 0.15-0.2 s (it scans every installed package's entry points and imports
asyncio), and a local dataset needs none of it: opening one in a fresh process should cost
milliseconds. :class:`LocalFS` answers the fsspec calls the dataset layer uses (``cat_file``,
``exists``, ``info``, ``ls``, ``find``, ``pipe_file``, ``rm``...) with the same results and errors as
fsspec's ``LocalFileSystem``, and hands anything else to a real one, imported on that first use.
"""

from __future__ import annotations

import os
import shutil
from typing import Any


def _info(path: str, st: os.stat_result) -> dict[str, Any]:
    kind = "directory" if os.path.isdir(path) else "file"
    return {"name": path, "size": st.st_size, "type": kind, "mtime": st.st_mtime, "created": st.st_ctime}


class LocalFS:
    """fsspec's local filesystem calls used by datasets, without importing fsspec."""

    protocol = ("file", "local")

    def __init__(self) -> None:
        self._fallback: Any = None

    def _real(self) -> Any:
        if self._fallback is None:
            from fsspec.implementations.local import LocalFileSystem

            self._fallback = LocalFileSystem()
        return self._fallback

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_fallback":
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._fallback = None

    # ---------------------------------------------------------------- reads
    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **_: Any) -> bytes:
        with open(path, "rb") as f:
            if start is None and end is None:
                return f.read()
            size = os.fstat(f.fileno()).st_size
            lo = 0 if start is None else (start if start >= 0 else max(size + start, 0))
            hi = size if end is None else (end if end >= 0 else max(size + end, 0))
            f.seek(lo)
            return f.read(max(hi - lo, 0))

    def exists(self, path: str, **_: Any) -> bool:
        return os.path.lexists(path)

    def isdir(self, path: str) -> bool:
        return os.path.isdir(path)

    def isfile(self, path: str) -> bool:
        return os.path.isfile(path)

    def size(self, path: str) -> int:
        return os.path.getsize(path)

    def info(self, path: str, **_: Any) -> dict[str, Any]:
        return _info(path, os.stat(path))

    def ls(self, path: str, detail: bool = False, **_: Any) -> list[Any]:
        if not os.path.isdir(path):
            info = self.info(path)  # FileNotFoundError when missing, as fsspec
            return [info if detail else path]
        with os.scandir(path) as entries:
            names = [f"{path.rstrip('/')}/{e.name}" for e in entries]
        return [self.info(n) for n in names] if detail else names

    def find(self, path: str, maxdepth: int | None = None, withdirs: bool = False, detail: bool = False,
             **_: Any) -> Any:
        path = path.rstrip("/") or "/"
        found: dict[str, dict[str, Any]] = {}
        if os.path.isfile(path):
            found[path] = self.info(path)
        elif os.path.isdir(path):
            base = path.count("/")
            for folder, dirs, files in os.walk(path):
                depth = folder.rstrip("/").count("/") - base + 1
                if maxdepth is not None and depth >= maxdepth:
                    dirs[:] = []
                names = files + (dirs if withdirs else [])
                for name in names:
                    full = f"{folder.rstrip('/')}/{name}"
                    try:
                        found[full] = self.info(full)
                    except FileNotFoundError:
                        continue  # removed while walking
        ordered = dict(sorted(found.items()))
        return ordered if detail else list(ordered)

    def invalidate_cache(self, path: str | None = None) -> None:
        """Nothing is cached here."""

    # ---------------------------------------------------------------- writes
    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        os.makedirs(path, exist_ok=exist_ok)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **_: Any) -> None:
        os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        with open(path, "xb" if mode == "create" else "wb") as f:
            f.write(value)

    def rm_file(self, path: str) -> None:
        os.unlink(path)

    def rm(self, path: str, recursive: bool = False, **_: Any) -> None:
        if os.path.isdir(path) and not os.path.islink(path):
            if not recursive:
                os.rmdir(path)
            else:
                shutil.rmtree(path)
        else:
            os.unlink(path)

    def open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if kwargs or mode not in ("rb", "wb"):
            return self._real().open(path, mode, **kwargs)
        if mode == "wb":
            os.makedirs(os.path.dirname(path) or "/", exist_ok=True)
        return open(path, mode)  # noqa: SIM115 - the caller closes it, as with fsspec's

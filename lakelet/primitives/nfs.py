"""``NetworkFileSystem``: a named folder shared by concurrent workers, with immediate visibility.

Unlike a Volume there is no commit: every write is visible once it returns.
Embedded, it is a plain folder (``nfs.path``) that all local processes share;
in a shared environment it is a prefix of the environment's bucket.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, ClassVar

import fsspec

from ..errors import InvalidArgument
from ..registry import open_tree
from .catalog import ObjectRecord
from .env import Environment
from .objects import NamedObject
from .tree import FsTree, TreeMethods


def _shared_fs(env: Environment) -> tuple[Any, str, str]:
    """The environment's bucket, opened by the one registry (same client and names as its volume blobs)."""
    tree = open_tree(env.volumes_url, storage_options=env.storage_options)  # type: ignore[arg-type]
    return tree.fs, tree.root, tree.kind


def _location(env: Environment, object_id: str) -> tuple[Any, str, str]:
    if env.shared:
        fs, base, kind = _shared_fs(env)
        return fs, f"{base}/nfs/{object_id}", kind
    return fsspec.filesystem("file"), str(env.root / "nfs" / object_id), "local"


class NetworkFileSystem(TreeMethods, NamedObject):
    """A shared folder: the Volume file API (``put_file``, ``listdir``, ``read_file`` ...) without commits."""

    _kind: ClassVar[str] = "nfs"

    def __init__(self, record: ObjectRecord, env: Environment) -> None:
        super().__init__(record, env)
        fs, root, kind = _location(env, record.id)
        self._tree = FsTree(fs, root, repr(self), kind=kind)

    @classmethod
    def _initialize(cls, env: Environment, record: ObjectRecord) -> None:
        fs, root, _ = _location(env, record.id)
        if env.shared:
            bucket = root.split("/", 1)[0]
            if not fs.exists(bucket):
                fs.mkdir(bucket)
        else:
            Path(root).mkdir(parents=True, exist_ok=True)

    @classmethod
    def _destroy(cls, env: Environment, record: ObjectRecord) -> None:
        fs, root, _ = _location(env, record.id)
        if env.shared:
            if fs.exists(root):
                fs.rm(root, recursive=True)
        else:
            shutil.rmtree(root, ignore_errors=True)

    @property
    def path(self) -> Path:
        """The shared folder itself (embedded environments): plain ``open()`` works, no commit."""
        if self._env.shared:
            raise InvalidArgument(f"{self!r} lives in a shared environment; use `with nfs.mount() as root:`")
        root = Path(self._tree.root)
        root.mkdir(parents=True, exist_ok=True)
        return root


__all__ = ["NetworkFileSystem"]

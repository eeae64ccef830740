"""``Volume``: a named, versioned file tree shared by processes (and machines, when shared).

Consistency model: the API methods (``put_file``, ``remove_file``, ``copy_files``
...) read and change the *committed* state directly, each as one atomic commit.
A working copy (``volume.path`` on an embedded environment, ``with
volume.mount() as root:`` anywhere) is a real folder for plain ``open()``:
its changes are published by ``commit()``, other commits come in with
``reload()``. Concurrent commits touching the same file raise
:class:`ConflictError` instead of silently keeping the last writer.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from .._progress import progress_bar
from ..errors import InvalidArgument
from .aio import iter_twin, run_blocking, twin
from .blob_guard import open_blob_guard
from .blobs import CHUNK, Blobs, LocalFile, open_blob_storage
from .catalog import ObjectRecord
from .entries import FileEntry, FileEntryType, PathNotFound, Stored
from .env import Environment
from .errors import ConflictError, UncommittedChangesWarning
from .local_files import as_local_file, collect
from .names import is_within, join, normalize_path
from .objects import NamedObject
from .volume_gc import VolumeObjects
from .volume_meta import destroy_volume_meta, open_volume_meta
from .worktree import WorkingCopy, remove_stale_worktrees


class Volume(NamedObject):
    """A persistent file tree with commit/reload semantics (see the module docstring)."""

    _kind: ClassVar[str] = "volume"
    _objects_manager: ClassVar[type] = VolumeObjects

    def __init__(self, record: ObjectRecord, env: Environment) -> None:
        super().__init__(record, env)
        self._lock = threading.RLock()
        self._meta_cache: Any = None
        self._blobs_cache: Blobs | None = None
        self._worktree: WorkingCopy | None = None
        self._fs: Any = None

    @classmethod
    def _destroy(cls, env: Environment, record: ObjectRecord) -> None:
        # Blobs are content-addressed and shared by the environment's volumes: they stay
        # until ``Volume.objects.gc()`` finds them unreferenced.
        destroy_volume_meta(env, record.id)

    @property
    def _meta(self) -> Any:
        if self._meta_cache is None:
            self._meta_cache = open_volume_meta(self._env, self.object_id)
        return self._meta_cache

    @property
    def _blobs(self) -> Blobs:
        if self._blobs_cache is None:
            self._blobs_cache = Blobs(open_blob_storage(self._env), open_blob_guard(self._env))
        return self._blobs_cache

    # ------------------------------------------------------------------ committing API changes
    def _publish(self, changes: dict[str, Stored | None], create_only: frozenset[str] = frozenset()) -> int:
        version = self._meta.commit(None, changes, create_only)
        wt = self._worktree
        if wt is not None and not wt.closed:
            try:
                wt.reload()
            except ConflictError as e:
                warnings.warn(
                    f"{self!r}: the change is committed, but the working copy {wt.root} keeps its own "
                    f"uncommitted version of some paths ({e})",
                    UncommittedChangesWarning,
                    stacklevel=3,
                )
        return version

    def _upload(self, items: Sequence[tuple[str, LocalFile]], progress: bool | None, desc: str) -> dict[str, Stored]:
        total = sum(f.size for _, f in items)
        with progress_bar(total, desc, progress) as advance:
            stored = self._blobs.put_files([f for _, f in items], advance)
        return {remote: s for (remote, _), s in zip(items, stored, strict=True)}

    # ------------------------------------------------------------------ writing
    @twin
    def put_file(
        self, local_file: str | os.PathLike[str] | BinaryIO, remote_path: str, *, progress: bool | None = None
    ) -> None:
        """Upload a local file (path or binary reader) to ``remote_path``, overwriting it."""
        remote = normalize_path(remote_path, allow_root=False)
        if hasattr(local_file, "read"):
            stored = self._blobs.put_stream(local_file, int(time.time()))  # type: ignore[arg-type]
            self._publish({remote: stored})
            return
        self._publish(self._upload([(remote, as_local_file(local_file))], progress, remote))  # type: ignore[arg-type]

    @twin
    def put_directory(
        self,
        local_path: str | os.PathLike[str],
        remote_path: str,
        *,
        pattern: str | None = None,
        progress: bool | None = None,
    ) -> None:
        """Upload every file below ``local_path`` (matching the glob ``pattern``) under ``remote_path``,
        in one commit. Small files are packed and uploaded concurrently."""
        items = collect(local_path, remote_path, pattern)
        if items:
            self._publish(self._upload(items, progress, normalize_path(remote_path) or "/"))

    @twin
    def batch_upload(self, force: bool = False) -> BatchUpload:
        """A context manager collecting ``put_file``/``put_directory`` calls into one commit on exit.
        Unless ``force``, it refuses to overwrite existing files (:class:`AlreadyExistsError`)."""
        return BatchUpload(self, force)

    @twin
    def remove_file(self, path: str, recursive: bool = False) -> None:
        """Delete a file, or a directory with ``recursive=True``."""
        p = normalize_path(path)
        found = self._meta.list_prefix(p)
        if not found:
            raise PathNotFound(f"{p or '/'} not found in {self!r}")
        if p not in found and not recursive:
            raise InvalidArgument(f"{p or '/'} is a directory of {len(found)} file(s); pass recursive=True")
        self._publish(dict.fromkeys(found if recursive or p not in found else [p]))

    @twin
    def copy_files(self, src_paths: Sequence[str], dst_path: str) -> None:
        """Copy files or directories (recursively) within the volume, like ``cp -r``.
        Only manifest entries are copied: no bytes move."""
        if isinstance(src_paths, str):
            raise InvalidArgument("src_paths is a list of paths; wrap a single path in a list")
        began = time.time()
        dst = normalize_path(dst_path)
        dst_is_dir = len(src_paths) > 1 or dst_path.endswith("/") or not dst or self._is_dir(dst)
        changes: dict[str, Stored | None] = {}
        for src in src_paths:
            s = normalize_path(src, allow_root=False)
            found = self._meta.list_prefix(s)
            if not found:
                raise PathNotFound(f"{s} not found in {self!r}")
            name = s.rsplit("/", 1)[-1]
            if s in found:  # a file
                changes[join(dst, name) if dst_is_dir else dst] = found[s]
                continue
            target = join(dst, name) if dst_is_dir and self._is_dir(dst) else dst
            for path, stored in found.items():
                changes[join(target, path[len(s) + 1 :])] = stored
        if changes:
            self._blobs.protect([s for s in changes.values() if s is not None], began)  # see blob_guard
            self._publish(changes)

    def _is_dir(self, path: str) -> bool:
        found = self._meta.list_prefix(path)
        return bool(found) and path not in found

    # ------------------------------------------------------------------ reading
    def _stored(self, path: str) -> tuple[str, Stored]:
        p = normalize_path(path, allow_root=False)
        stored = self._meta.get(p)
        if stored is None:
            raise PathNotFound(f"no file {p!r} in {self!r}")
        return p, stored

    @iter_twin
    def read_file(self, path: str) -> Iterator[bytes]:
        """The file's bytes as a stream of chunks (never the whole file in memory).

        A bad or missing path raises here, at the call, not at the first chunk.
        """
        _, stored = self._stored(path)
        return self._chunks(stored)

    def _chunks(self, stored: Any) -> Iterator[bytes]:
        with self._blobs.open(stored) as f:
            while chunk := f.read(CHUNK):
                yield chunk

    @twin
    def read_file_into_fileobj(self, path: str, fileobj: BinaryIO, *, progress: bool | None = None) -> int:
        """Stream the file into an open binary writer; returns the bytes written."""
        p, stored = self._stored(path)
        with progress_bar(stored.size, p, progress) as advance, self._blobs.open(stored) as f:
            while chunk := f.read(CHUNK):
                fileobj.write(chunk)
                advance(len(chunk))
        return stored.size

    @twin
    def get_file(self, remote_path: str, local_file: str | os.PathLike[str] | BinaryIO) -> None:
        """Download a file to a local path (written atomically) or into a binary writer."""
        _, stored = self._stored(remote_path)
        if hasattr(local_file, "write"):
            self._blobs.copy_to_file(stored, local_file)  # type: ignore[arg-type]
            return
        target = Path(os.fspath(local_file)).expanduser()  # type: ignore[arg-type]
        if target.is_dir():
            target = target / normalize_path(remote_path).rsplit("/", 1)[-1]
        self._blobs.write_local(stored, target)

    @twin
    def exists(self, path: str) -> bool:
        """Whether a file or directory exists at ``path`` (committed state)."""
        p = normalize_path(path)
        return not p or bool(self._meta.list_prefix(p))

    @twin
    def listdir(self, path: str = "/", recursive: bool = False) -> list[FileEntry]:
        """Entries directly in ``path`` (or all below it with ``recursive``), sorted by path."""
        p = normalize_path(path)
        found = self._meta.list_prefix(p)
        if not found and p:
            raise PathNotFound(f"{p} not found in {self!r}")
        if p in found:
            return [found[p].entry(p)]
        return list_entries(p, found, recursive)

    @iter_twin
    def iterdir(self, path: str = "/", recursive: bool = True) -> Iterator[FileEntry]:
        """Like :meth:`listdir`, recursive by default, as an iterator; a bad path raises at the call."""
        return iter(self.listdir(path, recursive=recursive))

    # ------------------------------------------------------------------ working copies
    @property
    def path(self) -> Path:
        """This handle's working copy as a real folder (embedded environments).

        Loaded on first access; changes made with plain file I/O are published by
        :meth:`commit`; :meth:`reload` brings in other commits. Uncommitted changes
        are discarded, with a loud warning, when the process exits.
        """
        with self._lock:
            if self._worktree is None or self._worktree.closed:
                if self._env.shared:
                    raise InvalidArgument(
                        f"{self!r} lives in a shared environment; use `with volume.mount() as root:` "
                        "for a local working copy"
                    )
                folder = self._env.root / "worktrees" / self.object_id
                remove_stale_worktrees(folder)
                root = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
                wt = WorkingCopy(self._meta, self._blobs, root, repr(self), owned=True)
                wt.checkout()
                self._worktree = wt
            return self._worktree.root

    @contextmanager
    def mount(self, local_path: str | os.PathLike[str] | None = None) -> Iterator[Path]:
        """A local working copy for the ``with`` block, committed on a normal exit.

        ``local_path`` (an empty or missing folder) is kept afterwards; by default
        a temporary folder is used and removed. On an exception nothing is committed.
        """
        owned = local_path is None
        root = Path(tempfile.mkdtemp(prefix=f"lakelet-{self.name}-")) if owned else Path(os.fspath(local_path))
        if not owned and root.exists() and any(root.iterdir()):
            raise InvalidArgument(f"mount folder {root} is not empty")
        wt = WorkingCopy(self._meta, self._blobs, root, repr(self), owned=owned)
        try:
            wt.checkout()
            yield root
            wt.commit()
        finally:
            wt.close()

    @twin
    def commit(self) -> None:
        """Publish the changes made in :attr:`path` (no-op without a working copy)."""
        with self._lock:
            if self._worktree is not None and not self._worktree.closed:
                self._worktree.commit()

    @twin
    def reload(self) -> None:
        """Bring commits made elsewhere into :attr:`path`, file by file (never empty, open files keep working)."""
        with self._lock:
            if self._worktree is not None and not self._worktree.closed:
                self._worktree.reload()

    @twin
    def uncommitted(self) -> list[str]:
        """Paths changed in :attr:`path` and not yet committed."""
        wt = self._worktree
        if wt is None or wt.closed:
            return []
        return sorted(wt.status().paths)

    def close(self) -> None:
        """Drop this handle's working copy (warning about uncommitted changes)."""
        with self._lock:
            if self._worktree is not None:
                self._worktree.close()

    @property
    def fs(self) -> Any:
        """This volume as an fsspec filesystem (for pandas, pyarrow, DuckDB...)."""
        if self._fs is None:
            from .volume_fs import VolumeFileSystem

            self._fs = VolumeFileSystem(self)
        return self._fs

    def browse(self, **options: Any) -> Any:
        """An interactive browser widget for this volume (ipywidgets; see :mod:`lakelet.display`)."""
        from ..display import browser

        return browser(self, **options)

def list_entries(prefix: str, found: dict[str, Stored], recursive: bool) -> list[FileEntry]:
    """Files and (implied) directories below ``prefix``."""
    entries: dict[str, FileEntry] = {}
    dir_mtimes: dict[str, int] = {}
    for path, stored in found.items():
        if not is_within(path, prefix) or path == prefix:
            continue
        rel = path[len(prefix) + 1 :] if prefix else path
        parts = rel.split("/")
        depth = len(parts) if recursive else 1
        for i in range(1, min(depth, len(parts) - 1) + 1):
            d = join(prefix, "/".join(parts[:i]))
            dir_mtimes[d] = max(dir_mtimes.get(d, 0), stored.mtime)
        if recursive or len(parts) == 1:
            entries[path] = stored.entry(path)
    for d, mtime in dir_mtimes.items():
        entries[d] = FileEntry(d, FileEntryType.DIRECTORY, mtime, 0)
    return [entries[k] for k in sorted(entries)]


class BatchUpload:
    """Collects uploads, then publishes them in one commit when the ``with`` block ends."""

    def __init__(self, volume: Volume, force: bool) -> None:
        self._volume, self._force = volume, force
        self._files: dict[str, LocalFile] = {}
        self._streams: dict[str, BinaryIO] = {}

    def put_file(self, local_file: str | os.PathLike[str] | BinaryIO, remote_path: str) -> None:
        remote = normalize_path(remote_path, allow_root=False)
        self._check_new(remote)
        if hasattr(local_file, "read"):
            self._streams[remote] = local_file  # type: ignore[assignment]
        else:
            self._files[remote] = as_local_file(local_file)  # type: ignore[arg-type]

    def put_directory(
        self, local_path: str | os.PathLike[str], remote_path: str, *, pattern: str | None = None
    ) -> None:
        for remote, f in collect(local_path, remote_path, pattern):
            self._check_new(remote)
            self._files[remote] = f

    def _check_new(self, remote: str) -> None:
        if remote in self._files or remote in self._streams:
            raise InvalidArgument(f"{remote!r} is uploaded twice in this batch")

    def _finish(self) -> None:
        vol = self._volume
        changes: dict[str, Stored | None] = dict(vol._upload(list(self._files.items()), None, "batch upload"))
        for remote, stream in self._streams.items():
            changes[remote] = vol._blobs.put_stream(stream, int(time.time()))
        if changes:
            vol._publish(changes, frozenset() if self._force else frozenset(changes))

    def __enter__(self) -> BatchUpload:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._finish()

    async def __aenter__(self) -> BatchUpload:
        return self

    async def __aexit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            await run_blocking(self._finish)


__all__ = ["BatchUpload", "Volume", "list_entries"]

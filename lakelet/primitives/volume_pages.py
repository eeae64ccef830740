"""One page of one directory of a Volume, without listing the whole volume.

``Volume.listdir`` reads every file below a folder (100,000 rows for the root of
a big flat volume). A browser needs 50 names. For volumes whose manifest is a
SQLite table (embedded environments) :class:`DirectoryPages` walks the sorted
``path`` index with a *skip scan*: one indexed lookup per child, jumping over a
whole sub-folder at once (``'0'`` sorts right after ``'/'``), so the first page
of any folder costs ``O(page × log n)``. Sorting by size or time, or filtering,
needs every child of that folder; those listings are computed once per
(folder, manifest version) and cached. Other manifests (Redis) fall back to
``listdir`` of the folder, also cached per version.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterator
from typing import Any, Literal

from ..errors import InvalidArgument, StorageInternalError
from .entries import FileEntry, FileEntryType, PathNotFound, Stored
from .names import normalize_path

SortField = Literal["name", "size", "mtime"]
#: rows read, at most, to total up the folders shown on one page (sizes and times of big folders are partial)
SUMMARY_BUDGET = 5_000
_MAX_CACHED = 8


@dataclasses.dataclass(frozen=True)
class Child:
    """A file or folder directly inside the listed folder."""

    name: str
    path: str
    is_dir: bool
    size: int  # bytes; for folders the total of the files below (maybe partial, see ``complete``)
    mtime: int  # seconds since the epoch; for folders the newest file below
    files: int = 1  # files below (1 for a file)
    complete: bool = True  # False when a folder's totals stopped at the summary budget

    def entry(self) -> FileEntry:
        kind = FileEntryType.DIRECTORY if self.is_dir else FileEntryType.FILE
        return FileEntry(self.path, kind, self.mtime, 0 if self.is_dir else self.size)


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a folder listing; ``total`` is None when it was not worth counting."""

    folder: str
    children: list[Child]
    offset: int
    total: int | None
    has_more: bool
    version: int


class DirectoryPages:
    """Pages of the folders of one Volume (see the module docstring)."""

    def __init__(self, volume: Any) -> None:
        self.volume = volume
        self._cache: dict[tuple[str, int], list[Child]] = {}
        self._cursors: dict[tuple[str, int], dict[int, str]] = {}  # (folder, version) -> offset -> resume path

    # ------------------------------------------------------------------ public
    def page(
        self,
        folder: str = "",
        *,
        offset: int = 0,
        limit: int = 50,
        sort: SortField = "name",
        descending: bool = False,
        name_filter: str = "",
    ) -> Page:
        """The children ``offset .. offset+limit`` of ``folder``, sorted and filtered."""
        folder = normalize_path(folder)
        if not isinstance(offset, int) or offset < 0:
            raise InvalidArgument(f"offset must be a non-negative int, got {offset!r}")
        if not isinstance(limit, int) or not 1 <= limit <= 10_000:
            raise InvalidArgument(f"limit must be an int from 1 to 10000, got {limit!r}")
        if sort not in ("name", "size", "mtime"):
            raise InvalidArgument(f"sort must be name, size or mtime; got {sort!r}")
        version = self._head()
        needle = name_filter.strip().lower()
        conn = self._sqlite()
        if conn is not None and sort == "name" and not descending and not needle:
            return self._scan_page(conn, folder, offset, limit, version)
        children = self._all_children(folder, version)
        if needle:
            children = [c for c in children if needle in c.name.lower()]
        children = sorted(children, key=_sort_key(sort), reverse=descending)
        chunk = children[offset : offset + limit]
        return Page(folder, chunk, offset, len(children), offset + limit < len(children), version)

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a folder of the volume (the root is one)."""
        p = normalize_path(path)
        if not p:
            return True
        conn = self._sqlite()
        if conn is not None:
            return self._first(conn, p + "/", p + "0") is not None
        return self.volume.exists(p) and self.volume._meta.get(p) is None

    def invalidate(self) -> None:
        """Forget cached listings (after this handle changed the volume)."""
        self._cache.clear()
        self._cursors.clear()

    # ------------------------------------------------------------------ backends
    def _head(self) -> int:
        return int(self.volume._meta.head())

    def _sqlite(self) -> Any:
        """The manifest's SQLite connection for embedded volumes, else None (use ``listdir``)."""
        from ._sqlite import Connection

        db = getattr(self.volume._meta, "db", None)
        conn = getattr(db, "conn", None)
        return conn if isinstance(conn, sqlite3.Connection | Connection) else None

    def _first(self, conn: sqlite3.Connection, lo: str, hi: str | None) -> tuple[str, str] | None:
        try:
            if hi is None:
                row = conn.execute("SELECT path, stored FROM entries WHERE path >= ? ORDER BY path LIMIT 1", (lo,))
            else:
                row = conn.execute(
                    "SELECT path, stored FROM entries WHERE path >= ? AND path < ? ORDER BY path LIMIT 1", (lo, hi)
                )
            return row.fetchone()
        except sqlite3.Error as e:
            raise StorageInternalError(f"cannot list {self.volume!r}: {e}") from e

    def _skip_scan(self, conn: sqlite3.Connection, folder: str, start: str | None) -> Iterator[tuple[Child, str]]:
        """Children of ``folder`` in path order from ``start``, each with the path to resume after it."""
        base = folder + "/" if folder else ""
        hi = folder + "0" if folder else None
        cursor = start if start is not None else base
        while True:
            row = self._first(conn, cursor, hi)
            if row is None:
                return
            path, stored_text = row
            rest = path[len(base) :]
            if "/" in rest:
                name = rest.split("/", 1)[0]
                child_path = base + name
                cursor = child_path + "0"  # every path below child_path/ sorts before this
                yield Child(name, child_path, True, 0, 0, 0, False), cursor
            else:
                stored = Stored.loads(stored_text)
                cursor = path + "\x00"  # the smallest string after path
                yield Child(rest, path, False, stored.size, stored.mtime), cursor

    def _scan_page(self, conn: sqlite3.Connection, folder: str, offset: int, limit: int, version: int) -> Page:
        cursors = self._cursors.setdefault((folder, version), {0: ""})
        known = max((o for o in cursors if o <= offset), default=0)
        start = cursors[known] or None
        children: list[Child] = []
        position = known
        has_more = False
        for child, resume in self._skip_scan(conn, folder, start):
            if position >= offset + limit:
                has_more = True
                break
            if position >= offset:
                children.append(child)
            position += 1
            if position % limit == 0 and len(cursors) < 10_000:
                cursors[position] = resume
        if not children and offset == 0 and folder and self._first(conn, folder + "/", folder + "0") is None:
            self._raise_missing(conn, folder)
        children = self._summarize(conn, children)
        total = None if has_more else offset + len(children)
        return Page(folder, children, offset, total, has_more, version)

    def _summarize(self, conn: sqlite3.Connection, children: list[Child]) -> list[Child]:
        """Give the folders on a page their totals, reading at most :data:`SUMMARY_BUDGET` rows in all."""
        budget = SUMMARY_BUDGET
        out = []
        for child in children:
            if not child.is_dir:
                out.append(child)
                continue
            limit = max(budget, 1)
            try:
                rows = conn.execute(
                    "SELECT stored FROM entries WHERE path >= ? AND path < ? ORDER BY path LIMIT ?",
                    (child.path + "/", child.path + "0", limit + 1),
                ).fetchall()
            except sqlite3.Error as e:
                raise StorageInternalError(f"cannot list {self.volume!r}: {e}") from e
            complete = len(rows) <= limit
            rows = rows[:limit]
            budget -= len(rows)
            size = mtime = 0
            for (text,) in rows:
                stored = Stored.loads(text)
                size += stored.size
                mtime = max(mtime, stored.mtime)
            out.append(dataclasses.replace(child, size=size, mtime=mtime, files=len(rows), complete=complete))
        return out

    def _raise_missing(self, conn: sqlite3.Connection, folder: str) -> None:
        if self.volume._meta.get(folder) is not None:
            raise InvalidArgument(f"{folder} is a file, not a folder")
        raise PathNotFound(f"{folder} not found in {self.volume!r}")

    def _all_children(self, folder: str, version: int) -> list[Child]:
        key = (folder, version)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        conn = self._sqlite()
        if conn is not None:
            children = list(_totals(conn, folder))
            if not children and folder and self._first(conn, folder + "/", folder + "0") is None:
                self._raise_missing(conn, folder)
        else:
            children = self._listdir_children(folder)
        if len(self._cache) >= _MAX_CACHED:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = children
        return children

    def _listdir_children(self, folder: str) -> list[Child]:
        entries = self.volume.listdir(folder or "/")
        if len(entries) == 1 and entries[0].path == folder and entries[0].type != FileEntryType.DIRECTORY:
            raise InvalidArgument(f"{folder} is a file, not a folder")
        out = []
        for e in entries:
            name = e.path.rsplit("/", 1)[-1]
            is_dir = e.type == FileEntryType.DIRECTORY
            out.append(Child(name, e.path, is_dir, e.size, e.mtime, 0 if is_dir else 1, not is_dir))
        return out


def _totals(conn: sqlite3.Connection, folder: str) -> Iterator[Child]:
    """Every child of ``folder`` with full totals, in one ordered pass over its subtree."""
    base = folder + "/" if folder else ""
    if folder:
        rows = conn.execute(
            "SELECT path, stored FROM entries WHERE path >= ? AND path < ? ORDER BY path", (base, folder + "0")
        )
    else:
        rows = conn.execute("SELECT path, stored FROM entries ORDER BY path")
    current: list[Any] | None = None  # [name, size, mtime, files] of the folder being summed
    for path, text in rows:
        rest = path[len(base) :]
        stored = Stored.loads(text)
        if "/" not in rest:
            if current is not None:
                yield _folder(base, current)
                current = None
            yield Child(rest, path, False, stored.size, stored.mtime)
            continue
        name = rest.split("/", 1)[0]
        if current is not None and current[0] != name:
            yield _folder(base, current)
            current = None
        if current is None:
            current = [name, 0, 0, 0]
        current[1] += stored.size
        current[2] = max(current[2], stored.mtime)
        current[3] += 1
    if current is not None:
        yield _folder(base, current)


def _folder(base: str, acc: list[Any]) -> Child:
    return Child(acc[0], base + acc[0], True, acc[1], acc[2], acc[3], True)


def _sort_key(field: SortField) -> Any:
    if field == "size":
        return lambda c: (c.size, c.name)
    if field == "mtime":
        return lambda c: (c.mtime, c.name)
    # folder names end in '/', so this is the manifest's path order (what the fast path pages through)
    return lambda c: c.name + "/" if c.is_dir else c.name


__all__ = ["SUMMARY_BUDGET", "Child", "DirectoryPages", "Page"]

"""Errors raised by datasets; each also subclasses the builtin a caller would catch."""

from __future__ import annotations

from collections.abc import Sequence

from .. import errors
from ..errors import AlreadyExists, InvalidPath, LakeletError, NotFound, ReadOnly, StorageKeyNotFound


class DatasetError(LakeletError):
    """Base of every dataset error."""


class DatasetNotFound(DatasetError, StorageKeyNotFound, FileNotFoundError):  # a NotFound via StorageKeyNotFound
    """No dataset exists at the given URL (also a ``StorageKeyNotFound``, as in Deep Lake)."""

    def __init__(self, url: str) -> None:
        StorageKeyNotFound.__init__(self, f"no dataset at {url!r}")
        self.url = url

    def __reduce__(self):  # several builtin bases: rebuild through __init__
        return (type(self), (self.url,))

    def __str__(self) -> str:
        return str(self.args[0])


class DatasetExists(DatasetError, AlreadyExists):
    """``create`` was asked for a URL that already holds a dataset."""

    def __init__(self, url: str) -> None:
        super().__init__(f"a dataset already exists at {url!r} (open it, or delete it first)")
        self.url = url

    def __reduce__(self):
        return (type(self), (self.url,))

    def __str__(self) -> str:
        return str(self.args[0])


class NestedDataset(DatasetError, InvalidPath):
    """A dataset would be created inside another dataset's folder, or around one (or deleted with one
    inside it): one's ``gc()`` or ``delete()`` would then remove the other's files."""


class SchemaError(DatasetError, TypeError):
    """A column is missing, unknown, or a value does not fit its column's type."""

    def __init__(self, message: str, *, column: str | None = None, type: str | None = None, row: int | None = None):
        super().__init__(message)
        self.column = column
        self.type = type
        self.row = row

    def __reduce__(self):
        return (_rebuild, (type(self), self.args, self.__dict__))


class VersionNotFound(DatasetError, NotFound, KeyError):
    """No commit, branch or tag has the given name."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class MergeConflict(DatasetError, ValueError):
    """Both sides of a merge changed the same rows (or the same column differently)."""

    def __init__(self, message: str, *, rows: Sequence[int] = (), columns: Sequence[str] = ()) -> None:
        shown = ", ".join(str(r) for r in list(rows)[:20])
        more = f" (+{len(rows) - 20} more)" if len(rows) > 20 else ""
        details = []
        if rows:
            details.append(f"conflicting rows: {shown}{more}")
        if columns:
            details.append(f"conflicting columns: {', '.join(columns)}")
        full = f"{message}; {'; '.join(details)}" if details else message
        super().__init__(full)
        self.rows = list(rows)
        self.columns = list(columns)

    def __reduce__(self):
        return (_rebuild, (type(self), self.args, self.__dict__))


class CommitConflict(DatasetError, errors.CommitConflict):
    """Another writer moved the branch head first; this commit was not published."""

    def __init__(self, message: str) -> None:
        errors.CommitConflict.__init__(self, message)

    def __reduce__(self):
        return (type(self), (str(self),))


class DatasetReadOnly(DatasetError, ReadOnly):
    """A write was asked of a handle opened read-only or checked out at a fixed version."""


def _rebuild(cls: type[Exception], args: tuple, state: dict) -> Exception:
    err = Exception.__new__(cls)
    err.args = args
    err.__dict__.update(state)
    return err


__all__ = [
    "CommitConflict",
    "DatasetError",
    "DatasetExists",
    "DatasetNotFound",
    "DatasetReadOnly",
    "MergeConflict",
    "SchemaError",
    "VersionNotFound",
]

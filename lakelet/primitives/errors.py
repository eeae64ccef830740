"""Errors and warnings of the named primitives (all rooted in :class:`lakelet.errors.LakeletError`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import AlreadyExists, CommitConflict, InvalidArgument, InvalidPath, LakeletError, LakeletWarning, NotFound


class NotFoundError(NotFound):
    """No object of that kind and name exists in the environment (Modal's name; a :class:`NotFound`)."""


class AlreadyExistsError(AlreadyExists):
    """An object of that kind and name already exists in the environment (Modal's name)."""


class ConflictError(CommitConflict):
    """A commit lost its race: another commit changed some of the same paths since our base.

    ``paths`` lists the paths both sides touched; reload and retry (or resolve by hand).
    """

    def __init__(self, message: str, *, paths: Iterable[str] = ()) -> None:
        self.paths = sorted(paths)
        shown = ", ".join(repr(p) for p in self.paths[:10])
        more = f" and {len(self.paths) - 10} more" if len(self.paths) > 10 else ""
        super().__init__(f"{message}: {shown}{more}" if self.paths else message)


class SizeLimitExceeded(InvalidArgument):
    """A key, value or item is larger than the documented limit (the message says which)."""


class FileDirectoryConflict(InvalidPath):
    """A volume path would be both a file and a folder (``ff`` and ``ff/g``); nothing was committed."""


class UnpicklableValue(InvalidArgument, TypeError):
    """A Dict value, key or Queue item cannot be serialized (a lock, a generator, an open file...);
    the message names the key or item and the value's type. Nothing was written."""


class UndecodableValue(LakeletError, ValueError):
    """A stored Dict value or Queue item cannot be unpickled in this process (a class or module
    this process lacks, a reduction that raises). The message names the key or item; the stored
    bytes are left in place (Dict) or kept aside as a dead letter (Queue)."""


class PoisonItem(UndecodableValue):
    """Queue items that cannot be decoded were moved to the queue's dead letters.

    ``dead_letter_ids`` are their ids in :meth:`Queue.dead_letters`; the other items of the
    same batch were left in the queue, in order, for the next ``get``.
    """

    def __init__(self, message: str, *, dead_letter_ids: Iterable[int] = ()) -> None:
        super().__init__(message)
        self.dead_letter_ids = list(dead_letter_ids)


class UndecodableValueWarning(LakeletWarning):
    """Iterating a Dict skipped values that cannot be decoded here (the warning names their keys)."""


class UncommittedChangesWarning(LakeletWarning):
    """A volume working copy held changes that were never committed when it was closed."""


__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "FileDirectoryConflict",
    "NotFoundError",
    "PoisonItem",
    "SizeLimitExceeded",
    "UncommittedChangesWarning",
    "UndecodableValue",
    "UndecodableValueWarning",
    "UnpicklableValue",
]

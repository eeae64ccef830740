"""Errors and warnings of the named primitives (all rooted in :class:`lakelet.errors.LakeletError`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..errors import InvalidArgument, LakeletError, LakeletWarning, PreconditionFailed


class NotFoundError(LakeletError, LookupError):
    """No object of that kind and name exists in the environment (and it was not to be created)."""


class AlreadyExistsError(LakeletError, FileExistsError):
    """An object of that kind and name already exists in the environment."""


class ConflictError(PreconditionFailed):
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


class UncommittedChangesWarning(LakeletWarning):
    """A volume working copy held changes that were never committed when it was closed."""


__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "NotFoundError",
    "SizeLimitExceeded",
    "UncommittedChangesWarning",
]

"""One exception tree for all of lakelet.

Every leaf also subclasses the builtin a caller would naturally catch, so
``except KeyError`` catches a missing key and ``except ConnectionError`` a dead
server, whatever backend produced them. Backend exceptions are translated at
the location boundary (see :func:`lakelet.locations.abc.translate_errors`) and
always chained, so the original cause stays visible.
"""

from __future__ import annotations

from typing import Any


class LakeletError(Exception):
    """Base of every error lakelet raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by class, args and attributes: errors cross processes (Dask workers, queue consumers),
        also where tblib's pickling support is installed (Dask does), which cannot rebuild an error that
        has two builtin bases (``PathNotFound`` is a ``LookupError`` and a ``FileNotFoundError``)."""
        return (_rebuild_error, (type(self), self.args, dict(self.__dict__)))


def _rebuild_error(cls: type[LakeletError], args: tuple[Any, ...], state: dict[str, Any]) -> LakeletError:
    # The builtin base with the instance's memory layout makes it (OSError's for a FileNotFoundError);
    # the first ``__new__`` in the MRO may belong to another builtin base and refuse.
    builtin = max((b for b in cls.__mro__ if b.__module__ == "builtins"), key=lambda b: b.__basicsize__)
    error: LakeletError = builtin.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class LakeletWarning(UserWarning):
    """Base of every warning lakelet emits."""


class CacheTierUnavailable(LakeletWarning):
    """A cache tier of a ``Levels`` stack stopped answering; it is skipped for a while (reads fall
    through to lower levels, writes reach the durable level)."""


class VolatileLake(LakeletWarning):
    """The configured lake has no durable level: what it stores is lost with a process or a Redis restart."""


class MissingDependency(LakeletError, ImportError):
    """An optional backend was asked for but its extra is not installed."""


class InvalidArgument(LakeletError, ValueError):
    """A value given to a public entry point is malformed (bad URL, size, option...)."""


class InvalidKey(InvalidArgument):
    """A storage key is not a 64-character lowercase hex sha256 digest."""


class InvalidPath(InvalidArgument):
    """A path escapes its root, is absolute where it must be relative, or holds a NUL byte."""


class InvalidName(InvalidArgument):
    """A name of a named object (volume, dict, queue, dataset) is not allowed."""


class LakeletTimeout(LakeletError, TimeoutError):
    """An operation did not finish within its time limit."""


# ------------------------------------------------------------------ shared bases: one word per idea
class NotFound(LakeletError, LookupError):
    """Nothing of that name exists: a key, a path, a named object, a dataset, a version.

    Every "not found" of lakelet derives from it; where a mapping is involved the
    error is also a ``KeyError`` (``StorageKeyNotFound``, ``VersionNotFound``), where
    a path is, a ``FileNotFoundError`` (``PathNotFound``, ``DatasetNotFound``).
    """


class AlreadyExists(LakeletError, FileExistsError):
    """Something of that name exists already (a named object, a dataset)."""


class ReadOnly(LakeletError, PermissionError):
    """A write was asked of something opened or configured read-only."""


class StorageError(LakeletError):
    """Base of the storage errors; carries the location and key when known."""

    def __init__(self, message: str, *, location: object | None = None, key: str | None = None) -> None:
        details = []
        if location is not None:
            details.append(f"location={location}")
        if key is not None:
            details.append(f"key={key}")
        full = f"{message} ({', '.join(details)})" if details else message
        super().__init__(full)
        self.location = location
        self.key = key

    def __str__(self) -> str:
        # KeyError would quote the message; every storage error reads the same way.
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:  # keep the plain-message form across pickling (multiprocessing)
        return (_rebuild_storage_error, (type(self), self.args[0] if self.args else "", self.key))


def _rebuild_storage_error(cls: type[StorageError], message: str, key: str | None) -> StorageError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.location = None
    err.key = key
    return err


class StorageKeyNotFound(StorageError, NotFound, KeyError):
    """The key is in none of the places that were asked."""


class StorageAccessDenied(StorageError, PermissionError):
    """The backend refused the operation (credentials, permissions, read-only location)."""


class ReadOnlyLocation(StorageAccessDenied, ReadOnly):
    """A write or delete was asked of a location that only reads."""


class StorageNetworkConnectionError(StorageError, ConnectionError):
    """The backend's server could not be reached or stopped answering."""


class StorageTimeout(StorageNetworkConnectionError):
    """A remote server accepted the connection but did not answer within the deadline
    (a hung or stopped server); the message names the deadline and where to set it.

    Deliberately not a ``TimeoutError``: async clients (fsspec) replace any ``TimeoutError``
    leaving a coroutine by their own, message-less one."""


class StorageInternalError(StorageError, OSError):
    """The backend failed in a way that is neither a missing key nor a refused access."""


class StorageFull(StorageError, OSError):
    """No location in the write path had room for the value."""


class StorageCorruption(StorageError, OSError):
    """Stored content does not hash to its key."""


class CollisionError(StorageError, ValueError):
    """Different content was offered under a key that already holds other bytes."""


class PreconditionFailed(StorageError):
    """A conditional write (create-only or compare-and-swap) lost its race."""


class CommitConflict(PreconditionFailed):
    """A commit lost its compare-and-swap: another writer moved the head first; nothing was published.

    The one word for volumes (Modal's ``ConflictError``) and datasets (Deep Lake's ``CommitConflict``).
    """


__all__ = [
    "AlreadyExists",
    "CollisionError",
    "CommitConflict",
    "InvalidArgument",
    "InvalidKey",
    "InvalidName",
    "InvalidPath",
    "LakeletError",
    "LakeletTimeout",
    "LakeletWarning",
    "VolatileLake",
    "MissingDependency",
    "NotFound",
    "PreconditionFailed",
    "ReadOnly",
    "ReadOnlyLocation",
    "StorageAccessDenied",
    "StorageCorruption",
    "StorageError",
    "StorageFull",
    "StorageInternalError",
    "StorageKeyNotFound",
    "StorageNetworkConnectionError",
    "StorageTimeout",
]

"""Errors and warnings of the cache layer (all rooted in :mod:`lakelet.errors`)."""

from __future__ import annotations

from ..errors import InvalidArgument, LakeletWarning, StorageCorruption


class UnhashableValue(InvalidArgument, TypeError):
    """A value that is part of a cache key cannot be hashed deterministically.

    ``what`` names the parameter, global or notebook variable, so the message
    says exactly what to pass in ``ignore=`` / ``--ignore``.
    """

    def __init__(self, message: str, *, what: str | None = None) -> None:
        super().__init__(message)
        self.what = what


class UnstorableValue(InvalidArgument, TypeError):
    """A result (or a cell variable) cannot be serialized by any codec."""


class UntrustedEntry(StorageCorruption):
    """A cache entry's HMAC is missing or wrong for the configured ``LAKELET_CACHE_KEY``."""


class CacheWarning(LakeletWarning):
    """A cache read or write failed and the call went on without the cache."""


__all__ = ["CacheWarning", "UnhashableValue", "UnstorableValue", "UntrustedEntry"]

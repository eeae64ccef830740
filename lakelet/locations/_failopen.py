"""Circuit breakers that let a composite skip a cache tier that stopped answering.

A cache tier (a level that is not ``durable``: process memory, a Redis cache)
only makes reads faster, so when it fails with a connection error or a timeout
``Levels`` goes on without it instead of failing or waiting: reads fall through
to the levels below, writes still reach the durable level. The first failure
*opens* the tier's breaker and warns once; while open (``COOLDOWN`` seconds) the
tier is not asked at all, so a hung server costs one timeout, not one per call.
After the cooldown the next call tries it again; a success closes the breaker.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import CacheTierUnavailable, StorageNetworkConnectionError

#: seconds a failed cache tier is skipped before it is tried again
COOLDOWN = 30.0
T = TypeVar("T")


class Breakers:
    """One breaker per member location of a composite (keyed by identity)."""

    def __init__(self, cooldown: float = COOLDOWN) -> None:
        self.cooldown = cooldown
        self._open_until: dict[int, float] = {}
        self._warned: set[int] = set()
        self._lock = threading.Lock()

    def skip(self, location: Any) -> bool:
        """Whether ``location``'s breaker is open (it failed less than ``cooldown`` seconds ago)."""
        until = self._open_until.get(id(location))
        return until is not None and time.monotonic() < until

    def trip(self, location: Any, error: BaseException) -> None:
        """Open the breaker after a failure; warn unless this tier was already reported."""
        with self._lock:
            self._open_until[id(location)] = time.monotonic() + self.cooldown
            first = id(location) not in self._warned
            self._warned.add(id(location))
        if first:
            warnings.warn(
                f"cache tier {getattr(location, 'url', location)} is not answering ({error}); skipping it for "
                f"{self.cooldown:g} s at a time: reads fall through to the levels below, writes go to the durable "
                "level",
                CacheTierUnavailable,
                stacklevel=4,
            )

    def ok(self, location: Any) -> None:
        """Close the breaker after a success (a later failure warns again)."""
        if id(location) in self._open_until:
            with self._lock:
                self._open_until.pop(id(location), None)
                self._warned.discard(id(location))

    def call(self, location: Any, fails_open: bool, fn: Callable[[], T], fallback: T) -> T:
        """``fn()``, or ``fallback`` when ``location`` is a cache tier (``fails_open``) that is
        skipped or fails with a connection error or timeout."""
        if not fails_open:
            return fn()
        if self.skip(location):
            return fallback
        try:
            result = fn()
        except StorageNetworkConnectionError as e:
            self.trip(location, e)
            return fallback
        self.ok(location)
        return result


__all__ = ["COOLDOWN", "Breakers"]

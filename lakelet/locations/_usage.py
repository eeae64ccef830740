"""A location's byte and entry count, kept between listings.

Counting means listing every value, so capped locations count once and then
adjust the figures on each write and delete; after ``ttl`` seconds the next
question re-counts, which picks up what other processes wrote meanwhile.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from .abc import EntryInfo, now


class UsageCounter:
    """Bytes and entries of a location, re-counted from ``entries`` when older than ``ttl`` seconds."""

    def __init__(self, entries: Callable[[], Iterable[EntryInfo]], ttl: float = 30.0) -> None:
        self._entries = entries
        self._ttl = ttl
        self._lock = threading.Lock()
        self._counted: tuple[int, int, float] | None = None  # (bytes, entries, when counted)

    def get(self, *, fresh: bool = False) -> tuple[int, int]:
        """(bytes, entries); ``fresh=True`` re-counts now."""
        with self._lock:
            cached = self._counted
        if not fresh and cached is not None and now() - cached[2] < self._ttl:
            return cached[0], cached[1]
        total = count = 0
        for entry in self._entries():
            total += entry.size
            count += 1
        with self._lock:
            self._counted = (total, count, now())
        return total, count

    def added(self, size: int) -> None:
        """A value of ``size`` bytes was stored."""
        self._adjust(size, 1)

    def removed(self, size: int) -> None:
        """A value of ``size`` bytes was deleted."""
        self._adjust(-size, -1)

    def _adjust(self, size: int, count: int) -> None:
        with self._lock:
            if self._counted is not None:
                b, n, t = self._counted
                self._counted = (max(b + size, 0), max(n + count, 0), t)

"""Producer lookup for the widgets: the cache layer's :class:`~lakelet.cache.producers.Producers`."""

from __future__ import annotations

from ...cache.producers import MAX_REMEMBERED, Producers, describe

__all__ = ["MAX_REMEMBERED", "Producers", "describe"]

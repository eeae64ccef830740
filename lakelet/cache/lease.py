"""A lease in Redis, so processes on *different machines* compute a cache entry once.

The local :class:`~lakelet.cache.lock.EntryLock` (an ``flock``) only orders the
processes of one machine. When the lake has a Redis level, every machine that
uses the lake can see the same Redis, so the lease lives there:

- ``P:lease:<address>`` holds the holder's *fencing token* and expires after
  ``ttl`` seconds unless renewed. A holder renews it from a daemon thread while
  it computes, so a long computation keeps its lease, and a holder that dies
  (SIGKILL, a lost machine) stops renewing: its lease expires and exactly one
  waiter takes it over.
- ``P:fence`` is a counter; each granted lease takes the next number. Before it
  publishes, a holder checks that the lease still carries its number
  (:meth:`RedisLease.held`); one that lost its lease (it was paused longer than
  ``ttl``) does not publish over the successor's work.

Waiters poll with a short, growing interval (Redis has no blocking "wait for a
key to disappear"); once they get the lease they look the entry up again and,
normally, find it. Entries are published create-only and last, so whatever a
lost holder did, a half-written entry is never visible.
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from typing import Any

from ..errors import InvalidArgument

# KEYS: lease, fence   ARGV: ttl_ms   -> the fencing token, or 0 when the lease is taken
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token
"""
# KEYS: lease   ARGV: token, ttl_ms   -> 1 when still ours (and renewed)
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# KEYS: lease   ARGV: token
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisLease:
    """An expiring, renewed, fenced lease named ``name`` in a Redis database.

    ``client`` is a ``redis.Redis``; ``prefix`` namespaces the keys (the Redis
    location's own prefix). ``ttl`` is how long a dead holder blocks others.
    """

    def __init__(self, client: Any, prefix: str, name: str, *, ttl: float = 30.0) -> None:
        if not isinstance(ttl, int | float) or isinstance(ttl, bool) or not math.isfinite(ttl) or ttl <= 0:
            raise InvalidArgument(f"lease ttl must be a positive number of seconds, got {ttl!r}")
        self._client = client
        self.key = f"{prefix}:lease:{name}"
        self._fence = f"{prefix}:fence"
        self.ttl = float(ttl)
        self.token: int | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False  # set by the renewer when the lease was taken over while we held it
        self.id = uuid.uuid4().hex

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self.ttl * 1000))

    def acquire(self) -> int:
        """Wait until the lease is ours; returns the fencing token."""
        acquire = self._client.register_script(_ACQUIRE)
        delay = 0.01
        while True:
            token = int(acquire(keys=[self.key, self._fence], args=[self._ttl_ms]))
            if token:
                break
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25, self.ttl / 4)
        self.token, self.lost = token, False
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name=f"lakelet-lease-{token}", daemon=True)
        self._renewer.start()
        return token

    def _renew_loop(self) -> None:
        renew = self._client.register_script(_RENEW)
        while not self._stop.wait(self.ttl / 3):
            try:
                still = int(renew(keys=[self.key], args=[self.token, self._ttl_ms]))
            except Exception:  # noqa: BLE001 - a flaky Redis: keep trying until the lease runs out
                continue
            if not still:
                self.lost = True
                return

    def held(self) -> bool:
        """True while Redis still carries our token (checked, not assumed): the fencing check."""
        if self.token is None or self.lost:
            return False
        return self._client.get(self.key) == str(self.token).encode()

    def release(self) -> None:
        """Give the lease back (a no-op if it expired and someone else holds it now)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self.token is not None:
            self._client.register_script(_RELEASE)(keys=[self.key], args=[self.token])
            self.token = None

    def __enter__(self) -> RedisLease:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def redis_levels(location: Any) -> list[Any]:
    """The Redis locations in a location topology, top-down (the first one holds leases)."""
    found: list[Any] = []
    stack = [location]
    while stack:
        node = stack.pop(0)
        if getattr(node, "kind", None) == "redis":
            found.append(node)
        stack[0:0] = list(node.children())
    return found


__all__ = ["RedisLease", "redis_levels"]

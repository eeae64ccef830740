"""The handshake between volume writers and the volume blob collector.

Blobs are content-addressed and shared by all volumes of an environment, so a
writer may "store" a blob that already exists (a dedup hit is a no-op that does
not refresh the blob's age) and commit a manifest pointing at it a moment later.
A collector that decided the blob was garbage in between would lose that data.
The guard closes that window with three sets kept next to the volume manifests
(a SQLite file embedded, Redis keys shared), all changed atomically:

* ``recent``: digest -> when a writer last stored (or copied a reference to) it.
  Writers call :meth:`BlobGuard.protect` after every blob they store and before
  a commit that copies existing references.
* ``condemned``: what the running collection intends to delete. ``protect``
  removes a digest from it (a rescue).
* ``deleting``: digests the collector has *claimed*; ``protect`` reports them,
  and the writer waits for the deletion to finish.

The collector claims a digest only if it is still condemned and was not
protected within the grace period, so once ``protect`` returned, no collection
deletes the blob. What a collection deleted *before* that (between the writer's
dedup hit and its ``protect``) the writer finds with one existence check, made
only when ``protect`` says a collection was active since the write began; it
then stores its bytes again. One collection runs at a time per environment (a lock
with a time limit, so a crashed collector does not block the next one; claims of
a dead collector are ignored).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ._redis import connect, redis_errors
from ._sqlite import SqliteFile
from .env import Environment

#: a collector that has not refreshed its lock for this long is considered dead
LOCK_TTL = 300.0
_BATCH = 500


class BlobGuard(Protocol):
    def protect(self, digests: Sequence[str], since: float) -> tuple[list[str], bool]:
        """Stamp ``digests`` as just used and rescue them from the running collection.

        Returns the digests a collector is deleting right now (the caller waits,
        :meth:`wait_deleted`, then finds them gone), and whether any collection was
        active at or after ``since`` (then the caller checks its blobs still exist).
        """

    def wait_deleted(self, digests: Sequence[str], timeout: float = LOCK_TTL) -> None:
        """Block until none of ``digests`` is being deleted (or the collector died)."""

    def acquire(self) -> str | None:
        """Take the collector lock; a holder token, or None if another collection runs."""

    def refresh(self, token: str) -> bool:
        """Extend the lock; False if it was lost (expired and taken by another collector)."""

    def release(self, token: str) -> None: ...

    def recent(self, since: float) -> set[str]:
        """Digests protected at or after ``since`` (epoch seconds)."""

    def condemn(self, digests: Iterable[str]) -> None:
        """Replace the condemned set (the collector holds the lock)."""

    def claim(self, digests: Sequence[str], since: float) -> list[str]:
        """Move the digests still condemned and not protected since ``since`` to ``deleting``."""

    def done(self, digests: Sequence[str]) -> None:
        """Forget claimed digests once deleted."""

    def finish(self, prune_before: float) -> None:
        """Clear the condemned and deleting sets, and drop ``recent`` stamps older than ``prune_before``."""

    def close(self) -> None: ...


def _poll(busy: Sequence[str], still_busy, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    pending = list(busy)
    while pending and time.monotonic() < deadline:
        time.sleep(0.05)
        pending = still_busy(pending)


# ----------------------------------------------------------------------------- SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS recent (digest TEXT PRIMARY KEY, at REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS condemned (digest TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deleting (digest TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lock (one INTEGER PRIMARY KEY CHECK (one = 0), token TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS activity (one INTEGER PRIMARY KEY CHECK (one = 0), at REAL NOT NULL);
INSERT OR IGNORE INTO activity VALUES (0, 0)
"""


class SqliteBlobGuard:
    """``<env root>/volumes/blob-guard.sqlite``."""

    def __init__(self, path: Path) -> None:
        self.db = SqliteFile(path, _SCHEMA)

    def _alive(self, conn, now: float) -> bool:  # type: ignore[no-untyped-def]
        return conn.execute("SELECT 1 FROM lock WHERE expires > ?", (now,)).fetchone() is not None

    def _active(self, conn) -> None:  # type: ignore[no-untyped-def]
        conn.execute("UPDATE activity SET at=?", (time.time(),))

    def protect(self, digests: Sequence[str], since: float) -> tuple[list[str], bool]:
        now = time.time()
        rows = [(d,) for d in digests]
        with self.db.transaction() as conn:
            last = conn.execute("SELECT at FROM activity").fetchone()[0]
            collecting = self._alive(conn, now) or last + LOCK_TTL >= since
            conn.executemany(
                "INSERT INTO recent VALUES (?, ?) ON CONFLICT (digest) DO UPDATE SET at=excluded.at",
                [(d, now) for d in digests],
            )
            conn.executemany("DELETE FROM condemned WHERE digest=?", rows)
            busy = [d for d in digests if conn.execute("SELECT 1 FROM deleting WHERE digest=?", (d,)).fetchone()]
            if busy and not self._alive(conn, now):
                conn.executemany("DELETE FROM deleting WHERE digest=?", [(d,) for d in busy])  # a dead collector's
                busy = []
        return busy, collecting

    def _still_busy(self, digests: list[str]) -> list[str]:
        conn = self.db.conn
        if not self._alive(conn, time.time()):
            return []
        return [d for d in digests if conn.execute("SELECT 1 FROM deleting WHERE digest=?", (d,)).fetchone()]

    def wait_deleted(self, digests: Sequence[str], timeout: float = LOCK_TTL) -> None:
        _poll(digests, self._still_busy, timeout)

    def acquire(self) -> str | None:
        token, now = uuid.uuid4().hex, time.time()
        with self.db.transaction() as conn:
            if self._alive(conn, now):
                return None
            conn.execute("INSERT OR REPLACE INTO lock VALUES (0, ?, ?)", (token, now + LOCK_TTL))
            self._active(conn)
        return token

    def refresh(self, token: str) -> bool:
        with self.db.transaction() as conn:
            cur = conn.execute("UPDATE lock SET expires=? WHERE token=?", (time.time() + LOCK_TTL, token))
            self._active(conn)
        return cur.rowcount == 1

    def release(self, token: str) -> None:
        self.db.conn.execute("DELETE FROM lock WHERE token=?", (token,))

    def recent(self, since: float) -> set[str]:
        return {d for (d,) in self.db.conn.execute("SELECT digest FROM recent WHERE at >= ?", (since,))}

    def condemn(self, digests: Iterable[str]) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM condemned")
            conn.executemany("INSERT OR IGNORE INTO condemned VALUES (?)", [(d,) for d in digests])

    def claim(self, digests: Sequence[str], since: float) -> list[str]:
        claimed = []
        with self.db.transaction() as conn:
            for d in digests:
                row = conn.execute(
                    "SELECT 1 FROM condemned c LEFT JOIN recent r ON r.digest = c.digest "
                    "WHERE c.digest = ? AND (r.at IS NULL OR r.at < ?)",
                    (d, since),
                ).fetchone()
                if row is not None:
                    conn.execute("DELETE FROM condemned WHERE digest=?", (d,))
                    conn.execute("INSERT OR IGNORE INTO deleting VALUES (?)", (d,))
                    claimed.append(d)
        return claimed

    def done(self, digests: Sequence[str]) -> None:
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM deleting WHERE digest=?", [(d,) for d in digests])
            self._active(conn)

    def finish(self, prune_before: float) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM condemned")
            conn.execute("DELETE FROM deleting")
            conn.execute("DELETE FROM recent WHERE at < ?", (prune_before,))
            self._active(conn)

    def close(self) -> None:
        self.db.close()


# ----------------------------------------------------------------------------- Redis
# KEYS: recent (hash digest -> time), condemned (set), deleting (set), lock, activity
# ARGV: now, since - lock ttl, digests...
_PROTECT = """
local busy = {}
local collecting = redis.call('EXISTS', KEYS[4]) == 1
  or tonumber(redis.call('GET', KEYS[5]) or '0') >= tonumber(ARGV[2])
for i = 3, #ARGV do
  local d = ARGV[i]
  redis.call('HSET', KEYS[1], d, ARGV[1])
  redis.call('SREM', KEYS[2], d)
  if redis.call('SISMEMBER', KEYS[3], d) == 1 then
    if redis.call('EXISTS', KEYS[4]) == 1 then
      busy[#busy + 1] = d
    else
      redis.call('SREM', KEYS[3], d)
    end
  end
end
return {collecting and 1 or 0, busy}
"""
_CLAIM = """
local out = {}
local since = tonumber(ARGV[1])
for i = 2, #ARGV do
  local d = ARGV[i]
  if redis.call('SISMEMBER', KEYS[2], d) == 1 then
    local at = redis.call('HGET', KEYS[1], d)
    if not at or tonumber(at) < since then
      redis.call('SREM', KEYS[2], d)
      redis.call('SADD', KEYS[3], d)
      out[#out + 1] = d
    end
  end
end
return out
"""
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_PRUNE = """
local n = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    n = n + 1
  end
end
return n
"""


class RedisBlobGuard:
    """Keys ``<prefix>{blobgc}:recent|condemned|deleting|lock`` (one hash slot)."""

    def __init__(self, env: Environment) -> None:
        self.url = env.redis_url
        self.client = connect(env.redis_url)  # type: ignore[arg-type]
        base = f"{env.redis_prefix}{{blobgc}}:"
        self.keys = [base + "recent", base + "condemned", base + "deleting", base + "lock", base + "activity"]
        self._protect = self.client.register_script(_PROTECT)
        self._claim = self.client.register_script(_CLAIM)
        self._refresh = self.client.register_script(_REFRESH)
        self._release = self.client.register_script(_RELEASE)
        self._prune = self.client.register_script(_PRUNE)

    def _active(self) -> None:
        self.client.set(self.keys[4], time.time())

    @redis_errors
    def protect(self, digests: Sequence[str], since: float) -> tuple[list[str], bool]:
        collecting, busy = self._protect(keys=self.keys, args=[time.time(), since - LOCK_TTL, *digests])
        return [d.decode() for d in busy], bool(collecting)

    @redis_errors
    def _still_busy(self, digests: list[str]) -> list[str]:
        if not self.client.exists(self.keys[3]):
            return []
        flags = self.client.smismember(self.keys[2], digests)
        return [d for d, busy in zip(digests, flags, strict=True) if busy]

    def wait_deleted(self, digests: Sequence[str], timeout: float = LOCK_TTL) -> None:
        _poll(digests, self._still_busy, timeout)

    @redis_errors
    def acquire(self) -> str | None:
        token = uuid.uuid4().hex
        if not self.client.set(self.keys[3], token, nx=True, px=int(LOCK_TTL * 1000)):
            return None
        self._active()
        return token

    @redis_errors
    def refresh(self, token: str) -> bool:
        self._active()
        return bool(self._refresh(keys=[self.keys[3]], args=[token, int(LOCK_TTL * 1000)]))

    @redis_errors
    def release(self, token: str) -> None:
        self._release(keys=[self.keys[3]], args=[token])

    @redis_errors
    def recent(self, since: float) -> set[str]:
        return {d.decode() for d, at in self.client.hscan_iter(self.keys[0], count=1000) if float(at) >= since}

    @redis_errors
    def condemn(self, digests: Iterable[str]) -> None:
        self.client.delete(self.keys[1])
        batch: list[str] = []
        for d in digests:
            batch.append(d)
            if len(batch) >= _BATCH:
                self.client.sadd(self.keys[1], *batch)
                batch = []
        if batch:
            self.client.sadd(self.keys[1], *batch)

    @redis_errors
    def claim(self, digests: Sequence[str], since: float) -> list[str]:
        if not digests:
            return []
        return [d.decode() for d in self._claim(keys=self.keys[:3], args=[since, *digests])]

    @redis_errors
    def done(self, digests: Sequence[str]) -> None:
        self._active()
        if digests:
            self.client.srem(self.keys[2], *digests)

    @redis_errors
    def finish(self, prune_before: float) -> None:
        self._active()
        self.client.delete(self.keys[1], self.keys[2])
        self._prune(keys=[self.keys[0]], args=[prune_before])

    def close(self) -> None:
        self.client.close()


def open_blob_guard(env: Environment) -> SqliteBlobGuard | RedisBlobGuard:
    if env.shared:
        return RedisBlobGuard(env)
    return SqliteBlobGuard(env.root / "volumes" / "blob-guard.sqlite")


__all__ = ["LOCK_TTL", "BlobGuard", "RedisBlobGuard", "SqliteBlobGuard", "open_blob_guard"]

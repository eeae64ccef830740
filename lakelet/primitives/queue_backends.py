"""Where a Queue's items live: a SQLite file (embedded, durable) or Redis lists (shared).

Both pop atomically (one SQL transaction, or one Lua script), so racing consumers
never receive the same item twice. Acknowledged delivery leases an item until a
deadline instead of removing it; an expired lease makes it visible again at the
front of its partition.

Items are decoded before they are given up: SQLite decodes inside the popping
transaction; Redis pops, decodes, and when an item cannot be decoded puts the
batch back with one script. An undecodable ("poison") item is moved to the
queue's dead letters, the rest of its batch stays queued in order.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._redis import connect, redis_errors
from ._sqlite import SqliteFile
from .codec import describe_error
from .env import Environment
from .errors import UndecodableValue

DEFAULT_PARTITION = ""
Popped = tuple[str | None, Any]  # (lease token for acknowledged delivery, decoded item)
Decode = Callable[[bytes], Any]  # raises UndecodableValue


@dataclass(frozen=True)
class DeadLetter:
    """A Queue item no consumer could decode, kept aside with the reason (see ``Queue.dead_letters``)."""

    id: int
    partition: str | None  # None: the default partition
    error: str
    at: float  # when it was moved aside (seconds since the epoch)
    data: bytes  # the item as stored (a pickle)


@dataclass(frozen=True)
class Poisoned:
    """One undecodable item of a pop: why, and its dead-letter id."""

    error: str
    dead_letter_id: int


def _split(values: list[bytes], decode: Decode) -> tuple[list[Any], list[tuple[int, str]]]:
    """Decoded items, and (index, reason) for the ones that cannot be decoded."""
    good: list[Any] = []
    bad: list[tuple[int, str]] = []
    for i, v in enumerate(values):
        try:
            good.append(decode(v))
        except UndecodableValue as e:  # the reason is the decoder's own error
            bad.append((i, describe_error(e.__cause__) if e.__cause__ is not None else str(e)))
    return good, bad


# ----------------------------------------------------------------------------- SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY AUTOINCREMENT, partition TEXT NOT NULL, value BLOB NOT NULL,
  visible_at REAL NOT NULL DEFAULT 0, lease TEXT);
CREATE INDEX IF NOT EXISTS items_partition ON items (partition, id);
CREATE TABLE IF NOT EXISTS partitions (partition TEXT PRIMARY KEY, expires REAL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead (
  id INTEGER PRIMARY KEY AUTOINCREMENT, partition TEXT NOT NULL, value BLOB NOT NULL, error TEXT NOT NULL,
  at REAL NOT NULL)
"""
_PICK = "SELECT id FROM items WHERE partition=? AND visible_at<=? ORDER BY id LIMIT ?"


def sqlite_path(env: Environment, object_id: str) -> Path:
    return env.root / "queues" / f"{object_id}.sqlite"


class SqliteQueueStore:
    """Items in one table, FIFO by rowid within each partition."""

    blocks = False  # no server-side wait: the caller polls

    def __init__(self, path: Path) -> None:
        self.db = SqliteFile(path, _SCHEMA)

    def put_many(self, partition: str, items: list[bytes], ttl: float | None, maxsize: int | None) -> bool:
        with self.db.transaction() as conn:
            now = time.time()
            self._expire(conn, partition, now)
            if maxsize is not None:
                (n,) = conn.execute("SELECT count(*) FROM items WHERE partition=?", (partition,)).fetchone()
                if n + len(items) > maxsize:
                    return False
            conn.executemany("INSERT INTO items (partition, value) VALUES (?, ?)", [(partition, v) for v in items])
            if ttl is not None:
                conn.execute(
                    "INSERT INTO partitions VALUES (?, ?) "
                    "ON CONFLICT (partition) DO UPDATE SET expires=excluded.expires",
                    (partition, now + ttl),
                )
        return True

    def get_many(
        self, partition: str, n: int, lease: float | None, wait: float, decode: Decode
    ) -> tuple[list[Popped], list[Poisoned]]:
        """Pop (or lease) up to ``n`` items, decoding them inside the transaction that removes them."""
        now = time.time()
        if partition != DEFAULT_PARTITION:
            self._expire_now(partition, now)
        with self.db.transaction() as conn:
            rows = conn.execute(_PICK.replace("SELECT id", "SELECT id, value"), (partition, now, n)).fetchall()
            good, bad = _split([v for _, v in rows], decode)
            if bad:  # poison items go aside; the others stay queued, untouched
                poisoned = []
                for i, error in bad:
                    item_id, value = rows[i]
                    conn.execute("DELETE FROM items WHERE id=?", (item_id,))
                    (dead_id,) = conn.execute(
                        "INSERT INTO dead (partition, value, error, at) VALUES (?, ?, ?, ?) RETURNING id",
                        (partition, value, error, now),
                    ).fetchone()
                    poisoned.append(Poisoned(error, dead_id))
                return [], poisoned
            ids = json.dumps([i for i, _ in rows])
            if lease is None:
                conn.execute("DELETE FROM items WHERE id IN (SELECT value FROM json_each(?))", (ids,))
                return [(None, v) for v in good], []
            token = uuid.uuid4().hex
            conn.execute(
                "UPDATE items SET visible_at=?, lease=? WHERE id IN (SELECT value FROM json_each(?))",
                (now + lease, token, ids),
            )
        return [(f"{i}:{token}", v) for (i, _), v in zip(rows, good, strict=True)], []

    def dead_letters(self) -> list[DeadLetter]:
        rows = self.db.conn.execute("SELECT id, partition, error, at, value FROM dead ORDER BY id").fetchall()
        return [DeadLetter(i, p or None, e, at, v) for i, p, e, at, v in rows]

    def clear_dead_letters(self) -> None:
        self.db.conn.execute("DELETE FROM dead")

    def ack(self, partition: str, token: str) -> bool:
        item_id, lease = token.split(":", 1)
        cur = self.db.conn.execute("DELETE FROM items WHERE id=? AND lease=?", (int(item_id), lease))
        return cur.rowcount == 1

    def nack(self, partition: str, token: str) -> bool:
        item_id, lease = token.split(":", 1)
        cur = self.db.conn.execute(
            "UPDATE items SET visible_at=0, lease=NULL WHERE id=? AND lease=?", (int(item_id), lease)
        )
        return cur.rowcount == 1

    def len(self, partition: str | None) -> int:
        now = time.time()
        if partition is None:
            self._expire_all(now)
            sql, args = "SELECT count(*) FROM items WHERE visible_at<=?", (now,)
        else:
            self._expire_now(partition, now)
            sql, args = "SELECT count(*) FROM items WHERE partition=? AND visible_at<=?", (partition, now)
        return self.db.conn.execute(sql, args).fetchone()[0]

    def peek(self, partition: str, n: int) -> list[bytes]:
        now = time.time()  # (lease-free read: nothing is removed)
        self._expire_now(partition, now)
        rows = self.db.conn.execute(
            "SELECT value FROM items WHERE partition=? AND visible_at<=? ORDER BY id LIMIT ?", (partition, now, n)
        )
        return [r[0] for r in rows]

    def clear(self, partition: str | None) -> None:
        with self.db.transaction() as conn:
            if partition is None:
                conn.execute("DELETE FROM items")
                conn.execute("DELETE FROM partitions")
            else:
                conn.execute("DELETE FROM items WHERE partition=?", (partition,))
                conn.execute("DELETE FROM partitions WHERE partition=?", (partition,))

    # partitions idle for longer than their TTL are dropped with their items
    def _expire(self, conn, partition: str, now: float) -> None:  # type: ignore[no-untyped-def]
        row = conn.execute("SELECT expires FROM partitions WHERE partition=?", (partition,)).fetchone()
        if row is not None and row[0] <= now:
            conn.execute("DELETE FROM items WHERE partition=?", (partition,))
            conn.execute("DELETE FROM partitions WHERE partition=?", (partition,))

    def _expire_now(self, partition: str, now: float) -> None:
        row = self.db.conn.execute("SELECT expires FROM partitions WHERE partition=?", (partition,)).fetchone()
        if row is not None and row[0] <= now:
            with self.db.transaction() as conn:
                self._expire(conn, partition, now)

    def _expire_all(self, now: float) -> None:
        rows = self.db.conn.execute("SELECT partition FROM partitions WHERE expires<=?", (now,)).fetchall()
        for (partition,) in rows:
            self._expire_now(partition, now)

    def close(self) -> None:
        self.db.close()


# ----------------------------------------------------------------------------- Redis
# Per partition: a list of items, a hash token -> item of leased items and a sorted
# set token -> lease deadline. Every pop first returns expired leases to the front.
_REQUEUE = """
local function requeue(list, leases, leased, now)
  local due = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
  for i = #due, 1, -1 do
    local v = redis.call('HGET', leased, due[i])
    if v then redis.call('LPUSH', list, v) end
    redis.call('HDEL', leased, due[i])
    redis.call('ZREM', leases, due[i])
  end
end
"""
_POP = (
    _REQUEUE
    + """
requeue(KEYS[1], KEYS[2], KEYS[3], ARGV[2])
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if not items then return {} end
if ARGV[3] == '' then return items end
local out = {}
for i, v in ipairs(items) do
  local token = ARGV[4] .. ':' .. i
  redis.call('HSET', KEYS[3], token, v)
  redis.call('ZADD', KEYS[2], ARGV[3], token)
  out[#out + 1] = token
  out[#out + 1] = v
end
return out
"""
)
_PUT = """
local n = #ARGV - 3
if ARGV[1] ~= '' and redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2]) + n > tonumber(ARGV[1]) then
  return 0
end
for i = 4, #ARGV, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if ARGV[2] ~= '' then
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
redis.call('SADD', KEYS[4], ARGV[3])
return 1
"""
# Undo a pop whose batch held undecodable items: ARGV[1] 'lease' (ARGV items are lease tokens)
# or 'plain' (ARGV items are the popped values); ARGV[2] the number of items to put back at the
# front, in order; then (reason, item) pairs to move to the dead letters. Returns their ids.
_SETTLE = """
local lease = ARGV[1] == 'lease'
local nback = tonumber(ARGV[2])
for i = 2 + nback, 3, -1 do
  local x = ARGV[i]
  if lease then
    if redis.call('ZREM', KEYS[2], x) == 1 then
      local v = redis.call('HGET', KEYS[3], x)
      if v then redis.call('LPUSH', KEYS[1], v) end
      redis.call('HDEL', KEYS[3], x)
    end
  else
    redis.call('LPUSH', KEYS[1], x)
  end
end
local ids = {}
for i = 3 + nback, #ARGV, 2 do
  local v = ARGV[i + 1]
  if lease then
    v = redis.call('HGET', KEYS[3], ARGV[i + 1])
    redis.call('ZREM', KEYS[2], ARGV[i + 1])
    redis.call('HDEL', KEYS[3], ARGV[i + 1])
  end
  if v then
    local id = redis.call('INCR', KEYS[6])
    redis.call('HSET', KEYS[4], id, v)
    redis.call('HSET', KEYS[5], id, ARGV[i])
    ids[#ids + 1] = id
  else
    ids[#ids + 1] = -1
  end
end
return ids
"""
_ACK = """
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then return 0 end
if ARGV[2] == 'nack' then
  local v = redis.call('HGET', KEYS[3], ARGV[1])
  if v then redis.call('LPUSH', KEYS[1], v) end
end
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""
_LEN = """
return redis.call('LLEN', KEYS[1]) + redis.call('ZCOUNT', KEYS[2], '-inf', ARGV[1])
"""


class RedisQueueStore:
    """Lists ``lakelet:<env>:queue:{id}:<partition>`` (+ lease bookkeeping); partitions
    with a TTL expire through Redis' own key expiry."""

    blocks = True  # unacknowledged gets wait on the server (BLMPOP)

    def __init__(self, env: Environment, object_id: str) -> None:
        self.url = env.redis_url
        self.client = connect(env.redis_url)  # type: ignore[arg-type]
        self.base = f"{env.redis_prefix}queue:{{{object_id}}}"
        self.partitions_key = self.base + ":partitions"
        self.dead_keys = [self.base + ":dead", self.base + ":dead:why", self.base + ":dead:seq"]
        self._pop = self.client.register_script(_POP)
        self._put = self.client.register_script(_PUT)
        self._ack = self.client.register_script(_ACK)
        self._settle = self.client.register_script(_SETTLE)
        self._len = self.client.register_script(_LEN)

    def _keys(self, partition: str) -> list[str]:
        p = self.base + ":p:" + partition
        return [p, p + ":leases", p + ":leased"]

    @redis_errors
    def put_many(self, partition: str, items: list[bytes], ttl: float | None, maxsize: int | None) -> bool:
        keys = [*self._keys(partition), self.partitions_key]
        args = ["" if maxsize is None else maxsize, "" if ttl is None else int(ttl * 1000), partition, *items]
        return bool(self._put(keys=keys, args=args))

    @redis_errors
    def get_many(
        self, partition: str, n: int, lease: float | None, wait: float, decode: Decode
    ) -> tuple[list[Popped], list[Poisoned]]:
        """Pop (or lease) up to ``n`` items and decode them; a batch holding an undecodable
        item is put back (minus that item, which goes to the dead letters) in one script."""
        keys = self._keys(partition)
        now = time.time()
        lease_arg = "" if lease is None else repr(now + lease)
        out = self._pop(keys=keys, args=[n, repr(now), lease_arg, uuid.uuid4().hex])
        if lease is not None:
            tokens, values = [out[i].decode() for i in range(0, len(out), 2)], out[1::2]
        else:
            if not out and wait > 0:
                got = self.client.blmpop(wait, 1, keys[0], direction="LEFT", count=n)
                out = got[1] if got else []
            tokens, values = [None] * len(out), list(out)
        good, bad = _split(values, decode)
        if not bad:
            return list(zip(tokens, good, strict=True)), []
        handles = values if lease is None else tokens
        poison = {i for i, _ in bad}
        back = [h for i, h in enumerate(handles) if i not in poison]
        args: list[Any] = ["plain" if lease is None else "lease", len(back), *back]
        for i, error in bad:
            args += [json.dumps({"partition": partition, "error": error, "at": now}), handles[i]]
        ids = self._settle(keys=[*keys, *self.dead_keys], args=args)
        return [], [Poisoned(error, int(dead_id)) for (_, error), dead_id in zip(bad, ids, strict=True)]

    @redis_errors
    def dead_letters(self) -> list[DeadLetter]:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hgetall(self.dead_keys[0])
            pipe.hgetall(self.dead_keys[1])
            values, why = pipe.execute()
        out = []
        for raw_id, value in values.items():
            meta = json.loads(why.get(raw_id, b"{}"))
            partition = meta.get("partition") or None
            out.append(DeadLetter(int(raw_id), partition, meta.get("error", ""), meta.get("at", 0.0), value))
        return sorted(out, key=lambda d: d.id)

    @redis_errors
    def clear_dead_letters(self) -> None:
        self.client.delete(*self.dead_keys[:2])

    @redis_errors
    def ack(self, partition: str, token: str) -> bool:
        return bool(self._ack(keys=self._keys(partition), args=[token, "ack"]))

    @redis_errors
    def nack(self, partition: str, token: str) -> bool:
        return bool(self._ack(keys=self._keys(partition), args=[token, "nack"]))

    @redis_errors
    def len(self, partition: str | None) -> int:
        if partition is not None:
            return int(self._len(keys=self._keys(partition)[:2], args=[repr(time.time())]))
        return sum(self.len(p.decode()) for p in self._partitions())

    def _partitions(self) -> Iterator[bytes]:
        return iter(self.client.smembers(self.partitions_key))

    @redis_errors
    def peek(self, partition: str, n: int) -> list[bytes]:
        return list(self.client.lrange(self._keys(partition)[0], 0, n - 1))

    @redis_errors
    def clear(self, partition: str | None) -> None:
        if partition is not None:
            self.client.delete(*self._keys(partition))
            return
        parts = [p.decode() for p in self._partitions()]
        keys = [k for p in parts for k in self._keys(p)]
        self.client.delete(self.partitions_key, *keys)

    def destroy(self) -> None:
        self.clear(None)
        self.client.delete(*self.dead_keys)

    def close(self) -> None:
        self.client.close()


def open_queue_store(env: Environment, object_id: str) -> SqliteQueueStore | RedisQueueStore:
    if env.shared:
        return RedisQueueStore(env, object_id)
    return SqliteQueueStore(sqlite_path(env, object_id))


def destroy_queue_store(env: Environment, object_id: str) -> None:
    if env.shared:
        store = RedisQueueStore(env, object_id)
        try:
            store.destroy()
        finally:
            store.close()
        return
    path = sqlite_path(env, object_id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


__all__ = [
    "DEFAULT_PARTITION",
    "DeadLetter",
    "Poisoned",
    "RedisQueueStore",
    "SqliteQueueStore",
    "destroy_queue_store",
    "open_queue_store",
]

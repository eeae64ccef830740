"""Where a Dict's entries live: a SQLite file (embedded) or a Redis hash (shared).

Both store encoded keys and serialized values (:mod:`.codec`) with an optional
expiry time (seconds since the epoch, from the writer's clock). Expired entries
are invisible at once and purged lazily.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ._redis import connect, redis_errors
from ._sqlite import SqliteFile
from .env import Environment

PAGE = 1000
Pair = tuple[bytes, bytes]


class DictStore(Protocol):
    def get(self, key: bytes) -> bytes | None: ...
    def put(self, key: bytes, value: bytes, expires: float | None, skip_if_exists: bool) -> bool: ...
    def update(self, items: list[Pair], expires: float | None) -> None: ...
    def pop(self, key: bytes) -> bytes | None: ...
    def pop_if(self, key: bytes, value: bytes) -> bool:
        """Remove ``key`` only if it still holds ``value`` (atomic); whether it did."""

    def len(self) -> int: ...
    def clear(self) -> None: ...
    def scan(self) -> Iterator[list[Pair]]:
        """Pages of live (key, value) pairs."""


# ----------------------------------------------------------------------------- SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (key BLOB PRIMARY KEY, value BLOB NOT NULL, expires REAL);
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL
"""
_UPSERT = (
    "INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value=excluded.value, expires=excluded.expires"
)
# insert, or replace only an expired entry: one statement, so atomic across processes
_UPSERT_NX = _UPSERT + " WHERE kv.expires IS NOT NULL AND kv.expires <= ?"
_PURGE_EVERY = 4096


def sqlite_path(env: Environment, object_id: str) -> Path:
    return env.root / "dicts" / f"{object_id}.sqlite"


class SqliteDictStore:
    def __init__(self, path: Path) -> None:
        self.db = SqliteFile(path, _SCHEMA)
        self._writes = 0

    def get(self, key: bytes) -> bytes | None:
        row = self.db.conn.execute("SELECT value, expires FROM kv WHERE key=?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return row[0]

    def put(self, key: bytes, value: bytes, expires: float | None, skip_if_exists: bool) -> bool:
        self._count_write()
        if skip_if_exists:
            cur = self.db.conn.execute(_UPSERT_NX, (key, value, expires, time.time()))
            return cur.rowcount == 1
        self.db.conn.execute(_UPSERT, (key, value, expires))
        return True

    def update(self, items: list[Pair], expires: float | None) -> None:
        self._count_write(len(items))
        with self.db.transaction() as conn:
            conn.executemany(_UPSERT, [(k, v, expires) for k, v in items])

    def pop(self, key: bytes) -> bytes | None:
        row = self.db.conn.execute("DELETE FROM kv WHERE key=? RETURNING value, expires", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return row[0]

    def pop_if(self, key: bytes, value: bytes) -> bool:
        cur = self.db.conn.execute("DELETE FROM kv WHERE key=? AND value=?", (key, value))
        return cur.rowcount == 1

    def len(self) -> int:
        (n,) = self.db.conn.execute(
            "SELECT count(*) FROM kv WHERE expires IS NULL OR expires > ?", (time.time(),)
        ).fetchone()
        return n

    def clear(self) -> None:
        self.db.conn.execute("DELETE FROM kv")

    def scan(self) -> Iterator[list[Pair]]:
        last = b""
        while True:
            rows = self.db.conn.execute(
                "SELECT key, value FROM kv WHERE key > ? AND (expires IS NULL OR expires > ?) ORDER BY key LIMIT ?",
                (last, time.time(), PAGE),
            ).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def _count_write(self, n: int = 1) -> None:
        self._writes += n
        if self._writes >= _PURGE_EVERY:
            self._writes = 0
            self.db.conn.execute("DELETE FROM kv WHERE expires <= ?", (time.time(),))

    def close(self) -> None:
        self.db.close()


def destroy_sqlite(env: Environment, object_id: str) -> None:
    path = sqlite_path(env, object_id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# ----------------------------------------------------------------------------- Redis
# A value is stored as b"\0" + payload, or b"\1" + expiry (big-endian double) + payload.
# Keys with an expiry are also in a sorted set (score = expiry), used to purge them:
# the purge re-checks each value's header, so a later put without TTL is never purged.
_NO_EXPIRY = b"\x00"
_EXPIRY = struct.Struct(">cd")

_LUA_EXPIRED = """
local function expired(v, now)
  if string.byte(v, 1) ~= 1 then return false end
  return struct.unpack('>d', string.sub(v, 2, 9)) <= now
end
"""
_PUT_NX = (
    _LUA_EXPIRED
    + """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and not expired(old, tonumber(ARGV[4])) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1]) end
return 1
"""
)
_POP = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v
"""
_POP_IF = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local body = string.byte(v, 1) == 1 and string.sub(v, 10) or string.sub(v, 2)
if body ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""
_PURGE = (
    _LUA_EXPIRED
    + """
local now = tonumber(ARGV[1])
while true do
  local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 500)
  if #due == 0 then break end
  for _, f in ipairs(due) do
    local v = redis.call('HGET', KEYS[1], f)
    if v and expired(v, now) then redis.call('HDEL', KEYS[1], f) end
    redis.call('ZREM', KEYS[2], f)
  end
end
return redis.call('HLEN', KEYS[1])
"""
)


def _wrap(value: bytes, expires: float | None) -> bytes:
    return _NO_EXPIRY + value if expires is None else _EXPIRY.pack(b"\x01", expires) + value


def _unwrap(raw: bytes | None, now: float | None = None) -> bytes | None:
    if raw is None:
        return None
    if raw[0] == 0:
        return raw[1:]
    _, expires = _EXPIRY.unpack_from(raw)
    if expires <= (time.time() if now is None else now):
        return None
    return raw[_EXPIRY.size :]


def redis_keys(env: Environment, object_id: str) -> tuple[str, str]:
    base = f"{env.redis_prefix}dict:{{{object_id}}}"
    return base, base + ":ttl"


class RedisDictStore:
    """One hash per Dict (``lakelet:<env>:dict:{id}``) plus a sorted set of expiring keys."""

    def __init__(self, env: Environment, object_id: str) -> None:
        self.url = env.redis_url
        self.client = connect(env.redis_url)  # type: ignore[arg-type]
        self.key, self.ttl_key = redis_keys(env, object_id)
        self._put_nx = self.client.register_script(_PUT_NX)
        self._pop = self.client.register_script(_POP)
        self._pop_if = self.client.register_script(_POP_IF)
        self._purge = self.client.register_script(_PURGE)

    @redis_errors
    def get(self, key: bytes) -> bytes | None:
        return _unwrap(self.client.hget(self.key, key))

    @redis_errors
    def put(self, key: bytes, value: bytes, expires: float | None, skip_if_exists: bool) -> bool:
        raw = _wrap(value, expires)
        if skip_if_exists:
            args = [key, raw, b"" if expires is None else repr(expires), repr(time.time())]
            return bool(self._put_nx(keys=[self.key, self.ttl_key], args=args))
        if expires is None:
            self.client.hset(self.key, key, raw)
            return True
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, key, raw)
            pipe.zadd(self.ttl_key, {key: expires})
            pipe.execute()
        return True

    @redis_errors
    def update(self, items: list[Pair], expires: float | None) -> None:
        if not items:
            return
        with self.client.pipeline(transaction=True) as pipe:
            for start in range(0, len(items), PAGE):
                page = items[start : start + PAGE]
                pipe.hset(self.key, mapping={k: _wrap(v, expires) for k, v in page})
                if expires is not None:
                    pipe.zadd(self.ttl_key, {k: expires for k, _ in page})
            pipe.execute()

    @redis_errors
    def pop(self, key: bytes) -> bytes | None:
        return _unwrap(self._pop(keys=[self.key], args=[key]))

    @redis_errors
    def pop_if(self, key: bytes, value: bytes) -> bool:
        return bool(self._pop_if(keys=[self.key], args=[key, value]))

    @redis_errors
    def len(self) -> int:
        return int(self._purge(keys=[self.key, self.ttl_key], args=[repr(time.time())]))

    @redis_errors
    def clear(self) -> None:
        self.client.delete(self.key, self.ttl_key)

    @redis_errors
    def scan(self) -> Iterator[list[Pair]]:
        cursor = 0
        while True:
            cursor, page = self.client.hscan(self.key, cursor, count=PAGE)
            now = time.time()
            live = [(k, v) for k, raw in page.items() if (v := _unwrap(raw, now)) is not None]
            if live:
                yield live
            if cursor == 0:
                return

    def close(self) -> None:
        self.client.close()


def destroy_redis(env: Environment, object_id: str) -> None:
    client = connect(env.redis_url)  # type: ignore[arg-type]
    try:
        client.delete(*redis_keys(env, object_id))
    finally:
        client.close()


def open_dict_store(env: Environment, object_id: str) -> SqliteDictStore | RedisDictStore:
    if env.shared:
        return RedisDictStore(env, object_id)
    return SqliteDictStore(sqlite_path(env, object_id))


def destroy_dict_store(env: Environment, object_id: str) -> None:
    if env.shared:
        destroy_redis(env, object_id)
    else:
        destroy_sqlite(env, object_id)


__all__ = ["DictStore", "RedisDictStore", "SqliteDictStore", "destroy_dict_store", "open_dict_store"]

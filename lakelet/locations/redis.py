"""Values in a Redis database: a fast tier for small values, shared between machines.

Keys used (``P`` is the prefix, ``lakelet`` by default)::

    P:v:<key>    the value (a Redis string; at most 512 MiB)
    P:size       hash   key -> size in bytes
    P:atime      zset   key -> last access (seconds since the epoch)
    P:bytes      the total size of the values, for O(1) usage and the ``max_size`` cap
    P:r:<name>   a named record (create-only ``SET NX``, replaced with one ``SET``)

Each write, read and delete is one Lua script, so the value and its index
change together and a ``max_size`` cap holds under concurrent writers. The
value keys are the source of truth: listing scans them, and a read that finds
an index entry whose value is gone (evicted by ``maxmemory``, deleted by hand)
removes the entry.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, BinaryIO, cast
from urllib.parse import parse_qsl, unquote, urlsplit

from .._hashing import validate_key
from ..errors import (
    InvalidArgument,
    StorageAccessDenied,
    StorageError,
    StorageFull,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._records import record_bytes, validate_record_name, validate_record_prefix
from .abc import Blob, EntryInfo, Location, Usage, check_repair, now, translate_errors
from .fsspec_location import require

MAX_VALUE = 512 * 2**20  # Redis's largest string
_SCAN_BATCH = 1000
_RESEND_BELOW = 64 * 2**10  # smaller values are sent without asking first: one round trip, not two
_GLOB = re.compile(r"([*?\[\]\\])")

# KEYS: value, sizes, atime, total   ARGV: data, key, size, now, max_size (-1: none)
# returns 1 (stored or present), 0 (no room), 2 (present with another size: damaged)
_WRITE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[3]) then return 2 end
  return 1
end
local max = tonumber(ARGV[5])
if max >= 0 and tonumber(redis.call('GET', KEYS[4]) or '0') + tonumber(ARGV[3]) > max then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('INCRBY', KEYS[4], ARGV[3])
return 1
"""
# KEYS: value, sizes, atime, total   ARGV: data, key, size, now   (replace a damaged copy in one step)
_REPAIR = """
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[2])
redis.call('INCRBY', KEYS[4], tonumber(ARGV[3]) - old)
return 1
"""
# Lua: drop the size and access-time records of ARGV[1] (a value that is gone), keeping the total right
_UNACCOUNT = """
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DECRBY', KEYS[4], size)
end
redis.call('ZREM', KEYS[3], ARGV[1])
"""
# KEYS: value, sizes, atime, total   ARGV: key
_FORGET = (
    """
local existed = redis.call('DEL', KEYS[1])
"""
    + _UNACCOUNT
    + """
return existed
"""
)
# KEYS: value, sizes, atime, total   ARGV: key, now, fetch (1: return the value, 0: only touch)
_READ = (
    """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  if ARGV[3] == '1' then return {1, redis.call('GET', KEYS[1])} end
  return {1}
end
"""
    + _UNACCOUNT
    + """
return {0}
"""
)


class RedisLocation(Location):
    """Values as Redis strings under ``prefix``, optionally capped at ``max_size`` bytes in total.

    ``socket_timeout`` (seconds) bounds connecting and every reply, and
    ``retries`` how often a failed connection is retried, so a dead server
    fails fast with :class:`StorageNetworkConnectionError`. Further
    ``options`` go to ``redis.Redis``.

    Redis is a cache tier by default (``durable=False``): a ``Levels`` write goes
    on to a durable level below it. Pass ``durable=True`` (spec key
    ``durable = true``) for a Redis run with AOF persistence and replicas that
    you trust to keep the only copy.
    """

    kind = "redis"
    durable = False

    def __init__(
        self,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        *,
        prefix: str = "lakelet",
        password: str | None = None,
        username: str | None = None,
        max_size: int | None = None,
        socket_timeout: float = 5,
        retries: int = 1,
        ssl: bool = False,
        durable: bool = False,
        **options: Any,
    ) -> None:
        if not isinstance(durable, bool):
            raise InvalidArgument(f"Redis durable must be True or False, got {durable!r}")
        if not isinstance(host, str) or not host or "\x00" in host:
            raise InvalidArgument(f"Redis host must be a non-empty str, got {host!r}")
        for name, value in (("port", port), ("db", db), ("retries", retries)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidArgument(f"Redis {name} must be a non-negative int, got {value!r}")
        if max_size is not None and (not isinstance(max_size, int) or max_size < 0):
            raise InvalidArgument(f"Redis max_size must be a non-negative int of bytes, got {max_size!r}")
        if not isinstance(prefix, str) or not prefix or any(c in prefix for c in " \x00\n"):
            raise InvalidArgument(f"Redis prefix must be a non-empty str without spaces, got {prefix!r}")
        redis = require("redis", "redis")
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        self.host, self.port, self.db = host, port, db
        self.prefix = prefix
        self.max_size = max_size
        self.ssl = ssl
        self.durable = durable
        self._r = redis.exceptions
        self._client = redis.Redis(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=ssl,
            socket_timeout=socket_timeout,
            socket_connect_timeout=options.pop("socket_connect_timeout", socket_timeout),
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries),
            **options,
        )
        self._index = [f"{prefix}:size", f"{prefix}:atime", f"{prefix}:bytes"]
        self._write = self._client.register_script(_WRITE)
        self._forget = self._client.register_script(_FORGET)
        self._repair = self._client.register_script(_REPAIR)
        self._read = self._client.register_script(_READ)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisLocation:
        """See :func:`from_url`."""
        return from_url(url, **options)

    @property
    def url(self) -> str:
        scheme = "rediss" if self.ssl else "redis"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = f"?prefix={self.prefix}" if self.prefix != "lakelet" else ""
        return f"{scheme}://{host}:{self.port}/{self.db}{query}"

    @property
    def client(self) -> Any:
        """The ``redis.Redis`` client (for tests and tools; bypasses the index)."""
        if self._client is None:
            raise StorageInternalError("this location is closed", location=self)
        return self._client

    def value_key(self, key: str) -> str:
        """The Redis key holding the value of storage key ``key``."""
        return f"{self.prefix}:v:{key}"

    def _keys(self, key: str) -> list[str]:
        return [self.value_key(key), *self._index]

    def errors(self, key: str | None = None) -> AbstractContextManager[None]:
        """Translate redis-py's exceptions into lakelet storage errors (as ``FsspecLocation.errors``)."""
        r = self._r
        extra = (
            ((r.AuthenticationError, r.AuthorizationError, r.NoPermissionError), StorageAccessDenied),
            (r.OutOfMemoryError, StorageFull),
            ((r.ConnectionError, r.TimeoutError, r.BusyLoadingError), StorageNetworkConnectionError),
            (r.RedisError, StorageInternalError),
        )
        return translate_errors(self, key, extra, self._classify)

    def _classify(self, error: BaseException) -> type[StorageError] | None:
        if isinstance(error, self._r.ResponseError):
            message = str(error)
            if message.startswith(("NOPERM", "NOAUTH", "WRONGPASS")):
                return StorageAccessDenied
            if message.startswith("OOM"):
                return StorageFull
        return None

    # ------------------------------------------------------------------ reads
    @contextmanager
    def read(self, key: str) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.read_bytes(key))

    def read_bytes(self, key: str) -> bytes:
        validate_key(key)
        with self.errors(key):
            found = self._read(keys=self._keys(key), args=[key, now(), 1], client=self.client)
        if not found[0]:
            raise self._not_found(key)
        return cast(bytes, found[1])

    def touch(self, key: str) -> bool:
        validate_key(key)
        with self.errors(key):
            found = self._read(keys=self._keys(key), args=[key, now(), 0], client=self.client)
        return bool(found[0])

    def contains(self, key: str) -> bool:
        validate_key(key)
        with self.errors(key):
            return bool(self.client.exists(self.value_key(key)))

    def info(self, key: str) -> EntryInfo:
        validate_key(key)
        with self.errors(key):
            pipe = self.client.pipeline(transaction=False)
            pipe.exists(self.value_key(key))
            pipe.strlen(self.value_key(key))
            pipe.zscore(self._index[1], key)
            exists, size, atime = pipe.execute()
        if not exists:
            raise self._not_found(key)
        return EntryInfo(key, int(size), last_access=atime)

    # ------------------------------------------------------------------ writes
    def write(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        if blob.size > MAX_VALUE or (self.max_size is not None and blob.size > self.max_size):
            return False
        if blob.size > _RESEND_BELOW:  # skip sending big bytes again (the script checks existence anyway)
            with self.errors(key):
                stored = self.client.strlen(self.value_key(key))
            if stored == blob.size or (stored and stored != blob.size and self.repair(key, blob)):
                return True
        cap = -1 if self.max_size is None else self.max_size
        with self.errors(key):
            try:
                stored = self._write(
                    keys=self._keys(key), args=[blob.read_bytes(), key, blob.size, now(), cap], client=self.client
                )
            except self._r.OutOfMemoryError:
                return False  # the server is at maxmemory: decline, a lower tier may take it
        if stored == 2:  # a truncated or damaged copy: the bytes being written repair it
            return self.repair(key, blob)
        return bool(stored)

    def repair(self, key: str, blob: Blob) -> bool:
        validate_key(key)
        check_repair(self, key, blob)
        with self.errors(key):
            self._repair(keys=self._keys(key), args=[blob.read_bytes(), key, blob.size, now()], client=self.client)
        return True

    def delete(self, key: str) -> bool:
        validate_key(key)
        with self.errors(key):
            return bool(self._forget(keys=self._keys(key), args=[key], client=self.client))

    # ------------------------------------------------------------------ records
    def _record_key(self, name: str) -> str:
        return f"{self.prefix}:r:{validate_record_name(name)}"

    def read_record(self, name: str) -> bytes:
        redis_key = self._record_key(name)
        with self.errors(name):
            data = self.client.get(redis_key)
        if data is None:
            raise StorageKeyNotFound("no such record", location=self, key=name)
        return cast(bytes, data)

    def write_record(self, name: str, data: bytes, *, replace: bool = False) -> bool:
        redis_key = self._record_key(name)
        data = record_bytes(data, name)
        with self.errors(name):
            return bool(self.client.set(redis_key, data, nx=not replace))

    def delete_record(self, name: str) -> bool:
        redis_key = self._record_key(name)
        with self.errors(name):
            return bool(self.client.delete(redis_key))

    def list_records(self, prefix: str = "") -> Iterator[str]:
        validate_record_prefix(prefix)
        head = f"{self.prefix}:r:"
        pattern = _GLOB.sub(r"\\\1", head + prefix) + "*"
        cursor = 0
        seen: set[str] = set()  # SCAN may return a key twice
        while True:
            with self.errors():
                cursor, found = self.client.scan(cursor, match=pattern, count=_SCAN_BATCH)
            for raw in found:
                name = (raw.decode() if isinstance(raw, bytes) else raw)[len(head) :]
                if name not in seen:
                    seen.add(name)
                    yield name
            if cursor == 0:
                return

    # ------------------------------------------------------------------ listing
    def keys(self) -> Iterator[str]:
        for batch in self._scan():
            yield from batch

    def _scan(self) -> Iterator[list[str]]:
        """Stored keys in batches, from a SCAN of the value keys (the source of truth)."""
        head = f"{self.prefix}:v:"
        pattern = _GLOB.sub(r"\\\1", head) + "*"
        cursor = 0
        while True:
            with self.errors():
                cursor, found = self.client.scan(cursor, match=pattern, count=_SCAN_BATCH)
            batch = []
            for name in found:
                name = name.decode() if isinstance(name, bytes) else name
                key = name[len(head) :]
                if len(key) == 64 and all(c in "0123456789abcdef" for c in key):
                    batch.append(key)
            if batch:
                yield batch
            if cursor == 0:
                return

    def entries(self) -> Iterator[EntryInfo]:
        for batch in self._scan():
            with self.errors():
                pipe = self.client.pipeline(transaction=False)
                for key in batch:
                    pipe.strlen(self.value_key(key))
                    pipe.zscore(self._index[1], key)
                replies = pipe.execute()
            for i, key in enumerate(batch):
                size, atime = replies[2 * i], replies[2 * i + 1]
                if size or self.contains(key):  # STRLEN is 0 for a missing key and an empty value
                    yield EntryInfo(key, int(size), last_access=atime)

    def usage(self) -> Usage:
        """Bytes and entries written through lakelet (the index counters, O(1))."""
        with self.errors():
            pipe = self.client.pipeline(transaction=False)
            pipe.get(self._index[2])
            pipe.hlen(self._index[0])
            total, count = pipe.execute()
        return Usage(int(total or 0), int(count), self.max_size)

    def capacity(self) -> int | None:
        return self.max_size

    def free_space(self) -> int | None:
        if self.max_size is None:
            return None
        return max(self.max_size - self.usage().bytes, 0)

    def accepts(self, size: int) -> bool:
        return size <= MAX_VALUE and super().accepts(size)

    # ------------------------------------------------------------------ lifecycle
    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(prefix=self.prefix, max_size=self.max_size)
        return d

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


def from_url(url: str, **options: Any) -> RedisLocation:
    """``redis://[[user]:password@]host[:port][/db][?prefix=..&max_size=..&socket_timeout=..]``.

    ``rediss://`` connects with TLS. Keyword ``options`` win over the query.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise InvalidArgument(f"not a redis:// URL with a host: {url!r}")
    path = parts.path.strip("/")
    try:
        db = int(path) if path else 0
        port = parts.port or 6379
    except ValueError as e:
        raise InvalidArgument(f"bad port or database number in {url!r}") from e
    query: dict[str, Any] = dict(parse_qsl(parts.query))
    if "durable" in query:
        flag = query["durable"].lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise InvalidArgument(f"bad durable={query['durable']!r} in {url!r}: use true or false")
        query["durable"] = flag in ("true", "1", "yes")
    for name, convert in (("max_size", int), ("socket_timeout", float), ("retries", int), ("db", int)):
        if name in query:
            try:
                query[name] = convert(query[name])
            except ValueError as e:
                raise InvalidArgument(f"bad {name}={query[name]!r} in {url!r}") from e
    db = query.pop("db", db)
    if parts.password is not None:
        options.setdefault("password", unquote(parts.password))
    if parts.username:
        options.setdefault("username", unquote(parts.username))
    if parts.scheme == "rediss":
        options.setdefault("ssl", True)
    for name, value in query.items():
        options.setdefault(name, value)
    return RedisLocation(parts.hostname, port, db, **options)


__all__ = ["RedisLocation", "from_url"]

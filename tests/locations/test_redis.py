"""RedisLocation against a real redis-server: the Location contract plus Redis specifics."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from lakelet.errors import InvalidArgument
from lakelet.locations.abc import Blob
from lakelet.locations.redis import MAX_VALUE, RedisLocation, from_url
from lakelet.testing.locations import LocationTests

redis = pytest.importorskip("redis")


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def raw(redis_server):
    client = redis.Redis(host=redis_server.host, port=redis_server.port)
    yield client
    client.close()


@pytest.fixture
def prefix() -> str:
    return f"lakelet-test-{uuid.uuid4().hex[:8]}"


class TestRedisContract(LocationTests):
    @pytest.fixture
    def location(self, redis_server, prefix):
        loc = RedisLocation(redis_server.host, redis_server.port, prefix=prefix)
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, raw, prefix):
        return lambda key, data: raw.set(f"{prefix}:v:{key}", data)

    @pytest.fixture
    def raw_get(self, raw, prefix):
        return lambda key: raw.get(f"{prefix}:v:{key}")


@pytest.fixture
def loc(redis_server, prefix):
    location = RedisLocation(redis_server.host, redis_server.port, prefix=prefix)
    yield location
    location.close()


def test_capacity_is_enforced_atomically(redis_server, prefix) -> None:
    loc = RedisLocation(redis_server.host, redis_server.port, prefix=prefix, max_size=10)
    assert loc.write(key_of(b"123456"), Blob(data=b"123456"))
    assert loc.free_space() == 4
    assert not loc.accepts(5)
    assert loc.write(key_of(b"abcde"), Blob(data=b"abcde")) is False
    assert loc.write(key_of(b"abcd"), Blob(data=b"abcd"))
    assert loc.usage().bytes == 10 and loc.usage().capacity == 10
    assert loc.delete(key_of(b"abcd"))
    assert loc.usage().bytes == 6


def test_oversized_values_are_declined(loc) -> None:
    assert not loc.accepts(MAX_VALUE + 1)


def test_read_records_access(loc, raw, prefix) -> None:
    key = key_of(b"a")
    loc.write(key, Blob(data=b"a"))
    raw.zadd(f"{prefix}:atime", {key: 1.0})
    assert loc.info(key).last_access == 1.0
    loc.read_bytes(key)
    assert loc.info(key).last_access > 1.0
    raw.zadd(f"{prefix}:atime", {key: 1.0})
    assert loc.touch(key)
    assert loc.info(key).last_access > 1.0


def test_index_repairs_after_eviction(loc, raw, prefix) -> None:
    """A value evicted behind lakelet's back (maxmemory, DEL) leaves no stale usage once read."""
    key = key_of(b"evicted")
    loc.write(key, Blob(data=b"evicted"))
    raw.delete(f"{prefix}:v:{key}")
    assert loc.usage().entries == 1  # the index has not noticed yet
    with pytest.raises(KeyError):
        loc.read_bytes(key)
    assert loc.usage().entries == 0 and loc.usage().bytes == 0


def test_backdoor_values_are_listed_with_sizes(loc, raw, prefix) -> None:
    key = key_of(b"outside")
    raw.set(f"{prefix}:v:{key}", b"outside")
    raw.set(f"{prefix}:v:not-a-key", b"ignored")
    assert list(loc.keys()) == [key]
    (entry,) = loc.entries()
    assert entry.size == 7 and entry.last_access is None


def test_prefixes_are_isolated(redis_server, prefix) -> None:
    a = RedisLocation(redis_server.host, redis_server.port, prefix=prefix + "-a")
    b = RedisLocation(redis_server.host, redis_server.port, prefix=prefix + "-b")
    key = key_of(b"iso")
    a.write(key, Blob(data=b"iso"))
    assert not b.contains(key) and list(b.keys()) == []


def test_glob_characters_in_prefix(redis_server, raw) -> None:
    odd = f"odd*[{uuid.uuid4().hex[:6]}]?"
    loc = RedisLocation(redis_server.host, redis_server.port, prefix=odd)
    raw.set(f"oddX[zz]?:v:{key_of(b'x')}", b"x")  # would match an unescaped pattern
    key = key_of(b"y")
    loc.write(key, Blob(data=b"y"))
    assert list(loc.keys()) == [key]


def test_from_url_and_url(redis_server, prefix) -> None:
    loc = from_url(f"redis://{redis_server.host}:{redis_server.port}/2?prefix={prefix}&max_size=50")
    assert (loc.db, loc.prefix, loc.max_size) == (2, prefix, 50)
    assert loc.url == f"redis://{redis_server.host}:{redis_server.port}/2?prefix={prefix}"
    assert RedisLocation.from_url(loc.url).url == loc.url
    key = key_of(b"db2")
    assert loc.write(key, Blob(data=b"db2"))
    assert redis.Redis(host=redis_server.host, port=redis_server.port, db=2).exists(f"{prefix}:v:{key}")
    assert RedisLocation("h").url == "redis://h:6379/0"
    assert loc.describe()["prefix"] == prefix


@pytest.mark.parametrize(
    "url", ["http://h:1/0", "redis://", "redis://h:1/notadb", "redis://h:1/0?max_size=lots"]
)
def test_bad_urls(url) -> None:
    with pytest.raises(InvalidArgument):
        from_url(url)


@pytest.mark.parametrize(
    "kwargs", [{"host": ""}, {"port": -1}, {"db": "0"}, {"prefix": ""}, {"prefix": "a b"}, {"max_size": -1}]
)
def test_bad_arguments(kwargs) -> None:
    args = {"host": "localhost", **kwargs}
    with pytest.raises(InvalidArgument):
        RedisLocation(**args)

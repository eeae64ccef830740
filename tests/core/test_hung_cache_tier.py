"""Issue 15.9: a hung (SIGSTOP) or dead (kill) Redis cache tier above a disk lake fails open.

Reads of values on the healthy disk level still work, writes still reach the durable disk,
smart_cache hits stay hits; the tier's breaker opens on its first failure with one warning,
after which the tier is skipped without waiting on it."""

from __future__ import annotations

import contextlib
import os
import signal
import warnings

import pytest

from lakelet import HashKeyStorage
from lakelet.cache import smart_cache
from lakelet.errors import CacheTierUnavailable
from lakelet.locations.levels import Levels
from lakelet.locations.redis import RedisLocation


@contextlib.contextmanager
def stopped(server):
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)


def stack(server, disk):
    redis = RedisLocation(server.host, server.port, prefix="failopen", socket_timeout=1, retries=0)
    return HashKeyStorage(Levels(redis, disk))


@pytest.mark.parametrize("fault", ["sigstop", "kill"])
def test_failing_redis_tier_is_skipped(private_redis_server, tmp_path, fault):
    storage = stack(private_redis_server, tmp_path / "disk")
    before = storage.write(b"stored while redis was healthy")
    log = str(tmp_path / "calls")  # a constant in the fingerprint (a list that grows would not be)

    @smart_cache(storage)
    def compute(n: int) -> int:
        with open(log, "a") as f:
            f.write(f"{n}\n")
        return n * 2

    def calls() -> list[str]:
        with open(log) as f:
            return f.read().split()

    assert compute(21) == 42 and calls() == ["21"]
    outage = stopped(private_redis_server) if fault == "sigstop" else contextlib.nullcontext()
    if fault == "kill":
        private_redis_server.kill()
    with outage, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert storage.read_bytes(before) == b"stored while redis was healthy"
        after = storage.write(b"written during the outage")  # reaches the durable disk
        assert compute(21) == 42 and calls() == ["21"]  # still a hit
        for _ in range(20):  # the open breaker: no more waiting, no more warnings
            assert storage.read_bytes(after) == b"written during the outage"
            assert storage.contains(before)
    tier_warnings = [w for w in caught if issubclass(w.category, CacheTierUnavailable)]
    assert len(tier_warnings) == 1, [str(w.message) for w in caught]
    assert "not answering" in str(tier_warnings[0].message)
    disk = HashKeyStorage(tmp_path / "disk")
    assert disk.read_bytes(after) == b"written during the outage"  # durable without redis


@pytest.mark.parametrize("change", ["replace", "delete"])
def test_a_record_changed_while_the_tier_was_down_never_comes_back(tmp_path, change):
    """A record replaced (or deleted) while a persistent Redis tier was down keeps its old copy there;
    once Redis is back that copy must not be served: it is dropped before the tier is read for it."""
    from lakelet.testing.pytest_plugin import start_or_skip
    from lakelet.testing.servers import RedisServer

    with start_or_skip(RedisServer(appendonly=True, workdir=tmp_path / "redis")) as server:
        redis = RedisLocation(server.host, server.port, prefix="records", socket_timeout=0.5, retries=0)
        levels = Levels(redis, tmp_path / "disk")
        levels._breakers.cooldown = 0.2  # try the tier again soon after the outage (30 s by default)
        assert levels.write_record("cache/f/entry", b"old")
        server.stop()  # down, with the old copy saved (AOF)
        if change == "replace":
            with pytest.warns(CacheTierUnavailable):
                assert levels.write_record("cache/f/entry", b"new", replace=True)
        else:
            with pytest.warns(CacheTierUnavailable):
                assert levels.delete_record("cache/f/entry")
        server.start()
        import time

        time.sleep(0.3)  # past the breaker's cooldown: the tier is asked again
        assert redis.read_record("cache/f/entry") == b"old"  # the outdated copy came back with Redis
        if change == "replace":
            assert levels.read_record("cache/f/entry") == b"new"
        else:
            with pytest.raises(KeyError):
                levels.read_record("cache/f/entry")
        if change == "replace":
            assert redis.read_record("cache/f/entry") == b"new"  # the tier holds the new one now (copy-on-read)
        else:
            with pytest.raises(KeyError):
                redis.read_record("cache/f/entry")  # dropped from the tier

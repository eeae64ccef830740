"""The last example of the tarn README, as written, against real Redis, S3 and SFTP servers.

Also runs the Location contract over stacks of remote members.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lakelet import S3, SFTP, Fanout, HashKeyStorage, Level, Levels, RedisLocation, Small
from lakelet.locations.abc import Blob, Location
from lakelet.testing.locations import LocationTests


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, s3_server) -> None:  # type: ignore[no-untyped-def]
    """Credentials the standard way, so S3(host, bucket) reads exactly as in the README."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)


def _sftp(sftp_server, sub: str) -> SFTP:  # type: ignore[no-untyped-def]
    root = Path(sftp_server.root) / sub
    return SFTP(sftp_server.host, str(root), port=sftp_server.port, username=sftp_server.username,
                client_keys=[str(sftp_server.client_key)], known_hosts=str(sftp_server.known_hosts))


def test_tarn_readme_last_example(tmp_path: Path, aws_env, s3_server, redis_server, sftp_server) -> None:  # type: ignore[no-untyped-def]
    mount = tmp_path / "mount"
    redis = RedisLocation(redis_server.host, port=redis_server.port, prefix=f"readme-{os.getpid()}")
    s3 = S3(s3_server.endpoint_url, s3_server.new_bucket())
    sftp = _sftp(sftp_server, "readme-remote")
    storage = HashKeyStorage(Levels(
        Small(redis, max_size=10 * 1024 ** 2),
        str(mount / "fast-ssd/lake"),
        Fanout(
            str(mount / "hdd1/lake"),
            str(mount / "hdd2/lake"),
            str(mount / "hdd3/lake"),
            # nested locations are not a problem!
            Levels(
                # apparently we want mirrored locations here
                str(mount / "hdd3/lake"),
                str(mount / "old-hdd/lake"),
            ),
        ),
        str(mount / "slower-nfs/lake"),
        s3,
        # pull missing files over sftp when needed
        sftp,
    ))
    small = storage.write(b"a small value")
    assert redis.contains(small)
    big_data = os.urandom(11 * 1024 ** 2)
    big = storage.write(big_data)
    assert not redis.contains(big)
    assert (mount / "fast-ssd/lake" / big[:2] / big[2:]).exists()

    # a value only the SFTP server has is pulled up through every level that replicates
    legacy = b"only on the remote host"
    key = hashlib.sha256(legacy).hexdigest()
    assert sftp.write(key, Blob(data=legacy))
    assert storage.read_bytes(key) == legacy
    assert s3.contains(key)
    assert (mount / "slower-nfs/lake" / key[:2] / key[2:]).exists()
    assert (mount / "hdd1/lake" / key[:2] / key[2:]).exists()
    assert (mount / "fast-ssd/lake" / key[:2] / key[2:]).exists()
    assert redis.contains(key)
    with storage.read(key) as value:
        assert value.read() == legacy if not isinstance(value, Path) else value.read_bytes() == legacy

    assert set(storage.keys()) >= {small, big, key}
    described = storage.describe()
    assert [c["kind"] for c in described["children"]] == ["small", "disk", "fanout", "disk", "s3", "sftp"]
    assert storage.remove(key)
    assert not sftp.contains(key) and not s3.contains(key) and not redis.contains(key)
    storage.close()


def _raw(location: Location):  # type: ignore[no-untyped-def]
    def put(key: str, data: bytes) -> None:
        location.write(key, Blob(data=data))

    def get(key: str) -> bytes | None:
        return location.read_bytes(key) if location.contains(key) else None

    return put, get


class TestLevelsRedisOverS3(LocationTests):
    """Small(redis) above S3: small values in Redis, big ones in S3; backdoor values in S3."""

    @pytest.fixture
    def location(self, aws_env, s3_server, redis_server) -> Location:  # type: ignore[no-untyped-def]
        redis_server.flush()
        self.redis = RedisLocation(redis_server.host, port=redis_server.port, prefix="stack")
        self.s3 = S3(s3_server.endpoint_url, s3_server.new_bucket())
        yield Levels(Small(self.redis, max_size=64 * 1024), self.s3)
        self.redis.close()
        self.s3.close()

    @pytest.fixture
    def raw_put(self, location: Location):  # type: ignore[no-untyped-def]
        # corrupt/backdoor values go to the bottom; the bad copy must come from S3 through the stack
        return _raw(self.s3)[0]

    @pytest.fixture
    def raw_get(self, location: Location):  # type: ignore[no-untyped-def]
        r_get, s_get = _raw(self.redis)[1], _raw(self.s3)[1]
        return lambda key: r_get(key) if r_get(key) is not None else s_get(key)


class TestFanoutS3ThenSftp(LocationTests):
    @pytest.fixture
    def location(self, aws_env, s3_server, sftp_server) -> Location:  # type: ignore[no-untyped-def]
        self.s3 = S3(s3_server.endpoint_url, s3_server.new_bucket(), max_size=1_000_000)
        self.sftp = _sftp(sftp_server, f"fanout-{os.urandom(4).hex()}")
        yield Fanout(self.s3, self.sftp)
        self.s3.close()
        self.sftp.close()

    @pytest.fixture
    def raw_put(self, location: Location):  # type: ignore[no-untyped-def]
        return _raw(self.sftp)[0]

    @pytest.fixture
    def raw_get(self, location: Location):  # type: ignore[no-untyped-def]
        a, b = _raw(self.s3)[1], _raw(self.sftp)[1]
        return lambda key: a(key) if a(key) is not None else b(key)


def test_level_write_false_over_s3_fills_local_cache(tmp_path: Path, aws_env, s3_server) -> None:  # type: ignore[no-untyped-def]
    s3 = S3(s3_server.endpoint_url, s3_server.new_bucket())
    storage = HashKeyStorage(Levels(Level(str(tmp_path / "cache"), write=False), s3))
    data = os.urandom(9 * 2**20)
    key = storage.write(data)
    assert s3.contains(key)
    with storage.read(key) as value:
        assert isinstance(value, Path)  # the copy-on-read made a local, zero-copy path
        assert value.read_bytes() == data

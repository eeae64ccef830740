"""S3 against a real moto server: the Location contract plus S3-specific behaviour."""

from __future__ import annotations

import hashlib

import pytest

from lakelet.errors import InvalidArgument
from lakelet.locations.abc import Blob
from lakelet.locations.s3 import S3, from_url
from lakelet.testing.locations import LocationTests

s3fs = pytest.importorskip("s3fs")


_SESSION = None


def session():
    """One botocore session for all the clients here: each new one would reload the S3 model."""
    global _SESSION
    if _SESSION is None:
        from aiobotocore.session import AioSession

        _SESSION = AioSession()
    return _SESSION


def raw_fs(server) -> s3fs.S3FileSystem:
    """An s3fs client of the test's own: the backdoor that bypasses S3 under test."""
    return s3fs.S3FileSystem(
        endpoint_url=server.endpoint_url,
        key=server.access_key,
        secret=server.secret_key,
        session=session(),
        skip_instance_cache=True,
        use_listings_cache=False,
    )


def object_path(bucket: str, prefix: str, key: str) -> str:
    return f"{bucket}/{prefix}/{key[:2]}/{key[2:]}"


class TestS3Contract(LocationTests):
    @pytest.fixture
    def location(self, s3_server):
        loc = S3(
            s3_server.endpoint_url,
            s3_server.new_bucket(),
            prefix="lake/v1",
            key=s3_server.access_key,
            secret=s3_server.secret_key,
            session=session(),
        )
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, location, s3_server):
        fs = raw_fs(s3_server)
        return lambda key, data: fs.pipe_file(object_path(location.bucket, "lake/v1", key), data)

    @pytest.fixture
    def raw_get(self, location, s3_server):
        fs = raw_fs(s3_server)

        def get(key: str) -> bytes | None:
            try:
                return fs.cat_file(object_path(location.bucket, "lake/v1", key))
            except FileNotFoundError:
                return None

        return get


@pytest.fixture
def creds(s3_server):
    return {"key": s3_server.access_key, "secret": s3_server.secret_key, "session": session()}


def test_bucket_is_created_on_first_write(s3_server, creds) -> None:
    bucket = f"lakelet-new-{hashlib.sha256(b'fresh').hexdigest()[:12]}"
    loc = S3(s3_server.endpoint_url, bucket, **creds)
    key = hashlib.sha256(b"v").hexdigest()
    assert list(loc.keys()) == []  # a missing bucket lists as empty
    assert not loc.contains(key)
    assert loc.write(key, Blob(data=b"v"))
    assert raw_fs(s3_server).cat_file(f"{bucket}/{key[:2]}/{key[2:]}") == b"v"
    loc.close()


def test_no_bucket_creation_when_disallowed(s3_server, creds) -> None:
    loc = S3(s3_server.endpoint_url, "lakelet-never-made", create_bucket=False, **creds)
    with pytest.raises(KeyError):
        loc.write(hashlib.sha256(b"v").hexdigest(), Blob(data=b"v"))
    assert not raw_fs(s3_server).exists("lakelet-never-made")


def test_conditional_put_never_overwrites(s3_server, creds) -> None:
    """The publish step itself is create-only, even if the existence check was raced."""
    bucket = s3_server.new_bucket()
    loc = S3(s3_server.endpoint_url, bucket, **creds)
    key = hashlib.sha256(b"first").hexdigest()
    raw_fs(s3_server).pipe_file(f"{bucket}/{key[:2]}/{key[2:]}", b"first")
    loc._publish(loc._path(key), Blob(data=b"second"))  # what a racing writer would do
    assert loc.read_bytes(key) == b"first"


def test_layout_matches_disk(s3_server, creds, tmp_path) -> None:
    """A Disk folder uploaded as is reads as the same location."""
    from lakelet.locations.disk import Disk

    disk = Disk(tmp_path / "lake")
    keys = []
    for data in (b"one", b"two"):
        key = hashlib.sha256(data).hexdigest()
        disk.write(key, Blob(data=data))
        keys.append(key)
    bucket = s3_server.new_bucket()
    raw_fs(s3_server).put(str(tmp_path / "lake") + "/", f"{bucket}/copied/", recursive=True)
    loc = S3(s3_server.endpoint_url, bucket, prefix="copied", **creds)
    assert sorted(loc.keys()) == sorted(keys)
    assert loc.read_bytes(keys[0]) == b"one"


def test_entries_report_last_modified(s3_server, creds) -> None:
    loc = S3(s3_server.endpoint_url, s3_server.new_bucket(), **creds)
    key = hashlib.sha256(b"t").hexdigest()
    loc.write(key, Blob(data=b"t"))
    (entry,) = loc.entries()
    assert entry.size == 1
    assert entry.last_access is not None and entry.last_access > 0
    assert loc.info(key).last_access is not None


def test_max_size_declines(s3_server, creds) -> None:
    loc = S3(s3_server.endpoint_url, s3_server.new_bucket(), max_size=10, **creds)
    small, big = b"12345", b"1234567890"
    assert loc.write(hashlib.sha256(small).hexdigest(), Blob(data=small))
    assert not loc.accepts(len(big))
    assert loc.write(hashlib.sha256(big).hexdigest(), Blob(data=big)) is False
    assert loc.usage().capacity == 10


def test_url_and_describe(s3_server, creds) -> None:
    loc = S3(s3_server.endpoint_url, "my-bucket", prefix="/a//b/", **creds)
    assert loc.url == "s3://my-bucket/a/b"
    d = loc.describe()
    assert d["kind"] == "s3" and d["bucket"] == "my-bucket" and d["prefix"] == "a/b"
    assert d["endpoint_url"] == s3_server.endpoint_url


def test_bare_host_means_https() -> None:
    loc = S3("my-s3-host", "my-bucket", key="k", secret="s")
    assert loc.endpoint_url == "https://my-s3-host"
    assert S3("http://h:9000/", "my-bucket", key="k", secret="s").endpoint_url == "http://h:9000"


def test_environment_endpoint_and_credentials(s3_server, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    loc = S3(None, s3_server.new_bucket(), session=session())
    key = hashlib.sha256(b"env").hexdigest()
    assert loc.write(key, Blob(data=b"env"))
    assert loc.read_bytes(key) == b"env"


def test_from_url(s3_server, creds) -> None:
    bucket = s3_server.new_bucket()
    loc = from_url(f"s3://{bucket}/pre/fix?endpoint_url={s3_server.endpoint_url}&max_size=100", **creds)
    assert (loc.bucket, loc.prefix, loc.max_size) == (bucket, "pre/fix", 100)
    assert loc.endpoint_url == s3_server.endpoint_url
    key = hashlib.sha256(b"u").hexdigest()
    assert loc.write(key, Blob(data=b"u"))
    with pytest.raises(InvalidArgument):
        from_url("gs://bucket")


@pytest.mark.parametrize("bucket", ["", "ab", "a/b", None])
def test_bad_bucket(bucket) -> None:
    with pytest.raises(InvalidArgument):
        S3("host", bucket)


def test_closed_location_refuses(s3_server, creds) -> None:
    loc = S3(s3_server.endpoint_url, s3_server.new_bucket(), **creds)
    loc.contains(hashlib.sha256(b"x").hexdigest())
    loc.close()
    loc.close()  # idempotent
    with pytest.raises(OSError, match="closed"):
        loc.contains(hashlib.sha256(b"x").hexdigest())

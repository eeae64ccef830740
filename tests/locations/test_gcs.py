"""GCS against a real fake-gcs-server: the Location contract plus GCS specifics."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

from lakelet.errors import InvalidArgument
from lakelet.locations.abc import Blob
from lakelet.locations.gcs import GCS, from_url
from lakelet.testing.locations import LocationTests

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
gcsfs = pytest.importorskip("gcsfs")


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_fs(server):
    return gcsfs.GCSFileSystem(
        endpoint_url=server.endpoint_url, token="anon", project="test", skip_instance_cache=True
    )


@pytest.fixture
def bucket() -> str:
    return f"lakelet-gcs-{uuid.uuid4().hex[:10]}"


def open_gcs(server, bucket: str, **kwargs) -> GCS:
    return GCS(bucket, prefix="lake", endpoint_url=server.endpoint_url, token="anon", project="test", **kwargs)


class TestGCSContract(LocationTests):
    @pytest.fixture
    def location(self, gcs_server, bucket):
        loc = open_gcs(gcs_server, bucket)
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, gcs_server, bucket):
        fs = raw_fs(gcs_server)

        def put(key: str, data: bytes) -> None:
            if not fs.exists(bucket):
                fs.mkdir(bucket)
            fs.pipe_file(f"{bucket}/lake/{key[:2]}/{key[2:]}", data)

        return put

    @pytest.fixture
    def raw_get(self, gcs_server, bucket):
        fs = raw_fs(gcs_server)

        def get(key: str) -> bytes | None:
            try:
                return fs.cat_file(f"{bucket}/lake/{key[:2]}/{key[2:]}")
            except FileNotFoundError:
                return None

        return get


def test_conditional_put_never_overwrites(gcs_server, bucket) -> None:
    loc = open_gcs(gcs_server, bucket)
    key = key_of(b"first")
    assert loc.write(key, Blob(data=b"first"))
    loc._publish(loc._path(key), Blob(data=b"second"))  # a writer that lost the race
    assert loc.read_bytes(key) == b"first"
    loc.close()


def test_url_describe_from_url(gcs_server, bucket) -> None:
    loc = from_url(f"gs://{bucket}/a/b", endpoint_url=gcs_server.endpoint_url, token="anon", project="test")
    assert loc.url == f"gs://{bucket}/a/b"
    assert loc.describe()["bucket"] == bucket
    key = key_of(b"g")
    assert loc.write(key, Blob(data=b"g"))
    assert list(loc.keys()) == [key]
    assert loc.info(key).last_access is not None
    loc.close()
    with pytest.raises(InvalidArgument):
        from_url("s3://x/y")
    with pytest.raises(InvalidArgument):
        GCS("a/b")

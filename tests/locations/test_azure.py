"""Azure against a real Azurite: the Location contract plus Azure specifics."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from lakelet.errors import InvalidArgument
from lakelet.locations.abc import Blob
from lakelet.locations.azure import Azure, from_url
from lakelet.testing.locations import LocationTests

adlfs = pytest.importorskip("adlfs")


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def container() -> str:
    return f"lakelet-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def raw(azure_server):
    return adlfs.AzureBlobFileSystem(connection_string=azure_server.connection_string, skip_instance_cache=True)


class TestAzureContract(LocationTests):
    @pytest.fixture
    def location(self, azure_server, container):
        loc = Azure(container, prefix="lake", connection_string=azure_server.connection_string)
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, raw, container):
        def put(key: str, data: bytes) -> None:
            if not raw.exists(container):
                raw.mkdir(container)
            raw.pipe_file(f"{container}/lake/{key[:2]}/{key[2:]}", data)

        return put

    @pytest.fixture
    def raw_get(self, raw, container):
        def get(key: str) -> bytes | None:
            try:
                return raw.cat_file(f"{container}/lake/{key[:2]}/{key[2:]}")
            except FileNotFoundError:
                return None

        return get


def test_create_only_upload_never_overwrites(azure_server, container) -> None:
    loc = Azure(container, connection_string=azure_server.connection_string)
    key = key_of(b"first")
    assert loc.write(key, Blob(data=b"first"))
    loc._publish(loc._path(key), Blob(data=b"second"))  # a writer that lost the race
    assert loc.read_bytes(key) == b"first"
    loc.close()


def test_url_describe_from_url(azure_server, container) -> None:
    loc = from_url(f"az://{container}/p?max_size=1000", connection_string=azure_server.connection_string)
    assert loc.url == f"az://{container}/p" and loc.max_size == 1000
    assert loc.describe()["account_name"] == azure_server.account_name
    key = key_of(b"a")
    assert loc.write(key, Blob(data=b"a"))
    assert [e.key for e in loc.entries()] == [key]
    loc.close()
    with pytest.raises(InvalidArgument):
        from_url("gs://x")
    with pytest.raises(InvalidArgument):
        Azure("x")

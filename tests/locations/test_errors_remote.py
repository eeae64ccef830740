"""Remote failures become lakelet errors, quickly: dead servers, refused credentials, missing extras.

The servers here are killed (or never existed) before the call; every call must
raise :class:`StorageNetworkConnectionError` (a ``ConnectionError``) instead of
hanging. ``pytest-timeout`` turns a hang into a failure.
"""

from __future__ import annotations

import hashlib
import socket
import uuid

import pytest

from lakelet.errors import MissingDependency, StorageAccessDenied, StorageNetworkConnectionError
from lakelet.locations.abc import Blob
from lakelet.locations.fsspec_location import require

KEY = hashlib.sha256(b"value").hexdigest()


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def every_call(loc):
    """The operations a dead server must fail fast on."""
    return {
        "contains": lambda: loc.contains(KEY),
        "read": lambda: loc.read_bytes(KEY),
        "stream": lambda: loc.read(KEY).__enter__(),
        "write": lambda: loc.write(KEY, Blob(data=b"value")),
        "keys": lambda: list(loc.keys()),
        "usage": lambda: loc.usage(),
    }


def assert_all_refused(loc) -> None:
    for name, call in every_call(loc).items():
        with pytest.raises(StorageNetworkConnectionError) as info:
            call()
        assert isinstance(info.value, ConnectionError), name
        assert info.value.__cause__ is not None, name


@pytest.mark.timeout(60)
def test_killed_redis(private_redis_server) -> None:
    from lakelet.locations.redis import RedisLocation

    loc = RedisLocation(private_redis_server.host, private_redis_server.port, socket_timeout=2)
    assert loc.write(KEY, Blob(data=b"value"))
    private_redis_server.kill()
    assert_all_refused(loc)
    loc.close()


@pytest.mark.timeout(60)
def test_redis_wrong_password(private_redis_server) -> None:
    from lakelet.locations.redis import RedisLocation

    admin = RedisLocation(private_redis_server.host, private_redis_server.port)
    admin.client.config_set("requirepass", "sesame")
    admin.close()
    anonymous = RedisLocation(private_redis_server.host, private_redis_server.port)
    with pytest.raises(StorageAccessDenied):
        anonymous.contains(KEY)
    wrong = RedisLocation(private_redis_server.host, private_redis_server.port, password="nope")
    with pytest.raises(StorageAccessDenied):
        wrong.read_bytes(KEY)
    right = RedisLocation(private_redis_server.host, private_redis_server.port, password="sesame")
    assert right.write(KEY, Blob(data=b"value"))
    for loc in (anonymous, wrong, right):
        loc.close()


@pytest.mark.timeout(60)
def test_killed_s3(private_s3_server) -> None:
    from lakelet.locations.s3 import S3

    loc = S3(
        private_s3_server.endpoint_url,
        private_s3_server.new_bucket(),
        key=private_s3_server.access_key,
        secret=private_s3_server.secret_key,
        connect_timeout=2,
        retries=1,
    )
    assert loc.write(KEY, Blob(data=b"value"))
    private_s3_server.kill()
    assert_all_refused(loc)
    loc.close()


@pytest.mark.timeout(60)
def test_unreachable_sftp() -> None:
    from lakelet.locations.sftp import SFTP

    loc = SFTP("127.0.0.1", "/srv/lake", port=dead_port(), known_hosts=False, connect_timeout=2)
    assert_all_refused(loc)
    loc.close()


@pytest.mark.timeout(60)
def test_sftp_server_gone_after_connect(sftp_server) -> None:
    """A connection that dies under an open location (sshd child killed) fails fast too."""
    from lakelet.locations.sftp import SFTP

    root = f"{sftp_server.root}/{uuid.uuid4().hex[:8]}"
    loc = SFTP(
        sftp_server.host, root, port=sftp_server.port, username=sftp_server.username,
        client_keys=str(sftp_server.client_key), known_hosts=str(sftp_server.known_hosts),
    )
    assert loc.write(KEY, Blob(data=b"value"))
    loc.fs.client.close()  # the transport drops, as when the server goes away
    for call in every_call(loc).values():
        with pytest.raises(StorageNetworkConnectionError):
            call()
    loc.close()


@pytest.mark.timeout(60)
def test_unreachable_nginx() -> None:
    from lakelet.locations.http import Nginx

    loc = Nginx(f"http://127.0.0.1:{dead_port()}/lake/", timeout=2)
    for name, call in every_call(loc).items():
        if name == "write":
            assert call() is False  # read-only: declined without asking the server
            continue
        with pytest.raises(StorageNetworkConnectionError):
            call()
    loc.close()


@pytest.mark.timeout(60)
def test_unreachable_gcs() -> None:
    from lakelet.locations.gcs import GCS

    loc = GCS("lakelet-dead", endpoint_url=f"http://127.0.0.1:{dead_port()}", token="anon", project="p", retries=0)
    assert_all_refused(loc)
    loc.close()


@pytest.mark.timeout(60)
def test_unreachable_azure(azure_server) -> None:
    from lakelet.locations.azure import Azure

    port = azure_server.blob_endpoint.rsplit(":", 1)[1].split("/", 1)[0]
    conn = azure_server.connection_string.replace(f":{port}/", f":{dead_port()}/")
    loc = Azure("lakelet-dead", connection_string=conn, connect_timeout=2, retries=0)
    assert_all_refused(loc)
    loc.close()


def test_missing_extra_names_the_install_command() -> None:
    with pytest.raises(MissingDependency) as info:
        require("lakelet_no_such_backend", "s3")
    assert 'pip install "lakelet[s3]"' in str(info.value)
    assert isinstance(info.value, ImportError)

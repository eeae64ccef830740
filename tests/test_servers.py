"""Smoke tests for the real test servers, each through the client library lakelet uses."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lakelet.testing import pytest_plugin
from lakelet.testing.servers import AzureServer, RedisServer, ServerUnavailable, SftpServer


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_s3_server_roundtrip(s3_server):
    import s3fs

    bucket = s3_server.new_bucket()
    assert bucket != s3_server.new_bucket()
    fs = s3fs.S3FileSystem(
        endpoint_url=s3_server.endpoint_url,
        key=s3_server.access_key,
        secret=s3_server.secret_key,
        skip_instance_cache=True,
        use_listings_cache=False,
    )
    fs.pipe(f"{bucket}/cas/ab/abcdef", b"hello")
    assert fs.cat(f"{bucket}/cas/ab/abcdef") == b"hello"
    assert fs.find(bucket) == [f"{bucket}/cas/ab/abcdef"]


def test_redis_server_roundtrip_and_flush(redis_server):
    import redis

    client = redis.Redis.from_url(redis_server.url)
    try:
        client.set("k", b"\x00v")
        assert client.get("k") == b"\x00v"
        redis_server.flush()
        assert client.get("k") is None
    finally:
        client.close()


def test_sftp_server_roundtrip(sftp_server):
    from sshfs import SSHFileSystem

    fs = SSHFileSystem(
        sftp_server.host,
        port=sftp_server.port,
        username=sftp_server.username,
        client_keys=[str(sftp_server.client_key)],
        known_hosts=str(sftp_server.known_hosts),
        skip_instance_cache=True,
    )
    folder = sftp_server.root / uuid.uuid4().hex
    fs.makedirs(str(folder))
    fs.pipe_file(str(folder / "value.bin"), b"over sftp")
    assert fs.cat_file(str(folder / "value.bin")) == b"over sftp"
    assert (folder / "value.bin").read_bytes() == b"over sftp"  # root is a local path too
    assert sftp_server.url.endswith(str(sftp_server.root))


def test_http_server_serves_its_root(http_server):
    import fsspec

    folder = http_server.root / uuid.uuid4().hex
    folder.mkdir()
    (folder / "data.txt").write_bytes(b"served by nginx")
    fs = fsspec.filesystem("http", skip_instance_cache=True, use_listings_cache=False)
    base = f"{http_server.url}{folder.name}/"
    assert http_server.url.endswith("/")
    assert fs.cat_file(base + "data.txt") == b"served by nginx"
    assert fs.cat_file(base + "data.txt", start=10, end=15) == b"nginx"
    assert [entry.rstrip("/").rsplit("/", 1)[-1] for entry in fs.ls(base, detail=False)] == ["data.txt"]


def test_gcs_server_roundtrip(gcs_server):
    from gcsfs import GCSFileSystem

    bucket = gcs_server.new_bucket()
    fs = GCSFileSystem(endpoint_url=gcs_server.endpoint_url, token="anon", project="lakelet-test")
    fs.pipe(f"{bucket}/a/b.bin", b"hello gcs")
    assert fs.cat(f"{bucket}/a/b.bin") == b"hello gcs"
    assert fs.find(bucket) == [f"{bucket}/a/b.bin"]


def test_azure_server_roundtrip(azure_server):
    from adlfs import AzureBlobFileSystem

    assert azure_server.blob_endpoint in azure_server.connection_string
    fs = AzureBlobFileSystem(connection_string=azure_server.connection_string, skip_instance_cache=True)
    container = f"c{uuid.uuid4().hex[:12]}"
    fs.mkdir(container)
    fs.pipe(f"{container}/x/y.bin", b"hello azure")
    assert fs.cat(f"{container}/x/y.bin") == b"hello azure"


def test_killed_redis_refuses_connections_then_restarts(private_redis_server):
    import redis

    client = redis.Redis.from_url(private_redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.set("k", b"v")
        port = private_redis_server.port
        private_redis_server.kill()
        assert not private_redis_server.running
        with pytest.raises(redis.ConnectionError):
            client.get("k")
        private_redis_server.restart()
        assert private_redis_server.port == port
        assert client.get("k") is None  # volatile: the crash lost the data
    finally:
        client.close()


def test_durable_redis_survives_kill(tmp_path):
    import redis

    with RedisServer(appendonly=True, workdir=tmp_path) as server:
        client = redis.Redis.from_url(server.url)
        try:
            client.set("k", b"kept")
            server.kill()
            server.start()
            assert client.get("k") == b"kept"
        finally:
            client.close()


def test_killed_sftp_server_drops_open_sessions(tmp_path):
    import asyncssh
    from sshfs import SSHFileSystem

    with pytest_plugin.start_or_skip(SftpServer(workdir=tmp_path)) as server:
        fs = SSHFileSystem(
            server.host,
            port=server.port,
            username=server.username,
            client_keys=[str(server.client_key)],
            known_hosts=str(server.known_hosts),
            skip_instance_cache=True,
        )
        fs.pipe_file(str(server.root / "a"), b"x")
        server.kill()
        with pytest.raises((asyncssh.Error, OSError)):  # "not open" or "reset by peer", by timing
            fs.cat_file(str(server.root / "a"))


def test_stopped_s3_server_stops_answering(private_s3_server):
    port = private_s3_server.port
    assert private_s3_server.is_ready()
    private_s3_server.stop()
    assert not private_s3_server.is_ready()
    assert not _port_answers(port)


def test_busy_fixed_port_is_reported(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = RedisServer(port=taken.getsockname()[1], workdir=tmp_path)
        with pytest.raises(ServerUnavailable, match="port"):
            server.start()
        assert not server.running


def test_close_removes_its_temp_dir():
    server = RedisServer().start()
    workdir = server.workdir
    assert workdir.is_dir()
    server.close()
    assert not workdir.exists()


def test_server_dies_with_the_process_that_started_it(tmp_path):
    code = (
        "import sys, time\n"
        "from lakelet.testing.servers import RedisServer\n"
        "s = RedisServer(workdir=sys.argv[1]).start()\n"
        "print(s.port, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        port = int(parent.stdout.readline())
        assert _port_answers(port)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
    deadline = time.monotonic() + 10
    while _port_answers(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _port_answers(port)


@pytest.mark.parametrize(("ci", "outcome"), [("", pytest.skip.Exception), ("true", pytest.fail.Exception)])
def test_unavailable_server_skips_locally_and_fails_in_ci(monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("LAKELET_AZURITE_BLOB", "/nonexistent/azurite-blob")
    with pytest.raises(outcome, match="azure test server unavailable"):
        pytest_plugin.start_or_skip(AzureServer())


def test_temp_dirs_of_dead_runs_are_swept():
    import tempfile

    dead = subprocess.Popen(["true"])
    dead.wait()
    orphan = Path(tempfile.mkdtemp(prefix="lakelet-test-server-redis-"))
    (orphan / ".owner-pid").write_text(str(dead.pid))
    (orphan / "redis.log").write_text("left behind by a killed run")
    server = RedisServer()
    try:
        assert server.workdir.is_dir()
        assert not orphan.exists()
    finally:
        server.close()

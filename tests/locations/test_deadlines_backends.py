"""Issue 15.8 beyond S3: GCS, Azure, HTTP and SFTP servers that stop answering (SIGSTOP on the
real server: connections accepted or pending, nothing comes back) fail every call within the
``[remote]`` deadlines of config.toml with a lakelet network error, and work again once continued.

Each test starts a server of its own (stopping a shared one would stall other tests) and stops it
with every process under it (nginx's workers, sshd's per-connection children). A hang fails the
test through pytest-timeout instead of holding the suite for minutes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lakelet
from lakelet.errors import StorageTimeout
from lakelet.locations.abc import Blob
from lakelet.testing.pytest_plugin import start_or_skip
from lakelet.testing.servers._base import _descendants

KEY = hashlib.sha256(b"value").hexdigest()
OTHER = hashlib.sha256(b"other").hexdigest()
pytestmark = pytest.mark.timeout(120)


@contextlib.contextmanager
def stopped(server: Any) -> Iterator[None]:
    """The server and every process under it are stopped (SIGSTOP) inside the block, continued after."""
    pids = [server.pid, *_descendants(server.pid)]
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.fixture
def short_deadlines(tmp_path: Path) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[remote]\nconnect_timeout = 1\nread_timeout = 1.5\ndeadline = 3\n")
    with lakelet.config_set(home=home):
        yield home


def _hung_calls_fail(location: Any, server: Any, writable: bool = True) -> None:
    calls: dict[str, Callable[[], Any]] = {
        "contains": lambda: location.contains(KEY),
        "read": lambda: location.read_bytes(KEY),
    }
    if writable:
        calls["write"] = lambda: location.write(OTHER, Blob(data=b"other"))
    with stopped(server):
        for call in calls.values():
            with pytest.raises(StorageTimeout, match=r"did not answer .* within its deadlines .*\[remote\]"):
                call()
    assert location.read_bytes(KEY) == b"value"  # answering again: the same location works


def test_stopped_gcs_server_fails_within_the_deadline(short_deadlines: Path) -> None:
    from lakelet.locations.gcs import GCS
    from lakelet.testing.servers import GcsServer

    with start_or_skip(GcsServer()) as server:
        gcs = GCS(server.new_bucket(), prefix="lake", endpoint_url=server.endpoint_url, token="anon", project="test")
        assert gcs.write(KEY, Blob(data=b"value"))
        _hung_calls_fail(gcs, server)


def test_stopped_azure_server_fails_within_the_deadline(short_deadlines: Path) -> None:
    from lakelet.locations.azure import Azure
    from lakelet.testing.servers import AzureServer

    with start_or_skip(AzureServer()) as server:
        azure = Azure(f"lakelet-{uuid.uuid4().hex[:10]}", prefix="lake", connection_string=server.connection_string)
        assert azure.write(KEY, Blob(data=b"value"))
        _hung_calls_fail(azure, server)


def test_stopped_http_server_fails_within_the_deadline(short_deadlines: Path) -> None:
    from lakelet.locations.http import Nginx
    from lakelet.testing.servers import HttpServer

    with start_or_skip(HttpServer()) as server:
        folder = Path(server.root) / "lake"
        (folder / KEY[:2]).mkdir(parents=True)
        (folder / KEY[:2] / KEY[2:]).write_bytes(b"value")
        _hung_calls_fail(Nginx(f"{server.url}lake/"), server, writable=False)


def test_stopped_sftp_server_fails_within_the_deadline(short_deadlines: Path, tmp_path: Path) -> None:
    from lakelet.locations.sftp import SFTP
    from lakelet.testing.servers import SftpServer

    with start_or_skip(SftpServer()) as server:
        root = Path(server.root) / "lake"
        sftp = SFTP(server.host, str(root), port=server.port, username=server.username,
                    client_keys=str(server.client_key), known_hosts=str(server.known_hosts))
        assert sftp.write(KEY, Blob(data=b"value"))
        _hung_calls_fail(sftp, server)

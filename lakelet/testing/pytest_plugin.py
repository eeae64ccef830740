"""pytest fixtures that run lakelet's real storage test servers.

Register with ``pytest_plugins = ["lakelet.testing.pytest_plugin"]`` in a
``conftest.py``. Servers start lazily, the first time a test asks for them.

Session fixtures (one shared server per test run; isolate tests with
``new_bucket()``, a fresh directory, or ``flush()``):

* ``s3_server``: :class:`~lakelet.testing.servers.S3Server` (``endpoint_url``,
  ``access_key``, ``secret_key``, ``region``, ``new_bucket()``)
* ``redis_server``: :class:`~lakelet.testing.servers.RedisServer` (``host``,
  ``port``, ``url``, ``flush()``)
* ``sftp_server``: :class:`~lakelet.testing.servers.SftpServer` (``host``,
  ``port``, ``username``, ``client_key``, ``known_hosts``, ``root``, ``url``)
* ``http_server``: :class:`~lakelet.testing.servers.HttpServer` (``url``, ``root``)
* ``gcs_server``: :class:`~lakelet.testing.servers.GcsServer` (``endpoint_url``, ``new_bucket()``)
* ``azure_server``: :class:`~lakelet.testing.servers.AzureServer`
  (``connection_string``, ``account_name``, ``account_key``, ``blob_endpoint``)

Function fixtures, a private server the test may ``stop()``, ``kill()`` or
``restart()``: ``private_redis_server``, ``private_s3_server``. For other
variants (a durable ``RedisServer(appendonly=True)``, an ``SftpServer(allow_shell=True)``),
use the server as a context manager inside :func:`start_or_skip`-style code::

    with start_or_skip(RedisServer(appendonly=True, workdir=tmp_path)) as server: ...

A server that cannot start skips the test with the reason, except when the
environment variable ``CI`` is true: there it fails the test, so a broken
install never hides behind skipped tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TypeVar

import pytest

from lakelet.testing.servers import (
    AzureServer,
    GcsServer,
    HttpServer,
    LocalServer,
    RedisServer,
    S3Server,
    ServerUnavailable,
    SftpServer,
)

# gcsfs >= 2025 reads this at import time; left on, every bucket operation against the emulator
# first retries a gRPC-over-TLS call for 60 s. Set here, before any test module imports gcsfs.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"

_S = TypeVar("_S", bound=LocalServer)


def in_ci() -> bool:
    """True when the environment variable CI says this is a CI run."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def start_or_skip(server: _S) -> _S:
    """Start ``server``; when it cannot start, skip the test (fail it when running under CI)."""
    try:
        return server.start()
    except ServerUnavailable as e:
        server.close()
        reason = f"{server.name} test server unavailable: {e}"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _serve(server: _S) -> Iterator[_S]:
    try:
        yield start_or_skip(server)
    finally:
        server.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server shared by the session; call ``new_bucket()`` for a bucket of your own."""
    yield from _serve(S3Server())


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A volatile redis-server shared by the session."""
    yield from _serve(RedisServer())


@pytest.fixture(scope="session")
def sftp_server() -> Iterator[SftpServer]:
    """An SFTP-only OpenSSH server shared by the session; write under ``root``."""
    yield from _serve(SftpServer())


@pytest.fixture(scope="session")
def http_server() -> Iterator[HttpServer]:
    """nginx with autoindex serving the local folder ``root`` at ``url``."""
    yield from _serve(HttpServer())


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[GcsServer]:
    """An in-memory fake-gcs-server shared by the session."""
    yield from _serve(GcsServer())


@pytest.fixture(scope="session")
def azure_server() -> Iterator[AzureServer]:
    """An in-memory Azurite blob server shared by the session."""
    yield from _serve(AzureServer())


@pytest.fixture
def private_redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, free to be stopped, killed or restarted."""
    yield from _serve(RedisServer())


@pytest.fixture
def private_s3_server() -> Iterator[S3Server]:
    """A moto S3 server of this test's own, free to be stopped, killed or restarted."""
    yield from _serve(S3Server())

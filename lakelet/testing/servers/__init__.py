"""Real storage servers for tests, each a subprocess on a free loopback port.

Every server keeps its state (configs, keys, data, log) in its own temporary
directory, is stopped by its own PID (never by name), and can be killed
(SIGKILL) to simulate a crash and restarted on the same port::

    with RedisServer() as redis_server:
        client = redis.Redis.from_url(redis_server.url)

Classes: :class:`S3Server` (moto), :class:`RedisServer`, :class:`SftpServer`
(OpenSSH, SFTP only), :class:`HttpServer` (nginx autoindex), :class:`GcsServer`
(fake-gcs-server), :class:`AzureServer` (Azurite blob). Binaries come from
``bash scripts/install.sh``. A server that cannot start raises
:class:`ServerUnavailable` with the reason and the tail of its log.

On Linux each server also receives SIGKILL when the thread that started it
exits (``setpriv --pdeathsig``), so a crashed test run leaves no servers
behind. Start servers from a long-lived thread (pytest's main thread is).
"""

from __future__ import annotations

from ._base import HOST, LocalServer, ServerUnavailable, free_port
from .cloud import AzureServer, GcsServer
from .http import HttpServer
from .redis import RedisServer
from .s3 import S3Server
from .sftp import SftpServer

__all__ = [
    "HOST",
    "AzureServer",
    "GcsServer",
    "HttpServer",
    "LocalServer",
    "RedisServer",
    "S3Server",
    "ServerUnavailable",
    "SftpServer",
    "free_port",
]

"""A folder on a remote machine, over SFTP (sshfs on asyncssh).

The remote layout is Disk's (``root/ab/<62 hex>``), so a folder written by
``Disk`` on the server reads as the same location here, and vice versa.

A value is uploaded to a hidden temp name in its final folder and then
renamed into place (``posix-rename@openssh.com``, atomic), so readers never see
half a value. A crashed upload leaves only a ``.<name>.<uuid>.tmp`` file that
listing ignores. Server-side copy is never used: it needs a remote shell, and
many servers are SFTP-only. Reads bump the file's mtime, which is the last
access that LRU eviction uses (as on Disk).

``SCP`` is the same location under the ``scp://`` name. It deliberately uses
the SFTP subsystem too: the scp protocol cannot rename atomically or list a
folder without a remote shell, and OpenSSH's own ``scp`` has used SFTP since 9.0.

The connection is opened on first use, not in the constructor.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .._hashing import validate_key
from ..errors import (
    InvalidArgument,
    StorageAccessDenied,
    StorageError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._deadlines import remote_deadlines
from .abc import Blob, ErrorMap
from .fsspec_location import FsspecLocation, require

_COPY_CHUNK = 4 * 2**20


class SFTP(FsspecLocation):
    """Values as files ``root/ab/<62 hex>`` on an SFTP server.

    ``root`` is an absolute path on the server. ``known_hosts=None`` checks the
    host key against ``~/.ssh/known_hosts``; ``known_hosts=False`` disables the
    check (only for throwaway test servers). ``connect_timeout`` and
    ``keepalive_interval`` (seconds) bound how long a dead server can stall a
    call. Further ``options`` go to ``asyncssh.connect``.
    """

    kind = "sftp"

    def __init__(
        self,
        host: str,
        root: str,
        *,
        port: int = 22,
        username: str | None = None,
        client_keys: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        known_hosts: str | os.PathLike[str] | bool | None = None,
        max_size: int | None = None,
        track_access: bool = True,
        connect_timeout: float | None = None,
        keepalive_interval: float = 15,
        **options: Any,
    ) -> None:
        if not isinstance(host, str) or not host or any(c in host for c in "/\x00 "):
            raise InvalidArgument(f"{type(self).__name__} host must be a host name, got {host!r}")
        if not isinstance(root, str) or not root.startswith("/"):
            raise InvalidArgument(f"{type(self).__name__} root must be an absolute remote path, got {root!r}")
        if not isinstance(port, int) or not 0 < port < 65536:
            raise InvalidArgument(f"{type(self).__name__} port must be 1-65535, got {port!r}")
        sshfs = require("sshfs", "sftp")
        deadlines = remote_deadlines(connect_timeout=connect_timeout)
        self._asyncssh = require("asyncssh", "sftp")
        self.host, self.port, self.username = host, port, username
        self.track_access = track_access
        connect: dict[str, Any] = {
            "port": port,
            "connect_timeout": deadlines.connect_timeout,
            "keepalive_interval": keepalive_interval,
            "keepalive_count_max": 2,
            **options,
        }
        if username is not None:
            connect["username"] = username
        if client_keys is not None:
            keys = [client_keys] if isinstance(client_keys, str | os.PathLike) else list(client_keys)
            connect["client_keys"] = [os.fspath(k) for k in keys]
        connect["known_hosts"] = _known_hosts(known_hosts)

        def factory() -> Any:
            return sshfs.SSHFileSystem(host, skip_instance_cache=True, **connect)

        super().__init__(factory, posixpath.normpath(root), max_size=max_size)
        self.request_deadlines = deadlines
        self.extra_errors = sftp_error_map()

    @property
    def url(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{self.kind}://{user}{self.host}:{self.port}{self.root}"

    def classify(self, error: BaseException) -> type[StorageError] | None:
        return classify_sftp_error(error)

    # ------------------------------------------------------------------ writes
    def _publish(self, path: str, blob: Blob) -> None:
        folder, name = posixpath.split(path)
        tmp = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
        done = False
        try:
            self._upload(tmp, blob)
            self.fs.mv(tmp, path)  # posix-rename: atomic; equal content if it replaced a racer's copy
            done = True
        finally:
            if not done:
                self._discard(tmp)

    def _overwrite(self, path: str, blob: Blob) -> None:
        self._publish(path, blob)  # upload to a temporary, then posix-rename over the damaged file

    def _put_record(self, path: str, data: bytes, replace: bool) -> bool:
        """Upload to a temporary, then rename: ``posix-rename`` replaces atomically; the plain
        SFTP rename refuses an existing target, which makes a create-only publish."""
        if replace:
            self._publish(path, Blob(data=data))
            return True
        from fsspec.asyn import sync

        folder, name = posixpath.split(path)
        tmp = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
        self._upload(tmp, Blob(data=data))
        fs = self.fs

        async def rename() -> bool:
            async with fs._pool.get() as channel:
                try:
                    await channel.rename(tmp, path)
                except self._asyncssh.SFTPFailure:
                    return False  # the target exists (OpenSSH links, then unlinks: create-only)
                return True

        renamed = False
        try:
            renamed = sync(fs.loop, rename)
        finally:
            if not renamed:
                self._discard(tmp)
        return bool(renamed)

    def _upload(self, tmp: str, blob: Blob) -> None:
        try:
            handle = self.fs.open(tmp, "wb")
        except FileNotFoundError:
            self.fs.makedirs(posixpath.dirname(tmp), exist_ok=True)
            handle = self.fs.open(tmp, "wb")
        with handle:
            if blob.data is not None:
                handle.write(blob.data)
            else:
                with open(blob.path, "rb") as src:  # type: ignore[arg-type]
                    shutil.copyfileobj(src, handle, _COPY_CHUNK)

    def _discard(self, tmp: str) -> None:
        """Best-effort removal of a failed upload's temp file (listing ignores it anyway)."""
        try:
            self.fs.rm_file(tmp)
        except (OSError, self._asyncssh.Error):
            return  # the connection that broke the upload usually breaks this too

    # ------------------------------------------------------------------ access tracking
    def _after_read(self, key: str) -> None:
        if self.track_access:
            self._utime(key)

    def touch(self, key: str) -> bool:
        validate_key(key)
        if not self.track_access:
            return self.contains(key)
        return self._utime(key)

    def _utime(self, key: str) -> bool:
        from fsspec.asyn import sync

        fs = self.fs

        async def bump() -> None:
            async with fs._pool.get() as channel:  # sshfs has no public utime
                await channel.utime(self._path(key))

        with self.errors(key):
            try:
                sync(fs.loop, bump)
            except self._asyncssh.SFTPNoSuchFile:
                return False
            except self._asyncssh.SFTPPermissionDenied:
                self.track_access = False  # a read-only share: stop tracking instead of failing reads
                return self.contains(key)
        return True

    def _close_fs(self, fs: Any) -> None:
        fs._finalize(fs.loop, fs._pool, fs._stack)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(host=self.host, port=self.port, root=self.root, transport="sftp")
        return d


class SCP(SFTP):
    """:class:`SFTP` under the ``scp://`` name (same transport: see the module docstring)."""

    kind = "scp"


def sftp_error_map() -> ErrorMap:
    """asyncssh's connection, permission and missing-file errors (one map for every layer)."""
    import asyncssh as errors

    return (
        ((errors.PermissionDenied, errors.HostKeyNotVerifiable), StorageAccessDenied),
        ((errors.SFTPNoSuchFile,), StorageKeyNotFound),
        ((errors.SFTPPermissionDenied,), StorageAccessDenied),
        ((errors.ConnectionLost, errors.DisconnectError, errors.ChannelOpenError), StorageNetworkConnectionError),
        ((errors.SFTPConnectionLost, errors.SFTPNoConnection), StorageNetworkConnectionError),
    )


def classify_sftp_error(error: BaseException) -> type[StorageError] | None:
    """A connect timeout that asyncssh reports as a bare OSError."""
    if isinstance(error, OSError) and error.errno is None and "timed out" in str(error).lower():
        return StorageNetworkConnectionError
    return None


def _known_hosts(value: str | os.PathLike[str] | bool | None) -> Any:
    if value is False:
        return None  # asyncssh: no host key check
    if value is None or value is True:
        return os.path.expanduser("~/.ssh/known_hosts")
    return os.fspath(value)


def from_url(url: str, **options: Any) -> SFTP:
    """``sftp://[user@]host[:port]/abs/root[?known_hosts=..&client_keys=..]`` (also ``scp://``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("sftp", "scp", "ssh") or not parts.hostname:
        raise InvalidArgument(f"not an sftp:// URL with a host: {url!r}")
    if not parts.path or parts.path == "/":
        raise InvalidArgument(f"an sftp:// URL needs the remote root folder as its path: {url!r}")
    for name, value in parse_qsl(parts.query):
        options.setdefault(name, value)
    if parts.username:
        options.setdefault("username", unquote(parts.username))
    if parts.password:
        options.setdefault("password", unquote(parts.password))
    if parts.port:
        options.setdefault("port", parts.port)
    cls = SCP if parts.scheme == "scp" else SFTP
    return cls(parts.hostname, unquote(parts.path), **options)


def scp_from_url(url: str, **options: Any) -> SCP:
    """``scp://[user@]host[:port]/abs/root`` -> :class:`SCP` (an ``sftp://`` URL is taken as scp)."""
    scheme = urlsplit(url).scheme if isinstance(url, str) else ""
    if scheme in ("sftp", "ssh"):
        url = "scp" + url[len(scheme) :]
    location = from_url(url, **options)
    if not isinstance(location, SCP):
        raise InvalidArgument(f"not an scp:// URL: {url!r}")
    return location


__all__ = ["SCP", "SFTP", "classify_sftp_error", "from_url", "scp_from_url", "sftp_error_map"]

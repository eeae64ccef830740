"""A lake folder served over HTTP(S) by nginx with ``autoindex on``: read-only.

Point nginx at a folder written by ``Disk`` (or by any location with the same
``ab/<62 hex>`` layout) and every machine can read it::

    location /lake/ { alias /srv/lake/; autoindex on; }

    Nginx("https://example.com/lake/")

Values are streamed with HTTP range requests (fsspec ``HTTPFileSystem`` on
aiohttp). Listing reads the autoindex pages: the HTML format (default) and
``autoindex_format json`` are understood, one page per ``ab/`` folder, with
sizes and modification times taken from the page when it shows exact sizes.
Writes are declined (``write`` returns False) and ``delete`` raises
:class:`~lakelet.errors.ReadOnlyLocation`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from .._hashing import is_key_folder, is_key_name
from ..errors import (
    InvalidArgument,
    StorageAccessDenied,
    StorageError,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._deadlines import remote_deadlines
from ._records import validate_record_prefix
from .fsspec_location import FsspecLocation, require

# <a href="name">label</a>   21-Nov-2026 13:59     1234
_HTML_ROW = re.compile(r'<a href="([^"]+)">[^<]*</a>\s+(\d{2}-\w{3}-\d{4} \d{2}:\d{2})\s+(\S+)')


class Nginx(FsspecLocation):
    """A read-only lake at ``url`` (a folder URL served with nginx autoindex).

    ``timeout`` (seconds) bounds connecting and each read; ``headers`` are sent
    with every request (e.g. ``{"Authorization": "Bearer ..."}``). Further
    ``options`` go to ``fsspec.implementations.http.HTTPFileSystem``.
    """

    kind = "http"
    durable = False  # read-only: nothing is ever written here

    def __init__(
        self,
        url: str,
        *,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidArgument(f"Nginx needs an http(s):// folder URL, got {url!r}")
        aiohttp = require("aiohttp", "http")
        http = require("fsspec.implementations.http", "http")
        self._aiohttp = aiohttp
        client_kwargs = dict(options.pop("client_kwargs", {}))
        limits = remote_deadlines()  # [remote] of config.toml; ``timeout`` overrides connect and read
        connect = limits.connect_timeout if timeout is None else timeout
        read = limits.read_timeout if timeout is None else timeout
        client_kwargs.setdefault("timeout", aiohttp.ClientTimeout(total=None, connect=connect, sock_read=read))
        if headers:
            client_kwargs.setdefault("headers", headers)

        def factory() -> Any:
            return http.HTTPFileSystem(
                skip_instance_cache=True, use_listings_cache=False, client_kwargs=client_kwargs, **options
            )

        self.base_url = url if url.endswith("/") else url + "/"
        super().__init__(factory, self.base_url.rstrip("/"), writable=False)
        self.request_deadlines = limits
        self.extra_errors = (
            ((aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError), StorageNetworkConnectionError),
            ((aiohttp.ClientPayloadError,), StorageNetworkConnectionError),
        )

    @property
    def url(self) -> str:
        return self.base_url

    def _is_missing(self, error: FileNotFoundError) -> bool:
        # fsspec's HTTP info() reports *any* failure of its HEAD/GET probes as FileNotFoundError
        return error.__cause__ is None or self.classify(error) is StorageKeyNotFound

    def classify(self, error: BaseException) -> type[StorageError] | None:
        if isinstance(error, FileNotFoundError) and error.__cause__ is not None:
            cause = error.__cause__
            for types, mapped in self.extra_errors:
                if isinstance(cause, types):
                    return mapped
            return self.classify(cause) or StorageKeyNotFound
        if isinstance(error, self._aiohttp.ClientResponseError):
            if error.status in (401, 403):
                return StorageAccessDenied
            if error.status == 404:
                return StorageKeyNotFound
            if error.status >= 500:
                return StorageInternalError
        if type(error).__name__ == "FSTimeoutError":
            return StorageNetworkConnectionError
        return None

    # ------------------------------------------------------------------ listing
    def _listing(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for folder, _ in self._index(self.base_url, is_key_folder, folders=True):
            for name, info in self._index(f"{self.base_url}{folder}/", is_key_name, folders=False):
                if info.get("size") is None:  # `autoindex_exact_size off` shows "1K": ask the server
                    info = self._stat(folder + name) or info
                yield folder + name, info

    def _index(self, url: str, wanted: Callable[[str], bool], *, folders: bool) -> Iterator[tuple[str, dict[str, Any]]]:
        """(name, info) of the entries of one autoindex page whose name matches ``pattern``."""
        with self.errors():
            try:
                page = self.fs.cat_file(url)
            except FileNotFoundError:
                return
        for name, is_folder, info in _parse_autoindex(page):
            if is_folder == folders and wanted(name):
                yield name, info

    def list_records(self, prefix: str = "") -> Iterator[str]:
        """Records from the autoindex pages of ``.records/`` and its folders."""
        validate_record_prefix(prefix)

        def walk(rel: str) -> Iterator[str]:
            url = f"{self.base_url}.records/{rel}"
            with self.errors():
                try:
                    page = self.fs.cat_file(url)
                except FileNotFoundError:
                    return
            for name, is_folder, _ in _parse_autoindex(page):
                if name in ("", ".", ".."):
                    continue
                path = f"{rel}{name}"
                if is_folder:
                    if prefix.startswith(path + "/") or path.startswith(prefix):
                        yield from walk(path + "/")
                elif path.startswith(prefix):
                    yield path

        yield from walk("")

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.pop("max_size", None)
        return d

    def _close_fs(self, fs: Any) -> None:
        session = getattr(fs, "_session", None)
        if session is not None:
            fs.close_session(fs.loop, session)


def _parse_autoindex(page: bytes) -> Iterator[tuple[str, bool, dict[str, Any]]]:
    """(name, is_folder, info) for each entry of an nginx autoindex page (HTML or JSON)."""
    text = page.decode("utf-8", errors="replace")
    if text.lstrip().startswith("["):
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as e:
            raise StorageInternalError(f"unreadable autoindex JSON page: {e}") from e
        for row in rows:
            info = {"type": "file", "size": row.get("size"), "mtime": _http_date(row.get("mtime"))}
            yield str(row.get("name", "")), row.get("type") == "directory", info
        return
    for href, stamp, size in _HTML_ROW.findall(text):
        name = unquote(href)
        is_folder = name.endswith("/")
        info = {
            "type": "directory" if is_folder else "file",
            "size": int(size) if size.isdigit() else None,
            "mtime": _autoindex_date(stamp),
        }
        yield name.rstrip("/"), is_folder, info


def _autoindex_date(stamp: str) -> float | None:
    try:
        return datetime.strptime(stamp, "%d-%b-%Y %H:%M").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _http_date(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.strptime(stamp, "%a, %d %b %Y %H:%M:%S %Z").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def from_url(url: str, **options: Any) -> Nginx:
    """``http(s)://host/folder/`` -> :class:`Nginx` (``nginx+https://`` is accepted too)."""
    if isinstance(url, str) and url.startswith(("nginx+http://", "nginx+https://")):
        url = url[len("nginx+") :]
    return Nginx(url, **options)


__all__ = ["Nginx", "from_url"]

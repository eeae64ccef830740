"""Google Cloud Storage (and emulators such as fake-gcs-server), through gcsfs.

Writes are conditional uploads (``ifGenerationMatch=0``): a simple upload for
small values, a resumable upload above, visible only when it completes. The
bucket is created on the first write that finds it missing.

gcsfs >= 2025 asks the Storage Control gRPC API about every bucket unless
``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``; against anything but Google (an
emulator, a proxy) that stalls each call for a minute, so it is set to
``false`` before gcsfs is first imported unless the environment says otherwise.
"""

from __future__ import annotations

import functools
import os
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from ..errors import (
    InvalidArgument,
    StorageAccessDenied,
    StorageError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._deadlines import remote_deadlines
from .abc import Blob, ErrorMap
from .fsspec_location import FsspecLocation, require, split_root

_HNS_FLAG = "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"


class GCS(FsspecLocation):
    """Values as objects ``<bucket>/<prefix>/ab/<62 hex>`` of a GCS bucket.

    ``token`` is anything gcsfs accepts (``"anon"``, ``"google_default"``, a
    service-account JSON path...). Further ``options`` go to ``gcsfs.GCSFileSystem``.
    """

    kind = "gcs"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        token: Any = None,
        project: str | None = None,
        create_bucket: bool = True,
        max_size: int | None = None,
        timeout: float | None = None,
        retries: int = 2,
        **options: Any,
    ) -> None:
        if not isinstance(retries, int) or retries < 0:
            raise InvalidArgument(f"GCS retries must be a non-negative int, got {retries!r}")
        if not isinstance(bucket, str) or not 3 <= len(bucket) <= 222 or "/" in bucket:
            raise InvalidArgument(f"GCS bucket must be a name of 3-222 characters without '/', got {bucket!r}")
        os.environ.setdefault(_HNS_FLAG, "false")  # must precede the first import of gcsfs
        gcsfs = require("gcsfs", "gcs")
        self._http_error = require("gcsfs.retry", "gcs").HttpError
        require("aiohttp", "gcs")
        self.bucket = bucket
        self.prefix = split_root(prefix)
        self.endpoint_url = endpoint_url
        self.project = project
        self.create_bucket = create_bucket
        kwargs: dict[str, Any] = {"token": token, **options}
        if project is not None:  # gcsfs warns "project not set" for an explicit None, not for its default
            kwargs["project"] = project
        if endpoint_url is not None:
            kwargs["endpoint_url"] = endpoint_url
        deadlines = remote_deadlines()
        if timeout is None:  # [remote] deadline of config.toml (see _deadlines)
            timeout = deadlines.deadline
        kwargs.setdefault("requests_timeout", timeout)  # per HTTP request, not per (long) upload
        fs = _filesystem_class(gcsfs, retries)(skip_instance_cache=True, use_listings_cache=False, **kwargs)
        root = f"{bucket}/{self.prefix}" if self.prefix else bucket
        super().__init__(fs, root, max_size=max_size)
        self.extra_errors = gcs_error_map()
        self.request_deadlines = deadlines

    @property
    def url(self) -> str:
        return f"gs://{self.root}"

    def classify(self, error: BaseException) -> type[StorageError] | None:
        return classify_gcs_error(error)

    def _publish(self, path: str, blob: Blob) -> None:
        try:
            super()._publish(path, blob)
        except FileNotFoundError:
            if not self._create_container():
                raise
            super()._publish(path, blob)

    def _create_container(self) -> bool:
        if not self.create_bucket:
            return False
        try:
            self.fs.mkdir(self.bucket, create_parents=True)
        except FileExistsError:
            pass  # created concurrently
        except self._http_error as e:
            if getattr(e, "code", None) != 409:
                raise
            # 409 Conflict: created concurrently
        return True

    def _close_fs(self, fs: Any) -> None:
        session = getattr(fs, "_session", None)
        if session is not None:
            fs.close_session(fs.loop, session)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(bucket=self.bucket, prefix=self.prefix, endpoint_url=self.endpoint_url)
        return d


def gcs_error_map() -> ErrorMap:
    """aiohttp's connection and timeout errors, as lakelet storage errors (one map for every layer)."""
    import aiohttp

    return (((aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError), StorageNetworkConnectionError),)


_BY_STATUS: dict[int, type[StorageError]] = {
    401: StorageAccessDenied,
    403: StorageAccessDenied,
    404: StorageKeyNotFound,
}


def classify_gcs_error(error: BaseException) -> type[StorageError] | None:
    """The lakelet error for a gcsfs ``HttpError`` status or an fsspec timeout."""
    if type(error).__name__ == "FSTimeoutError":
        return StorageNetworkConnectionError
    if type(error).__name__ == "HttpError" and type(error).__module__.startswith("gcsfs"):
        return _BY_STATUS.get(getattr(error, "code", None))  # type: ignore[arg-type]
    return None


@functools.cache
def _filesystem_class(gcsfs: Any, retries: int) -> type:
    """``GCSFileSystem`` whose API requests are tried ``retries + 1`` times.

    gcsfs retries every failed request 6 times with backoff up to 32 s (about a
    minute for a dead endpoint) and offers no option to change it, so the
    undecorated ``_request`` is wrapped again with our count. Uploads keep
    gcsfs's own retries, but a write asks ``contains`` first, so a dead server
    fails there.
    """
    from gcsfs.retry import retry_request

    base = gcsfs.GCSFileSystem
    plain = getattr(base._request, "__wrapped__", None)
    if plain is None:  # a gcsfs that changed its internals: keep its retries
        return cast(type, base)
    return type("BoundedGCSFileSystem", (base,), {"_request": retry_request(retries=retries + 1)(plain)})


def from_url(url: str, **options: Any) -> GCS:
    """``gs://bucket/prefix[?endpoint_url=..&project=..]`` (also ``gcs://``) -> :class:`GCS`."""
    parts = urlsplit(url)
    if parts.scheme not in ("gs", "gcs") or not parts.netloc:
        raise InvalidArgument(f"not a gs:// URL with a bucket: {url!r}")
    query = dict(parse_qsl(parts.query))
    if "max_size" in query:
        options.setdefault("max_size", int(query.pop("max_size")))
    for name, value in query.items():
        options.setdefault(name, value)
    return GCS(parts.netloc, prefix=parts.path, **options)


__all__ = ["GCS", "classify_gcs_error", "from_url", "gcs_error_map"]

"""Amazon S3 and S3-compatible servers (MinIO, Ceph, moto...), through s3fs.

``S3('my-s3-host', 'my-bucket')`` talks to ``https://my-s3-host``; pass a URL
with a scheme for anything else. Credentials, region and endpoint fall back to
the standard AWS environment variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``) and
then to botocore's usual chain (config files, instance roles).

Writes are conditional puts (``If-None-Match: *``): one PUT for values up to
100 MiB, a multipart upload above, which S3 makes visible only when it
completes. The bucket is created on the first write that finds it missing
(``create_bucket=False`` turns that off).
"""

from __future__ import annotations

import os
from typing import Any, cast
from urllib.parse import parse_qsl, urlsplit

from .._hashing import validate_key
from ..errors import (
    InvalidArgument,
    StorageAccessDenied,
    StorageError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from ._deadlines import Deadlines, body_size, bounded, remote_deadlines
from .abc import Blob, EntryInfo, ErrorMap
from .fsspec_location import FsspecLocation, require, split_root

_DENIED = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"}
_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class S3(FsspecLocation):
    """Values as objects ``<bucket>/<prefix>/ab/<62 hex>`` of an S3 bucket.

    ``connect_timeout``/``read_timeout``/``deadline`` (seconds; default from ``[remote]`` in
    config.toml, see :mod:`lakelet.locations._deadlines`) and ``retries`` bound how long a dead
    or hung server can stall a call: every request, retries included, ends within ``deadline``
    (plus 1 s per MiB it uploads) with :class:`~lakelet.errors.StorageTimeout`.
    Further ``options`` go to ``s3fs.S3FileSystem``
    (e.g. ``session=aiobotocore.session.AioSession()`` shared by many S3
    locations saves loading botocore's service model for each, ~0.4 s).
    """

    kind = "s3"

    def __init__(
        self,
        endpoint_or_host: str | None,
        bucket: str,
        *,
        prefix: str = "",
        key: str | None = None,
        secret: str | None = None,
        region: str | None = None,
        create_bucket: bool = True,
        max_size: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        deadline: float | None = None,
        retries: int = 2,
        **options: Any,
    ) -> None:
        if not isinstance(bucket, str) or not 3 <= len(bucket) <= 63 or "/" in bucket:
            raise InvalidArgument(f"S3 bucket must be a name of 3-63 characters without '/', got {bucket!r}")
        s3fs = require("s3fs", "s3")
        require("botocore.exceptions", "s3")  # fail early, with the install hint, if botocore is missing
        self.endpoint_url = _endpoint(endpoint_or_host or os.environ.get("AWS_ENDPOINT_URL"))
        self.bucket = bucket
        self.prefix = split_root(prefix)
        self.region = region or os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
        self.create_bucket = create_bucket
        self.deadlines = remote_deadlines(connect_timeout=connect_timeout, read_timeout=read_timeout, deadline=deadline)
        config = dict(options.pop("config_kwargs", {}))
        config.setdefault("connect_timeout", self.deadlines.connect_timeout)
        config.setdefault("read_timeout", self.deadlines.read_timeout)
        config.setdefault("retries", {"max_attempts": retries, "mode": "standard"})
        client_kwargs = dict(options.pop("client_kwargs", {}))
        if self.region and self.region != "us-east-1":
            # us-east-1 is the default; naming it makes some servers reject bucket creation
            client_kwargs.setdefault("region_name", self.region)
        fs = s3fs.S3FileSystem(
            endpoint_url=self.endpoint_url,
            key=key,
            secret=secret,
            client_kwargs=client_kwargs,
            config_kwargs=config,
            skip_instance_cache=True,
            use_listings_cache=False,
            **options,
        )
        fs.retries = max(retries, 1)  # s3fs's own retry loop, on top of botocore's
        bound_s3_requests(fs, self.deadlines, self.endpoint_url or "AWS S3")
        root = f"{bucket}/{self.prefix}" if self.prefix else bucket
        super().__init__(fs, root, max_size=max_size)
        self.extra_errors = s3_error_map()

    @property
    def url(self) -> str:
        return f"s3://{self.root}"

    def classify(self, error: BaseException) -> type[StorageError] | None:
        return classify_s3_error(error)

    # A HEAD of the exact object: s3fs's info() would also list the "directory" on a miss.
    def _head(self, key: str) -> dict[str, Any] | None:
        bucket, _, path = self._path(key).partition("/")
        with self.errors(key):
            try:
                return cast("dict[str, Any]", self.fs.call_s3("head_object", Bucket=bucket, Key=path))
            except FileNotFoundError:
                return None

    def contains(self, key: str) -> bool:
        validate_key(key)
        return self._head(key) is not None

    def info(self, key: str) -> EntryInfo:
        validate_key(key)
        head = self._head(key)
        if head is None:
            raise self._not_found(key)
        return EntryInfo(key, int(head["ContentLength"]), last_access=self._last_access(head))

    def _publish(self, path: str, blob: Blob) -> None:
        try:
            super()._publish(path, blob)
        except FileNotFoundError:
            if not self.create_bucket:
                raise
            self._make_bucket()
            super()._publish(path, blob)

    def _create_container(self) -> bool:
        if not self.create_bucket:
            return False
        self._make_bucket()
        return True

    def _make_bucket(self) -> None:
        params: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self.fs.call_s3("create_bucket", **params)
        except FileExistsError:
            pass  # created concurrently (BucketAlreadyOwnedByYou)
        self.fs.invalidate_cache(self.bucket)

    def _close_fs(self, fs: Any) -> None:
        s3 = getattr(fs, "_s3", None)
        if s3 is not None:
            fs.close_session(fs.loop, s3)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(endpoint_url=self.endpoint_url, bucket=self.bucket, prefix=self.prefix)
        return d


def bound_s3_requests(fs: Any, deadlines: Deadlines, where: str) -> None:
    """Cut every request of the s3fs filesystem ``fs`` (all go through ``_call_s3``, retries
    included) off after its deadline, with a :class:`StorageTimeout` that says so."""
    from fsspec.asyn import sync_wrapper

    def describe(operation: str, seconds: float) -> str:
        return (
            f"the S3 server at {where} did not answer {operation} within {seconds:.3g} s, retries included "
            "(a hung or stopped server?); the deadline is `deadline` in [remote] of config.toml"
        )

    call = bounded(fs._call_s3, lambda kwargs: deadlines.for_body(body_size(kwargs)), describe)
    fs._call_s3 = call
    fs.call_s3 = sync_wrapper(call, obj=fs)


def s3_error_map() -> ErrorMap:
    """botocore's connection, timeout and credential errors, as lakelet storage errors."""
    import botocore.exceptions as b

    return (
        ((b.EndpointConnectionError, b.ConnectionError), StorageNetworkConnectionError),
        ((b.ConnectTimeoutError, b.ReadTimeoutError), StorageNetworkConnectionError),
        (b.HTTPClientError, StorageNetworkConnectionError),
        (b.NoCredentialsError, StorageAccessDenied),
    )


def classify_s3_error(error: BaseException) -> type[StorageError] | None:
    """The lakelet error for an S3 ``ClientError`` code found in ``error`` or its causes."""
    from botocore.exceptions import ClientError

    for e in _causes(error):  # s3fs raises its own errors from botocore's ClientError
        if isinstance(e, ClientError):
            code = str(e.response.get("Error", {}).get("Code", ""))
            if code in _DENIED:
                return StorageAccessDenied
            if code in _MISSING:
                return StorageKeyNotFound
    return None


def _endpoint(value: str | None) -> str | None:
    """``host`` -> ``https://host``; a URL with a scheme is kept; None means AWS."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or "\x00" in value or " " in value:
        raise InvalidArgument(f"S3 endpoint must be a host name or URL, got {value!r}")
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise InvalidArgument(f"S3 endpoint must be http(s), got {value!r}")
        return value.rstrip("/")
    return f"https://{value.rstrip('/')}"


def _causes(error: BaseException) -> list[BaseException]:
    """``error`` and the chain of exceptions it was raised from (s3fs wraps ClientError)."""
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in chain and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def from_url(url: str, **options: Any) -> S3:
    """``s3://bucket/prefix?endpoint_url=http://host:9000`` -> :class:`S3`.

    The endpoint may also come from ``options`` or ``AWS_ENDPOINT_URL``; other
    query parameters (``region``, ``max_size``) become keyword arguments.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise InvalidArgument(f"not an s3:// URL with a bucket: {url!r}")
    query = dict(parse_qsl(parts.query))
    endpoint = options.pop("endpoint_url", None) or query.pop("endpoint_url", None) or query.pop("endpoint", None)
    if "max_size" in query:
        options.setdefault("max_size", int(query.pop("max_size")))
    for name, value in query.items():
        options.setdefault(name, value)
    return S3(endpoint, parts.netloc, prefix=parts.path, **options)


__all__ = ["S3", "from_url"]

"""``CloudBucketMount``: a prefix of an S3, GCS or Azure bucket with the Volume file API.

``read_only=True`` (the default) is enforced: every write method, and the
``fs`` view, raise :class:`~lakelet.errors.ReadOnlyLocation`.

For example (it needs a bucket, so it is not a doctest; the tests run it against moto)::

    m = CloudBucketMount.from_s3_bucket("my-bucket", key_prefix="raw/",
                                        secret=Secret.from_name("aws"), bucket_endpoint_url="http://minio:9000")
    m.listdir("/")
"""

from __future__ import annotations

from typing import Any

import fsspec

from ..errors import InvalidArgument, MissingDependency
from .names import normalize_path
from .secret import Secret
from .tree import FsTree, TreeMethods


def _filesystem(protocol: str, extra: str, **options: Any) -> Any:
    try:
        # no listings cache: a bucket changes under our feet
        return fsspec.filesystem(protocol, skip_instance_cache=True, use_listings_cache=False, **options)
    except ImportError as e:
        raise MissingDependency(f'{protocol}:// buckets need an extra: pip install "lakelet[{extra}]"') from e


def _prefix(bucket: str, key_prefix: str) -> str:
    if not isinstance(bucket, str) or not bucket or "/" in bucket:
        raise InvalidArgument(f"bucket must be a bucket name without '/', got {bucket!r}")
    prefix = normalize_path(key_prefix)
    return f"{bucket}/{prefix}" if prefix else bucket


class CloudBucketMount(TreeMethods):
    """A bucket prefix exposed like a Volume (``listdir``, ``read_file``, ``fs``, ``mount()``...)."""

    def __init__(self, fs: Any, root: str, url: str, *, read_only: bool = True) -> None:
        self.url, self.read_only = url, read_only
        self._tree = FsTree(fs, root, f"CloudBucketMount({url!r})", read_only=read_only)

    def __repr__(self) -> str:
        return f"CloudBucketMount({self.url!r}, read_only={self.read_only})"

    @classmethod
    def from_s3_bucket(
        cls,
        bucket_name: str,
        *,
        key_prefix: str = "",
        secret: Secret | None = None,
        read_only: bool = True,
        bucket_endpoint_url: str | None = None,
    ) -> CloudBucketMount:
        """An S3 (or S3-compatible, with ``bucket_endpoint_url``) bucket; credentials from
        ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``/``AWS_REGION``
        in ``secret``, else the usual AWS chain."""
        s = secret or Secret({})
        options: dict[str, Any] = {}
        if "AWS_ACCESS_KEY_ID" in s:
            options.update(key=s["AWS_ACCESS_KEY_ID"], secret=s.get("AWS_SECRET_ACCESS_KEY"))
        if "AWS_SESSION_TOKEN" in s:
            options["token"] = s["AWS_SESSION_TOKEN"]
        if bucket_endpoint_url:
            options["endpoint_url"] = bucket_endpoint_url
        if "AWS_REGION" in s and s["AWS_REGION"] != "us-east-1":
            options["client_kwargs"] = {"region_name": s["AWS_REGION"]}
        root = _prefix(bucket_name, key_prefix)
        return cls(_filesystem("s3", "s3", **options), root, f"s3://{root}", read_only=read_only)

    @classmethod
    def from_gcs_bucket(
        cls,
        bucket_name: str,
        *,
        key_prefix: str = "",
        secret: Secret | None = None,
        read_only: bool = True,
        bucket_endpoint_url: str | None = None,
    ) -> CloudBucketMount:
        """A Google Cloud Storage bucket; ``secret`` may hold ``SERVICE_ACCOUNT_JSON`` (a key file's content)."""
        options: dict[str, Any] = {}
        if secret is not None and "SERVICE_ACCOUNT_JSON" in secret:
            import json

            options["token"] = json.loads(secret["SERVICE_ACCOUNT_JSON"])
        if bucket_endpoint_url:
            options["endpoint_url"] = bucket_endpoint_url
        root = _prefix(bucket_name, key_prefix)
        return cls(_filesystem("gcs", "gcs", **options), root, f"gs://{root}", read_only=read_only)

    @classmethod
    def from_azure_blob_storage(
        cls,
        account_name: str,
        container_name: str,
        *,
        key_prefix: str = "",
        secret: Secret | None = None,
        read_only: bool = True,
    ) -> CloudBucketMount:
        """An Azure Blob Storage container; ``secret`` may hold ``AZURE_STORAGE_CONNECTION_STRING``
        or ``AZURE_STORAGE_KEY``."""
        options: dict[str, Any] = {"account_name": account_name}
        if secret is not None:
            if "AZURE_STORAGE_CONNECTION_STRING" in secret:
                options = {"connection_string": secret["AZURE_STORAGE_CONNECTION_STRING"]}
            elif "AZURE_STORAGE_KEY" in secret:
                options["account_key"] = secret["AZURE_STORAGE_KEY"]
        root = _prefix(container_name, key_prefix)
        return cls(_filesystem("az", "azure", **options), root, f"az://{account_name}/{root}", read_only=read_only)


__all__ = ["CloudBucketMount"]

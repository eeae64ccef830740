"""``CloudBucketMount``: a prefix of an S3, GCS or Azure bucket with the Volume file API.

The bucket is opened by the one registry (:func:`lakelet.registry.open_tree`):
the same clients, timeouts and credential names as locations and datasets. A
``secret`` holds environment-style names (``AWS_ACCESS_KEY_ID``,
``SERVICE_ACCOUNT_JSON``, ``AZURE_STORAGE_KEY``...; see
:func:`lakelet.credentials.creds_from_secret`).

``read_only=True`` (the default) is enforced: every write method, and the
``fs`` view, raise :class:`~lakelet.errors.ReadOnlyLocation`.

For example (it needs a bucket, so it is not a doctest; the tests run it against moto)::

    m = CloudBucketMount.from_s3_bucket("my-bucket", key_prefix="raw/",
                                        secret=Secret.from_name("aws"), bucket_endpoint_url="http://minio:9000")
    m.listdir("/")
"""

from __future__ import annotations

from typing import Any

from ..credentials import creds_from_secret
from ..errors import InvalidArgument
from ..registry import open_tree
from .names import normalize_path
from .secret import Secret
from .tree import FsTree, TreeMethods


def _prefix(bucket: str, key_prefix: str) -> str:
    if not isinstance(bucket, str) or not bucket or "/" in bucket:
        raise InvalidArgument(f"bucket must be a bucket name without '/', got {bucket!r}")
    prefix = normalize_path(key_prefix)
    return f"{bucket}/{prefix}" if prefix else bucket


def _secret_creds(secret: Secret | None) -> dict[str, Any]:
    if secret is not None and not isinstance(secret, Secret):
        raise InvalidArgument(f"secret must be a lakelet Secret, got {type(secret).__name__}")
    return creds_from_secret(secret) if secret is not None else {}


class CloudBucketMount(TreeMethods):
    """A bucket prefix exposed like a Volume (``listdir``, ``read_file``, ``fs``, ``mount()``...)."""

    def __init__(self, fs: Any, root: str, url: str, *, read_only: bool = True, kind: str | None = None) -> None:
        self.url, self.read_only = url, read_only
        self._tree = FsTree(fs, root, f"CloudBucketMount({url!r})", read_only=read_only, kind=kind)

    @classmethod
    def _open(cls, url: str, creds: dict[str, Any], read_only: bool) -> CloudBucketMount:
        """Through the one registry: the backend's own client, timeouts and credential names."""
        tree = open_tree(url, creds)
        return cls(tree.fs, tree.root, url, read_only=read_only, kind=tree.kind)

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
        creds = _secret_creds(secret)
        if bucket_endpoint_url:
            creds["endpoint_url"] = bucket_endpoint_url
        return cls._open(f"s3://{_prefix(bucket_name, key_prefix)}", creds, read_only)

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
        creds = _secret_creds(secret)
        if bucket_endpoint_url:
            creds["endpoint_url"] = bucket_endpoint_url
        return cls._open(f"gs://{_prefix(bucket_name, key_prefix)}", creds, read_only)

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
        creds = _secret_creds(secret)
        if "azure_storage_connection_string" not in creds:
            creds["azure_storage_account"] = account_name
        mount = cls._open(f"az://{_prefix(container_name, key_prefix)}", creds, read_only)
        mount.url = f"az://{account_name}/{_prefix(container_name, key_prefix)}"
        return mount


__all__ = ["CloudBucketMount"]

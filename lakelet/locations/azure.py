"""Azure Blob Storage (and Azurite), through adlfs.

Writes are create-only uploads (``overwrite=False``; a 409 means another
writer stored the key first, which is success); a staged-block upload is
committed, and so becomes visible, in one step. The container is created on
the first write that finds it missing.
"""

from __future__ import annotations

from typing import Any
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


class Azure(FsspecLocation):
    """Values as blobs ``<container>/<prefix>/ab/<62 hex>``.

    Credentials: a ``connection_string``, or ``account_name`` with
    ``account_key``/``sas_token``/``credential``; without any, adlfs falls back
    to ``AZURE_STORAGE_*`` variables and ``DefaultAzureCredential``.
    ``connect_timeout``/``read_timeout`` (seconds) and ``retries`` bound how long
    a dead endpoint can stall a call. Further ``options`` go to
    ``adlfs.AzureBlobFileSystem``.
    """

    kind = "azure"

    def __init__(
        self,
        container: str,
        *,
        prefix: str = "",
        connection_string: str | None = None,
        account_name: str | None = None,
        account_key: str | None = None,
        sas_token: str | None = None,
        credential: Any = None,
        create_container: bool = True,
        max_size: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retries: int = 1,
        **options: Any,
    ) -> None:
        if not isinstance(container, str) or not 3 <= len(container) <= 63 or "/" in container:
            raise InvalidArgument(f"Azure container must be a name of 3-63 characters, got {container!r}")
        adlfs = require("adlfs", "azure")
        self._azure = require("azure.core.exceptions", "azure")
        self.container = container
        self.prefix = split_root(prefix)
        self.create_container = create_container
        deadlines = remote_deadlines(connect_timeout=connect_timeout, read_timeout=read_timeout)
        fs = adlfs.AzureBlobFileSystem(
            connection_string=connection_string,
            account_name=account_name,
            account_key=account_key,
            sas_token=sas_token,
            credential=credential,
            connection_timeout=deadlines.connect_timeout,
            read_timeout=deadlines.read_timeout,
            skip_instance_cache=True,
            use_listings_cache=False,
            **options,
        )
        _bound_retries(fs.service_client, retries)
        self.account_name = fs.account_name or getattr(fs.service_client, "account_name", None)
        root = f"{container}/{self.prefix}" if self.prefix else container
        super().__init__(fs, root, max_size=max_size)
        self.request_deadlines = deadlines
        self.extra_errors = azure_error_map()

    @property
    def url(self) -> str:
        return f"az://{self.root}"

    def classify(self, error: BaseException) -> type[StorageError] | None:
        return classify_azure_error(error)

    def _publish(self, path: str, blob: Blob) -> None:
        try:
            super()._publish(path, blob)
        except (FileNotFoundError, self._azure.ResourceNotFoundError):
            if not self.create_container:
                raise
            self._make_container()
            super()._publish(path, blob)

    def _container_missing(self, error: BaseException) -> bool:
        return isinstance(error, FileNotFoundError | self._azure.ResourceNotFoundError)

    def _create_container(self) -> bool:
        if not self.create_container:
            return False
        self._make_container()
        return True

    def _make_container(self) -> None:
        # Straight to the SDK: adlfs.mkdir reports "already exists" as a ValueError.
        from fsspec.asyn import sync

        fs = self.fs
        try:
            sync(fs.loop, fs.service_client.create_container, self.container)
        except self._azure.ResourceExistsError:
            pass  # created concurrently
        fs.invalidate_cache(self.container)

    def _close_fs(self, fs: Any) -> None:
        from adlfs.spec import close_service_client
        from fsspec.asyn import sync

        sync(fs.loop, close_service_client, fs)

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d.update(account_name=self.account_name, container=self.container, prefix=self.prefix)
        return d


def azure_error_map() -> ErrorMap:
    """azure-core's connection, credential and not-found errors (one map for every layer)."""
    import azure.core.exceptions as errors

    return (
        ((errors.ServiceRequestError, errors.ServiceResponseError), StorageNetworkConnectionError),
        ((errors.ClientAuthenticationError,), StorageAccessDenied),
        ((errors.ResourceNotFoundError,), StorageKeyNotFound),
    )


def classify_azure_error(error: BaseException) -> type[StorageError] | None:
    """The lakelet error for an Azure HTTP status or an fsspec timeout."""
    from azure.core.exceptions import HttpResponseError

    if isinstance(error, HttpResponseError):
        if error.status_code in (401, 403):
            return StorageAccessDenied
        if error.status_code == 404:
            return StorageKeyNotFound
    if type(error).__name__ == "FSTimeoutError":
        return StorageNetworkConnectionError
    return None


def _bound_retries(client: Any, retries: int) -> None:
    """Cap the Azure SDK's retries: its default (10 retries, backoff from 15 s, base 3)
    stalls a call to a dead endpoint for minutes. adlfs offers no option for this, so
    the client's retry policy (shared by the container and blob clients made from
    it) is adjusted in place."""
    policy = getattr(getattr(client, "_config", None), "retry_policy", None)
    if policy is None:
        return
    for name in ("total_retries", "connect_retries", "read_retries", "status_retries"):
        if hasattr(policy, name):
            setattr(policy, name, retries)
    if hasattr(policy, "initial_backoff"):
        policy.initial_backoff = 0.2
        policy.increment_base = 2
        policy.random_jitter_range = 0.2


def from_url(url: str, **options: Any) -> Azure:
    """``az://container/prefix`` (also ``abfs://``) -> :class:`Azure`; credentials as keywords
    or ``AZURE_STORAGE_CONNECTION_STRING``/``AZURE_STORAGE_ACCOUNT_NAME``/``..._KEY``."""
    parts = urlsplit(url)
    if parts.scheme not in ("az", "abfs", "azure") or not parts.netloc:
        raise InvalidArgument(f"not an az:// URL with a container: {url!r}")
    container = parts.netloc.split("@", 1)[0]
    query = dict(parse_qsl(parts.query))
    if "max_size" in query:
        options.setdefault("max_size", int(query.pop("max_size")))
    for name, value in query.items():
        options.setdefault(name, value)
    return Azure(container, prefix=parts.path, **options)


__all__ = ["Azure", "azure_error_map", "classify_azure_error", "from_url"]

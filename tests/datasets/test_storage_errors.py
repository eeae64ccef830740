"""storage_io.translated maps each backend's real exception types to lakelet's storage errors."""

from __future__ import annotations

import pytest

from lakelet.datasets.storage_io import translated
from lakelet.errors import (
    StorageAccessDenied,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)


def _cases():
    import aiohttp
    import azure.core.exceptions as a
    import botocore.exceptions as b
    from fsspec.exceptions import FSTimeoutError
    from gcsfs.retry import HttpError

    def client_error(code):
        return b.ClientError({"Error": {"Code": code, "Message": code}}, "GetObject")

    def azure_status(status):
        e = a.HttpResponseError(message=f"status {status}")
        e.status_code = status
        return e

    return [
        ("s3", client_error("AccessDenied"), StorageAccessDenied),
        ("s3", client_error("NoSuchKey"), StorageKeyNotFound),
        ("s3", b.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), StorageNetworkConnectionError),
        ("s3", b.NoCredentialsError(), StorageAccessDenied),
        ("s3", FSTimeoutError(), StorageNetworkConnectionError),
        ("gcs", HttpError({"code": 403, "message": "forbidden"}), StorageAccessDenied),
        ("gcs", aiohttp.ServerTimeoutError("slow"), StorageNetworkConnectionError),
        ("azure", a.ResourceNotFoundError("gone"), StorageKeyNotFound),
        ("azure", a.ServiceRequestError("down"), StorageNetworkConnectionError),
        ("azure", azure_status(403), StorageAccessDenied),
        ("local", FileNotFoundError("x"), StorageKeyNotFound),
        ("local", PermissionError("x"), StorageAccessDenied),
        ("local", OSError("disk on fire"), StorageInternalError),
    ]


@pytest.mark.parametrize("case", range(13))
def test_backend_errors_map_by_type(case):
    kind, error, expected = _cases()[case]
    with pytest.raises(expected) as info, translated("bucket/ds/x", kind):
        raise error
    assert info.value.__cause__ is error and "bucket/ds/x" in str(info.value)


def test_unrelated_errors_pass_through():
    with pytest.raises(KeyError), translated("x", "s3"):
        raise KeyError("not a storage error")

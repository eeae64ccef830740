"""Dataset URLs (+ creds) on every backend: local folder, memory, S3 (moto), GCS (fake-gcs), Azure (Azurite)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import lakelet

Place = tuple[str, dict[str, Any] | None]


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    with lakelet.config_set(home=tmp_path_factory.mktemp("home")):
        yield


def _azure_container(azure_server: Any) -> str:
    from adlfs import AzureBlobFileSystem

    name = f"ds{uuid.uuid4().hex[:12]}"
    AzureBlobFileSystem(connection_string=azure_server.connection_string, skip_instance_cache=True).mkdir(name)
    return name


@pytest.fixture(params=["local", "memory", "s3", "gcs", "azure"])
def place(request: pytest.FixtureRequest, tmp_path: Any) -> Callable[[str], Place]:
    """``place(name)`` -> (url, creds) of a fresh dataset location on the parametrised backend."""
    kind = request.param
    if kind == "local":
        return lambda name: (str(tmp_path / name), None)
    if kind == "memory":
        prefix = uuid.uuid4().hex[:10]
        return lambda name: (f"memory://{prefix}/{name}", None)
    if kind == "s3":
        server = request.getfixturevalue("s3_server")
        bucket = server.new_bucket()
        creds = server.creds
        return lambda name: (f"s3://{bucket}/{name}", creds)
    if kind == "gcs":
        server = request.getfixturevalue("gcs_server")
        bucket = server.new_bucket()
        return lambda name: (f"gcs://{bucket}/{name}", {"endpoint_url": server.endpoint_url})
    server = request.getfixturevalue("azure_server")
    container = _azure_container(server)
    creds = {"azure_storage_connection_string": server.connection_string}
    return lambda name: (f"azure://{container}/{name}", creds)


@pytest.fixture
def mem_url() -> str:
    return f"memory://{uuid.uuid4().hex[:12]}/ds"

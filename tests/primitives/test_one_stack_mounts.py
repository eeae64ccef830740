"""CloudBucketMount, locations and datasets open buckets through one registry with one credential vocabulary.

Against moto, fake-gcs-server and Azurite: a value stored through a location and a
dataset written at a URL are seen, byte for byte, through a bucket mount made from a
Modal-style ``Secret`` of the same credentials; unknown credential names are refused
with an error naming them before anything is opened.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest

import lakelet
from lakelet.credentials import creds_from_secret, location_options
from lakelet.errors import InvalidArgument, StorageNetworkConnectionError
from lakelet.hashstore import HashKeyStorage
from lakelet.primitives import CloudBucketMount, Secret
from lakelet.registry import open_location


def _s3(request: pytest.FixtureRequest) -> tuple[str, Secret, dict[str, Any]]:
    server = request.getfixturevalue("s3_server")
    secret = Secret.from_dict({"AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key})
    return server.new_bucket(), secret, {"bucket_endpoint_url": server.endpoint_url}


def _gcs(request: pytest.FixtureRequest) -> tuple[str, Secret, dict[str, Any]]:
    server = request.getfixturevalue("gcs_server")
    return server.new_bucket(), Secret.from_dict({}), {"bucket_endpoint_url": server.endpoint_url}


def _azure(request: pytest.FixtureRequest) -> tuple[str, Secret, dict[str, Any]]:
    server = request.getfixturevalue("azure_server")
    from adlfs import AzureBlobFileSystem

    container = f"mnt{uuid.uuid4().hex[:12]}"
    AzureBlobFileSystem(connection_string=server.connection_string, skip_instance_cache=True).mkdir(container)
    secret = Secret.from_dict({"AZURE_STORAGE_CONNECTION_STRING": server.connection_string})
    return container, secret, {}


@pytest.mark.parametrize("kind", ["s3", "gcs", "azure"])
def test_location_dataset_and_mount_share_one_bucket(kind: str, request: pytest.FixtureRequest) -> None:
    bucket, secret, extra = {"s3": _s3, "gcs": _gcs, "azure": _azure}[kind](request)
    creds = creds_from_secret(secret)
    if "bucket_endpoint_url" in extra:
        creds["endpoint_url"] = extra["bucket_endpoint_url"]
    scheme = {"s3": "s3", "gcs": "gs", "azure": "az"}[kind]

    storage = HashKeyStorage(open_location(f"{scheme}://{bucket}/lake", **creds))  # Deep Lake names, translated
    key = storage.write(b"one stack")
    ds = lakelet.create(f"{scheme}://{bucket}/ds", creds=creds)
    ds.add_column("img", lakelet.datasets.types.Image())
    ds.append({"img": b"\x89PNG-mounted"})
    ds.commit("one image")

    def mount(**kwargs: Any) -> CloudBucketMount:
        if kind == "azure":
            return CloudBucketMount.from_azure_blob_storage("devstoreaccount1", bucket, secret=secret, **kwargs)
        make = CloudBucketMount.from_s3_bucket if kind == "s3" else CloudBucketMount.from_gcs_bucket
        return make(bucket, secret=secret, **extra, **kwargs)

    ro = mount()
    assert b"".join(ro.read_file(f"lake/{key[:2]}/{key[2:]}")) == b"one stack"  # the one blob layout
    media = [e.path for e in ro.listdir("ds/media", recursive=True) if e.type.name == "FILE"]
    assert len(media) == 1 and b"".join(ro.read_file(media[0])) == b"\x89PNG-mounted"
    rw = mount(read_only=False, key_prefix="uploads")
    rw.put_file(io.BytesIO(b"a,b\n"), "t.csv")
    assert b"".join(ro.read_file("uploads/t.csv")) == b"a,b\n"


def test_unknown_credential_names_are_refused_by_name() -> None:
    with pytest.raises(InvalidArgument, match="aws_secret_key"):
        lakelet.open("s3://some-bucket/ds", creds={"aws_secret_key": "x"})  # a typo of aws_secret_access_key
    with pytest.raises(InvalidArgument, match="nonsense"):
        location_options("gcs", {"nonsense": 1})
    # one creds dict may serve a copy between clouds: another backend's Deep Lake names are ignored
    assert location_options("gcs", {"aws_access_key_id": "k", "endpoint_url": "http://x"}) == {
        "endpoint_url": "http://x", "token": "anon"}
    assert creds_from_secret({"AWS_ACCESS_KEY_ID": "k", "OTHER": "v", "SERVICE_ACCOUNT_JSON": "{}"}) == {
        "aws_access_key_id": "k", "google_application_credentials_json": "{}"}


def test_a_mount_of_a_dead_server_raises_lakelet_errors_naming_it(private_s3_server: Any) -> None:
    bucket = private_s3_server.new_bucket()
    secret = Secret.from_dict({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    mount = CloudBucketMount.from_s3_bucket(bucket, secret=secret, read_only=False,
                                            bucket_endpoint_url=private_s3_server.endpoint_url)
    mount.put_file(io.BytesIO(b"x"), "a.txt")
    private_s3_server.stop()
    for attempt in (lambda: mount.listdir("/"), lambda: b"".join(mount.read_file("a.txt")),
                    lambda: mount.put_file(io.BytesIO(b"y"), "b.txt"), lambda: mount.exists("a.txt")):
        with pytest.raises(StorageNetworkConnectionError) as info:  # the S3 location's own error map
            attempt()
        assert f"s3://{bucket}" in str(info.value)

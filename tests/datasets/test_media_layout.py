"""Media use the one blob layout (``media/ab/<62 hex>``) on every backend; the old remote one is still read.

Before, media were ``media/ab/<62 hex>`` on local disk and ``media/ab/<64 hex>``
elsewhere, so a dataset copied from a local folder to S3 or memory had image cells
raising StorageKeyNotFound. Datasets written that way by the previous release must
still open, copy and collect garbage correctly.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest

import lakelet
from lakelet.datasets import types
from lakelet.datasets.media import MediaLocation, blob_path
from lakelet.datasets.storage_io import Writer, parse_url
from lakelet.testing.locations import LocationTests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGES = [b"\x89PNG-one" * 100, b"\x89PNG-two" * 3000]
KEYS = [hashlib.sha256(i).hexdigest() for i in IMAGES]


def _dataset(url: str, creds: Any = None) -> None:
    ds = lakelet.create(url, creds=creds)
    ds.add_column("img", types.Image())
    ds.append([{"img": img} for img in IMAGES])
    ds.commit("images")


def _media_files(url: str, creds: Any = None) -> list[str]:
    paths = (m.path.removeprefix("media/") for m in Writer(parse_url(url, creds)).walk("media"))
    return sorted(p for p in paths if not p.startswith("."))


@pytest.mark.parametrize("kind", ["local", "memory", "s3"])
def test_every_backend_writes_the_one_layout(kind: str, tmp_path: Any, request: pytest.FixtureRequest) -> None:
    url, creds = _place(kind, tmp_path, request)
    _dataset(url, creds)
    assert _media_files(url, creds) == sorted(f"{k[:2]}/{k[2:]}" for k in KEYS)
    assert open_location_bytes(url, creds) == set(IMAGES)


def open_location_bytes(url: str, creds: Any) -> set[bytes]:
    """The media, read through the registry's location for the dataset's media folder (one layout)."""
    from lakelet.hashstore import HashKeyStorage
    from lakelet.registry import open_location

    options = {} if creds is None else dict(creds)
    storage = HashKeyStorage(open_location(f"{url}/media", **options))
    return {storage.read_bytes(k) for k in KEYS}


def _place(kind: str, tmp_path: Any, request: pytest.FixtureRequest) -> tuple[str, Any]:
    if kind == "local":
        return str(tmp_path / "ds"), None
    if kind == "memory":
        return f"memory://layout-{uuid.uuid4().hex[:10]}/ds", None
    server = request.getfixturevalue("s3_server")
    creds = server.creds
    return f"s3://{server.new_bucket()}/ds", creds


def _to_legacy_layout(url: str, creds: Any) -> None:
    """Rewrite the media as the previous release stored them on remote backends: ``media/ab/<64 hex>``."""
    writer = Writer(parse_url(url, creds))
    for key in KEYS:
        writer.set(f"media/{key[:2]}/{key}", writer.get(blob_path(key)))
        writer.remove(blob_path(key))


CHECK = """
import hashlib, json, sys, lakelet
url, creds, copy_to = json.loads(sys.argv[1])
ds = lakelet.open(url, creds=creds)
images = ds["img"][:]
copy = lakelet.copy(url, copy_to, src_creds=creds)
ds.append({"img": images[0]})  # deduplicated against the old-layout blob
ds.commit("again")
report = ds.gc(grace_period=0)
print(json.dumps({"images": [hashlib.sha256(i).hexdigest() for i in images],
                  "copied": [hashlib.sha256(i).hexdigest() for i in copy["img"][:]],
                  "deleted": list(report.deleted),
                  "after": [hashlib.sha256(i).hexdigest() for i in lakelet.open(url, creds=creds)["img"][:]]}))
"""


@pytest.mark.parametrize("kind", ["memory", "s3"])
def test_datasets_in_the_old_remote_media_layout_still_open(kind: str, tmp_path: Any,
                                                            request: pytest.FixtureRequest) -> None:
    url, creds = _place(kind, tmp_path, request)
    _dataset(url, creds)
    _to_legacy_layout(url, creds)
    assert _media_files(url, creds) == sorted(f"{k[:2]}/{k}" for k in KEYS)
    copy_to = str(tmp_path / "copy")
    if kind == "memory":  # lives in this process only
        namespace: dict[str, Any] = {}
        argv = sys.argv
        sys.argv = ["-c", json.dumps([url, creds, copy_to])]
        try:
            from contextlib import redirect_stdout
            from io import StringIO

            out = StringIO()
            with redirect_stdout(out):
                exec(CHECK, namespace)  # noqa: S102 - the same check as the fresh process runs
        finally:
            sys.argv = argv
        result = json.loads(out.getvalue())
    else:
        proc = subprocess.run([sys.executable, "-c", CHECK, json.dumps([url, creds, copy_to])], capture_output=True,
                              text=True, env=dict(os.environ, PYTHONPATH=REPO), timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout)
    assert result["images"] == KEYS and result["copied"] == KEYS
    assert result["after"] == [*KEYS, KEYS[0]]
    assert result["deleted"] == []  # gc recognises the old names as the referenced media
    # the copy is in the one layout
    assert _media_files(copy_to) == sorted(f"{k[:2]}/{k[2:]}" for k in KEYS)


class TestMediaLocationContract(LocationTests):
    """The media store of a remote (memory) dataset keeps the Location contract, both layouts included."""

    @pytest.fixture
    def location(self) -> MediaLocation:
        writer = Writer(parse_url(f"memory://contract-{uuid.uuid4().hex[:10]}/ds"))
        return MediaLocation(writer.subdir("media"))

    @pytest.fixture
    def raw_put(self, location: MediaLocation):  # type: ignore[no-untyped-def]
        return lambda key, data: location.media.set(f"{key[:2]}/{key[2:]}", data)

    @pytest.fixture
    def raw_get(self, location: MediaLocation):  # type: ignore[no-untyped-def]
        def get(key: str) -> bytes | None:
            path = f"{key[:2]}/{key[2:]}"
            return location.media.get(path) if location.media.exists(path) else None

        return get


class TestLocalMediaLocationContract(TestMediaLocationContract):
    """The same over a local dataset folder (a Disk plus the legacy fallback)."""

    @pytest.fixture
    def location(self, tmp_path: Any) -> MediaLocation:  # type: ignore[override]
        return MediaLocation(Writer(parse_url(str(tmp_path / "ds"))).subdir("media"))

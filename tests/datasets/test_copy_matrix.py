"""``lakelet.copy`` between every two of local, memory, S3, GCS, Azure and SFTP keeps everything.

One small dataset per backend (two commits on ``main``, a tag, a ``dev`` branch with
its own commit, three images, one of them stored again on ``dev``), written by this
code, is copied to every other backend. Each copy is then read back in a *fresh
process* (memory copies, which live in this process only, in this one): history,
tags, branches, and every row of every ref with the sha256 of its image bytes must
equal the source's. Against the real servers of ``lakelet.testing`` (moto, fake-gcs,
Azurite, sshd), shared for the session; the whole matrix runs one subprocess.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest

import lakelet
from lakelet.datasets import types

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKENDS = ["local", "memory", "s3", "gcs", "azure", "sftp"]
PAIRS = [(a, b) for a in BACKENDS for b in BACKENDS if a != b]


def _image(seed: int, size: int) -> bytes:
    """Deterministic bytes that look like a PNG (the layout cares about bytes, not pixels)."""
    body = b"".join(hashlib.sha256(f"{seed}-{i}".encode()).digest() for i in range(size // 32 + 1))
    return b"\x89PNG\r\n\x1a\n" + body[:size]


IMAGES = [_image(1, 3000), _image(2, 70_000), _image(3, 500)]


def summarize(url: str, creds: Any) -> dict[str, Any]:
    """Everything a copy must keep, as JSON: history, tags, branches, rows (+ image sha256) per ref."""
    import hashlib

    import lakelet

    ds = lakelet.open_read_only(url, creds=creds)
    out: dict[str, Any] = {
        "history": [[v.id, v.message] for v in ds.history],
        "tags": dict(sorted(ds.tags.items())),
        "branches": sorted(ds.branches),
        "rows": {},
    }
    handles = {"main": ds, "dev": lakelet.open_read_only(url, creds=creds, branch="dev")}
    handles.update({f"tag:{name}": lakelet.open_read_only(url, creds=creds, version=commit)
                    for name, commit in ds.tags.items()})
    for ref, handle in handles.items():
        numbers, images = handle["n"][:].tolist(), handle["img"][:]
        out["rows"][ref] = [[n, hashlib.sha256(img).hexdigest()] for n, img in zip(numbers, images, strict=True)]
    return out


def _build(url: str, creds: Any) -> None:
    ds = lakelet.create(url, creds=creds)
    ds.add_column("n", types.Int64())
    ds.add_column("img", types.Image())
    ds.append([{"n": 1, "img": IMAGES[0]}, {"n": 2, "img": IMAGES[1]}])
    first = ds.commit("two images")
    ds.tag("v1")
    ds.append({"n": 3, "img": IMAGES[2]})
    ds.commit("third image")
    ds.branch("dev", first)
    dev = lakelet.open(url, creds=creds, branch="dev")
    dev.append({"n": 4, "img": IMAGES[0]})  # the same bytes as row 1: deduplicated
    dev.commit("dev row")


def _places(request: pytest.FixtureRequest, tmp_path: Any) -> dict[str, tuple[str, Any]]:
    """backend -> (base URL, creds) of a fresh folder/bucket on each backend."""
    s3, gcs = request.getfixturevalue("s3_server"), request.getfixturevalue("gcs_server")
    azure, sftp = request.getfixturevalue("azure_server"), request.getfixturevalue("sftp_server")
    from adlfs import AzureBlobFileSystem

    container = f"copy{uuid.uuid4().hex[:12]}"
    AzureBlobFileSystem(connection_string=azure.connection_string, skip_instance_cache=True).mkdir(container)
    folder = sftp.root / f"copy-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    return {
        "local": (str(tmp_path / "local"), None),
        "memory": (f"memory://copy-{uuid.uuid4().hex[:10]}", None),
        "s3": (f"s3://{s3.new_bucket()}", s3.creds),
        "gcs": (f"gs://{gcs.new_bucket()}", {"endpoint_url": gcs.endpoint_url}),
        "azure": (f"az://{container}", {"azure_storage_connection_string": azure.connection_string}),
        "sftp": (f"sftp://{sftp.username}@{sftp.host}:{sftp.port}{folder}",
                 {"client_keys": str(sftp.client_key), "known_hosts": str(sftp.known_hosts)}),
    }


@pytest.fixture(scope="module")
def matrix(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[Any, Any]:
    """(src, dst) -> (the source's summary, the copy's summary read back)."""
    places = _places(request, tmp_path_factory.mktemp("copies"))
    expected = {}
    for kind, (base, creds) in places.items():
        _build(f"{base}/src", creds)
        expected[kind] = summarize(f"{base}/src", creds)
    copies = {}
    for src, dst in PAIRS:
        (src_base, src_creds), (dst_base, dst_creds) = places[src], places[dst]
        url = f"{dst_base}/from-{src}"
        lakelet.copy(f"{src_base}/src", url, src_creds=src_creds, dst_creds=dst_creds)
        copies[(src, dst)] = (url, dst_creds)
    got = {pair: summarize(*where) for pair, where in copies.items() if pair[1] == "memory"}
    remote = {f"{s}>{d}": where for (s, d), where in copies.items() if d != "memory"}
    code = "from typing import Any\n" + inspect.getsource(summarize) + (
        "import json, sys\n"
        "todo = json.loads(sys.stdin.read())\n"
        "print(json.dumps({pair: summarize(url, creds) for pair, (url, creds) in todo.items()}))\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-c", code], input=json.dumps(remote), capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    fresh = json.loads(proc.stdout)
    got.update({tuple(pair.split(">")): summary for pair, summary in fresh.items()})
    return {pair: (expected[pair[0]], got[pair]) for pair in PAIRS}


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_copy_keeps_versions_tags_branches_and_media(matrix: dict[Any, Any], src: str, dst: str) -> None:
    expected, got = matrix[(src, dst)]
    assert got == expected
    # and the source really has what the comparison is about
    image_hashes = {hashlib.sha256(img).hexdigest() for img in IMAGES}
    assert [m for _, m in expected["history"]] == ["third image", "two images", "created"]
    assert list(expected["tags"]) == ["v1"] and expected["branches"] == ["dev", "main"]
    assert {h for _, h in expected["rows"]["main"]} == image_hashes
    assert [n for n, _ in expected["rows"]["dev"]] == [1, 2, 4] and [n for n, _ in expected["rows"]["tag:v1"]] == [1, 2]

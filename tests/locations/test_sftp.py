"""SFTP and SCP against a real SFTP-only OpenSSH server: the contract plus SFTP specifics."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest

from lakelet.errors import InvalidArgument, StorageAccessDenied
from lakelet.locations.abc import Blob
from lakelet.locations.sftp import SCP, SFTP, from_url
from lakelet.testing.locations import LocationTests

pytest.importorskip("sshfs")


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def connect(server, root: Path, cls=SFTP, **kwargs) -> SFTP:
    return cls(
        server.host,
        str(root),
        port=server.port,
        username=server.username,
        client_keys=str(server.client_key),
        known_hosts=str(server.known_hosts),
        **kwargs,
    )


@pytest.fixture
def root(sftp_server) -> Path:
    """A fresh folder under the server's root; the server runs locally, so it is also a local path."""
    return Path(sftp_server.root) / uuid.uuid4().hex[:12]


def local_put(root: Path):
    def put(key: str, data: bytes) -> None:
        path = root / key[:2] / key[2:]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return put


def local_get(root: Path):
    def get(key: str) -> bytes | None:
        path = root / key[:2] / key[2:]
        return path.read_bytes() if path.exists() else None

    return get


class TestSFTPContract(LocationTests):
    @pytest.fixture
    def location(self, sftp_server, root):
        loc = connect(sftp_server, root)
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, root):
        return local_put(root)

    @pytest.fixture
    def raw_get(self, root):
        return local_get(root)


class TestSCPContract(TestSFTPContract):
    @pytest.fixture
    def location(self, sftp_server, root):
        loc = connect(sftp_server, root, SCP)
        yield loc
        loc.close()


@pytest.fixture
def loc(sftp_server, root):
    location = connect(sftp_server, root)
    yield location
    location.close()


def test_upload_leaves_no_temp_files(loc, root, tmp_path) -> None:
    src = tmp_path / "v.bin"
    src.write_bytes(os.urandom(300_000))
    loc.write(key_of(src.read_bytes()), Blob(path=src))
    loc.write(key_of(b"small"), Blob(data=b"small"))
    names = sorted(p.name for p in root.rglob("*") if p.is_file())
    assert all(len(n) == 62 for n in names) and len(names) == 2


def test_crashed_upload_is_ignored(loc, root) -> None:
    key = key_of(b"half")
    (root / key[:2]).mkdir(parents=True)
    (root / key[:2] / f".{key[2:]}.{uuid.uuid4().hex}.tmp").write_bytes(b"ha")
    assert list(loc.keys()) == []
    assert not loc.contains(key)
    assert loc.write(key, Blob(data=b"half"))
    assert loc.read_bytes(key) == b"half"


def test_read_bumps_mtime(loc, root) -> None:
    key = key_of(b"lru")
    loc.write(key, Blob(data=b"lru"))
    path = root / key[:2] / key[2:]
    os.utime(path, (1000, 1000))
    assert loc.info(key).last_access == 1000
    with loc.read(key) as f:
        assert f.read() == b"lru"
    assert path.stat().st_mtime > 1000
    os.utime(path, (1000, 1000))
    assert loc.touch(key)
    assert loc.info(key).last_access > 1000


def test_no_access_tracking(sftp_server, root) -> None:
    loc = connect(sftp_server, root, track_access=False)
    key = key_of(b"still")
    loc.write(key, Blob(data=b"still"))
    path = root / key[:2] / key[2:]
    os.utime(path, (1000, 1000))
    loc.read_bytes(key)
    assert loc.touch(key)
    assert path.stat().st_mtime == 1000
    loc.close()


def test_disk_folder_reads_over_sftp(sftp_server, root) -> None:
    from lakelet.locations.disk import Disk

    disk = Disk(root)
    key = key_of(b"shared")
    disk.write(key, Blob(data=b"shared"))
    loc = connect(sftp_server, root)
    assert list(loc.keys()) == [key]  # the layout marker and .tmp are ignored
    assert loc.read_bytes(key) == b"shared"
    loc.close()


def test_unknown_host_key_is_refused(sftp_server, root, tmp_path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    loc = SFTP(
        sftp_server.host, str(root), port=sftp_server.port, username=sftp_server.username,
        client_keys=str(sftp_server.client_key), known_hosts=str(empty),
    )
    with pytest.raises(StorageAccessDenied):
        loc.contains(key_of(b"x"))


def test_url_describe_and_from_url(sftp_server, root) -> None:
    loc = connect(sftp_server, root)
    assert loc.url == f"sftp://{sftp_server.username}@{sftp_server.host}:{sftp_server.port}{root}"
    assert loc.describe()["transport"] == "sftp"
    scp = connect(sftp_server, root, SCP)
    assert scp.url.startswith("scp://") and scp.describe()["kind"] == "scp"
    opened = from_url(
        f"{loc.url}?known_hosts={sftp_server.known_hosts}", client_keys=str(sftp_server.client_key)
    )
    assert type(opened) is SFTP and opened.url == loc.url
    assert opened.write(key_of(b"url"), Blob(data=b"url"))
    assert loc.read_bytes(key_of(b"url")) == b"url"
    assert type(from_url("scp://h/r", known_hosts=False)) is SCP
    for location in (loc, scp, opened):
        location.close()


@pytest.mark.parametrize("url", ["sftp://h", "sftp://h/", "http://h/r", "sftp:///r"])
def test_bad_urls(url) -> None:
    with pytest.raises(InvalidArgument):
        from_url(url)


@pytest.mark.parametrize(
    ("host", "root", "port"), [("", "/r", 22), ("h", "relative", 22), ("h", "/r", 0), ("h/x", "/r", 22)]
)
def test_bad_arguments(host, root, port) -> None:
    with pytest.raises(InvalidArgument):
        SFTP(host, root, port=port)

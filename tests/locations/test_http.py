"""Nginx (read-only, autoindex) against a real nginx: the contract plus HTTP specifics."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from lakelet.errors import InvalidArgument, ReadOnlyLocation
from lakelet.locations.abc import Blob
from lakelet.locations.http import Nginx, _parse_autoindex, from_url
from lakelet.testing.locations import LocationTests

pytest.importorskip("aiohttp")


def key_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def folder(http_server) -> Path:
    path = Path(http_server.root) / uuid.uuid4().hex[:12]
    path.mkdir(parents=True)
    return path


def drop(folder: Path, key: str, data: bytes) -> None:
    path = folder / key[:2] / key[2:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class TestNginxContract(LocationTests):
    read_only = True

    @pytest.fixture
    def location(self, http_server, folder):
        loc = Nginx(f"{http_server.url}{folder.name}/")
        yield loc
        loc.close()

    @pytest.fixture
    def raw_put(self, folder):
        return lambda key, data: drop(folder, key, data)

    @pytest.fixture
    def raw_put_record(self, folder):
        def put(name: str, data: bytes) -> None:
            path = folder / ".records" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        return put

    @pytest.fixture
    def raw_get(self, folder):
        def get(key: str) -> bytes | None:
            path = folder / key[:2] / key[2:]
            return path.read_bytes() if path.exists() else None

        return get


@pytest.fixture
def loc(http_server, folder):
    location = Nginx(f"{http_server.url}{folder.name}")  # no trailing slash: added
    yield location
    location.close()


def test_listing_ignores_foreign_files(loc, folder) -> None:
    key = key_of(b"v")
    drop(folder, key, b"v")
    (folder / "README.txt").write_text("hello")
    (folder / key[:2] / "notes.txt").write_text("x")
    (folder / "zz").mkdir()
    (folder / "zz" / ("0" * 62)).write_text("not hex folder")
    assert list(loc.keys()) == [key]
    (entry,) = loc.entries()
    assert entry.size == 1 and entry.last_access is not None


def test_writes_declined_deletes_refused(loc, folder) -> None:
    key = key_of(b"ro")
    assert loc.write(key, Blob(data=b"ro")) is False
    assert not (folder / key[:2]).exists()
    drop(folder, key, b"ro")
    with pytest.raises(ReadOnlyLocation):
        loc.delete(key)
    assert loc.touch(key) and not loc.touch(key_of(b"absent"))
    assert not loc.accepts(1)


def test_streams_large_values_with_ranges(loc, folder) -> None:
    data = bytes(range(256)) * 40_000
    key = key_of(data)
    drop(folder, key, data)
    with loc.read(key) as f:
        assert f.seekable()
        f.seek(1_000_000)
        assert f.read(4) == data[1_000_000:1_000_004]


def test_url_and_from_url(http_server, folder) -> None:
    url = f"{http_server.url}{folder.name}/"
    assert Nginx(url).url == url
    assert from_url(url).url == url
    assert from_url("nginx+" + url).url == url
    assert Nginx(url).describe()["writable"] is False


@pytest.mark.parametrize("url", ["ftp://h/x", "h/x", "", None])
def test_bad_urls(url) -> None:
    with pytest.raises(InvalidArgument):
        Nginx(url)


def test_parse_autoindex_formats() -> None:
    html = (
        b'<pre><a href="../">../</a>\n'
        b'<a href="ab/">ab/</a>        21-Nov-2026 13:59      -\n'
        b'<a href="' + b"c" * 62 + b'">ccc..&gt;</a> 21-Nov-2026 13:59     3\n'
        b'<a href="a%20b">a b</a> 21-Nov-2026 13:59     1K\n</pre>'
    )
    rows = {name: (is_dir, info["size"]) for name, is_dir, info in _parse_autoindex(html)}
    assert rows == {"ab": (True, None), "c" * 62: (False, 3), "a b": (False, None)}
    js = b'[{"name":"ab","type":"directory","mtime":"Sat, 21 Nov 2026 13:59:06 GMT"},' \
         b'{"name":"x","type":"file","size":5,"mtime":"Sat, 21 Nov 2026 13:59:06 GMT"}]'
    rows = list(_parse_autoindex(js))
    assert rows[0][:2] == ("ab", True) and rows[1][2]["size"] == 5 and rows[1][2]["mtime"] > 0

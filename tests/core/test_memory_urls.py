"""``memory://`` means one thing in every layer.

``memory://name/path`` is the folder ``/name/path`` of the process-wide in-memory
filesystem for locations, HashKeyStorage, datasets and their media alike; a bare
``memory://`` is a private store. Before, ``memory://name`` was a private store in
the location registry and fsspec's shared filesystem in datasets.
"""

from __future__ import annotations

import uuid

import fsspec
import pytest

import lakelet
from lakelet import HashKeyStorage
from lakelet.locations.memory import Memory
from lakelet.locations.memory_files import MemoryFiles
from lakelet.registry import open_location
from lakelet.testing.locations import LocationTests


def _name() -> str:
    return f"mem-{uuid.uuid4().hex[:12]}"


def test_named_memory_is_shared_and_bare_memory_is_private() -> None:
    name = _name()
    first, second = HashKeyStorage(f"memory://{name}"), HashKeyStorage(f"memory://{name}")
    key = first.write(b"shared by name")
    assert second.read_bytes(key) == b"shared by name"
    assert isinstance(first.location, MemoryFiles) and first.location.url == f"memory://{name}"
    assert fsspec.filesystem("memory").cat_file(f"/{name}/{key[:2]}/{key[2:]}") == b"shared by name"

    a, b = HashKeyStorage("memory://"), HashKeyStorage("memory://")
    assert isinstance(a.location, Memory)
    key = a.write(b"private")
    assert not b.contains(key)
    assert not a.location.durable and not first.location.durable  # process memory is not durable


def test_a_memory_dataset_and_a_memory_location_are_the_same_place() -> None:
    url = f"memory://{_name()}/ds"
    ds = lakelet.create(url)
    ds.add_column("img", lakelet.datasets.types.Image())
    ds.append({"img": b"\x89PNG-in-memory"})
    ds.commit("one")
    media = HashKeyStorage(f"{url}/media")
    assert [media.read_bytes(k) for k in media.keys()] == [b"\x89PNG-in-memory"]
    key = media.write(b"\x89PNG-added-through-the-location")
    assert lakelet.open(url).blobs.read_bytes(key) == b"\x89PNG-added-through-the-location"


def test_memory_url_options_and_bad_names() -> None:
    capped = open_location(f"memory://{_name()}", max_size=10)
    assert capped.describe()["max_size"] == 10
    with pytest.raises(lakelet.errors.InvalidArgument, match=r"\.\."):
        open_location("memory://a/../b")


class TestMemoryFiles(LocationTests):
    """The named memory location keeps the Location contract."""

    @pytest.fixture
    def location(self) -> MemoryFiles:
        return open_location(f"memory://{_name()}")  # type: ignore[return-value]

    @pytest.fixture
    def raw_put(self, location: MemoryFiles):  # type: ignore[no-untyped-def]
        return lambda key, data: location.fs.pipe_file(f"{location.root}/{key[:2]}/{key[2:]}", data)

    @pytest.fixture
    def raw_get(self, location: MemoryFiles):  # type: ignore[no-untyped-def]
        def get(key: str) -> bytes | None:
            path = f"{location.root}/{key[:2]}/{key[2:]}"
            return location.fs.cat_file(path) if location.fs.exists(path) else None

        return get

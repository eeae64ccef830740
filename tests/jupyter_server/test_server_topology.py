"""The JSON views without a server: ids, redaction, producers, evictions across composites."""

from __future__ import annotations

import pytest

from lakelet import topology
from lakelet.errors import InvalidArgument, PreconditionFailed, ReadOnlyLocation, StorageKeyNotFound
from lakelet.hashstore import HashKeyStorage
from lakelet.locations.fanout import Fanout
from lakelet.locations.levels import Level, Levels
from lakelet.locations.memory import Memory
from lakelet.locations.small import Small


@pytest.fixture
def lake() -> Levels:
    return Levels(Level(Small(Memory(name="hot"), max_size=100), name="hot"), Fanout(Memory(), Memory()))


def test_ids_address_every_node(lake):
    tree = topology.topology(lake)
    ids = [n["id"] for n in topology.walk_nodes(tree)]
    assert ids == ["0", "0.0", "0.0.0", "0.1", "0.1.0", "0.1.1"]
    for node_id in ids:
        assert topology.resolve(lake, node_id) is not None
    assert topology.resolve(lake, "0.1.1") is lake.children()[1].children()[1]
    assert tree["children"][0]["max_size"] == 100 and tree["children"][0]["level"]["name"] == "hot"
    assert tree["children"][1]["children"][0]["process_local"] is True


@pytest.mark.parametrize("bad", ["", "1", "0.", "0..1", "0.01", "0.a", "../0", "0/1", 0, None])
def test_malformed_ids_are_invalid(lake, bad):
    with pytest.raises(InvalidArgument):
        topology.resolve(lake, bad)


def test_missing_ids_are_not_found(lake):
    with pytest.raises(StorageKeyNotFound):
        topology.resolve(lake, "0.5")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:pw@host:6379/0", "redis://***@host:6379/0"),
        ("sftp://me:pw@host/x", "sftp://me:***@host/x"),
        ("sftp://me@host/x", "sftp://***@host/x"),
        ("https://h/x?sig=1", "https://h/x"),
        ("/a/local/path", "/a/local/path"),
    ],
)
def test_urls_are_redacted(url, shown):
    assert topology.redact_url(url) == shown


def test_listing_uses_the_producer_lookup_for_rows_and_filter(lake):
    storage = HashKeyStorage(lake)
    k1, k2 = storage.write(b"one"), storage.write(b"two")
    seen = []

    def lookup(keys):
        seen.append(sorted(keys))
        return {k1: {"kind": "cell", "name": "load_data", "role": "value", "variable": "df"}}

    page = topology.list_entries(lake, topology.EntryQuery(filter="LOAD"), lookup)
    assert seen == [sorted([k1, k2])]
    assert [e["key"] for e in page["entries"]] == [k1]
    assert page["entries"][0]["producer"]["name"] == "load_data"


def test_not_listable_tiers_say_so():
    class Hidden(Memory):
        listable = False

    with pytest.raises(InvalidArgument, match="cannot list"):
        topology.list_entries(Hidden(), topology.EntryQuery())


def test_evict_from_a_read_only_tier_is_refused():
    class Frozen(Memory):
        writable = False

    lake = Levels(Frozen(), Memory())
    with pytest.raises(ReadOnlyLocation):
        topology.evict(lake, "0.0", ["a" * 64])


def test_evict_in_a_fanout_member_needs_force_for_only_copies(lake):
    storage = HashKeyStorage(lake)
    key = storage.write(b"z" * 500)  # too big for the Small top level: lands in the Fanout
    with pytest.raises(PreconditionFailed):
        topology.evict(lake, "0.1.0", [key])
    assert topology.evict(lake, "0.1", [key], force=True)["removed"] == 1
    assert key not in storage


def test_query_validation():
    assert topology.EntryQuery.from_params({"order": "asc", "limit": "5"}) == topology.EntryQuery(
        limit=5, descending=False
    )
    with pytest.raises(InvalidArgument):
        topology.EntryQuery(filter="x" * 201)
    with pytest.raises(InvalidArgument):
        topology.EntryQuery(limit=True)


def test_cache_entries_are_linked_to_the_function_that_made_them(tmp_path, monkeypatch):
    np = pytest.importorskip("numpy")
    from lakelet.cache import smart_cache
    from lakelet.config import config_set
    from lakelet.jupyter.server import LakeProvider

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(f'[lake]\npath = "{home / "lake"}"\n')
    monkeypatch.setenv("LAKELET_HOME", str(home))
    monkeypatch.delenv("LAKELET_CACHE_KEY", raising=False)

    @smart_cache
    def make_range(n):
        return np.arange(n)

    with config_set(home=home, cache_key=None):
        make_range(300_000)  # big enough to be stored as its own blob, not inline in the entry
    snapshot = LakeProvider().snapshot()
    page = topology.list_entries(snapshot.storage.location, topology.EntryQuery(sort="size"), snapshot.producers)
    producers = [e["producer"] for e in page["entries"]]
    assert all(p is not None and p["name"].endswith("make_range") for p in producers)
    assert [p["role"] for p in producers] == ["value"]  # the entry is a named record, not a value
    assert producers[0]["variable"] == "result"
    only_mine = topology.list_entries(snapshot.storage.location, topology.EntryQuery(filter="make_RANGE"),
                                      snapshot.producers)
    assert only_mine["total"] == 1

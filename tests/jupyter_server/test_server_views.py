"""The sidebar's views of an environment (volumes, dicts, queues, datasets, cache) through a real
jupyter_server, the kernel's-home parameter, and a hung tier (a SIGSTOPped redis-server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from lakelet.config import config_set


async def get_json(jp_fetch, *parts, params=None):
    response = await jp_fetch("lakelet", "api", *parts, params=params or {})
    return json.loads(response.body)


async def error_of(jp_fetch, *parts, params=None) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("lakelet", "api", *parts, params=params or {})
    return info.value.code, json.loads(info.value.response.body)


@pytest.fixture
def filled_home(lake_home: Path) -> Path:
    """lake_home plus a volume, a dict, a queue and a dataset with two versions."""
    import lakelet as L
    from lakelet.datasets import types
    from lakelet.primitives import Dict, Queue, Volume

    with config_set(home=lake_home):
        vol = Volume.from_name("photos", create_if_missing=True)
        with vol.batch_upload() as batch:
            batch.put_file(__file__, "/2024/jan/notes.py")
            batch.put_file(__file__, "/readme.py")
        d = Dict.from_name("stations", create_if_missing=True)
        for i in range(30):
            d[f"k{i:02d}"] = f"v{i}"
        q = Queue.from_name("jobs", create_if_missing=True)
        q.put_many([{"job": i} for i in range(5)])
        ds = L.create(str(lake_home / "datasets" / "sales"), schema={"n": types.Int64(), "city": types.Text()})
        ds.append({"n": [1, 2], "city": ["a", "b"]})
        ds.commit("first")
        ds.append({"n": [3], "city": ["c"]})
        ds.commit("second")
    return lake_home


async def test_named_objects_are_listed_and_browsed(jp_fetch, filled_home):
    for kind, name in (("volume", "photos"), ("dict", "stations"), ("queue", "jobs")):
        page = await get_json(jp_fetch, "objects", kind)
        assert [item["name"] for item in page["items"]] == [name] and page["total"] == 1

    root = await get_json(jp_fetch, "volumes", "photos")
    assert [(i["name"], i["type"]) for i in root["items"]] == [("2024", "directory"), ("readme.py", "file")]
    assert root["items"][1]["size"] == Path(__file__).stat().st_size
    deep = await get_json(jp_fetch, "volumes", "photos", params={"path": "/2024/jan"})
    assert [i["name"] for i in deep["items"]] == ["notes.py"]

    first = await get_json(jp_fetch, "dicts", "stations", params={"limit": "10"})
    assert first["total"] == 30 and len(first["items"]) == 10
    second = await get_json(jp_fetch, "dicts", "stations", params={"offset": "25", "limit": "10"})
    assert len(second["items"]) == 5
    assert {"key": "'k00'", "value": "'v0'"} in first["items"] + second["items"]

    queue = await get_json(jp_fetch, "queues", "jobs", params={"n": "2"})
    assert (queue["length"], queue["head"]) == (5, ["{'job': 0}", "{'job': 1}"])
    again = await get_json(jp_fetch, "queues", "jobs")
    assert again["length"] == 5  # looking took nothing out

    code, body = await error_of(jp_fetch, "dicts", "nope")
    assert code == 404 and "nope" in body["message"]
    code, body = await error_of(jp_fetch, "objects", "secrets")
    assert code == 400


async def test_datasets_show_versions_and_schema(jp_fetch, filled_home):
    listing = await get_json(jp_fetch, "datasets")
    assert listing["items"] == [{"name": "sales", "path": str(filled_home / "datasets" / "sales")}]
    one = await get_json(jp_fetch, "datasets", params={"path": listing["items"][0]["path"]})
    assert [c["name"] for c in one["schema"]] == ["n", "city"]
    assert [c["indexes"] for c in one["schema"]] == [[], []]
    assert [v["message"] for v in one["versions"]] == ["second", "first", "created"]
    assert [v["rows"] for v in one["versions"]] == [3, 2, 0] and one["rows"] == 3
    code, _ = await error_of(jp_fetch, "datasets", params={"path": "/etc"})
    assert code == 404


def _run_cached_calls(home: Path) -> None:
    """A fresh interpreter (a kernel) calls a cached function: 2 misses, 3 hits."""
    code = textwrap.dedent(
        """
        from lakelet.cache import smart_cache
        @smart_cache
        def area(w, h):
            return [w * h] * 3
        for args in [(2, 3), (2, 3), (4, 5), (4, 5), (4, 5)]:
            area(*args)
        """
    )
    env = dict(os.environ, LAKELET_HOME=str(home))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)


async def test_cache_groups_count_hits_misses_and_explain_the_last_miss(jp_fetch, lake_home):
    _run_cached_calls(lake_home)
    reply = await get_json(jp_fetch, "cache")
    (group,) = reply["items"]
    assert group["name"].endswith("area") and group["kind"] == "function"
    assert (group["entries"], group["misses"], group["hits"]) == (2, 2, 3)
    assert group["arguments"] == "args: h, w"
    assert "changed: argument h" in group["why"] and "changed: argument w" in group["why"]
    detail = await get_json(jp_fetch, "cache", params={"kind": "function", "name": group["name"]})
    assert len(detail["history"]) == 2
    assert detail["preview"].startswith("result: [20, 20, 20]")  # plain data is shown, never unpickled code


async def test_the_kernels_home_is_shown_when_asked(jp_fetch, lake_home, tmp_path):
    other = tmp_path / "kernel-home"
    other.mkdir()
    _run_cached_calls(other)
    server = await get_json(jp_fetch, "cache")
    kernel = await get_json(jp_fetch, "cache", params={"home": str(other)})
    assert server["total"] == 0 and kernel["total"] == 1
    tree = await get_json(jp_fetch, "topology", params={"home": str(other)})
    assert (tree["home"], tree["source"]) == (str(other), "kernel")
    code, body = await error_of(jp_fetch, "topology", params={"home": "relative/path"})
    assert code == 400 and "absolute" in body["message"]
    code, body = await error_of(jp_fetch, "topology", params={"home": str(tmp_path / "missing")})
    assert code == 400 and not (tmp_path / "missing").exists()


@pytest.fixture
def hung_lake(lake_home: Path, private_redis_server, monkeypatch):
    """Levels(redis, disk) where the redis-server is stopped (SIGSTOP) during the test."""
    disk = lake_home / "below"
    (lake_home / "config.toml").write_text(
        "[lake]\nlevels = [\n"
        f"  {{ level = {json.dumps(private_redis_server.url)}, name = \"redis\" }},\n"
        f"  {{ level = {json.dumps(str(disk))}, name = \"disk\" }},\n"
        "]\n"
    )
    from lakelet.hashstore import HashKeyStorage

    with HashKeyStorage(disk) as s:
        s.write(b"on the healthy disk")
    os.kill(private_redis_server.pid, signal.SIGSTOP)
    try:
        yield lake_home
    finally:
        os.kill(private_redis_server.pid, signal.SIGCONT)


@pytest.fixture
def jp_server_config(jp_server_config, monkeypatch):
    monkeypatch.setenv("LAKELET_SERVER_DEADLINE", "1.5")
    return jp_server_config


async def test_a_hung_tier_is_reported_and_the_disk_tier_still_answers(jp_fetch, hung_lake):
    tree = await get_json(jp_fetch, "topology")
    redis, disk = tree["lake"]["children"]
    assert redis.get("hung") is True and "did not answer within 1.5 s" in redis["usage_error"]
    assert disk["usage"]["entries"] == 1 and "hung" not in disk
    for _ in range(3):  # repeated requests to the hung tier share its one stuck call
        code, body = await error_of(jp_fetch, "tiers", "0.0")
        # 504: our deadline passed; 502: the redis client's own socket timeout fired first
        assert code in (502, 504), body
    page = await get_json(jp_fetch, "tiers", "0.1")  # the healthy disk tier still lists
    assert page["total"] == 1


async def test_looking_at_an_environment_creates_nothing(jp_fetch, lake_home):
    before = sorted(p.relative_to(lake_home) for p in lake_home.rglob("*"))
    for kind in ("volume", "dict", "queue"):
        assert (await get_json(jp_fetch, "objects", kind))["total"] == 0
    assert (await get_json(jp_fetch, "datasets"))["total"] == 0
    assert (await get_json(jp_fetch, "cache"))["total"] == 0
    assert sorted(p.relative_to(lake_home) for p in lake_home.rglob("*")) == before




async def test_evict_check_names_only_copies_and_removes_nothing(jp_fetch, lake_home, fast_values):
    import hashlib

    shared, only = (hashlib.sha256(v).hexdigest() for v in fast_values[:2])
    response = await jp_fetch(
        "lakelet", "api", "tiers", "0.0", "evict", method="POST",
        body=json.dumps({"keys": [shared, only], "check": True}),
    )
    assert json.loads(response.body) == {"id": "0.0", "only_copies": [only]}
    page = await get_json(jp_fetch, "tiers", "0.0")
    assert {shared, only} <= {e["key"] for e in page["entries"]}


async def test_looking_at_a_lake_folder_never_writes_into_it(jp_fetch, lake_home, tmp_path):
    """Issue 15.5: GETs of the tree and of a tier listing create no marker, .tmp or folder."""
    fresh, existing = tmp_path / "not-yet-a-lake", tmp_path / "someone-elses-folder"
    existing.mkdir()
    (existing / "notes.txt").write_text("not lakelet's")
    (lake_home / "config.toml").write_text(
        f"[lake]\nlevels = [{{ level = {json.dumps(str(existing))} }}, {{ level = {json.dumps(str(fresh))} }}]\n"
    )
    tree = await get_json(jp_fetch, "topology")
    assert [c["usage"]["entries"] for c in tree["lake"]["children"]] == [0, 0]
    for node_id in ("0", "0.0", "0.1"):
        assert (await get_json(jp_fetch, "tiers", node_id))["total"] == 0
    assert not fresh.exists()
    assert sorted(p.name for p in existing.iterdir()) == ["notes.txt"]


async def test_a_deleted_lakelet_home_is_reported_not_recreated(jp_fetch, lake_home, tmp_path, monkeypatch):
    gone = tmp_path / "deleted-home"
    monkeypatch.setenv("LAKELET_HOME", str(gone))
    tree = await get_json(jp_fetch, "topology")
    assert (tree["home"], tree["home_exists"]) == (str(gone), False)
    assert (await get_json(jp_fetch, "tiers", "0"))["total"] == 0
    assert not gone.exists()


async def test_a_dataset_summary_names_its_search_indexes(jp_fetch, filled_home):
    pytest.importorskip("tantivy")
    from lakelet import datasets

    path = str(filled_home / "datasets" / "sales")
    ds = datasets.open(path)
    ds["city"].create_index("bm25")
    one = await get_json(jp_fetch, "datasets", params={"path": path})
    assert [c["indexes"] for c in one["schema"]] == [[], ["bm25"]]
    ds.append({"n": [4], "city": ["d"]})
    ds.commit("third")  # the index was built for other data now
    one = await get_json(jp_fetch, "datasets", params={"path": path})
    assert one["schema"][1]["indexes"] == ["bm25 (built for other data: queries run exact)"]

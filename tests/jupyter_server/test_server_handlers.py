"""The lakelet REST API through a real jupyter_server (pytest-jupyter), against a real disk lake."""

from __future__ import annotations

import hashlib
import json

import pytest
from tornado.httpclient import HTTPClientError

# the values the lake_home fixture (conftest.py) writes
FAST_VALUES = [b"x" * n for n in (10, 300, 20)]
SLOW_VALUES = [b"y" * n for n in (5, 4000)]


def key_of(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


async def get_json(jp_fetch, *parts, **kwargs):
    response = await jp_fetch("lakelet", "api", *parts, **kwargs)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def error_of(jp_fetch, *parts, **kwargs) -> tuple[int, dict]:
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("lakelet", "api", *parts, **kwargs)
    body = info.value.response.body
    return info.value.code, json.loads(body)


async def test_version_handshake(jp_fetch, lake_home):
    from lakelet import __version__

    assert await get_json(jp_fetch, "version") == {"version": __version__, "api": 2}


async def test_topology_describes_the_configured_levels(jp_fetch, lake_home):
    reply = await get_json(jp_fetch, "topology")
    assert reply["home"] == str(lake_home)
    lake = reply["lake"]
    assert (lake["id"], lake["kind"], lake["writable"]) == ("0", "levels", True)
    fast, slow = lake["children"]
    assert (fast["id"], fast["kind"], fast["url"]) == ("0.0", "disk", str(lake_home / "fast"))
    assert fast["level"] == {"write": True, "replicate": True, "name": "fast"}
    assert fast["usage"] == {"bytes": sum(map(len, FAST_VALUES)), "entries": 3, "capacity": None}
    assert slow["usage"]["entries"] == 3
    assert lake["usage"]["entries"] == 5  # the value held by both tiers counts once
    assert fast["children"] == [] and fast["process_local"] is False


async def test_topology_without_usage(jp_fetch, lake_home):
    lake = (await get_json(jp_fetch, "topology", params={"usage": "0"}))["lake"]
    assert lake["usage"] is None and lake["children"][0]["usage"] is None


async def test_tier_listing_is_sorted_and_paged(jp_fetch, lake_home):
    page = await get_json(jp_fetch, "tiers", "0.0", params={"sort": "size", "order": "asc", "limit": "2"})
    assert (page["id"], page["kind"], page["total"], page["offset"], page["limit"]) == ("0.0", "disk", 3, 0, 2)
    assert [e["size"] for e in page["entries"]] == [10, 20]
    page2 = await get_json(
        jp_fetch, "tiers", "0.0", params={"sort": "size", "order": "asc", "limit": "2", "offset": "2"}
    )
    assert [e["size"] for e in page2["entries"]] == [300]
    assert page2["entries"][0]["key"] == key_of(FAST_VALUES[1])
    by_access = await get_json(jp_fetch, "tiers", "0.0", params={"sort": "last_access", "order": "asc"})
    assert by_access["entries"][0]["size"] == 300  # its mtime was set far in the past
    assert by_access["entries"][0]["last_access"] == 1000


async def test_jupyterlab_cache_busters_are_ignored(jp_fetch, lake_home):
    page = await get_json(jp_fetch, "tiers", "0.0", params={"1795270147776": "", "limit": "1"})
    assert page["limit"] == 1 and len(page["entries"]) == 1


async def test_tier_listing_filters_by_key(jp_fetch, lake_home):
    key = key_of(SLOW_VALUES[1])
    page = await get_json(jp_fetch, "tiers", "0.1", params={"filter": key[:10]})
    assert page["total"] == 1 and page["entries"][0]["key"] == key
    assert page["entries"][0]["producer"] is None


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "abc"}, "offset"),
        ({"sort": "name"}, "sort"),
        ({"order": "up"}, "order"),
        ({"colour": "red"}, "unknown parameters"),
    ],
)
async def test_bad_listing_parameters_are_json_400s(jp_fetch, lake_home, params, needle):
    code, body = await error_of(jp_fetch, "tiers", "0.0", params=params)
    assert code == 400
    assert needle in body["message"] and body["error"] == "InvalidArgument"
    assert "Traceback" not in json.dumps(body)


@pytest.mark.parametrize("node_id", ["0.7", "0.0.0", "1", "..", "0.-1", "%2Fetc%2Fpasswd", "~root"])
async def test_ids_outside_the_configured_lake_are_refused(jp_fetch, lake_home, node_id):
    code, body = await error_of(jp_fetch, "tiers", node_id)
    assert code in (400, 404)
    assert body["error"] in ("InvalidArgument", "StorageKeyNotFound", "HTTPError")
    assert "Traceback" not in json.dumps(body)


async def test_requests_without_a_token_are_refused(jp_fetch, lake_home):
    for parts in (("topology",), ("tiers", "0.0"), ("version",)):
        code, _ = await error_of(jp_fetch, *parts, headers={"Authorization": ""})
        assert code == 403
    code, _ = await error_of(
        jp_fetch, "tiers", "0.0", "clear", method="POST", body="{}", headers={"Authorization": ""}
    )
    assert code == 403
    assert (lake_home / "fast" / key_of(FAST_VALUES[0])[:2]).is_dir()  # nothing was cleared


async def test_evict_removes_cache_copies_but_keeps_only_copies(jp_fetch, lake_home):
    shared, only = key_of(FAST_VALUES[0]), key_of(FAST_VALUES[1])
    code, body = await error_of(
        jp_fetch, "tiers", "0.0", "evict", method="POST", body=json.dumps({"keys": [shared, only]})
    )
    assert code == 409 and "no other copy" in body["message"]
    reply = await get_json(jp_fetch, "tiers", "0.0", "evict", method="POST", body=json.dumps({"keys": [shared]}))
    assert reply == {"id": "0.0", "removed": 1, "bytes": len(FAST_VALUES[0])}
    page = await get_json(jp_fetch, "tiers", "0.0")
    assert shared not in {e["key"] for e in page["entries"]} and page["total"] == 2
    forced = await get_json(
        jp_fetch, "tiers", "0.0", "evict", method="POST", body=json.dumps({"keys": [only], "force": True})
    )
    assert forced["removed"] == 1


async def test_clear_keeps_only_copies_unless_forced(jp_fetch, lake_home):
    reply = await get_json(jp_fetch, "tiers", "0.0", "clear", method="POST", body="{}")
    assert (reply["removed"], reply["kept"]) == (1, 2)
    code, body = await error_of(jp_fetch, "tiers", "0", "clear", method="POST", body="{}")
    assert code == 409 and "force" in body["message"]


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"keys": ["abc"]}', '{"keys": []}', '{"keys": ["' + "A" * 64 + '"]}',
     '{"keys": ["' + "a" * 64 + '"], "force": "yes"}', '{"keys": ["' + "a" * 64 + '"], "extra": 1}'],
)
async def test_bad_evict_bodies_are_json_400s(jp_fetch, lake_home, body):
    code, reply = await error_of(jp_fetch, "tiers", "0.0", "evict", method="POST", body=body)
    assert code == 400 and reply["error"] == "InvalidArgument"


async def test_a_broken_config_is_a_json_error(jp_fetch, lake_home):
    (lake_home / "config.toml").write_text("[lake\n")
    code, body = await error_of(jp_fetch, "topology")
    assert code == 400 and "cannot parse" in body["message"]


async def test_unexpected_errors_are_500s_without_details(jp_fetch, lake_home, jp_serverapp, monkeypatch):
    provider = jp_serverapp.web_app.settings["lakelet_provider"]

    def explode():
        raise RuntimeError("secret internals")

    monkeypatch.setattr(provider, "snapshot", explode)
    code, body = await error_of(jp_fetch, "topology")
    assert code == 500
    assert "secret" not in json.dumps(body) and body["error"] == "InternalError"


async def test_config_changes_show_up_without_a_restart(jp_fetch, lake_home, tmp_path):
    other = tmp_path / "other-lake"
    (lake_home / "config.toml").write_text(f"[lake]\npath = {json.dumps(str(other))}\n")
    lake = (await get_json(jp_fetch, "topology"))["lake"]
    assert (lake["kind"], lake["url"], lake["children"]) == ("disk", str(other), [])


async def test_tier_listing_grouped_by_cache_entry_in_the_kernels_home(jp_fetch, lake_home):
    """The sidebar's request: ``group=entry`` with the kernel's ``home`` (which every route takes)."""
    from lakelet import smart_cache
    from lakelet.config import config_set

    with config_set(home=lake_home, cache_key=None):

        @smart_cache
        def blob(n):
            return bytes(n)  # a stored value of its own

        blob(50_000)
        from lakelet.cache import flush

        flush()
    page = await get_json(jp_fetch, "tiers", "0", params={"group": "entry", "home": str(lake_home)})
    (row,) = [e for e in page["entries"] if e["producer"]]
    group = page["groups"][row["group"]]
    assert row["group"] == row["producer"]["entry"] != row["key"]
    assert (group["kind"], group["count"], group["size"]) == ("function", 1, row["size"])
    assert group["name"].endswith(".blob") and group["created"] is not None
    plain = [e for e in page["entries"] if not e["producer"]]
    assert all(page["groups"][e["group"]]["entry"] is None for e in plain) and len(plain) == 5
    with pytest.raises(HTTPClientError) as e:
        await get_json(jp_fetch, "tiers", "0", params={"group": "bogus"})
    assert e.value.code == 400

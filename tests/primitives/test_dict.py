"""Dict contract suite, on the embedded and the shared backend."""

from __future__ import annotations

import asyncio
import time

import pytest

from lakelet.errors import InvalidArgument, InvalidName
from lakelet.primitives import Dict, NotFoundError, SizeLimitExceeded, codec


def test_mapping_surface(lake):
    d = Dict.from_name("conf", create_if_missing=True)
    d["a"] = 1
    d.put("b", {"x": [1, 2]})
    d[("tuple", 3)] = "t"
    assert d["a"] == 1 and d.get("b") == {"x": [1, 2]} and d[("tuple", 3)] == "t"
    assert d.get("missing") is None and d.get("missing", 7) == 7
    with pytest.raises(KeyError):
        d["missing"]
    assert "a" in d and d.contains("b") and "zz" not in d
    assert len(d) == 3 == d.len()
    d.update({"c": 3}, e=5)
    assert sorted(map(str, d.keys())) == sorted(map(str, ["a", "b", ("tuple", 3), "c", "e"]))
    assert dict(d.items())["c"] == 3 and 5 in d.values()
    assert d.pop("a") == 1 and d.pop("a", "gone") == "gone"
    with pytest.raises(KeyError):
        d.pop("a")
    del d["c"]
    with pytest.raises(KeyError):
        del d["c"]
    assert set(map(str, d.iterate_keys())) == set(map(str, ["b", ("tuple", 3), "e"]))
    d.clear()
    assert len(d) == 0 and d.items() == []


def test_values_are_cloudpickled(lake):
    d = Dict.from_name("fn", create_if_missing=True)
    d["f"] = lambda x: x * 2
    assert Dict.from_name("fn")["f"](21) == 42


def test_ttl_and_default_ttl(lake):
    d = Dict.from_name("ttl", create_if_missing=True)
    d.put("short", 1, ttl=0.3)
    d.put("long", 2)
    assert len(d) == 2
    time.sleep(0.45)
    assert "short" not in d and d.get("short") is None and len(d) == 1 and d.keys() == ["long"]
    assert d.put("short", 3, skip_if_exists=True)  # an expired entry counts as missing
    with pytest.raises(InvalidArgument):
        d.put("k", 1, ttl=0)
    e = Dict.from_name("ttl2", create_if_missing=True, default_ttl=0.3)
    e["x"] = 1
    assert e["x"] == 1
    time.sleep(0.45)
    assert "x" not in e and len(e) == 0


def test_skip_if_exists_is_atomic_across_processes(lake):
    Dict.from_name("locks", create_if_missing=True)
    code = """
        from lakelet.primitives import Dict
        d = Dict.from_name("locks")
        print(sum(d.put(f"k{i}", "me", skip_if_exists=True) for i in range(200)))
    """
    procs = [lake.popen(code) for _ in range(3)]
    wins = []
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        wins.append(int(out))
    assert sum(wins) == 200
    assert len(Dict.from_name("locks")) == 200


def test_size_limits_are_explicit(lake, monkeypatch):
    d = Dict.from_name("big", create_if_missing=True)
    monkeypatch.setattr(codec, "MAX_VALUE_SIZE", 1000)
    with pytest.raises(SizeLimitExceeded, match="limit is 1,000 bytes"):
        d["v"] = b"x" * 2000
    with pytest.raises(SizeLimitExceeded, match="MAX_KEY_SIZE"):
        d["k" * (codec.MAX_KEY_SIZE + 1)] = 1


def test_lifecycle_and_names(lake):
    with pytest.raises(NotFoundError, match="create_if_missing"):
        Dict.from_name("nope")
    for bad in ["", "a/b", "x" * 65, "sp ace", "..", "é"]:
        with pytest.raises(InvalidName):
            Dict.from_name(bad, create_if_missing=True)
    d = Dict.persist("life")
    d["k"] = 1
    info = d.info()
    assert info.name == "life" and info.created_at.year >= 2024 and info.environment_name == "main"
    assert [x.name for x in Dict.objects.list()] == ["life"]
    Dict.objects.delete("life")
    with pytest.raises(NotFoundError):
        Dict.objects.delete("life")
    Dict.objects.delete("life", allow_missing=True)
    assert "k" not in Dict.persist("life")  # a re-created dict starts empty
    with Dict.ephemeral() as tmp:
        tmp["x"] = 1
        name = tmp.name
        assert tmp["x"] == 1
    assert name not in [x.name for x in Dict.objects.list(include_ephemeral=True)]


def test_environments_are_separate_namespaces(lake):
    a = Dict.from_name("same", create_if_missing=True)
    b = Dict.from_name("same", environment_name="other", create_if_missing=True)
    a["k"] = "main"
    b["k"] = "other"
    assert Dict.from_name("same")["k"] == "main"
    assert Dict.from_name("same", environment_name="other")["k"] == "other"
    with pytest.raises(InvalidName):
        Dict.from_name("x", environment_name="bad/env")


def test_aio_twins_inside_a_running_loop(lake):
    d = Dict.from_name("aio", create_if_missing=True)

    async def main():
        d["blocking-inside-loop"] = 1  # blocking calls work in a running loop (Jupyter)
        await d.put.aio("k", "v")
        got = await d.get.aio("k")
        keys = [k async for k in d.iterate_keys.aio()]
        other = await Dict.from_name.aio("aio")
        return got, sorted(keys), await other.len.aio()

    assert asyncio.run(main()) == ("v", ["blocking-inside-loop", "k"], 2)

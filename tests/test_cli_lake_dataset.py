"""``lakelet lake ...`` and ``lakelet dataset ...``, run in-process against a temporary LAKELET_HOME."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lakelet import cli, datasets
from lakelet.config import config_set
from lakelet.hashstore import HashKeyStorage


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def ok_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Levels(disk cache level that is never written to directly, disk) with two smart_cache results.

    The slow level holds every value (the cache entries themselves are named records, not values);
    the cache level holds copies of the values read back.
    """
    from lakelet.cache import smart_cache

    home = tmp_path / "home"
    home.mkdir()
    fast, slow = home / "fast", home / "slow"
    (home / "config.toml").write_text(
        f'[lake]\nlevels = [\n  {{ level = "{fast}", name = "fast", write = false }},\n'
        f'  {{ level = "{slow}", name = "slow" }},\n]\n'
    )
    monkeypatch.setenv("LAKELET_HOME", str(home))
    monkeypatch.delenv("LAKELET_CACHE_KEY", raising=False)

    @smart_cache
    def make_blob(n):
        return bytes(n)  # big enough to be stored as its own blob, not inline in the entry

    with config_set(home=home, cache_key=None):
        make_blob(200_000)
        make_blob(200_000)  # a hit: read through the levels, so copied up into the cache level
        yield home


def test_lake_info_tree_and_json(home, capsys):
    tree = ok_json(capsys, "lake", "info")
    assert tree["id"] == "0" and tree["kind"] == "levels" and not tree["cache_level"]
    fast, slow = tree["children"]
    assert (fast["id"], fast["kind"], fast["url"], fast["cache_level"]) == ("0.0", "disk", str(home / "fast"), True)
    assert (slow["id"], slow["cache_level"]) == ("0.1", False)
    assert slow["usage"]["entries"] == 1 and slow["usage"]["bytes"] >= 200_000
    assert fast["usage"]["entries"] >= 1 and tree["usage"]["entries"] >= 1
    code, out, _ = run(capsys, "lake", "info")
    assert code == 0
    assert "0.0 'fast' disk" in out and "[cache]" in out and str(home / "slow") in out


def test_lake_ls_sort_filter_limit_producers(home, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # rich tables: no wrapped cells
    page = ok_json(capsys, "lake", "ls", "0.1", "--sort", "size")
    assert page["total"] == 1 and page["sort"] == "size"  # the entry is a named record, not a value
    (value,) = page["entries"]
    assert value["size"] >= 200_000
    assert value["producer"]["name"].endswith("make_blob") and value["producer"]["role"] == "value"
    assert ok_json(capsys, "lake", "ls", "0.1", "--limit", "1", "--sort", "size", "--asc")["entries"][0] == value
    assert ok_json(capsys, "lake", "ls", "0.1", "--filter", "MAKE_blob")["total"] == 1
    assert ok_json(capsys, "lake", "ls", "0.1", "--filter", "nothing-matches")["total"] == 0
    code, out, _ = run(capsys, "lake", "ls", "0.1", "--flat")
    assert code == 0 and "make_blob (result)" in out and "1 of 1 entries in tier 0.1" in out
    # grouped (the default): the cache entry as an entry, its value under it
    assert value["group"] == value["producer"]["entry"] and page["groups"][value["group"]]["count"] == 1
    code, out, _ = run(capsys, "lake", "ls", "0.1")
    head, row = out.splitlines()[:2]
    assert code == 0 and head.startswith("function ") and "make_blob · entry " in head and "computed 20" in head
    assert row.split()[:2] == ["result", value["key"][:16]]
    assert "1 of 1 values (1 cache entry shown) in tier 0.1" in out

    code, _, err = run(capsys, "lake", "ls", "0.7")
    assert code == 1 and err.startswith("lakelet: error:") and "no tier '0.7'" in err
    code, _, err = run(capsys, "lake", "ls", "../etc")
    assert code == 1 and "not a tier id" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "lake", "ls", "0", "--limit", "5000")
    assert code == 1 and "limit" in err


def test_lake_gc_only_evicts_cache_copies(home, capsys):
    cached = ok_json(capsys, "lake", "ls", "0.0")["total"]
    assert cached >= 1
    code, _, err = run(capsys, "lake", "gc", "--max-size", "lots")
    assert code == 1 and err.startswith("lakelet: error:")
    nothing = ok_json(capsys, "lake", "gc", "--max-size", "1 GiB")
    assert (nothing["evicted"], nothing["bytes"]) == (0, 0)
    assert nothing["why"].startswith("every cache level is already within 1.0 GiB")
    report = ok_json(capsys, "lake", "gc", "--max-size", "0")
    assert report["evicted"] == cached and report["bytes"] > 0
    tree = ok_json(capsys, "lake", "info")
    assert tree["children"][0]["usage"]["entries"] == 0
    assert tree["children"][1]["usage"]["entries"] == 1  # the authoritative level is never touched
    code, out, _ = run(capsys, "lake", "gc", "--max-age", "0")
    assert code == 0 and out.startswith("evicted 0 cache entries")


def test_lake_evict_and_clear_keep_only_copies(home, capsys):
    cached = [e["key"] for e in ok_json(capsys, "lake", "ls", "0.0")["entries"]]
    only_copy = HashKeyStorage(home / "fast").write(b"written straight into the cache level")
    code, _, err = run(capsys, "lake", "evict", "0.0", only_copy)
    assert code == 1 and "no other copy" in err
    code, _, err = run(capsys, "lake", "evict", "0.1", "not-a-key")
    assert code == 1 and "not a storage key" in err
    code, _, err = run(capsys, "lake", "evict", "0.0", "0" * 8)
    assert code == 1 and "matches 0 keys" in err
    code, out, _ = run(capsys, "lake", "ls", "0.0")
    assert cached[0][:16] in out  # the table shows key prefixes, which evict accepts
    result = ok_json(capsys, "lake", "evict", "0.0", cached[0][:16])
    assert result["removed"] == 1 and result["bytes"] > 0

    code, out, _ = run(capsys, "lake", "clear", "0.0", "-y")
    assert code == 0 and "kept 1 (the only copy)" in out
    assert [e["key"] for e in ok_json(capsys, "lake", "ls", "0.0")["entries"]] == [only_copy]
    code, _, err = run(capsys, "lake", "clear", "0", "-y")
    assert code == 1 and "force" in err  # the whole lake is never cleared without --force
    # (listing a tier looks up producers, which reads cache entries through the lake and so copies them up)
    result = ok_json(capsys, "lake", "clear", "0.0", "--force", "-y")
    assert result["removed"] >= 1 and result["kept"] == 0
    tree = ok_json(capsys, "lake", "info")
    assert tree["children"][0]["usage"]["entries"] == 0 and tree["children"][1]["usage"]["entries"] == 1


def test_lake_clear_asks_first(home, capsys, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    before = ok_json(capsys, "lake", "ls", "0.0")["total"]
    assert run(capsys, "lake", "clear", "0.0")[0] == 0
    assert ok_json(capsys, "lake", "ls", "0.0")["total"] == before


@pytest.fixture
def dataset_url(tmp_path: Path) -> str:
    url = str(tmp_path / "ds")
    ds = datasets.create(url)
    ds.add_column("n", datasets.types.Int64())
    ds.add_column("text", datasets.types.Text())
    ds.append({"n": [1, 2, 3], "text": ["a", "b", "c"]})
    ds.commit("first rows")
    ds.tag("v1")
    ds.append({"n": [4], "text": ["d"]})
    ds.commit("one more")
    return url


def test_dataset_info_and_log(dataset_url, capsys):
    info = ok_json(capsys, "dataset", "info", dataset_url)
    assert info["rows"] == 4 and info["branch"] == "main" and info["branches"] == ["main"]
    assert [c["name"] for c in info["columns"]] == ["n", "text"] and set(info["tags"]) == {"v1"}
    assert ok_json(capsys, "dataset", "info", dataset_url, "--version", "v1")["rows"] == 3
    code, out, _ = run(capsys, "dataset", "info", dataset_url)
    assert code == 0 and "rows: 4" in out and "tags: v1=" in out

    log = ok_json(capsys, "dataset", "log", dataset_url)
    assert [v["message"] for v in log] == ["one more", "first rows", "created"]
    assert [v["rows"] for v in log] == [4, 3, 0] and log[0]["parents"] == [log[1]["id"]]
    code, out, _ = run(capsys, "dataset", "log", dataset_url)
    assert code == 0 and "one more" in out.splitlines()[0]
    code, _, err = run(capsys, "dataset", "info", dataset_url, "--version", "nope")
    assert code == 1 and err.startswith("lakelet: error:")


def test_dataset_query(dataset_url, capsys):
    rows = ok_json(capsys, "dataset", "query", dataset_url, "SELECT n, text WHERE n > 1 ORDER BY n")
    assert rows == [{"n": 2, "text": "b"}, {"n": 3, "text": "c"}, {"n": 4, "text": "d"}]
    code, out, err = run(capsys, "dataset", "query", dataset_url, "SELECT n FROM ds ORDER BY n", "--limit", "2",
                         "--json")
    assert code == 0 and json.loads(out) == [{"n": 1}, {"n": 2}] and "showing 2 of 4 rows" in err
    code, out, _ = run(capsys, "dataset", "query", dataset_url, "SELECT sum(n) AS total")
    assert code == 0 and "10" in out
    assert ok_json(capsys, "dataset", "query", dataset_url, "SELECT * WHERE n > 1", "--version", "v1") == [
        {"n": 2, "text": "b"}, {"n": 3, "text": "c"}]
    code, _, err = run(capsys, "dataset", "query", dataset_url, "SELECT nope")
    assert code == 1 and "nope" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exit_info:  # argparse rejects it before lakelet runs
        cli.main(["dataset", "query", dataset_url, "SELECT 1", "--limit", "0"])
    assert exit_info.value.code == 2 and "must be >= 1" in capsys.readouterr().err


def test_dataset_gc_copy_delete(dataset_url, tmp_path, capsys, monkeypatch):
    ds = datasets.open(dataset_url)
    ds.append({"n": [5], "text": ["e"]})
    ds.commit("on main")
    ds.checkout("side", create=True)
    ds.append({"n": [6], "text": ["f"]})
    ds.commit("on a branch about to be deleted")
    ds.checkout("main")
    ds.delete_branch("side")
    for root, _, files in os.walk(dataset_url):  # make everything older than the default grace period
        for name in files:
            os.utime(Path(root) / name, (1_000, 1_000))

    assert ok_json(capsys, "dataset", "gc", dataset_url, "--dry-run")["removed_names"] != []
    dry = ok_json(capsys, "dataset", "gc", dataset_url, "--dry-run", "--grace", "0")
    assert dry["dry_run"] and dry["removed_names"] and dry["removed"] == len(dry["removed_names"])
    report = ok_json(capsys, "dataset", "gc", dataset_url)
    assert sorted(report["removed_names"]) == sorted(dry["removed_names"]) and report["bytes_freed"] > 0
    code, out, _ = run(capsys, "dataset", "gc", dataset_url)
    assert code == 0 and out.startswith("deleted 0 file(s)")
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["dataset", "gc", dataset_url, "--grace", "-1"])
    assert exit_info.value.code == 2 and "must be >= 0" in capsys.readouterr().err

    copy = str(tmp_path / "copy")
    code, out, _ = run(capsys, "dataset", "copy", dataset_url, copy)
    assert code == 0 and "copied" in out
    assert ok_json(capsys, "dataset", "info", copy)["rows"] == 5
    code, _, err = run(capsys, "dataset", "copy", dataset_url, copy)
    assert code == 1 and "already exists" in err

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert run(capsys, "dataset", "delete", copy)[0] == 0 and datasets.exists(copy)
    assert run(capsys, "dataset", "delete", copy, "-y")[0] == 0 and not datasets.exists(copy)
    code, _, err = run(capsys, "dataset", "delete", copy, "-y")
    assert code == 1 and err == f"lakelet: error: no dataset at {copy!r}\n"
    code, _, err = run(capsys, "dataset", "info", str(tmp_path / "missing"))
    assert code == 1 and "no dataset at" in err



def test_listing_a_tier_does_not_fill_the_cache_levels(home, capsys):
    """Finding which function made each entry reads cache entries without copy-on-read."""
    from lakelet.config import get_config

    with config_set(home=home, cache_key=None):
        lake = HashKeyStorage(get_config().lake_spec).location
        fast = lake.children()[0]
        for key in list(fast.keys()):
            fast.delete(key)
        listing = ok_json(capsys, "lake", "ls", "0.1")
        assert any(row.get("producer") for row in listing["entries"])  # the entries were read
        assert list(fast.keys()) == []  # ... and nothing was copied up while reading them

"""The CLI as a person reads it (issue 12.6): level names, ls aliases, empty listings, human sizes and
dates, datasets by name, and a gc that evicts nothing saying why. Each command runs in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[lake]\nlevels = [\n  {{ level = "{home / "fast"}", name = "fast" }},\n'
        f'  {{ level = "{home / "slow"}", name = "slow" }},\n]\n'
    )
    return home


def lakelet(home: Path, *argv: str, code: int = 0) -> str:
    env = dict(os.environ, LAKELET_HOME=str(home), COLUMNS="200")
    env.pop("LAKELET_CACHE_KEY", None)
    proc = subprocess.run([sys.executable, "-m", "lakelet.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return proc.stdout if code == 0 else proc.stderr


def python(home: Path, code: str) -> None:
    env = dict(os.environ, LAKELET_HOME=str(home))
    env.pop("LAKELET_CACHE_KEY", None)
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_dict_and_queue_ls_are_list_and_say_when_empty(home: Path) -> None:
    assert lakelet(home, "dict", "ls").strip() == "no dicts in environment main (create one: lakelet dict create NAME)"
    assert "no queues in environment main" in lakelet(home, "queue", "ls")
    assert "no volumes in environment main" in lakelet(home, "volume", "list")
    assert lakelet(home, "dict", "ls", "--json").strip() == "[]"
    lakelet(home, "dict", "create", "settings")
    lakelet(home, "queue", "create", "jobs")
    assert "settings" in lakelet(home, "dict", "ls")
    assert [d["name"] for d in json.loads(lakelet(home, "dict", "ls", "--json"))] == ["settings"]
    assert [q["name"] for q in json.loads(lakelet(home, "queue", "ls", "--json"))] == ["jobs"]
    assert lakelet(home, "dict", "list") == lakelet(home, "dict", "ls")


def test_volume_ls_long_prints_human_sizes_and_dates(home: Path, tmp_path: Path) -> None:
    lakelet(home, "volume", "create", "v")
    (tmp_path / "big.bin").write_bytes(b"x" * 3 * 1024 * 1024)
    lakelet(home, "volume", "put", "v", str(tmp_path / "big.bin"), "/data/")
    out = lakelet(home, "volume", "ls", "-l", "v", "data")
    assert "3.0 MiB" in out and str(3 * 1024 * 1024) not in out
    assert date.today().isoformat() in out  # a local date, not epoch seconds
    row = json.loads(lakelet(home, "volume", "ls", "v", "data", "--json"))[0]
    assert row["size"] == 3 * 1024 * 1024 and isinstance(row["mtime"], int)  # JSON keeps the raw numbers
    assert lakelet(home, "volume", "ls", "v", "/data/").split() == ["data/big.bin"]


def test_lake_info_names_the_levels(home: Path) -> None:
    out = lakelet(home, "lake", "info")
    assert "0.0 'fast' disk" in out and "0.1 'slow' disk" in out
    tree = json.loads(lakelet(home, "lake", "info", "--json"))
    assert [c["level"]["name"] for c in tree["children"]] == ["fast", "slow"]


def test_lake_gc_that_evicts_nothing_says_why(home: Path) -> None:
    python(home, "from lakelet import smart_cache\n"
                 "f = smart_cache(lambda n: bytes(n))\nf(300_000)")
    out = lakelet(home, "lake", "gc", "--max-size", "10 MiB")
    assert out.startswith("evicted 0 cache entries, 0 B: every cache level is already within 10.0 MiB")
    assert "'fast' (0.0) holds 293.0 KiB" in out
    out = lakelet(home, "lake", "gc", "--max-size", "1 KiB")
    assert "over 1.0 KiB" in out and "only cop" in out  # the value lives only in the cache level
    assert "give a size" in lakelet(home, "lake", "gc")
    report = json.loads(lakelet(home, "lake", "gc", "--max-size", "10 MiB", "--json"))
    assert report["evicted"] == 0 and "already within" in report["why"]


def test_datasets_by_catalog_name(home: Path, tmp_path: Path) -> None:
    extra = tmp_path / "team"
    with open(home / "config.toml", "a") as f:
        f.write(f'\n[datasets]\npaths = ["{extra}"]\n')
    assert "no datasets in" in lakelet(home, "dataset", "list")
    python(home, "import os\nfrom lakelet import datasets\nfrom lakelet.datasets import types as T\n"
                 "for url, n in ((os.environ['LAKELET_HOME'] + '/datasets/animals', 3), "
                 f"({str(extra / 'shapes')!r}, 5)):\n"
                 "    ds = datasets.create(url, schema={'id': T.Int64()})\n"
                 "    ds.append([{'id': i} for i in range(n)])\n    ds.commit('rows')\n")
    listed = json.loads(lakelet(home, "dataset", "ls", "--json"))
    assert sorted(d["name"] for d in listed) == ["animals", "shapes"]
    assert json.loads(lakelet(home, "dataset", "info", "animals", "--json"))["rows"] == 3
    assert json.loads(lakelet(home, "dataset", "info", "shapes", "--json"))["rows"] == 5
    assert json.loads(lakelet(home, "dataset", "query", "shapes", "SELECT max(id) AS m", "--json")) == [{"m": 4}]
    err = lakelet(home, "dataset", "info", "zebras", code=1)
    assert "no dataset 'zebras'" in err and "names: animals, shapes" in err
    lakelet(home, "dataset", "delete", "animals", "-y")
    assert not (home / "datasets" / "animals").exists()
    assert (extra / "shapes").is_dir()

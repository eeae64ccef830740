"""A cache hit survives the process: @smart_cache and %%lake_cache in a NEW process, per lake config.

Each case writes config.toml, runs the same script twice in fresh Python processes (a
restarted kernel) and checks the second run hits instead of computing. Between the runs,
volatile tiers are lost as they would be (memory with the process; Redis flushed, as by a
restart without persistence), so only a durable level can serve the hits. Afterwards every
key in the content namespace verifies and verified reads of every key succeed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import lakelet

pytest.importorskip("IPython")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output
    import lakelet

    calls = []

    @lakelet.smart_cache
    def features(n):
        calls.append(n)
        return {"small": list(range(n)), "array": np.arange(n * 1000, dtype=np.int64)}

    value = features(50)
    shell = InteractiveShell.instance()
    shell.run_cell("%load_ext lakelet", store_history=False)
    with capture_output() as captured:
        result = shell.run_cell("%%lake_cache clean\\nprint('computing')\\ntotal = sum(range(1000))\\n")
    result.raise_error()
    lakelet.cache.flush()
    print(json.dumps({
        "calls": len(calls),
        "hits": features.cache_info().hits,
        "array_sum": int(value["array"].sum()),
        "cell": captured.stdout,
        "total": shell.user_ns["total"],
    }))
    """
)


def _run(tmp_path: Path, env: dict[str, str]) -> dict:
    script = tmp_path / "work.py"
    script.write_text(SCRIPT)  # a file, so the function's code identity is its source
    done = subprocess.run([sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "CacheWarning" not in done.stderr, done.stderr
    assert "VolatileLake" not in done.stderr, done.stderr  # every config here stores durably
    return json.loads(done.stdout.strip().splitlines()[-1])


def _env(tmp_path: Path, config: str | None) -> dict[str, str]:
    home = tmp_path / "home" / ".lakelet"
    home.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (home / "config.toml").write_text(config)
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKELET_", "AWS_"))}
    env.update(HOME=str(tmp_path / "home"), LAKELET_HOME=str(home),
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    return env


def _check_restart(tmp_path: Path, env: dict[str, str], between=lambda: None) -> None:
    first = _run(tmp_path, env)
    assert first["calls"] == 1 and first["hits"] == 0
    assert "lake_cache: miss" in first["cell"]
    between()
    second = _run(tmp_path, env)
    assert second["calls"] == 0 and second["hits"] == 1, second
    assert "lake_cache: hit" in second["cell"], second["cell"]
    assert second["array_sum"] == first["array_sum"] and second["total"] == 499500


def _every_key_verifies(spec) -> None:  # type: ignore[no-untyped-def]
    storage = lakelet.HashKeyStorage(spec, verify=True)
    keys = list(storage.keys())
    assert keys, "the cache wrote no values"
    for key in keys:
        assert storage.verify(key), key
        storage.read_bytes(key)  # a verified read never raises on what the cache wrote
    assert list(storage.records.list("cache/"))  # the entries are records, not values


def test_readme_config_memory_over_disk(tmp_path: Path) -> None:
    config = '[lake]\nlevels = [{ small = "memory://", max_size = "10 MiB" }, "~/.lakelet/lake"]\n'
    env = _env(tmp_path, config)
    _check_restart(tmp_path, env)
    _every_key_verifies(str(tmp_path / "home" / ".lakelet" / "lake"))


def test_disk_over_disk(tmp_path: Path) -> None:
    ssd, hdd = tmp_path / "ssd", tmp_path / "hdd"
    env = _env(tmp_path, f'[lake]\nlevels = ["{ssd}", "{hdd}"]\n')
    _check_restart(tmp_path, env)
    _every_key_verifies(str(ssd))
    assert not hdd.exists()  # tarn's migration meaning: the first disk is written, the old one only read


def test_default_config(tmp_path: Path) -> None:
    env = _env(tmp_path, None)
    _check_restart(tmp_path, env)
    _every_key_verifies(str(tmp_path / "home" / ".lakelet" / "lake"))


def test_redis_over_s3(tmp_path: Path, s3_server, redis_server) -> None:  # type: ignore[no-untyped-def]
    bucket = s3_server.new_bucket()
    prefix = f"restart-{os.getpid()}"
    redis_url = f"redis://{redis_server.host}:{redis_server.port}/0?prefix={prefix}"
    s3 = (f'{{ url = "s3://{bucket}", endpoint_url = "{s3_server.endpoint_url}", '
          f'key = "{s3_server.access_key}", secret = "{s3_server.secret_key}" }}')
    env = _env(tmp_path, f'[lake]\nlevels = [{{ small = "{redis_url}", max_size = "10 MiB" }}, {s3}]\n')
    redis_spec = {"url": redis_url}

    def restart_redis() -> None:
        # a Redis without persistence loses everything when it restarts: only S3 may serve the hits
        with lakelet.HashKeyStorage(redis_spec) as cache:
            client = cache.location.client
            names = list(client.scan_iter(match=f"{prefix}:*"))
            assert any(b":r:cache/" in n for n in names) and any(b":v:" in n for n in names)
            client.delete(*names)

    _check_restart(tmp_path, env, restart_redis)
    from lakelet.locations.s3 import S3

    bottom = S3(s3_server.endpoint_url, bucket, key=s3_server.access_key, secret=s3_server.secret_key)
    _every_key_verifies(bottom)


def test_entries_of_the_previous_release_are_read_and_moved(tmp_path: Path) -> None:
    """Earlier releases kept index entries in the content namespace under their address."""
    from lakelet.locations.abc import Blob

    env = _env(tmp_path, None)
    first = _run(tmp_path, env)
    assert first["calls"] == 1
    lake = lakelet.HashKeyStorage(str(tmp_path / "home" / ".lakelet" / "lake"))
    names = list(lake.records.list("cache/"))
    assert {n.split("/")[1] for n in names} == {"function", "cell"}
    for name in names:  # put every entry back where the previous release wrote it
        address = name.rsplit("/", 1)[1]
        assert lake.location.write(address, Blob(data=lake.records.get(name)))
        assert lake.records.delete(name)
    assert not all(lake.verify(k) for k in lake.keys())  # what the issue reported
    second = _run(tmp_path, env)
    assert second["calls"] == 0 and second["hits"] == 1
    assert "lake_cache: hit" in second["cell"]
    assert sorted(lake.records.list("cache/")) == sorted(names)  # moved into the records on read
    assert all(lake.verify(k) for k in lake.keys())
    # `lakelet lake fsck` tells such entries from damage, and --repair moves them
    for name in names:
        address = name.rsplit("/", 1)[1]
        lake.location.write(address, Blob(data=lake.records.get(name)))
        lake.records.delete(name)

    def fsck(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lakelet.cli", "lake", "fsck", "--json", *args], env=env,
                              capture_output=True, text=True, timeout=120)

    looked = fsck()
    assert looked.returncode == 0, looked.stderr
    report = json.loads(looked.stdout)
    assert report["legacy_cache_entries"] == len(names) and report["damaged"] == []
    assert not list(lake.records.list("cache/"))  # looking moves nothing
    repaired = fsck("--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert sorted(lake.records.list("cache/")) == sorted(names)
    assert all(lake.verify(k) for k in lake.keys())


VOLATILE_SCRIPT = textwrap.dedent(
    """
    import lakelet

    @lakelet.smart_cache
    def double(n):
        return 2 * n

    assert double(21) == 42
    """
)


def _warnings_of(tmp_path: Path, config: str) -> str:
    env = _env(tmp_path, config)
    script = tmp_path / "volatile.py"
    script.write_text(VOLATILE_SCRIPT)
    done = subprocess.run([sys.executable, "-W", "default", str(script)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


@pytest.mark.parametrize("levels", [
    '[{ small = "memory://", max_size = "10 MiB" }, "memory://"]',  # a memory tier over... memory
    '["memory://scratch"]',
])
def test_a_lake_that_stores_nothing_durably_by_accident_is_warned_about(tmp_path: Path, levels: str) -> None:
    err = _warnings_of(tmp_path, f"[lake]\nlevels = {levels}\n")
    assert "VolatileLake" in err and "stores nothing durably" in err, err
    assert str(tmp_path / "home" / ".lakelet" / "config.toml") in err  # names the config to fix
    assert err.count("VolatileLake") == 1, err  # once, not on every call


def test_a_redis_lake_not_marked_durable_is_warned_about(tmp_path: Path, redis_server) -> None:  # type: ignore[no-untyped-def]
    url = f"redis://{redis_server.host}:{redis_server.port}/0?prefix=volatile-{os.getpid()}"
    err = _warnings_of(tmp_path, f'[lake]\nlevels = ["{url}"]\n')
    assert "VolatileLake" in err and "Redis not marked durable" in err, err
    assert "VolatileLake" not in _warnings_of(tmp_path, f'[lake]\nlevels = [{{ url = "{url}", durable = true }}]\n')


@pytest.mark.parametrize("config", [
    '[lake]\nlevels = ["memory://"]\nvolatile = true\n',  # chosen, and said so
    '[lake]\nlevels = [{ small = "memory://", max_size = "1 MiB" }, "memory://"]\nvolatile = true\n',
])
def test_a_volatile_lake_chosen_explicitly_is_not_warned_about(tmp_path: Path, config: str) -> None:
    assert "VolatileLake" not in _warnings_of(tmp_path, config)


def test_a_bare_memory_lake_is_explicit() -> None:
    from lakelet.config import Config

    assert Config(home=Path("/h"), data={"lake": "memory://"}).lake_volatile
    assert not Config(home=Path("/h"), data={"lake": {"levels": ["memory://"]}}).lake_volatile
    spec = Config(home=Path("/h"), data={"lake": {"levels": ["memory://"], "volatile": True}})
    assert spec.lake_volatile and spec.lake_spec == {"levels": ["memory://"]}

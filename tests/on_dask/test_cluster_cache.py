"""A team-wide cache on a real Dask LocalCluster: two worker processes with homes of their own, sharing only
the lake's Redis and S3 (the servers the suite starts), driven from a fresh client process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")
redis = pytest.importorskip("redis")

SCRIPT = Path(__file__).with_name("_cluster_script.py")
pytestmark = pytest.mark.slow


@pytest.fixture
def lake(redis_server, s3_server) -> dict:
    bucket = s3_server.new_bucket()
    s3 = {
        "url": f"s3://{bucket}/lake",
        "endpoint_url": s3_server.endpoint_url,
        "key": s3_server.access_key,
        "secret": s3_server.secret_key,
    }
    return {"levels": [{"small": redis_server.url, "max_size": 65536}, s3]}


def run(tmp_path: Path, scenario: str, lake: dict, redis_url: str, xs: list[int], counter: str, *,
        script: Path = SCRIPT, **env: str) -> dict:
    out = tmp_path / f"{scenario}-{counter}.json"
    environ = dict(os.environ, LAKELET_TEST_COUNTER=counter, LAKELET_HOME=str(tmp_path / "client-home"), **env)
    proc = subprocess.run(
        [sys.executable, str(script), scenario, json.dumps(lake), redis_url, str(out), ",".join(map(str, xs))],
        env=environ, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(out.read_text())


def calls(redis_url: str, counter: str) -> int:
    return int(redis.Redis.from_url(redis_url).get(counter) or 0)


def expected(xs: list[int], factor: int = 3) -> list[dict]:
    return [{"x": x, "y": x * factor} for x in xs]


def test_cached_map_computes_each_entry_once_and_then_submits_nothing(tmp_path, lake, redis_server) -> None:
    xs = [1, 2, 3, 1, 2, 3, 4, 4]
    out = run(tmp_path, "map", lake, redis_server.url, xs, "c-map")
    assert out["client_keys"] == out["worker_keys"]  # the worker derives the notebook's key
    assert len(set(out["homes"])) == 2
    assert out["first"] == {"values": expected(xs), "hits": 0, "submitted": 4}
    assert out["second"] == {"values": expected(xs), "hits": 8, "submitted": 0}
    assert calls(redis_server.url, "c-map") == 4
    # a second notebook (a new process, its own home) hits everything the cluster computed
    again = run(tmp_path, "map", lake, redis_server.url, xs, "c-map")
    assert again["first"]["submitted"] == 0
    assert calls(redis_server.url, "c-map") == 4


def test_plain_client_map_of_a_smart_cache_function(tmp_path, lake, redis_server) -> None:
    xs = [5, 6, 5]
    out = run(tmp_path, "plain-map", lake, redis_server.url, xs, "c-plain")
    assert out["values"] == expected(xs)
    assert calls(redis_server.url, "c-plain") in (2, 3)  # no merging of task keys here, but it pickles and runs


def test_two_clients_at_once_compute_each_entry_once(tmp_path, lake, redis_server) -> None:
    xs = [7, 8, 9, 7]
    out = run(tmp_path, "two-clients", lake, redis_server.url, xs, "c-two", LAKELET_TEST_SLEEP="0.5")
    assert out["values"] == out["values_other"] == expected(xs)
    assert calls(redis_server.url, "c-two") == 3


def test_the_redis_lease_makes_racing_workers_compute_once(tmp_path, lake, redis_server) -> None:
    xs = [10, 10, 11, 11]  # distinct task keys for equal calls: only the lease keeps them single
    out = run(tmp_path, "plain-race", lake, redis_server.url, xs, "c-race", LAKELET_TEST_SLEEP="0.8")
    assert out["values"] == expected(xs)
    assert calls(redis_server.url, "c-race") == 2


def test_a_worker_killed_mid_compute_is_recomputed_exactly_once(tmp_path, lake, redis_server) -> None:
    xs = [20, 21, 22, 23]
    marker = tmp_path / "died"
    out = run(tmp_path, "map", lake, redis_server.url, xs, "c-kill",
              LAKELET_TEST_DIE_ON="21", LAKELET_TEST_DIE_MARKER=str(marker))
    assert marker.exists()
    assert out["first"]["values"] == expected(xs)
    assert out["second"]["submitted"] == 0
    assert calls(redis_server.url, "c-kill") == 5  # 4 entries + the one that died mid-compute


def test_editing_a_callee_in_the_notebook_invalidates_worker_entries(tmp_path, lake, redis_server) -> None:
    xs = [30, 31]
    run(tmp_path, "map", lake, redis_server.url, xs, "c-edit")
    edited = tmp_path / "edited_script.py"
    edited.write_text(SCRIPT.read_text().replace("return x * 3", "return x * 4"))
    out = run(tmp_path, "map", lake, redis_server.url, xs, "c-edit", script=edited)
    assert out["first"] == {"values": expected(xs, 4), "hits": 0, "submitted": 2}
    assert calls(redis_server.url, "c-edit") == 4

"""Run as a fresh process (a notebook's kernel): a LocalCluster of two worker processes, each with its own
LAKELET_HOME, sharing only the Redis and S3 of the lake given on the command line.

usage: python _cluster_script.py SCENARIO SPEC_JSON REDIS_URL OUT_JSON [extra...]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import redis
from dask.distributed import Client, LocalCluster, WorkerPlugin

import lakelet
from lakelet.config import load_config, set_config
from lakelet.dask import cached_map

SCENARIO, SPEC, REDIS_URL, OUT = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
COUNTER = os.environ["LAKELET_TEST_COUNTER"]
SLEEP = float(os.environ.get("LAKELET_TEST_SLEEP", "0.05"))


def scale(x):
    return x * 3


@lakelet.smart_cache(SPEC)
def work(x):
    redis.Redis.from_url(REDIS_URL).incr(COUNTER)  # how many times the body really ran, cluster-wide
    if os.environ.get("LAKELET_TEST_DIE_ON") == str(x):
        marker = os.environ["LAKELET_TEST_DIE_MARKER"]
        if not os.path.exists(marker):  # die once, mid-compute, holding the lease
            open(marker, "w").close()
            time.sleep(0.3)
            os.kill(os.getpid(), 9)
    time.sleep(SLEEP)
    return {"x": x, "y": scale(x)}


def own_home(base: str) -> str:
    """Give this worker a LAKELET_HOME of its own: only the lake's Redis and S3 are shared."""
    home = os.path.join(base, f"worker-{os.getpid()}")
    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, "config.toml"), "w") as f:
        f.write("[cache]\nlease_ttl = 2\n")  # a killed holder blocks the others for 2 s, not 30
    os.environ["LAKELET_HOME"] = home
    set_config(load_config())
    return home


class _OwnHome(WorkerPlugin):
    """A worker plugin: every worker (including one the nanny restarts) gets its own home."""

    def __init__(self, base: str) -> None:
        self.base = base

    def setup(self, worker) -> None:
        own_home(self.base)


def main() -> None:
    base = tempfile.mkdtemp(prefix="lakelet-dask-workers-")
    out: dict = {}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            client.register_plugin(_OwnHome(base))  # also for a worker restarted after a crash
            out["homes"] = sorted(client.run(lambda: os.environ["LAKELET_HOME"]).values())
            xs = [int(v) for v in sys.argv[5].split(",")]
            out["client_keys"] = [work.key(x) for x in xs]
            out["worker_keys"] = client.gather(client.map(lambda f, x: f.key(x), [work] * len(xs), xs, pure=False))
            if SCENARIO == "map":
                first = cached_map(client, work, xs)
                out["first"] = {"values": list(first), "hits": first.hits, "submitted": first.submitted}
                second = cached_map(client, work, xs)
                out["second"] = {"values": list(second), "hits": second.hits, "submitted": second.submitted}
            elif SCENARIO == "plain-map":
                out["values"] = client.gather(client.map(work, xs, pure=False))
            elif SCENARIO == "two-clients":
                with Client(cluster) as other:
                    a = cached_map(client, work, xs, gather=False)
                    b = cached_map(other, work, xs, gather=False)
                    out["values"] = client.gather(a)
                    out["values_other"] = other.gather(b)
            elif SCENARIO == "plain-race":
                # the same calls under different task keys at once: only the Redis lease keeps them single
                futures = [client.submit(work, x, pure=False) for x in xs]
                out["values"] = client.gather(futures)
    with open(OUT, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()

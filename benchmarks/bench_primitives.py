"""Benchmarks of the named primitives against the tools they compete with, side by side.

    python benchmarks/bench_primitives.py            # everything (1 GiB file included)
    python benchmarks/bench_primitives.py --big-mib 256 --small-files 2000

* Dict set/get ops/s: embedded (SQLite) vs diskcache; shared (Redis) vs raw
  redis-py doing the same thing (single calls, and pipelined batches).
* Queue put/get items/s with 1 producer and 2 consumer processes.
* Volume put_directory of many small files and put_file of one big file vs
  plain s3fs ``put`` to the same moto server.

Starts its own moto and redis-server (lakelet.testing.servers). Needs diskcache.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lakelet.config import config_set  # noqa: E402
from lakelet.testing.servers import RedisServer, S3Server  # noqa: E402

RESULTS: list[tuple[str, float, str, float, str]] = []


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def timed(fn, *args, **kwargs) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - t0


def duel(n: int, ours, theirs, rounds: int = 3) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best-of-``rounds`` rates of two contenders, alternating so both see the same machine noise."""
    best_ours = best_theirs = 0.0
    for _ in range(rounds):
        best_ours = max(best_ours, rate(n, timed(ours)))
        best_theirs = max(best_theirs, rate(n, timed(theirs)))
    return best_ours, best_theirs


def record(what: str, ours: float, theirs_name: str, theirs: float, unit: str) -> None:
    RESULTS.append((what, ours, theirs_name, theirs, unit))
    print(f"  {what:<44} lakelet {ours:>12,.0f} {unit:<8} {theirs_name} {theirs:>12,.0f}  ratio {ours / theirs:5.2f}x")


def shared_config(home: Path, s3: S3Server, redis: RedisServer) -> str:
    bucket = s3.new_bucket()
    return textwrap.dedent(
        f"""
        [environments.shared]
        backend = "shared"
        redis_url = "{redis.url}"
        volumes_url = "s3://{bucket}/lake"
        storage_options = {{endpoint_url = "{s3.endpoint_url}", key = "testing", secret = "testing"}}
        """
    )


# ----------------------------------------------------------------------------- Dict
def bench_dict(n: int, redis: RedisServer) -> None:
    import diskcache
    import redis as redislib

    from lakelet.primitives import Dict

    keys = [f"key-{i}" for i in range(n)]
    value = {"id": 1, "name": "x" * 50}
    print(f"Dict ({n:,} keys, a small dict value)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Dict.from_name("bench", create_if_missing=True)
        cache = diskcache.Cache(os.path.join(tmp, "dc"))
        ours, theirs = duel(n, lambda: [d.put(k, value) for k in keys], lambda: [cache.set(k, value) for k in keys])
        record("embedded set", ours, "diskcache", theirs, "ops/s")
        ours, theirs = duel(n, lambda: [d.get(k) for k in keys], lambda: [cache.get(k) for k in keys])
        record("embedded get", ours, "diskcache", theirs, "ops/s")
        cache.close()

    d = Dict.from_name("bench", environment_name="shared", create_if_missing=True)
    r = redislib.Redis.from_url(redis.url)
    blob = pickle.dumps(value, 5)
    ours, theirs = duel(
        n, lambda: [d.put(k, value) for k in keys], lambda: [r.set("raw:" + k, pickle.dumps(value, 5)) for k in keys]
    )
    record("redis set (one round trip each)", ours, "redis-py", theirs, "ops/s")
    ours, theirs = duel(n, lambda: [d.get(k) for k in keys], lambda: [pickle.loads(r.get("raw:" + k)) for k in keys])
    record("redis get (one round trip each)", ours, "redis-py", theirs, "ops/s")

    batch = 1000
    chunks = [keys[i : i + batch] for i in range(0, n, batch)]

    def ours_batched() -> None:
        for chunk in chunks:
            d.update({k: value for k in chunk})

    def raw_batched() -> None:
        for chunk in chunks:
            with r.pipeline(transaction=True) as pipe:
                for k in chunk:
                    pipe.set("raw:" + k, pickle.dumps(value, 5))
                pipe.execute()

    record(
        "redis set (pipelined, batches of 1000)",
        rate(n, timed(ours_batched)),
        "redis-py",
        rate(n, timed(raw_batched)),
        "ops/s",
    )
    del blob


# ----------------------------------------------------------------------------- Queue
CONSUMER = """
import sys, queue
from lakelet.primitives import Queue
q = Queue.from_name("bench", environment_name=sys.argv[1])
n = 0
while True:
    try:
        n += len(q.get_many(100, timeout=2))
    except queue.Empty:
        break
print(n)
"""


def bench_queue(n: int, environment: str, label: str) -> None:
    from lakelet.primitives import Queue

    q = Queue.from_name("bench", environment_name=environment, create_if_missing=True)
    q.clear(all=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    consumers = [
        subprocess.Popen([sys.executable, "-c", CONSUMER, environment], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(1.5)  # let them start (imports)
    t0 = time.perf_counter()
    for i in range(0, n, 100):
        q.put_many(list(range(i, min(i + 100, n))))
    put_done = time.perf_counter()
    while q.len() > 0:
        time.sleep(0.005)
    drained = time.perf_counter()
    got = sum(int(c.communicate()[0]) for c in consumers)
    assert got == n, (got, n)
    print(
        f"  queue {label:<38} put {rate(n, put_done - t0):>10,.0f} items/s   "
        f"put+get with 2 consumers {rate(n, drained - t0):>10,.0f} items/s"
    )


# ----------------------------------------------------------------------------- Volume
def bench_volume(s3: S3Server, small_files: int, big_mib: int) -> None:
    import s3fs

    from lakelet.primitives import Volume

    fs = s3fs.S3FileSystem(endpoint_url=s3.endpoint_url, key="testing", secret="testing", skip_instance_cache=True)
    bucket = s3.new_bucket()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "small"
        for i in range(small_files):
            sub = src / f"d{i % 100:02d}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{i}.json").write_bytes(os.urandom(512) + str(i).encode())
        print(f"Volume vs s3fs to moto: {small_files:,} small files, one {big_mib} MiB file")
        vol = Volume.from_name("bench", environment_name="shared", create_if_missing=True)
        ours = timed(vol.put_directory, src, "small", progress=False)
        lpaths = [str(p) for p in sorted(src.rglob("*")) if p.is_file()]
        rpaths = [f"{bucket}/small/{Path(p).relative_to(src).as_posix()}" for p in lpaths]
        theirs = timed(fs.put, lpaths, rpaths)
        record(
            f"put_directory {small_files:,} small files",
            rate(small_files, ours),
            "s3fs.put",
            rate(small_files, theirs),
            "files/s",
        )

        big = Path(tmp) / "big.bin"
        with open(big, "wb") as f:
            for _ in range(big_mib):
                f.write(os.urandom(2**20))
        mib = big_mib
        ours = timed(vol.put_file, big, "big.bin")
        theirs = timed(fs.put_file, str(big), f"{bucket}/big.bin")
        record(f"put_file one {big_mib} MiB file", mib / ours, "s3fs.put_file", mib / theirs, "MiB/s")
        ours = timed(vol.get_file, "big.bin", Path(tmp) / "back.bin")
        theirs = timed(fs.get_file, f"{bucket}/big.bin", str(Path(tmp) / "back2.bin"))
        record(f"get_file one {big_mib} MiB file", mib / ours, "s3fs.get_file", mib / theirs, "MiB/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dict-ops", type=int, default=20_000)
    parser.add_argument("--queue-items", type=int, default=20_000)
    parser.add_argument("--small-files", type=int, default=10_000)
    parser.add_argument("--big-mib", type=int, default=1024)
    args = parser.parse_args()
    s3, redis = S3Server().start(), RedisServer().start()
    try:
        with tempfile.TemporaryDirectory() as home:
            Path(home, "config.toml").write_text(shared_config(Path(home), s3, redis))
            os.environ["LAKELET_HOME"] = home
            with config_set(home=home):
                bench_dict(args.dict_ops, redis)
                print(f"Queue ({args.queue_items:,} items, batches of 100)")
                bench_queue(args.queue_items, "main", "embedded (SQLite)")
                bench_queue(args.queue_items, "shared", "shared (Redis)")
                bench_volume(s3, args.small_files, args.big_mib)
    finally:
        s3.close()
        redis.close()
    print("\nratio > 1 means lakelet is faster")


if __name__ == "__main__":
    main()

"""lakelet on Dask, side by side with plain Dask and joblib.Memory, on one LocalCluster (2 worker processes).

1. A team-wide cache for tasks: N calls of a function that sleeps ``--task-ms`` with half the inputs
   repeated. Plain ``client.map`` (Dask merges identical pure calls itself) vs ``cached_map`` with a lake
   folder (cold: empty lake; warm: the same map again) vs ``client.map`` of a ``joblib.Memory`` function
   on the same kind of shared folder (cold, warm).
2. Datasets as Dask collections: the sum of one column of a ``--rows`` row dataset with ``ds.to_dask``
   vs ``dd.read_parquet`` of the same data written as Parquet files (one file per piece). ``cold`` is the
   first run in this process (graph building, first imports on the workers, first reads), ``warm`` the best
   of the next runs. ``dask.dataframe`` itself is imported before either is timed: both pay it, once.

    python benchmarks/bench_dask.py            # 200 tasks x 50 ms, 2M rows
    python benchmarks/bench_dask.py --quick    # seconds
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _sleepy(ms: int):
    def work(x: int) -> int:
        time.sleep(ms / 1000)
        return x * x

    return work


def bench_tasks(client, root: Path, tasks: int, task_ms: int) -> list[tuple[str, float]]:
    import joblib

    import lakelet
    from lakelet.dask import cached_map

    xs = list(range(tasks // 2)) * 2
    random.Random(0).shuffle(xs)
    rows: list[tuple[str, float]] = []

    def timed(label: str, run) -> None:
        start = time.perf_counter()
        out = run()
        rows.append((label, time.perf_counter() - start))
        assert list(out) == [x * x for x in xs], label

    plain = _sleepy(task_ms)
    timed("plain client.map", lambda: client.gather(client.map(plain, xs)))

    lake = lakelet.HashKeyStorage(root / "lake")
    cached = lakelet.smart_cache(lake)(_sleepy(task_ms))
    timed("lakelet cached_map, cold (empty lake)", lambda: cached_map(client, cached, xs))
    timed("lakelet cached_map, warm", lambda: cached_map(client, cached, xs))

    memory = joblib.Memory(str(root / "joblib"), verbose=0)
    remembered = memory.cache(_sleepy(task_ms))
    timed("joblib.Memory via client.map, cold", lambda: client.gather(client.map(remembered, xs)))
    timed("joblib.Memory via client.map, warm", lambda: client.gather(client.map(remembered, xs, pure=False)))
    return rows


def _ones(i: int) -> object:
    import pandas as pd

    return pd.DataFrame({"x": np.ones(1000)})


def bench_sum(root: Path, rows: int, pieces: int, repeats: int) -> list[tuple[str, float, float]]:
    import dask.dataframe as dd
    import pyarrow as pa
    import pyarrow.parquet as pq

    import lakelet
    from lakelet.datasets import types

    rng = np.random.default_rng(0)
    ds = lakelet.create(str(root / "ds"), schema={"n": types.Int64(), "x": types.Float64()})
    folder = root / "parquet"
    folder.mkdir()
    step = rows // pieces
    for p in range(pieces):
        n = np.arange(p * step, (p + 1) * step, dtype=np.int64)
        x = rng.random(step)
        ds.append({"n": n, "x": x})
        ds.commit(f"piece {p}")
        pq.write_table(pa.table({"n": n, "x": x}), folder / f"part-{p:03d}.parquet")
    expected = float(ds.query("SELECT sum(x) AS s FROM ds").to_pandas()["s"][0])

    def lakelet_sum() -> float:
        return float(lakelet.open_read_only(str(root / "ds")).to_dask(columns=["x"])["x"].sum().compute())

    def parquet_sum() -> float:
        return float(dd.read_parquet(str(folder), columns=["x"])["x"].sum().compute())

    out = []
    # Dask's own first read-and-reduce graph (~2 s here, whatever the reader) would land on whichever runs
    # first; pay it on neither, with a graph of the same shape. lakelet then goes first, so its cold run also
    # pays the workers' first pyarrow imports that Parquet reuses.
    dd.from_map(_ones, list(range(pieces)))["x"].sum().compute()
    for label, run in (("ds.to_dask(columns=['x']).x.sum()", lakelet_sum),
                       ("dd.read_parquet(columns=['x']).x.sum()", parquet_sum)):
        times = []
        for _ in range(repeats + 1):
            start = time.perf_counter()
            got = run()
            times.append(time.perf_counter() - start)
            assert abs(got - expected) < 1e-6 * abs(expected), (label, got, expected)
        out.append((label, times[0], min(times[1:])))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: runs in seconds")
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--task-ms", type=int, default=50)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.task_ms, args.rows, args.pieces, args.repeats = 20, 10, 20_000, 4, 1

    from distributed import Client, LocalCluster

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import compile_lakelet

    compile_lakelet()  # workers import lakelet as a normal install would (see _common.compile_lakelet)
    with tempfile.TemporaryDirectory(prefix="lakelet-bench-dask-") as tmp, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        root = Path(tmp)
        tasks = bench_tasks(client, root, args.tasks, args.task_ms)
        plain = tasks[0][1]
        print(f"\n{args.tasks} tasks of {args.task_ms} ms, half the inputs repeated, 2 workers")
        print(f"{'':44} {'wall s':>8} {'vs plain':>9}")
        for label, wall in tasks:
            print(f"{label:44} {wall:8.3f} {plain / wall:8.2f}x")
        sums = bench_sum(root, args.rows, args.pieces, args.repeats)
        base_cold, base_warm = sums[1][1], sums[1][2]
        print(f"\nsum of one Float64 column, {args.rows:,} rows in {args.pieces} pieces")
        print(f"{'':44} {'cold s':>8} {'warm s':>8} {'cold vs pq':>10} {'warm vs pq':>10}")
        for label, cold, warm in sums:
            print(f"{label:44} {cold:8.3f} {warm:8.3f} {base_cold / cold:9.2f}x {base_warm / warm:9.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""lakelet datasets vs Deep Lake (PyPI ``deeplake``), side by side, on a local folder.

200,000 rows of (Int64, Float32, Text, Embedding(128)). Steps: ingest+commit,
reopen, read one column, 1,000 random rows (every column), a filter (query + len,
and query + fetch of the matching rows), cosine top-10. Each step is timed
``--repeat`` times and the best is kept. Without deeplake installed, plain
pyarrow+DuckDB over a Parquet file stands in as the baseline.

    python benchmarks/bench_datasets.py [--rows 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def make_data(n: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    return {
        "id": np.arange(n, dtype=np.int64),
        "score": rng.random(n, dtype=np.float32),
        "text": [f"row {i} of the benchmark" for i in range(n)],
        "embedding": rng.random((n, 128), dtype=np.float32),
    }


def bench_lakelet(root: Path, data: dict[str, Any], rows: np.ndarray, qvec: str, repeat: int) -> dict[str, float]:
    import lakelet.datasets as L

    counter = iter(range(1000))

    def ingest() -> None:
        ds = L.create(str(root / f"lk{next(counter)}"))
        ds.add_column("id", L.types.Int64())
        ds.add_column("score", L.types.Float32())
        ds.add_column("text", L.types.Text())
        ds.add_column("embedding", L.types.Embedding(128))
        ds.append(data)
        ds.commit("ingest")

    out = {"ingest+commit": best(ingest, repeat)}
    path = str(root / "lk0")
    out["reopen"] = best(lambda: L.open(path), repeat)
    ds = L.open(path)
    out["read one column"] = best(lambda: ds["score"][:], repeat)
    out["1,000 random rows"] = best(lambda: [ds[c][rows] for c in ("id", "score", "text", "embedding")], repeat)
    out["filter (len)"] = best(lambda: len(ds.query("SELECT * WHERE score > 0.99")), repeat)
    out["filter (fetch rows)"] = best(lambda: ds.query("SELECT * WHERE score > 0.99").to_arrow(), repeat)
    sql = f"SELECT * ORDER BY cosine_similarity(embedding, {qvec}) DESC LIMIT 10"
    out["cosine top-10"] = best(lambda: ds.query(sql).to_arrow(), repeat)
    assert len(ds.query(sql).to_arrow()) == 10
    return out


def bench_deeplake(root: Path, data: dict[str, Any], rows: np.ndarray, qvec: str, repeat: int) -> dict[str, float]:
    import deeplake

    counter = iter(range(1000))

    def ingest() -> None:
        ds = deeplake.create(str(root / f"dl{next(counter)}"))
        ds.add_column("id", deeplake.types.Int64())
        ds.add_column("score", deeplake.types.Float32())
        ds.add_column("text", deeplake.types.Text())
        ds.add_column("embedding", deeplake.types.Embedding(128))
        ds.append(data)
        ds.commit("ingest")

    out = {"ingest+commit": best(ingest, repeat)}
    path = str(root / "dl0")
    out["reopen"] = best(lambda: deeplake.open(path), repeat)
    ds = deeplake.open(path)
    out["read one column"] = best(lambda: ds["score"][:], repeat)
    idx = rows.tolist()
    out["1,000 random rows"] = best(lambda: [ds[c][idx] for c in ("id", "score", "text", "embedding")], repeat)
    out["filter (len)"] = best(lambda: len(ds.query("SELECT * WHERE score > 0.99")), repeat)

    def fetch() -> None:
        view = ds.query("SELECT * WHERE score > 0.99")
        for c in ("id", "score", "text", "embedding"):
            view[c][:]

    out["filter (fetch rows)"] = best(fetch, repeat)
    sql = f"SELECT * ORDER BY COSINE_SIMILARITY(embedding, ARRAY{qvec}) DESC LIMIT 10"

    def top10() -> None:
        view = ds.query(sql)
        for c in ("id", "score", "text", "embedding"):
            view[c][:]

    out["cosine top-10"] = best(top10, repeat)
    return out


def bench_parquet(root: Path, data: dict[str, Any], rows: np.ndarray, qvec: str, repeat: int) -> dict[str, float]:
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": data["id"],
            "score": data["score"],
            "text": data["text"],
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(data["embedding"].reshape(-1)), 128),
        }
    )
    path = str(root / "baseline.parquet")
    out = {"ingest+commit": best(lambda: pq.write_table(table, path), repeat)}
    out["reopen"] = best(lambda: pq.ParquetFile(path), repeat)
    out["read one column"] = best(lambda: pq.read_table(path, columns=["score"]).column(0).to_numpy(), repeat)
    out["1,000 random rows"] = best(lambda: pq.read_table(path).take(rows), repeat)
    con = duckdb.connect()
    q = f"SELECT * FROM read_parquet('{path}') WHERE score > 0.99"
    out["filter (len)"] = best(lambda: con.sql(f"SELECT count(*) FROM ({q})").fetchall(), repeat)
    out["filter (fetch rows)"] = best(lambda: con.sql(q).fetchall(), repeat)
    cos = f"SELECT * FROM read_parquet('{path}') ORDER BY list_cosine_similarity(embedding, {qvec}) DESC LIMIT 10"
    out["cosine top-10"] = best(lambda: con.sql(cos).fetchall(), repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = make_data(args.rows)
    rng = np.random.default_rng(1)
    rows = rng.integers(0, args.rows, 1000)
    qvec = "[" + ",".join(f"{x:.4f}" for x in rng.random(128)) + "]"
    root = Path(tempfile.mkdtemp(prefix="lakelet-bench-"))
    try:
        ours = bench_lakelet(root, data, rows, qvec, args.repeat)
        try:
            theirs = bench_deeplake(root, data, rows, qvec, args.repeat)
            label = "deeplake " + __import__("deeplake").__version__
        except ImportError:
            theirs = bench_parquet(root, data, rows, qvec, args.repeat)
            label = "pyarrow+duckdb (deeplake not installed)"
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.rows:,} rows of (Int64, Float32, Text, Embedding(128)); best of {args.repeat}")
    print(f"{'step':<22}{'lakelet':>12}{label[:28]:>30}{'speed-up':>10}")
    for step, ours_s in ours.items():
        theirs_s = theirs[step]
        print(f"{step:<22}{ours_s * 1000:>10.1f}ms{theirs_s * 1000:>28.1f}ms{theirs_s / ours_s:>9.1f}x")


if __name__ == "__main__":
    main()

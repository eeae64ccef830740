"""lakelet datasets vs Deep Lake (PyPI ``deeplake``), side by side, on a local folder.

200,000 rows of (Int64, Float32, Text, Embedding(128)). Steps: ingest+commit,
reopen, read one column, 1,000 random rows (every column), a filter (query + len,
and query + fetch of the matching rows), cosine top-10. Each step is timed
``--repeat`` times and the best is kept. Without deeplake installed, plain
pyarrow+DuckDB over a Parquet file stands in as the baseline.

A second table times a selective filter (0.05% of the rows) on a dataset
committed in ``--pieces`` pieces, read by a fresh handle each time (no cached
column files): lakelet with and without fragment pruning, locally and on S3
(a moto server in this process), and deeplake locally.

    python benchmarks/bench_datasets.py [--rows 200000] [--repeat 3] [--pieces 20]
"""

from __future__ import annotations

import argparse
import logging
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


SELECTIVE = "SELECT * WHERE id BETWEEN {lo} AND {hi}"


def _ingest_pieces(ds: Any, data: dict[str, Any], pieces: int) -> None:
    n = len(data["id"])
    step = -(-n // pieces)
    for start in range(0, n, step):
        ds.append({k: v[start : start + step] for k, v in data.items()})
        ds.commit(f"rows {start}..")


def bench_selective(root: Path, data: dict[str, Any], pieces: int, repeat: int) -> dict[str, float]:
    """Selective filter on a multi-piece dataset: lakelet pruned/unpruned (local, S3), deeplake (local)."""
    import lakelet.datasets as L

    n = len(data["id"])
    lo = n // 2 + 7
    sql = SELECTIVE.format(lo=lo, hi=lo + max(n // 2000, 1) - 1)
    expected = max(n // 2000, 1)
    out: dict[str, float] = {}

    def run(url: str, creds: dict[str, Any] | None, prune: bool) -> None:
        table = L.open_read_only(url, creds=creds).query(sql, prune=prune).to_arrow()
        assert table.num_rows == expected

    places: list[tuple[str, str, dict[str, Any] | None]] = [("local", str(root / "pieces"), None)]
    server = None
    try:
        import s3fs
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
        server.start()
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        creds = {"aws_access_key_id": "k", "aws_secret_access_key": "s", "endpoint_url": endpoint}
        s3fs.S3FileSystem(key="k", secret="s", client_kwargs={"endpoint_url": endpoint}).mkdir("bench")
        places.append(("S3 (moto)", "s3://bench/pieces", creds))
    except ImportError:
        pass
    try:
        for label, url, creds in places:
            ds = L.create(url, creds=creds)
            for name, dtype in (("id", L.types.Int64()), ("score", L.types.Float32()), ("text", L.types.Text()),
                                ("embedding", L.types.Embedding(128))):
                ds.add_column(name, dtype)
            _ingest_pieces(ds, data, pieces)
            out[f"lakelet {label}, pruned"] = best(lambda u=url, c=creds: run(u, c, True), repeat)
            out[f"lakelet {label}, no pruning"] = best(lambda u=url, c=creds: run(u, c, False), repeat)
    finally:
        if server is not None:
            server.stop()
    try:
        import deeplake
    except ImportError:
        return out
    path = str(root / "dl-pieces")
    ds = deeplake.create(path)
    ds.add_column("id", deeplake.types.Int64())
    ds.add_column("score", deeplake.types.Float32())
    ds.add_column("text", deeplake.types.Text())
    ds.add_column("embedding", deeplake.types.Embedding(128))
    _ingest_pieces(ds, data, pieces)

    def deeplake_run() -> None:
        view = deeplake.open_read_only(path).query(sql)
        for c in ("id", "score", "text", "embedding"):
            view[c][:]
        assert len(view) == expected

    out[f"deeplake {deeplake.__version__} local"] = best(deeplake_run, repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pieces", type=int, default=20, help="commits for the selective-filter case")
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
        selective = bench_selective(root, data, args.pieces, args.repeat)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{args.rows:,} rows of (Int64, Float32, Text, Embedding(128)); best of {args.repeat}")
    print(f"{'step':<22}{'lakelet':>12}{label[:28]:>30}{'speed-up':>10}")
    for step, ours_s in ours.items():
        theirs_s = theirs[step]
        print(f"{step:<22}{ours_s * 1000:>10.1f}ms{theirs_s * 1000:>28.1f}ms{theirs_s / ours_s:>9.1f}x")
    rows = max(args.rows // 2000, 1)
    print(f"\nselective filter ({rows} rows of {args.rows:,}, id BETWEEN) on {args.pieces} pieces, fresh handle")
    for step, seconds in selective.items():
        print(f"{step:<40}{seconds * 1000:>10.1f}ms")


if __name__ == "__main__":
    main()

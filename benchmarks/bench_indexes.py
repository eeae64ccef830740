"""Top-10 by cosine similarity with and without an embedding index, side by side with deeplake.

    python benchmarks/bench_indexes.py                 # 2M rows x 128 dims (issue 11's target size)
    python benchmarks/bench_indexes.py --rows 200000   # quicker

The vectors are clustered (2,000 centres, Gaussian noise as large as the centres), the shape
embeddings of real data have; isotropic random vectors have no near neighbours worth the name and
make every graph index look bad. Each query is a fresh point near a random centre. Recall is the
share of the exact top 10 (numpy over the normalized matrix) that a query returns.

Figures: index build time; warm latency of ``ds.query(... ORDER BY cosine_similarity(...) DESC
LIMIT 10).to_arrow()`` (median and slowest of the queries) with the index, exact without it
(``indexes=False``), and deeplake's ``COSINE_SIMILARITY`` query fetching the same columns; **cold**:
the first indexed query in a fresh process (open + query), what a notebook user waits for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import compile_lakelet  # noqa: E402

COLD = """
import json, sys, time
t0 = time.perf_counter()
from lakelet import datasets
t1 = time.perf_counter()
ds = datasets.open(sys.argv[1])
view = ds.query(sys.argv[2])
ids = view.to_arrow()["id"].to_pylist()
t2 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "step": t2 - t1, "ids": ids, "used": view.indexes_used}))
"""


def data(rows: int, dim: int, queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((2000, dim)).astype(np.float32)
    vectors = centres[rng.integers(0, 2000, rows)]
    vectors += rng.standard_normal((rows, dim), dtype=np.float32)
    asked = centres[rng.integers(0, 2000, queries)] + rng.standard_normal((queries, dim), dtype=np.float32)
    return vectors, asked


def exact_top10(vectors: np.ndarray, asked: np.ndarray) -> list[set[int]]:
    norms = np.linalg.norm(vectors, axis=1)
    out = []
    for q in asked:
        sims = (vectors @ (q / np.linalg.norm(q))) / norms
        out.append(set(np.argpartition(-sims, 10)[:10].tolist()))
    return out


def sql_for(q: np.ndarray, array: str = "") -> str:
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in q) + "]"
    return f"SELECT id, score FROM ds ORDER BY cosine_similarity(embedding, {array}{vec}) DESC LIMIT 10"


def recall(found: list[list[int]], truth: list[set[int]]) -> float:
    return float(np.mean([len(set(f) & t) / 10 for f, t in zip(found, truth, strict=True)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--no-deeplake", action="store_true")
    args = parser.parse_args()
    compile_lakelet()
    from lakelet import datasets
    from lakelet.datasets import types as T

    vectors, asked = data(args.rows, args.dim, args.queries)
    truth = exact_top10(vectors, asked)
    root = Path(tempfile.mkdtemp(prefix="lakelet-bench-indexes-"))
    url = str(root / "lakelet")
    ds = datasets.create(url, schema={"id": T.Int64(), "score": T.Float32(), "embedding": T.Embedding(args.dim)})
    step = 250_000
    for start in range(0, args.rows, step):
        stop = min(args.rows, start + step)
        ds.append(
            {
                "id": np.arange(start, stop),
                "score": np.zeros(stop - start, np.float32),
                "embedding": vectors[start:stop],
            }
        )
    ds.commit("vectors")
    t = time.perf_counter()
    info = ds["embedding"].create_index("embedding")
    build = time.perf_counter() - t
    print(
        f"{args.rows:,} rows x {args.dim}: index build {build:.1f} s, {info.size / 2**20:,.0f} MiB stored", flush=True
    )

    ds = datasets.open(url)
    sqls = [sql_for(q) for q in asked]
    ds.query(sqls[0]).to_arrow()  # warm: index mapped, engine open
    times, found = [], []
    for sql in sqls:
        t = time.perf_counter()
        view = ds.query(sql)
        found.append(view.to_arrow()["id"].to_pylist())
        times.append(time.perf_counter() - t)
        assert view.indexes_used, "the index was not used"
    indexed = (statistics.median(times), max(times), recall(found, truth))
    times_exact, found_exact = [], []
    for sql in sqls[:3]:
        t = time.perf_counter()
        found_exact.append(ds.query(sql, indexes=False).to_arrow()["id"].to_pylist())
        times_exact.append(time.perf_counter() - t)
    exact = (statistics.median(times_exact), max(times_exact), recall(found_exact, truth[:3]))

    cold = []
    for sql in sqls[:3]:
        out = subprocess.run([sys.executable, "-c", COLD, url, sql], capture_output=True, text=True, check=True)
        cold.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cold_recall = recall([c["ids"] for c in cold], truth[:3])

    rows = [("lakelet, embedding index (warm)", *indexed), ("lakelet, exact (indexes=False, warm)", *exact)]
    if not args.no_deeplake:
        import deeplake

        dl = deeplake.create(str(root / "deeplake"))
        dl.add_column("id", deeplake.types.Int64())
        dl.add_column("score", deeplake.types.Float32())
        dl.add_column("embedding", deeplake.types.Embedding(args.dim))
        for start in range(0, args.rows, step):
            stop = min(args.rows, start + step)
            dl.append(
                {
                    "id": np.arange(start, stop),
                    "score": np.zeros(stop - start, np.float32),
                    "embedding": vectors[start:stop],
                }
            )
        dl.commit()
        times_dl, found_dl = [], []
        for q in asked[:5]:
            sql = sql_for(q, "ARRAY").replace("SELECT id, score FROM ds", "SELECT *")
            t = time.perf_counter()
            view = dl.query(sql)
            ids = [int(i) for i in view["id"][:]]
            view["score"][:]
            times_dl.append(time.perf_counter() - t)
            found_dl.append(ids)
        rows.append(
            (
                f"deeplake {deeplake.__version__} COSINE_SIMILARITY (warm)",
                statistics.median(times_dl),
                max(times_dl),
                recall(found_dl, truth[:5]),
            )
        )
    print(f"\ntop-10 of {args.rows:,} x {args.dim} (median / slowest of the queries, recall vs exact numpy)")
    print(f"{'':44} {'median':>9} {'slowest':>9} {'recall':>7}")
    for name, median, slowest, rec in rows:
        print(f"{name:44} {median * 1e3:7.1f}ms {slowest * 1e3:7.1f}ms {rec:7.3f}")
    steps = [c["step"] for c in cold]
    imports = [c["import"] for c in cold]
    print(
        f"{'lakelet, embedding index, COLD (open+query)':44} {statistics.median(steps) * 1e3:7.1f}ms "
        f"{max(steps) * 1e3:7.1f}ms {cold_recall:7.3f}   (+ import lakelet.datasets "
        f"{statistics.median(imports) * 1e3:.0f} ms)"
    )
    print(f"ratio exact/indexed (warm median): {exact[0] / indexed[0]:.0f}x")


if __name__ == "__main__":
    main()

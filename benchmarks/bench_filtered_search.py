"""Filtered top-10 by cosine similarity (``WHERE bucket < N ORDER BY cosine_similarity ... LIMIT 10``)
at several selectivities: lakelet as planned (the embedding index when it pays), lakelet exact
(``indexes=False``) and deeplake's own query, side by side.

    python benchmarks/bench_filtered_search.py                 # 500,000 rows x 128 dims
    python benchmarks/bench_filtered_search.py --rows 100000   # quicker

Same clustered vectors as ``bench_indexes.py`` plus a uniform ``bucket`` column (0-999), so
``bucket < N`` keeps N/10 % of the rows. Warm medians over the queries; recall is against the exact
filtered top 10 (numpy). Which one a notebook user sees: these warm figures on every query after the
first (the cold first query is in ``bench_indexes.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import compile_lakelet  # noqa: E402
from bench_indexes import data  # noqa: E402

CUTS = (5, 20, 50, 100, 300, 1000)  # bucket < N: 0.5% ... 100% of the rows


def exact_filtered_top10(vectors: np.ndarray, bucket: np.ndarray, q: np.ndarray, cut: int) -> set[int]:
    keep = np.flatnonzero(bucket < cut)
    sims = (vectors[keep] @ (q / np.linalg.norm(q))) / np.linalg.norm(vectors[keep], axis=1)
    return set(keep[np.argsort(-sims)[:10]].tolist())


def sql_for(q: np.ndarray, cut: int, array: str = "") -> str:
    vec = "[" + ", ".join(f"{float(v):.6f}" for v in q) + "]"
    return (
        f"SELECT id FROM ds WHERE bucket < {cut} "
        f"ORDER BY cosine_similarity(embedding, {array}{vec}) DESC LIMIT 10"
    )


def timed(run: object, queries: list[np.ndarray], cut: int) -> tuple[float, list[list[int]]]:
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(run(q, cut))  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--queries", type=int, default=10)
    parser.add_argument("--no-deeplake", action="store_true")
    args = parser.parse_args()
    compile_lakelet()
    from lakelet import datasets
    from lakelet.datasets import types as T

    vectors, asked = data(args.rows, args.dim, args.queries)
    bucket = np.random.default_rng(1).integers(0, 1000, args.rows)
    queries = list(asked)
    root = Path(tempfile.mkdtemp(prefix="lakelet-bench-filtered-"))
    ds = datasets.create(
        str(root / "lakelet"), schema={"id": T.Int64(), "bucket": T.Int64(), "embedding": T.Embedding(args.dim)}
    )
    ds.append({"id": np.arange(args.rows), "bucket": bucket, "embedding": vectors})
    ds.commit("vectors")
    t = time.perf_counter()
    ds["embedding"].create_index("embedding")
    print(f"{args.rows:,} rows x {args.dim}: index build {time.perf_counter() - t:.1f} s", flush=True)

    used: dict[int, bool] = {}

    def planned(q: np.ndarray, cut: int) -> list[int]:
        view = ds.query(sql_for(q, cut))
        used[cut] = bool(view.indexes_used)
        return view.to_arrow()["id"].to_pylist()

    def exact(q: np.ndarray, cut: int) -> list[int]:
        return ds.query(sql_for(q, cut), indexes=False).to_arrow()["id"].to_pylist()

    runners = [("lakelet, planned", planned), ("lakelet, exact", exact)]
    if not args.no_deeplake:
        import deeplake

        dl = deeplake.create(str(root / "deeplake"))
        dl.add_column("id", deeplake.types.Int64())
        dl.add_column("bucket", deeplake.types.Int64())
        dl.add_column("embedding", deeplake.types.Embedding(args.dim))
        dl.append({"id": np.arange(args.rows), "bucket": bucket, "embedding": vectors})
        dl.commit()

        def deeplake_query(q: np.ndarray, cut: int) -> list[int]:
            view = dl.query(sql_for(q, cut, "ARRAY").replace("SELECT id FROM ds", "SELECT *"))
            return [int(i) for i in view["id"][:]]

        runners.append((f"deeplake {deeplake.__version__}", deeplake_query))

    # one runner at a time over every cut: deeplake's queries leave worker threads busy for a while,
    # which slowed whatever ran right after them when the runners were interleaved
    results: dict[tuple[str, int], str] = {}
    truths = {cut: [exact_filtered_top10(vectors, bucket, q, cut) for q in queries] for cut in CUTS}
    for name, run in runners:
        for cut in CUTS:
            run(queries[0], cut)  # warm
            median, found = timed(run, queries, cut)
            rec = float(np.mean([len(set(f) & t) / 10 for f, t in zip(found, truths[cut], strict=True)]))
            results[name, cut] = f"{median * 1e3:8.1f} ms (recall {rec:.2f})"
    print(f"\nfiltered top-10 of {args.rows:,} x {args.dim}: warm median (recall vs exact numpy)")
    print(f"{'rows passing':>14} " + " ".join(f"{name:>26}" for name, _ in runners) + "  index used")
    for cut in CUTS:
        cells = " ".join(f"{results[name, cut]:>26}" for name, _ in runners)
        print(f"{cut / 10:13.1f}% {cells}  {'yes' if used[cut] else 'no'}")


if __name__ == "__main__":
    main()

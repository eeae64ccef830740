"""Memoization benchmarks: lakelet vs tarn's smart_cache, joblib.Memory and cachier, in one run.

    python benchmarks/bench_cache.py [--quick]

1. hit latency with a small argument (target <= 50 us)
2. hit with a 100 MB numpy argument (target <= 2x one sha256 pass over 100 MB)
3. %%lake_cache hit restoring a 10M-row, 4-column DataFrame vs re-reading a pickle
   (target >= 3x faster), and the first-call overhead of the magic (target < 10% of the cell)

Peers that are not installed (or fail to import) are reported as such, not skipped silently.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def best(func: Callable[[], Any], repeat: int) -> float:
    """Best (lowest) wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def per_call(func: Callable[[], Any], n: int) -> float:
    """Mean seconds per call over ``n`` calls (after one warm-up), best of 3 rounds."""
    func()
    rounds = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            func()
        rounds.append((time.perf_counter() - start) / n)
    return min(rounds)


# ------------------------------------------------------------------------------ peers
def make_lakelet(folder: Path) -> Callable[[Callable[..., Any]], Any]:
    from lakelet.cache import smart_cache

    return smart_cache(folder)


def make_tarn(folder: Path) -> Callable[[Callable[..., Any]], Any]:
    from tarn import smart_cache

    return smart_cache(str(folder))


def make_joblib(folder: Path) -> Callable[[Callable[..., Any]], Any]:
    import joblib

    return joblib.Memory(str(folder), verbose=0).cache


def make_cachier(folder: Path) -> Callable[[Callable[..., Any]], Any]:
    import cachier

    return cachier.cachier(cache_dir=str(folder))


PEERS = {"lakelet": make_lakelet, "tarn": make_tarn, "joblib": make_joblib, "cachier": make_cachier}


def small(x: int) -> int:
    return x + 1


def array_sum(a: np.ndarray) -> float:
    return float(a[::1000].sum())


def run_function_benchmarks(tmp: Path, quick: bool) -> dict[str, dict[str, float | str]]:
    results: dict[str, dict[str, float | str]] = {}
    big = np.random.default_rng(0).random(100 * 2**20 // 8)
    for name, factory in PEERS.items():
        row: dict[str, float | str] = {}
        try:
            decorate = factory(tmp / name)
        except Exception as e:  # noqa: BLE001 - a peer that cannot even start is reported, not fatal
            results[name] = {"error": f"{type(e).__name__}: {e}"}
            continue
        try:
            f = decorate(small)
            row["small_hit_us"] = per_call(lambda f=f: f(3), 200 if quick else 2000) * 1e6
            g = decorate(array_sum)
            g(big)
            row["big_hit_ms"] = best(lambda g=g: g(big), 3) * 1e3
        except Exception as e:  # noqa: BLE001 - report the failure of one peer, keep measuring the others
            row["error"] = f"{type(e).__name__}: {e}"
        results[name] = row
    # lakelet from storage (a fresh wrapper, no in-process memory of the entry)
    from lakelet.cache import smart_cache

    warm = smart_cache(tmp / "lakelet-cold")(small)
    for i in range(300):
        warm(i)

    def cold_hits() -> None:
        fresh = smart_cache(tmp / "lakelet-cold")(small)
        for i in range(300):
            fresh(i)

    results["lakelet"]["small_hit_from_storage_us"] = best(cold_hits, 3) / 300 * 1e6
    results["sha256_100MB_ms"] = {"value": best(lambda: hashlib.sha256(big).digest(), 3) * 1e3}
    return results


# ------------------------------------------------------------------------------ the magic
CELL = """\
rng = np.random.default_rng(7)
frame = pd.DataFrame({
    "a": rng.random(N),
    "b": rng.integers(0, 1000, N),
    "c": rng.random(N).astype("float32"),
    "d": np.arange(N),
})
frame["a"] = np.sqrt(frame["a"] * 2.0 + 1.0)
frame = frame.sort_values("b", kind="stable").reset_index(drop=True)
stats = frame.groupby("b")["a"].mean()
"""


def run_magic_benchmark(tmp: Path, quick: bool) -> dict[str, float]:
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from lakelet.config import config_set

    rows = 1_000_000 if quick else 10_000_000
    shell = InteractiveShell.instance()
    out: dict[str, float] = {"rows": rows}
    with config_set(home=tmp / "home"):
        shell.run_cell("%load_ext lakelet")
        shell.user_ns.update(np=np, pd=pd, N=rows)

        def run(code: str) -> float:
            with capture_output():
                start = time.perf_counter()
                result = shell.run_cell(code)
                elapsed = time.perf_counter() - start
            result.raise_error()
            return elapsed

        out["plain_cell_s"] = min(run(CELL) for _ in range(2))
        lake = tmp / "magic-lake"
        magic = f"%%lake_cache bench --storage {lake}\n" + CELL
        out["first_call_s"] = run(f"%%lake_cache bench --force --storage {lake}\n" + CELL)
        out["hit_s"] = min(run(magic) for _ in range(3))
        frame = shell.user_ns["frame"]
        pickled = tmp / "frame.pkl"
        with open(pickled, "wb") as f:
            pickle.dump((frame, shell.user_ns["stats"]), f, protocol=5)

        def unpickle() -> None:
            with open(pickled, "rb") as f:
                pickle.load(f)  # noqa: S301 - our own file

        out["pickle_read_s"] = best(unpickle, 3)
    return out


# ------------------------------------------------------------------------------ report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory(prefix="lakelet-bench-") as folder:
        tmp = Path(folder)
        os.environ.setdefault("LAKELET_HOME", str(tmp / "home"))
        functions = run_function_benchmarks(tmp, args.quick)
        magic = run_magic_benchmark(tmp, args.quick)

    sha = functions.pop("sha256_100MB_ms")["value"]
    print("\n== smart_cache hits ==")
    print(f"{'peer':<10} {'small-arg hit':>15} {'100 MB numpy arg hit':>22}")
    lake = functions["lakelet"]
    for name, row in functions.items():
        if "error" in row and "small_hit_us" not in row:
            print(f"{name:<10} unavailable: {row['error']}")
            continue
        small_hit = f"{row['small_hit_us']:.1f} us" if "small_hit_us" in row else "-"
        big_hit = f"{row['big_hit_ms']:.1f} ms" if "big_hit_ms" in row else "-"
        print(f"{name:<10} {small_hit:>15} {big_hit:>22}" + (f"   ({row['error']})" if "error" in row else ""))
    print(f"lakelet small-arg hit read from storage (fresh wrapper): {lake['small_hit_from_storage_us']:.1f} us")
    print(f"one sha256 pass over 100 MB: {sha:.1f} ms")
    print("\nratios (peer time / lakelet time, >1 means lakelet is faster):")
    for name, row in functions.items():
        if name == "lakelet" or "small_hit_us" not in row:
            continue
        ratio_small = row["small_hit_us"] / lake["small_hit_us"]
        ratio_big = row["big_hit_ms"] / lake["big_hit_ms"] if "big_hit_ms" in row else float("nan")
        print(f"  {name:<8} small {ratio_small:6.1f}x   big {ratio_big:6.2f}x")
    print(f"  lakelet big-arg hit / sha256 pass = {lake['big_hit_ms'] / sha:.2f} (target <= 2)")
    print(f"  lakelet small-arg hit = {lake['small_hit_us']:.1f} us (target <= 50 us)")

    print(f"\n== %%lake_cache, {magic['rows']:,} rows x 4 columns ==")
    print(f"cell without the magic : {magic['plain_cell_s']:.3f} s")
    print(f"first call (miss+store): {magic['first_call_s']:.3f} s")
    print(f"hit (restore)          : {magic['hit_s'] * 1e3:.1f} ms")
    print(f"re-reading a pickle    : {magic['pickle_read_s'] * 1e3:.1f} ms")
    print(f"  pickle / hit = {magic['pickle_read_s'] / magic['hit_s']:.1f}x (target >= 3x)")
    overhead = (magic["first_call_s"] - magic["plain_cell_s"]) / magic["plain_cell_s"]
    print(f"  first-call overhead = {overhead * 100:.1f}% of the cell's time (target < 10%)")


if __name__ == "__main__":
    main()

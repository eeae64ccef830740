"""Staleness scenarios (issue 10) against lakelet, joblib.Memory and tarn's smart_cache.

    python benchmarks/compare_stale.py [--markdown]

Runs the function scenarios of ``tests/cache/test_stale_functions.py`` for
each memoizer, every step in a fresh process: version 1 fills the cache, the
files are edited to version 2, and a second process calls each case again. A
memoizer is right on a case when the second call returns what an uncached call
returns and hits exactly when the expected outcome is a hit (a spurious miss is
reported as such: not wrong, but slower). Hits of the peers are observed
through their own lookup APIs (``MemorizedFunc.check_call_in_cache`` for
joblib, the index of tarn's ``smart_cache``) without changing the function.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("lakelet", "joblib", "tarn")

SHIM = '''\
"""smart_cache(STORE) for a peer memoizer, counting hits through the peer's own lookup."""
import collections, os

PEER = os.environ["PEER"]
Info = collections.namedtuple("Info", "hits")


class Cached:
    def __init__(self, fn, store):
        self.__wrapped__ = fn
        self.hits = 0
        if PEER == "joblib":
            import joblib

            self.impl = joblib.Memory(store + "-joblib", verbose=0).cache(fn)
            self.probe = self.impl.check_call_in_cache
        else:
            from tarn import smart_cache

            self.impl = smart_cache(store + "-tarn")(fn)
            cells = dict(zip(self.impl.__code__.co_freevars, (c.cell_contents for c in self.impl.__closure__)))

            def probe(*args):
                bound = cells["signature"].bind(*args)
                key = cells["pool"].prepare((cells["func"], *bound.arguments.values()))
                return cells["pool"].read(key, error=False)[1]

            self.probe = probe

    def __call__(self, *args):
        self.hits += bool(self.probe(*args))
        return self.impl(*args)

    def cache_info(self):
        return Info(self.hits)


def smart_cache(store):
    return lambda fn: Cached(fn, store)
'''

DRIVER = """\
import importlib, json, sys, traceback
report = {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module("case_" + name)
        if hasattr(module, "setup"):
            module.setup()
        args = getattr(module, "ARGS", (5,))
        value = module.f(*args)
        plain = module.f.__wrapped__(*args)
        report[name] = {"hit": module.f.cache_info().hits == 1, "value": repr(value), "uncached": repr(plain)}
    except Exception as e:
        report[name] = {"error": f"{type(e).__name__}: {str(e)[:120]}"}
print(json.dumps(report))
"""


def load_scenarios() -> Any:
    path = ROOT / "tests" / "cache" / "test_stale_functions.py"
    spec = importlib.util.spec_from_file_location("stale_scenarios", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_peer(peer: str, scenarios: Any, tmp: Path) -> dict[str, dict[str, Any]]:
    project = tmp / peer
    project.mkdir()
    (project / "driver.py").write_text(DRIVER)
    (project / "peer_shim.py").write_text(SHIM)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        LAKE=str(tmp / f"{peer}-lake"),
        LAKELET_HOME=str(tmp / f"{peer}-home"),
        PYTHONDONTWRITEBYTECODE="1",
        PEER=peer,
    )
    header = scenarios.HEADER
    if peer != "lakelet":
        header = header.replace("from lakelet.cache import smart_cache", "from peer_shim import smart_cache")
    cases = list(scenarios.CASES)
    results = {}
    for version in (0, 1):
        scenarios._write(project, version)
        for name in cases:  # the peer's header in place of lakelet's
            path = project / f"case_{name}.py"
            path.write_text(path.read_text().replace(scenarios.HEADER, header, 1))
        done = subprocess.run(
            [sys.executable, "driver.py", *cases], cwd=project, env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            raise RuntimeError(f"{peer}: the driver failed:\n{done.stderr[-2000:]}")
        results = json.loads(done.stdout)
    return results


def verdict(expected: str, got: dict[str, Any]) -> tuple[str, str]:
    """(short mark, words) for one case of one peer."""
    if "error" in got:
        return "error", got["error"]
    outcome = "hit" if got["hit"] else "miss"
    if got["value"] != got["uncached"]:
        return "STALE", f"{outcome}: returned {got['value']}, an uncached call returns {got['uncached']}"
    if outcome != expected:
        return "spurious miss" if outcome == "miss" else "right value, unexpected hit", outcome
    return "ok", outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for docs)")
    args = parser.parse_args()
    scenarios = load_scenarios()
    table: dict[str, dict[str, tuple[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="lakelet-stale-") as folder:
        for peer in PEERS:
            try:
                found = run_peer(peer, scenarios, Path(folder))
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                print(f"{peer}: unavailable ({e})", file=sys.stderr)
                continue
            table[peer] = {name: verdict(scenarios.CASES[name][2], found[name]) for name in scenarios.CASES}
    peers = list(table)
    if args.markdown:
        print("| scenario (expected) | " + " | ".join(peers) + " |")
        print("|---|" + "---|" * len(peers))
        for name, case in scenarios.CASES.items():
            cells = [f"{table[p][name][0]} ({table[p][name][1]})" if table[p][name][0] == "ok" else
                     f"**{table[p][name][0]}** ({table[p][name][1]})" for p in peers]
            print(f"| {name} ({case[2]}) | " + " | ".join(cells) + " |")
    else:
        width = max(len(n) for n in scenarios.CASES) + 8
        print(f"{'scenario (expected)':<{width}}" + "".join(f"{p:<34}" for p in peers))
        for name, case in scenarios.CASES.items():
            row = "".join(f"{(table[p][name][0] + ' ' + table[p][name][1])[:32]:<34}" for p in peers)
            print(f"{name + ' (' + case[2] + ')':<{width}}{row}")
    for peer in peers:
        marks = [mark for mark, _ in table[peer].values()]
        print(
            f"\n{peer}: {marks.count('ok')}/{len(marks)} right, {marks.count('STALE')} stale, "
            f"{marks.count('spurious miss')} spurious misses, {marks.count('error')} errors",
            end="",
        )
    print()


if __name__ == "__main__":
    main()

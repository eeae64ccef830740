"""Smoke test: ``benchmarks/bench_storage.py --quick`` runs in-process and prints its table.

No timing thresholds: the figures depend on the machine; this only checks that
every case runs, the zero-copy check passes, and nothing is left behind.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_storage.py"


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("bench_storage", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def test_quick_run_prints_a_results_table(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    work, out = tmp_path / "work", tmp_path / "results.json"
    work.mkdir()
    argv = ["--quick", "--small-count", "200", "--big-size", "8 MiB", "--tmp-dir", str(work), "--json", str(out)]
    assert bench.main(argv) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.startswith("case"))
    for column in ("lakelet", "reference", "ratio", "target", "status"):
        assert column in header
    for case in (
        "write 200 x 1 KiB",
        "read 200 (bytes)",
        "read 200 (path, zero-copy)",
        "sha256 (hashlib, 1 core, in memory)",
        "write 8 MiB from a path / sha256",
        "write 8 MiB from a pipe / sha256",
        "Levels(Small(Memory), disk), warm",
    ):
        assert case in printed
    assert "zero-copy read: CONFIRMED" in printed
    assert "load average" in printed
    assert list(work.iterdir()) == []  # the run removed its temp folder

    results = json.loads(out.read_text())
    rows = {row["case"]: row for row in results["rows"]}
    assert rows["write 200 x 1 KiB"]["lakelet"] > 0
    assert rows["write 8 MiB from a path / sha256"]["target"] == 0.8


def test_options_reject_nonsense(bench: ModuleType) -> None:
    with pytest.raises(ValueError, match="repeats"):
        bench.Options(repeats=0)
    with pytest.raises(ValueError, match="unknown cases"):
        bench.Options(cases=("small", "nope"))


def test_dask_benchmark_quick_run_prints_both_tables() -> None:
    """``bench_dask.py --quick`` in its own process (a LocalCluster must not start inside pytest's)."""
    import subprocess

    pytest.importorskip("distributed")
    script = BENCH.with_name("bench_dask.py")
    proc = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "lakelet cached_map, warm" in proc.stdout and "ds.to_dask(columns=['x']).x.sum()" in proc.stdout

"""Helpers shared by the benchmarks: timing (best of N), machine load, result tables.

Nothing here knows about storage; ``bench_storage.py`` uses it to time lakelet
and tarn side by side in one process.
"""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GB = 1e9  # throughput is reported in decimal GB/s, like disk and network figures


def compile_lakelet() -> None:
    """Byte-compile lakelet's sources, so a cold start imports it the way a user's install does.

    pip byte-compiles every package it installs (the peers here), but an editable install only gets
    ``.pyc`` files when Python writes them on import, which ``PYTHONDONTWRITEBYTECODE=1`` (set on
    this machine) forbids: without this, every "cold" lakelet figure would include compiling ~90
    modules from source (``import lakelet.datasets.dask_io``: 92 ms instead of 16 ms), a cost no user
    with a normal install pays. Cheap when already compiled.
    """
    import compileall

    import lakelet

    compileall.compile_dir(Path(lakelet.__file__).parent, quiet=1)


@dataclass
class Timing:
    """Best (shortest) wall and CPU seconds over the repeats of one measurement."""

    wall: float
    cpu: float
    runs: list[float] = field(default_factory=list)

    def rate(self, count: float) -> float:
        """``count`` units per second of the best wall time."""
        return count / self.wall if self.wall > 0 else float("inf")


class Stopwatch:
    """Wall and process-CPU time of one ``with`` block (CPU includes every thread)."""

    def __enter__(self) -> Stopwatch:
        self._cpu0 = time.process_time()
        self._wall0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._wall0
        self.cpu = time.process_time() - self._cpu0


def best_of(timings: Iterable[Stopwatch]) -> Timing:
    """Fold stopwatches of repeated runs into the best one (noise only ever adds time)."""
    done = list(timings)
    if not done:
        raise ValueError("best_of needs at least one timed run")
    best = min(done, key=lambda s: s.wall)
    return Timing(best.wall, min(s.cpu for s in done), [s.wall for s in done])


# ----------------------------------------------------------------------------- machine load
def _cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    values = [int(v) for v in fields[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def _pressure_stall_us(resource_name: str) -> int | None:
    """Total microseconds some task waited for ``resource_name`` (cpu, io), from Linux PSI."""
    try:
        with open(f"/proc/pressure/{resource_name}") as f:
            some = f.readline().split()
    except OSError:
        return None
    for item in some:
        if item.startswith("total="):
            return int(item[6:])
    return None


def _own_cpu_seconds() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for helpers (cat, redis-server)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class LoadMonitor:
    """How busy the machine was while the benchmark ran, and how much of that was others.

    ``others`` is the CPU time used by *other* processes as a fraction of all
    CPUs over the run (0.5 on a 2-core machine: one core was busy elsewhere).
    """

    def __init__(self) -> None:
        self.cpus = os.cpu_count() or 1
        self.load_start = os.getloadavg()
        self._jiffies = _cpu_jiffies()
        self._own = _own_cpu_seconds()
        self._wall = time.monotonic()
        self._stalls = {name: _pressure_stall_us(name) for name in ("cpu", "io")}
        self.load_end: tuple[float, float, float] | None = None
        self.busy: float | None = None
        self.others: float | None = None
        self.stalled: dict[str, float] = {}

    def stop(self) -> None:
        wall = time.monotonic() - self._wall
        own = _own_cpu_seconds() - self._own
        self.load_end = os.getloadavg()
        for name, start in self._stalls.items():
            stop = _pressure_stall_us(name)
            if start is not None and stop is not None and wall > 0:
                self.stalled[name] = (stop - start) / 1e6 / wall
        end = _cpu_jiffies()
        if self._jiffies is None or end is None or wall <= 0:
            return
        busy, total = end[0] - self._jiffies[0], end[1] - self._jiffies[1]
        if total <= 0:
            return
        self.busy = busy / total
        # busy/total is the machine's utilisation; subtract our own share of all CPUs
        self.others = max(self.busy - own / (wall * self.cpus), 0.0)

    def describe(self) -> str:
        cpu = platform.processor() or platform.machine()
        lines = [f"machine: {self.cpus} CPUs ({cpu}), Python {platform.python_version()}"]
        end = self.load_end or os.getloadavg()
        lines.append(f"load average (1 min): {self.load_start[0]:.2f} at start, {end[0]:.2f} at end")
        if self.busy is not None and self.others is not None:
            lines.append(
                f"CPU busy during the run: {self.busy:.0%} of all CPUs, of which other processes: {self.others:.0%}"
            )
        if self.stalled:
            waits = ", ".join(f"{name} {share:.0%}" for name, share in self.stalled.items())
            lines.append(f"share of the run some task waited for a resource (Linux PSI): {waits}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cpus": self.cpus,
            "load_start": self.load_start,
            "load_end": self.load_end,
            "busy": self.busy,
            "others": self.others,
            "stalled": self.stalled,
        }


# ----------------------------------------------------------------------------- results
@dataclass
class Row:
    """One line of the results table.

    ``ratio`` is lakelet / reference (tarn, or the sha256 rate for throughput rows);
    ``target`` is the smallest ratio that meets the goal, if this row has one.
    """

    case: str
    unit: str
    lakelet: float | None
    reference: float | None = None
    reference_name: str = "tarn"
    target: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.lakelet is None or not self.reference:
            return None
        return self.lakelet / self.reference

    @property
    def met(self) -> bool | None:
        if self.target is None or self.ratio is None:
            return None
        return self.ratio >= self.target

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "met": self.met}


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "GB/s":
        return f"{value:.2f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def render_table(rows: list[Row]) -> str:
    """A plain-text table: case, unit, lakelet, reference, ratio, target, status, note."""
    header = ["case", "unit", "lakelet", "reference", "ratio", "target", "status", "note"]
    lines = []
    for row in rows:
        reference = _num(row.reference, row.unit)
        if row.reference is not None:
            reference = f"{reference} ({row.reference_name})"
        status = {None: "", True: "MET", False: "MISSED"}[row.met]
        lines.append(
            [
                row.case,
                row.unit,
                _num(row.lakelet, row.unit),
                reference,
                "-" if row.ratio is None else f"{row.ratio:.2f}x",
                "" if row.target is None else f">= {row.target:g}x",
                status,
                row.note,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    numeric = {2, 3, 4}

    def fmt(cells: list[str]) -> str:
        out = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), rule, *(fmt(line) for line in lines)])


def timed_repeats(repeats: int, run: Callable[[int], Stopwatch]) -> Timing:
    """Call ``run(i)`` ``repeats`` times (it times its own critical section) and keep the best."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    return best_of(run(i) for i in range(repeats))

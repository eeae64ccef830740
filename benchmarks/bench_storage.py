"""Storage benchmark: lakelet's HashKeyStorage side by side with tarn's, in one process.

Cases (each lakelet figure is printed next to tarn's, or next to the machine's
sha256 rate for big-file throughput, with the ratio and the target):

* ``small``  -- N writes of distinct small values (1 KiB) on a local disk, then N
  reads of them: the bytes, and the zero-copy path form (``read()`` yields the
  stored file itself; checked, not assumed).
* ``big``    -- one big file (1 GiB) written from a path and read back, against
  the single-core sha256 rate measured in the same run.
* ``pipe``   -- the same big value written from a non-seekable stream (a pipe).
* ``levels`` -- reads of small values through ``Levels(Small(tier), disk)`` with
  an in-process ``Memory`` tier and a ``redis-server`` tier, against disk alone.

Each measurement is repeated (``--repeats``) with lakelet and tarn alternating
who goes first, and the best run is kept: other work on the machine only ever
adds time. The machine's load during the run is reported with the table.

Run ``python benchmarks/bench_storage.py`` (full sizes, a few minutes) or with
``--quick`` (seconds). Everything is written under one temp folder, removed at
the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import GB, LoadMonitor, Row, Stopwatch, Timing, best_of, render_table, timed_repeats  # noqa: E402

import lakelet  # noqa: E402
from lakelet import Disk, HashKeyStorage, Levels, Memory, Small  # noqa: E402
from lakelet.registry import parse_size  # noqa: E402

try:
    import tarn
except ImportError:  # the comparison is optional: lakelet's own figures still print
    tarn = None

CASES = ("small", "big", "pipe", "levels")
KiB, MiB, GiB = 2**10, 2**20, 2**30
_READ_CHUNK = 1 * MiB  # measured: 8 MiB buffers read and write markedly slower on this VM


@dataclass(frozen=True)
class Options:
    """What to measure and how big."""

    small_count: int = 10_000
    small_size: int = 1 * KiB
    big_size: int = 1 * GiB
    repeats: int = 3
    small_tier_max: int = 100 * KiB
    redis: bool = True
    cases: tuple[str, ...] = CASES
    tmp_dir: Path | None = None

    def __post_init__(self) -> None:
        for name in ("small_count", "small_size", "big_size", "repeats", "small_tier_max"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        unknown = set(self.cases) - set(CASES)
        if unknown:
            raise ValueError(f"unknown cases {sorted(unknown)}; choose from {', '.join(CASES)}")


QUICK = {"small_count": 500, "big_size": 32 * MiB, "repeats": 2}


@dataclass
class Report:
    options: Options
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: LoadMonitor | None = None

    def render(self) -> str:
        o = self.options
        head = (
            f"lakelet {lakelet.__version__} vs tarn {getattr(tarn, '__version__', '(not installed)')}: "
            f"{o.small_count:,} x {human(o.small_size)} values, one {human(o.big_size)} file, "
            f"best of {o.repeats}"
        )
        parts = [head, "", render_table(self.rows)]
        if self.notes:
            parts += ["", *(f"* {n}" for n in self.notes)]
        if self.load is not None:
            parts += ["", self.load.describe()]
        return "\n".join(parts)

    def as_dict(self) -> dict[str, Any]:
        options = asdict(self.options)
        options["tmp_dir"] = str(self.options.tmp_dir) if self.options.tmp_dir else None
        return {
            "options": options,
            "rows": [row.as_dict() for row in self.rows],
            "notes": self.notes,
            "load": self.load.as_dict() if self.load else None,
        }


def human(size: int) -> str:
    for unit, factor in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


# ----------------------------------------------------------------------------- small values
def bench_small(opts: Options, root: Path, report: Report) -> None:
    values = [os.urandom(opts.small_size) for _ in range(opts.small_count)]
    n = len(values)
    stores: dict[str, Any] = {}

    def write_run(name: str, make: Callable[[Path], Any]) -> Callable[[int], Stopwatch]:
        def run(i: int) -> Stopwatch:
            storage = make(root / f"small-{name}-{i}")
            with Stopwatch() as sw:
                for value in values:
                    storage.write(value)
            stores[name] = storage  # the last run's store is read below
            return sw

        return run

    lw, tw = _alternate(
        opts.repeats, write_run("lakelet", HashKeyStorage), write_run("tarn", tarn.HashKeyStorage) if tarn else None
    )
    report.rows.append(_rate_row(f"write {n:,} x {human(opts.small_size)}", n, lw, tw, target=3))

    lakelet_store: HashKeyStorage = stores["lakelet"]
    lkeys = [hashlib.sha256(v).hexdigest() for v in values]
    random.Random(0).shuffle(lkeys)
    tkeys = [bytes.fromhex(k) for k in lkeys]
    if not all(k in lakelet_store for k in lkeys[:100]):
        raise RuntimeError("lakelet did not store the values it was given")

    def read_bytes_run(store: Any, keys: list[Any], read: Callable[[Any, Any], bytes]) -> Callable[[int], Stopwatch]:
        def run(_: int) -> Stopwatch:
            with Stopwatch() as sw:
                for key in keys:
                    read(store, key)
            return sw

        return run

    def read_path_run(store: Any, keys: list[Any]) -> Callable[[int], Stopwatch]:
        def run(_: int) -> Stopwatch:
            with Stopwatch() as sw:
                for key in keys:
                    with store.read(key):
                        pass
            return sw

        return run

    tarn_store = stores.get("tarn")
    lr, tr = _alternate(
        opts.repeats,
        read_bytes_run(lakelet_store, lkeys, lambda s, k: s.read_bytes(k)),
        read_bytes_run(tarn_store, tkeys, _tarn_read_bytes) if tarn_store else None,
    )
    report.rows.append(
        _rate_row(f"read {n:,} (bytes)", n, lr, tr, target=2, note="lakelet read_bytes; tarn read + Path.read_bytes")
    )
    lp, tp = _alternate(
        opts.repeats, read_path_run(lakelet_store, lkeys), read_path_run(tarn_store, tkeys) if tarn_store else None
    )
    report.rows.append(_rate_row(f"read {n:,} (path, zero-copy)", n, lp, tp, target=2, note="with read(key) as path"))

    ok, detail = check_zero_copy(lakelet_store, lkeys, values)
    report.notes.append(f"zero-copy read: {'CONFIRMED' if ok else 'NOT confirmed'} for lakelet ({detail})")


def _tarn_read_bytes(storage: Any, key: bytes) -> bytes:
    with storage.read(key) as value:
        return value.read_bytes() if isinstance(value, Path) else value.read()


def check_zero_copy(storage: HashKeyStorage, keys: Sequence[str], values: Sequence[bytes]) -> tuple[bool, str]:
    """Check that ``read`` yields the stored file itself: a path inside the storage root,
    named after its key, the same inode on every read, and no new file under the root."""
    root = getattr(storage.location, "root", None)
    if root is None:
        return False, f"{type(storage.location).__name__} has no local root"
    root = Path(root).resolve()
    by_key = {hashlib.sha256(v).hexdigest(): v for v in values}
    before = _count_files(root)
    for i, key in enumerate(keys):
        with storage.read(key) as first, storage.read(key) as second:
            if not isinstance(first, Path):
                return False, f"read yielded a {type(first).__name__}, not a Path"
            path = first.resolve()
            if not path.is_relative_to(root) or ".tmp" in path.relative_to(root).parts:
                return False, f"{first} is not a stored file under {root}"
            if path.parent.name + path.name != key:
                return False, f"{first} is not named after its key"
            if os.stat(first).st_ino != os.stat(second).st_ino:
                return False, "two reads of one key yielded different files"
            if i < 100 and first.read_bytes() != by_key[key]:  # a content spot-check
                return False, f"{first} holds other bytes than were written"
    after = _count_files(root)
    if after != before:
        return False, f"reads created {after - before} files under the root"
    return True, f"{len(keys):,} reads yielded the stored files inside the root, no file was added"


def _count_files(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


# ----------------------------------------------------------------------------- big values
def sha256_rate(size: int, repeats: int) -> Timing:
    """Best single-call hashlib.sha256 time over an in-memory buffer of ``size`` bytes."""
    buffer = os.urandom(size)

    def run(_: int) -> Stopwatch:
        with Stopwatch() as sw:
            hashlib.sha256(buffer).digest()
        return sw

    return timed_repeats(repeats, run)


def make_source(path: Path, size: int) -> str:
    """A file of ``size`` pseudo-random bytes, flushed to the disk; returns its sha256.

    The fsync matters: left dirty, its pages would eat the kernel's dirty-page
    budget and throttle the writes being measured.
    """
    block = os.urandom(min(size, 64 * MiB))
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            piece = memoryview(block)[: min(left, len(block))]
            f.write(piece)
            h.update(piece)
            left -= len(piece)
        f.flush()
        os.fsync(f.fileno())
    return h.hexdigest()


def read_through(path: Path) -> int:
    """Read a file to the end in big chunks (no copy kept); returns the bytes read."""
    with open(path, "rb", buffering=0) as f:
        return _drain(f)


@dataclass
class _BigRuns:
    """Stopwatches of one library's big-file runs: write, read back, verified read (lakelet)."""

    write: list[Stopwatch] = field(default_factory=list)
    read: list[Stopwatch] = field(default_factory=list)
    verified: list[Stopwatch] = field(default_factory=list)


def bench_big(opts: Options, root: Path, report: Report, sha: Timing) -> None:
    """Per run and library: write the file (timed), read it back (timed), delete it.

    Deleting each copy before the next run drops its dirty pages, so no run is
    throttled by the writeback of an earlier one.
    """
    size = opts.big_size
    src = root / "big-source"
    digest = make_source(src, size)
    label = human(size)
    runs = {"lakelet": _BigRuns(), "tarn": _BigRuns()}

    def one(name: str, i: int) -> None:
        folder = root / f"big-{name}-{i}"
        storage = HashKeyStorage(folder) if name == "lakelet" else tarn.HashKeyStorage(str(folder))
        with Stopwatch() as sw:
            key = storage.write(str(src))
        runs[name].write.append(sw)
        hex_key = key if isinstance(key, str) else key.hex()
        if hex_key != digest:
            raise RuntimeError(f"{name} stored the big file under {hex_key}, expected {digest}")
        with Stopwatch() as sw, storage.read(key) as value:
            got = read_through(value) if isinstance(value, Path) else _drain(value)
        runs[name].read.append(sw)
        if got != size:
            raise RuntimeError(f"{name} read back {got} bytes, expected {size}")
        if name == "lakelet":
            with Stopwatch() as sw, HashKeyStorage(storage.location, verify=True).read(key) as value:
                read_through(value)
            runs[name].verified.append(sw)
        shutil.rmtree(folder)

    for i in range(opts.repeats):
        order = ["lakelet", "tarn"] if i % 2 == 0 else ["tarn", "lakelet"]
        for name in order:
            if name == "tarn" and tarn is None:
                continue
            one(name, i)

    lk, tn = runs["lakelet"], runs["tarn"]
    lw, lr, lv = best_of(lk.write), best_of(lk.read), best_of(lk.verified)
    tw = best_of(tn.write) if tn.write else None
    tr = best_of(tn.read) if tn.read else None
    sha_rate = sha.rate(_sha_size(opts) / GB)
    report.rows.append(_gbps_row(f"write {label} from a path", size, lw, tw))
    report.rows.append(
        Row(f"write {label} from a path / sha256", "GB/s", lw.rate(size / GB), sha_rate, "sha256", target=0.8)
    )
    report.rows.append(_gbps_row(f"read {label} (path, 1 MiB chunks)", size, lr, tr))
    report.rows.append(
        Row(f"read {label} verified / sha256", "GB/s", lv.rate(size / GB), sha_rate, "sha256", note="verify=True")
    )
    if "pipe" in opts.cases:
        bench_pipe(opts, root, report, src, digest, sha_rate)
    src.unlink()


def _sha_size(opts: Options) -> int:
    return min(opts.big_size, 256 * MiB)


def _drain(stream: Any) -> int:
    """Read a binary stream to its end with ``readinto`` into one reused buffer; the byte count."""
    buf = memoryview(bytearray(_READ_CHUNK))
    total = 0
    while got := stream.readinto(buf):
        total += got
    return total


@contextmanager
def _pipe_from(src: Path) -> Iterator[Any]:
    """A non-seekable binary stream of ``src``'s bytes: the stdout of ``cat``."""
    proc = subprocess.Popen(["cat", str(src)], stdout=subprocess.PIPE)  # noqa: S603, S607
    try:
        yield proc.stdout
    finally:
        if proc.poll() is None:
            proc.kill()  # our own child, by its handle
        proc.stdout.close()  # type: ignore[union-attr]
        proc.wait()


def bench_pipe(opts: Options, root: Path, report: Report, src: Path, digest: str, sha_rate: float | None) -> None:
    size = opts.big_size

    def raw_run(_: int) -> Stopwatch:
        with _pipe_from(src) as stream, Stopwatch() as sw:
            _drain(stream)
        return sw

    raw = timed_repeats(opts.repeats, raw_run)

    def lakelet_run(i: int) -> Stopwatch:
        folder = root / f"pipe-lakelet-{i}"
        storage = HashKeyStorage(folder)
        with _pipe_from(src) as stream:
            if stream.seekable():
                raise RuntimeError("the pipe claims to be seekable")
            with Stopwatch() as sw:
                key = storage.write(stream)
        shutil.rmtree(folder, ignore_errors=True)
        if key != digest:
            raise RuntimeError(f"lakelet stored the piped file under {key}, expected {digest}")
        return sw

    lw = timed_repeats(opts.repeats, lakelet_run)
    tarn_note = "tarn: n/a"
    if tarn is not None:
        folder = root / "pipe-tarn"
        with _pipe_from(src) as stream:
            try:
                tarn.HashKeyStorage(folder).write(stream)
                tarn_note = "tarn: accepted a pipe"
            except AssertionError:
                tarn_note = "tarn: unsupported (asserts the stream is seekable)"
        shutil.rmtree(folder, ignore_errors=True)
    pipe_rate = raw.rate(size / GB)
    label = human(size)
    report.rows.append(
        Row(f"write {label} from a pipe / sha256", "GB/s", lw.rate(size / GB), sha_rate, "sha256", note=tarn_note)
    )
    report.rows.append(
        Row(
            f"write {label} from a pipe / bare pipe",
            "GB/s",
            lw.rate(size / GB),
            pipe_rate,
            "cat|drain",
            note="the pipe alone, read and discarded",
        )
    )


# ----------------------------------------------------------------------------- levels
def bench_levels(opts: Options, root: Path, report: Report, stack: ExitStack) -> None:
    values = [os.urandom(opts.small_size) for _ in range(opts.small_count)]
    n = len(values)
    lkeys = [hashlib.sha256(v).hexdigest() for v in values]
    random.Random(1).shuffle(lkeys)
    tkeys = [bytes.fromhex(k) for k in lkeys]
    ldisk, tdisk = root / "levels-lakelet-disk", root / "levels-tarn-disk"
    seed = HashKeyStorage(ldisk)
    for v in values:
        seed.write(v)
    if tarn is not None:
        tseed = tarn.HashKeyStorage(str(tdisk))
        for v in values:
            tseed.write(v)

    def reads(make: Callable[[int], tuple[Any, Callable[[Any, Any], bytes], list[Any]]]) -> tuple[Timing, Timing]:
        """(cold, warm): a first pass through a fresh stack (copy-on-read), then passes over a warm one."""
        cold_runs, warm_runs = [], []
        for i in range(opts.repeats):
            storage, read, keys = make(i)
            with Stopwatch() as cold:
                for key in keys:
                    read(storage, key)
            cold_runs.append(cold)
            with Stopwatch() as warm:
                for key in keys:
                    read(storage, key)
            warm_runs.append(warm)
        return best_of(cold_runs), best_of(warm_runs)

    def lakelet_bytes(storage: HashKeyStorage, key: str) -> bytes:
        return storage.read_bytes(key)

    _, l_disk = reads(lambda i: (HashKeyStorage(Disk(ldisk)), lakelet_bytes, lkeys))
    t_disk = None
    if tarn is not None:
        _, t_disk = reads(lambda i: (tarn.HashKeyStorage(str(tdisk)), _tarn_read_bytes, tkeys))
    report.rows.append(_rate_row(f"read {n:,} (bytes), disk alone", n, l_disk, t_disk))

    cap = opts.small_tier_max

    def lakelet_memory(i: int) -> tuple[Any, Any, list[str]]:
        return HashKeyStorage(Levels(Small(Memory(), max_size=cap), Disk(ldisk))), lakelet_bytes, lkeys

    m_cold, m_warm = reads(lakelet_memory)
    for label, timing in (("warm", m_warm), ("cold: copy-on-read", m_cold)):
        report.rows.append(
            Row(
                f"read {n:,}, Levels(Small(Memory), disk), {label}",
                "ops/s",
                timing.rate(n),
                l_disk.rate(n),
                "lakelet disk",
                note="tarn has no in-memory location",
            )
        )

    redis_server = _start_redis(opts, root, report, stack)
    if redis_server is None:
        return
    try:
        from lakelet.locations.redis import RedisLocation
    except ImportError as e:
        report.notes.append(f"Redis tier skipped: lakelet has no RedisLocation ({e})")
        return
    host, port = redis_server.host, redis_server.port

    def lakelet_redis(i: int) -> tuple[Any, Any, list[str]]:
        tier = RedisLocation(host, port, prefix=f"bench{i}")
        stack.callback(tier.close)
        return HashKeyStorage(Levels(Small(tier, max_size=cap), Disk(ldisk))), lakelet_bytes, lkeys

    r_cold, r_warm = reads(lakelet_redis)
    t_cold = t_warm = None
    if tarn is not None:

        def tarn_redis(i: int) -> tuple[Any, Any, list[bytes]]:
            tier = tarn.RedisLocation(host, port, prefix=f"tarn{i}:")
            levels = tarn.Levels(tarn.Small(tier, max_size=cap), tarn.DiskDict(str(tdisk)))
            return tarn.HashKeyStorage(levels), _tarn_read_bytes, tkeys

        t_cold, t_warm = reads(tarn_redis)
    for label, lt, tt in (("warm", r_warm, t_warm), ("cold: copy-on-read", r_cold, t_cold)):
        row = _rate_row(f"read {n:,}, Levels(Small(Redis), disk), {label}", n, lt, tt)
        speedups = f"vs own disk alone: lakelet {lt.rate(n) / l_disk.rate(n):.2f}x"
        if tt is not None and t_disk is not None:
            speedups += f", tarn {tt.rate(n) / t_disk.rate(n):.2f}x"
        row.note = speedups
        report.rows.append(row)


def _start_redis(opts: Options, root: Path, report: Report, stack: ExitStack) -> Any | None:
    if not opts.redis:
        report.notes.append("Redis tier skipped (--no-redis)")
        return None
    if shutil.which("redis-server") is None:
        report.notes.append("Redis tier skipped: no redis-server on PATH")
        return None
    from lakelet.testing.servers import RedisServer, ServerUnavailable

    server = RedisServer(workdir=root / "redis-server")  # --save '' --appendonly no, a free loopback port
    try:
        server.start()
    except ServerUnavailable as e:
        report.notes.append(f"Redis tier skipped: redis-server did not start ({e})")
        return None
    stack.callback(server.close)
    report.notes.append(f"redis-server {server.host}:{server.port} started for this run (no persistence)")
    return server


# ----------------------------------------------------------------------------- helpers
def _alternate(
    repeats: int, lakelet_run: Callable[[int], Stopwatch], tarn_run: Callable[[int], Stopwatch] | None
) -> tuple[Timing, Timing | None]:
    """Best of ``repeats`` for each, alternating which one goes first so neither always
    pays for the other's leftovers (dirty pages, a cold cache)."""
    lruns, truns = [], []
    for i in range(repeats):
        order = [("l", lakelet_run), ("t", tarn_run)]
        if i % 2:
            order.reverse()
        for who, run in order:
            if run is None:
                continue
            (lruns if who == "l" else truns).append(run(i))
    return best_of(lruns), (best_of(truns) if truns else None)


def _rate_row(
    case: str, n: int, lakelet_t: Timing, tarn_t: Timing | None, target: float | None = None, note: str = ""
) -> Row:
    cpu = f"cpu/op {lakelet_t.cpu / n * 1e6:.0f}us"
    if tarn_t is not None:
        cpu += f" vs {tarn_t.cpu / n * 1e6:.0f}us"
        if lakelet_t.cpu > 0:
            cpu += f" ({tarn_t.cpu / lakelet_t.cpu:.1f}x)"
    return Row(
        case,
        "ops/s",
        lakelet_t.rate(n),
        tarn_t.rate(n) if tarn_t else None,
        target=target,
        note="; ".join(x for x in (note, cpu) if x),
    )


def _gbps_row(case: str, size: int, lakelet_t: Timing, tarn_t: Timing | None) -> Row:
    return Row(case, "GB/s", lakelet_t.rate(size / GB), tarn_t.rate(size / GB) if tarn_t else None)


# ----------------------------------------------------------------------------- entry points
def run(opts: Options) -> Report:
    """Run the selected cases under a fresh temp folder (removed afterwards); return the report."""
    report = Report(opts)
    if tarn is None:
        report.notes.append("tarn is not installed (pip install tarn): no comparison figures")
    monitor = LoadMonitor()
    with ExitStack() as stack:
        root = Path(tempfile.mkdtemp(prefix="lakelet-bench-", dir=opts.tmp_dir))
        stack.callback(shutil.rmtree, root, ignore_errors=True)
        if "small" in opts.cases:
            bench_small(opts, root, report)
        if "big" in opts.cases or "pipe" in opts.cases:
            sha = sha256_rate(_sha_size(opts), opts.repeats)
            report.rows.append(Row("sha256 (hashlib, 1 core, in memory)", "GB/s", sha.rate(_sha_size(opts) / GB)))
            if "big" in opts.cases:
                bench_big(opts, root, report, sha)
            else:
                src = root / "big-source"
                digest = make_source(src, opts.big_size)
                bench_pipe(opts, root, report, src, digest, sha.rate(_sha_size(opts) / GB))
        if "levels" in opts.cases:
            bench_levels(opts, root, report, stack)
    monitor.stop()
    report.load = monitor
    return report


def parse_args(argv: Sequence[str] | None) -> tuple[Options, Path | None]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run (seconds)")
    p.add_argument("--small-count", type=int, help="number of small values (default 10000)")
    p.add_argument("--small-size", help="size of a small value (default 1 KiB)")
    p.add_argument("--big-size", help="size of the big file (default 1 GiB)")
    p.add_argument("--repeats", type=int, help="runs per measurement; the best is kept (default 3)")
    p.add_argument("--cases", help=f"comma-separated subset of {','.join(CASES)}")
    p.add_argument("--no-redis", action="store_true", help="skip the redis-server tier")
    p.add_argument("--tmp-dir", type=Path, help="where the temp folder goes (default: the system temp dir)")
    p.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    args = p.parse_args(argv)
    opts = Options(**QUICK) if args.quick else Options()
    changes: dict[str, Any] = {}
    if args.small_count is not None:
        changes["small_count"] = args.small_count
    if args.small_size is not None:
        changes["small_size"] = parse_size(args.small_size)
    if args.big_size is not None:
        changes["big_size"] = parse_size(args.big_size)
    if args.repeats is not None:
        changes["repeats"] = args.repeats
    if args.cases:
        changes["cases"] = tuple(c.strip() for c in args.cases.split(",") if c.strip())
    if args.no_redis:
        changes["redis"] = False
    if args.tmp_dir is not None:
        changes["tmp_dir"] = args.tmp_dir
    try:
        return replace(opts, **changes), args.json
    except ValueError as e:
        p.error(str(e))
        raise  # unreachable: p.error exits


def main(argv: Sequence[str] | None = None) -> int:
    opts, json_path = parse_args(argv)
    report = run(opts)
    print(report.render())
    if json_path is not None:
        json_path.write_text(json.dumps(report.as_dict(), indent=2, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

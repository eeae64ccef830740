"""Background persistence of %%lake_cache entries: snapshots, flush, crashes, failures, locks."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lakelet
from lakelet.cache import CacheWarning, flush, persist
from lakelet.cache import cell as cell_module
from lakelet.cache.cell import CellCache
from lakelet.errors import LakeletTimeout
from lakelet.locations.disk import Disk

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402

ROOT = str(Path(lakelet.__file__).resolve().parent.parent)


@pytest.fixture
def shell(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    """An IPython shell with the magic loaded, where every entry is written in the background."""
    monkeypatch.setattr(cell_module, "BACKGROUND_MIN", 0)
    sh = InteractiveShell.instance()
    sh.reset()
    sh.run_cell("%load_ext lakelet", store_history=False)
    sh.user_ns.update(np=np, pd=pd, LAKE=str(tmp_path / "lake"))
    yield sh
    flush()
    sh.reset()


class Gate:
    """Holds the process's cache writer busy until opened, so later writes stay pending."""

    def __init__(self) -> None:
        self.event = threading.Event()
        job = persist.WriteJob(persist.PendingWrite("cell", "gate", "0" * 64, 0, time.time()), self._wait)
        persist.writer().submit(job)

    def _wait(self) -> None:
        if not self.event.wait(60):
            raise LakeletTimeout("test gate never opened")

    def open(self) -> None:
        self.event.set()


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    try:
        yield g
    finally:
        g.open()
        flush()


def run(shell: InteractiveShell, code: str):
    with capture_output() as captured:
        result = shell.run_cell(code)
    result.raise_error()
    return captured.stdout


# ------------------------------------------------------------------------------ the writer itself
def test_writer_runs_jobs_in_order_and_waits_per_address() -> None:
    writer = persist.BackgroundWriter()
    done: list[str] = []
    release = threading.Event()

    def job(address: str, block: bool = False) -> persist.WriteJob:
        def work() -> None:
            if block:
                release.wait(30)
            done.append(address)

        return persist.WriteJob(persist.PendingWrite("cell", address, address, 10, time.time()), work)

    writer.submit(job("a", block=True))
    writer.submit(job("b"))
    assert [p.address for p in writer.pending()] == ["a", "b"]
    with pytest.raises(LakeletTimeout):
        writer.wait("b", timeout=0.05)
    release.set()
    writer.wait("b")
    assert done == ["a", "b"]
    assert writer.pending() == []
    assert writer.stats()["written"] == 2


def test_writer_queue_is_bounded_by_jobs_and_bytes() -> None:
    release, started = threading.Event(), threading.Event()

    def blocking() -> None:
        started.set()
        release.wait(30)

    def job(nbytes: int, work=lambda: None) -> persist.WriteJob:
        return persist.WriteJob(persist.PendingWrite("cell", "x", "x" * 64, nbytes, time.time()), work)

    by_jobs = persist.BackgroundWriter(max_jobs=1)
    by_bytes = persist.BackgroundWriter(max_bytes=100)
    for writer in (by_jobs, by_bytes):
        release.clear()
        started.clear()
        writer.submit(job(60, blocking))
        assert started.wait(30)  # in progress: the queue itself is empty again
        writer.submit(job(60))  # one queued job is always admitted, whatever its size
        with pytest.raises(LakeletTimeout, match="busy"):
            writer.submit(job(60), timeout=0.05)
        release.set()
        writer.wait()
    assert by_bytes.stats()["written"] == 2


def test_writer_failures_are_warnings_never_dropped() -> None:
    writer = persist.BackgroundWriter()
    counted: list[str] = []

    def boom() -> None:
        raise OSError("disk on fire")

    pending = persist.PendingWrite("cell", "burning", "f" * 64, 1, time.time())
    writer.submit(persist.WriteJob(pending, boom, on_error=counted.append))
    with pytest.warns(CacheWarning, match="burning was not stored: OSError: disk on fire"):
        writer.wait()
    assert len(counted) == 1
    assert writer.report() == 0  # reported once
    assert writer.stats()["failed"] == 1


# ------------------------------------------------------------------------------ through the magic
BIG = """%%lake_cache big --storage {LAKE}
arr = np.arange(300_000, dtype=np.float64)
frame = pd.DataFrame({{"a": np.arange(200_000), "b": np.linspace(0, 1, 200_000)}})
"""


def test_entry_appears_after_flush_and_info_shows_pending(shell: InteractiveShell, gate: Gate) -> None:
    text = BIG.format(LAKE=shell.user_ns["LAKE"])
    out = run(shell, text)
    assert "miss" in out and "in the background" in out
    info = run(shell, f"%lake_cache info big --storage {shell.user_ns['LAKE']}")
    assert "pending:" in info
    assert "big" in run(shell, "%lake_cache info")
    gate.open()
    assert "wrote" in run(shell, "%lake_cache flush")
    info = run(shell, f"%lake_cache info big --storage {shell.user_ns['LAKE']}")
    assert "present:  True" in info and "pending:" not in info
    shell.run_cell("del arr, frame")
    out = run(shell, text)
    assert "hit" in out
    np.testing.assert_array_equal(shell.user_ns["arr"], np.arange(300_000, dtype=np.float64))


def test_lookup_of_the_same_key_waits_for_its_write(shell: InteractiveShell, gate: Gate, tmp_path: Path) -> None:
    cache = CellCache(shell)
    source = "arr = np.arange(300_000)\n"
    with capture_output():
        outcome = cache.run(source, name="waits", storage=tmp_path / "lake")
    assert outcome.background
    # The gate opens a little later, from another thread; the entry cannot exist before that, so
    # only a lookup that waits for the pending write of its key finds it.
    threading.Timer(0.2, gate.open).start()
    entry, values, _ = cache.store(tmp_path / "lake").load(outcome.address)
    assert entry is not None and values is not None
    with capture_output():
        assert cache.run(source, name="waits", storage=tmp_path / "lake").hit


def test_the_lock_is_held_until_the_entry_is_published(shell: InteractiveShell, gate: Gate, home: Path) -> None:
    run(shell, BIG.format(LAKE=shell.user_ns["LAKE"]))
    (lock,) = (home / "cache" / "locks").iterdir()
    fd = os.open(lock, os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process would wait for the entry
        gate.open()
        flush()
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


MUTABLE = """%%lake_cache mutable --storage {LAKE}
base = np.zeros(100_000)
shared = pd.DataFrame({{"x": base, "y": np.arange(100_000)}}, copy=False)
arr = np.zeros(100_000)
nested = {{"big": np.zeros(300_000), "items": [1, 2]}}
table = pa.table({{"z": base}})
"""


def test_values_mutated_by_the_next_cell_are_stored_as_the_cell_left_them(shell: InteractiveShell, gate: Gate) -> None:
    shell.run_cell("import pyarrow as pa")
    text = MUTABLE.format(LAKE=shell.user_ns["LAKE"])
    assert "in the background" in run(shell, text)
    # the next cell mutates everything in place while the write is still pending
    run(shell, "base[:] = 7\narr += 1\nnested['big'][:] = 3\nnested['items'].append(3)\nshared.loc[0, 'y'] = -1")
    gate.open()
    flush()
    shell.run_cell("del base, shared, arr, nested, table")
    assert "hit" in run(shell, text)
    ns = shell.user_ns
    assert not ns["base"].any() and not ns["arr"].any() and not ns["nested"]["big"].any()
    assert ns["nested"]["items"] == [1, 2]
    assert not ns["shared"]["x"].any() and ns["shared"]["y"].iloc[0] == 0
    assert ns["table"].column("z").to_numpy().sum() == 0


def test_a_failed_background_write_is_a_cache_warning(shell: InteractiveShell, tmp_path: Path) -> None:
    cache = CellCache(shell)
    tiny = Disk(tmp_path / "tiny", max_size=10_000)  # far too small for the values
    source = "arr = np.arange(100_000)\n"
    with capture_output():
        outcome = cache.run(source, name="tiny", storage=tiny)
    assert not outcome.hit and outcome.background
    with pytest.warns(CacheWarning, match="tiny was not stored: StorageFull"):
        flush()
    assert cache.store(tiny).errors == 1
    with capture_output():
        assert not cache.run(source, name="tiny", storage=tiny).hit  # no entry was left behind
    with pytest.warns(CacheWarning, match="tiny was not stored"):
        flush()


def test_failures_are_reported_after_the_next_cell(shell: InteractiveShell, tmp_path: Path) -> None:
    cache = CellCache(shell)
    with capture_output():
        cache.run("arr = np.arange(100_000)\n", name="tiny", storage=Disk(tmp_path / "tiny", max_size=10_000))
    writer = persist.writer()
    with pytest.warns(CacheWarning, match="not stored"):
        writer.wait()  # the error is reported by whoever waits first: here, explicitly
    with capture_output():
        cache.run("arr = np.arange(100_000)\n", name="tiny", storage=Disk(tmp_path / "tiny2", max_size=10_000))
    while writer.pending():
        time.sleep(0.01)
    with pytest.warns(CacheWarning, match="not stored"), capture_output():
        shell.run_cell("1 + 1")  # the post_run_cell hook reports it


# ------------------------------------------------------------------------------ crashes and exit
CHILD = r"""
import os, sys, time
import numpy as np
from IPython.core.interactiveshell import InteractiveShell
from lakelet.cache import cell
from lakelet.cache.cell import CellCache
from lakelet.locations.disk import Disk

cell.BACKGROUND_MIN = 0
lake = sys.argv[1]
mode = sys.argv[2]


class Stall(Disk):
    # publishes blobs, then stalls before the entry is written (the crash window)
    def write(self, key, blob):
        ok = super().write(key, blob)
        if blob.size > 100_000:
            os.write(1, b"blob written\n")
            time.sleep(600)
        return ok


shell = InteractiveShell.instance()
shell.user_ns["np"] = np
storage = Stall(lake) if mode == "crash" else lake
outcome = CellCache(shell).run(SOURCE, name="crashy", storage=storage)
os.write(1, f"returned {outcome.background}\n".encode())
if mode == "crash":
    time.sleep(600)
"""
SOURCE = "data = np.arange(200_000) * 2\n"


def _child(tmp_path: Path, mode: str) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        LAKELET_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
    )
    script = CHILD.replace("SOURCE", repr(SOURCE))
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path / "lake"), mode],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _lake_blobs(lake: Path) -> int:
    return sum(1 for _ in Disk(lake).keys())


def test_sigkill_during_persist_leaves_no_entry(shell: InteractiveShell, tmp_path: Path) -> None:
    child = _child(tmp_path, "crash")
    try:
        seen = {child.stdout.readline().strip(), child.stdout.readline().strip()}  # type: ignore[union-attr]
    finally:
        child.send_signal(signal.SIGKILL)
        _, errors = child.communicate(timeout=30)
    assert seen == {"blob written", "returned True"}, errors
    assert _lake_blobs(tmp_path / "lake") == 1  # the value blob made it, the entry did not
    cache = CellCache(shell)
    with capture_output():
        first = cache.run(SOURCE, name="crashy", storage=tmp_path / "lake")
        flush()
        second = cache.run(SOURCE, name="crashy", storage=tmp_path / "lake")
    assert not first.hit and second.hit
    np.testing.assert_array_equal(shell.user_ns["data"], np.arange(200_000) * 2)


def test_pending_writes_are_flushed_at_exit(shell: InteractiveShell, tmp_path: Path) -> None:
    child = _child(tmp_path, "exit")
    out, _ = child.communicate(timeout=120)
    assert child.returncode == 0 and "returned True" in out  # it returned before the entry was written
    with capture_output():
        outcome = CellCache(shell).run(SOURCE, name="crashy", storage=tmp_path / "lake")
    assert outcome.hit

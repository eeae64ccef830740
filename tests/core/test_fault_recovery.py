"""Issue 15.14 / 15.21: a lake on a read-only mount reads (EROFS from recording access is not an
error), and staging files of writers killed with kill -9 are swept by the next write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet import HashKeyStorage

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(a folder, the same folder bind-mounted read-only); skipped where mounting is not permitted."""
    src, ro = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    ro.mkdir()
    done = subprocess.run(["mount", "--bind", str(src), str(ro)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here ({done.stderr.strip() or 'mount failed'}); needs root")
    try:
        remount = subprocess.run(["mount", "-o", "remount,bind,ro", str(ro)], capture_output=True, text=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only ({remount.stderr.strip()})")
        yield src, ro
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def test_reads_work_on_a_read_only_mount(read_only_view):
    src, ro = read_only_view
    small, big = b"small value", os.urandom(3 * 2**20)
    writer = HashKeyStorage(src / "lake")
    keys = [writer.write(small), writer.write(big)]
    with pytest.raises(OSError):
        (ro / "probe").write_bytes(b"x")  # really read-only (EROFS), even for root
    lake = HashKeyStorage(ro / "lake")
    assert lake.read_bytes(keys[0]) == small and lake.read_bytes(keys[1]) == big
    with lake.read(keys[1]) as value:
        assert (value.read_bytes() if isinstance(value, Path) else value.read()) == big
    assert lake.verify(keys[0]) and sorted(lake.keys()) == sorted(keys)
    assert lake.contains(keys[1])


WRITER = """
import sys, time
from lakelet import HashKeyStorage

class Slow:
    '''20 MiB, then nothing more: the writer is killed while staging.'''
    sent = 0
    def read(self, n=-1):
        if self.sent >= 20 * 2**20:
            print("staged", flush=True)
            time.sleep(600)
        self.sent += 2**20
        return b"x" * 2**20

HashKeyStorage(sys.argv[1]).write(Slow())
"""


def test_killed_writer_staging_is_swept_by_the_next_write(tmp_path):
    lake = tmp_path / "lake"
    HashKeyStorage(lake).write(b"first")  # the folder exists
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(lake)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "staged"
        left = [p for p in (lake / ".tmp").iterdir() if p.stat().st_size >= 20 * 2**20]
        assert left, "the writer staged nothing in .tmp"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert all(p.exists() for p in left)  # kill -9: nobody cleaned up
    mine = lake / ".tmp" / "keep-me"  # not a staging name: never touched
    mine.write_bytes(b"x")
    out = subprocess.run(
        [sys.executable, "-c", f"from lakelet import HashKeyStorage; HashKeyStorage({str(lake)!r}).write(b'next')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert not any(p.exists() for p in left) and mine.exists()
    assert HashKeyStorage(lake).read_bytes(HashKeyStorage(lake).write(b"next")) == b"next"
    time.sleep(0)  # (no timing involved: the sweep depends only on the owner being dead)

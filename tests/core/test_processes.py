"""Process-level guarantees: concurrent writers from many processes, and a writer killed mid-write."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from lakelet import Disk, HashKeyStorage


def test_concurrent_writers_of_one_key_from_processes(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    script = textwrap.dedent(
        f"""
        import os, random, sys
        from lakelet import HashKeyStorage
        random.seed(1)
        data = random.randbytes(3 * 2**20)
        small = b"small value"
        storage = HashKeyStorage({str(root)!r})
        keys = set()
        for _ in range(20):
            keys.add(storage.write(data))
            keys.add(storage.write(small))
        print(" ".join(sorted(keys)))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(6)]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(out == outputs[0] for out in outputs)
    storage = HashKeyStorage(root)
    assert sorted(storage.keys()) == outputs[0]
    for key in outputs[0]:
        assert storage.verify(key)
    assert list((root / ".tmp").iterdir()) == []  # every temporary was published or removed


def test_writer_killed_mid_write_leaves_nothing_visible(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    ready = tmp_path / "ready"
    script = textwrap.dedent(
        f"""
        import pathlib, time
        from lakelet import HashKeyStorage

        class Slow:
            def __init__(self):
                self.sent = 0
            def read(self, n=-1):
                if self.sent > 40 * 2**20:
                    pathlib.Path({str(ready)!r}).touch()
                    time.sleep(0.05)
                self.sent += 2**20
                return b"x" * 2**20

        HashKeyStorage({str(root)!r}).write(Slow())
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, "writer exited early"
        assert time.monotonic() < deadline, "writer never got going"
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    storage = HashKeyStorage(Disk(root))
    assert list(storage.keys()) == []
    assert storage.usage().entries == 0
    leftovers = list((root / ".tmp").iterdir())
    assert leftovers  # the half-written temporary exists, but only under .tmp
    assert storage.gc().evicted == 0
    Disk(root).purge_temporaries(max_age=0)
    assert list((root / ".tmp").iterdir()) == []


def test_value_written_by_one_process_is_read_by_another(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    data = os.urandom(10_000)
    key = hashlib.sha256(data).hexdigest()
    HashKeyStorage(root).write(data)
    code = (f"from lakelet import HashKeyStorage; import sys; "
            f"sys.stdout.buffer.write(HashKeyStorage({str(root)!r}).read_bytes({key!r}))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True).stdout
    assert out == data

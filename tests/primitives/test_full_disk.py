"""Issue 15.18: a full disk under an embedded environment is a StorageFull naming the file, not a raw
``sqlite3.OperationalError``; what was acknowledged before stays readable.

The environment lives on a real 2 MiB tmpfs mounted for the test (the suite runs as root)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet.config import config_set
from lakelet.errors import StorageFull
from lakelet.primitives import Dict, Queue


@pytest.fixture
def small_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root")
    try:
        home = mnt / "home"
        home.mkdir()
        monkeypatch.setenv("LAKELET_HOME", str(home))
        with config_set(home=home):
            yield home
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(put, n: int = 200) -> tuple[list[int], StorageFull]:
    """Call put(i) until the disk is full: the indexes acknowledged, and the error."""
    acked = []
    for i in range(n):
        try:
            put(i)
        except StorageFull as e:
            return acked, e
        acked.append(i)
    raise AssertionError(f"{n} puts fitted on a 2 MiB disk")


def test_dict_and_queue_on_a_full_disk_raise_storage_full(small_home):
    d = Dict.from_name("full", create_if_missing=True)
    q = Queue.from_name("full", create_if_missing=True)
    q.put("first")
    acked, error = _fill(lambda i: d.put(i, os.urandom(64 * 1024)))
    assert "full" in str(error) and ".sqlite" in str(error)  # names the file
    assert acked and all(len(d[i]) == 64 * 1024 for i in acked)
    _, error = _fill(lambda i: q.put(os.urandom(64 * 1024)))
    assert "full" in str(error)
    assert d.get(acked[0]) is not None and q.peek() == ["first"]

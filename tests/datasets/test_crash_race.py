"""A writer SIGKILLed mid-commit leaves the previous version readable; racing writers: one wins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lakelet.datasets as L
from lakelet.datasets import types

REPO = str(Path(__file__).resolve().parents[2])

WORKER = r"""
import json, os, sys, time
import numpy as np
import lakelet.datasets as L
from lakelet.datasets import refs

url, creds, mode, go = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
ds = L.open(url, creds=creds)
n = 50_000 if mode != "race" else 10
ds.append({"n": np.arange(n), "emb": np.ones((n, 32), dtype=np.float32)})
if mode == "hang-before-head":
    def stuck(*args, **kwargs):
        print("READY", flush=True)
        time.sleep(120)
    refs.move = stuck
if mode in ("hang-before-head", "kill-anywhere"):
    print("COMMITTING", flush=True)
    ds.commit("killed")
    print("DONE", flush=True)
    time.sleep(120)
if mode == "race":
    print("READY", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    try:
        ds.commit("race")
        print("WON", flush=True)
    except L.CommitConflict as e:
        print("CONFLICT", e, flush=True)
"""


@pytest.fixture(params=["local", "s3"])
def target(request, tmp_path):
    if request.param == "local":
        url, creds = str(tmp_path / "ds"), {}
    else:
        server = request.getfixturevalue("s3_server")
        creds = server.creds
        url = f"s3://{server.new_bucket()}/ds"
    ds = L.create(url, creds=creds, schema={"n": types.Int64(), "emb": types.Embedding(32)})
    ds.append({"n": [1, 2, 3], "emb": [[0.0] * 32] * 3})
    ds.commit("base")
    return url, creds


def _spawn(url, creds, mode, go=""):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, url, json.dumps(creds), mode, go],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _wait_for(proc, word, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if word in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"worker exited early: {proc.stderr.read()}")
    raise AssertionError(f"worker never printed {word}")


def _check_intact(url, creds, allowed):
    ds = L.open(url, creds=creds)
    assert len(ds) in allowed
    assert ds["n"][:3].tolist() == [1, 2, 3]
    assert ds.query("SELECT count(*) AS c")["c"] == [len(ds)]
    ds.append({"n": 4, "emb": [1.0] * 32})
    ds.commit("after the crash")  # the branch is not wedged
    assert len(L.open(url, creds=creds)) == len(ds)


def test_kill_after_data_before_head(target):
    url, creds = target
    proc = _spawn(url, creds, "hang-before-head")
    try:
        _wait_for(proc, "READY")  # files and manifest written, head not moved yet
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _check_intact(url, creds, allowed={3})
    assert [v.message for v in L.open(url, creds=creds).history][1:] == ["base", "created"]


def test_kill_while_writing(target):
    url, creds = target
    proc = _spawn(url, creds, "kill-anywhere")
    try:
        _wait_for(proc, "COMMITTING")
        time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _check_intact(url, creds, allowed={3, 50_003})


def test_racing_processes_one_wins(target, tmp_path):
    url, creds = target
    go = str(tmp_path / "go")
    procs = [_spawn(url, creds, "race", go) for _ in range(3)]
    try:
        for p in procs:
            _wait_for(p, "READY")
        Path(go).touch()
        outputs = [p.communicate(timeout=60)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert sum("WON" in out for out in outputs) == 1, outputs
    assert sum("CONFLICT" in out and "moved by another writer" in out for out in outputs) == 2, outputs
    assert len(L.open(url, creds=creds)) == 13

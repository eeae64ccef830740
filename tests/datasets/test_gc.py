"""ds.gc(): unreachable files of crashed or conflicting commits are collected; live and young ones never."""

from __future__ import annotations

import hashlib
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
from lakelet.datasets.media import blob_path
from lakelet.datasets.storage_io import Writer, parse_url
from lakelet.errors import InvalidArgument

REPO = str(Path(__file__).resolve().parents[2])
SCHEMA = {"n": types.Int64(), "img": types.Image()}

WORKER = r"""
import json, sys, time
import lakelet.datasets as L
from lakelet.datasets import refs

url, creds = sys.argv[1], json.loads(sys.argv[2])
ds = L.open(url, creds=creds)
ds.append({"n": list(range(100, 110)), "img": [b"killed-%d" % i for i in range(10)]})
def stuck(*args, **kwargs):
    print("READY", flush=True)
    time.sleep(120)
refs.move = stuck
ds.commit("killed before the head moved")
"""


@pytest.fixture(params=["local", "s3"])
def target(request, tmp_path):
    """(url, creds) of a dataset with rows [0, 1, 2] on main."""
    if request.param == "local":
        url, creds = str(tmp_path / "ds"), None
    else:
        server = request.getfixturevalue("s3_server")
        creds = server.creds
        url = f"s3://{server.new_bucket()}/ds"
    ds = L.create(url, creds=creds, schema=SCHEMA)
    ds.append({"n": [0, 1, 2], "img": [b"shared", b"one", b"two"]})
    ds.commit("base")
    return url, creds


def _files(url, creds) -> dict[str, int]:
    writer = Writer(parse_url(url, creds))
    return {m.path: m.size for folder in ("data", "versions", "media") for m in writer.walk(folder)}


def _lose_a_race(url, creds) -> set[str]:
    """Two handles commit on main; the second loses. Returns the files only the loser wrote."""
    winner, loser = L.open(url, creds=creds), L.open(url, creds=creds)
    winner.append({"n": 3, "img": b"shared"})  # deduplicated with the base version's blob
    winner.commit("winner")
    before = set(_files(url, creds))
    loser.append({"n": [7, 8], "img": [b"loser-only", b"shared"]})
    with pytest.raises(L.CommitConflict):
        loser.commit("loser")
    return set(_files(url, creds)) - before


def _snapshot(url, creds) -> dict[str, list]:
    """Every version of every branch and tag -> its rows (media decoded)."""
    ds = L.open_read_only(url, creds=creds)
    versions = set()
    for ref in [*ds.branches, *ds.tags]:
        ds.checkout(ref)
        versions.update(v.id for v in ds.history)
    out = {}
    for version in versions:
        ds.checkout(version)
        out[version] = sorted(zip(ds["n"][:].tolist(), ds["img"][:], strict=True))
    return out


def test_conflict_leftovers_collected_every_version_still_reads(target):
    url, creds = target
    ds = L.open(url, creds=creds)
    ds.tag("v1")
    ds.branch("side")
    side = L.open(url, creds=creds, branch="side")
    side.append({"n": 50, "img": b"side"})
    side.commit("side work")
    leftovers = _lose_a_race(url, creds)
    assert any(p.startswith("versions/") for p in leftovers) and any(p.startswith("data/") for p in leftovers)
    assert any(p.startswith("media/") for p in leftovers)  # b"loser-only"
    expected = _snapshot(url, creds)
    sizes = _files(url, creds)

    report = L.open(url, creds=creds).gc(grace_period=0)

    assert set(report.deleted) == leftovers
    assert report.bytes_freed == sum(sizes[p] for p in leftovers)
    assert not leftovers & set(_files(url, creds))
    assert report.versions == len(expected) and report.kept == len(_files(url, creds))
    assert _snapshot(url, creds) == expected
    assert L.open(url, creds=creds).gc(grace_period=0).deleted == ()  # nothing more to find
    again = L.open(url, creds=creds)
    again.append({"n": 4, "img": b"after"})
    again.commit("after gc")  # the branch still moves


def test_young_leftovers_survive_the_default_grace_period(target):
    url, creds = target
    leftovers = _lose_a_race(url, creds)
    report = L.open(url, creds=creds).gc()
    assert report.deleted == () and report.bytes_freed == 0
    assert set(report.young) == leftovers
    assert leftovers <= set(_files(url, creds))


def test_dry_run_deletes_nothing(target):
    url, creds = target
    leftovers = _lose_a_race(url, creds)
    before = _files(url, creds)
    report = L.open_read_only(url, creds=creds).gc(grace_period=0, dry_run=True)  # a reader may ask
    assert report.dry_run and set(report.deleted) == leftovers
    assert report.bytes_freed == sum(before[p] for p in leftovers)
    assert _files(url, creds) == before


def test_deduplicated_media_survives_while_referenced(target):
    url, creds = target
    writer = Writer(parse_url(url, creds))
    ds = L.open(url, creds=creds)
    ds.append({"n": 3, "img": b"shared"})  # same bytes as row 0: one blob
    ds.commit("dup")
    ds.delete([0, 3])  # main no longer shows b"shared", its history still does
    ds.commit("dropped")
    ds.branch("tmp")
    tmp = L.open(url, creds=creds, branch="tmp")
    tmp.append({"n": 9, "img": b"only-on-tmp"})
    tmp.commit("tmp")
    shared, only_tmp = (blob_path(hashlib.sha256(v).hexdigest()) for v in (b"shared", b"only-on-tmp"))

    assert L.open(url, creds=creds).gc(grace_period=0).deleted == ()
    ds.delete_branch("tmp")
    report = L.open(url, creds=creds).gc(grace_period=0)
    assert only_tmp in report.deleted and shared not in report.deleted
    assert writer.exists(shared) and not writer.exists(only_tmp)
    old = L.open_read_only(url, creds=creds, version=ds.history[1].id)
    assert old["img"][:] == [b"shared", b"one", b"two", b"shared"]


def test_sigkilled_commit_leftovers_are_collected(target):
    url, creds = target
    before = set(_files(url, creds))
    env = dict(os.environ, PYTHONPATH=REPO)
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, url, json.dumps(creds)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = proc.stdout.readline()
        assert "READY" in line, proc.stderr.read() if proc.poll() is not None else line
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    leftovers = set(_files(url, creds)) - before
    assert len([p for p in leftovers if p.startswith("media/")]) == 10
    expected = _snapshot(url, creds)
    report = L.open(url, creds=creds).gc(grace_period=0)
    assert set(report.deleted) == leftovers
    assert set(_files(url, creds)) == before and _snapshot(url, creds) == expected


def test_commit_freshens_an_old_orphan_blob_it_deduplicated(tmp_path):
    url = str(tmp_path / "ds")
    ds = L.create(url, schema=SCHEMA)
    ds.append({"n": 1, "img": b"orphan"})
    ds.rollback()  # the blob stays, unreferenced
    path = ds.checked_out.writer.local_path(blob_path(hashlib.sha256(b"orphan").hexdigest()))
    two_hours_ago = time.time() - 7200
    os.utime(path, (two_hours_ago, two_hours_ago))

    again = L.open(url)
    again.append({"n": 1, "img": b"orphan"})  # deduplicated: nothing is written
    again.commit("uses the old blob")
    assert os.stat(path).st_mtime > two_hours_ago + 3600
    assert L.open(url).gc().deleted == ()
    assert L.open(url)["img"][:] == [b"orphan"]


def test_commit_refuses_when_gc_took_a_blob_it_relies_on(target):
    url, creds = target
    ds = L.open(url, creds=creds)
    ds.append({"n": 1, "img": b"orphan"})
    ds.rollback()
    ds.append({"n": 1, "img": b"orphan"})  # deduplicated against the unreferenced blob
    report = L.open(url, creds=creds).gc(grace_period=0)  # nothing references the blob yet: collected
    assert blob_path(hashlib.sha256(b"orphan").hexdigest()) in report.deleted
    head = L.open(url, creds=creds).version
    with pytest.raises(L.DatasetError, match="no longer stored"):
        ds.commit("would dangle")
    assert L.open(url, creds=creds).version == head


def test_arguments_are_checked(tmp_path):
    url = str(tmp_path / "ds")
    L.create(url, schema=SCHEMA)
    ds = L.open(url)
    for bad in (-1, "1h", True, float("nan")):
        with pytest.raises(InvalidArgument):
            ds.gc(grace_period=bad)
    with pytest.raises(InvalidArgument):
        ds.gc(dry_run="yes")
    with pytest.raises(L.DatasetReadOnly):
        L.open_read_only(url).gc(grace_period=0)

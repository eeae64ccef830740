"""Volume blob garbage collection, on the embedded and the shared backend."""

from __future__ import annotations

import io
import json
import os
import threading
import time

import pytest

from lakelet.cli import main as cli
from lakelet.errors import InvalidArgument
from lakelet.primitives import ConflictError, Volume, get_environment
from lakelet.primitives.blobs import PACK_FILE_MAX, open_blob_storage
from lakelet.primitives.volume_gc import CollectionRunning, VolumeCollector

BIG = PACK_FILE_MAX + 1000  # big enough for a blob of its own


def blob_keys() -> set[str]:
    storage = open_blob_storage(get_environment())
    try:
        return set(storage.keys())
    finally:
        storage.close()


def backdate(lake, digest: str, seconds: float = 7200) -> None:
    """Make a blob look old (embedded only: S3 has no way to set LastModified)."""
    if not lake.shared:
        path = get_environment().root / "blobs" / digest[:2] / digest[2:]
        past = time.time() - seconds
        os.utime(path, (past, past))


def digest_of(vol: Volume, path: str) -> str:
    return vol._meta.get(path).digest


def test_deleted_volume_is_freed_shared_blobs_survive(lake, tmp_path):
    shared, unique = os.urandom(BIG), os.urandom(BIG)
    small = tmp_path / "small"
    small.mkdir()
    for i in range(5):
        (small / f"{i}.txt").write_text(f"small {i}")
    a = Volume.from_name("a", create_if_missing=True)
    b = Volume.from_name("b", create_if_missing=True)
    a.put_file(io.BytesIO(shared), "shared.bin")
    a.put_file(io.BytesIO(unique), "unique.bin")
    a.put_directory(small, "small")
    b.put_file(io.BytesIO(shared), "copy-of-shared.bin")  # dedup: the same blob as a's
    storage = open_blob_storage(get_environment())
    before = storage.usage().bytes
    assert len(blob_keys()) == 3  # shared, unique, one pack of small files

    Volume.objects.delete("a")
    report = Volume.objects.gc(grace_period=0)  # no writer is active: grace 0 is safe here
    assert report.blobs_deleted == 2 and report.blobs_kept == 1 and report.blobs_live == 1
    assert report.bytes_freed == BIG + sum(len(f"small {i}") for i in range(5))
    assert storage.usage().bytes == before - report.bytes_freed
    assert b"".join(b.read_file("copy-of-shared.bin")) == shared
    assert Volume.objects.gc(grace_period=0).blobs_deleted == 0


def test_young_blobs_survive_and_dry_run_deletes_nothing(lake):
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(os.urandom(BIG)), "x.bin")
    Volume.objects.delete("a")
    keys = blob_keys()
    dry = Volume.objects.gc(grace_period=0, dry_run=True)
    assert dry.dry_run and dry.blobs_deleted == 1 and dry.bytes_freed == BIG
    assert blob_keys() == keys
    report = Volume.objects.gc()  # default grace: the blob was stored a moment ago
    assert report.blobs_deleted == 0 and report.blobs_kept == 1
    assert blob_keys() == keys
    with pytest.raises(InvalidArgument):
        Volume.objects.gc(grace_period=-1)


def test_partially_dead_packs_are_kept_whole(lake, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"{i}.txt").write_text(f"packed {i}")
    v = Volume.from_name("v", create_if_missing=True)
    v.put_directory(src, "d")
    v.remove_file("d/0.txt")
    assert Volume.objects.gc(grace_period=0).blobs_deleted == 0
    assert b"".join(v.read_file("d/2.txt")) == b"packed 2"
    v.put_file(io.BytesIO(b"overwritten"), "d/1.txt")  # overwrite one, remove the other
    v.remove_file("d/2.txt")
    report = Volume.objects.gc(grace_period=0)
    assert report.blobs_deleted == 1 and report.bytes_freed == 3 * len("packed 0")
    assert b"".join(v.read_file("d/1.txt")) == b"overwritten"


def test_stored_but_uncommitted_blob_survives_default_grace(lake):
    """An upload has stored a blob (a dedup hit on an old, unreferenced blob) and not yet
    committed: the writer's stamp keeps it, even though the blob itself looks old."""
    data = os.urandom(BIG)
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(data), "x.bin")
    digest = digest_of(a, "x.bin")
    Volume.objects.delete("a")
    backdate(lake, digest)
    b = Volume.from_name("b", create_if_missing=True)
    stored = b._blobs.put_stream(io.BytesIO(data), 0)  # stored, not committed
    assert Volume.objects.gc().blobs_deleted == 0
    b._publish({"x.bin": stored})
    assert b"".join(b.read_file("x.bin")) == data


def test_upload_racing_the_sweep_rescues_its_blob(lake):
    """The collection condemned a blob; a writer re-uses it before the sweep: kept."""
    data = os.urandom(BIG)
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(data), "x.bin")
    digest = digest_of(a, "x.bin")
    Volume.objects.delete("a")
    gc = VolumeCollector(get_environment(), grace_period=0)
    try:
        plan = gc.plan()
        assert digest in plan.candidates
        gc.condemn(plan)
        with pytest.raises(CollectionRunning):  # one collection at a time
            Volume.objects.gc(grace_period=0)
        b = Volume.from_name("b", create_if_missing=True)
        b.put_file(io.BytesIO(data), "x.bin")  # a dedup hit: rescues the blob
        assert gc.sweep(plan) == (0, 0)
    finally:
        gc.close()
    assert b"".join(b.read_file("x.bin")) == data


def test_upload_racing_a_claimed_blob_stores_it_again(lake):
    """The collection claimed (is deleting) the blob a writer just hit: the writer waits,
    finds it gone and stores its bytes again."""
    data = os.urandom(BIG)
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(data), "x.bin")
    digest = digest_of(a, "x.bin")
    Volume.objects.delete("a")
    src = lake.home / "x.bin"
    src.write_bytes(data)
    gc = VolumeCollector(get_environment(), grace_period=0)
    b = Volume.from_name("b", create_if_missing=True)
    try:
        plan = gc.plan()
        gc.condemn(plan)
        assert gc.guard.claim([digest], plan.started) == [digest]
        guard = b._blobs.guard
        waiting = threading.Event()
        wait_deleted = guard.wait_deleted

        def spy(digests, *args):
            waiting.set()
            return wait_deleted(digests, *args)

        guard.wait_deleted = spy
        writer = threading.Thread(target=b.put_file, args=(src, "x.bin"))
        writer.start()
        assert waiting.wait(30)  # the writer hit the existing blob and waits on the claim
        assert gc.storage.remove(digest)
        gc.guard.done([digest])
        writer.join(30)
        assert not writer.is_alive()
    finally:
        gc.close()
    assert b"".join(b.read_file("x.bin")) == data
    assert digest in blob_keys()


def test_blob_collected_between_dedup_hit_and_protect_is_stored_again(lake):
    """The worst interleaving: the writer's store is a no-op dedup hit, then a whole collection
    deletes that blob, then the writer protects it. It finds the blob gone and stores it again."""
    data = os.urandom(BIG)
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(data), "x.bin")
    Volume.objects.delete("a")
    b = Volume.from_name("b", create_if_missing=True)
    calls = []

    def write_then_collect() -> str:
        digest = b._blobs.storage.write(data)
        if not calls:
            assert Volume.objects.gc(grace_period=0).blobs_deleted == 1
        calls.append(digest)
        return digest

    digest = b._blobs._store(write_then_collect)
    assert len(calls) == 2 and digest in blob_keys()


def test_copy_of_a_collected_source_fails(lake):
    data = os.urandom(BIG)
    v = Volume.from_name("v", create_if_missing=True)
    v.put_file(io.BytesIO(data), "x.bin")
    began = time.time()
    entry = v._meta.get("x.bin")  # a copy read this entry ...
    v.remove_file("x.bin")  # ... then the source was removed and collected
    assert Volume.objects.gc(grace_period=0).blobs_deleted == 1
    with pytest.raises(ConflictError):
        v._blobs.protect([entry], began)
    v.put_file(io.BytesIO(data), "x.bin")
    v.copy_files(["x.bin"], "y.bin")  # the normal case
    assert b"".join(v.read_file("y.bin")) == data


def test_cli_gc_json(lake, capsys):
    a = Volume.from_name("a", create_if_missing=True)
    a.put_file(io.BytesIO(os.urandom(BIG)), "x.bin")
    Volume.objects.delete("a")
    assert cli(["volume", "gc", "--dry-run", "--grace", "0", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] and out["removed"] == 1 and out["bytes_freed"] == BIG
    assert cli(["volume", "gc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == 0
    assert cli(["volume", "gc", "--grace", "0"]) == 0
    assert "deleted 1 blob(s)" in capsys.readouterr().out
    assert not blob_keys()

"""Volume contract suite, on the embedded and the shared backend."""

from __future__ import annotations

import asyncio
import io
import os

import duckdb
import pandas as pd
import pytest

from lakelet.errors import InvalidArgument, InvalidPath
from lakelet.primitives import (
    AlreadyExistsError,
    ConflictError,
    FileEntryType,
    PathNotFound,
    UncommittedChangesWarning,
    Volume,
)
from lakelet.primitives import blobs as blobs_module


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub" / "deep").mkdir(parents=True)
    for i in range(30):
        (src / "sub" / f"f{i}.txt").write_text(f"file {i}")
    (src / "sub" / "deep" / "x.csv").write_text("a,b\n1,2\n")
    (src / "top.bin").write_bytes(os.urandom(300_000))
    return src


def test_put_list_read_remove(lake, tree, tmp_path):
    v = Volume.from_name("data", create_if_missing=True)
    v.put_directory(tree, "/in")
    v.put_file(tree / "top.bin", "/single.bin")
    v.put_file(io.BytesIO(b"from a stream"), "stream.txt")
    names = [(e.path, e.type) for e in v.listdir("/")]
    assert names == [
        ("in", FileEntryType.DIRECTORY),
        ("single.bin", FileEntryType.FILE),
        ("stream.txt", FileEntryType.FILE),
    ]
    assert [e.path for e in v.listdir("in")] == ["in/sub", "in/top.bin"]
    everything = v.listdir("/", recursive=True)
    assert len([e for e in everything if e.type == FileEntryType.FILE]) == 34
    assert {e.path for e in v.iterdir("in/sub/deep")} == {"in/sub/deep/x.csv"}
    assert b"".join(v.read_file("in/sub/f7.txt")) == b"file 7"
    assert b"".join(v.read_file("/single.bin")) == (tree / "top.bin").read_bytes()
    buf = io.BytesIO()
    assert v.read_file_into_fileobj("stream.txt", buf) == 13 and buf.getvalue() == b"from a stream"
    v.get_file("in/sub/deep/x.csv", tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "a,b\n1,2\n"
    assert v.exists("in/sub") and v.exists("in/sub/f1.txt") and not v.exists("nope")
    with pytest.raises(PathNotFound):
        v.listdir("nope")
    with pytest.raises(FileNotFoundError):  # PathNotFound is also a FileNotFoundError
        b"".join(v.read_file("nope.txt"))
    with pytest.raises(InvalidArgument, match="recursive=True"):
        v.remove_file("in/sub")
    v.remove_file("in/sub", recursive=True)
    v.remove_file("single.bin")
    assert [e.path for e in v.listdir("/", recursive=True)] == ["in", "in/top.bin", "stream.txt"]


def test_pattern_copy_and_batch_upload(lake, tree):
    v = Volume.from_name("copies", create_if_missing=True)
    v.put_directory(tree, "d", pattern="*.csv")
    assert [e.path for e in v.listdir("d", recursive=True) if e.type == FileEntryType.FILE] == ["d/sub/deep/x.csv"]
    v.copy_files(["d/sub/deep/x.csv"], "copy.csv")
    v.copy_files(["d/sub"], "tree2")
    v.copy_files(["copy.csv", "d/sub/deep/x.csv"], "many/")
    assert b"".join(v.read_file("copy.csv")) == b"a,b\n1,2\n"
    assert v.exists("tree2/deep/x.csv") and v.exists("many/copy.csv") and v.exists("many/x.csv")
    with v.batch_upload() as batch:
        batch.put_file(tree / "top.bin", "b/one.bin")
        batch.put_directory(tree / "sub" / "deep", "b/deep")
        batch.put_file(io.BytesIO(b"s"), "b/s.txt")
        assert not v.exists("b")  # nothing published before the block ends
    assert v.exists("b/one.bin") and v.exists("b/deep/x.csv") and v.exists("b/s.txt")
    with pytest.raises(AlreadyExistsError, match="force=True"), v.batch_upload() as batch:
        batch.put_file(tree / "top.bin", "b/one.bin")
    with v.batch_upload(force=True) as batch:
        batch.put_file(io.BytesIO(b"new"), "b/one.bin")
    assert b"".join(v.read_file("b/one.bin")) == b"new"


def test_bad_paths_are_rejected(lake, tree):
    v = Volume.from_name("paths", create_if_missing=True)
    for bad in ["../x", "a/../../x", "a\x00b", "C:\\x", "~/x", "a\\b"]:
        with pytest.raises(InvalidPath):
            v.put_file(tree / "top.bin", bad)
    with pytest.raises(InvalidPath, match="absolute path on this machine"):
        v.put_file(tree / "top.bin", tree / "top.bin")
    with pytest.raises(InvalidPath):
        v.listdir("../..")
    v.put_file(io.BytesIO(b"ok"), "/a/./b/../c.txt")
    assert v.exists("a/c.txt")


def test_mount_commit_reload_and_conflict(lake):
    v = Volume.from_name("wc", create_if_missing=True)
    v.put_file(io.BytesIO(b"v1"), "shared.txt")
    with v.mount() as root:
        assert (root / "shared.txt").read_bytes() == b"v1"
        (root / "new.txt").write_text("hello")
        (root / "shared.txt").write_text("v2")
    assert b"".join(v.read_file("shared.txt")) == b"v2" and v.exists("new.txt")

    def fail_inside_mount():
        with v.mount() as root:
            (root / "lost.txt").write_text("x")
            raise RuntimeError("boom")

    with pytest.warns(UncommittedChangesWarning, match="lost.txt"), pytest.raises(RuntimeError):
        fail_inside_mount()
    assert not v.exists("lost.txt")  # no commit on an exception

    a = Volume.from_name("wc")
    b = Volume.from_name("wc")

    def both_write_the_same_file():
        with a.mount() as ra, b.mount() as rb:
            (rb / "shared.txt").write_text("from b")
            (ra / "shared.txt").write_text("from a")
            (ra / "other.txt").write_text("a only")
            # rb commits first when the inner block exits, then ra's commit conflicts

    with pytest.warns(UncommittedChangesWarning), pytest.raises(ConflictError, match="shared.txt"):
        both_write_the_same_file()
    assert b"".join(v.read_file("shared.txt")) == b"from b"


def test_two_processes_commit_the_same_file(lake):
    Volume.from_name("race", create_if_missing=True).put_file(io.BytesIO(b"base"), "f.txt")
    code = """
        import sys, time
        from lakelet.primitives import Volume, ConflictError
        v = Volume.from_name("race")
        try:
            with v.mount() as root:
                (root / "f.txt").write_text("writer WHO")
                print("ready", flush=True)
                sys.stdin.readline()  # wait until both have loaded the same base
        except ConflictError as e:
            print("conflict", e.paths)
        else:
            print("committed")
    """
    import subprocess

    procs = [lake.popen(code.replace("WHO", str(i)), stdin=subprocess.PIPE) for i in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    results = []
    for p in procs:  # release them one after the other
        p.stdin.write("\n")
        p.stdin.flush()
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        results.append(out.strip())
    assert results == ["committed", "conflict ['f.txt']"]
    assert b"".join(Volume.from_name("race").read_file("f.txt")) == b"writer 0"


def test_non_overlapping_commits_merge(lake):
    v = Volume.from_name("merge", create_if_missing=True)
    with v.mount() as ra:
        (ra / "a.txt").write_text("a")
        v.put_file(io.BytesIO(b"b"), "b.txt")  # committed meanwhile by someone else
    assert v.exists("a.txt") and v.exists("b.txt")


def test_embedded_path_is_a_real_folder(embedded):
    v = Volume.from_name("local", create_if_missing=True)
    v.put_file(io.BytesIO(b"one"), "one.txt")
    root = v.path
    assert (root / "one.txt").read_text() == "one"
    (root / "two.txt").write_text("two")
    assert v.uncommitted() == ["two.txt"] and not v.exists("two.txt")
    v.commit()
    assert v.uncommitted() == [] and v.exists("two.txt")
    other = Volume.from_name("local")
    other.put_file(io.BytesIO(b"three"), "three.txt")
    with open(root / "one.txt") as held_open:  # reload never fails because a file is open
        other.put_file(io.BytesIO(b"ONE"), "one.txt")
        v.reload()
        assert held_open.read() == "one"
    assert (root / "three.txt").read_text() == "three" and (root / "one.txt").read_text() == "ONE"


@pytest.mark.parametrize("lake", ["shared"], indirect=True)
def test_shared_path_points_to_mount(lake):
    assert lake.shared
    with pytest.raises(InvalidArgument, match="mount"):
        _ = Volume.from_name("p", create_if_missing=True).path


def test_uncommitted_changes_warn_loudly_at_exit(embedded):
    result = embedded.run(
        """
        from lakelet.primitives import Volume
        v = Volume.from_name("forgot", create_if_missing=True)
        (v.path / "unsaved.txt").write_text("x")
        """
    )
    assert result.returncode == 0
    assert "uncommitted change" in result.stderr and "unsaved.txt" in result.stderr


def test_fsspec_view_for_pandas_and_duckdb(lake):
    v = Volume.from_name("frames", create_if_missing=True)
    df = pd.DataFrame({"a": range(100), "b": [str(i) for i in range(100)]})
    with v.fs.open("t/x.parquet", "wb") as f:
        df.to_parquet(f)
    assert pd.read_parquet("t/x.parquet", filesystem=v.fs).equals(df)
    assert v.fs.ls("t", detail=False) == ["t/x.parquet"] and v.fs.isdir("t")
    con = duckdb.connect()
    con.register_filesystem(v.fs)
    assert con.execute("select sum(a) from read_parquet('lakelet-volume://t/x.parquet')").fetchall() == [(4950,)]


def test_large_files_stream_in_chunks(lake, tmp_path, monkeypatch):
    monkeypatch.setattr(blobs_module, "PACK_FILE_MAX", 1000)  # make a modest file "big"
    data = os.urandom(3 * 2**20 + 17)
    (tmp_path / "big.bin").write_bytes(data)
    v = Volume.from_name("big", create_if_missing=True)
    v.put_file(tmp_path / "big.bin", "big.bin", progress=False)
    chunks = list(v.read_file("big.bin"))
    assert b"".join(chunks) == data
    with v.fs.open("big.bin") as f:
        f.seek(2**20)
        assert f.read(10) == data[2**20 : 2**20 + 10]


def test_volume_aio_and_lifecycle(lake):
    async def main():
        v = await Volume.from_name.aio("av", create_if_missing=True)
        await v.put_file.aio(io.BytesIO(b"x"), "x.txt")
        entries = [e.path async for e in v.iterdir.aio("/")]
        return entries, await v.exists.aio("x.txt")

    assert asyncio.run(main()) == (["x.txt"], True)
    assert [x.name for x in Volume.objects.list()] == ["av"]
    Volume.objects.delete("av")
    assert not Volume.persist("av").exists("x.txt")


def test_bad_paths_raise_at_the_call_not_at_the_first_chunk(lake):
    v = Volume.from_name("eager", create_if_missing=True)
    with pytest.raises(InvalidPath):
        v.read_file("../escape")
    with pytest.raises(PathNotFound):
        v.read_file("missing.txt")
    with pytest.raises(InvalidPath):
        v.iterdir("../escape")

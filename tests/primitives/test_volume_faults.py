"""Issue 15.13/15.11/15.18: a volume path is never both a file and a folder; non-regular files
and odd paths in put_directory / working copies get clear lakelet errors, on both backends."""

from __future__ import annotations

import io
import os

import pytest

from lakelet.errors import InvalidPath
from lakelet.primitives import FileEntryType, UncommittedChangesWarning, Volume
from lakelet.primitives.errors import FileDirectoryConflict


def test_file_then_file_below_it_is_refused(lake, tmp_path):
    v = Volume.from_name("ff", create_if_missing=True)
    v.put_file(io.BytesIO(b"file"), "ff")
    with pytest.raises(FileDirectoryConflict, match="'ff' is a file"):
        v.put_file(io.BytesIO(b"below"), "ff/g")
    with pytest.raises(FileDirectoryConflict, match="'ff' is a file"):
        v.put_file(io.BytesIO(b"deeper"), "ff/g/h")
    assert isinstance(FileDirectoryConflict("x"), InvalidPath)
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "g").write_bytes(b"g")
    with pytest.raises(FileDirectoryConflict):
        v.put_directory(tmp_path / "d", "ff")
    v.put_file(io.BytesIO(b"x"), "dir/x")
    with pytest.raises(FileDirectoryConflict, match="'dir' is a folder"):
        v.put_file(io.BytesIO(b"file"), "dir")
    with pytest.raises(FileDirectoryConflict):
        v.copy_files(["ff"], "dir/x/y")
    batch = v.batch_upload()
    batch.put_file(io.BytesIO(b"1"), "a")
    batch.put_file(io.BytesIO(b"2"), "a/b")
    with pytest.raises(FileDirectoryConflict):
        batch.__exit__(None, None, None)
    # nothing of the refused commits was written, and the tree still reads back whole
    entries = {(e.path, e.type) for e in v.listdir("/", recursive=True)}
    assert entries == {("ff", FileEntryType.FILE), ("dir", FileEntryType.DIRECTORY), ("dir/x", FileEntryType.FILE)}
    assert b"".join(v.read_file("ff")) == b"file"
    # replacing a file by a folder works when the file goes in the same commit
    v.remove_file("ff")
    v.put_file(io.BytesIO(b"below"), "ff/g")
    with v.mount() as root:
        assert (root / "ff" / "g").read_bytes() == b"below" and (root / "dir" / "x").read_bytes() == b"x"


def test_put_directory_refuses_fifos_with_a_clear_error(lake, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("ok")
    os.mkfifo(src / "pipe")
    v = Volume.from_name("fifo", create_if_missing=True)
    with pytest.raises(InvalidPath, match="pipe.*not a regular file"):
        v.put_directory(src, "/in")
    assert not v.exists("in")  # nothing half-uploaded
    v.put_directory(src, "/in", pattern="*.txt")  # a pattern that leaves the FIFO out works
    assert [e.path for e in v.listdir("in")] == ["in/ok.txt"]


def test_working_copy_commit_skips_fifos_and_undecodable_names(lake):
    v = Volume.from_name("wcfifo", create_if_missing=True)
    mount = v.mount()
    root = mount.__enter__()
    (root / "kept.txt").write_text("kept")
    os.mkfifo(root / "pipe")  # reading it would block the commit forever
    with open(os.fsencode(root) + b"/caf\xe9.txt", "wb") as f:  # a Latin-1 file name: not UTF-8
        f.write(b"latin")
    with pytest.warns(UncommittedChangesWarning) as caught:
        mount.__exit__(None, None, None)
    messages = " ".join(str(w.message) for w in caught)
    assert "FIFO" in messages and "UTF-8" in messages
    assert [e.path for e in v.listdir("/")] == ["kept.txt"]
    assert b"".join(v.read_file("kept.txt")) == b"kept"


def test_odd_local_paths_raise_lakelet_errors(lake, tmp_path):
    v = Volume.from_name("oddpaths", create_if_missing=True)
    with pytest.raises(InvalidPath, match="UTF-8"):
        v.put_file(io.BytesIO(b"x"), "bad\udce9name")
    with pytest.raises(InvalidPath, match="UTF-8"):
        v.read_file("bad\udce9name")
    src = tmp_path / "loop"
    src.mkdir()
    (src / "a").symlink_to(src / "a")  # a symlink loop
    with pytest.raises(InvalidPath, match="cannot read local file.*a"):
        v.put_directory(src, "/in")
    with pytest.raises(InvalidPath, match="cannot read local file"):
        v.put_file(src / "a", "a")
    os.mkfifo(tmp_path / "p")
    with pytest.raises(InvalidPath, match="FIFO"):
        v.put_file(tmp_path / "p", "p")
    assert v.listdir("/") == []

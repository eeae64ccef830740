"""NetworkFileSystem, CloudBucketMount and Secret."""

from __future__ import annotations

import io

import pytest

from lakelet.config import config_set
from lakelet.errors import InvalidPath, ReadOnlyLocation
from lakelet.primitives import CloudBucketMount, NetworkFileSystem, NotFoundError, PathNotFound, Secret


def test_nfs_is_immediately_visible(lake, tmp_path):
    nfs = NetworkFileSystem.from_name("cache", create_if_missing=True)
    other = NetworkFileSystem.from_name("cache")
    nfs.put_file(io.BytesIO(b"hot"), "/task/1.json")
    assert b"".join(other.read_file("task/1.json")) == b"hot"  # no commit, no reload
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.txt").write_text("a")
    (tmp_path / "d" / "b.txt").write_text("b")
    nfs.put_directory(tmp_path / "d", "dir")
    assert [e.path for e in other.listdir("dir")] == ["dir/a.txt", "dir/b.txt"]
    nfs.copy_files(["dir/a.txt"], "c.txt")
    assert other.exists("c.txt") and b"".join(other.read_file("c.txt")) == b"a"
    nfs.remove_file("dir", recursive=True)
    assert not other.exists("dir")
    with pytest.raises(PathNotFound):
        other.listdir("dir")
    with pytest.raises(InvalidPath):
        nfs.put_file(io.BytesIO(b"x"), "../escape")
    with nfs.mount() as root:
        (root / "from-mount.txt").write_text("m")
    assert other.exists("from-mount.txt")
    if not lake.shared:
        assert (nfs.path / "task" / "1.json").read_bytes() == b"hot"
    NetworkFileSystem.objects.delete("cache")
    with pytest.raises(NotFoundError):
        NetworkFileSystem.from_name("cache")


def test_cloud_bucket_mount_enforces_read_only(s3_server, tmp_path):
    bucket = s3_server.new_bucket()
    secret = Secret.from_dict(
        {"AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key}
    )
    rw = CloudBucketMount.from_s3_bucket(
        bucket, key_prefix="raw/", secret=secret, read_only=False, bucket_endpoint_url=s3_server.endpoint_url
    )
    rw.put_file(io.BytesIO(b"a,b\n1,2\n"), "t.csv")
    ro = CloudBucketMount.from_s3_bucket(
        bucket, key_prefix="raw", secret=secret, bucket_endpoint_url=s3_server.endpoint_url
    )
    assert [e.path for e in ro.listdir("/")] == ["t.csv"]
    assert b"".join(ro.read_file("t.csv")) == b"a,b\n1,2\n"
    assert ro.fs.cat_file("t.csv") == b"a,b\n1,2\n"
    for attempt in (
        lambda: ro.put_file(io.BytesIO(b"x"), "y.csv"),
        lambda: ro.remove_file("t.csv"),
        lambda: ro.copy_files(["t.csv"], "u.csv"),
        lambda: ro.fs.pipe_file("y.csv", b"x"),
        lambda: ro.fs.rm("t.csv"),
        lambda: ro.fs.open("y.csv", "wb"),
    ):
        with pytest.raises(ReadOnlyLocation):
            attempt()
    with ro.mount() as root:
        assert (root / "t.csv").read_text() == "a,b\n1,2\n"
        (root / "ignored.txt").write_text("read-only mounts upload nothing")
    assert not rw.exists("ignored.txt")
    assert "secret" not in repr(ro).lower() or "testing" not in repr(ro)


def test_secret_never_shows_values(tmp_path):
    s = Secret.from_dict({"TOKEN": "hunter2", "DROPPED": None})
    assert s["TOKEN"] == "hunter2" and list(s) == ["TOKEN"]
    assert "hunter2" not in repr(s) and "hunter2" not in str(s) and "hunter2" not in f"{s}"
    (tmp_path / "config.toml").write_text('[secrets.aws]\nAWS_ACCESS_KEY_ID = "AKIA-SECRET"\n')
    with config_set(home=tmp_path):
        named = Secret.from_name("aws")
        assert named["AWS_ACCESS_KEY_ID"] == "AKIA-SECRET" and "AKIA" not in repr(named)
        with pytest.raises(NotFoundError, match=r"\[secrets.nope\]"):
            Secret.from_name("nope")

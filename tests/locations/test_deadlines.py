"""Issue 15.8: a remote server that stops answering (SIGSTOP: connections are accepted, nothing
comes back) fails every call within the configured deadline, with an error that says so.

The deadlines come from ``[remote]`` in config.toml; here they are a few seconds. Before the
deadlines, botocore's read timeout and two layers of retries held each call for 6 minutes
(pytest-timeout turns such a hang into a failure).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal

import pytest

import lakelet
from lakelet.errors import InvalidArgument, StorageNetworkConnectionError, StorageTimeout
from lakelet.locations.abc import Blob
from lakelet.locations.s3 import S3

KEY = hashlib.sha256(b"value").hexdigest()
OTHER = hashlib.sha256(b"other").hexdigest()


@contextlib.contextmanager
def stopped(server):
    """The server's process is stopped (SIGSTOP) inside the block, continued after it."""
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)


@pytest.fixture
def short_deadlines(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("[remote]\nconnect_timeout = 1\nread_timeout = 1.5\ndeadline = 3\n")
    with lakelet.config_set(home=home):
        yield home


def test_stopped_s3_server_fails_within_the_deadline(private_s3_server, short_deadlines):
    s3 = S3(
        private_s3_server.endpoint_url,
        private_s3_server.new_bucket(),
        key=private_s3_server.access_key,
        secret=private_s3_server.secret_key,
    )
    assert s3.deadlines.deadline == 3 and s3.deadlines.read_timeout == 1.5
    assert issubclass(StorageTimeout, StorageNetworkConnectionError)
    assert s3.write(KEY, Blob(data=b"value"))
    calls = {
        "contains": lambda: s3.contains(KEY),
        "read": lambda: s3.read_bytes(KEY),
        "stream": lambda: s3.read(KEY).__enter__().read(),
        "write": lambda: s3.write(OTHER, Blob(data=b"other")),
        "delete": lambda: s3.delete(KEY),
    }
    with stopped(private_s3_server):
        for call in calls.values():
            with pytest.raises(StorageTimeout, match=r"did not answer .* within 3 s.*deadline.*\[remote\]"):
                call()
    assert s3.read_bytes(KEY) == b"value"  # answering again: the same location works


def test_stopped_s3_dataset_fails_within_the_deadline(private_s3_server, short_deadlines):
    from lakelet import datasets

    creds = private_s3_server.creds
    url = f"s3://{private_s3_server.new_bucket()}/ds"
    ds = datasets.create(url, creds=creds, schema={"n": "int64"})
    ds.append({"n": [1, 2]})
    ds.commit("rows")
    with stopped(private_s3_server):
        with pytest.raises(StorageTimeout, match=r"within 3 s.*deadline"):
            datasets.open(url, creds=creds)
    assert len(datasets.open(url, creds=creds)) == 2


def test_bad_deadlines_are_refused(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    for text in ("deadline = nan", "deadline = -1", "read_timeout = 0", "timeout = 3", 'deadline = "soon"'):
        (home / "config.toml").write_text(f"[remote]\n{text}\n")
        with lakelet.config_set(home=home), pytest.raises(InvalidArgument, match=r"\[remote\]|remote"):
            S3("http://127.0.0.1:1", "bucket")

"""Issue 15.18/15.19: bad input and odd environments give lakelet errors naming the input, never a
raw builtin exception (or, worse, a silently wrong value)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lakelet import HashKeyStorage
from lakelet.errors import InvalidArgument, LakeletError
from lakelet.registry import open_location, parse_size

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def storage(tmp_path: Path) -> HashKeyStorage:
    return HashKeyStorage(tmp_path / "lake")


class NonBlocking(io.RawIOBase):
    """A non-blocking raw stream: ``ready`` bytes, then "no data yet" (None), never the end."""

    def __init__(self, ready: int) -> None:
        self.left = ready

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int | None:  # type: ignore[no-untyped-def]
        if self.left == 0:
            return None
        n = min(len(b), self.left)
        b[:n] = b"x" * n
        self.left -= n
        return n


@pytest.mark.parametrize("ready", [0, 100, 20 * 2**20])
def test_non_blocking_stream_without_data_is_an_error_not_a_short_value(storage, ready):
    with pytest.raises(InvalidArgument, match="non-blocking"):
        storage.write(NonBlocking(ready))
    assert list(storage.keys()) == []


def test_text_streams_are_refused_with_a_hint(storage, tmp_path):
    with pytest.raises(InvalidArgument, match="text"):
        storage.write(io.StringIO("abc"))
    with open(tmp_path / "t.txt", "w+") as f:
        f.write("x" * 10)
        f.seek(0)
        with pytest.raises(InvalidArgument, match="binary mode"):
            storage.write(f)
    assert list(storage.keys()) == []


def test_symlink_loop_is_an_invalid_argument(storage, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    with pytest.raises(InvalidArgument, match="loop"):
        storage.write(loop)


def test_sizes_and_ages_refuse_negative_nan_and_infinity(storage, tmp_path):
    assert parse_size("5 MiB") == 5 * 2**20
    for bad in ("-5 MiB", "inf", "inf GiB", "nan", "1e400 B", -1, float("inf")):
        with pytest.raises(InvalidArgument, match="size"):
            parse_size(bad)
    with pytest.raises(InvalidArgument, match="size"):
        open_location({"url": str(tmp_path / "d"), "max_size": "inf"})
    for age in (float("nan"), float("inf"), -1):
        with pytest.raises(InvalidArgument, match="max_age"):
            storage.gc(max_age=age)


def test_deeply_nested_spec_is_an_invalid_argument(tmp_path):
    spec: object = str(tmp_path / "a")
    for _ in range(5000):
        spec = [spec]
    with pytest.raises(InvalidArgument, match="nested"):
        open_location(spec)


def _run(code: str, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, LAKELET_HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *args, "-c", code] if code else [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_binary_config_toml_is_one_clear_error(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_bytes(b"\xff\xfe\x00binary\x00")
    out = _run("import lakelet; lakelet.HashKeyStorage(lakelet.config.get_config().lake_spec)", home)
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("lakelet.errors.InvalidArgument") and "config.toml" in last and "UTF-8" in last
    cli = _run("", home, "-m", "lakelet.cli", "lake", "info")
    assert cli.returncode == 1 and len(cli.stderr.strip().splitlines()) == 1, cli.stderr
    assert "config.toml" in cli.stderr


def test_lakelet_home_that_is_a_file_is_one_clear_error(tmp_path):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    out = _run(
        "from lakelet.primitives import Dict\n"
        "from lakelet.errors import LakeletError\n"
        "try:\n"
        "    Dict.from_name('d', create_if_missing=True)\n"
        "except LakeletError as e:\n"
        "    print(type(e).__name__, e)\n",
        home,
    )
    assert out.returncode == 0, out.stderr
    assert "LAKELET_HOME" in out.stdout and "not a folder" in out.stdout
    assert issubclass(InvalidArgument, LakeletError)

"""Fixtures of the primitives' contract suites: every test runs on the embedded backend
(folder + SQLite) and on the shared one (moto S3 + redis-server)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet.config import config_set

ROOT = Path(__file__).resolve().parents[2]


def _toml(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Lake:
    """A LAKELET_HOME for one test, with its environments written to config.toml (so child
    processes started with :meth:`run`/:meth:`popen` see the same configuration)."""

    def __init__(self, home: Path, kind: str, environments: dict[str, dict]) -> None:
        self.home, self.kind, self.environments = home, kind, environments
        lines = []
        for name, spec in environments.items():
            lines.append(f"[environments.{name}]")
            lines += [f"{k} = {_toml(v)}" for k, v in spec.items()]
        (home / "config.toml").write_text("\n".join(lines) + "\n")

    @property
    def shared(self) -> bool:
        return self.kind == "shared"

    def env(self) -> dict[str, str]:
        env = dict(os.environ, LAKELET_HOME=str(self.home))
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        return env

    def popen(self, code: str, **kwargs: object) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            **kwargs,  # type: ignore[arg-type]
        )

    def run(self, code: str, timeout: float = 60) -> subprocess.CompletedProcess:
        proc = self.popen(code)
        out, err = proc.communicate(timeout=timeout)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def shared_spec(s3_server, redis_server) -> dict:  # type: ignore[no-untyped-def]
    return {
        "backend": "shared",
        "redis_url": redis_server.url,
        "redis_prefix": f"t{uuid.uuid4().hex[:12]}:",
        "volumes_url": f"s3://{s3_server.new_bucket()}/lake",
        "storage_options": {
            "endpoint_url": s3_server.endpoint_url,
            "key": s3_server.access_key,
            "secret": s3_server.secret_key,
        },
    }


@pytest.fixture(params=["embedded", "shared"])
def lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    """The ``main`` environment on one backend; the current config points at it."""
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "shared":
        spec = shared_spec(request.getfixturevalue("s3_server"), request.getfixturevalue("redis_server"))
        lake = Lake(home, "shared", {"main": spec})
    else:
        lake = Lake(home, "embedded", {})
    monkeypatch.setenv("LAKELET_HOME", str(home))
    with config_set(home=home):
        yield lake


@pytest.fixture
def embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lake]:
    """Only the embedded backend (for tests of local behavior)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LAKELET_HOME", str(home))
    with config_set(home=home):
        yield Lake(home, "embedded", {})

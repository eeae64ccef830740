"""Fixtures for the real-browser tests: a lake, a `jupyter lab` on loopback, Debian's Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

HERE = Path(__file__).parent
REPO = HERE.parent
ARTIFACTS = HERE / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: what the lake holds: fast (top level) and slow (bottom level) values; b"shared" is in both
FAST = [b"fast value one", b"shared", b"f" * 3000]
SLOW = [b"slow value", b"s" * 70_000, b"shared"]


def key_of(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


@pytest.fixture(scope="session")
def lake_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LAKELET_HOME whose config.toml defines a two-level lake with entries in both levels."""
    from lakelet.hashstore import HashKeyStorage

    home = tmp_path_factory.mktemp("lakelet-home")
    fast, slow = home / "fast", home / "slow"
    (home / "config.toml").write_text(
        "[lake]\nlevels = [\n"
        f"  {{ level = {json.dumps(str(fast))}, name = \"fast\" }},\n"
        f"  {{ level = {json.dumps(str(slow))}, name = \"slow\" }},\n"
        "]\n"
    )
    with HashKeyStorage(fast) as f, HashKeyStorage(slow) as s:
        for value in FAST:
            f.write(value)
        for value in SLOW:
            s.write(value)
    return home


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _check_installed_bundle() -> None:
    """Fail early (not with a UI timeout) when the served labextension is missing or stale."""
    from jupyter_core.paths import jupyter_path

    built = REPO / "lakelet" / "labextension" / "package.json"
    for folder in jupyter_path("labextensions"):
        served = Path(folder) / "lakelet" / "package.json"
        if served.is_file():
            if built.is_file():
                want = json.loads(built.read_text())["jupyterlab"]["_build"]["load"]
                have = json.loads(served.read_text())["jupyterlab"]["_build"]["load"]
                if want != have:
                    pytest.fail(f"{served.parent} is older than {built.parent}: run scripts/build_extension.sh")
            return
    pytest.fail("the lakelet labextension is not installed: run `pip install -e .` or scripts/build_extension.sh")


@pytest.fixture(scope="session")
def jupyter_lab(lake_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """`jupyter lab` on 127.0.0.1 with LAKELET_HOME=lake_home; yields its base URL and token."""
    _check_installed_bundle()
    root = tmp_path_factory.mktemp("lab-root")
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path_factory.mktemp("lab-log") / "jupyter-lab.log"
    env = dict(
        os.environ,
        LAKELET_HOME=str(lake_home),
        LAKELET_UI_PORT=str(port),
        LAKELET_UI_ROOT=str(root),
        LAKELET_UI_TOKEN=token,
    )
    env.pop("LAKELET_CACHE_KEY", None)
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--config", str(HERE / "jupyter_server_test_config.py")],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            _wait_until_up(proc, base, token, log_path)
            yield {"url": base, "token": token, "log": str(log_path), "root": str(root)}
        finally:
            proc.terminate()  # only the process this fixture started
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_until_up(proc: subprocess.Popen, base: str, token: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    request = urllib.request.Request(f"{base}/lakelet/api/version", headers={"Authorization": f"token {token}"})
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 (loopback URL built here)
                json.load(response)
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not answer in 60 s:\n{log_path.read_text()[-3000:]}") from None
            time.sleep(0.3)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)")
    with playwright_sync.sync_playwright() as p:
        # a fresh temporary profile is implied; Playwright refuses --user-data-dir in args
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()

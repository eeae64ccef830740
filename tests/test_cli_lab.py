"""``lakelet lab``: the one command after the install opens JupyterLab on the demos, with the sidebar."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> tuple[str, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback URL built here
        return response.geturl(), response.read()


@pytest.mark.slow
def test_lakelet_lab_serves_the_demos_with_the_sidebar(tmp_path: Path) -> None:
    folder, home = tmp_path / "demos", tmp_path / "home"
    port, token = _free_port(), secrets.token_hex(8)
    env = dict(os.environ, LAKELET_HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = tmp_path / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lakelet.cli", "lab", "--dir", str(folder), "--no-browser", "--port", str(port),
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    _, body = _get(f"{base}/lakelet/api/version", token)  # the sidebar's server extension
                    break
                except OSError:
                    assert time.monotonic() < deadline, log.read_text()[-3000:]
                    time.sleep(0.3)
            assert "version" in json.loads(body)
            _, body = _get(f"{base}/api/contents", token)
            served = sorted(item["name"] for item in json.loads(body)["content"])
            shipped = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
            assert served == shipped
            landing, _ = _get(f"{base}/", token)
            assert landing.endswith("/lab/tree/01_caching.ipynb"), landing
        finally:
            proc.terminate()  # the server this test started
            proc.wait(timeout=30)
    assert not home.exists(), "starting the lab must not write into the lake"
    text = log.read_text()
    assert "demo notebooks in" in text and "copied" in text


def test_the_demos_are_copied_once_and_edits_are_kept(tmp_path: Path) -> None:
    from lakelet.jupyter.lab import copy_demos

    copied, kept = copy_demos(tmp_path / "demos")
    assert [p.name for p in copied] == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert kept == []
    assert copied[0].read_bytes() == (REPO / "notebooks" / copied[0].name).read_bytes()
    copied[0].write_text("my edits")
    again, kept = copy_demos(tmp_path / "demos")
    assert again == [] and len(kept) == len(copied)
    assert copied[0].read_text() == "my edits"


def test_lab_refuses_a_file_as_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    proc = subprocess.run([sys.executable, "-m", "lakelet.cli", "lab", "--dir", str(target), "--no-browser"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{target} is a file" in proc.stderr
    assert target.read_text() == "x"

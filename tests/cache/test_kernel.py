"""%%lake_cache in a real Jupyter kernel (ipykernel over ZMQ)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import lakelet

manager = pytest.importorskip("jupyter_client.manager")
pytest.importorskip("ipykernel")


def _execute(client, code: str) -> tuple[str, str]:
    """Run ``code``; return (stdout text, status)."""
    msg_id = client.execute(code)
    stdout = []
    while True:
        msg = client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream" and content["name"] == "stdout":
            stdout.append(content["text"])
        elif kind == "error":
            raise AssertionError("\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            break
    reply = client.get_shell_msg(timeout=60)
    return "".join(stdout), reply["content"]["status"]


def test_cell_cache_hits_in_a_kernel(tmp_path: Path) -> None:
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    env = dict(
        os.environ,
        LAKELET_HOME=str(tmp_path / "home"),
        PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
    )
    km, client = manager.start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path))
    try:
        _execute(client, "%load_ext lakelet")
        _execute(client, "import numpy as np\ndef f(x):\n    return x * 3")
        cell = "%%lake_cache k\nprint('computing')\ndata = np.arange(5) * f(2)\n"
        out1, status1 = _execute(client, cell)
        out2, status2 = _execute(client, cell)
        check, _ = _execute(client, "print(int(data.sum()))")
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
    assert status1 == status2 == "ok"
    assert "lake_cache: miss" in out1
    assert "lake_cache: hit" in out2 and "computing" in out2  # replayed, not recomputed
    assert check.strip() == "60"

"""The frontend suites, run from the main test command.

jest (the extension's TypeScript units) and the real-browser test (JupyterLab on loopback, Debian's
Chromium driven by Playwright) need their own pytest session: pytest-jupyter's event loop and
Playwright's sync API cannot share one (see ui-tests/pytest.ini). So this test runs
``scripts/test_ui.sh`` in a subprocess and fails with its output when it fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_sidebar_in_a_real_browser() -> None:
    missing = [tool for tool in ("node", "chromium") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"missing {missing}: scripts/install.sh installs them")
        pytest.skip(f"missing {missing}: run scripts/install.sh")
    env = dict(os.environ, PYTHON=sys.executable)
    proc = subprocess.run(["bash", str(REPO / "scripts" / "test_ui.sh"), "-q"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    failures = proc.stdout.find("= FAILURES =")  # the first failure whole, not only the log's tail
    head = proc.stdout[failures : failures + 6000] + "\n...\n" if failures >= 0 else ""
    output = head + proc.stdout[-4000:] + "\n" + proc.stderr[-4000:]
    assert proc.returncode == 0, output
    assert (REPO / "ui-tests" / "artifacts" / "sidebar.png").is_file(), output

"""mypy --strict holds for the modules listed in pyproject.toml ([tool.mypy] files)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_mypy_strict_on_the_core_foundations() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.fail("mypy is missing: the README's install command installs it (lakelet[dev])")
    proc = subprocess.run([sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    assert "Success" in proc.stdout

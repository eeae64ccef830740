"""The demo notebooks, executed cell by cell and compared with their saved outputs (nbval).

nbval runs each notebook in a fresh kernel; it gets its own pytest process so its kernels and
this session's IPython shell never meet. Volatile output (timings, keys, temp paths) is
normalized by ``notebooks/nbval-sanitize.cfg``; widget cells are marked ``# NBVAL_IGNORE_OUTPUT``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_demo_notebooks_run_and_match_their_outputs() -> None:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 4, notebooks
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "notebooks/nbval-sanitize.cfg", *map(str, notebooks)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout

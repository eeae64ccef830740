"""The demo notebooks, executed cell by cell and compared with their saved outputs (nbval).

nbval runs each notebook in a fresh kernel; it gets its own pytest process so its kernels and
this session's IPython shell never meet. Volatile output (timings, keys, temp paths) is
normalized by ``notebooks/nbval-sanitize.cfg``; widget cells are marked ``# NBVAL_IGNORE_OUTPUT``.

The demos must run with only ``pip install "lakelet[all]"``: the kernels run with a
``sitecustomize`` that refuses test tools (moto, lakelet's test servers), so a demo that
reaches for one fails here, as it would for a user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: modules a user's `pip install "lakelet[all]"` does not have (or that start test servers)
TEST_TOOLS = ("moto", "lakelet.testing", "flask", "pytest_jupyter")

_BLOCKER = '''
import os, sys
BLOCKED = {blocked!r}
if "ipykernel" in " ".join(getattr(sys, "orig_argv", sys.argv)):  # only the notebooks' kernels, not nbval's own pytest
    with open(os.path.join({marker!r}, "kernel-%d" % os.getpid()), "w"):
        pass

    class _NoTestTools:
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                raise ImportError(f"{{name}} is a test tool; a demo notebook must run without it "
                                  f"(pip install lakelet[all] does not install it)")
            return None

    sys.meta_path.insert(0, _NoTestTools())
'''


def _notebooks() -> list[Path]:
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert len(notebooks) >= 4, notebooks
    return notebooks


def test_demo_notebooks_run_without_test_tools_and_match_their_outputs(tmp_path: Path) -> None:
    site, marker = tmp_path / "site", tmp_path / "kernels"
    site.mkdir()
    marker.mkdir()
    (site / "sitecustomize.py").write_text(_BLOCKER.format(blocked=TEST_TOOLS, marker=str(marker)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    notebooks = _notebooks()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", "notebooks/nbval-sanitize.cfg", *map(str, notebooks)],
        cwd=REPO, capture_output=True, text=True, timeout=900, env=env,
    )
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-4000:]
    assert " passed" in proc.stdout
    assert len(list(marker.iterdir())) >= len(notebooks), "the kernels did not run with the test-tool blocker"


def test_demo_notebooks_name_no_test_tool() -> None:
    for notebook in _notebooks():
        for cell in json.loads(notebook.read_text())["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code":
                for tool in TEST_TOOLS:
                    assert f"import {tool}" not in source and f"from {tool}" not in source, (notebook.name, tool)

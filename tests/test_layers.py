"""The layers point down: the import contracts in pyproject.toml hold, and the core works without the face.

The contracts (import-linter) catch any import of ``lakelet.jupyter`` from the core, lazy ones included;
the fresh-process checks below catch what static analysis cannot (an ``import_module`` by string).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    if importlib.util.find_spec("importlinter") is None:
        pytest.fail("import-linter is missing: the README's install command installs it (lakelet[dev])")
    run = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    proc = subprocess.run([sys.executable, "-c", run], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


CORE_USE = """
import sys, tempfile, pathlib
import lakelet
from lakelet import HashKeyStorage, Levels
from lakelet import datasets
from lakelet.datasets import types
root = pathlib.Path(tempfile.mkdtemp())
s = HashKeyStorage(root / "lake")
k = s.write(b"x")
ds = datasets.create(str(root / "ds"), schema={"n": types.Int64()})
ds.append({"n": [1, 2]}); ds.commit("two")
d = lakelet.Dict.from_name("layers-test", create_if_missing=True); d["a"] = 1
v = lakelet.Volume.from_name("layers-test", create_if_missing=True)
repr(s), repr(ds), repr(d), repr(v)
face = sorted(m for m in sys.modules if m.startswith(("lakelet.jupyter", "ipywidgets", "IPython")))
print(face)
"""


def test_the_core_runs_without_importing_the_face(tmp_path: Path) -> None:
    env = dict(os.environ, LAKELET_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", CORE_USE], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


IN_IPYTHON = """
import tempfile, pathlib
from IPython.testing.globalipapp import start_ipython
shell = start_ipython()
import lakelet  # imported inside a running IPython: the rich views are registered right away
from lakelet.datasets import types
root = pathlib.Path(tempfile.mkdtemp())
s = lakelet.HashKeyStorage(root / "lake")
ds = lakelet.create(str(root / "ds"), schema={"n": types.Int64()})
html = shell.display_formatter.formatters["text/html"]
html.enabled = True  # a terminal shell shows text only; a notebook kernel enables HTML
print("HashKeyStorage" in html(s), "Dataset" in html(ds) or "dataset" in html(ds).lower())
print(type(s.browse()).__name__, type(ds.browse()).__name__)
"""


def test_views_and_browsers_reach_core_objects_in_a_kernel(tmp_path: Path) -> None:
    pytest.importorskip("ipywidgets")
    env = dict(os.environ, LAKELET_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, "-c", IN_IPYTHON], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = proc.stdout.strip().splitlines()
    assert lines[-2] == "True True"
    assert lines[-1] == "LakeBrowser DatasetBrowser"


def test_no_import_cycles() -> None:
    """No two lakelet modules import each other, directly or around a loop (lazy imports included;
    imports only under ``TYPE_CHECKING`` do not count)."""
    grimp = pytest.importorskip("grimp")  # comes with import-linter
    graph = grimp.build_graph("lakelet", exclude_type_checking_imports=True)
    modules = sorted(m for m in graph.modules if m != "lakelet")  # the package facade re-exports everything
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.find_modules_directly_imported_by(node):
            if nxt == "lakelet":
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)

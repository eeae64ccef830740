"""Code-change scenarios, each run in fresh processes: edit code on disk, re-run, hit or miss?

All module cases run together: one process fills the cache (version 1 of every
case), the files are edited, and a second process calls every case again and
reports hit or miss. A script run as ``__main__`` is checked the same way.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import lakelet

HEADER = """\
import os
import numpy as np
from lakelet.cache import smart_cache, mark_unstable
STORE = os.environ["LAKE"]
"""

# case -> (version 1, version 2, expected outcome of the second run)
CASES: dict[str, tuple[str, str, str]] = {
    "callee_edit": (
        "def helper(x):\n    return x + 1\n\n@smart_cache(STORE)\ndef f(x):\n    return helper(x) * 2\n",
        "def helper(x):\n    return x + 2\n\n@smart_cache(STORE)\ndef f(x):\n    return helper(x) * 2\n",
        "miss",
    ),
    "comment_docstring_blank_lines": (
        '@smart_cache(STORE)\ndef f(x):\n    """Old doc."""\n    y = x + 1\n    return y\n',
        '\n\n# a comment\n@smart_cache(STORE)\ndef f(x):\n    """New,\n    longer doc."""\n\n'
        "    # explain\n    y = x + 1  # inline\n\n    return y\n",
        "hit",
    ),
    "formatting": (
        "@smart_cache(STORE)\ndef f(x):\n    return (x+1)*2\n",
        "@smart_cache(STORE)\ndef f(x):\n    return (\n        x + 1\n    ) * 2\n",
        "hit",
    ),
    "global_constant": (
        "RATE = 3\n\n@smart_cache(STORE)\ndef f(x):\n    return x * RATE\n",
        "RATE = 4\n\n@smart_cache(STORE)\ndef f(x):\n    return x * RATE\n",
        "miss",
    ),
    "default_value": (
        "@smart_cache(STORE)\ndef f(x, y=2):\n    return x * y\n",
        "@smart_cache(STORE)\ndef f(x, y=3):\n    return x * y\n",
        "miss",
    ),
    "closure_value": (
        "def make(k):\n    def inner(x):\n        return x * k\n    return inner\n\nf = smart_cache(STORE)(make(2))\n",
        "def make(k):\n    def inner(x):\n        return x * k\n    return inner\n\nf = smart_cache(STORE)(make(3))\n",
        "miss",
    ),
    "rename_parameter": (
        "@smart_cache(STORE)\ndef f(x):\n    return x + 1\n",
        "@smart_cache(STORE)\ndef f(z):\n    return z + 1\n",
        "miss",
    ),
    "imported_module_edit": (
        "import {helpers}\n\n@smart_cache(STORE)\ndef f(x):\n    return {helpers}.g(x)\n",
        "import {helpers}\n\n@smart_cache(STORE)\ndef f(x):\n    return {helpers}.g(x)\n",
        "miss",
    ),
    "imported_function_edit": (
        "from {helpers} import g\n\n@smart_cache(STORE)\ndef f(x):\n    return g(x)\n",
        "from {helpers} import g\n\n@smart_cache(STORE)\ndef f(x):\n    return g(x)\n",
        "miss",
    ),
    "unrelated_function_edit": (
        "def other():\n    return 1\n\n@smart_cache(STORE)\ndef f(x):\n    return x + 1\n",
        "def other():\n    return 2\n\n@smart_cache(STORE)\ndef f(x):\n    return x + 1\n",
        "hit",
    ),
    "unrelated_helper_module_edit": (
        "import {helpers}\n\n@smart_cache(STORE)\ndef f(x):\n    return {helpers}.g(x)\n",
        "import {helpers}\n\n@smart_cache(STORE)\ndef f(x):\n    return {helpers}.g(x)\n",
        "hit",
    ),
    "line_numbers": (
        "@smart_cache(STORE)\ndef f(x):\n    return x * 7\n",
        "A = 1\nB = 2\n\n\ndef unrelated():\n    return A + B\n\n\n@smart_cache(STORE)\ndef f(x):\n    return x * 7\n",
        "hit",
    ),
    "library_call_unchanged": (
        "@smart_cache(STORE)\ndef f(x):\n    return int(np.sum(np.arange(x)))\n",
        "@smart_cache(STORE)\ndef f(x):\n    return int(np.sum(np.arange(x)))\n",
        "hit",
    ),
    "lambda_edit": (
        "SQUARE = lambda v: v * v  # noqa: E731\n\n@smart_cache(STORE)\ndef f(x):\n    return SQUARE(x)\n",
        "SQUARE = lambda v: v * v * v  # noqa: E731\n\n@smart_cache(STORE)\ndef f(x):\n    return SQUARE(x)\n",
        "miss",
    ),
    "method_edit": (
        "class Scaler:\n    def apply(self, x):\n        return x * 2\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return Scaler().apply(x)\n",
        "class Scaler:\n    def apply(self, x):\n        return x * 3\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return Scaler().apply(x)\n",
        "miss",
    ),
    "nested_callee_edit": (
        "def a(x):\n    return x + 1\n\ndef b(x):\n    return a(x) * 2\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return b(x)\n",
        "def a(x):\n    return x - 1\n\ndef b(x):\n    return a(x) * 2\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return b(x)\n",
        "miss",
    ),
}

# helper modules of the cases that import one: (version 1, version 2)
HELPERS: dict[str, tuple[str, str]] = {
    "imported_module_edit": ("def g(x):\n    return x + 10\n", "def g(x):\n    return x + 11\n"),
    "imported_function_edit": ("def g(x):\n    return x + 10\n", "def g(x):\n    return x + 20\n"),
    "unrelated_helper_module_edit": (
        "def g(x):\n    return x + 10\n\ndef h():\n    return 1\n",
        "def g(x):\n    # reworded\n    return x + 10\n\ndef h():\n    return 2\n",
    ),
}

DRIVER = """\
import importlib, json, sys
names = sys.argv[1:]
report = {}
for name in names:
    module = importlib.import_module("case_" + name)
    value = module.f(5)
    report[name] = {"hit": module.f.cache_info().hits == 1, "value": repr(value)}
print(json.dumps(report))
"""


def _write_cases(project: Path, version: int) -> None:
    for name, versions in CASES.items():
        helpers = f"helpers_{name}"
        body = versions[version].replace("{helpers}", helpers)
        (project / f"case_{name}.py").write_text(HEADER + body)
        if name in HELPERS:
            (project / f"{helpers}.py").write_text(HELPERS[name][version])


def _env(tmp_path: Path) -> dict[str, str]:
    root = str(Path(lakelet.__file__).resolve().parent.parent)
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        LAKE=str(tmp_path / "lake"),
        LAKELET_HOME=str(tmp_path / "home"),
        PYTHONDONTWRITEBYTECODE="1",
    )


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    tmp_path = tmp_path_factory.mktemp("scenarios")
    project = tmp_path / "project"
    project.mkdir()
    (project / "driver.py").write_text(DRIVER)
    env = _env(tmp_path)
    _write_cases(project, 0)
    first = json.loads(_run(["driver.py", *CASES], project, env))
    assert not any(result["hit"] for result in first.values()), first
    _write_cases(project, 1)
    return json.loads(_run(["driver.py", *CASES], project, env))


@pytest.mark.parametrize("case", sorted(CASES))
def test_code_change(outcomes: dict[str, dict[str, object]], case: str) -> None:
    expected = CASES[case][2]
    got = "hit" if outcomes[case]["hit"] else "miss"
    assert got == expected, f"{case}: expected a {expected}, got a {got} ({outcomes[case]})"


MAIN_SCRIPT = """\
import os
from lakelet.cache import smart_cache
{extra}
def helper(x):
    return x * {factor}

@smart_cache(os.environ["LAKE"])
def f(x):
    return helper(x)

f(3)
print("hit" if f.cache_info().hits else "miss")
"""


def test_main_script_edits(tmp_path: Path) -> None:
    """A script run as __main__: comments and line shifts hit, a callee edit misses."""
    project = tmp_path / "project"
    project.mkdir()
    env = _env(tmp_path)
    script = project / "main.py"
    runs = [
        ("", 2, "miss"),  # first run fills the cache
        ("# a comment\n\n\nUNUSED = 1\n", 2, "hit"),  # shifted lines, a comment, an unrelated global
        ("", 5, "miss"),  # the callee changed
    ]
    for extra, factor, expected in runs:
        script.write_text(MAIN_SCRIPT.format(extra=extra, factor=factor))
        assert _run(["main.py"], project, env).strip() == expected, (extra, factor)


def test_same_code_in_a_fresh_process_hits_with_bytecode_fallback(tmp_path: Path) -> None:
    """Code without source (``python -c``) is keyed by bytecode: stable across processes."""
    env = _env(tmp_path)
    code = (
        "import os\nfrom lakelet.cache import smart_cache\n"
        "f = smart_cache(os.environ['LAKE'])(lambda x: x + 1)\n"
        "f(1)\nprint('hit' if f.cache_info().hits else 'miss')\n"
    )
    assert _run(["-c", code], tmp_path, env).strip() == "miss"
    assert _run(["-c", code], tmp_path, env).strip() == "hit"

"""Issue 10, functions: cases that used to return stale values, each checked in fresh processes.

One process fills the cache with version 1 of every case, the files are edited
to version 2, and a second process calls every case again: it reports hit or
miss, the cached call's value and the value of an uncached call (which must be
equal). A third process runs version 2 again and must hit every case (the
new entries are found, nothing is keyed by something unstable).
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
import collections, functools, os
import numpy as np
import pandas as pd
from lakelet.cache import smart_cache
STORE = os.environ["LAKE"]
"""

DECO = (
    "def deco(fn):\n    @functools.wraps(fn)\n    def wrapper(x):\n        return fn(x) + {k}\n    return wrapper\n\n"
)

# case -> (version 1, version 2, expected outcome of the second run); {h} / {h2} name helper modules
CASES: dict[str, tuple[str, str, str]] = {
    # ---- functools.wraps: the wrapper and the wrapped function share a name
    "wraps_wrapper_edit": (
        DECO.format(k=1) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    return x * 2\n",
        DECO.format(k=2) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    return x * 2\n",
        "miss",
    ),
    "wraps_wrapped_edit": (
        DECO.format(k=1) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    return x * 2\n",
        DECO.format(k=1) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    return x * 3\n",
        "miss",
    ),
    "wraps_callee_wrapper_edit": (
        DECO.format(k=1) + "@deco\ndef g(x):\n    return x\n\n@smart_cache(STORE)\ndef f(x):\n    return g(x)\n",
        DECO.format(k=5) + "@deco\ndef g(x):\n    return x\n\n@smart_cache(STORE)\ndef f(x):\n    return g(x)\n",
        "miss",
    ),
    "wraps_comment_only": (
        DECO.format(k=1) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    return x * 2\n",
        "# reworded\n" + DECO.format(k=1) + "@smart_cache(STORE)\n@deco\ndef f(x):\n    # same\n    return x * 2\n",
        "hit",
    ),
    # ---- class attribute values
    "class_constant_edit": (
        "DECAY = 0.5\n\nclass Trainer:\n    decay = DECAY\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return x * Trainer.decay\n",
        "DECAY = 0.25\n\nclass Trainer:\n    decay = DECAY\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return x * Trainer.decay\n",
        "miss",
    ),
    "class_attribute_set_at_runtime": (
        "class Trainer:\n    decay = 0.5\n\n    def run(self, x):\n        return x * self.decay\n\n"
        "def setup():\n    pass\n\n@smart_cache(STORE)\ndef f(x):\n    return Trainer().run(x)\n",
        "class Trainer:\n    decay = 0.5\n\n    def run(self, x):\n        return x * self.decay\n\n"
        "def setup():\n    Trainer.decay = 0.25\n\n@smart_cache(STORE)\ndef f(x):\n    return Trainer().run(x)\n",
        "miss",
    ),
    "class_attribute_via_argument": (
        "class Cfg:\n    scale = 2\n\nARGS = (Cfg(),)\n\n@smart_cache(STORE)\ndef f(cfg):\n    return cfg.scale\n",
        "class Cfg:\n    scale = 3\n\nARGS = (Cfg(),)\n\n@smart_cache(STORE)\ndef f(cfg):\n    return cfg.scale\n",
        "miss",
    ),
    "enum_class_unchanged": (
        "import enum\n\nclass Color(enum.Enum):\n    RED = 1\n    BLUE = 2\n\n"
        "ARGS = (Color.RED,)\n\n@smart_cache(STORE)\ndef f(c):\n    return c.value * 10\n",
        "import enum\n\nclass Color(enum.Enum):\n    RED = 1\n    BLUE = 2\n\n"
        "ARGS = (Color.RED,)\n\n@smart_cache(STORE)\ndef f(c):\n    return c.value * 10\n",
        "hit",
    ),
    # ---- code reached without a global name
    "import_in_body_edit": (
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "miss",
    ),
    "from_import_in_body_edit": (
        "@smart_cache(STORE)\ndef f(x):\n    from {h} import g\n    return g(x)\n",
        "@smart_cache(STORE)\ndef f(x):\n    from {h} import g\n    return g(x)\n",
        "miss",
    ),
    "import_in_body_transitive_edit": (
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "miss",
    ),
    "import_in_body_reformatted": (
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "@smart_cache(STORE)\ndef f(x):\n    import {h}\n    return {h}.g(x)\n",
        "hit",
    ),
    "getattr_dispatch_edit": (
        "import {h}\n\n@smart_cache(STORE)\ndef f(x, name='g'):\n    return getattr({h}, name)(x)\n",
        "import {h}\n\n@smart_cache(STORE)\ndef f(x, name='g'):\n    return getattr({h}, name)(x)\n",
        "miss",
    ),
    "module_passed_on_edit": (
        "import {h}\n\ndef call(mod, x):\n    return mod.g(x)\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return call({h}, x)\n",
        "import {h}\n\ndef call(mod, x):\n    return mod.g(x)\n\n"
        "@smart_cache(STORE)\ndef f(x):\n    return call({h}, x)\n",
        "miss",
    ),
    # ---- values that hash alike but are not equal
    "ordered_dict_order": (
        "ARGS = (collections.OrderedDict(a=1, b=2),)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(d)\n",
        "ARGS = (collections.OrderedDict(b=2, a=1),)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(d)\n",
        "miss",
    ),
    "dict_order": (
        "ARGS = ({'a': [1], 'b': [2]},)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(pd.DataFrame(d).columns)\n",
        "ARGS = ({'b': [2], 'a': [1]},)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(pd.DataFrame(d).columns)\n",
        "miss",
    ),
    "dict_same_order": (
        "ARGS = ({'a': [1], 'b': [2]},)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(pd.DataFrame(d).columns)\n",
        "ARGS = (dict(a=[1], b=[2]),)\n\n@smart_cache(STORE)\ndef f(d):\n    return list(pd.DataFrame(d).columns)\n",
        "hit",
    ),
    "set_vs_frozenset": (
        "ARGS = ({1, 2},)\n\n@smart_cache(STORE)\ndef f(s):\n    return type(s).__name__\n",
        "ARGS = (frozenset({1, 2}),)\n\n@smart_cache(STORE)\ndef f(s):\n    return type(s).__name__\n",
        "miss",
    ),
    "bytes_vs_bytearray": (
        "ARGS = (b'ab',)\n\n@smart_cache(STORE)\ndef f(b):\n    return b\n",
        "ARGS = (bytearray(b'ab'),)\n\n@smart_cache(STORE)\ndef f(b):\n    return b\n",
        "miss",
    ),
    "categorical_order": (
        "ARGS = (pd.Series(pd.Categorical(['a', 'b'], categories=['a', 'b'], ordered=True)),)\n\n"
        "@smart_cache(STORE)\ndef f(s):\n    return list(s.sort_values())\n",
        "ARGS = (pd.Series(pd.Categorical(['a', 'b'], categories=['b', 'a'], ordered=True)),)\n\n"
        "@smart_cache(STORE)\ndef f(s):\n    return list(s.sort_values())\n",
        "miss",
    ),
    "object_column_types": (
        "ARGS = (pd.DataFrame({'c': ['1', 2]}),)\n\n"
        "@smart_cache(STORE)\ndef f(df):\n    return [type(v).__name__ for v in df['c']]\n",
        "ARGS = (pd.DataFrame({'c': [1, '2']}),)\n\n"
        "@smart_cache(STORE)\ndef f(df):\n    return [type(v).__name__ for v in df['c']]\n",
        "miss",
    ),
    "masked_array_mask": (
        "ARGS = (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),)\n\n"
        "@smart_cache(STORE)\ndef f(m):\n    return int(m.sum())\n",
        "ARGS = (np.ma.masked_array([1, 2, 3], mask=[0, 0, 0]),)\n\n"
        "@smart_cache(STORE)\ndef f(m):\n    return int(m.sum())\n",
        "miss",
    ),
    "masked_array_same": (
        "ARGS = (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),)\n\n"
        "@smart_cache(STORE)\ndef f(m):\n    return int(m.sum())\n",
        "ARGS = (np.ma.masked_array([1, 2, 3], mask=[0, 1, 0]),)\n\n"
        "@smart_cache(STORE)\ndef f(m):\n    return int(m.sum())\n",
        "hit",
    ),
    # ---- data files keyed by content (lakelet.File)
    "file_argument_edit": (
        "from lakelet import File\nARGS = (File('data_file_argument_edit.csv'),)\n\n"
        "@smart_cache(STORE)\ndef f(path):\n    return len(pd.read_csv(path))\n",
        "from lakelet import File\nARGS = (File('data_file_argument_edit.csv'),)\n\n"
        "@smart_cache(STORE)\ndef f(path):\n    return len(pd.read_csv(path))\n",
        "miss",
    ),
    "file_rewritten_same_content": (
        "from lakelet import File\nARGS = (File('data_file_rewritten_same_content.csv'),)\n\n"
        "@smart_cache(STORE)\ndef f(path):\n    return len(pd.read_csv(path))\n",
        "from lakelet import File\nARGS = (File('data_file_rewritten_same_content.csv'),)\n\n"
        "@smart_cache(STORE)\ndef f(path):\n    return len(pd.read_csv(path))\n",
        "hit",
    ),
}

# data files: case -> (version 1, version 2)
DATA: dict[str, tuple[str, str]] = {
    "file_argument_edit": ("a\n1\n", "a\n1\n2\n"),
    "file_rewritten_same_content": ("a\n1\n", "a\n1\n"),  # new mtime, same bytes: re-hashed, same key
}

# helper modules: case -> {module suffix: (version 1, version 2)}; "h" is imported as {h}
HELPERS: dict[str, dict[str, tuple[str, str]]] = {
    "import_in_body_edit": {"h": ("def g(x):\n    return x + 10\n", "def g(x):\n    return x + 11\n")},
    "from_import_in_body_edit": {"h": ("def g(x):\n    return x + 10\n", "def g(x):\n    return x + 12\n")},
    "import_in_body_transitive_edit": {
        "h": ("import {h2}\n\ndef g(x):\n    return {h2}.k(x)\n",) * 2,
        "h2": ("def k(x):\n    return x + 1\n", "def k(x):\n    return x + 2\n"),
    },
    "import_in_body_reformatted": {
        "h": ("def g(x):\n    return x + 10\n", "# a comment\n\ndef g( x ):\n    '''Doc.'''\n    return (x + 10)\n")
    },
    "getattr_dispatch_edit": {"h": ("def g(x):\n    return x * 2\n", "def g(x):\n    return x * 4\n")},
    "module_passed_on_edit": {"h": ("def g(x):\n    return x * 2\n", "def g(x):\n    return x * 5\n")},
}

DRIVER = """\
import importlib, json, sys
report = {}
for name in sys.argv[1:]:
    module = importlib.import_module("case_" + name)
    if hasattr(module, "setup"):
        module.setup()
    args = getattr(module, "ARGS", (5,))
    value = module.f(*args)
    plain = module.f.__wrapped__(*args)
    report[name] = {"hit": module.f.cache_info().hits == 1, "value": repr(value), "uncached": repr(plain)}
print(json.dumps(report))
"""


def _write(project: Path, version: int) -> None:
    for name, versions in CASES.items():
        names = {"h": f"h_{name}", "h2": f"h2_{name}"}
        (project / f"case_{name}.py").write_text(HEADER + _fill(versions[version], names))
        if name in DATA:
            (project / f"data_{name}.csv").write_text(DATA[name][version])
        for suffix, texts in HELPERS.get(name, {}).items():
            (project / f"{names[suffix]}.py").write_text(_fill(texts[version], names))


def _fill(text: str, names: dict[str, str]) -> str:
    for key, value in names.items():
        text = text.replace("{" + key + "}", value)
    return text


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
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, object]]]:
    tmp_path = tmp_path_factory.mktemp("stale")
    project = tmp_path / "project"
    project.mkdir()
    (project / "driver.py").write_text(DRIVER)
    env = _env(tmp_path)
    _write(project, 0)
    first = json.loads(_run(["driver.py", *CASES], project, env))
    assert not any(result["hit"] for result in first.values()), first
    _write(project, 1)
    second = json.loads(_run(["driver.py", *CASES], project, env))
    third = json.loads(_run(["driver.py", *CASES], project, env))
    return {"first": first, "second": second, "third": third}


@pytest.mark.parametrize("case", sorted(CASES))
def test_stale_case(outcomes: dict[str, dict[str, dict[str, object]]], case: str) -> None:
    expected = CASES[case][2]
    second = outcomes["second"][case]
    got = "hit" if second["hit"] else "miss"
    assert got == expected, f"{case}: expected a {expected}, got a {got} ({second})"
    assert second["value"] == second["uncached"], f"{case}: cached {second['value']} != uncached {second['uncached']}"
    third = outcomes["third"][case]
    assert third["hit"] and third["value"] == third["uncached"], f"{case}: the same code again must hit ({third})"


NOTEBOOK = """\
import os, sys
sys.path.insert(0, os.path.join("..", "src"))
from pkg.model import predict
from lakelet.cache import smart_cache

@smart_cache(os.environ["LAKE"])
def f(x):
    return predict(x)

print(f(3), "hit" if f.cache_info().hits else "miss")
"""


def test_notebook_folder_importing_src_is_tracked(tmp_path: Path) -> None:
    """repo/notebooks/run.py imports repo/src/pkg: the project is the repository (pyproject.toml)."""
    repo = tmp_path / "repo"
    (repo / "src" / "pkg").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    (repo / "pyproject.toml").write_text("[project]\nname = 'pkg'\n")
    (repo / "src" / "pkg" / "__init__.py").write_text("")
    model = repo / "src" / "pkg" / "model.py"
    (repo / "notebooks" / "run.py").write_text(NOTEBOOK)
    env = _env(tmp_path)
    runs = [("x * 2", "6 miss"), ("x * 2", "6 hit"), ("x * 3", "9 miss"), ("(x *  3)  # same", "9 hit")]
    for body, expected in runs:
        model.write_text(f"def predict(x):\n    return {body}\n")
        assert _run(["run.py"], repo / "notebooks", env).strip() == expected, body

"""The examples in lakelet's docstrings run in the suite, each module in a fresh LAKELET_HOME.

(``--doctest-modules`` over the whole tree would also import the tests' helper scripts and conftests
as modules; this collects the package's modules only.)
"""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
from pathlib import Path

import pytest

import lakelet

PACKAGE = Path(lakelet.__file__).parent
#: modules that need the notebook face's extras to import
_OPTIONAL = ("lakelet.jupyter", "lakelet.widgets", "lakelet.dask", "lakelet.testing")


def _modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="lakelet."):
        path = PACKAGE.joinpath(*info.name.split(".")[1:])
        source = path / "__init__.py" if info.ispkg else path.with_suffix(".py")
        if source.is_file() and ">>> " in source.read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


MODULES = _modules_with_examples()


def test_the_examples_are_found() -> None:
    assert len(MODULES) >= 15, MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lakelet.config import reload_config

    if name.startswith(_OPTIONAL):
        pytest.importorskip("ipywidgets")
    monkeypatch.chdir(tmp_path)
    before = os.environ.get("LAKELET_HOME")
    os.environ["LAKELET_HOME"] = str(tmp_path / "home")  # named volumes, dicts, queues land here
    reload_config()
    try:
        module = importlib.import_module(name)
        finder = doctest.DocTestFinder(exclude_empty=True)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        tests = finder.find(module, name, globs=dict(vars(module)))
        assert tests, f"{name} has '>>> ' in its source but no doctest was found"
        for test in tests:
            runner.run(test, out=lambda text: pytest.fail(text, pytrace=False))  # type: ignore[func-returns-value]
        assert runner.failures == 0
    finally:
        if before is None:
            os.environ.pop("LAKELET_HOME", None)
        else:
            os.environ["LAKELET_HOME"] = before
        reload_config()  # the next test sees its own home

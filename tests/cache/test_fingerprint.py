"""Fingerprints: normalized code identity and the dependency walk (in-process checks)."""

from __future__ import annotations

import importlib
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from lakelet.cache import mark_module_unstable, mark_unstable
from lakelet.cache.errors import UnhashableValue
from lakelet.cache.fingerprint import Fingerprinter, combine
from lakelet.cache.source import dump_ast
from lakelet.errors import InvalidArgument


def load(tmp_path: Path, name: str, source: str):
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def test_dump_ast_ignores_positions_and_empty_fields() -> None:
    import ast

    one = dump_ast(ast.parse("def f(x):\n    return x"))
    two = dump_ast(ast.parse("\n\ndef f( x ):\n    return (x)"))
    assert one == two
    assert "lineno" not in one and "type_params" not in one


def test_stale_source_falls_back_to_bytecode(tmp_path: Path) -> None:
    module = load(tmp_path, "stale_mod", "def f(x):\n    return x + 1\n")
    fresh = Fingerprinter(tmp_path)
    assert fresh.code(module.f.__code__).method == "ast"
    (tmp_path / "stale_mod.py").write_text("def f(x):\n    return x + 2\n")  # edited, not reloaded
    import linecache

    linecache.checkcache(str(tmp_path / "stale_mod.py"))
    assert Fingerprinter(tmp_path).code(module.f.__code__).method == "bytecode"


def test_two_lambdas_on_one_line(tmp_path: Path) -> None:
    module = load(tmp_path, "lambdas_mod", "PAIR = (lambda a: a + 1, lambda b: b * 2)\n")
    fp = Fingerprinter(tmp_path)
    first, second = (fp.code(f.__code__) for f in module.PAIR)
    assert first.method == second.method == "ast"
    assert first.digest != second.digest


def test_library_code_is_keyed_by_name_and_version(tmp_path: Path) -> None:
    import numpy as np

    module = load(tmp_path, "lib_mod", "import numpy as np\ndef f(x):\n    return np.sum(x)\n")
    components = Fingerprinter(tmp_path).function(module.f)
    assert components["library numpy"] == f"numpy {np.__version__}"
    assert components["global lib_mod.f:np"] == "module numpy"


def test_code_outside_the_project_is_tracked_only_when_marked(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    module = load(outside, "outside_mod", "def g(x):\n    return x\ndef f(x):\n    return g(x)\n")
    plain = Fingerprinter(project).function(module.f)
    assert "code outside_mod.g" not in plain
    mark_unstable(module.g)
    assert "code outside_mod.g" in Fingerprinter(project).function(module.f)
    other = load(outside, "outside_mod2", "def h(x):\n    return x\ndef f(x):\n    return h(x)\n")
    sys.modules["outside_mod2"] = other
    try:
        mark_module_unstable("outside_mod2")
        assert "code outside_mod2.h" in Fingerprinter(project).function(other.f)
    finally:
        sys.modules.pop("outside_mod2", None)


def test_marking_rejects_non_functions() -> None:
    with pytest.raises(InvalidArgument):
        mark_unstable(42)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        mark_module_unstable("not_imported_anywhere_xyz")


def test_unhashable_global_is_named_and_can_be_ignored(tmp_path: Path) -> None:
    source = "import threading\nLOCK = threading.Lock()\ndef f():\n    with LOCK:\n        return 1\n"
    module = load(tmp_path, "lock_mod", source)
    with pytest.raises(UnhashableValue, match="LOCK"):
        Fingerprinter(tmp_path).function(module.f)
    components = Fingerprinter(tmp_path, ignore=("LOCK",)).function(module.f)
    assert not any("LOCK" in k for k in components)
    assert isinstance(module.LOCK, type(threading.Lock()))


def test_recursion_and_mutual_recursion(tmp_path: Path) -> None:
    module = load(
        tmp_path,
        "rec_mod",
        "def even(n):\n    return n == 0 or odd(n - 1)\ndef odd(n):\n    return n != 0 and even(n - 1)\n",
    )
    components = Fingerprinter(tmp_path).function(module.even)
    assert "code rec_mod.odd" in components and "code rec_mod.even" in components
    assert combine(components) == combine(Fingerprinter(tmp_path).function(module.even))


def test_undefined_global_is_recorded(tmp_path: Path) -> None:
    module = load(tmp_path, "undef_mod", "def f():\n    return not_defined_yet\n")
    assert Fingerprinter(tmp_path).function(module.f)["global undef_mod.f:not_defined_yet"] == "<undefined>"


def test_unhashable_class_attribute_names_it_and_can_be_ignored(tmp_path: Path, monkeypatch) -> None:
    module = load(
        tmp_path,
        "locked_mod",
        """
        import threading

        class C:
            _lock = threading.Lock()
            k = 2

        def f(x):
            return x * C.k
        """,
    )
    monkeypatch.setitem(sys.modules, "locked_mod", module)  # imported, as in real use
    with pytest.raises(UnhashableValue, match=r"add 'C._lock' to ignore=") as info:
        Fingerprinter(tmp_path).function(module.f)
    assert info.value.what == "C._lock"
    first = Fingerprinter(tmp_path, ignore=("C._lock",)).function(module.f)
    module.C.k = 3  # set at run time: part of the key
    second = Fingerprinter(tmp_path, ignore=("C._lock",)).function(module.f)
    changed = {k for k in first if first[k] != second.get(k)}
    assert changed == {"attribute locked_mod.C.k"}

"""Code defined in a notebook cell is identified by its AST even when the cell also imports.

IPython compiles each top-level statement of a cell on its own, so a call on a module imported in
the same cell compiles differently than it would in a whole-file compile (CPython 3.11 emits
LOAD_ATTR instead of LOAD_METHOD). Identity must not fall back to bytecode because of that: a
comment-only edit of such a function would otherwise look like a code change.
"""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell


def test_function_beside_an_import_in_one_cell_keeps_its_ast_identity() -> None:
    shell = InteractiveShell.instance()
    first = shell.run_cell(
        "import time\n"
        "from lakelet.cache.source import SourceIndex\n"
        "def _lk_f(x):\n"
        "    time.sleep(0)\n"
        "    return x * x\n"
        "_lk_first = SourceIndex().identity(_lk_f.__code__)\n"
    )
    assert first.success, first.error_in_exec
    second = shell.run_cell(
        "def _lk_f(x):\n"
        "    # only a comment differs\n"
        "    time.sleep(0)\n"
        "    return x * x\n"
        "_lk_second = SourceIndex().identity(_lk_f.__code__)\n"
    )
    assert second.success, second.error_in_exec
    a, b = shell.user_ns["_lk_first"], shell.user_ns["_lk_second"]
    assert a.method == "ast"
    assert b.method == "ast"
    assert a.digest == b.digest

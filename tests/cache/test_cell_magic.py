"""%%lake_cache and %lake_cache in an in-process IPython shell."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

IPython = pytest.importorskip("IPython")
from IPython.core.interactiveshell import InteractiveShell  # noqa: E402
from IPython.utils.capture import capture_output  # noqa: E402


@pytest.fixture
def shell(home: Path, tmp_path: Path) -> Iterator[InteractiveShell]:
    sh = InteractiveShell.instance()
    sh.reset()
    sh.run_cell("%load_ext lakelet", store_history=False)
    sh.user_ns["LAKE"] = str(tmp_path / "lake")
    yield sh
    sh.reset()


def run(shell: InteractiveShell, code: str):
    with capture_output() as captured:
        result = shell.run_cell(code)
    result.raise_error()
    return result, captured


CELL = """%%lake_cache demo --storage {lake}
print("computing")
counter.append(1)
total = sum(range(n))
squares = [i * i for i in range(n)]
from IPython.display import display, HTML
display(HTML("<b>done</b>"))
def twice(v):
    return 2 * v
total + 1
"""


def cell(shell: InteractiveShell) -> str:
    return CELL.format(lake=shell.user_ns["LAKE"])


def test_hit_restores_names_and_outputs_without_running(shell: InteractiveShell) -> None:
    shell.run_cell("n = 10\ncounter = []")
    first, out1 = run(shell, cell(shell) + "# --ignore is given below\n")
    shell.run_cell("del total, squares, twice")
    # counter is read and mutated by the cell: the second run sees another value of it,
    # so ignore it to show a pure hit
    text = cell(shell).replace("--storage", "--ignore counter --storage")
    run(shell, text)  # fills the entry with counter ignored
    shell.run_cell("del total, squares, twice")
    calls = len(shell.user_ns["counter"])
    result, captured = run(shell, text)
    assert len(shell.user_ns["counter"]) == calls  # not run
    assert shell.user_ns["total"] == 45
    assert shell.user_ns["squares"][-1] == 81
    assert shell.user_ns["twice"](4) == 8  # defs are re-executed, so they are live functions
    assert result.result == 46
    assert "computing" in captured.stdout  # replayed
    assert "lake_cache: hit" in captured.stdout
    assert any("<b>done</b>" in o.data.get("text/html", "") for o in captured.outputs)


def test_changing_an_input_reruns(shell: InteractiveShell) -> None:
    shell.run_cell("n = 3")
    text = f"%%lake_cache --storage {shell.user_ns['LAKE']}\nprint('ran')\nm = n * 2"
    _, out = run(shell, text)
    assert "miss" in out.stdout
    assert re.search(r"stored m \(\d+(\.\d)? (B|KiB)\)", out.stdout), out.stdout  # binary units, as the CLI
    _, out = run(shell, text)
    assert "hit" in out.stdout
    shell.run_cell("n = 4")
    _, out = run(shell, text)
    assert "ran" in out.stdout and "miss" in out.stdout
    assert shell.user_ns["m"] == 8


def test_changing_a_called_function_reruns(shell: InteractiveShell) -> None:
    shell.run_cell("def helper(x):\n    return x + 1\n")
    text = f"%%lake_cache calls --storage {shell.user_ns['LAKE']}\nout = helper(1)"
    run(shell, text)
    _, again = run(shell, text)
    assert "hit" in again.stdout
    shell.run_cell("def helper(x):\n    # only a comment changed\n    return x + 1\n")
    _, comment = run(shell, text)
    assert "hit" in comment.stdout
    shell.run_cell("def helper(x):\n    return x + 2\n")
    _, changed = run(shell, text)
    assert "miss" in changed.stdout
    assert shell.user_ns["out"] == 3
    _, why = run(shell, f"%lake_cache why calls --storage {shell.user_ns['LAKE']}")
    assert "hit" in why.stdout


def test_why_explains_a_miss(shell: InteractiveShell) -> None:
    shell.run_cell("k = 1")
    run(shell, f"%%lake_cache w --storage {shell.user_ns['LAKE']}\nr = k + 1")
    shell.run_cell("k = 2")
    _, why = run(shell, f"%lake_cache why w --storage {shell.user_ns['LAKE']}")
    assert "input variable k" in why.stdout


def test_failing_cell_is_not_cached(shell: InteractiveShell) -> None:
    text = f"%%lake_cache boom --storage {shell.user_ns['LAKE']}\nprint('try')\nraise ValueError('no')"
    with capture_output():
        first = shell.run_cell(text)
    assert isinstance(first.error_in_exec, ValueError)
    with capture_output() as captured:
        second = shell.run_cell(text)
    assert isinstance(second.error_in_exec, ValueError)
    assert "try" in captured.stdout  # it ran again


def test_unstorable_name_is_reported_and_the_cell_still_runs(shell: InteractiveShell, tmp_path: Path) -> None:
    text = f"%%lake_cache gen --storage {shell.user_ns['LAKE']}\ngen = (i for i in range(3))\nx = 5"
    _, out = run(shell, text)
    assert "NOT cached" in out.stdout and "'gen'" in out.stdout and "--ignore gen" in out.stdout
    assert shell.user_ns["x"] == 5
    _, out = run(shell, text)
    assert "miss" in out.stdout  # nothing was stored
    ignoring = text.replace("%%lake_cache gen", "%%lake_cache gen --ignore gen")
    run(shell, ignoring)
    _, out = run(shell, ignoring)
    assert "hit" in out.stdout


def test_unhashable_input_runs_uncached(shell: InteractiveShell) -> None:
    shell.run_cell("import threading\nlock = threading.Lock()")
    _, out = run(shell, f"%%lake_cache --storage {shell.user_ns['LAKE']}\nwith lock:\n    y = 1")
    assert "NOT cached" in out.stdout and "--ignore lock" in out.stdout
    assert shell.user_ns["y"] == 1


def test_deleted_and_mutated_names(shell: InteractiveShell) -> None:
    shell.run_cell("d = {'a': 1}\ntmp = 1")
    text = f"%%lake_cache mut --storage {shell.user_ns['LAKE']}\nd['b'] = 2\ndel tmp"
    run(shell, text)
    shell.run_cell("d = {'a': 1}\ntmp = 1")
    _, out = run(shell, text)
    assert "hit" in out.stdout
    assert shell.user_ns["d"] == {"a": 1, "b": 2}
    assert "tmp" not in shell.user_ns


def test_force_and_default_storage(shell: InteractiveShell, home: Path) -> None:
    run(shell, "%%lake_cache plain\nv = 1")
    _, out = run(shell, "%%lake_cache plain\nv = 1")
    assert "hit" in out.stdout
    assert (home / "lake").is_dir()
    _, out = run(shell, "%%lake_cache plain --force\nv = 1")
    assert "miss" in out.stdout


def test_line_magic_ls_info_clear(shell: InteractiveShell) -> None:
    lake = shell.user_ns["LAKE"]
    run(shell, f"%%lake_cache listed --storage {lake}\nq = 1")
    _, ls = run(shell, "%lake_cache ls")
    assert "listed" in ls.stdout
    _, info = run(shell, f"%lake_cache info listed --storage {lake}")
    assert "present:  True" in info.stdout and "q" in info.stdout
    _, cleared = run(shell, f"%lake_cache clear listed --storage {lake}")
    assert "removed 1 entry" in cleared.stdout
    _, out = run(shell, f"%%lake_cache listed --storage {lake}\nq = 1")
    assert "miss" in out.stdout


def test_bad_usage_is_a_usage_error(shell: InteractiveShell) -> None:
    with capture_output() as captured:
        shell.run_cell("%lake_cache frobnicate x")
        shell.run_cell("%%lake_cache --bogus\nx = 1")
        shell.run_cell("%%lake_cache a/b\nx = 1")
    assert captured.stderr.count("UsageError") == 3

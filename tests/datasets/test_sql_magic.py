"""``%%lake_sql`` in a real IPython shell."""

from __future__ import annotations

import pytest

import lakelet.datasets as L
from lakelet.datasets import types
from lakelet.jupyter import sql_magic


@pytest.fixture
def shell():
    # One shell per process: IPython keeps a singleton, which other test modules share.
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    sql_magic.register(ip)
    return ip


def test_magic_runs_query(shell, mem_url):
    ds = L.create(mem_url, schema={"n": types.Int64()})
    ds.append({"n": [1, 2, 3]})
    shell.user_ns["ds"] = ds
    view = shell.run_cell_magic("lake_sql", "ds -o res", "SELECT * WHERE n > 1")
    assert len(view) == 2 and shell.user_ns["res"] is view
    assert "2 rows" in view._repr_html_()
    auto = shell.run_cell_magic("lake_sql", "", "SELECT sum(n) AS s FROM ds")
    assert auto["s"] == [6]


def test_magic_errors_are_usage_errors(shell, mem_url):
    from IPython.core.error import UsageError

    shell.user_ns["ds"] = L.create(mem_url, schema={"n": types.Int64()})
    with pytest.raises(UsageError, match="unknown option"):
        shell.run_cell_magic("lake_sql", "--bad", "SELECT 1")
    with pytest.raises(UsageError, match='"missing_column" not found') as failed:
        shell.run_cell_magic("lake_sql", "ds", "SELECT missing_column WHERE n > 1")
    assert "LIMIT 0" not in str(failed.value) and "FROM (" not in str(failed.value)  # not lakelet's rewrite

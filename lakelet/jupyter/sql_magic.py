"""``%%lake_sql [NAME ...] [-o VAR]``: run DuckDB SQL over datasets and show the result as a table.

Each NAME is a variable of the notebook holding a dataset (or a dataset URL);
it is queried under that name. With no NAME, every dataset variable the SQL
mentions is used, and a single one also answers a FROM-less
``SELECT * WHERE ...``. ``-o VAR`` stores the result view in ``VAR``.

This module is the one place where query and argument errors become IPython
usage errors (a message, no traceback).
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..errors import LakeletError

_USAGE = "usage: %%lake_sql [NAME ...] [-o VAR]   (NAME: a dataset variable or URL variable)"


def parse(line: str) -> tuple[list[str], str | None]:
    """Names and output variable from the magic line; ValueError with the usage on bad input."""
    try:
        tokens = shlex.split(line)
    except ValueError as e:
        raise ValueError(f"{e}\n{_USAGE}") from e
    names: list[str] = []
    out = None
    while tokens:
        token = tokens.pop(0)
        if token in ("-o", "--out"):
            if not tokens:
                raise ValueError(f"-o needs a variable name\n{_USAGE}")
            out = tokens.pop(0)
        elif token.startswith("-"):
            raise ValueError(f"unknown option {token}\n{_USAGE}")
        else:
            names.append(token)
    for name in [*names, *([out] if out else [])]:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not a variable name\n{_USAGE}")
    return names, out


#: columns lakelet adds to a dataset's table; DuckDB's hints that name them only confuse
_INTERNAL_COLUMNS = ("_rowid",)


def sql_error_text(error: BaseException) -> str:
    r"""DuckDB's message about the user's SQL, without the statement lakelet actually ran.

    DuckDB quotes the SQL it executed (``LINE 1: SELECT * FROM (SELECT zonee FROM ds) LIMIT 0``),
    which is lakelet's rewrite, not what the user wrote; its caret points into that text. What
    is left names the problem (``Referenced column "zonee" not found``).

    >>> sql_error_text(ValueError('query failed: Binder Error: column "zonee" not found!\n'
    ...                           'Candidate bindings: "_rowid"\n\nLINE 1: SELECT * FROM (SELECT zonee FROM ds)'))
    'Binder Error: column "zonee" not found!'
    """
    text = str(error).split("\nLINE ", 1)[0]
    if text.startswith("query failed: "):
        text = text[len("query failed: "):]
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not any(col in line for col in _INTERNAL_COLUMNS)]
    return "\n".join(lines)


def run_cell(line: str, cell: str, namespace: dict[str, Any]) -> Any:
    """Run the magic against ``namespace`` (the notebook's variables); returns the result view."""
    from ..datasets import Dataset, open_read_only
    from ..datasets.sql import run

    names, out = parse(line)
    if not names:
        names = [n for n, v in namespace.items() if isinstance(v, Dataset) and re.search(rf"\b{n}\b", cell)]
    datasets = {}
    for name in names:
        if name not in namespace:
            raise ValueError(f"no variable {name!r} in the notebook")
        value = namespace[name]
        datasets[name] = value if isinstance(value, Dataset) else open_read_only(value)
    if not datasets:
        raise ValueError(f"the query names no dataset variable\n{_USAGE}")
    default = next(iter(datasets)) if len(datasets) == 1 else None
    view = run(cell, datasets, default=default)
    if out:
        namespace[out] = view
    return view


def register(ipython: Any) -> None:
    """Register ``%%lake_sql`` in an IPython shell."""
    from IPython.core.error import UsageError

    def lake_sql(line: str, cell: str) -> Any:
        try:
            return run_cell(line, cell, ipython.user_ns)
        except (ValueError, LakeletError) as e:  # the magic boundary: message only
            raise UsageError(sql_error_text(e)) from e

    lake_sql.__doc__ = __doc__
    ipython.register_magic_function(lake_sql, magic_kind="cell", magic_name="lake_sql")


__all__ = ["parse", "register", "run_cell", "sql_error_text"]

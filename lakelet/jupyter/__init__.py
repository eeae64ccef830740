"""The thin Jupyter face of lakelet: magics, widgets, reprs, server handlers.

Imports the core; the core never imports this package.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext lakelet``: register every lakelet magic and rich view in this IPython shell."""
    from . import cache_magic, reprs, sql_magic

    cache_magic.register(ipython)
    sql_magic.register(ipython)
    reprs.register(ipython)

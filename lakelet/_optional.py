"""Optional dependencies: import one, or say exactly which extra installs it.

lakelet's core installs with few dependencies; backends (s3fs, redis-py,
sshfs...), Dask, Pillow and the notebook face come with extras. Every place that
needs one asks here, so the message is the same everywhere.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependency


def require(module: str, *, extra: str, what: str) -> ModuleType:
    """``module`` imported, or :class:`MissingDependency` naming ``what`` needs it and the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        if isinstance(e, MissingDependency):
            raise
        missing = e.name or module
        raise MissingDependency(f'{what} needs {missing}: pip install "lakelet[{extra}]"') from e


__all__ = ["require"]

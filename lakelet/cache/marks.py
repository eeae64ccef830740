"""Opting code into (or out of) the cache key.

Functions defined in ``__main__``, in notebook cells and in modules under the
current project are tracked automatically; :func:`mark_unstable` and
:func:`mark_module_unstable` add code that lives elsewhere (an installed
package you are editing, say). A mark is an attribute on the function or
module itself, so it travels with the object and needs no registry.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import InvalidArgument

F = TypeVar("F", bound=Callable[..., Any])

MARK = "__lakelet_unstable__"


def mark_unstable(func: F) -> F:
    """Make ``func``'s code (and, transitively, what it calls) part of every cache key that uses it.

    >>> @mark_unstable
    ... def scale(x):
    ...     return 2 * x
    >>> is_marked(scale)
    True
    """
    target = func
    if isinstance(func, staticmethod | classmethod):
        target = func.__func__
    if not callable(target):
        raise InvalidArgument(f"mark_unstable expects a function or class, got {type(func).__name__}")
    try:
        setattr(target, MARK, True)
    except (AttributeError, TypeError) as e:
        raise InvalidArgument(f"cannot mark {target!r}: it does not accept attributes (builtin or C function?)") from e
    return func


def mark_module_unstable(module: types.ModuleType | str) -> types.ModuleType:
    """Track every function and class defined in ``module`` (an object or an imported module's name)."""
    if isinstance(module, str):
        import sys

        found = sys.modules.get(module)
        if found is None:
            raise InvalidArgument(f"module {module!r} is not imported; import it before marking it")
        module = found
    if not isinstance(module, types.ModuleType):
        raise InvalidArgument(f"mark_module_unstable expects a module, got {type(module).__name__}")
    setattr(module, MARK, True)
    return module


def is_marked(obj: object) -> bool:
    """Whether ``obj`` (a function, class or module) carries the unstable mark."""
    return getattr(obj, MARK, False) is True


__all__ = ["is_marked", "mark_module_unstable", "mark_unstable"]

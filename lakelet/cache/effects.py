"""What a cached function did besides returning: arguments changed in place, global generators moved.

An uncached call of ``f(lst)`` that runs ``lst.append(x)`` leaves ``lst`` longer; a
hit that only returns the stored result would leave it as it was, and the caller's
next line would see other state than an uncached run shows. So a miss digests the
arguments again after the call; an argument whose digest changed is stored (its
state after the call) and put back in place on a hit, for the containers that can
be updated in place (list, dict, set, bytearray, numpy array). For anything else
(a DataFrame changed with ``inplace=True``, an object's attributes) the call is not
cached and a warning says why. The global random generators are handled the same
way as for cells (:mod:`lakelet.cache.rng`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .errors import UnhashableValue

#: stored value names of an argument's state after the call
PREFIX = "mutated "
#: argument types that cannot change in place: never digested again
_IMMUTABLE = (int, float, complex, bool, str, bytes, frozenset, type(None), range)


def changed_arguments(
    arguments: Mapping[str, Any], components: Mapping[str, str], digest: Callable[[str, Any], str]
) -> list[str]:
    """Names of the arguments whose digest after the call differs from the one in the key."""
    changed = []
    for name, value in arguments.items():
        before = components.get(f"arg {name}")
        if before is None or isinstance(value, _IMMUTABLE) or _frozen_array(value):
            continue
        try:
            after = digest(name, value)
        except UnhashableValue:  # the call put something unhashable into it: changed, for sure
            after = None
        if after != before:
            changed.append(name)
    return changed


def _frozen_array(value: Any) -> bool:
    flags = getattr(value, "flags", None)
    return flags is not None and getattr(flags, "writeable", True) is False


def replayable(value: Any) -> bool:
    """Whether a hit can put ``value``'s state back into the caller's object in place."""
    if type(value) in (list, dict, set, bytearray):
        return True
    dtype = getattr(value, "dtype", None)
    return type(value).__name__ == "ndarray" and dtype is not None and dtype.kind != "O"


def replay(target: Any, state: Any) -> None:
    """Make ``target`` (the caller's argument) equal to ``state`` (what the call left it as), in place."""
    if isinstance(target, list | bytearray):
        target[:] = state
    elif isinstance(target, dict | set):
        target.clear()
        target.update(state)
    else:  # a numpy array of the same shape and dtype (the key's digest says so)
        target[...] = state

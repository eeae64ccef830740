"""The global random generators a computation may draw from without naming them: numpy's and ``random``'s.

Their state is hidden input: ``np.random.rand()`` after ``np.random.seed(1)`` is not the
draw after ``seed(0)``. A cached cell or function that moved a generator records the
state it started from (:func:`changes`); a later lookup is a hit only when the generator
is in that state again (:func:`mismatch`), and a hit leaves the generator where the
computation left it (:func:`restore`), as an uncached run would.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

#: prefix of the stored values that hold a generator's state after the run
PREFIX = "__lake_rng_"


def states() -> dict[str, Any]:
    """The state of each global generator (numpy's only once numpy is imported)."""
    import random

    out: dict[str, Any] = {"random": random.getstate()}
    np = sys.modules.get("numpy")
    if np is not None:
        out["numpy"] = np.random.get_state()
    return out


def digest(state: Any) -> str:
    from .arguments import ValueHasher

    return ValueHasher().digest(state, what="random state")


def changes(before: Mapping[str, Any], seeded: frozenset[str] = frozenset()) -> tuple[dict[str, str], dict[str, Any]]:
    """(digests of the states the result depends on, states to restore) of the generators that moved.

    A generator in ``seeded`` was seeded by the computation itself: its result does not
    depend on the state it found, only the state it left is restored.
    """
    conditions: dict[str, str] = {}
    after: dict[str, Any] = {}
    for kind, now in states().items():
        old = before.get(kind)
        if old is None or _same(old, now):
            continue
        after[kind] = now
        if kind not in seeded:
            conditions[kind] = digest(old)
    return conditions, after


def _same(a: Any, b: Any) -> bool:
    """Equal states, compared without hashing them.

    ``random``'s state is a tuple of ints (plain ``==``); numpy's is
    ``(name, key array, pos, has_gauss, cached_gaussian)``, whose array needs ``array_equal``.
    """
    if len(a) == 5 and type(a[1]).__name__ == "ndarray":
        import numpy as np

        return a[0] == b[0] and a[2:] == b[2:] and bool(np.array_equal(a[1], b[1]))
    return bool(a == b)


def mismatch(conditions: Mapping[str, str] | None) -> list[str]:
    """The generators whose current state is not the one an entry was computed from."""
    if not conditions:
        return []
    current = states()
    return [k for k, want in sorted(conditions.items()) if k not in current or digest(current[k]) != want]


def restore(kind: str, state: Any) -> None:
    """Put a global generator in ``state``."""
    if kind == "random":
        import random

        random.setstate(state)
    elif kind == "numpy":
        import numpy as np

        np.random.set_state(state)


def value_name(kind: str) -> str:
    """The stored value's name for a generator's state after the run."""
    return f"{PREFIX}{kind}__"


def kind_of(name: str) -> str | None:
    """The generator a stored value name holds the state of, or None for other values."""
    return name[len(PREFIX) : -2] if name.startswith(PREFIX) else None

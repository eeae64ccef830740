"""Validation of the numbers a caller passes as timeouts, TTLs, ages and sizes.

``NaN`` compares False with everything, so checks such as ``value < 0`` let it
through, and a NaN timeout then waits forever; infinity overflows integer sizes.
Every public entry point that takes such a number goes through here.
"""

from __future__ import annotations

import math

from .errors import InvalidArgument


def seconds(
    value: object, what: str, *, allow_none: bool = True, allow_zero: bool = True, allow_inf: bool = False
) -> float | None:
    """``value`` as a float number of seconds; :class:`InvalidArgument` naming ``what`` for
    NaN, negatives, (zero unless ``allow_zero``), (infinity unless ``allow_inf``), bools and non-numbers."""
    if value is None and allow_none:
        return None
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    bad = (
        number is None
        or math.isnan(number)
        or number < 0
        or (number == 0 and not allow_zero)
        or (math.isinf(number) and not allow_inf)
    )
    if bad:
        kind = "non-negative" if allow_zero else "positive"
        limit = "" if allow_inf else "finite "
        none = " (or None)" if allow_none else ""
        raise InvalidArgument(f"{what} must be a {limit}{kind} number of seconds{none}, got {value!r:.80}")
    return float(number)  # type: ignore[arg-type]


__all__ = ["seconds"]

"""Human-readable figures, shared by the CLI, the reprs and the widgets."""

from __future__ import annotations


def human_bytes(n: int | float | None, missing: str = "—") -> str:
    """``1536`` -> ``'1.5 KiB'``; None -> ``missing``.

    >>> human_bytes(0), human_bytes(1536), human_bytes(5 * 2**30), human_bytes(None, "-")
    ('0 B', '1.5 KiB', '5.0 GiB', '-')
    """
    if n is None:
        return missing
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"

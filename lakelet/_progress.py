"""Progress bars, one kind for every layer (tqdm.auto: a widget in notebooks, text in terminals).

``progress`` means the same wherever a call takes it: ``True`` shows a bar, ``False`` none, and
``None`` shows one only once the work has run for :data:`AUTO_DELAY` seconds, so quick calls in a
notebook stay quiet and long ones are not silent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: with ``progress=None`` a bar appears only once the work has run this long (seconds)
AUTO_DELAY = 2.0


@contextmanager
def progress_bar(
    total: int | None, desc: str, enabled: bool | None, *, unit: str = "B"
) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)`` (thread-safe) for work of ``total`` ``unit``s; bytes count in KiB, MiB, ..."""
    if enabled is False:
        yield _ignore
        return
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B" or (total or 0) >= 10_000,  # "7/7 files", "1.2M/2M rows", "3.1MB/9.4MB"
        unit_divisor=1024 if unit == "B" else 1000,
        delay=0 if enabled else AUTO_DELAY,
    )
    lock = threading.Lock()

    def advance(n: int) -> None:
        with lock:
            bar.update(n)

    try:
        yield advance
    finally:
        bar.close()


def _ignore(n: int) -> None:
    return None


__all__ = ["AUTO_DELAY", "progress_bar"]

"""Progress bars for transfers (tqdm.auto: a widget in notebooks, text in terminals)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: with ``progress=None`` a bar appears only once a transfer has run this long (seconds)
AUTO_DELAY = 2.0


@contextmanager
def progress_bar(total: int, desc: str, enabled: bool | None) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n_bytes)``; ``enabled`` True shows a bar, None shows it only for long transfers."""
    if enabled is False:
        yield _ignore
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, delay=0 if enabled else AUTO_DELAY)
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

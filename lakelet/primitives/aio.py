"""Sync methods with ``.aio`` async twins.

The primitives are written once, as blocking code (SQLite and redis-py are
blocking; s3fs runs on fsspec's own IO-loop thread). Blocking calls therefore
never touch the caller's event loop and work inside Jupyter's running loop.
``obj.method.aio(...)`` runs the same code on lakelet's IO thread pool and
awaits it, so async code never blocks its loop::

    value = d.get("k")               # blocking, fine in a notebook cell
    value = await d.get.aio("k")     # in async code

Generator methods (``iterate_keys``, ``iterdir``, ``Queue.iterate``) get an
async-iterator twin that pulls each item on the IO pool.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_IO_THREADS = 64


class _Pool:
    """The IO thread pool of the async twins, created on first use.

    It is separate from the event loop's default executor (6 threads on a
    2-core machine), so a few blocking ``Queue.get.aio`` calls cannot starve it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ThreadPoolExecutor | None = None

    def get(self) -> ThreadPoolExecutor:
        with self.lock:
            if self.executor is None:
                self.executor = ThreadPoolExecutor(_IO_THREADS, thread_name_prefix="lakelet-io")
            return self.executor


_pool = _Pool()


async def run_blocking(fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
    """Run ``fn(*args, **kwargs)`` on lakelet's IO pool and await its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_pool.get(), functools.partial(fn, *args, **kwargs))


_DONE = object()


async def iterate_blocking(iterator: Iterator[R]) -> AsyncIterator[R]:
    """Drive a blocking iterator from async code, one ``next`` at a time on the IO pool."""
    while True:
        item = await run_blocking(next, iterator, _DONE)
        if item is _DONE:
            return
        yield item  # type: ignore[misc]


class BoundTwin(Generic[P, R]):
    """A method bound to its object: call it to block, or ``await .aio(...)``."""

    __slots__ = ("_fn", "_obj")

    def __init__(self, fn: Callable[..., R], obj: Any) -> None:
        self._fn = fn
        self._obj = obj

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._fn(self._obj, *args, **kwargs)

    async def aio(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return await run_blocking(self._fn, self._obj, *args, **kwargs)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self._fn.__doc__

    def __repr__(self) -> str:
        return f"<method {self._fn.__qualname__} of {self._obj!r} (call, or await .aio())>"


class BoundIterTwin(BoundTwin[P, R]):
    """A generator method: iterate it, or ``async for x in obj.method.aio(...)``."""

    __slots__ = ()

    def aio(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[Any]:  # type: ignore[override]
        return _lazy_async_iter(self._fn, self._obj, args, kwargs)


async def _lazy_async_iter(fn: Callable[..., Any], obj: Any, args: Any, kwargs: Any) -> AsyncIterator[Any]:
    iterator = await run_blocking(lambda: iter(fn(obj, *args, **kwargs)))
    async for item in iterate_blocking(iterator):
        yield item


class twin(Generic[P, R]):  # noqa: N801 - used as a decorator
    """Decorate a blocking method to give it an ``.aio`` async twin."""

    bound: type[BoundTwin[Any, Any]] = BoundTwin

    def __init__(self, fn: Callable[..., R]) -> None:
        self._fn = fn
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return self.bound(self._fn, obj)


class iter_twin(twin[P, R]):  # noqa: N801 - used as a decorator
    """Decorate a blocking generator method to give it an async-iterator ``.aio`` twin."""

    bound = BoundIterTwin


class class_twin(twin[P, R]):  # noqa: N801 - used as a decorator
    """Like :class:`twin` for a classmethod: ``Dict.from_name.aio(...)``."""

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return BoundTwin(self._fn, objtype if objtype is not None else type(obj))


__all__ = ["BoundIterTwin", "BoundTwin", "class_twin", "iter_twin", "iterate_blocking", "run_blocking", "twin"]

"""Deadlines of remote operations: connect, read and total, from ``[remote]`` in config.toml.

A server that accepts connections but never answers (stopped with SIGSTOP, a hung
proxy) is bounded three ways: ``connect_timeout`` for the TCP/TLS handshake,
``read_timeout`` for any gap while waiting for bytes, and ``deadline`` for one
whole request including the client's retries. A request that carries a body gets
``deadline + size / MIN_RATE`` so a healthy slow upload is never cut off::

    [remote]
    connect_timeout = 5     # seconds
    read_timeout = 20
    deadline = 30
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .._numbers import seconds
from ..errors import InvalidArgument, StorageTimeout

#: bytes per second a request body is allowed on top of the deadline
MIN_RATE = 1 << 20
DEFAULTS = {"connect_timeout": 5.0, "read_timeout": 20.0, "deadline": 30.0}


@dataclass(frozen=True)
class Deadlines:
    connect_timeout: float
    read_timeout: float
    deadline: float

    def for_body(self, size: int) -> float:
        """The total deadline of a request sending ``size`` bytes."""
        return self.deadline + size / MIN_RATE


def remote_deadlines(**given: float | None) -> Deadlines:
    """The deadlines to use: arguments given (not None), else ``[remote]`` of config.toml, else defaults."""
    from ..config import get_config

    table = get_config().section("remote")
    unknown = set(table) - set(DEFAULTS)
    if unknown:
        raise InvalidArgument(f"unknown keys {sorted(unknown)} in [remote] of config.toml; known: {sorted(DEFAULTS)}")
    values = {}
    for name, default in DEFAULTS.items():
        value = given.get(name)
        where = name
        if value is None:
            value, where = table.get(name, default), f"[remote] {name} in config.toml"
        if isinstance(value, str):  # from a URL's query string
            try:
                value = float(value)
            except ValueError:
                raise InvalidArgument(f"{where} must be a number of seconds, got {value!r:.80}") from None
        values[name] = seconds(value, where, allow_none=False, allow_zero=False)
    return Deadlines(**values)  # type: ignore[arg-type]


def bounded(
    call: Callable[..., Awaitable[Any]], limit: Callable[[dict[str, Any]], float], describe: Callable[[str, float], str]
) -> Callable[..., Awaitable[Any]]:
    """``call`` (an async client method taking the operation name first) cut off after ``limit(kwargs)``
    seconds with :class:`StorageTimeout` (message from ``describe(operation, seconds)``)."""

    async def run(operation: str, *args: Any, **kwargs: Any) -> Any:
        seconds_ = limit(kwargs)
        try:
            async with asyncio.timeout(seconds_) as scope:
                return await call(operation, *args, **kwargs)
        except TimeoutError as e:
            if scope.expired():
                raise StorageTimeout(describe(operation, seconds_)) from e
            raise

    return run


def body_size(kwargs: dict[str, Any]) -> int:
    """Bytes of a request body (``Body=``), 0 when there is none or its size is unknown."""
    body = kwargs.get("Body")
    try:
        return len(body) if body is not None else 0
    except TypeError:
        return 0


__all__ = ["DEFAULTS", "MIN_RATE", "Deadlines", "body_size", "bounded", "remote_deadlines"]


#: the sync methods of an fsspec filesystem that a location's operations call
_SYNC_METHODS = ("info", "exists", "cat_file", "pipe_file", "put_file", "get_file", "rm_file", "find", "ls")


def bound_fsspec(fs: Any, deadlines: Deadlines, where: str) -> None:
    """Cut each call of an *async* fsspec filesystem's methods off after the total deadline.

    Backends bound connecting and each read themselves (their own settings, from the same
    ``[remote]`` table), but their retry loops can add up to minutes; fsspec's ``sync`` takes a
    ``timeout`` for the whole call. Any timeout, ours or the client's, becomes one
    :class:`StorageTimeout` that names the server, the operation and the setting.
    """
    import inspect

    for name in _SYNC_METHODS:
        method = getattr(fs, name, None)
        wrapped = getattr(method, "__wrapped__", None)
        if method is None or not inspect.iscoroutinefunction(wrapped):
            continue  # not fsspec's sync wrapper of a coroutine: it takes no ``timeout``
        setattr(fs, name, _bounded_method(method, name, deadlines, where))


def _bounded_method(method: Callable[..., Any], name: str, deadlines: Deadlines, where: str) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        limit = deadlines.for_body(_body_size(name, args, kwargs))
        try:
            return method(*args, timeout=limit, **kwargs)
        except Exception as e:
            if not _timed_out(e):
                raise
            raise StorageTimeout(
                f"{where} did not answer {name} within its deadlines (connect {deadlines.connect_timeout:.3g} s, "
                f"read {deadlines.read_timeout:.3g} s, total {limit:.3g} s; a hung or stopped server?); set them "
                "in [remote] of config.toml"
            ) from e

    return call


def _body_size(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    import os

    if name == "pipe_file":
        data = args[1] if len(args) > 1 else kwargs.get("value", b"")
        return len(data) if isinstance(data, bytes | bytearray | memoryview) else 0
    if name == "put_file":
        source = args[0] if args else kwargs.get("lpath")
        try:
            return os.path.getsize(source) if source is not None else 0
        except OSError:
            return 0
    return 0


def _timed_out(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a timeout: fsspec's, asyncio's, aiohttp's, a lost keepalive."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current).__name__
        if isinstance(current, TimeoutError) or kind in ("FSTimeoutError", "ServerTimeoutError"):
            return True
        if kind == "ConnectionLost" and "keepalive" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False

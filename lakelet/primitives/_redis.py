"""redis-py, imported lazily, with its errors translated to lakelet's."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from .._optional import require
from ..errors import StorageInternalError, StorageNetworkConnectionError

F = TypeVar("F", bound=Callable[..., Any])


def import_redis() -> Any:
    return require("redis", extra="redis", what="a shared environment")


def connect(url: str) -> Any:
    """A client for ``url`` with its own connection pool (bytes in, bytes out)."""
    redis = import_redis()
    return redis.Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)


def translate(error: Exception, url: str | None = None) -> Exception:
    """The lakelet error for a redis-py exception (the caller raises it ``from error``)."""
    redis = import_redis()
    where = f" ({url})" if url else ""
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return StorageNetworkConnectionError(f"redis unreachable{where}: {error}")
    return StorageInternalError(f"redis error{where}: {type(error).__name__}: {error}")


def redis_errors(fn: F) -> F:
    """Translate redis-py exceptions raised by a backend method (or generator method)."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                yield from fn(self, *args, **kwargs)
            except import_redis().RedisError as e:
                raise translate(e, getattr(self, "url", None)) from e

        return generator  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except import_redis().RedisError as e:
            raise translate(e, getattr(self, "url", None)) from e

    return wrapper  # type: ignore[return-value]


__all__ = ["connect", "import_redis", "redis_errors", "translate"]

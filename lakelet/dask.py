"""lakelet on a Dask cluster: a team-wide cache for distributed tasks, datasets as Dask collections.

Dask does the scheduling; lakelet only decides what needs computing and where
results live. With a shared lake (S3 + Redis, as configured for an
environment), every worker, every notebook and every teammate reads and writes
the same entries::

    from dask.distributed import Client
    import lakelet
    from lakelet.dask import cached_map

    @lakelet.smart_cache
    def features(path): ...

    client = Client(...)
    results = cached_map(client, features, paths)   # hits come from the lake, only misses run

``cached_map`` computes each call's entry address on the client, where the
code has its source, reads the hits from the lake, and submits one task per
*distinct* missing address under a task key derived from that address, so
identical calls in flight (twice in one list, or from two clients at once)
merge into one task. Workers check that they derive the same address before
computing. A Redis level makes compute-once hold across machines (see
:mod:`lakelet.cache.lease`).

Install with ``pip install "lakelet[dask]"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._optional import require
from .cache.decorator import CachedFunction
from .errors import InvalidArgument, LakeletError


class KeyMismatch(LakeletError, RuntimeError):
    """A worker derived another cache address for a call than the client did (their environments differ)."""


class MapResult(list):  # type: ignore[type-arg]
    """The results of :func:`cached_map`, in input order, with what it took to get them."""

    #: calls answered from the lake without submitting anything
    hits: int
    #: tasks submitted (distinct missing entries)
    submitted: int


def _require_distributed() -> Any:
    return require("distributed", extra="dask", what="lakelet.dask")


def _run_call(func: CachedFunction[..., Any], address: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """On a worker: check the address, then call (the call itself reads or writes the lake)."""
    here = func.key(*args, **kwargs)
    if here != address:
        raise KeyMismatch(
            f"{func.name}: this worker derives cache address {here[:12]} for a call the client "
            f"addressed {address[:12]}; library versions or LAKELET_CACHE_KEY differ between them"
        )
    return func(*args, **kwargs)


def cached_map(
    client: Any,
    func: CachedFunction[..., Any],
    *iterables: Iterable[Any],
    gather: bool = True,
    **submit_options: Any,
) -> MapResult | list[Any]:
    """``client.map(func, *iterables)`` that submits only the calls the lake does not hold yet.

    Returns the results in input order (a :class:`MapResult` with ``hits`` and
    ``submitted``), or, with ``gather=False``, a list of futures and plain
    values. ``submit_options`` go to ``client.submit`` (``resources=``,
    ``retries=``, ``priority=``...).
    """
    _require_distributed()
    if not isinstance(func, CachedFunction):
        raise InvalidArgument(f"cached_map takes a @smart_cache function, got {type(func).__name__}")
    if not iterables:
        raise InvalidArgument("cached_map needs at least one iterable of arguments")
    for reserved in ("key", "pure"):
        if reserved in submit_options:
            raise InvalidArgument(f"cached_map sets {reserved}= itself (task keys come from cache addresses)")
    calls = [tuple(args) for args in zip(*iterables, strict=True)]
    addresses = [func.key(*args) for args in calls]

    found: dict[str, Any] = {}
    futures: dict[str, Any] = {}
    for args, address in zip(calls, addresses, strict=True):
        if address in found or address in futures:
            continue
        value, stale = func.lookup(address)
        if value is not None:
            found[address] = value[0]
            continue
        futures[address] = client.submit(
            _run_call,
            func,
            address,
            args,
            {},
            key=f"lakelet-{address}",  # identical calls in flight share one task, across clients too
            pure=False,
            **submit_options,
        )
    hits = sum(1 for a in addresses if a in found)
    if not gather:
        return [futures[a] if a in futures else found[a] for a in addresses]
    done = dict(zip(futures, client.gather(list(futures.values())), strict=True)) if futures else {}
    result = MapResult(found[a] if a in found else done[a] for a in addresses)
    result.hits, result.submitted = hits, len(futures)
    return result


def cached_submit(client: Any, func: CachedFunction[..., Any], *args: Any, **kwargs: Any) -> Any:
    """One call: the cached value (wrapped in a finished future) or a task keyed by the entry address."""
    _require_distributed()
    if not isinstance(func, CachedFunction):
        raise InvalidArgument(f"cached_submit takes a @smart_cache function, got {type(func).__name__}")
    address = func.key(*args, **kwargs)
    value, _ = func.lookup(address)
    if value is not None:
        return client.scatter(value[0], hash=False)
    return client.submit(_run_call, func, address, args, kwargs, key=f"lakelet-{address}", pure=False)


__all__ = ["KeyMismatch", "MapResult", "cached_map", "cached_submit"]

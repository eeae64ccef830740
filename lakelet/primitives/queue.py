"""``Queue``: a named FIFO queue shared by processes, with partitions and optional acks.

>>> q = Queue.from_name("jobs", create_if_missing=True)
>>> q.put_many([1, 2, 3]); q.get()
1
>>> with q.get(ack=True) as job:   # acknowledged on success, released on error
...     print("working on", job)
working on 2
>>> q.len()
1
"""

from __future__ import annotations

import queue as stdqueue
import time
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from .._numbers import seconds
from ..errors import InvalidArgument
from . import codec
from .aio import iter_twin, twin
from .catalog import ObjectRecord
from .env import Environment
from .errors import PoisonItem
from .objects import NamedObject
from .queue_backends import DEFAULT_PARTITION, DeadLetter, Poisoned, destroy_queue_store, open_queue_store

#: idle partitions (other than the default one) are dropped after this many seconds
DEFAULT_PARTITION_TTL = 24 * 3600.0
DEFAULT_VISIBILITY_TIMEOUT = 300.0
_MAX_POLL = 0.05


def _partition(partition: object) -> str:
    if partition is None:
        return DEFAULT_PARTITION
    if not isinstance(partition, str) or not 1 <= len(partition.encode()) <= 64 or "\x00" in partition:
        raise InvalidArgument(f"partition must be None or a str of 1-64 bytes without NUL, got {partition!r:.80}")
    return partition


def _seconds(value: object, what: str, *, allow_none: bool = True, allow_zero: bool = True) -> float | None:
    return seconds(value, what, allow_none=allow_none, allow_zero=allow_zero)


class Delivery:
    """An item received with ``ack=True``: :meth:`ack` it when done, or :meth:`nack` to release it.

    Unacknowledged items become visible to other consumers again after the
    visibility timeout, so a consumer that crashes loses nothing. As a context
    manager it yields the value, acks on success and nacks on an exception.
    """

    __slots__ = ("value", "_queue", "_partition", "_token")

    def __init__(self, value: Any, queue: Queue, partition: str, token: str) -> None:
        self.value = value
        self._queue, self._partition, self._token = queue, partition, token

    @twin
    def ack(self) -> bool:
        """Delete the item for good; False if its lease had expired (it may be redelivered)."""
        return self._queue._store.ack(self._partition, self._token)

    @twin
    def nack(self) -> bool:
        """Put the item back at the front of its partition now."""
        return self._queue._store.nack(self._partition, self._token)

    def __enter__(self) -> Any:
        return self.value

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.ack()
        else:
            self.nack()

    def __repr__(self) -> str:
        return f"Delivery({self.value!r:.80})"


class Queue(NamedObject):
    """A durable FIFO queue (per partition) shared by processes.

    ``get`` never hands the same item to two consumers. Create with
    ``maxsize=N`` to bound each partition (``put`` then blocks or raises
    :class:`queue.Full`).
    """

    _kind: ClassVar[str] = "queue"
    _options: ClassVar[tuple[str, ...]] = ("maxsize",)

    def __init__(self, record: ObjectRecord, env: Environment) -> None:
        super().__init__(record, env)
        self._maxsize: int | None = record.options.get("maxsize")
        self._store_cache: Any = None

    @classmethod
    def _check_options(cls, options: dict[str, Any]) -> None:
        super()._check_options(options)
        maxsize = options.get("maxsize")
        if maxsize is not None and (not isinstance(maxsize, int) or isinstance(maxsize, bool) or maxsize < 1):
            raise InvalidArgument(f"maxsize must be a positive int (items per partition) or None, got {maxsize!r}")

    @classmethod
    def _destroy(cls, env: Environment, record: ObjectRecord) -> None:
        destroy_queue_store(env, record.id)

    @property
    def _store(self) -> Any:
        if self._store_cache is None:
            self._store_cache = open_queue_store(self._env, self.object_id)
        return self._store_cache

    # ------------------------------------------------------------------ producing
    @twin
    def put(
        self,
        v: Any,
        *,
        block: bool = True,
        timeout: float | None = None,
        partition: str | None = None,
        partition_ttl: float = DEFAULT_PARTITION_TTL,
    ) -> None:
        """Append ``v``; if the partition is full, wait (``block``) up to ``timeout`` or raise :class:`queue.Full`."""
        self.put_many([v], block=block, timeout=timeout, partition=partition, partition_ttl=partition_ttl)

    @twin
    def put_many(
        self,
        vs: Iterable[Any],
        *,
        block: bool = True,
        timeout: float | None = None,
        partition: str | None = None,
        partition_ttl: float = DEFAULT_PARTITION_TTL,
    ) -> None:
        """Append every item of ``vs`` at once (all or none)."""
        part = _partition(partition)
        timeout = _seconds(timeout, "timeout")
        ttl = (
            None
            if part == DEFAULT_PARTITION
            else _seconds(partition_ttl, "partition_ttl", allow_none=False, allow_zero=False)
        )
        items = [codec.dumps(v, f"queue item #{i}") for i, v in enumerate(vs)]
        if not items:
            return
        if self._maxsize is not None and len(items) > self._maxsize:
            raise stdqueue.Full(f"{len(items)} items can never fit in a partition of maxsize {self._maxsize}")
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while not self._store.put_many(part, items, ttl, self._maxsize):
            left = None if deadline is None else deadline - time.monotonic()
            if not block or (left is not None and left <= 0):
                raise stdqueue.Full(f"queue {self.name!r} partition {partition!r} is full (maxsize {self._maxsize})")
            time.sleep(delay if left is None else min(delay, left))
            delay = min(delay * 2, _MAX_POLL)

    # ------------------------------------------------------------------ consuming
    def _pop(self, n: int, block: bool, timeout: float | None, partition: str | None, lease: float | None) -> list:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InvalidArgument(f"n_values must be a positive int, got {n!r}")
        part = _partition(partition)
        timeout = _seconds(timeout, "timeout")
        store = self._store
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.001
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            server_wait = 0.0
            if block and store.blocks and lease is None:
                server_wait = 1.0 if left is None else max(min(left, 1.0), 0.0)
            got, poisoned = store.get_many(part, n, lease, server_wait, self._decode)
            if poisoned:
                raise self._poison_error(part, poisoned)
            if got or not block:
                break
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise stdqueue.Empty(f"no item in queue {self.name!r} within {timeout} s")
            if server_wait == 0:
                time.sleep(delay if left is None else min(delay, left))
                delay = min(delay * 2, _MAX_POLL)
        if lease is None:
            return [v for _, v in got]
        return [Delivery(v, self, part, token) for token, v in got]

    def _decode(self, data: bytes) -> Any:
        return codec.loads(data, "the item")

    def _poison_error(self, partition: str, poisoned: list[Poisoned]) -> PoisonItem:
        ids = [p.dead_letter_id for p in poisoned]
        where = "the default partition" if partition == DEFAULT_PARTITION else f"partition {partition!r}"
        reasons = "; ".join(f"#{p.dead_letter_id}: {p.error}" for p in poisoned[:3])
        reasons += "; ..." if len(poisoned) > 3 else ""
        return PoisonItem(
            f"{len(poisoned)} item(s) of {self!r} ({where}) cannot be decoded in this process and were moved "
            f"to its dead letters as {', '.join(f'#{i}' for i in ids)} (see .dead_letters()); the other items "
            f"stay queued, in order. Why: {reasons}",
            dead_letter_ids=ids,
        )

    @twin
    def dead_letters(self) -> list[DeadLetter]:
        """Items no consumer could decode (oldest first), with why; ``.data`` is the stored pickle."""
        return self._store.dead_letters()

    @twin
    def clear_dead_letters(self) -> None:
        """Forget every dead letter."""
        self._store.clear_dead_letters()

    @twin
    def get(
        self,
        *,
        block: bool = True,
        timeout: float | None = None,
        partition: str | None = None,
        ack: bool = False,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
    ) -> Any:
        """Remove and return the oldest item. Blocks (up to ``timeout``, then :class:`queue.Empty`);
        with ``block=False`` returns None when empty. ``ack=True`` returns a :class:`Delivery`."""
        lease = _seconds(visibility_timeout, "visibility_timeout", allow_none=False, allow_zero=False) if ack else None
        got = self._pop(1, block, timeout, partition, lease)
        return got[0] if got else None

    @twin
    def get_many(
        self,
        n_values: int,
        *,
        block: bool = True,
        timeout: float | None = None,
        partition: str | None = None,
        ack: bool = False,
        visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT,
    ) -> list[Any]:
        """Up to ``n_values`` items, oldest first; waits as :meth:`get` does for the first one."""
        lease = _seconds(visibility_timeout, "visibility_timeout", allow_none=False, allow_zero=False) if ack else None
        return self._pop(n_values, block, timeout, partition, lease)

    @iter_twin
    def iterate(self, *, partition: str | None = None, item_poll_timeout: float = 0.0) -> Iterator[Any]:
        """Yield items until none arrives within ``item_poll_timeout`` seconds."""
        poll = _seconds(item_poll_timeout, "item_poll_timeout", allow_none=False)
        while True:
            try:
                got = self._pop(1, poll > 0, poll, partition, None)  # type: ignore[operator]
            except stdqueue.Empty:
                return
            if not got:
                return
            yield got[0]

    @twin
    def peek(self, n: int = 1, *, partition: str | None = None) -> list[Any]:
        """The ``n`` oldest items, left in the queue."""
        if not isinstance(n, int) or n < 1:
            raise InvalidArgument(f"n must be a positive int, got {n!r}")
        raw = self._store.peek(_partition(partition), n)
        return [codec.loads(v, f"item {i} of {self!r}") for i, v in enumerate(raw)]

    # ------------------------------------------------------------------ size
    @twin
    def len(self, *, partition: str | None = None, total: bool = False) -> int:
        """Items waiting in ``partition`` (default partition if None), or in all partitions if ``total``."""
        if total:
            if partition is not None:
                raise InvalidArgument("pass either partition= or total=True, not both")
            return self._store.len(None)
        return self._store.len(_partition(partition))

    def __len__(self) -> int:
        return self._store.len(DEFAULT_PARTITION)

    @twin
    def clear(self, *, partition: str | None = None, all: bool = False) -> None:  # noqa: A002 - Modal's name
        """Remove every item of ``partition`` (default partition if None), or of all partitions if ``all``."""
        if all:
            if partition is not None:
                raise InvalidArgument("pass either partition= or all=True, not both")
            self._store.clear(None)
            return
        self._store.clear(_partition(partition))


__all__ = ["DEFAULT_PARTITION_TTL", "DEFAULT_VISIBILITY_TIMEOUT", "DeadLetter", "Delivery", "Queue"]

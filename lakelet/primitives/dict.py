"""``Dict``: a named key-value store shared by processes (and machines, on a shared environment).

>>> d = Dict.from_name("config", create_if_missing=True)
>>> d["db"] = "postgresql://..."
>>> d.put("lock", "me", skip_if_exists=True)              # atomic across processes
True
>>> d.put("lock", "you", skip_if_exists=True), d["lock"]
(False, 'me')
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from .._numbers import seconds
from . import codec
from .aio import iter_twin, twin
from .catalog import ObjectRecord
from .dict_backends import destroy_dict_store, open_dict_store
from .env import Environment
from .errors import UndecodableValue, UndecodableValueWarning
from .objects import NamedObject

_MISSING: Any = object()


def _check_ttl(ttl: object, what: str = "ttl") -> float | None:
    return seconds(ttl, what, allow_zero=False)


class Dict(NamedObject):
    """A persistent, shared mapping. Keys and values are pickled (cloudpickle).

    Entries never expire unless given a ``ttl`` (seconds) in :meth:`put`, or the
    Dict was created with ``default_ttl``. ``len()`` is exact. Limits: keys up to
    :data:`~lakelet.primitives.codec.MAX_KEY_SIZE` bytes encoded, values up to
    :data:`~lakelet.primitives.codec.MAX_VALUE_SIZE` bytes serialized.
    """

    _kind: ClassVar[str] = "dict"
    _options: ClassVar[tuple[str, ...]] = ("default_ttl",)

    def __init__(self, record: ObjectRecord, env: Environment) -> None:
        super().__init__(record, env)
        self._default_ttl = _check_ttl(record.options.get("default_ttl"), "default_ttl")
        self._store_cache: Any = None

    @classmethod
    def _check_options(cls, options: dict[str, Any]) -> None:
        super()._check_options(options)
        _check_ttl(options.get("default_ttl"), "default_ttl")

    @classmethod
    def _destroy(cls, env: Environment, record: ObjectRecord) -> None:
        destroy_dict_store(env, record.id)

    @property
    def _store(self) -> Any:
        store = self._store_cache
        if store is None:
            store = self._store_cache = open_dict_store(self._env, self.object_id)
        return store

    def _expires(self, ttl: float | None) -> float | None:
        ttl = self._default_ttl if ttl is None else _check_ttl(ttl)
        return None if ttl is None else time.time() + ttl

    # ------------------------------------------------------------------ reads
    @twin
    def get(self, key: Any, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` if it is missing (or expired)."""
        raw = self._store.get(codec.encode_key(key))
        return default if raw is None else self._decode(key, raw)

    def __getitem__(self, key: Any) -> Any:
        raw = self._store.get(codec.encode_key(key))
        if raw is None:
            raise KeyError(key)
        return self._decode(key, raw)

    def _decode(self, key: Any, raw: bytes) -> Any:
        return codec.loads(raw, f"the value of key {key!r:.80} in {self!r}")

    @twin
    def contains(self, key: Any) -> bool:
        """Whether ``key`` has a live value."""
        return self._store.get(codec.encode_key(key)) is not None

    def __contains__(self, key: Any) -> bool:
        return self.contains(key)

    @twin
    def len(self) -> int:
        """The exact number of live entries."""
        return self._store.len()

    def __len__(self) -> int:
        return self._store.len()

    # ------------------------------------------------------------------ writes
    @twin
    def put(self, key: Any, value: Any, *, skip_if_exists: bool = False, ttl: float | None = None) -> bool:
        """Set ``key`` to ``value``; with ``skip_if_exists`` only if it has no live value
        (atomic across processes: exactly one racer gets True). ``ttl`` in seconds."""
        k = codec.encode_key(key)
        v = codec.dumps(value, f"value of key {key!r:.80}")
        return self._store.put(k, v, self._expires(ttl), skip_if_exists)

    def __setitem__(self, key: Any, value: Any) -> None:
        v = codec.dumps(value, f"value of key {key!r:.80}")
        self._store.put(codec.encode_key(key), v, self._expires(None), False)

    @twin
    def update(self, other: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (), /, **kwargs: Any) -> None:
        """Set many entries in one round trip (one transaction)."""
        pairs = list(other.items() if isinstance(other, Mapping) else other) + list(kwargs.items())
        items = [(codec.encode_key(k), codec.dumps(v, f"value of key {k!r:.80}")) for k, v in pairs]
        self._store.update(items, self._expires(None))

    @twin
    def pop(self, key: Any, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value (atomic); ``default`` or KeyError if missing.

        The value is decoded *before* it is removed: one that cannot be decoded here raises
        :class:`UndecodableValue` and stays stored."""
        k = codec.encode_key(key)
        while True:
            raw = self._store.get(k)
            if raw is None:
                if default is _MISSING:
                    raise KeyError(key)
                return default
            value = self._decode(key, raw)
            if self._store.pop_if(k, raw):  # removed only if nobody changed it meanwhile
                return value

    def __delitem__(self, key: Any) -> None:
        if self._store.pop(codec.encode_key(key)) is None:
            raise KeyError(key)

    @twin
    def clear(self) -> None:
        """Remove every entry."""
        self._store.clear()

    # ------------------------------------------------------------------ iteration
    @iter_twin
    def iterate_items(self) -> Iterator[tuple[Any, Any]]:
        """Every live (key, value) pair, streamed page by page (no order guaranteed).

        A value (or pickled key) this process cannot decode is skipped, never hiding the
        others; one :class:`UndecodableValueWarning` at the end names every skipped key."""
        yield from self._scan(values=True)

    @iter_twin
    def iterate_keys(self) -> Iterator[Any]:
        """Every live key."""
        for k, _ in self._scan(values=False):
            yield k

    @iter_twin
    def iterate_values(self) -> Iterator[Any]:
        """Every live value (undecodable ones skipped with a warning, as in :meth:`iterate_items`)."""
        for _, v in self._scan(values=True):
            yield v

    def _scan(self, values: bool) -> Iterator[tuple[Any, Any]]:
        skipped: list[str] = []
        for page in self._store.scan():
            for k, v in page:
                try:
                    key = codec.decode_key(k)
                except UndecodableValue as e:
                    skipped.append(f"a key stored as {k[:40]!r} ({e})")
                    continue
                if not values:
                    yield key, None
                    continue
                try:
                    value = self._decode(key, v)
                except UndecodableValue as e:
                    skipped.append(str(e))
                    continue
                yield key, value
        if skipped:
            shown = "; ".join(skipped[:10]) + (f"; and {len(skipped) - 10} more" if len(skipped) > 10 else "")
            warnings.warn(
                f"{len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} of {self!r} skipped: {shown}. "
                "The stored bytes are untouched; decode them in a process that has their classes.",
                UndecodableValueWarning,
                stacklevel=3,
            )

    def __iter__(self) -> Iterator[Any]:
        return self.iterate_keys()

    @twin
    def keys(self) -> list[Any]:
        return list(self.iterate_keys())

    @twin
    def values(self) -> list[Any]:
        return list(self.iterate_values())

    @twin
    def items(self) -> list[tuple[Any, Any]]:
        return list(self.iterate_items())


__all__ = ["Dict"]

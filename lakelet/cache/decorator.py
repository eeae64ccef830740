"""``@smart_cache``: memoization keyed by code, inputs and a format version.

>>> import tempfile
>>> from lakelet.cache import smart_cache
>>> from lakelet.config import config_set
>>> with config_set(home=tempfile.mkdtemp()):  # where the local journal goes
...     @smart_cache("memory://")
...     def square(x):
...         return x * x
...     square(4), square(4), square.cache_info().hits
(16, 16, 1)
"""

from __future__ import annotations

import base64
import collections
import functools
import inspect
import os
import pickle
import threading
import time
import types
from collections.abc import Callable, Iterable
from typing import Any, Generic, NamedTuple, ParamSpec, TypeVar, overload

from ..config import get_config
from ..errors import InvalidArgument, StorageError
from . import effects, rng
from .arguments import VERSION, reference
from .backend import DECODE_ERRORS, CacheStore, StorageLike
from .errors import UnstorableValue
from .explain import Explanation, describe, explain
from .files import File
from .fingerprint import Components, Fingerprinter, combine
from .index import Entry

_RECENT = 256  # small entries kept in memory per function (decoded afresh on every hit)

P = ParamSpec("P")
R = TypeVar("R")


class CacheInfo(NamedTuple):
    """Counters of this process, plus what the journal knows is stored."""

    hits: int
    misses: int
    errors: int  # cache reads/writes that failed and were bypassed (see CacheWarning)
    entries: int  # entries of this function still in the storage (that this machine used)
    bytes: int  # their stored size


class CachedFunction(Generic[P, R]):
    """A function whose results are kept in a lakelet storage. Made by :func:`smart_cache`."""

    def __init__(
        self,
        func: Callable[P, R],
        storage: StorageLike | None,
        *,
        ignore: Iterable[str] = (),
        force: bool = False,
        project: str | os.PathLike[str] | None = None,
    ) -> None:
        if not callable(func):
            raise InvalidArgument(f"smart_cache decorates functions, got {type(func).__name__}")
        functools.update_wrapper(self, func)
        self.__wrapped__ = func
        self._func = func
        self._signature = inspect.signature(func)
        if isinstance(ignore, str):
            raise InvalidArgument("ignore= takes a list of names, not a single string")
        ignored = tuple(ignore)
        self._ignore = frozenset(ignored)
        params = set(self._signature.parameters)
        self._ignored_globals = tuple(name for name in ignored if name not in params)
        self._force = bool(force)
        self._name = reference(func)
        self._fingerprinter = Fingerprinter(project, ignore=self._ignored_globals)
        self._store = CacheStore(storage)
        self._hits = 0
        self._misses = 0
        self._seen: set[str] = set()
        self._recent: collections.OrderedDict[str, bytes] = collections.OrderedDict()  # small pickles
        self._binder = _fast_binder(self._signature)
        self._options: dict[str, Any] = {"ignore": ignored, "force": self._force, "project": project}
        self._frozen_code: Components | None = None  # set on a copy unpickled elsewhere (see __reduce__)

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._call(args, kwargs, self._force)

    def recompute(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the function even if a result is cached, and store the new result."""
        return self._call(args, kwargs, True)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return types.MethodType(self, instance)

    def _call(self, args: tuple[Any, ...], kwargs: dict[str, Any], force: bool) -> R:
        arguments = self._arguments(args, kwargs)
        components = self._components(arguments)
        store = self._store
        address = store.entries.address("function", self._name, combine(components))
        stale = False
        if not force:
            found, stale = self._lookup(address, arguments)
            if found is not None:
                return found[0]
        with store.lock(address):
            if not force:  # another process may have finished it while we waited
                found, stale = self._lookup(address, arguments)
                if found is not None:
                    return found[0]
            # Only the main thread's calls are keyed by the global generators: in a worker thread (Dask, a
            # pool) other threads draw from them too, so a moved state says nothing about this call.
            generators = rng.states() if threading.current_thread() is threading.main_thread() else None
            start = time.perf_counter()
            result = self._func(*args, **kwargs)
            duration = time.perf_counter() - start
            self._misses += 1
            side = self._side_effects(arguments, components, generators)
            if side is not None:
                self._save(address, components, result, duration, replace=stale or force, side=side)
        return result

    def _side_effects(
        self, arguments: dict[str, Any], components: Components, generators: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(entry extras, values to store) that let a hit leave the caller's state as this call did.

        None when a hit could not: an argument changed in place that cannot be updated in place.
        """
        extra: dict[str, Any] = {}
        values: dict[str, Any] = {}
        watched = {n: v for n, v in arguments.items() if n not in self._ignore and type(v) is not File}
        digest = self._argument_digest
        mutated = effects.changed_arguments(watched, components, digest)
        for name in mutated:
            if not effects.replayable(watched[name]):
                self._store.warn(
                    f"{self._name} was not cached: it changed its argument {name!r} "
                    f"({type(watched[name]).__name__}) in place, which a cache hit could not repeat; "
                    "return the changed value instead"
                )
                return None
            values[effects.PREFIX + name] = watched[name]
        if mutated:
            extra["mutated"] = mutated
        conditions, after = rng.changes(generators) if generators is not None else ({}, {})
        for kind, state in after.items():
            values[rng.value_name(kind)] = state
        if conditions:
            extra["rng"] = conditions
        return extra, values

    def _argument_digest(self, name: str, value: Any) -> str:
        return self._fingerprinter.value(value, f"argument {name!r} of {self._name}")

    def _lookup(self, address: str, arguments: dict[str, Any] | None = None) -> tuple[tuple[Any] | None, bool]:
        recent = self._recent.get(address)
        if recent is not None:
            # Entries are immutable: the pickle of a small result already read (and checked) in
            # this process is loaded again from memory, which still gives the caller a fresh object.
            try:
                result = pickle.loads(recent)  # noqa: S301 - our own entry, see the trust model in signing.py
            except DECODE_ERRORS:
                del self._recent[address]  # (a class it refers to changed): read it the slow way
            else:
                self._hits += 1
                self._store.count_hit("function", self._name, address)
                self._recent.move_to_end(address)
                return (result,), False
        entry, values, stale = self._store.load(address, "function")
        if entry is None or values is None or "result" not in values:
            return None, stale or entry is not None
        if rng.mismatch(entry.extra.get("rng")):
            return None, True  # computed from another global random state: a miss that replaces it
        self._replay(entry, values, arguments)
        self._hits += 1
        if address not in self._seen:
            self._seen.add(address)
            self._store.record_hit(entry, address)
        else:
            self._store.count_hit("function", self._name, address)
        self._remember(address, entry)
        return (values["result"],), False

    def _replay(self, entry: Entry, values: dict[str, Any], arguments: dict[str, Any] | None) -> None:
        """Leave the arguments and the global generators as the uncached call did."""
        for name, value in values.items():
            kind = rng.kind_of(name)
            if kind is not None:
                rng.restore(kind, value)
            elif name.startswith(effects.PREFIX) and arguments is not None:
                target = arguments.get(name[len(effects.PREFIX) :])
                if target is not None:
                    effects.replay(target, value)

    def _remember(self, address: str, entry: Entry) -> None:
        if len(entry.values) != 1 or entry.extra.get("rng"):
            return  # side effects to replay: not answered from the in-memory pickle
        descriptor = entry.values.get("result") or {}
        if descriptor.get("codec") == "pickle" and "inline" in descriptor and not descriptor.get("blobs"):
            self._recent[address] = base64.b64decode(descriptor["inline"])
            if len(self._recent) > _RECENT:
                self._recent.popitem(last=False)

    def _save(
        self,
        address: str,
        components: Components,
        result: Any,
        duration: float,
        *,
        replace: bool,
        side: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
    ) -> None:
        store = self._store
        extra, effect_values = side
        try:
            descriptors = {"result": store.encode(result)}
            for name, value in effect_values.items():
                descriptors[name] = store.encode(value)
        except (UnstorableValue, StorageError, OSError) as e:
            store.warn(f"the result of {self._name} was not cached: {e}")
            return
        entry = Entry("function", self._name, components, descriptors, duration=duration, extra=dict(extra))
        if store.save(address, entry, replace=replace):
            self._remember(address, entry)

    # ------------------------------------------------------------------ keys
    def components(self, *args: P.args, **kwargs: P.kwargs) -> Components:
        """What the key of this call is made of: code, dependencies and arguments, by name."""
        return self._components(self._arguments(args, kwargs))

    def _arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        arguments = self._binder(args, kwargs) if self._binder is not None else None
        if arguments is None:
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{self._name}(): {e}") from e
            bound.apply_defaults()
            arguments = dict(bound.arguments)
        return arguments

    def _components(self, arguments: dict[str, Any]) -> Components:
        out = self.code_components()
        out["version"] = str(VERSION)
        for name, value in arguments.items():
            if name not in self._ignore:
                out[f"arg {name}"] = self._argument_digest(name, value)
                if type(value) is File:  # named on its own, so `why` says which file changed
                    out[f"file {value.path}"] = value.digest()
        return out

    def code_components(self) -> Components:
        """The code part of the key: this function, its tracked callees and the globals they read.

        A copy unpickled in another process (a Dask worker) uses the code part
        computed where it was pickled, where the source is.
        """
        if self._frozen_code is not None:
            return dict(self._frozen_code)
        return self._fingerprinter.function(self._func)

    def key(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The storage address of this call's cache entry."""
        return self._store.entries.address("function", self._name, combine(self.components(*args, **kwargs)))

    def why(self, *args: P.args, **kwargs: P.kwargs) -> Explanation:
        """Explain whether this call would hit, and if not, what changed since the closest entry."""
        components = self.components(*args, **kwargs)
        address = self._store.entries.address("function", self._name, combine(components))
        history = self._store.journal.records("function", self._name)
        exists = self._store.exists(address, "function")
        if exists:
            entry = self._store.entries.get(address, "function")
            moved = rng.mismatch(entry.extra.get("rng")) if entry is not None else []
            if entry is not None and moved:
                changes = [f"changed: {describe(f'rng {kind}')}" for kind in moved]
                return Explanation(self._name, address, False, changes, entry.created)
        return explain(self._name, address, exists, components, history)

    # ------------------------------------------------------------------ housekeeping
    def cache_info(self) -> CacheInfo:
        """Hits and misses of this process; entries and bytes still stored."""
        sizes: dict[str, int] = {}
        for record in self._store.journal.records("function", self._name):
            sizes[record.address] = record.size
        present = {a: s for a, s in sizes.items() if self._store.exists(a)}
        return CacheInfo(self._hits, self._misses, self._store.errors, len(present), sum(present.values()))

    def cache_clear(self) -> int:
        """Delete this function's entries (those this machine wrote or read); returns how many."""
        self._seen.clear()
        self._recent.clear()
        return self._store.remove("function", self._name)

    @property
    def name(self) -> str:
        """The name its entries are recorded under (``module.qualname``)."""
        return self._name

    def lookup(self, address: str) -> tuple[tuple[Any] | None, bool]:
        """The result stored at ``address`` as a 1-tuple (None on a miss), and whether an entry was
        found stale: what :func:`lakelet.dask.cached_map` asks before it submits a call."""
        return self._lookup(address)

    @property
    def storage(self) -> Any:
        """The HashKeyStorage holding the entries."""
        return self._store.storage

    def __repr__(self) -> str:
        return f"<smart_cache {self._name} in {self._store.storage.location!r}>"

    # ------------------------------------------------------------------ distribution
    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle for another process (a Dask worker): the function, its lake and its code fingerprint.

        The code fingerprint is computed now, where the source is: a worker
        rebuilds the function without source (cloudpickle), so it could only
        hash bytecode and would never share entries with this process. The
        lake is sent as a spec: the configured lake of *this* process when no
        storage was given, since a worker's own ``LAKELET_HOME`` may differ.
        """
        return (_rebuild, (self._func, self._portable_storage(), self._options, self.code_components()))

    def _portable_storage(self) -> Any:
        spec = self._store._spec
        if spec is None:
            return get_config().lake_spec
        if isinstance(spec, str | os.PathLike | dict | list):
            return spec
        from ..locations.disk import Disk

        location = getattr(spec, "location", spec)
        if isinstance(location, Disk):
            return str(location.root)  # a folder: every process on a machine (or a shared mount) opens the same
        try:
            pickle.dumps(spec)
        except (TypeError, AttributeError, pickle.PicklingError) as e:
            raise InvalidArgument(
                f"the storage of {self._name} ({type(spec).__name__}) cannot be sent to another process: "
                "give smart_cache a URL or spec (or configure the lake) to use it on Dask workers"
            ) from e
        return spec


def _rebuild(func: Callable[..., Any], storage: Any, options: dict[str, Any], code: Components) -> CachedFunction:
    """Unpickle a :class:`CachedFunction` with the code fingerprint computed by the sender."""
    cached: CachedFunction[Any, Any] = CachedFunction(func, storage, **options)
    cached._frozen_code = dict(code)
    return cached


def _fast_binder(
    signature: inspect.Signature,
) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any] | None] | None:
    """Binding for the common case (positional-or-keyword parameters only); None if the signature is fancier.

    The binder returns None for calls it cannot bind, and the caller then falls
    back to :meth:`inspect.Signature.bind`, which also produces the right error.
    """
    params = list(signature.parameters.values())
    if any(p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in params):
        return None
    names = [p.name for p in params]
    defaults = {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
        if len(args) > len(names):
            return None
        bound = dict(zip(names, args, strict=False))
        for name in names[len(args) :]:
            if name in kwargs:
                bound[name] = kwargs[name]
            elif name in defaults:
                bound[name] = defaults[name]
            else:
                return None
        if len(kwargs) != len(names) - len(args) - sum(1 for n in names[len(args) :] if n not in kwargs):
            return None  # unknown or duplicate keyword: let Signature.bind say which
        return bound

    return bind


@overload
def smart_cache(storage: Callable[P, R]) -> CachedFunction[P, R]: ...


@overload
def smart_cache(
    storage: StorageLike | None = None,
    *,
    ignore: Iterable[str] = (),
    force: bool = False,
    project: str | os.PathLike[str] | None = None,
) -> Callable[[Callable[P, R]], CachedFunction[P, R]]: ...


def smart_cache(
    storage: Any = None,
    *,
    ignore: Iterable[str] = (),
    force: bool = False,
    project: str | os.PathLike[str] | None = None,
) -> Any:
    """Cache a function's results in ``storage`` (a HashKeyStorage, Location, path, URL or spec).

    The key covers the function's normalized code and, transitively, the code
    of the tracked functions it calls, the globals, defaults and closure values
    they read, the arguments bound by parameter name (after defaults) and a
    format version. ``ignore`` lists parameters (or globals) left out of the key;
    ``force=True`` always recomputes. ``project`` is the folder whose modules
    count as user code (default: the working directory). Without a storage, the
    configured lake is used (``$LAKELET_HOME/lake`` by default).
    """
    if callable(storage) and not isinstance(storage, type):
        return CachedFunction(storage, None, ignore=ignore, force=force, project=project)

    def decorate(func: Callable[P, R]) -> CachedFunction[P, R]:
        return CachedFunction(func, storage, ignore=ignore, force=force, project=project)

    return decorate


__all__ = ["CacheInfo", "CachedFunction", "smart_cache"]

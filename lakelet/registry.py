"""One registry from URL schemes (and nested specs) to locations.

Backends are imported lazily, only when their scheme is used, so the core never
imports s3fs, redis or sshfs. A missing extra raises :class:`MissingDependency`
saying exactly what to install. Third-party backends register with
:func:`register_location` or the ``lakelet.locations`` entry-point group.

Every layer opens storage here: :func:`open_location` for content-addressed
values (caches, volume blobs, dataset media) and :func:`open_tree` for folders
of named files (dataset roots, NFS, CloudBucketMount), which reuses the
backend's location class for its filesystem, timeouts and error map. Options
and ``creds`` may use Deep Lake's names or the backend's own
(:mod:`lakelet.credentials`). ``memory://`` means one thing in every layer
(:mod:`lakelet.locations.memory_files`).

Specs accepted by :func:`open_location`:

* a :class:`Location` (returned as is), a path (a local folder), or a URL
  (``memory://``, ``file:///x``, ``s3://bucket/prefix``, ``gs://``, ``az://``,
  ``sftp://user@host:port/path``, ``scp://...``, ``http(s)://...``, ``redis://host:port/db``);
* a list: ``Levels`` of its items;
* a dict with one of ``levels``/``fanout`` (a list), ``small`` (+ ``max_size``),
  ``level`` (+ ``write``/``replicate``), ``url``/``path`` (+ options, e.g. ``max_size``).
"""

from __future__ import annotations

import functools
import importlib
import math
import os
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .credentials import backend_of, location_options, translate
from .errors import InvalidArgument, InvalidPath, MissingDependency, StorageError, StorageNetworkConnectionError
from .locations.abc import ErrorMap, Location, translate_errors

Factory = Callable[..., Location]

#: scheme -> (module, function, extra to install); sorted by scheme (checked in the tests)
KNOWN_LOCATIONS: dict[str, tuple[str, str, str | None]] = {
    "abfs": ("lakelet.locations.azure", "from_url", "azure"),
    "az": ("lakelet.locations.azure", "from_url", "azure"),
    "azure": ("lakelet.locations.azure", "from_url", "azure"),
    "file": ("lakelet.registry", "_disk_from_url", None),
    "gcs": ("lakelet.locations.gcs", "from_url", "gcs"),
    "gs": ("lakelet.locations.gcs", "from_url", "gcs"),
    "http": ("lakelet.locations.http", "from_url", "http"),
    "https": ("lakelet.locations.http", "from_url", "http"),
    "memory": ("lakelet.registry", "_memory_from_url", None),
    "redis": ("lakelet.locations.redis", "from_url", "redis"),
    "rediss": ("lakelet.locations.redis", "from_url", "redis"),
    "s3": ("lakelet.locations.s3", "from_url", "s3"),
    "scp": ("lakelet.locations.sftp", "scp_from_url", "sftp"),
    "sftp": ("lakelet.locations.sftp", "from_url", "sftp"),
    "ssh": ("lakelet.locations.sftp", "from_url", "sftp"),
}


class _Registry:
    """Append-only: registered factories are never replaced unless ``clobber=True``."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.factories: dict[str, Factory] = {}
        self.entry_points_loaded = False


_registry = _Registry()


def register_location(scheme: str, factory: Factory, *, clobber: bool = False) -> None:
    """Make ``scheme://...`` URLs open with ``factory(url, **options)``."""
    scheme = scheme.lower()
    with _registry.lock:
        if not clobber and (scheme in _registry.factories or scheme in KNOWN_LOCATIONS):
            raise InvalidArgument(f"location scheme {scheme!r} is already registered (pass clobber=True)")
        _registry.factories[scheme] = factory


def _load_entry_points() -> None:
    with _registry.lock:
        if _registry.entry_points_loaded:
            return
        _registry.entry_points_loaded = True
        from importlib.metadata import entry_points  # ~6 ms: only when a scheme is looked up

        found = list(entry_points(group="lakelet.locations"))
    for ep in found:
        if ep.name not in _registry.factories:
            register_location(ep.name, ep.load())


def _factory_for(scheme: str) -> Factory:
    _load_entry_points()
    with _registry.lock:
        if scheme in _registry.factories:
            return _registry.factories[scheme]
    if scheme not in KNOWN_LOCATIONS:
        known = ", ".join(sorted({*KNOWN_LOCATIONS, *_registry.factories}))
        raise InvalidArgument(f"unknown location scheme {scheme!r}; known schemes: {known}")
    module_name, func, extra = KNOWN_LOCATIONS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if isinstance(e, MissingDependency):
            raise
        hint = f'pip install "lakelet[{extra}]"' if extra else "reinstall lakelet"
        raise MissingDependency(f"{scheme}:// locations need {e.name or 'a missing package'}: {hint}") from e
    return getattr(module, func)


#: how deep composite specs may nest (a real topology is 2-3 levels; deeper is a mistake or an attack)
MAX_SPEC_DEPTH = 32
_nesting = threading.local()


def open_location(spec: Any, **options: Any) -> Location:
    """Build a Location from a Location, path, URL, list or dict spec (see the module docstring)."""
    depth = getattr(_nesting, "depth", 0)
    if depth >= MAX_SPEC_DEPTH:
        raise InvalidArgument(f"location spec nested more than {MAX_SPEC_DEPTH} levels deep")
    _nesting.depth = depth + 1
    try:
        return _open_location(spec, options)
    finally:
        _nesting.depth = depth


def _open_location(spec: Any, options: dict[str, Any]) -> Location:
    if isinstance(spec, Location):
        if options:
            raise InvalidArgument(f"options {sorted(options)} cannot be applied to an existing {spec!r}")
        return spec
    if isinstance(spec, os.PathLike):
        return _disk(Path(spec), options)
    if isinstance(spec, str):
        if not spec:
            raise InvalidArgument("an empty string is not a location")
        if "://" not in spec:
            return _disk(Path(spec), options)
        scheme = urlsplit(spec).scheme.lower()
        return _factory_for(scheme)(spec, **translate(backend_of(scheme), options))
    if isinstance(spec, list | tuple):
        return _composite("levels")(*spec)
    if isinstance(spec, Mapping):
        return _from_mapping(dict(spec), options)
    # Level objects and anything else a composite can take
    if isinstance(spec, _composite("level")):
        raise InvalidArgument("a Level only makes sense inside Levels(...)")
    raise InvalidArgument(f"cannot make a location out of {type(spec).__name__}: {spec!r:.100}")


#: the composites, by the word a spec uses for them. Like the backends in KNOWN_LOCATIONS, they are
#: looked up by name: the composites open their nested specs through this registry, so the registry
#: names them instead of importing them (no import cycle between the two).
COMPOSITES: dict[str, tuple[str, str]] = {
    "fanout": ("lakelet.locations.fanout", "Fanout"),
    "level": ("lakelet.locations.levels", "Level"),
    "levels": ("lakelet.locations.levels", "Levels"),
    "small": ("lakelet.locations.small", "Small"),
}


def _composite(word: str) -> Any:
    module, name = COMPOSITES[word]
    return getattr(importlib.import_module(module), name)


def _from_mapping(spec: dict[str, Any], options: dict[str, Any]) -> Location:
    Levels, Fanout, Small = _composite("levels"), _composite("fanout"), _composite("small")  # noqa: N806
    spec = {**spec, **options}
    if "levels" in spec:
        items = [_level_item(item) for item in _as_list(spec.pop("levels"), "levels")]
        _no_more(spec, "levels")
        return Levels(*items)
    if "fanout" in spec:
        items = [open_location(item) for item in _as_list(spec.pop("fanout"), "fanout")]
        _no_more(spec, "fanout")
        return Fanout(*items)
    if "small" in spec:
        inner = spec.pop("small")
        if "max_size" not in spec:
            raise InvalidArgument("a 'small' spec needs max_size")
        max_size = _size(spec.pop("max_size"))
        _no_more(spec, "small")
        return Small(open_location(inner), max_size=max_size)
    if "level" in spec:
        raise InvalidArgument("a 'level' spec is only allowed inside 'levels'")
    for field in ("url", "path"):
        if field in spec:
            target = spec.pop(field)
            if "max_size" in spec:
                spec["max_size"] = _size(spec["max_size"])
            return open_location(target, **spec)
    raise InvalidArgument(f"a location spec needs one of levels/fanout/small/url/path, got keys {sorted(spec)}")


def _level_item(item: Any) -> Any:
    Level = _composite("level")  # noqa: N806
    if isinstance(item, Mapping) and "level" in item:
        item = dict(item)
        inner = open_location(item.pop("level"))
        write = bool(item.pop("write", True))
        replicate = bool(item.pop("replicate", True))
        name = item.pop("name", None)
        _no_more(item, "level")
        return Level(inner, write=write, replicate=replicate, name=name)
    return open_location(item)


def _as_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidArgument(f"'{what}' must be a non-empty list of location specs, got {value!r:.100}")
    return list(value)


def _no_more(spec: dict[str, Any], what: str) -> None:
    if spec:
        raise InvalidArgument(f"unexpected keys {sorted(spec)} in a '{what}' spec")


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30, "t": 2**40, "tb": 2**40, "tib": 2**40}


def _size(value: Any) -> int:
    """Bytes from an int or a string such as ``"100 MiB"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        number = text.rstrip("kmgtib")
        unit = text[len(number):]
        if number and unit in _UNITS:
            try:
                size = float(number) * _UNITS[unit]
            except ValueError:
                size = math.nan  # falls through to the error below, which names the bad value
            if math.isfinite(size) and size >= 0:
                return int(size)
    raise InvalidArgument(f"a size must be a non-negative int of bytes or a string like '100 MiB', got {value!r}")


def _disk(path: Path, options: dict[str, Any]) -> Location:
    from .locations.disk import Disk

    return Disk(path, **options)


def _disk_from_url(url: str, **options: Any) -> Location:
    parts = urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise InvalidArgument(f"file:// URLs must be local (file:///path), got {url!r}")
    return _disk(Path(parts.path), options)


def _memory_from_url(url: str, **options: Any) -> Location:
    """``memory://`` -> a private :class:`Memory`; ``memory://name`` -> the process-wide named store."""
    name = urlsplit(url)._replace(scheme="", query="", fragment="").geturl().lstrip("/").strip("/")
    if not name:
        from .locations.memory import Memory

        return Memory(**options)
    from .locations.memory_files import MemoryFiles

    return MemoryFiles(name, **options)


# ------------------------------------------------------------------------------ folders of files
#: backends whose folders datasets, NFS and bucket mounts can live in
TREE_BACKENDS = ("local", "memory", "s3", "gcs", "azure", "sftp")


class Tree:
    """A folder of named files on one backend: ``fs`` (fsspec) below ``root``.

    ``location`` is the backend's :class:`Location` over the same filesystem
    (None for local folders), so a folder and a location built from one URL
    share client, timeouts and error map. The filesystem of a remote backend
    is made on first use.
    """

    def __init__(
        self, kind: str, url: str, root: str, *, fs: Any = None, location: Location | None = None,
        reopen: tuple[Any, ...] | None = None,
    ) -> None:
        self.kind, self.url, self.root = kind, url, root
        self._fs, self.location = fs, location
        self._reopen = reopen

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the arguments it was opened with (a Dask worker reopens the folder: clients,
        sessions and locks do not travel). A memory folder reopens the receiving process's own."""
        if self._reopen is None:
            raise TypeError(f"{self!r} was not opened by open_tree and cannot be sent to another process")
        return (_reopen_tree, self._reopen)

    @property
    def fs(self) -> Any:
        if self._fs is None:
            self._fs = self.location.fs  # type: ignore[union-attr]
        return self._fs

    def errors(self, where: str) -> AbstractContextManager[None]:
        """Translate this backend's exceptions into lakelet storage errors naming ``where``."""
        extra, classify = error_map(self.kind)
        return translate_errors(None, where, extra, classify)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Tree({self.kind!r}, {self.url!r})"


def _reopen_tree(url: str, creds: Mapping[str, Any] | None, storage_options: Mapping[str, Any] | None,
                 local_fs: Callable[[], Any] | None) -> Tree:
    return open_tree(url, creds, storage_options, local_fs=local_fs)


@functools.cache
def error_map(kind: str) -> tuple[ErrorMap, Callable[[BaseException], type[StorageError] | None] | None]:
    """A backend's error map: the very functions its location uses (``lakelet.locations.<backend>``)."""
    if kind in ("local", "memory"):
        return (), None  # the OSError mapping every location shares; no fsspec import on a cold local path
    from fsspec.exceptions import FSTimeoutError

    timeouts: ErrorMap = ((FSTimeoutError, StorageNetworkConnectionError),)
    if kind == "s3":
        from .locations.s3 import classify_s3_error, s3_error_map

        return (*s3_error_map(), *timeouts), classify_s3_error
    if kind == "gcs":
        from .locations.gcs import classify_gcs_error, gcs_error_map

        return (*gcs_error_map(), *timeouts), classify_gcs_error
    if kind == "azure":
        from .locations.azure import azure_error_map, classify_azure_error

        return (*azure_error_map(), *timeouts), classify_azure_error
    if kind == "sftp":
        from .locations.sftp import classify_sftp_error, sftp_error_map

        return (*sftp_error_map(), *timeouts), classify_sftp_error
    return timeouts, None  # another fsspec backend


def open_tree(
    url: str | os.PathLike[str],
    creds: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    *,
    local_fs: Callable[[], Any] | None = None,
) -> Tree:
    """The folder ``url`` names, with ``creds`` (Deep Lake names or the backend's own options).

    ``storage_options`` (e.g. an environment's ``[storage_options]`` table) may use
    either vocabulary too; names lakelet does not know pass on to the backend's
    client as they are. ``local_fs`` makes the filesystem object of a local folder
    (default fsspec's ``LocalFileSystem``; datasets pass their fsspec-free ``LocalFS``
    so a cold open stays fast). Bad input raises :class:`InvalidArgument`/:class:`InvalidPath`
    naming it, before any I/O.
    """
    text = os.fspath(url) if isinstance(url, str | os.PathLike) else url
    if not isinstance(text, str) or not text:
        raise InvalidArgument(f"a storage URL must be a non-empty string or path, got {url!r}")
    reopen = (text, dict(creds) if isinstance(creds, Mapping) else creds,
              dict(storage_options) if isinstance(storage_options, Mapping) else storage_options, local_fs)
    if "\x00" in text:
        raise InvalidPath(f"storage URL holds a NUL byte: {text!r}")
    scheme = urlsplit(text).scheme.lower() if "://" in text else ""
    backend = backend_of(scheme)
    if backend not in TREE_BACKENDS:
        schemes = "a path, file://, memory://, s3://, gs://, gcs://, az://, azure://, abfs://, sftp://"
        raise InvalidArgument(f"unsupported URL scheme {scheme!r} in {text!r}; use {schemes}")
    options = location_options(backend, creds)
    if storage_options:
        if not isinstance(storage_options, Mapping):
            raise InvalidArgument(f"storage_options must be a dict, got {type(storage_options).__name__}")
        options.update(translate(backend, storage_options))
    rest = text.split("://", 1)[1].split("?", 1)[0] if scheme else text
    if any(part == ".." for part in Path(rest).parts) or (scheme and "." in rest.split("/")):
        raise InvalidPath(f"storage URL {text!r} must not contain '.' or '..' segments")
    if backend == "local":
        if local_fs is None:
            from fsspec.implementations.local import LocalFileSystem

            local_fs = LocalFileSystem

        path = str(Path("/" + rest.strip("/") if scheme else text).expanduser().absolute())
        return Tree("local", text, path.rstrip("/") or "/", fs=local_fs(), reopen=reopen)
    if backend == "memory":
        import fsspec

        name = rest.strip("/")
        location = _memory_from_url(text) if name else None
        return Tree("memory", text, "/" + name, fs=fsspec.filesystem("memory"), location=location, reopen=reopen)
    if not urlsplit(text).netloc:
        raise InvalidArgument(f"{text!r} names no bucket, container or host")
    if backend == "s3":
        options.setdefault("session", _aio_session())
    location = _factory_for(scheme)(text, **options)
    return Tree(backend, text, location.root, location=location, reopen=reopen)  # type: ignore[attr-defined]


@functools.cache
def _aio_session() -> Any:
    """One botocore session for every S3 folder: loading its service model costs ~0.4 s per session."""
    from ._optional import require

    return require("aiobotocore.session", extra="s3", what="s3:// URLs").AioSession()


def parse_size(value: Any) -> int:
    """Public form of the size parser used by specs (``"100 MiB"`` -> 104857600)."""
    return _size(value)

"""The one explicit configuration object.

Environment variables and ``config.toml`` are read at the edge into a
:class:`Config`; code asks :func:`get_config` for the current one, and tests or
notebooks override fields for a block with :func:`config_set`::

    with lakelet.config_set(home="/tmp/lake"):
        ...

The config follows the user: a process that changes ``LAKELET_HOME`` (or
``LAKELET_CACHE_KEY``/``LAKELET_CONCURRENCY``), or whose ``config.toml`` is
edited, sees the change at its next :func:`get_config` (every storage use asks).
That costs one ``stat`` of ``config.toml`` per call, compared as
``(mtime_ns, size)``; the file is parsed again only when that changed. Fields
set explicitly (:func:`config_set`, :func:`set_concurrency`, :func:`set_config`)
stay as set.

``$LAKELET_HOME/config.toml`` (optional) holds the lake topology and the
environments of the named primitives; see ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import InvalidArgument


@dataclasses.dataclass(frozen=True)
class Config:
    """Settings shared by the kernel, the CLI and the Jupyter server extension."""

    #: root folder of everything lakelet keeps locally (``LAKELET_HOME``, default ``~/.lakelet``)
    home: Path
    #: how many I/O operations may run at once (uploads, downloads, copies)
    concurrency: int = 16
    #: secret for signing cache entries (``LAKELET_CACHE_KEY``); None disables signing
    cache_key: bytes | None = None
    #: the parsed ``config.toml`` (empty when there is none)
    data: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"

    @property
    def lake_spec(self) -> Any:
        """The default lake's location spec: ``[lake]`` from config.toml, else ``home/lake``."""
        lake = self.data.get("lake")
        if lake is None:
            return str(self.home / "lake")
        if isinstance(lake, dict) and "volatile" in lake:
            return {k: v for k, v in lake.items() if k != "volatile"}
        return lake

    @property
    def lake_volatile(self) -> bool:
        """``volatile = true`` under ``[lake]``: a lake without a durable level is what the user chose.

        A bare ``memory://`` lake says so by itself; anything else that stores nothing durably is
        taken for an accident and warned about (see :func:`lakelet.hashstore.open_lake`).
        """
        lake = self.data.get("lake")
        if isinstance(lake, dict) and "volatile" in lake:
            if not isinstance(lake["volatile"], bool):
                raise InvalidArgument(f"[lake] volatile in {self.config_file} must be true or false, "
                                      f"got {lake['volatile']!r:.40}")
            return lake["volatile"]
        return isinstance(lake, str) and lake.startswith("memory://")

    def section(self, name: str) -> dict[str, Any]:
        """A top-level table of config.toml (empty if absent)."""
        value = self.data.get(name, {})
        if not isinstance(value, dict):
            raise InvalidArgument(f"[{name}] in {self.config_file} must be a table, got {type(value).__name__}")
        return value


def load_config(environ: dict[str, str] | None = None) -> Config:
    """Build a Config from environment variables and ``$LAKELET_HOME/config.toml``."""
    env = os.environ if environ is None else environ
    home = Path(env.get("LAKELET_HOME") or "~/.lakelet").expanduser()
    key = env.get("LAKELET_CACHE_KEY")
    concurrency = env.get("LAKELET_CONCURRENCY")
    data: dict[str, Any] = {}
    if home.exists() and not home.is_dir():
        raise InvalidArgument(f"LAKELET_HOME={str(home)!r} is not a folder (it is a file); point it at a folder")
    path = home / "config.toml"
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise InvalidArgument(f"cannot parse {path}: {e}") from e
        except UnicodeDecodeError as e:
            raise InvalidArgument(f"cannot parse {path}: it is not UTF-8 text (TOML), byte {e.start}") from e
    return Config(
        home=home,
        concurrency=_positive_int(concurrency, "LAKELET_CONCURRENCY") if concurrency else 16,
        cache_key=key.encode() if key else None,
        data=data,
    )


def _positive_int(value: Any, what: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgument(f"{what} must be a positive integer, got {value!r}") from e
    if number < 1:
        raise InvalidArgument(f"{what} must be a positive integer, got {number}")
    return number


_FIELDS = tuple(f.name for f in dataclasses.fields(Config))


class _Holder:
    """The current Config and what it was read from (other process-wide state: docs/architecture.md)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        #: fields set explicitly; they win over the environment and config.toml (a new dict on each change)
        self.overrides: dict[str, Any] = {}
        #: (the overrides, the stamp, the Config built from them), replaced as one object so that
        #: a reader needs no lock: the watched variables and config.toml's (mtime_ns, size)
        self.state: tuple[dict[str, Any], tuple[Any, ...], Config] | None = None


_holder = _Holder()


def _stamp(overrides: dict[str, Any]) -> tuple[Any, ...]:
    """What the current Config depends on, cheaply: a few variables and one ``stat``."""
    get = os.environ.get
    env = (get("LAKELET_HOME"), get("LAKELET_CACHE_KEY"), get("LAKELET_CONCURRENCY"))
    home = overrides.get("home")
    path = _config_path(str(home) if home is not None else env[0], get("HOME"))
    try:
        st = os.stat(path)
        file: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except OSError:
        file = None  # no config.toml (or no home yet): defaults
    return env, path, file


@functools.lru_cache(maxsize=64)
def _config_path(home: str | None, user_home: str | None) -> str:
    """``<home>/config.toml`` as a str (``user_home`` is in the key because ``~`` depends on it)."""
    return os.path.join(os.path.expanduser(home or "~/.lakelet"), "config.toml")


def _build(overrides: dict[str, Any]) -> Config:
    if len(overrides) == len(_FIELDS):
        return Config(**overrides)  # everything pinned (set_config): nothing to read
    env = dict(os.environ)
    if "home" in overrides:
        env["LAKELET_HOME"] = str(overrides["home"])
    return dataclasses.replace(load_config(env), **overrides)


def get_config() -> Config:
    """The current configuration: re-read when the environment or config.toml changed since last asked."""
    overrides, state = _holder.overrides, _holder.state
    if state is not None and state[0] is overrides and state[1] == _stamp(overrides):
        return state[2]  # the common case: one stat, no lock
    with _holder.lock:
        overrides = _holder.overrides
        stamp = _stamp(overrides)
        state = _holder.state
        if state is None or state[0] is not overrides or state[1] != stamp:
            state = (overrides, stamp, _build(overrides))  # raises on a bad config.toml: retried next call
            _holder.state = state
        return state[2]


def _set_overrides(overrides: dict[str, Any]) -> None:
    with _holder.lock:
        _holder.overrides = overrides
        _holder.state = None


def set_config(config: Config) -> None:
    """Replace the current configuration for the rest of the process (every field stays as given)."""
    _set_overrides({name: getattr(config, name) for name in _FIELDS})


def reload_config() -> Config:
    """Forget explicit settings and re-read environment variables and config.toml."""
    _set_overrides({})
    return get_config()


@contextlib.contextmanager
def config_set(**changes: Any) -> Iterator[Config]:
    """Override fields of the current config inside a ``with`` block.

    ``home=`` also switches to that home's config.toml (followed like the default
    one) unless ``data=`` is given.
    """
    unknown = sorted(set(changes) - set(_FIELDS))
    if unknown:
        raise InvalidArgument(f"config_set got unknown settings {unknown}; known: {list(_FIELDS)}")
    if "home" in changes:
        changes["home"] = Path(changes["home"]).expanduser()
    if "concurrency" in changes:
        changes["concurrency"] = _positive_int(changes["concurrency"], "concurrency")
    with _holder.lock:
        old = dict(_holder.overrides)
    new = {**old, **changes}
    if "home" in changes and "data" not in changes:
        new.pop("data", None)  # follow the new home's config.toml
    _set_overrides(new)
    try:
        yield get_config()
    finally:
        _set_overrides(old)


def concurrency() -> int:
    """How many I/O operations lakelet runs at once."""
    return get_config().concurrency


def set_concurrency(n: int) -> None:
    """Bound lakelet's parallel I/O (uploads, downloads, copies) to ``n`` operations."""
    n = _positive_int(n, "concurrency")
    with _holder.lock:
        overrides = {**_holder.overrides, "concurrency": n}
    _set_overrides(overrides)

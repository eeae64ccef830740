"""The one explicit configuration object.

Environment variables are read once, at the edge, into a :class:`Config`; code
asks :func:`get_config` for the current one, and tests or notebooks override it
for a block with :func:`config_set`::

    with lakelet.config_set(home="/tmp/lake"):
        ...

``$LAKELET_HOME/config.toml`` (optional) holds the lake topology and the
environments of the named primitives; see ``docs/architecture.md``.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
        return lake

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


class _Holder:
    """Holds the current Config; the only process-wide mutable state lakelet has."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: Config | None = None


_holder = _Holder()


def get_config() -> Config:
    """The current configuration (loaded from the environment on first use)."""
    with _holder.lock:
        if _holder.current is None:
            _holder.current = load_config()
        return _holder.current


def set_config(config: Config) -> None:
    """Replace the current configuration for the rest of the process."""
    with _holder.lock:
        _holder.current = config


def reload_config() -> Config:
    """Re-read environment variables and config.toml."""
    config = load_config()
    set_config(config)
    return config


@contextlib.contextmanager
def config_set(**changes: Any) -> Iterator[Config]:
    """Override fields of the current config inside a ``with`` block.

    ``home=`` also re-reads that home's config.toml unless ``data=`` is given.
    """
    old = get_config()
    if "home" in changes:
        changes["home"] = Path(changes["home"]).expanduser()
        if "data" not in changes:
            env = dict(os.environ, LAKELET_HOME=str(changes["home"]))
            changes["data"] = load_config(env).data
    if "concurrency" in changes:
        changes["concurrency"] = _positive_int(changes["concurrency"], "concurrency")
    new = dataclasses.replace(old, **changes)
    set_config(new)
    try:
        yield new
    finally:
        set_config(old)


def concurrency() -> int:
    """How many I/O operations lakelet runs at once."""
    return get_config().concurrency


def set_concurrency(n: int) -> None:
    """Bound lakelet's parallel I/O (uploads, downloads, copies) to ``n`` operations."""
    set_config(dataclasses.replace(get_config(), concurrency=_positive_int(n, "concurrency")))

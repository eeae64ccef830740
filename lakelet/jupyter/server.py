"""The jupyter_server extension: mounts lakelet's REST API for the JupyterLab sidebar.

Enabled automatically on ``pip install`` through
``etc/jupyter/jupyter_server_config.d/lakelet.json`` (``jpserver_extensions:
{"lakelet.jupyter.server": true}``). The server reads the lakelet configuration
exactly as a kernel does (``LAKELET_HOME`` and its ``config.toml``), re-reading
it on every request so an edited config shows up on the next refresh; the opened
lake is reused while its spec is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from collections.abc import Callable
from typing import Any

from ..cache.producers import Producers
from ..config import Config, load_config
from ..errors import InvalidArgument
from ..hashstore import HashKeyStorage, open_lake
from ..topology import ProducerLookup


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "lakelet.jupyter.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # ``src`` is relative to this module's folder; the built bundle is lakelet/labextension
    return [{"src": "../labextension", "dest": "lakelet"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .handlers import DEFAULT_DEADLINE, Backends, setup_handlers

    raw = os.environ.get("LAKELET_SERVER_DEADLINE", "")
    try:
        deadline = float(raw) if raw else DEFAULT_DEADLINE
    except ValueError:
        deadline = DEFAULT_DEADLINE
    if not 0 < deadline < 3600:  # also refuses NaN
        server_app.log.warning("lakelet: LAKELET_SERVER_DEADLINE=%r is not a number of seconds; using %s",
                               raw, DEFAULT_DEADLINE)
        deadline = DEFAULT_DEADLINE
    setup_handlers(server_app.web_app, LakeProvider(), Backends(deadline=deadline))
    server_app.log.info("lakelet: REST API mounted at %slakelet/api/", server_app.base_url)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What one request works with: the config read for it, the lake, and the producer lookup."""

    config: Config
    storage: HashKeyStorage
    producers: ProducerLookup | None
    #: "server" (the server's own LAKELET_HOME) or "kernel" (a home a notebook's kernel reported)
    source: str = "server"


class LakeProvider:
    """Opens the configured lake for each request, reusing it while ``config.toml`` says the same.

    ``load`` is the config loader (the kernel's own :func:`lakelet.config.load_config` by default).
    """

    #: lakes kept open at once (the server's and a few kernels')
    MAX_OPEN = 4

    def __init__(self, load: Callable[..., Config] = load_config) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._open: dict[str, HashKeyStorage] = {}  # lake spec (JSON) -> storage, most recent last
        self._producers: dict[tuple[int, str, bytes | None], Producers] = {}

    def snapshot(self, home: str | None = None) -> Snapshot:
        """The lake of the server's LAKELET_HOME, or of ``home`` (a kernel's) when given.

        ``home`` must be an existing absolute folder; it is only read (its config.toml), never created.
        """
        if home is None:
            config, source = self._load(), "server"
        else:
            config, source = self._load(dict(os.environ, LAKELET_HOME=_checked_home(home))), "kernel"
        spec = json.dumps(config.lake_spec, sort_keys=True, default=str)
        with self._lock:
            storage = self._open.pop(spec, None)
            if storage is None:
                # A lake dropped from this small cache is not closed here: a request still running
                # in a worker thread may be using it; it is released when the last reference goes.
                storage = open_lake(config)
            self._open[spec] = storage
            while len(self._open) > self.MAX_OPEN:
                self._open.pop(next(iter(self._open)))
        return Snapshot(config, storage, self._producer_lookup(config, storage), source)

    def _producer_lookup(self, config: Config, storage: HashKeyStorage) -> ProducerLookup:
        # Entries read are remembered while the lake, the home (its journal) and the key stay the same.
        identity = (id(storage), str(config.home), config.cache_key)
        with self._lock:
            producers = self._producers.get(identity)
            if producers is None:
                if len(self._producers) >= self.MAX_OPEN:
                    self._producers.clear()
                producers = self._producers[identity] = Producers(storage, config.home, config.cache_key)
            return producers


def _checked_home(home: str) -> str:
    if not isinstance(home, str) or "\x00" in home or not os.path.isabs(home):
        raise InvalidArgument(f"home must be an absolute folder path, got {home!r:.200}")
    if not os.path.isdir(home):
        raise InvalidArgument(f"the kernel's LAKELET_HOME {home!r:.200} is not a folder on this server's machine")
    return home

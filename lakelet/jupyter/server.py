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
import threading
from collections.abc import Callable
from typing import Any

from ..cache.producers import Producers
from ..config import Config, load_config
from ..hashstore import HashKeyStorage
from .topology import ProducerLookup


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "lakelet.jupyter.server"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    # ``src`` is relative to this module's folder; the built bundle is lakelet/labextension
    return [{"src": "../labextension", "dest": "lakelet"}]


def _load_jupyter_server_extension(server_app: Any) -> None:
    from .handlers import setup_handlers

    setup_handlers(server_app.web_app, LakeProvider())
    server_app.log.info("lakelet: REST API mounted at %slakelet/api/", server_app.base_url)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What one request works with: the config read for it, the lake, and the producer lookup."""

    config: Config
    storage: HashKeyStorage
    producers: ProducerLookup | None


class LakeProvider:
    """Opens the configured lake for each request, reusing it while ``config.toml`` says the same.

    ``load`` is the config loader (the kernel's own :func:`lakelet.config.load_config` by default).
    """

    def __init__(self, load: Callable[[], Config] = load_config) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._spec: str | None = None
        self._storage: HashKeyStorage | None = None
        self._producers: Producers | None = None
        self._producers_for: tuple[int, str, bytes | None] | None = None

    def snapshot(self) -> Snapshot:
        config = self._load()
        spec = json.dumps(config.lake_spec, sort_keys=True, default=str)
        with self._lock:
            if self._storage is None or spec != self._spec:
                # The previous lake is not closed here: a request still running in a worker
                # thread may be using it; it is released when the last reference goes.
                self._storage = HashKeyStorage(config.lake_spec)
                self._spec = spec
            storage = self._storage
        return Snapshot(config, storage, self._producer_lookup(config, storage))

    def _producer_lookup(self, config: Config, storage: HashKeyStorage) -> ProducerLookup:
        # Entries read are remembered while the lake, the home (its journal) and the key stay the same.
        identity = (id(storage), str(config.home), config.cache_key)
        with self._lock:
            if self._producers is None or self._producers_for != identity:
                self._producers = Producers(storage, config.home, config.cache_key)
                self._producers_for = identity
            return self._producers

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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import Config, load_config
from ..errors import LakeletError
from ..hashstore import HashKeyStorage
from .topology import ProducerLookup

#: distinct cache entries whose value keys are remembered between requests
_MAX_REMEMBERED = 50_000


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
        self._blobs: dict[str, list[tuple[str, str]]] = {}  # entry address -> [(value name, key)]

    def snapshot(self) -> Snapshot:
        config = self._load()
        spec = json.dumps(config.lake_spec, sort_keys=True, default=str)
        with self._lock:
            if self._storage is None or spec != self._spec:
                # The previous lake is not closed here: a request still running in a worker
                # thread may be using it; it is released when the last reference goes.
                self._storage = HashKeyStorage(config.lake_spec)
                self._spec = spec
                self._blobs = {}
            storage = self._storage
        return Snapshot(config, storage, self._producer_lookup(config, storage))

    def _producer_lookup(self, config: Config, storage: HashKeyStorage) -> ProducerLookup | None:
        try:
            from ..cache.index import EntryStore
            from ..cache.journal import Journal
        except ModuleNotFoundError as e:
            if e.name is not None and e.name.startswith("lakelet.cache"):
                return None  # this lakelet has no cache layer
            raise
        journal = Journal(Path(config.home) / "cache" / "journal")
        entries = EntryStore(storage, config.cache_key)

        def lookup(keys: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
            return self._producers(journal, entries, keys)

        return lookup

    def _producers(self, journal: Any, entries: Any, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """key -> the cached function or cell whose entry (or value) it is, from the local cache journal."""
        wanted = set(keys)
        found: dict[str, dict[str, Any]] = {}
        for kind in ("function", "cell"):
            for name in journal.names(kind):
                for record in journal.records(kind, name):
                    producer = {"kind": kind, "name": name, "created": record.time}
                    if record.address in wanted:
                        found.setdefault(record.address, {**producer, "role": "entry"})
                    for variable, key in self._value_keys(entries, record.address):
                        if key in wanted:
                            found.setdefault(key, {**producer, "role": "value", "variable": variable})
        return found

    def _value_keys(self, entries: Any, address: str) -> list[tuple[str, str]]:
        with self._lock:
            known = self._blobs.get(address)
        if known is not None:
            return known
        try:
            entry = entries.get(address)
        except LakeletError:
            entry = None  # unreadable or untrusted: claim no producer rather than a wrong one
        from ..cache.codecs import blobs_of

        value_keys = [] if entry is None else [(n, k) for n, d in entry.values.items() for k in blobs_of(d)]
        with self._lock:
            if len(self._blobs) >= _MAX_REMEMBERED:
                self._blobs.clear()
            if entry is not None:  # a missing entry may still be written: ask again next time
                self._blobs[address] = value_keys
        return value_keys

"""Which cached function or cell made a stored value, answered from the local cache journal.

Storage keys are content hashes, so a storage alone cannot say who wrote a blob.
The journal (``$LAKELET_HOME/cache/journal``) lists, per cached name, the
addresses of its entries; each entry names the blobs of its values. A key is
attributed as the ``entry`` itself or as one of its ``value`` blobs. Only entries
this machine wrote or read are in its journal.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..config import get_config
from ..errors import LakeletError
from ..hashstore import HashKeyStorage
from .codecs import blobs_of
from .index import EntryStore
from .journal import Journal

#: entries whose value keys are remembered (a bound on memory, not a correctness limit)
MAX_REMEMBERED = 50_000

Producer = Mapping[str, Any]


class Producers:
    """``producers(keys)`` -> ``{key: {"kind", "name", "created", "role"[, "variable"]}}`` for ``storage``.

    Entries read once are remembered for the life of the object; safe to share between threads.
    """

    def __init__(self, storage: HashKeyStorage, home: str | Path | None = None, secret: bytes | None = None) -> None:
        config = get_config()
        self.storage = storage
        self.journal = Journal(Path(home if home is not None else config.home) / "cache" / "journal")
        self.entries = EntryStore(storage, secret if secret is not None else config.cache_key, copy_on_read=False)
        self._lock = threading.Lock()
        self._values: dict[str, list[tuple[str, str]]] = {}  # entry address -> [(value name, key)]

    def __call__(self, keys: Sequence[str]) -> Mapping[str, Producer]:
        wanted = set(keys)
        found: dict[str, dict[str, Any]] = {}
        for kind in ("function", "cell"):
            for name in self.journal.names(kind):
                for record in self.journal.records(kind, name):
                    producer = {"kind": kind, "name": name, "created": record.time}
                    if record.address in wanted:
                        found.setdefault(record.address, {**producer, "role": "entry"})
                    for variable, key in self._value_keys(record.address):
                        if key in wanted:
                            found.setdefault(
                                key, {**producer, "role": "value", "variable": variable, "entry": record.address}
                            )
        return found

    def _value_keys(self, address: str) -> list[tuple[str, str]]:
        with self._lock:
            known = self._values.get(address)
        if known is not None:
            return known
        try:
            entry = self.entries.get(address)
        except LakeletError:
            entry = None  # unreadable or untrusted: name no producer rather than a wrong one
        keys = [] if entry is None else [(n, k) for n, d in entry.values.items() for k in blobs_of(d)]
        if entry is not None:  # a missing entry may be written later: ask again next time
            with self._lock:
                if len(self._values) >= MAX_REMEMBERED:
                    self._values.clear()
                self._values[address] = keys
        return keys


def describe(producer: Producer | None) -> str:
    """``"function mod.train (result)"``, ``"cell load (entry)"`` or ``""``."""
    if not producer:
        return ""
    role = producer.get("variable") if producer.get("role") == "value" else producer.get("role")
    return f"{producer.get('kind', '?')} {producer.get('name', '?')} ({role})"

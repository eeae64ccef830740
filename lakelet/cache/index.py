"""The cache index: entry address -> what was stored (value descriptors + metadata).

Entries live in the same location as the values, so every tier a storage has
(a shared S3 bucket, a Redis cache, a local SSD) carries whole cache entries.
An entry's address is a sha256 of what identifies the computation (the format
version, the signing key id, the function or cell name and the digest of the
code and inputs), so it is a valid storage key; unlike values, the entry's bytes
do not hash to it. Entries start with :data:`~lakelet.cache.signing.MAGIC` so
verification tools can tell them from values.

Entries are immutable and written create-only: two processes that computed the
same entry race harmlessly (the first one stays; values are content-addressed).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from functools import partial
from typing import Any

from ..errors import StorageKeyNotFound
from ..hashstore import HashKeyStorage
from ..locations._search import peek_bytes
from ..locations.abc import Blob
from . import signing
from .arguments import VERSION
from .codecs import Descriptor, blobs_of
from .errors import UntrustedEntry


@dataclasses.dataclass
class Entry:
    """One cached computation."""

    kind: str  # "function" or "cell"
    name: str  # module.qualname, or the cell's name
    components: dict[str, str]  # what the key was made of (for ``why``)
    values: dict[str, Descriptor]  # "result" for functions; variable names for cells
    created: float = dataclasses.field(default_factory=time.time)
    duration: float = 0.0  # seconds the computation took
    outputs: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # replayed cell outputs
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def size(self) -> int:
        """Bytes of the stored values."""
        return sum(int(d.get("size", 0)) for d in self.values.values())

    def blobs(self) -> list[str]:
        """Storage keys of every value blob."""
        return [key for d in self.values.values() for key in blobs_of(d)]

    def to_bytes(self) -> bytes:
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Entry:
        try:
            raw = json.loads(data)
            return cls(**raw)
        except (ValueError, TypeError) as e:
            raise UntrustedEntry(f"unreadable cache entry: {e}") from e


class EntryStore:
    """Reads and writes entries in a storage, signing them when a key is configured."""

    def __init__(self, storage: HashKeyStorage, secret: bytes | None, *, copy_on_read: bool = True) -> None:
        self.storage = storage
        self.secret = secret or None
        # False for inspection (who made this value?): reading must not fill cache levels.
        self._read = storage.location.read_bytes if copy_on_read else partial(peek_bytes, storage.location)
        self._key_id = signing.key_id(self.secret)

    @property
    def signed(self) -> bool:
        return self.secret is not None

    def address(self, kind: str, name: str, digest: str) -> str:
        """The storage key of the entry for ``name`` computed from inputs with ``digest``."""
        material = f"lakelet-cache-entry\x00{VERSION}\x00{self._key_id}\x00{kind}\x00{name}\x00{digest}"
        return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, address: str) -> Entry | None:
        """The entry at ``address``, None if absent; raises :class:`UntrustedEntry` if it fails checks."""
        try:
            blob = self._read(address)
        except StorageKeyNotFound:
            return None
        payload, problem = signing.unseal(blob, self.secret)
        if problem is not None:
            raise UntrustedEntry(f"refusing cache entry: {problem}", key=address)
        return Entry.from_bytes(payload)

    def put(self, address: str, entry: Entry, *, replace: bool = False) -> None:
        """Store ``entry`` at ``address`` (create-only unless ``replace``)."""
        data = signing.seal(entry.to_bytes(), self.secret)
        location = self.storage.location
        if replace:
            location.delete(address)
        location.write(address, Blob(data=data))

    def remove(self, address: str, *, values: bool = True) -> bool:
        """Delete an entry (and, with ``values``, the blobs it refers to); True if it existed."""
        entry: Entry | None = None
        if values:
            try:
                entry = self.get(address)
            except UntrustedEntry:
                entry = None
        existed = self.storage.location.delete(address)
        if entry is not None:
            for key in entry.blobs():
                self.storage.location.delete(key)
        return existed


__all__ = ["Entry", "EntryStore"]

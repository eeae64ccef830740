"""The cache index: entry address -> what was stored (value descriptors + metadata).

Entries are *named records* of the storage (``Location.write_record``), not
values: ``cache/<kind>/<address>``, where ``kind`` is ``function`` or ``cell``
and the address is a sha256 of what identifies the computation (the format
version, the signing key id, the function or cell name and the digest of the
code and inputs). So every key in the content namespace is a value that
verifies, and ``verify``/``fsck``/``gc`` never mistake an entry for a damaged
value. A ``Levels`` stack writes records down to its first durable level, so an
entry outlives the process like its values do.

Entries are immutable and written create-only: two processes that computed the
same entry race harmlessly (the first one stays; values are content-addressed).
A stale entry is replaced atomically (never briefly missing).

Entries written by earlier releases sit in the content namespace under their
address; they are still read (and, on a normal read, moved into the records).
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
from ..locations.abc import Location
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


KINDS = ("function", "cell")


def record_name(kind: str, address: str) -> str:
    """The record that holds the entry ``address`` of a ``kind`` ("function" or "cell")."""
    if kind not in KINDS:
        raise ValueError(f"cache entry kind must be one of {KINDS}, got {kind!r}")
    return f"cache/{kind}/{address}"


class EntryStore:
    """Reads and writes entries in a storage, signing them when a key is configured.

    ``kind`` narrows a lookup to one record; without it both kinds are tried.
    """

    def __init__(self, storage: HashKeyStorage, secret: bytes | None, *, copy_on_read: bool = True) -> None:
        self.storage = storage
        self.secret = secret or None
        # False for inspection (who made this value?): reading must not fill cache levels or migrate.
        self._copy_on_read = copy_on_read
        location = storage.location
        self._read_record = location.read_record if copy_on_read else partial(peek_record, location)
        self._read_legacy = location.read_bytes if copy_on_read else partial(peek_bytes, location)
        self._key_id = signing.key_id(self.secret)

    @property
    def signed(self) -> bool:
        return self.secret is not None

    def address(self, kind: str, name: str, digest: str) -> str:
        """The address of the entry for ``name`` computed from inputs with ``digest``."""
        material = f"lakelet-cache-entry\x00{VERSION}\x00{self._key_id}\x00{kind}\x00{name}\x00{digest}"
        return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()

    def _raw(self, address: str, kind: str | None) -> bytes | None:
        for k in (kind,) if kind is not None else KINDS:
            try:
                return self._read_record(record_name(k, address))
            except StorageKeyNotFound:
                continue
        return self._legacy(address, kind)

    def _legacy(self, address: str, kind: str | None) -> bytes | None:
        """An entry of an earlier release, in the content namespace; moved into the records when found."""
        try:
            blob = self._read_legacy(address)
        except StorageKeyNotFound:
            return None
        if not blob.startswith(signing.MAGIC):
            return None  # a value that happens to sit at this key: not an entry
        if self._copy_on_read:
            self._migrate(address, blob, kind)
        return blob

    def _migrate(self, address: str, blob: bytes, kind: str | None) -> None:
        try:
            kind = kind or Entry.from_bytes(signing.unseal(blob, None)[0] or b"{}").kind
        except UntrustedEntry:
            return  # unreadable: leave it, fsck reports it
        if kind not in KINDS:
            return
        location = self.storage.location
        location.write_record(record_name(kind, address), blob)
        location.delete(address)  # the content namespace holds values only from now on

    def exists(self, address: str, kind: str | None = None) -> bool:
        """Whether an entry is stored at ``address`` (without checking it)."""
        return self._raw(address, kind) is not None

    def get(self, address: str, kind: str | None = None) -> Entry | None:
        """The entry at ``address``, None if absent; raises :class:`UntrustedEntry` if it fails checks."""
        blob = self._raw(address, kind)
        if blob is None:
            return None
        payload, problem = signing.unseal(blob, self.secret)
        if problem is not None:
            raise UntrustedEntry(f"refusing cache entry: {problem}", key=address)
        return Entry.from_bytes(payload)

    def put(self, address: str, entry: Entry, *, replace: bool = False) -> None:
        """Store ``entry`` at ``address`` (create-only unless ``replace``, which is atomic)."""
        data = signing.seal(entry.to_bytes(), self.secret)
        location = self.storage.location
        location.write_record(record_name(entry.kind, address), data, replace=replace)
        if replace:
            self._drop_legacy(address)

    def _drop_legacy(self, address: str) -> None:
        location = self.storage.location
        try:
            legacy = peek_bytes(location, address)
        except StorageKeyNotFound:
            return
        if legacy.startswith(signing.MAGIC):
            location.delete(address)

    def remove(self, address: str, *, values: bool = True) -> bool:
        """Delete an entry (and, with ``values``, the blobs it refers to); True if it existed."""
        entry: Entry | None = None
        if values:
            try:
                entry = self.get(address)
            except UntrustedEntry:
                entry = None
        location = self.storage.location
        existed = False
        for kind in KINDS:
            existed = location.delete_record(record_name(kind, address)) or existed
        try:
            legacy = peek_bytes(location, address)
        except StorageKeyNotFound:
            legacy = b""
        if legacy.startswith(signing.MAGIC):
            existed = location.delete(address) or existed
        if entry is not None:
            for key in entry.blobs():
                location.delete(key)
        return existed


def move_legacy_entries(storage: HashKeyStorage, keys: list[str], *, dry_run: bool = False) -> set[str]:
    """Of ``keys`` (values that do not verify), the cache entries an earlier release wrote among
    the values; unless ``dry_run``, each is moved into the named records. Returns their keys."""
    location = storage.location
    found: set[str] = set()
    for key in dict.fromkeys(keys):
        try:
            blob = peek_bytes(location, key)
        except StorageKeyNotFound:
            continue
        if not blob.startswith(signing.MAGIC):
            continue
        payload, _ = signing.unseal(blob, None)
        try:
            kind = Entry.from_bytes(payload).kind
        except UntrustedEntry:
            continue  # not readable as an entry: real damage, left to fsck
        if kind not in KINDS:
            continue
        found.add(key)
        if not dry_run:
            location.write_record(record_name(kind, key), blob)
            location.delete(key)
    return found


def peek_record(location: Location, name: str) -> bytes:
    """Record ``name`` from whichever member holds it, with no copy-on-read (for inspection)."""
    members = location.children()
    if not members:
        return location.read_record(name)
    for member in members:
        try:
            return peek_record(member, name)
        except StorageKeyNotFound:
            continue
    raise StorageKeyNotFound("no such record", location=location, key=name)


__all__ = ["KINDS", "Entry", "EntryStore", "move_legacy_entries", "record_name"]

"""A Hypothesis state machine that checks a Location against a dict model.

Use it by subclassing with a ``make_location`` static method and turning it into
a test case::

    class DiskMachine(LocationStateMachine):
        make_location = staticmethod(lambda: Disk(tempfile.mkdtemp()))

    TestDisk = DiskMachine.TestCase

For a ``Levels`` stack the model is "a dict, plus read-through replication":
after a read, every higher level that replicates (and accepts the size) holds the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from lakelet.errors import StorageKeyNotFound
from lakelet.hashstore import HashKeyStorage
from lakelet.locations.abc import Location
from lakelet.locations.levels import Levels

_values = st.binary(min_size=0, max_size=3000)


class LocationStateMachine(RuleBasedStateMachine):
    """Random writes, reads, deletes and listings, compared with a plain dict."""

    make_location: Callable[[], Location]

    keys = Bundle("keys")

    def __init__(self) -> None:
        super().__init__()
        self.location = type(self).make_location()
        self.storage = HashKeyStorage(self.location)
        self.model: dict[str, bytes] = {}

    @rule(target=keys, data=_values)
    def write(self, data: bytes) -> str:
        key = self.storage.write(data)
        assert key == hashlib.sha256(data).hexdigest()
        self.model[key] = data
        return key

    @rule(target=keys, data=_values)
    def unknown_key(self, data: bytes) -> str:
        return hashlib.sha256(b"never written" + data).hexdigest()

    @rule(key=keys)
    def read(self, key: str) -> None:
        if key in self.model:
            with self.storage.read(key) as value:
                got = value.read_bytes() if isinstance(value, Path) else value.read()
            assert got == self.model[key]
            self._check_replicated(key)
        else:
            try:
                self.storage.read_bytes(key)
            except StorageKeyNotFound:
                return
            raise AssertionError(f"read of a deleted/unknown key {key} succeeded")

    @rule(key=keys)
    def delete(self, key: str) -> None:
        assert self.storage.remove(key) == (key in self.model)
        self.model.pop(key, None)

    @rule(key=keys)
    def contains(self, key: str) -> None:
        assert (key in self.storage) == (key in self.model)

    @invariant()
    def listing_matches(self) -> None:
        if self.location.listable:
            assert sorted(self.storage.keys()) == sorted(self.model)
            usage = self.location.usage()
            assert usage.entries == len(self.model)
            assert usage.bytes == sum(len(v) for v in self.model.values())

    def _check_replicated(self, key: str) -> None:
        if not isinstance(self.location, Levels):
            return
        size = len(self.model[key])
        for level in self.location.levels:
            if level.location.contains(key):
                return  # the first level holding it was the one read; nothing above was missing it
            if level.replicate and level.location.writable and level.location.accepts(size):
                raise AssertionError(f"level {level.location!r} should hold {key} after a read")

    def teardown(self) -> None:
        self.location.close()

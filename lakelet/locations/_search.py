"""Finding a key among the members of a composite, in order, for ``Levels`` and ``Fanout``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack

from ..errors import StorageCorruption, StorageKeyNotFound, StorageNetworkConnectionError
from .abc import Location, ReadValue


def first_hit(
    stack: ExitStack,
    members: Sequence[Location],
    key: str,
    *,
    verified: bool,
    start: int = 0,
    on_corrupt: Callable[[int, Location], None] | None = None,
    skip: Callable[[Location], bool] | None = None,
    on_unavailable: Callable[[Location, StorageNetworkConnectionError], bool] | None = None,
) -> tuple[int, ReadValue] | StorageCorruption | None:
    """Open ``key`` in the first member (from ``start``) that holds it, inside ``stack``.

    Returns (member index, value). A member whose copy fails verification is skipped (after
    ``on_corrupt``) and its error is returned if no later member has a good copy; None means
    no member holds the key. Members ``skip`` names are not asked; a member failing with a
    connection error or timeout is passed over when ``on_unavailable`` says so (a cache tier).
    """
    corruption: StorageCorruption | None = None
    for index in range(start, len(members)):
        member = members[index]
        if skip is not None and skip(member):
            continue
        reader = member.read_verified(key) if verified else member.read(key)
        try:
            return index, stack.enter_context(reader)
        except StorageKeyNotFound:
            continue
        except StorageNetworkConnectionError as e:
            if on_unavailable is None or not on_unavailable(member, e):
                raise
            continue
        except StorageCorruption as e:
            corruption = e
            if on_corrupt is not None:
                on_corrupt(index, member)
    return corruption


def peek_bytes(location: Location, key: str) -> bytes:
    """The value of ``key`` from whichever member holds it, with no copy-on-read.

    For inspection (listings, producer lookups): a read through ``Levels`` would copy the
    value into every cache level it passes, so looking at a lake would fill its caches.
    """
    members = location.children()
    if not members:
        return location.read_bytes(key)
    for member in members:
        try:
            return peek_bytes(member, key)
        except StorageKeyNotFound:
            continue
    raise StorageKeyNotFound("key not found", location=location, key=key)


def verifies(location: Location, key: str) -> bool:
    """Whether ``location``'s own copy of ``key`` hashes to its key (False if it holds none)."""
    try:
        with location.read_verified(key):
            return True
    except (StorageCorruption, StorageKeyNotFound):
        return False

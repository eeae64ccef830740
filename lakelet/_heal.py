"""Finding damaged copies and repairing them from good ones: ``fsck`` and the checks ``gc`` makes.

A copy is *good* when its bytes hash to its key. Repairs only ever replace a
damaged copy, atomically (``Location.repair``), with bytes that were hashed on
the way in; a damaged copy with no good copy anywhere is reported and kept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from .errors import StorageCorruption, StorageError, StorageKeyNotFound
from .locations._search import verifies
from .locations._spool import as_blob
from .locations.abc import Location


@dataclass
class FsckReport:
    """What :meth:`HashKeyStorage.fsck` found (and repaired). Copies are ``(location url, key)``."""

    checked: int = 0  #: copies re-hashed
    keys: int = 0  #: distinct keys seen
    damaged: list[tuple[str, str]] = field(default_factory=list)
    repaired: list[tuple[str, str]] = field(default_factory=list)
    unrecoverable: list[str] = field(default_factory=list)  #: keys with no good copy anywhere
    errors: list[str] = field(default_factory=list)  #: locations or copies that could not be checked

    @property
    def ok(self) -> bool:
        """True when every damaged copy was repaired and everything could be checked."""
        return not self.unrecoverable and not self.errors and len(self.repaired) == len(self.damaged)


def leaves(location: Location) -> Iterator[Location]:
    """The plain locations of a topology (composites only route to them)."""
    children = location.children()
    if not children:
        yield location
    for child in children:
        yield from leaves(child)


def fsck(location: Location, *, repair: bool = False) -> FsckReport:
    """Re-hash every copy of every value in every leaf; with ``repair``, replace each damaged
    copy by a good copy from another leaf."""
    report = FsckReport()
    members = list(dict.fromkeys(leaves(location)))  # a location listed twice is checked once
    listable = [m for m in members if m.listable]
    seen: set[str] = set()
    damaged: list[tuple[Location, str]] = []
    for member in listable:
        try:
            keys = list(member.keys())
        except StorageError as e:
            report.errors.append(f"{member.url}: cannot list: {e}")
            continue
        for key in keys:
            seen.add(key)
            report.checked += 1
            try:
                good = verifies(member, key)
            except StorageError as e:
                report.errors.append(f"{member.url}: {key}: {e}")
                continue
            if not good:
                damaged.append((member, key))
                report.damaged.append((member.url, key))
    report.keys = len(seen)
    if not repair:
        report.unrecoverable = sorted({key for _, key in report.damaged if not _good_copy(members, key)})
        return report
    for target, key in damaged:
        if _repair_from(members, target, key):
            report.repaired.append((target.url, key))
        elif key not in report.unrecoverable:
            report.unrecoverable.append(key)
    return report


def _good_copy(members: Sequence[Location], key: str) -> Location | None:
    for member in members:
        try:
            if member.contains(key) and verifies(member, key):
                return member
        except StorageError:
            continue
    return None


def _repair_from(members: Sequence[Location], target: Location, key: str) -> bool:
    """Replace ``target``'s damaged copy of ``key`` with a good copy from another member."""
    if not target.writable:
        return False
    for source in members:
        if source is target:
            continue
        try:
            with ExitStack() as stack:
                value = stack.enter_context(source.read_verified(key))
                blob = stack.enter_context(as_blob(value, target.staging_dir()))
                return target.repair(key, blob)
        except (StorageKeyNotFound, StorageCorruption):
            continue
        except StorageError:
            continue  # this source is unreachable: try another
    return False


def good_copy_below(cache: Location, backing: Sequence[Location], key: str, *, verify: bool) -> bool:
    """Whether a level below ``cache`` holds a good copy of ``key`` (so evicting the cache copy
    loses nothing). Lower copies that are all damaged are repaired from the cache's copy when
    that one is good; if no good copy can be made below, the answer is False and the cache keeps it."""
    holders = [lower for lower in backing if lower.contains(key)]
    if not holders:
        return False
    if not verify:
        return True
    if any(verifies(lower, key) for lower in holders):
        return True
    return any(_repair_from([cache], lower, key) for lower in holders)


__all__ = ["FsckReport", "fsck", "good_copy_below", "leaves"]

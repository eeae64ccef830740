"""What a maintenance run did: one report type for the lake, volumes and datasets.

``gc()`` of a :class:`~lakelet.HashKeyStorage`, of a volume environment and of a
dataset all return a :class:`GCReport`. Fields a collector has nothing to say
about stay at their defaults. The names each layer used before are kept as
read-only aliases, so code written against them reads on.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ._format import human_bytes


@dataclasses.dataclass(frozen=True)
class GCReport:
    """What one garbage collection removed (or, with ``dry_run``, would remove)."""

    #: entries, blobs or files removed
    removed: int
    bytes_freed: int
    #: things looked at and kept (live, or the only copy of a value)
    kept: int = 0
    dry_run: bool = False
    #: what was removed, where the collector names it (paths relative to a dataset)
    removed_names: tuple[str, ...] = ()
    #: unreachable things kept because they are younger than the grace period
    young: tuple[str, ...] = ()
    #: of the kept, how many something reaches (blobs a volume manifest references)
    live: int = 0
    #: versions reachable from branches and tags (datasets)
    versions: int = 0
    #: why nothing (or less than asked) was removed, for a person
    note: str = ""

    # ------------------------------------------------------------------ the names each layer used before
    @property
    def evicted(self) -> int:  # HashKeyStorage.gc
        return self.removed

    @property
    def bytes(self) -> int:  # HashKeyStorage.gc
        return self.bytes_freed

    @property
    def blobs_deleted(self) -> int:  # volume gc
        return self.removed

    @property
    def blobs_kept(self) -> int:  # volume gc
        return self.kept

    @property
    def blobs_live(self) -> int:  # volume gc
        return self.live

    @property
    def deleted(self) -> tuple[str, ...]:  # dataset gc
        return self.removed_names

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        text = f"{verb} {self.removed} ({human_bytes(self.bytes_freed)}), kept {self.kept}"
        if self.young:
            text += f", {len(self.young)} too young to remove"
        return f"{text}; {self.note}" if self.note else text


__all__ = ["GCReport"]

"""``memory://name``: the process-wide in-memory filesystem, the same one in every layer.

A URL ``memory://name/path`` means one thing wherever lakelet takes a URL: the
folder ``/name/path`` of fsspec's in-memory filesystem, shared by everything in
this process and gone when it ends. A dataset at ``memory://x/ds`` keeps its
files there, and ``open_location("memory://x/ds/media")`` is the same store of
its media; opening ``memory://cache`` twice gives two handles on the same values.
Values use the one blob layout, ``<root>/ab/<62 hex>``.

A bare ``memory://`` (no name) is different by design: a private
:class:`~lakelet.locations.memory.Memory` owned by the object that opened it,
the fastest cache tier.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument
from .fsspec_location import FsspecLocation


class MemoryFiles(FsspecLocation):
    """Values at ``/<name>/ab/<62 hex>`` of fsspec's process-wide memory filesystem."""

    kind = "memory"
    #: process memory: gone with the process
    durable = False

    def __init__(self, name: str, *, max_size: int | None = None) -> None:
        if not isinstance(name, str) or not name.strip("/"):
            raise InvalidArgument(f"a named memory location needs a name (memory://name), got {name!r}")
        import fsspec

        self.name = name.strip("/")
        super().__init__(fsspec.filesystem("memory"), "/" + self.name, max_size=max_size)

    @property
    def url(self) -> str:
        return f"memory://{self.name}"

    def describe(self) -> dict[str, Any]:
        d = super().describe()
        d["shared"] = "process"
        return d


__all__ = ["MemoryFiles"]

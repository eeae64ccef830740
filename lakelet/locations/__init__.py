"""Where bytes live: the Location SPI, its implementations and the composites.

Remote backends are imported on first use of their name, so importing lakelet
never imports s3fs, redis-py or sshfs.

May import: ``registry`` (composites open nested specs through it), ``credentials``, ``config``,
``errors`` and the ``_`` helpers; nothing of the layers above (hashstore, cache, primitives, datasets).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .abc import Blob, EntryInfo, Location, Usage

if TYPE_CHECKING:  # loaded on first use below
    from .disk import Disk
    from .fanout import Fanout
    from .levels import Level, Levels
    from .memory import Memory
    from .small import Small

# Every implementation loads on first use of its name: `lakelet.locations.abc` (the SPI, which the
# dataset layer's error translation needs) comes without the disk, composite and remote modules.
_LAZY = {
    "Disk": "disk",
    "Fanout": "fanout",
    "Level": "levels",
    "Levels": "levels",
    "Memory": "memory",
    "Small": "small",
    "S3": "s3",
    "SFTP": "sftp",
    "SCP": "sftp",
    "Nginx": "http",
    "GCS": "gcs",
    "Azure": "azure",
    "RedisLocation": "redis",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Blob", "EntryInfo", "Location", "Usage", *_LAZY]

"""Where bytes live: the Location SPI, its implementations and the composites.

Remote backends are imported on first use of their name, so importing lakelet
never imports s3fs, redis-py or sshfs.

May import: ``registry`` (composites open nested specs through it), ``credentials``, ``config``,
``errors`` and the ``_`` helpers; nothing of the layers above (hashstore, cache, primitives, datasets).
"""

from __future__ import annotations

import importlib
from typing import Any

from .abc import Blob, EntryInfo, Location, Usage
from .disk import Disk
from .fanout import Fanout
from .levels import Level, Levels
from .memory import Memory
from .small import Small

_LAZY = {
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
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Blob", "Disk", "EntryInfo", "Fanout", "Level", "Levels", "Location", "Memory", "Small", "Usage",
           *_LAZY]

"""``lakelet.storage``: Deep Lake's storage API — Reader, Writer, ResourceMeta and the I/O concurrency knob.

>>> import lakelet.storage
>>> lakelet.storage.concurrency() >= 1
True
"""

from __future__ import annotations

from .config import concurrency, set_concurrency
from .datasets.storage_io import Reader, ResourceMeta, Writer

__all__ = ["Reader", "ResourceMeta", "Writer", "concurrency", "set_concurrency"]

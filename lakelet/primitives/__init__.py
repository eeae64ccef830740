"""Named shared storage primitives: Volume, NetworkFileSystem, Dict, Queue, CloudBucketMount, Secret.

Modal's storage API, on a laptop with nothing to start (a folder + SQLite per
environment) or across machines (S3-compatible bytes + Redis), chosen per
environment in ``$LAKELET_HOME/config.toml`` (see :mod:`lakelet.primitives.env`).

May import: the storage core (``hashstore``, ``locations``, ``registry``, ``credentials``, ``config``,
``errors`` and the ``_`` helpers). Not ``cache`` or ``datasets`` (a sibling layer), never ``jupyter``.
"""

from __future__ import annotations

from .catalog import ObjectInfo
from .cloud_bucket_mount import CloudBucketMount
from .dict import Dict
from .entries import FileEntry, FileEntryType, PathNotFound
from .env import Environment, get_environment
from .errors import (
    AlreadyExistsError,
    ConflictError,
    NotFoundError,
    PoisonItem,
    SizeLimitExceeded,
    UncommittedChangesWarning,
    UndecodableValue,
    UndecodableValueWarning,
    UnpicklableValue,
)
from .nfs import NetworkFileSystem
from .queue import DeadLetter, Delivery, Queue
from .secret import Secret
from .volume import Volume

__all__ = [
    "AlreadyExistsError",
    "CloudBucketMount",
    "ConflictError",
    "DeadLetter",
    "Delivery",
    "Dict",
    "Environment",
    "FileEntry",
    "FileEntryType",
    "NetworkFileSystem",
    "NotFoundError",
    "ObjectInfo",
    "PathNotFound",
    "PoisonItem",
    "Queue",
    "Secret",
    "SizeLimitExceeded",
    "UncommittedChangesWarning",
    "UndecodableValue",
    "UndecodableValueWarning",
    "UnpicklableValue",
    "Volume",
    "get_environment",
]

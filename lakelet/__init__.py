"""lakelet: a Jupyter-centric data workbench.

Content-addressed tiered storage, code-aware memoization, named shared
primitives and typed versioned datasets, all visible from a notebook.
"""

from __future__ import annotations

from .config import Config, concurrency, config_set, get_config, set_concurrency
from .errors import (
    CollisionError,
    InvalidArgument,
    InvalidKey,
    InvalidName,
    InvalidPath,
    LakeletError,
    LakeletTimeout,
    LakeletWarning,
    MissingDependency,
    PreconditionFailed,
    ReadOnlyLocation,
    StorageAccessDenied,
    StorageCorruption,
    StorageError,
    StorageFull,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)
from .hashstore import GCReport, HashKeyStorage
from .locations import (
    Blob,
    Disk,
    EntryInfo,
    Fanout,
    Level,
    Levels,
    Location,
    Memory,
    Small,
    Usage,
)
from .registry import open_location, register_location

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """Entry point of ``%load_ext lakelet``."""
    from .jupyter import load_ipython_extension as _load

    _load(ipython)


_LAZY_LOCATIONS = ("S3", "SFTP", "SCP", "Nginx", "GCS", "Azure", "RedisLocation")


def __getattr__(name: str) -> object:
    # Remote backends load on first use, so `import lakelet` stays free of s3fs/redis/sshfs.
    if name in _LAZY_LOCATIONS:
        from . import locations

        return getattr(locations, name)
    raise AttributeError(f"module 'lakelet' has no attribute {name!r}")

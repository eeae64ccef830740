"""lakelet: a Jupyter-centric data workbench.

Content-addressed tiered storage, code-aware memoization, named shared
primitives and typed versioned datasets, all visible from a notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    AlreadyExists,
    CollisionError,
    InvalidArgument,
    InvalidKey,
    InvalidName,
    InvalidPath,
    LakeletError,
    LakeletTimeout,
    LakeletWarning,
    MissingDependency,
    NotFound,
    PreconditionFailed,
    ReadOnly,
    ReadOnlyLocation,
    StorageAccessDenied,
    StorageCorruption,
    StorageError,
    StorageFull,
    StorageInternalError,
    StorageKeyNotFound,
    StorageNetworkConnectionError,
)

if TYPE_CHECKING:  # loaded on first use below; listed here for type checkers and readers
    from .config import Config, concurrency, config_set, get_config, set_concurrency
    from .hashstore import HashKeyStorage
    from .locations import Blob, Disk, EntryInfo, Fanout, Level, Levels, Location, Memory, Small, Usage
    from .registry import open_location, register_location
    from .reports import GCReport

__version__ = "0.1.0"


def load_ipython_extension(ipython: object) -> None:
    """Entry point of ``%load_ext lakelet``."""
    from .jupyter import load_ipython_extension as _load

    _load(ipython)


def _show_in_running_ipython() -> None:
    """Inside a running IPython (a notebook kernel), register lakelet's rich views right away.

    The core classes carry no ``_repr_html_`` (the core never imports the
    notebook face); ``%load_ext lakelet`` registers the views too.
    """
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "display_formatter", None) is not None:
        from .jupyter.reprs import register

        register(shell)


_show_in_running_ipython()


# Names that load their module on first use, so `import lakelet` stays light: remote backends
# (s3fs, redis-py, sshfs...) and the dataset layer (DuckDB) are imported only when asked for, and
# `import lakelet.datasets` does not pay for the storage core's modules (~25 ms cold) unless the
# dataset's storage needs them.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Config", "concurrency", "config_set", "get_config", "set_concurrency"), "lakelet.config"),
    "HashKeyStorage": "lakelet.hashstore",
    **dict.fromkeys(
        ("Blob", "Disk", "EntryInfo", "Fanout", "Level", "Levels", "Location", "Memory", "Small", "Usage"),
        "lakelet.locations",
    ),
    **dict.fromkeys(("open_location", "register_location"), "lakelet.registry"),
    "GCReport": "lakelet.reports",
    **dict.fromkeys(("S3", "SFTP", "SCP", "Nginx", "GCS", "Azure", "RedisLocation"), "lakelet.locations"),
    **dict.fromkeys(
        (
            "create", "open", "open_read_only", "exists", "delete", "like", "copy", "query", "Dataset",
            "from_pandas", "from_arrow", "from_parquet", "from_csv", "from_images", "from_coco", "infer_schema",
            "Version", "QueryView", "Schema", "DatasetError", "DatasetNotFound", "DatasetExists", "SchemaError",
            "MergeConflict", "VersionNotFound", "CommitConflict", "DatasetReadOnly",
        ),
        "lakelet.datasets",
    ),
    "from_dask": "lakelet.datasets",
    **dict.fromkeys(
        (
            "smart_cache", "mark_unstable", "mark_module_unstable", "CachedFunction", "CacheInfo", "CacheWarning",
            "UnhashableValue", "UnstorableValue", "UntrustedEntry", "Explanation", "File",
        ),
        "lakelet.cache",
    ),
    **dict.fromkeys(
        (
            "Volume", "NetworkFileSystem", "Dict", "Queue", "CloudBucketMount", "Secret", "FileEntry",
            "FileEntryType", "NotFoundError", "AlreadyExistsError", "ConflictError", "PathNotFound",
            "SizeLimitExceeded", "UncommittedChangesWarning", "Delivery", "ObjectInfo",
        ),
        "lakelet.primitives",
    ),
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:  # `lakelet.config` and friends work after a bare `import lakelet`
        import importlib

        return importlib.import_module(f"lakelet.{name}")
    raise AttributeError(f"module 'lakelet' has no attribute {name!r}")


_SUBMODULES = frozenset(
    ("cache", "config", "credentials", "datasets", "errors", "hashstore", "locations", "primitives", "registry",
     "reports", "storage", "types")
)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, *_SUBMODULES})

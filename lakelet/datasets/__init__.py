"""Typed, versioned datasets on any storage, queried with DuckDB (Deep Lake's API).

May import: the storage core (``hashstore``, ``locations``, ``registry``, ``credentials``, ``config``,
``errors`` and the ``_`` helpers). Not ``cache`` or ``primitives`` (a sibling layer), never ``jupyter``.
A :class:`Dataset` is a facade over its :class:`~lakelet.datasets.checkout.Checkout`.

>>> from lakelet import datasets
>>> ds = datasets.create("memory://datasets-doc")
>>> ds.add_column("n", datasets.types.Int64())
>>> ds.append({"n": [1, 2, 3]})
>>> len(ds.query("SELECT * WHERE n > 1"))
2
>>> datasets.delete("memory://datasets-doc")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Names load their module on first use (PEP 562): a Dask worker unpickling one read task, or a
# process that needs only the types, does not pay for DuckDB, the importers and the rest.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("copy", "create", "delete", "exists", "from_dask", "like", "open", "open_read_only"), "api"),
    **dict.fromkeys(("Dataset", "Version"), "dataset"),
    **dict.fromkeys(
        ("CommitConflict", "DatasetError", "DatasetExists", "DatasetNotFound", "DatasetReadOnly", "MergeConflict",
         "SchemaError", "VersionNotFound"),
        "errors",
    ),
    "GCReport": "gc",
    **dict.fromkeys(("from_arrow", "from_csv", "from_pandas", "from_parquet"), "importers"),
    "infer_schema": "infer",
    **dict.fromkeys(("from_coco", "from_images"), "media_import"),
    "QueryView": "results",
    "query": "api",
    **dict.fromkeys(("Column", "Schema"), "schema"),
}

if TYPE_CHECKING:  # what the names are, for type checkers and readers
    from . import types
    from .api import copy, create, delete, exists, from_dask, like, open, open_read_only, query
    from .dataset import Dataset, Version
    from .errors import (
        CommitConflict,
        DatasetError,
        DatasetExists,
        DatasetNotFound,
        DatasetReadOnly,
        MergeConflict,
        SchemaError,
        VersionNotFound,
    )
    from .gc import GCReport
    from .importers import from_arrow, from_csv, from_pandas, from_parquet
    from .infer import infer_schema
    from .media_import import from_coco, from_images
    from .results import QueryView
    from .schema import Column, Schema


def __getattr__(name: str) -> Any:
    import importlib

    if name == "types":
        return importlib.import_module(f"{__name__}.types")
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "types"})


__all__ = [
    "Column",
    "CommitConflict",
    "Dataset",
    "DatasetError",
    "DatasetExists",
    "DatasetNotFound",
    "DatasetReadOnly",
    "GCReport",
    "MergeConflict",
    "QueryView",
    "Schema",
    "SchemaError",
    "Version",
    "VersionNotFound",
    "copy",
    "create",
    "delete",
    "exists",
    "from_arrow",
    "from_coco",
    "from_csv",
    "from_images",
    "from_pandas",
    "from_parquet",
    "infer_schema",
    "from_dask",
    "like",
    "open",
    "open_read_only",
    "query",
    "types",
]

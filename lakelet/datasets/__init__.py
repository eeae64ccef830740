"""Typed, versioned datasets on any storage, queried with DuckDB (Deep Lake's API).

>>> from lakelet import datasets
>>> ds = datasets.create("memory://datasets-doc")
>>> ds.add_column("n", datasets.types.Int64())
>>> ds.append({"n": [1, 2, 3]})
>>> len(ds.query("SELECT * WHERE n > 1"))
2
>>> datasets.delete("memory://datasets-doc")
"""

from __future__ import annotations

from . import types
from .api import copy, create, delete, exists, from_dask, like, open, open_read_only
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
from .query import QueryView, query
from .schema import Column, Schema

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

"""Module-level dataset functions: create, open, open_read_only, exists, delete, like, copy, query, from_dask.

>>> from lakelet import datasets
>>> ds = datasets.create("memory://doctest-ds")
>>> ds.add_column("text", datasets.types.Text())
>>> ds.append({"text": "hello"})
>>> len(ds), ds.has_changes
(1, True)
>>> _ = ds.commit("first row")
>>> datasets.delete("memory://doctest-ds")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .._progress import progress_bar
from ..errors import InvalidArgument
from . import types as T
from .dataset import Dataset
from .errors import DatasetExists, NestedDataset
from .layout import (
    SETTINGS,
    Url,
    _inner_datasets,
    _refuse_nesting,
    _settings,
    _writer,
    initialize,
)
from .schema import Schema
from .storage_io import Writer, parallel_map

if TYPE_CHECKING:
    from .results import QueryView


def _as_schema(schema: Any) -> Schema:
    if schema is None:
        return Schema()
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, Mapping):
        out = Schema()
        for name, dtype in schema.items():
            out = out.added(name, T.as_type(dtype), None)
        return out
    if isinstance(schema, pa.Schema | pa.Table | pa.RecordBatch) or (
        hasattr(schema, "columns") and hasattr(schema, "iloc")  # a pandas DataFrame
    ):
        from .infer import infer_schema

        return _as_schema(infer_schema(schema))
    raise InvalidArgument(
        "schema must be a dict of column name -> type, an Arrow schema or table, or a pandas DataFrame "
        f"(types inferred), got {type(schema).__name__}"
    )


def create(url: Url, creds: Mapping[str, Any] | None = None, schema: Any = None) -> Dataset:
    """Create an empty dataset on branch ``main``.

    ``schema``: column name -> type, or an Arrow schema/table or a pandas DataFrame whose column types
    are inferred (:func:`lakelet.datasets.infer_schema`; to override some, pass
    ``infer_schema(df, {"col": types.ClassLabel(...)})``). Refused with :class:`NestedDataset` inside
    another dataset's folder or around one.
    """
    writer = _writer(url, creds)
    settings = initialize(writer, _as_schema(schema))
    return Dataset(writer, settings=settings)


def exists(url: Url, creds: Mapping[str, Any] | None = None) -> bool:
    """Whether a dataset is stored at ``url``."""
    return _writer(url, creds).exists(SETTINGS)


def open(  # noqa: A001 - Deep Lake's name; only an attribute of the lakelet module
    url: Url, creds: Mapping[str, Any] | None = None, *, version: str | None = None, branch: str | None = None
) -> Dataset:
    """Open a dataset for reading and writing, on ``branch`` (default ``main``) or at ``version``."""
    if version is not None and branch is not None:
        raise InvalidArgument("give version= or branch=, not both")
    writer = _writer(url, creds)
    return Dataset(writer, settings=_settings(writer), ref=branch or version)


def open_read_only(
    url: Url, creds: Mapping[str, Any] | None = None, *, version: str | None = None, branch: str | None = None
) -> Dataset:
    """Open a dataset that refuses every write."""
    if version is not None and branch is not None:
        raise InvalidArgument("give version= or branch=, not both")
    writer = _writer(url, creds)
    return Dataset(writer, settings=_settings(writer), read_only=True, ref=branch or version)


def delete(url: Url, creds: Mapping[str, Any] | None = None) -> None:
    """Delete the dataset at ``url`` and its whole history."""
    writer = _writer(url, creds)
    _settings(writer)
    inner = [p for p in _inner_datasets(writer) if p]
    if inner:
        raise NestedDataset(
            f"not deleting the dataset at {writer.original_path!r}: its folder also holds the dataset(s) at "
            + ", ".join(repr(p) for p in inner[:5])
            + "; move or delete those first"
        )
    writer.remove(SETTINGS)  # first: a half-deleted dataset no longer "exists"
    writer.remove_directory("")


def like(src: Dataset | Url, dst: Url, creds: Mapping[str, Any] | None = None) -> Dataset:
    """Create an empty dataset at ``dst`` with the schema of ``src``."""
    source = src if isinstance(src, Dataset) else open_read_only(src, creds)
    return create(dst, creds=creds, schema=Schema(list(source.schema)))


def _files(writer: Writer) -> list[str]:
    """Every file of the dataset, relative to its root, without temporaries of unfinished writes."""
    out = []
    for meta in writer.walk(""):
        parts = meta.path.split("/")
        if parts[-1].startswith(".tmp-") or ".tmp" in parts[:-1]:
            continue
        out.append(meta.path)
    return sorted(out)


def _copy_plan(files: list[str]) -> list[tuple[str, str]]:
    """(source, target) paths: media move to the one blob layout, whatever layout the source used."""
    from .media import blob_path, key_of  # the storage core's blob layout: loaded when copying media

    plan: dict[str, str] = {}
    for rel in files:
        key = key_of(rel)
        target = blob_path(key) if key is not None else rel
        if target not in plan.values():
            plan[rel] = target
    return list(plan.items())


def copy(
    src: Url,
    dst: Url,
    src_creds: Mapping[str, Any] | None = None,
    dst_creds: Mapping[str, Any] | None = None,
    *,
    progress: bool | Callable[[int, int], None] | None = None,
) -> Dataset:
    """Copy a dataset with its whole history between any two storages.

    Data files go first, in parallel; refs and settings last, so ``dst`` only
    exists once it is complete. ``progress``: True or False (a bar or none), None (a bar if the copy
    takes a while) or ``f(done, total)``, called after each file.
    """
    source = _writer(src, src_creds)
    settings = _settings(source)
    target = _writer(dst, dst_creds)
    if target.exists(SETTINGS):
        raise DatasetExists(target.original_path)
    _refuse_nesting(target)
    plan = _copy_plan([f for f in _files(source) if f != SETTINGS])
    with progress_bar(len(plan), "copy", False if callable(progress) else progress, unit="files") as bar:
        advance = _counting(progress, len(plan)) if callable(progress) else bar

        def _one(item: tuple[str, str]) -> None:
            target.set(item[1], source.get(item[0]))
            advance(1)

        parallel_map(_one, [item for item in plan if not item[0].startswith("refs/")])
        parallel_map(_one, [item for item in plan if item[0].startswith("refs/")])
    settings = {**settings, "compression": None if target.kind in ("local", "memory") else "zstd"}
    target.set(SETTINGS, json.dumps(settings).encode())
    return Dataset(target, settings=settings)


def _counting(report: Callable[[int, int], None], total: int) -> Callable[[int], None]:
    """``advance(n)`` that calls ``report(done, total)``: the caller draws its own progress."""
    done = 0
    lock = threading.Lock()

    def advance(n: int) -> None:
        nonlocal done
        with lock:
            done += n
            report(done, total)

    return advance


def from_dask(
    ddf: Any,
    url: Any,
    creds: Mapping[str, Any] | None = None,
    *,
    schema: Any = None,
    message: str | None = None,
) -> Dataset:
    """Write a Dask DataFrame as a new version of the dataset at ``url`` (created if absent).

    The partitions are written in parallel by the workers; the version is
    published once, when all of them succeeded.
    """
    from .dask_io import is_dask_collection, write_dask

    if not is_dask_collection(ddf):
        raise InvalidArgument(f"from_dask takes a Dask DataFrame, got {type(ddf).__name__}")
    if exists(url, creds):
        ds = open(url, creds)
        if schema is not None:
            raise InvalidArgument(f"{url} exists already; schema= is only for a new dataset")
    else:
        ds = create(url, creds, schema=schema if schema is not None else ddf._meta)
    write_dask(ds, ddf)
    ds.commit(message or "from_dask")
    return ds


def query(
    sql: str,
    creds: Mapping[str, Any] | None = None,
    *,
    prune: bool = True,
    labels: bool = True,
    indexes: bool = True,
) -> QueryView:
    """Run SQL over datasets named by URL: ``SELECT ... FROM dataset('s3://b/ds', version='v1')``.

    ``creds`` (Deep Lake's keys) apply to every dataset the query names; ``prune``,
    ``labels`` and ``indexes`` as in :func:`lakelet.datasets.sql.run`.
    """
    from .sql import _dataset_arguments, _parse, _replace_dataset_calls, _table_ref, _unparse, connect, run

    datasets: dict[str, Dataset] = {}
    opened: dict[tuple[str, str | None], str] = {}
    con = connect(None)
    tree = _parse(con, sql) if isinstance(sql, str) and sql.strip() else None
    if tree is None:
        raise InvalidArgument("the query must be a non-empty SQL string")

    def _swap(node: dict[str, Any]) -> dict[str, Any]:
        url, ref = _dataset_arguments(node["function"])
        key = (url, ref)
        if key not in opened:
            name = f"__lakelet_ds{len(opened)}"
            datasets[name] = open_read_only(url, creds=creds, version=ref)
            opened[key] = name
        return _table_ref(con, opened[key], node.get("alias") or "")

    _replace_dataset_calls(tree, _swap)
    if not datasets:
        raise InvalidArgument("the query names no dataset: use FROM dataset('url'[, version='...'])")
    return run(_unparse(con, tree), datasets, prune=prune, labels=labels, indexes=indexes)

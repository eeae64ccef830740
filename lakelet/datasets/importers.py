"""Datasets made from data: DataFrames, Arrow tables, Parquet and CSV files (Deep Lake's
``from_parquet``/``from_csv``, plus ``from_pandas``/``from_arrow``).

Every importer streams: it reads a batch, appends it, and the dataset spills its pending rows to
storage as pieces every ``piece_bytes`` (:meth:`Dataset.spill`), so memory stays bounded by about
one piece plus the reader's batch, however big the input. The version is published once, by one
commit at the end; a failure (or a kill) before it publishes nothing, and a dataset the importer
created itself is deleted again on an exception. Column types are inferred from the data
(:mod:`.infer`); ``schema={"col": type}`` overrides some or all of them.

Sources are read through fsspec (local paths, ``s3://``, ``gcs://``, ``azure://``, ``memory://``
with Deep Lake's ``creds`` names), Parquet with ``pyarrow.dataset`` (a file, a folder of files, or a
list) and CSV with pyarrow's streaming CSV reader. Progress bars are ``tqdm.auto`` (a widget in a
notebook), on by default for files and off for in-memory data.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from .._progress import progress_bar
from ..errors import InvalidArgument
from .errors import SchemaError
from .ingest import Columns

if TYPE_CHECKING:
    from .dataset import Dataset

Url = str | os.PathLike[str]
#: uncommitted bytes an importer lets a dataset hold before writing them as a piece
PIECE_BYTES = 128 << 20
BATCH_ROWS = 65_536


# ------------------------------------------------------------------------------ the streaming core
def ingest(
    batches: Iterable[Any],
    dest: Url | None,
    creds: Mapping[str, Any] | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    message: str | None = None,
    total: int | None = None,
    progress: bool = False,
    piece_bytes: int = PIECE_BYTES,
    unit: str = "rows",
    empty_schema: Any = None,
) -> Dataset:
    """Append ``batches`` (Arrow batches/tables, DataFrames or dicts of columns) to the dataset at
    ``dest`` -- created, with types inferred from the first batch, if it does not exist -- and commit
    once. ``dest=None``: a new in-memory dataset; ``empty_schema``: what to infer types from when
    there is no batch at all."""
    from . import api
    from .infer import infer_schema

    if not isinstance(piece_bytes, int) or isinstance(piece_bytes, bool) or piece_bytes < 1:
        raise InvalidArgument(f"piece_bytes must be a positive int, got {piece_bytes!r}")
    url = dest if dest is not None else f"memory://lakelet-import/{uuid.uuid4().hex}"
    iterator = iter(batches)
    first = next(iterator, None)
    created = not api.exists(url, creds)
    if created:
        sample = first if first is not None else empty_schema
        if sample is None:
            raise InvalidArgument("no data to import (and no schema to create an empty dataset with)")
        ds = api.create(url, creds, schema=infer_schema(sample, schema))
    else:
        ds = api.open(url, creds)
        if ds.has_changes:
            raise InvalidArgument(f"{url} has uncommitted changes")  # pragma: no cover - a fresh handle
        if schema:
            _check_overrides(ds, schema)
    ds.spill_bytes = piece_bytes
    with progress_bar(total, "import", progress, unit=unit) as advance:
        try:
            for batch in _chain(first, iterator):
                rows = _rows(batch)
                if rows:
                    ds.append(Columns(batch) if isinstance(batch, Mapping) else batch)
                    advance(rows)
            ds.commit(message or "import")
        except BaseException:
            ds.rollback()
            if created:
                with contextlib.suppress(Exception):  # the import's own error is the one to report
                    api.delete(url, creds)
            raise
    return ds


def _check_overrides(ds: Dataset, schema: Mapping[str, Any]) -> None:
    from . import types as T

    for name, dtype in schema.items():
        if ds.schema[name].type != T.as_type(dtype):
            raise SchemaError(
                f"{ds.path} exists with column {name!r} of type {ds.schema[name].type!r}, not {T.as_type(dtype)!r}",
                column=name,
            )


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    yield from rest


def _rows(batch: Any) -> int:
    if isinstance(batch, pa.Table | pa.RecordBatch):
        return batch.num_rows
    if hasattr(batch, "iloc"):
        return len(batch)
    if isinstance(batch, Mapping):
        return len(next(iter(batch.values()))) if batch else 0
    return len(batch)


def _source(src: Url, creds: Mapping[str, Any] | None) -> tuple[Any, str, str]:
    """``(fsspec filesystem, path inside it, kind)`` for a source file or folder URL."""
    from .storage_io import parse_url

    target = parse_url(src, creds)
    return target.fs, target.root, target.kind


# ------------------------------------------------------------------------------ in-memory data
def from_pandas(
    df: Any,
    url: Url | None = None,
    creds: Mapping[str, Any] | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = False,
    batch_rows: int = BATCH_ROWS,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """A dataset at ``url`` holding ``df`` (types inferred, ``schema`` overrides), committed once.

    >>> import pandas as pd
    >>> ds = from_pandas(pd.DataFrame({"n": [1, 2]}), "memory://doc-from-pandas")
    >>> ds["n"][:].tolist(), ds.schema["n"].type
    ([1, 2], Int64())
    """
    if not (hasattr(df, "iloc") and hasattr(df, "columns")):
        raise InvalidArgument(f"from_pandas takes a pandas DataFrame, got {type(df).__name__}")
    step = _positive(batch_rows, "batch_rows")
    batches = (df.iloc[i : i + step] for i in range(0, len(df), step)) if len(df) else iter([df])
    return ingest(batches, url, creds, schema=schema, message=message or "from_pandas", total=len(df),
                  progress=progress, piece_bytes=piece_bytes)


def from_arrow(
    data: Any,
    url: Url | None = None,
    creds: Mapping[str, Any] | None = None,
    *,
    schema: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = False,
    batch_rows: int = BATCH_ROWS,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """A dataset at ``url`` from an Arrow table, record batch, ``RecordBatchReader`` (streamed) or
    any iterable of batches; types inferred, ``schema`` overrides."""
    step = _positive(batch_rows, "batch_rows")
    total = None
    if isinstance(data, pa.Table):
        total = data.num_rows
        batches: Iterable[Any] = data.to_batches(max_chunksize=step) or [data]
    elif isinstance(data, pa.RecordBatch):
        total, batches = data.num_rows, [data]
    elif isinstance(data, Iterable) and not isinstance(data, str | bytes | Mapping):
        batches = data
    else:
        raise InvalidArgument(f"from_arrow takes an Arrow table, batch, reader or batches, got {type(data).__name__}")
    return ingest(batches, url, creds, schema=schema, message=message or "from_arrow", total=total,
                  progress=progress, piece_bytes=piece_bytes, empty_schema=getattr(data, "schema", None))


def _positive(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidArgument(f"{name} must be a positive int, got {value!r}")
    return value


# ------------------------------------------------------------------------------ files
def _arrow_fs(fs: Any, kind: str) -> Any:
    import pyarrow.fs as pafs

    if kind == "local":
        return pafs.LocalFileSystem()
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs))


def _paths(src: Url | list[Url], creds: Mapping[str, Any] | None) -> tuple[Any, list[str], str]:
    sources = list(src) if isinstance(src, list | tuple) else [src]
    if not sources:
        raise InvalidArgument("no source files given")
    found: list[str] = []
    fs = kind = None
    for one in sources:
        fs_i, root, kind_i = _source(one, creds)
        if fs is not None and kind_i != kind:
            raise InvalidArgument("give sources on one backend per import")
        fs, kind = fs_i, kind_i
        if not fs.exists(root):
            raise InvalidArgument(f"no such file or folder: {os.fspath(one)!r}")
        found.append(root)
    return fs, found, kind  # type: ignore[return-value]


def from_parquet(
    src: Url | list[Url],
    dest: Url | None = None,
    *,
    src_creds: Mapping[str, Any] | None = None,
    dest_creds: Mapping[str, Any] | None = None,
    schema: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = True,
    batch_rows: int = BATCH_ROWS,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """Import Parquet: a file, a folder of ``.parquet`` files (searched recursively) or a list, on
    any backend. Streams record batches (never the whole file) into the dataset at ``dest``
    (``None``: in memory) and commits once."""
    import pyarrow.dataset as pads

    fs, roots, kind = _paths(src, src_creds)
    files: list[str] = []
    for root in roots:
        if fs.isdir(root):
            files += sorted(p for p in fs.find(root) if p.endswith((".parquet", ".parq", ".pq")))
        else:
            files.append(root)
    if not files:
        raise InvalidArgument(f"no Parquet files under {src!r}")
    try:
        dataset = pads.dataset(files, filesystem=_arrow_fs(fs, kind), format="parquet")
        total = dataset.count_rows()
    except (pa.ArrowInvalid, OSError) as e:
        raise InvalidArgument(f"cannot read Parquet from {src!r}: {e}") from e
    step = _positive(batch_rows, "batch_rows")
    batches = dataset.to_batches(batch_size=step, batch_readahead=1, fragment_readahead=1)
    return ingest((b for b in batches if b.num_rows), dest, dest_creds, schema=schema,
                  message=message or "from_parquet", total=total, progress=progress, piece_bytes=piece_bytes,
                  empty_schema=dataset.schema)


def from_csv(
    src: Url | list[Url],
    dest: Url | None = None,
    *,
    src_creds: Mapping[str, Any] | None = None,
    dest_creds: Mapping[str, Any] | None = None,
    schema: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = True,
    delimiter: str = ",",
    block_bytes: int = 16 << 20,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """Import CSV files (a file, a folder of ``.csv`` files or a list, on any backend) with pyarrow's
    streaming reader: types are inferred from the first block of the first file (ISO timestamps and
    dates included); ``schema`` overrides them, and is also what the reader parses those columns as."""
    import pyarrow.csv as pacsv

    from . import types as T

    fs, roots, _ = _paths(src, src_creds)
    files: list[str] = []
    for root in roots:
        files += sorted(p for p in fs.find(root) if p.endswith((".csv", ".csv.gz", ".tsv"))) if fs.isdir(root) else (
            [root])
    if not files:
        raise InvalidArgument(f"no CSV files under {src!r}")
    column_types = {}
    for name, dtype in (schema or {}).items():
        t = T.as_type(dtype)
        if not t.is_media and not isinstance(t, T.ClassLabel | T.Embedding | T.Dict):
            column_types[name] = t.arrow
        elif isinstance(t, T.ClassLabel):
            column_types[name] = pa.string()  # names, coded by the column type
    total = sum(fs.size(f) for f in files)
    parse = pacsv.ParseOptions(delimiter=delimiter)
    read = pacsv.ReadOptions(block_size=_positive(block_bytes, "block_bytes"))
    convert = pacsv.ConvertOptions(column_types=column_types, strings_can_be_null=True)

    def batches() -> Iterator[tuple[pa.RecordBatch, int]]:
        for path in files:
            with fs.open(path, "rb", compression="infer") as f:
                try:
                    reader = pacsv.open_csv(f, read_options=read, parse_options=parse, convert_options=convert)
                    done = 0
                    for batch in reader:
                        at = _tell(f)
                        yield batch, (at - done if at is not None else 0)
                        done = at if at is not None else done
                except pa.ArrowInvalid as e:
                    raise InvalidArgument(f"cannot read CSV {path!r}: {e}") from e

    with progress_bar(total, "import", progress) as advance:
        return ingest(_counted(batches(), advance), dest, dest_creds, schema=schema,
                      message=message or "from_csv", piece_bytes=piece_bytes)


def _tell(f: Any) -> int | None:
    try:
        return int(f.tell())
    except (OSError, ValueError, AttributeError):
        return None


def _counted(batches: Iterator[tuple[Any, int]], advance: Callable[[int], None]) -> Iterator[Any]:
    for batch, size in batches:
        yield batch
        advance(size)

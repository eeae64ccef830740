"""Search indexes on dataset columns: nearest neighbours for ``Embedding``, BM25 for ``Text``.

``ds["emb"].create_index("embedding")`` builds an HNSW graph with usearch; ``ds["text"].create_index("bm25")``
builds a tantivy full-text index. SQL uses them by itself (:mod:`lakelet.datasets.search`).

Why these libraries: usearch is a maintained single-file HNSW with float16/int8 vectors and an index
file that can be memory-mapped as it is stored, so a cold process opens a 2M-row index in
milliseconds instead of loading it (hnswlib ships no wheels for Python 3.11 here and has no
mapping; faiss is a 30 MB wheel whose HNSW has no file view). tantivy is Lucene's design in Rust with
stemming tokenizers and Okapi BM25 scoring, and builds 200k documents in under a second.

**Versioned by the data they were built from.** An index is stored at
``indexes/<column id>/<fingerprint>.<kind>`` where the fingerprint is a digest of the column's files in
row order. A query looks for the fingerprint of the version it reads: an index built at one commit
answers for every version holding exactly those rows (a later commit that only added another
column), and never for one that differs (rows appended, deleted or edited, uncommitted changes),
where the query runs exact. The ``.json`` beside it is written last, so a half-built index is never
seen. Which commit built it is recorded there.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from .._optional import require
from .._progress import progress_bar
from ..errors import InvalidArgument, StorageKeyNotFound
from . import types as T
from .errors import DatasetError

if TYPE_CHECKING:
    from .dataset import Dataset

KINDS = ("embedding", "bm25")
#: the SQL function each metric of an embedding index answers, and the order that ranks best first
METRICS = {
    "cosine": ("cosine_similarity", "DESCENDING"),
    "l2": ("l2_distance", "ASCENDING"),
    "inner_product": ("inner_product", "DESCENDING"),
}
_USEARCH = {"cosine": ("cos", "f16"), "l2": ("l2sq", "f16"), "inner_product": ("ip", "f16")}
#: HNSW: 16 links per node, 128 candidates while building and searching. A search asks for at least
#: OVERSAMPLE * k (and MIN_CANDIDATES) neighbours, which SQL then ranks exactly. Measured on 2M clustered
#: 128-d vectors (benchmarks/bench_indexes.py): int8 vectors capped recall at 0.89 even with 1,000
#: candidates (clustered unit vectors differ below int8's step); float16 with these settings gives 0.99
#: in under a millisecond of graph search.
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 128
OVERSAMPLE, MIN_CANDIDATES = 30, 300
#: an index of fewer rows is searched exhaustively (SIMD over its float16 vectors: 1.3 ms at 50k x 128
#: here), so small datasets get the exact top k; HNSW misses a neighbour now and then even at 10%
#: candidates, as its graph is built in parallel.
BRUTE_FORCE_BELOW = 50_000
ROOT = "indexes"


@dataclass(frozen=True)
class IndexInfo:
    """One index of a dataset: ``ds.indexes`` / ``ds["col"].indexes``."""

    column: str
    kind: str
    metric: str | None
    built_by: str  # the commit it was built at
    rows: int  # rows indexed (rows with a null or zero vector are left out)
    size: int  # bytes stored
    created: float
    path: str
    current: bool  # answers for the handle's version

    @property
    def label(self) -> str:
        """For a person: ``embedding, cosine`` or ``bm25``, and whether it answers for this version."""
        kind = f"{self.kind}, {self.metric}" if self.metric else self.kind
        return kind if self.current else f"{kind} (built for other data: queries run exact)"

    def __repr__(self) -> str:
        metric = f", {self.metric}" if self.metric else ""
        state = "" if self.current else ", built for other data"
        return (
            f"IndexInfo({self.column!r}, {self.kind}{metric}, {self.rows:,} rows, commit {self.built_by[:12]}{state})"
        )


def fingerprint(ds: Dataset, column: str) -> str | None:
    """Digest of ``column``'s files in row order; None while the column has uncommitted data."""
    return digest_of(ds.schema[column].id, ds.checked_out.state.pieces)


def digest_of(column_id: str, pieces: Iterable[Any]) -> str | None:
    """The fingerprint of column ``column_id`` over ``pieces`` (of a manifest or a handle's state)."""
    parts = []
    for piece in pieces:
        source = piece.columns.get(column_id)
        if source is not None and not isinstance(source, str):
            return None
        parts.append([piece.rows, source])  # None: the column's default (added after these rows)
    return hashlib.sha256(json.dumps([column_id, parts]).encode()).hexdigest()[:32]


def index_stem(path: str) -> str | None:
    """``<column id>/<fingerprint>`` of a file under ``indexes/`` (an index or its ``.json``); None otherwise."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] != ROOT:
        return None
    return f"{parts[1]}/{parts[2].split('.', 1)[0]}"


def _path(ds: Dataset, column: str, kind: str, digest: str) -> str:
    return f"{ROOT}/{ds.schema[column].id}/{digest}.{kind}"


def _check(ds: Dataset, column: str, kind: str) -> None:
    if not isinstance(column, str) or column not in ds.schema:
        raise InvalidArgument(f"no column {column!r} in this dataset (columns: {', '.join(ds.schema.names)})")
    if kind not in KINDS:
        raise InvalidArgument(f"index kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    dtype = ds.schema[column].type
    if kind == "embedding" and (not isinstance(dtype, T.Embedding) or isinstance(dtype, T.Array)):
        raise InvalidArgument(f"an 'embedding' index needs an Embedding column; {column!r} is {dtype!r}")
    if kind == "bm25" and not isinstance(dtype, T.Text):
        raise InvalidArgument(f"a 'bm25' index needs a Text column; {column!r} is {dtype!r}")


def create(
    ds: Dataset, column: str, kind: str = "embedding", *, metric: str = "cosine", progress: bool | None = None
) -> IndexInfo:
    """Build the ``kind`` index of ``column`` for the handle's (committed) version and store it."""
    _check(ds, column, kind)
    if kind == "embedding" and metric not in METRICS:
        raise InvalidArgument(f"metric must be one of {', '.join(map(repr, METRICS))}, got {metric!r}")
    digest = fingerprint(ds, column)
    if digest is None:
        raise DatasetError(
            f"column {column!r} has uncommitted changes: commit them, then create the index "
            "(an index belongs to a committed version)"
        )
    path = _path(ds, column, kind, digest)
    started = time.time()
    if kind == "embedding":
        data, rows = _build_embedding(ds, column, metric, progress)
    else:
        data, rows = _build_bm25(ds, column, progress)
    meta = {
        "column": column,
        "kind": kind,
        "metric": metric if kind == "embedding" else None,
        "built_by": ds.version,
        "rows": rows,
        "size": len(data),
        "created": started,
        "library": _library(kind),
    }
    ds.checked_out.writer.set(path, data)
    ds.checked_out.writer.set(path + ".json", json.dumps(meta).encode())  # last: the index exists from here on
    ds.checked_out.search_indexes.pop(path, None)
    return _info(ds, path, meta)


def drop(ds: Dataset, column: str, kind: str | None = None) -> int:
    """Remove ``column``'s indexes (of ``kind``, or all) for every version; the number removed."""
    if kind is not None:
        _check(ds, column, kind)
    elif column not in ds.schema:
        raise InvalidArgument(f"no column {column!r} in this dataset")
    removed = 0
    for info in list_indexes(ds, column):
        if kind is None or info.kind == kind:
            ds.checked_out.writer.remove(info.path + ".json")  # first: from here on no query uses it
            try:
                ds.checked_out.writer.remove(info.path)
            except StorageKeyNotFound:
                pass  # a build that died between its two writes left only the json
            ds.checked_out.search_indexes.pop(info.path, None)
            removed += 1
    return removed


def list_indexes(ds: Dataset, column: str | None = None) -> list[IndexInfo]:
    """Every stored index (of ``column``), newest first; ``current`` ones answer for this version."""
    names = [column] if column is not None else list(ds.schema.names)
    out = []
    for name in names:
        if name not in ds.schema:
            raise InvalidArgument(f"no column {name!r} in this dataset")
        folder = f"{ROOT}/{ds.schema[name].id}"
        try:
            files = ds.checked_out.writer.list(folder)
        except (FileNotFoundError, StorageKeyNotFound):
            continue
        for file in files:
            if file.endswith(".json"):
                path = f"{folder}/{file.rsplit('/', 1)[-1][:-5]}"
                out.append(_info(ds, path, json.loads(ds.checked_out.writer.get(path + ".json"))))
    return sorted(out, key=lambda i: -i.created)


def labels_by_column(ds: Dataset) -> dict[str, list[str]]:
    """Each column's stored indexes as a person reads them (``IndexInfo.label``): the schema views
    of the widget and the sidebar."""
    out: dict[str, list[str]] = {}
    for info in list_indexes(ds):
        out.setdefault(info.column, []).append(info.label)
    return out


def _info(ds: Dataset, path: str, meta: dict[str, Any]) -> IndexInfo:
    column, kind = meta["column"], meta["kind"]
    current = column in ds.schema and path == _path(ds, column, kind, fingerprint(ds, column) or "-")
    return IndexInfo(
        column,
        kind,
        meta.get("metric"),
        meta["built_by"],
        int(meta["rows"]),
        int(meta["size"]),
        float(meta["created"]),
        path,
        current,
    )


def _library(kind: str) -> str:
    name = "usearch" if kind == "embedding" else "tantivy"
    module = require(name, extra="search", what=f"a {kind} index")
    return f"{name} {getattr(module, '__version__', '')}".strip()


def find(ds: Dataset, column: str, kind: str) -> Any | None:
    """The loaded index of ``kind`` answering for ``column`` at the handle's version, or None."""
    if column not in ds.schema:
        return None
    digest = fingerprint(ds, column)
    if digest is None:
        return None
    path = _path(ds, column, kind, digest)
    if path in ds.checked_out.search_indexes:
        return ds.checked_out.search_indexes[path]
    try:
        meta = json.loads(ds.checked_out.writer.get(path + ".json"))
    except (FileNotFoundError, StorageKeyNotFound):
        return None  # not built for this data (a miss is not cached: another process may build it)
    loaded = (_load_embedding if kind == "embedding" else _load_bm25)(ds, path, meta)
    ds.checked_out.search_indexes[path] = loaded
    return loaded


# ------------------------------------------------------------------ embedding (usearch)
@dataclass
class VectorIndex:
    index: Any
    metric: str
    size: int

    def candidates(self, vector: np.ndarray, k: int, count: int | None = None) -> np.ndarray | None:
        """Global row numbers of at least ``k`` near neighbours of ``vector`` (``count`` of them when
        given); None when the index holds fewer than ``k`` rows (exact search then ranks the rows it lacks)."""
        if self.size < k:
            return None
        query = np.asarray(vector, dtype=np.float32).reshape(-1)
        if self.metric == "cosine":
            norm = float(np.linalg.norm(query))
            if not np.isfinite(norm) or norm == 0:
                return None
            query = query / norm
        wanted = max(k * OVERSAMPLE, MIN_CANDIDATES) if count is None else max(count, k)
        found = self.index.search(query, min(self.size, wanted), exact=self.size < BRUTE_FORCE_BELOW)
        return np.asarray(found.keys, dtype=np.int64)


def _build_embedding(ds: Dataset, column: str, metric: str, progress: bool | None) -> tuple[bytes, int]:
    usearch = require("usearch.index", extra="search", what="an embedding index")
    dtype = ds.schema[column].type
    kind, quantization = _USEARCH[metric]
    index = usearch.Index(
        ndim=dtype.size, metric=kind, dtype=quantization, connectivity=CONNECTIVITY, expansion_add=EXPANSION_ADD
    )
    offset, rows = 0, 0
    state, cid = ds.checked_out.state, ds.schema[column].id
    with progress_bar(len(ds), f"index {column}", progress, unit="rows") as advance:
        for piece in state.pieces:
            rows += _add_vectors(index, state.chunk(ds.checked_out.loader, piece, cid), dtype.size, metric, offset)
            offset += piece.rows
            advance(piece.rows)
    with tempfile.TemporaryDirectory(prefix="lakelet-index-") as tmp:
        file = os.path.join(tmp, "index.usearch")
        index.save(file)
        return Path(file).read_bytes(), rows


def _add_vectors(index: Any, chunk: Any, size: int, metric: str, offset: int) -> int:
    """Add one piece's vectors (its rows numbered from ``offset``) to ``index``; how many were
    indexed (a null, zero or non-finite vector is left out)."""
    arr = chunk.combine_chunks() if isinstance(chunk, pa.ChunkedArray) else chunk
    valid = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if not valid.any():
        return 0
    flat = arr.filter(pa.array(valid)).flatten().to_numpy(zero_copy_only=False)
    vectors = np.asarray(flat, dtype=np.float32).reshape(-1, size)
    keys = offset + np.flatnonzero(valid)
    finite = np.isfinite(vectors).all(axis=1)
    if metric == "cosine":
        norms = np.linalg.norm(vectors, axis=1)
        finite &= norms > 0
        vectors = vectors / np.where(norms > 0, norms, 1)[:, None]
    if not finite.any():
        return 0
    index.add(keys[finite], np.ascontiguousarray(vectors[finite]), threads=os.cpu_count() or 1)
    return int(finite.sum())


def _load_embedding(ds: Dataset, path: str, meta: dict[str, Any]) -> VectorIndex:
    usearch = require("usearch.index", extra="search", what="an embedding index")
    local = ds.checked_out.writer.local_path(path)
    if local is not None:
        index = usearch.Index.restore(local, view=True)  # memory-mapped: no load time, shared page cache
    else:
        index = usearch.Index.restore(ds.checked_out.writer.get(path))
    index.expansion_search = EXPANSION_SEARCH  # a search setting, not stored with the graph
    return VectorIndex(index, meta["metric"], len(index))


# ------------------------------------------------------------------ bm25 (tantivy)
@dataclass
class TextIndex:
    index: Any
    size: int

    def scores(self, text: str, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, BM25 scores) of the best ``limit`` matches of ``text`` (all matches if None)."""
        words = "".join(c if c.isalnum() else " " for c in text).split()  # plain words, never query syntax
        if not words or self.size == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float64)
        query = self.index.parse_query(" ".join(words), ["text"])
        searcher = self.index.searcher()
        found = searcher.search(query, limit if limit is not None else self.size).hits
        rows = np.fromiter((searcher.doc(address)["row"][0] for _, address in found), np.int64, len(found))
        return rows, np.fromiter((score for score, _ in found), np.float64, len(found))


def _bm25_schema(tantivy: Any) -> Any:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    builder.add_unsigned_field("row", stored=True, indexed=False, fast=True)
    return builder.build()


def _build_bm25(ds: Dataset, column: str, progress: bool | None) -> tuple[bytes, int]:
    tantivy = require("tantivy", extra="search", what="a bm25 index")
    with progress_bar(len(ds), f"index {column}", progress, unit="rows") as advance, tempfile.TemporaryDirectory(
        prefix="lakelet-index-"
    ) as tmp:
        folder = os.path.join(tmp, "bm25")
        os.mkdir(folder)
        index = tantivy.Index(_bm25_schema(tantivy), path=folder)
        writer = index.writer(heap_size=128 << 20, num_threads=min(4, os.cpu_count() or 1))
        state, cid, offset, rows = ds.checked_out.state, ds.schema[column].id, 0, 0
        for piece in state.pieces:
            for i, value in enumerate(state.chunk(ds.checked_out.loader, piece, cid).to_pylist()):
                if value:
                    doc = tantivy.Document()
                    doc.add_text("text", value)
                    doc.add_unsigned("row", offset + i)
                    writer.add_document(doc)
                    rows += 1
            offset += piece.rows
            advance(piece.rows)
        writer.commit()
        writer.wait_merging_threads()
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name in sorted(os.listdir(folder)):
                if not name.endswith(".lock"):
                    tar.add(os.path.join(folder, name), arcname=name)
        return buffer.getvalue(), rows


def _load_bm25(ds: Dataset, path: str, meta: dict[str, Any]) -> TextIndex:
    """tantivy reads a folder: the stored archive is unpacked once per machine below the config home
    (named by the index's own digest, so it is never confused with another) and opened from there."""
    tantivy = require("tantivy", extra="search", what="a bm25 index")
    from ..config import get_config

    data = ds.checked_out.writer.get(path)
    folder = get_config().home / "cache" / "bm25" / hashlib.sha256(data).hexdigest()[:32]
    if not folder.is_dir():
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}"
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(staging, filter="data")
        try:
            os.rename(staging, folder)  # atomic: another process sees all of it or none
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)  # another process won the race with the same bytes
            if not folder.is_dir():
                raise
    index = tantivy.Index.open(str(folder))
    index.reload()
    return TextIndex(index, int(meta["rows"]))

"""Where a dataset's files are, and how a new one is laid down.

Below :mod:`.dataset` and :mod:`.sql`, so both the module-level functions
(:mod:`.api`) and a query result's ``save`` can create datasets without
importing the layers above them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgument, StorageKeyNotFound
from . import manifest as M
from . import refs
from .errors import DatasetError, DatasetExists, DatasetNotFound, NestedDataset
from .schema import Schema
from .storage_io import Writer, parse_url, translated

SETTINGS = "dataset.json"
Url = str | os.PathLike[str]


def _writer(url: Url, creds: Mapping[str, Any] | None) -> Writer:
    if creds is not None and not isinstance(creds, Mapping):
        raise InvalidArgument(f"creds must be a dict, got {type(creds).__name__}")
    return Writer(parse_url(url, creds))


def _settings(writer: Writer) -> dict[str, Any]:
    try:
        return json.loads(writer.get(SETTINGS))
    except StorageKeyNotFound as e:
        raise DatasetNotFound(writer.original_path) from e


def _enclosing_dataset(writer: Writer) -> str | None:
    """The folder of a dataset that ``writer``'s root lies inside, if any (one ``exists`` per level)."""
    parts = writer.path.rstrip("/").split("/")
    for i in range(len(parts) - 1, 0, -1):
        parent = "/".join(parts[:i])
        if parent and _exists(writer, parent + "/" + SETTINGS):
            return parent
    return None


def _exists(writer: Writer, full: str) -> bool:
    with translated(full, writer.kind):
        return bool(writer.fs.exists(full))


def _inner_datasets(writer: Writer) -> list[str]:
    """Folders of datasets stored below ``writer``'s root (relative to it)."""
    suffix = "/" + SETTINGS
    return [m.path[: -len(suffix)] for m in writer.walk("") if m.path.endswith(suffix)]


def _refuse_nesting(writer: Writer) -> None:
    """Refuse a new dataset inside another's folder or around one: the outer's ``gc()`` sweeps
    ``data/``, ``versions/`` and ``media/``, and its ``delete()`` everything below it."""
    outer = _enclosing_dataset(writer)
    if outer is not None:
        raise NestedDataset(
            f"cannot create a dataset at {writer.original_path!r}: it is inside the dataset at {outer!r}, "
            "whose gc() or delete() would remove its files; choose a folder outside it"
        )
    inner = _inner_datasets(writer)
    if inner:
        raise NestedDataset(
            f"cannot create a dataset at {writer.original_path!r}: its folder would hold the dataset(s) at "
            + ", ".join(repr(p) for p in inner[:5])
            + "; choose a folder that holds no dataset"
        )


def initialize(writer: Writer, schema: Schema) -> dict[str, Any]:
    """Lay down an empty dataset with ``schema`` at ``writer`` (branch ``main``); return its settings."""
    if writer.exists(SETTINGS):
        raise DatasetExists(writer.original_path)
    _refuse_nesting(writer)
    initial = M.Manifest.build([], "created", schema, [])
    M.store(writer, initial)
    try:
        refs.create_branch(writer, "main", initial.id)
    except DatasetError as e:  # another creator won the race for the first head record
        raise DatasetExists(writer.original_path) from e
    settings = {
        "format": "lakelet.dataset",
        "version": M.FORMAT,
        "default_branch": "main",
        "compression": None if writer.kind in ("local", "memory") else "zstd",
        "created": time.time(),
    }
    writer.set(SETTINGS, json.dumps(settings).encode())
    return settings

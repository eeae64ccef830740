"""Commits: immutable JSON manifests naming a version's schema and pieces.

A manifest is written once under ``versions/<id>.json`` (create-only) and never
changed. Its id is derived from its content, so writing the same manifest twice
is harmless. Readers only ever reach a manifest through a branch head or a tag,
and heads move only after the manifest and every file it names are stored, so a
writer killed mid-commit leaves nothing reachable that is incomplete.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import StorageKeyNotFound
from .errors import DatasetError, VersionNotFound
from .fragments import Piece
from .schema import Schema
from .storage_io import Reader, Writer

FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    """One commit."""

    id: str
    parents: tuple[str, ...]
    message: str
    timestamp: float
    schema: Schema
    pieces: tuple[Piece, ...]
    rows: int
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "parents": list(self.parents),
            "message": self.message,
            "timestamp": self.timestamp,
            "schema": self.schema.to_json(),
            "pieces": [p.to_json() for p in self.pieces],
            "rows": self.rows,
            "extra": self.extra,
        }

    @classmethod
    def build(
        cls,
        parents: list[str],
        message: str,
        schema: Schema,
        pieces: list[Piece] | tuple[Piece, ...],
        extra: dict[str, Any] | None = None,
    ) -> Manifest:
        draft = cls("", tuple(parents), message, time.time(), schema, tuple(pieces), sum(p.rows for p in pieces),
                    dict(extra or {}))
        digest = hashlib.sha256(json.dumps(draft.body(), sort_keys=True).encode()).hexdigest()[:20]
        return cls(digest, draft.parents, message, draft.timestamp, schema, draft.pieces, draft.rows, draft.extra)

    @classmethod
    def from_json(cls, manifest_id: str, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise DatasetError(f"manifest {manifest_id} has format {data.get('format')!r}; this lakelet reads {FORMAT}")
        return cls(
            manifest_id,
            tuple(data["parents"]),
            data["message"],
            float(data["timestamp"]),
            Schema.from_json(data["schema"]),
            tuple(Piece.from_json(p) for p in data["pieces"]),
            int(data["rows"]),
            dict(data.get("extra") or {}),
        )


def store(writer: Writer, manifest: Manifest) -> None:
    """Publish ``manifest`` (create-only; an identical existing one is fine)."""
    data = json.dumps(manifest.body(), sort_keys=True).encode()
    writer.create(f"versions/{manifest.id}.json", data)


def load(reader: Reader, manifest_id: str) -> Manifest:
    """Read a manifest by id; :class:`VersionNotFound` if there is none."""
    if not manifest_id or not all(c in "0123456789abcdef" for c in manifest_id):
        raise VersionNotFound(f"no version {manifest_id!r}")
    try:
        data = json.loads(reader.get(f"versions/{manifest_id}.json"))
    except StorageKeyNotFound as e:
        raise VersionNotFound(f"no version {manifest_id!r}") from e
    return Manifest.from_json(manifest_id, data)


def find_by_prefix(reader: Reader, prefix: str) -> str | None:
    """The full id of the only version starting with ``prefix`` (for short ids), else None."""
    matches = [n[:-5] for n in reader.list("versions") if n.startswith(prefix) and n.endswith(".json")]
    return matches[0] if len(matches) == 1 else None

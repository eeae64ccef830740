"""The catalog of an environment: which named objects exist, and their creation records."""

from __future__ import annotations

import dataclasses
import getpass
import json
import socket
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol

from ._redis import connect, redis_errors
from ._sqlite import SqliteFile
from .env import Environment


@dataclasses.dataclass(frozen=True)
class ObjectInfo:
    """What ``X.info()`` returns (Modal's ``DictInfo``/``QueueInfo``/``VolumeInfo``)."""

    name: str
    created_at: datetime
    created_by: str | None
    environment_name: str
    kind: str


@dataclasses.dataclass(frozen=True)
class ObjectRecord:
    """A named object as the catalog stores it. ``id`` names its data, so a re-created
    object of the same name never sees the data of a deleted one."""

    kind: str
    name: str
    id: str
    created_at: float
    created_by: str | None
    ephemeral: bool = False
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def new(cls, kind: str, name: str, *, ephemeral: bool = False, options: dict[str, Any] | None = None):
        return cls(kind, name, uuid.uuid4().hex, time.time(), _who(), ephemeral, dict(options or {}))

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str | bytes) -> ObjectRecord:
        return cls(**json.loads(text))

    def info(self, environment: str) -> ObjectInfo:
        created = datetime.fromtimestamp(self.created_at, tz=UTC)
        return ObjectInfo(self.name, created, self.created_by, environment, self.kind)


def _who() -> str | None:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no passwd entry for the uid (containers)
        return None


class Catalog(Protocol):
    def create(self, record: ObjectRecord) -> bool:
        """Add ``record`` unless its kind and name exist; True if added (atomic across processes)."""

    def get(self, kind: str, name: str) -> ObjectRecord | None: ...

    def list(self, kind: str) -> list[ObjectRecord]: ...

    def remove(self, kind: str, name: str) -> ObjectRecord | None:
        """Drop the entry; the removed record, or None if there was none."""


class SqliteCatalog:
    """``<root>/catalog.sqlite``."""

    def __init__(self, env: Environment) -> None:
        self.db = SqliteFile(
            env.root / "catalog.sqlite",
            "CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, name TEXT NOT NULL, "
            "record TEXT NOT NULL, PRIMARY KEY (kind, name)) WITHOUT ROWID",
        )

    def create(self, record: ObjectRecord) -> bool:
        cur = self.db.conn.execute(
            "INSERT OR IGNORE INTO objects VALUES (?, ?, ?)", (record.kind, record.name, record.dumps())
        )
        return cur.rowcount == 1

    def get(self, kind: str, name: str) -> ObjectRecord | None:
        row = self.db.conn.execute("SELECT record FROM objects WHERE kind=? AND name=?", (kind, name)).fetchone()
        return None if row is None else ObjectRecord.loads(row[0])

    def list(self, kind: str) -> list[ObjectRecord]:
        rows = self.db.conn.execute("SELECT record FROM objects WHERE kind=? ORDER BY name", (kind,))
        return [ObjectRecord.loads(r[0]) for r in rows]

    def remove(self, kind: str, name: str) -> ObjectRecord | None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT record FROM objects WHERE kind=? AND name=?", (kind, name)).fetchone()
            conn.execute("DELETE FROM objects WHERE kind=? AND name=?", (kind, name))
        return None if row is None else ObjectRecord.loads(row[0])


_REMOVE = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then redis.call('HDEL', KEYS[1], ARGV[1]) end
return v
"""


class RedisCatalog:
    """One hash per kind: ``lakelet:<env>:objects:<kind>`` name -> JSON record."""

    def __init__(self, env: Environment) -> None:
        self.url = env.redis_url
        self.client = connect(env.redis_url)  # type: ignore[arg-type]
        self.prefix = env.redis_prefix + "objects:"
        self._remove = self.client.register_script(_REMOVE)

    @redis_errors
    def create(self, record: ObjectRecord) -> bool:
        return bool(self.client.hsetnx(self.prefix + record.kind, record.name, record.dumps()))

    @redis_errors
    def get(self, kind: str, name: str) -> ObjectRecord | None:
        raw = self.client.hget(self.prefix + kind, name)
        return None if raw is None else ObjectRecord.loads(raw)

    @redis_errors
    def list(self, kind: str) -> list[ObjectRecord]:
        raw = self.client.hgetall(self.prefix + kind)
        return sorted((ObjectRecord.loads(v) for v in raw.values()), key=lambda r: r.name)

    @redis_errors
    def remove(self, kind: str, name: str) -> ObjectRecord | None:
        raw = self._remove(keys=[self.prefix + kind], args=[name])
        return None if raw is None else ObjectRecord.loads(raw)


def open_catalog(env: Environment) -> Catalog:
    return RedisCatalog(env) if env.shared else SqliteCatalog(env)


__all__ = ["Catalog", "ObjectInfo", "ObjectRecord", "RedisCatalog", "SqliteCatalog", "open_catalog"]

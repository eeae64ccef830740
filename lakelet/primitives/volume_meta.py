"""A volume's committed manifest (path -> :class:`Stored`) with versioned, checked commits.

Every commit bumps the version and logs the paths it touched. A commit made
from base version *b* fails with :class:`ConflictError` when a commit after *b*
touched one of its paths; commits touching other paths merge. The whole check
and apply is one SQLite transaction or one Redis Lua script, so it is atomic
across processes and machines (compare-and-swap on the manifest version).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from ._redis import connect, redis_errors
from ._sqlite import SqliteFile
from .entries import Stored
from .env import Environment
from .errors import AlreadyExistsError, ConflictError, FileDirectoryConflict

Changes = Mapping[str, Stored | None]  # None deletes the path


class VolumeMeta(Protocol):
    def head(self) -> int: ...
    def snapshot(self) -> tuple[int, dict[str, Stored]]: ...
    def get(self, path: str) -> Stored | None: ...
    def list_prefix(self, prefix: str) -> dict[str, Stored]:
        """Entries at or below folder ``prefix`` ('' lists everything)."""

    def changes_since(self, version: int) -> tuple[int, dict[str, Stored | None]]: ...
    def commit(self, base: int | None, changes: Changes, create_only: frozenset[str] = frozenset()) -> int:
        """Apply ``changes`` atomically; returns the new version.

        ``base`` None skips the history check (a blind write). Paths in
        ``create_only`` must not exist (else :class:`AlreadyExistsError`).
        """


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _below_a_file(path: str, file: str) -> FileDirectoryConflict:
    return FileDirectoryConflict(
        f"cannot store {path!r}: {file!r} is a file in this volume, so it cannot also be a folder "
        "(remove it in the same commit to replace it by a folder)"
    )


def _is_a_folder(path: str) -> FileDirectoryConflict:
    return FileDirectoryConflict(
        f"cannot store the file {path!r}: {path!r} is a folder in this volume "
        "(remove it recursively in the same commit to replace it by a file)"
    )


def _conflict(paths: list[str]) -> ConflictError:
    return ConflictError(
        "another commit changed the same paths since this copy was loaded; reload and retry", paths=paths
    )


# ----------------------------------------------------------------------------- SQLite
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (path TEXT PRIMARY KEY, stored TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log (
  version INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY (path, version)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_version ON log (version);
CREATE TABLE IF NOT EXISTS head (one INTEGER PRIMARY KEY CHECK (one = 0), version INTEGER NOT NULL);
INSERT OR IGNORE INTO head VALUES (0, 0)
"""


def sqlite_path(env: Environment, object_id: str) -> Path:
    return env.root / "volumes" / f"{object_id}.sqlite"


class SqliteVolumeMeta:
    def __init__(self, path: Path) -> None:
        self.db = SqliteFile(path, _SCHEMA)

    def head(self) -> int:
        return self.db.conn.execute("SELECT version FROM head").fetchone()[0]

    def snapshot(self) -> tuple[int, dict[str, Stored]]:
        with self.db.transaction() as conn:  # one consistent view
            version = conn.execute("SELECT version FROM head").fetchone()[0]
            rows = conn.execute("SELECT path, stored FROM entries").fetchall()
        return version, {p: Stored.loads(s) for p, s in rows}

    def get(self, path: str) -> Stored | None:
        row = self.db.conn.execute("SELECT stored FROM entries WHERE path=?", (path,)).fetchone()
        return None if row is None else Stored.loads(row[0])

    def list_prefix(self, prefix: str) -> dict[str, Stored]:
        if not prefix:
            rows = self.db.conn.execute("SELECT path, stored FROM entries")
        else:
            # '0' sorts right after '/', so [prefix/, prefix0) is exactly the subtree
            rows = self.db.conn.execute(
                "SELECT path, stored FROM entries WHERE path=? OR (path >= ? AND path < ?)",
                (prefix, prefix + "/", prefix + "0"),
            )
        return {p: Stored.loads(s) for p, s in rows}

    def changes_since(self, version: int) -> tuple[int, dict[str, Stored | None]]:
        with self.db.transaction() as conn:
            head = conn.execute("SELECT version FROM head").fetchone()[0]
            rows = conn.execute(
                "SELECT DISTINCT l.path, e.stored FROM log l LEFT JOIN entries e ON e.path = l.path "
                "WHERE l.version > ?",
                (version,),
            ).fetchall()
        return head, {p: None if s is None else Stored.loads(s) for p, s in rows}

    def commit(self, base: int | None, changes: Changes, create_only: frozenset[str] = frozenset()) -> int:
        paths = json.dumps(list(changes))
        with self.db.transaction() as conn:
            head = conn.execute("SELECT version FROM head").fetchone()[0]
            if create_only:
                taken = conn.execute(
                    "SELECT path FROM entries WHERE path IN (SELECT value FROM json_each(?))",
                    (json.dumps(sorted(create_only)),),
                ).fetchall()
                if taken:
                    raise AlreadyExistsError(
                        f"{len(taken)} path(s) exist already (pass force=True to overwrite): "
                        + ", ".join(repr(p) for (p,) in taken[:10])
                    )
            if base is not None and base < head:
                clash = conn.execute(
                    "SELECT DISTINCT path FROM log WHERE version > ? AND path IN (SELECT value FROM json_each(?))",
                    (base, paths),
                ).fetchall()
                if clash:
                    raise _conflict([p for (p,) in clash])
            version = head + 1
            conn.executemany(
                "INSERT INTO entries VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET stored=excluded.stored",
                [(p, s.dumps()) for p, s in changes.items() if s is not None],
            )
            conn.executemany("DELETE FROM entries WHERE path=?", [(p,) for p, s in changes.items() if s is None])
            conn.executemany("INSERT INTO log VALUES (?, ?)", [(version, p) for p in changes])
            conn.execute("UPDATE head SET version=?", (version,))
            _check_file_or_folder(conn, [p for p, s in changes.items() if s is not None])  # raising rolls back
        return version

    def close(self) -> None:
        self.db.close()


def _check_file_or_folder(conn, stored: list[str]) -> None:  # type: ignore[no-untyped-def]
    """After a commit's changes are applied (inside its transaction): no stored path may lie below
    another file, nor hold files below itself."""
    if not stored:
        return
    folders = sorted({a for p in stored for a in _ancestors(p)})
    row = conn.execute(
        "SELECT path FROM entries WHERE path IN (SELECT value FROM json_each(?)) LIMIT 1", (json.dumps(folders),)
    ).fetchone()
    if row is not None:
        path = next(p for p in stored if p.startswith(row[0] + "/"))
        raise _below_a_file(path, row[0])
    row = conn.execute(
        "SELECT c.value FROM json_each(?) c WHERE EXISTS "
        "(SELECT 1 FROM entries e WHERE e.path >= c.value || '/' AND e.path < c.value || '0') LIMIT 1",
        (json.dumps(stored),),
    ).fetchone()
    if row is not None:
        raise _is_a_folder(row[0])


# ----------------------------------------------------------------------------- Redis
_COMMIT = """
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
local n_create = tonumber(ARGV[3])
local first = 4 + n_create
local taken = {}
for i = 4, first - 1 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then taken[#taken + 1] = ARGV[i] end
end
if #taken > 0 then return {-2, unpack(taken)} end
if ARGV[1] ~= '' and tonumber(ARGV[1]) < head then
  local clash, seen = {}, {}
  for v = tonumber(ARGV[1]) + 1, head do
    local log = ARGV[2] .. v
    for i = first, #ARGV, 2 do
      local p = ARGV[i]
      if not seen[p] and redis.call('SISMEMBER', log, p) == 1 then
        seen[p] = true
        clash[#clash + 1] = p
      end
    end
  end
  if #clash > 0 then return {-1, unpack(clash)} end
end
-- a path is never both a file and a folder: KEYS[3] counts the files below each folder
-- (built once from the entries when missing; the field '' marks it built)
local function ancestors(p)
  local out, pos = {}, 0
  while true do
    local j = string.find(p, '/', pos + 1, true)
    if not j then return out end
    out[#out + 1] = string.sub(p, 1, j - 1)
    pos = j
  end
end
if redis.call('HEXISTS', KEYS[3], '') == 0 then
  for _, p in ipairs(redis.call('HKEYS', KEYS[1])) do
    for _, a in ipairs(ancestors(p)) do redis.call('HINCRBY', KEYS[3], a, 1) end
  end
  redis.call('HSET', KEYS[3], '', 1)
end
local sets, dels, existed, gone_below = {}, {}, {}, {}
for i = first, #ARGV, 2 do
  local p = ARGV[i]
  existed[p] = redis.call('HEXISTS', KEYS[1], p) == 1
  if ARGV[i + 1] == '' then
    dels[p] = true
    if existed[p] then
      for _, a in ipairs(ancestors(p)) do gone_below[a] = (gone_below[a] or 0) + 1 end
    end
  else
    sets[p] = true
  end
end
for i = first, #ARGV, 2 do
  local p = ARGV[i]
  if sets[p] then
    for _, a in ipairs(ancestors(p)) do
      if sets[a] or (not dels[a] and redis.call('HEXISTS', KEYS[1], a) == 1) then return {-3, a, p} end
    end
    if tonumber(redis.call('HGET', KEYS[3], p) or '0') - (gone_below[p] or 0) > 0 then return {-4, p} end
  end
end
local version = head + 1
local log = ARGV[2] .. version
for i = first, #ARGV, 2 do
  local p = ARGV[i]
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], p)
    if existed[p] then
      for _, a in ipairs(ancestors(p)) do
        if redis.call('HINCRBY', KEYS[3], a, -1) <= 0 then redis.call('HDEL', KEYS[3], a) end
      end
    end
  else
    redis.call('HSET', KEYS[1], p, ARGV[i + 1])
    if not existed[p] then
      for _, a in ipairs(ancestors(p)) do redis.call('HINCRBY', KEYS[3], a, 1) end
    end
  end
  redis.call('SADD', log, p)
end
redis.call('SET', KEYS[2], version)
return {version}
"""
_CHANGES = """
local head = tonumber(redis.call('GET', KEYS[2]) or '0')
local out = {head}
local seen = {}
for v = tonumber(ARGV[2]) + 1, head do
  for _, p in ipairs(redis.call('SMEMBERS', ARGV[1] .. v)) do
    if not seen[p] then
      seen[p] = true
      out[#out + 1] = p
      out[#out + 1] = redis.call('HGET', KEYS[1], p) or ''
    end
  end
end
return out
"""


def _escape_glob(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def redis_base(env: Environment, object_id: str) -> str:
    return f"{env.redis_prefix}vol:{{{object_id}}}"


class RedisVolumeMeta:
    """Hash ``...vol:{id}:entries``, counter ``...:head`` and one set of paths per version ``...:log:<v>``."""

    def __init__(self, env: Environment, object_id: str) -> None:
        self.url = env.redis_url
        self.client = connect(env.redis_url)  # type: ignore[arg-type]
        base = redis_base(env, object_id)
        self.entries_key, self.head_key, self.log_prefix = base + ":entries", base + ":head", base + ":log:"
        self.folders_key = base + ":folders"  # folder -> number of files below it (see _COMMIT)
        self._commit = self.client.register_script(_COMMIT)
        self._changes = self.client.register_script(_CHANGES)

    @redis_errors
    def head(self) -> int:
        return int(self.client.get(self.head_key) or 0)

    @redis_errors
    def snapshot(self) -> tuple[int, dict[str, Stored]]:
        with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.head_key)
            pipe.hgetall(self.entries_key)
            head, raw = pipe.execute()
        return int(head or 0), {p.decode(): Stored.loads(s) for p, s in raw.items()}

    @redis_errors
    def get(self, path: str) -> Stored | None:
        raw = self.client.hget(self.entries_key, path)
        return None if raw is None else Stored.loads(raw)

    @redis_errors
    def list_prefix(self, prefix: str) -> dict[str, Stored]:
        if not prefix:
            return self.snapshot()[1]
        out = {}
        for p, s in self.client.hscan_iter(self.entries_key, match=_escape_glob(prefix) + "/*", count=1000):
            out[p.decode()] = Stored.loads(s)
        own = self.client.hget(self.entries_key, prefix)
        if own is not None:
            out[prefix] = Stored.loads(own)
        return out

    @redis_errors
    def changes_since(self, version: int) -> tuple[int, dict[str, Stored | None]]:
        out = self._changes(keys=[self.entries_key, self.head_key], args=[self.log_prefix, version])
        changes = {out[i].decode(): (Stored.loads(out[i + 1]) if out[i + 1] else None) for i in range(1, len(out), 2)}
        return int(out[0]), changes

    @redis_errors
    def commit(self, base: int | None, changes: Changes, create_only: frozenset[str] = frozenset()) -> int:
        args: list[str | int] = ["" if base is None else base, self.log_prefix, len(create_only), *sorted(create_only)]
        for path, stored in changes.items():
            args += [path, "" if stored is None else stored.dumps()]
        out = self._commit(keys=[self.entries_key, self.head_key, self.folders_key], args=args)
        if out[0] == -3:
            raise _below_a_file(out[2].decode(), out[1].decode())
        if out[0] == -4:
            raise _is_a_folder(out[1].decode())
        if out[0] == -2:
            paths = [p.decode() for p in out[1:]]
            raise AlreadyExistsError(
                f"{len(paths)} path(s) exist already (pass force=True to overwrite): "
                + ", ".join(repr(p) for p in paths[:10])
            )
        if out[0] == -1:
            raise _conflict([p.decode() for p in out[1:]])
        return int(out[0])

    @redis_errors
    def destroy(self) -> None:
        head = self.head()
        keys = [self.entries_key, self.head_key, self.folders_key] + [
            f"{self.log_prefix}{v}" for v in range(1, head + 1)
        ]
        for start in range(0, len(keys), 1000):
            self.client.delete(*keys[start : start + 1000])

    def close(self) -> None:
        self.client.close()


def open_volume_meta(env: Environment, object_id: str) -> SqliteVolumeMeta | RedisVolumeMeta:
    if env.shared:
        return RedisVolumeMeta(env, object_id)
    return SqliteVolumeMeta(sqlite_path(env, object_id))


def destroy_volume_meta(env: Environment, object_id: str) -> None:
    if env.shared:
        meta = RedisVolumeMeta(env, object_id)
        try:
            meta.destroy()
        finally:
            meta.close()
        return
    path = sqlite_path(env, object_id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


__all__ = ["RedisVolumeMeta", "SqliteVolumeMeta", "VolumeMeta", "destroy_volume_meta", "open_volume_meta"]

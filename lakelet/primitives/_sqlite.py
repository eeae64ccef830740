"""SQLite files shared by threads and processes: WAL, one connection per thread and process."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import StorageAccessDenied, StorageError, StorageFull, StorageInternalError

BUSY_TIMEOUT_MS = 60_000


class SqliteFile:
    """A SQLite database in WAL mode, safe to use from many threads and processes.

    Statements run in autocommit mode; :meth:`transaction` takes the write lock
    up front (``BEGIN IMMEDIATE``), so read-modify-write sequences are atomic
    across processes. ``synchronous=NORMAL``: a committed transaction survives
    a crash of the process (not necessarily a power loss).
    """

    def __init__(self, path: Path, schema: str) -> None:
        self.path = Path(path)
        self._schema = schema
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.transaction() as conn:
            _run_script(conn, schema)

    @property
    def conn(self) -> Connection:
        """This thread's connection (reopened after a fork)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = Connection(_connect(self.path), self.path)
            local.conn, local.pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error, or when the COMMIT fails)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback_quietly()
            raise
        try:
            conn.execute("COMMIT")
        except StorageError:  # e.g. a full disk at commit: leave no transaction open
            conn.rollback_quietly()
            raise

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()


class Connection:
    """A sqlite3 connection whose errors are lakelet storage errors naming the file
    (a full disk is :class:`StorageFull`, a read-only one :class:`StorageAccessDenied`)."""

    __slots__ = ("_conn", "path")

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn, self.path = conn, path

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as e:
            raise translate(e, self.path) from e

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        try:
            return self._conn.executemany(sql, rows)
        except sqlite3.Error as e:
            raise translate(e, self.path) from e

    def rollback_quietly(self) -> None:
        """End the open transaction, if any (after an error, there may be none left)."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def close(self) -> None:
        self._conn.close()

    def __getattr__(self, name: str) -> Any:  # the rest of sqlite3.Connection (tracing, in_transaction...)
        return getattr(self._conn, name)


def translate(error: sqlite3.Error, path: Path) -> StorageError:
    """The lakelet error for a SQLite error on the database ``path``."""
    code = getattr(error, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return StorageFull(f"the disk holding {path} is full ({error}); free some space and retry")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return StorageAccessDenied(f"cannot write {path}: {error}")
    return StorageInternalError(f"SQLite error on {path}: {type(error).__name__}: {error}")


def _run_script(conn: Connection, script: str) -> None:
    # executescript would COMMIT our BEGIN IMMEDIATE; run statement by statement instead
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StorageInternalError(f"cannot put {path} in WAL mode (got {mode}); is it on a network drive?")
        conn.execute("PRAGMA synchronous=NORMAL")
    except sqlite3.Error as e:
        raise StorageInternalError(f"cannot open SQLite database {path}: {e}") from e
    return conn


__all__ = ["Connection", "SqliteFile", "translate"]

"""SQLite files shared by threads and processes: WAL, one connection per thread and process."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from ..errors import StorageInternalError

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
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (reopened after a fork)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():
            conn = _connect(self.path)
            local.conn, local.pid = conn, os.getpid()
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        committed = False
        try:
            yield conn
            committed = True
        finally:
            conn.execute("COMMIT" if committed else "ROLLBACK")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()


def _run_script(conn: sqlite3.Connection, script: str) -> None:
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


__all__ = ["SqliteFile"]

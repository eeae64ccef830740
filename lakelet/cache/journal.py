"""A local, append-only record of the entries each cached function or cell used.

Storage keys are content hashes, so a storage cannot answer "which entries belong
to ``train``?". The journal can, for everything this machine wrote or read: it
is what ``cache_info``, ``cache_clear``, ``why`` and ``%lake_cache ls`` consult.
One JSON-lines file per name under ``$LAKELET_HOME/cache/journal/``; small
appends are atomic on local filesystems, and the file is compacted when it grows.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_MAX_BYTES = 512 * 1024
_KEEP = 200
_HIT_PREFIX = 16  # hex digits of an entry address kept per counted hit


@dataclass(frozen=True)
class Record:
    """One use of an entry."""

    name: str
    kind: str
    address: str
    event: str  # "store" or "hit"
    time: float
    size: int
    duration: float
    components: dict[str, str]
    extra: dict[str, Any]


class Journal:
    """The journal folder (``root``); one file per cached name."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _file(self, kind: str, name: str) -> Path:
        digest = hashlib.sha256(f"{kind}\x00{name}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.root / f"{kind}-{digest}.jsonl"

    def add(self, record: Record) -> None:
        """Append a record (compacting the file when it is large)."""
        path = self._file(record.kind, record.name)
        line = json.dumps(record.__dict__, separators=(",", ":"), sort_keys=True) + "\n"
        if self._append(path, line.encode()) > _MAX_BYTES:
            self._compact(path)

    def _append(self, path: Path, line: bytes) -> int:
        """Append one line with a single O_APPEND write (whole lines from concurrent processes
        never interleave); the file's size after it."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        try:
            fd = os.open(path, flags, 0o644)
        except FileNotFoundError:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, flags, 0o644)
        try:
            os.write(fd, line)
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def records(self, kind: str, name: str) -> list[Record]:
        """Every record of ``name``, oldest first."""
        return list(_read(self._file(kind, name)))

    def names(self, kind: str) -> list[str]:
        """Every name of ``kind`` that has records."""
        found: dict[str, None] = {}
        if self.root.is_dir():
            for path in sorted(self.root.glob(f"{kind}-*.jsonl")):
                for record in _read(path):
                    found[record.name] = None
                    break
        return list(found)

    def forget(self, kind: str, name: str) -> None:
        """Drop every record of ``name``."""
        self._file(kind, name).unlink(missing_ok=True)
        self._file(kind, name).with_suffix(".hits").unlink(missing_ok=True)

    def add_hit(self, kind: str, name: str, address: str, n: int = 1) -> None:
        """Count ``n`` cache hits on the entry ``address`` of ``name``.

        Hits go to a separate ``.hits`` file (one short line each, compacted to counts),
        so frequent hits never push the ``store`` records that attribute values out of
        the journal. Counts are best effort: a hit appended while another process
        compacts the file may be lost.
        """
        path = self._file(kind, name).with_suffix(".hits")
        line = f"{address[:_HIT_PREFIX]} {int(n)}\n".encode()
        if self._append(path, line) > _MAX_BYTES:
            counts = self.hits(kind, name)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
            tmp.write_text("".join(f"{a} {n}\n" for a, n in counts.items()))
            os.replace(tmp, path)

    def hits(self, kind: str, name: str) -> dict[str, int]:
        """Hits per entry of ``name``, keyed by the first 16 hex digits of the entry's address."""
        counts: dict[str, int] = {}
        try:
            text = self._file(kind, name).with_suffix(".hits").read_text()
        except FileNotFoundError:
            return counts
        for line in text.splitlines():
            prefix, _, number = line.partition(" ")
            if len(prefix) == _HIT_PREFIX and number.isdigit():
                counts[prefix] = counts.get(prefix, 0) + int(number)
        return counts

    def _compact(self, path: Path) -> None:
        records = list(_read(path))[-_KEEP:]
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}")
        tmp.write_text("".join(json.dumps(r.__dict__, sort_keys=True) + "\n" for r in records))
        os.replace(tmp, path)


def _read(path: Path) -> Iterator[Record]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return
    for line in text.splitlines():
        try:
            yield Record(**json.loads(line))
        except (ValueError, TypeError):
            continue  # a torn line from a crashed writer: skip it, the next use rewrites history


__all__ = ["Journal", "Record"]

"""The engine behind ``%%lake_cache``: run a cell once, restore its effects afterwards.

The key of a cell is its normalized AST, the digests of the namespace values it
reads (notebook functions by their code fingerprint, transitively) and a format
version. A miss runs the cell, teeing its stdout, stderr and rich display
output, then stores every name it writes. A hit re-executes only the cell's
``def``/``class``/``import`` statements (so functions keep their live globals
and source), restores the stored names, replays the outputs and returns the
cell's last value. This module needs a shell object with ``user_ns``,
``compile`` and ``display_pub`` (IPython's InteractiveShell) but never imports
IPython itself.

Storing a big result would delay the user by the time it takes to hash and
write it, so a miss only *snapshots* the values (serializes them into memory:
about one memory copy) and hands the I/O to the process's background writer
(:mod:`lakelet.cache.persist`). The entry lock stays held until the entry is
published, a lookup of the same entry waits for its write, and small entries
(under :data:`BACKGROUND_MIN` bytes) are written at once.
"""

from __future__ import annotations

import ast
import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidName, StorageError
from . import persist
from .arguments import VERSION
from .backend import CacheStore, StorageLike
from .cell_ast import CellCode, analyze
from .codecs import Prepared
from .errors import UnhashableValue, UnstorableValue
from .explain import Explanation, explain
from .fingerprint import Components, Fingerprinter, combine
from .index import Entry

RESULT = "__lake_cache_result__"  # the name under which a cell's Out value is stored
_MAX_NAME = 200
BACKGROUND_MIN = 8 * 2**20  # entries with fewer bytes to write are written before the cell returns


@dataclass
class Outcome:
    """What happened to one cached cell run."""

    name: str
    address: str
    hit: bool
    seconds: float  # time this run took
    saved: float = 0.0  # on a hit: the original run time
    names: list[str] = field(default_factory=list)  # restored (hit) or stored (miss)
    size: int = 0
    problems: list[str] = field(default_factory=list)  # why (part of) the cell was not cached
    result: Any = None
    overhead: float = 0.0  # seconds the cache added to this run (key, lookup, snapshot, queueing)
    cell: float = 0.0  # on a miss: seconds the cell's own code ran
    background: bool = False  # the entry is being written by the background writer

    def status(self) -> str:
        """The one-line summary printed under the cell."""
        shown = ", ".join(self.names[:4]) + (f" (+{len(self.names) - 4})" if len(self.names) > 4 else "")
        if self.hit:
            text = f"lake_cache: hit {self.address[:10]} · saved {_seconds(self.saved - self.seconds)}"
            return text + (f" · restored {shown}" if shown else "")
        text = f"lake_cache: miss {self.address[:10]} · ran {_seconds(self.seconds)}"
        if self.problems:
            return text + " · NOT cached: " + "; ".join(self.problems)
        if self.background:
            return text + f" · storing {shown or 'outputs'} ({_bytes(self.size)}) in the background"
        return text + (f" · stored {shown} ({_bytes(self.size)})" if shown else " · stored outputs")


class CellCache:
    """Caches cells of one shell; owns the stores it opened (one per storage URL)."""

    def __init__(self, shell: Any, *, project: str | os.PathLike[str] | None = None, background: bool = True) -> None:
        self.shell = shell
        self.project = project
        self.background = background  # False: every entry is written before the cell returns
        self.last: Outcome | None = None  # the last miss (for benchmarks and diagnostics)
        self._stores: dict[str, CacheStore] = {}

    def store(self, storage: StorageLike | None) -> CacheStore:
        key = "" if storage is None else repr(storage)
        found = self._stores.get(key)
        if found is None:
            found = self._stores[key] = CacheStore(storage)
        return found

    # ------------------------------------------------------------------ keys
    def components(self, code: CellCode, ignore: frozenset[str]) -> Components:
        """What the cell's key is made of."""
        namespace = self.shell.user_ns
        fingerprinter = Fingerprinter(self.project, ignore=tuple(ignore))
        out: Components = {"cell": code.digest, "version": str(VERSION)}
        builtins = _builtin_names(namespace)
        for name in code.reads:
            if name in ignore:
                continue
            if name not in namespace:
                if name not in builtins:
                    out[f"input {name}"] = "<undefined>"
                continue
            try:
                fingerprinter.dependency(namespace[name], f"input {name}", code.attributes.get(name, ()), out)
            except UnhashableValue as e:
                raise UnhashableValue(
                    f"cannot cache this cell: variable {name!r} cannot be hashed ({e}); "
                    f"add --ignore {name} if it does not affect the result",
                    what=name,
                ) from e
        return out

    # ------------------------------------------------------------------ running
    def run(
        self,
        source: str,
        *,
        name: str | None = None,
        storage: StorageLike | None = None,
        force: bool = False,
        ignore: tuple[str, ...] = (),
    ) -> Outcome:
        """Run (or restore) a cell of transformed Python ``source``. Exceptions of the cell propagate."""
        code = analyze(source)
        name = validate_name(name) if name is not None else default_name(self.shell, code)
        store = self.store(storage)
        ignored = frozenset(ignore)
        start = time.perf_counter()
        try:
            components = self.components(code, ignored)
        except UnhashableValue as e:
            result = self._execute(source, code)[0]
            return Outcome(name, "-" * 10, False, time.perf_counter() - start, problems=[str(e)], result=result)
        address = store.entries.address("cell", name, combine(components))
        stale = False
        if not force:
            entry, values, stale = store.load(address)
            if entry is not None and values is not None:
                return self._restore(source, code, name, address, entry, values, start, store)
        lock: Any = store.entry_lock(address)
        lock.acquire()
        try:
            if not force:
                entry, values, stale = store.load(address)
                if entry is not None and values is not None:
                    return self._restore(source, code, name, address, entry, values, start, store)
            ran = time.perf_counter()
            result, outputs = self._execute(source, code)
            done = time.perf_counter()
            outcome = Outcome(name, address, False, done - start, result=result)
            job = self._save(store, code, name, address, components, outputs, result, outcome, ignored, stale or force)
            if job is not None:
                job.finish, job.abandon = lock.release, lock.close_inherited
                persist.writer().submit(job)
                lock = None  # the writer releases it once the entry is published
        finally:
            if lock is not None:
                lock.release()
        outcome.cell = done - ran
        outcome.overhead = time.perf_counter() - start - outcome.cell
        self.last = outcome
        return outcome

    def _execute(self, source: str, code: CellCode) -> tuple[Any, list[dict[str, Any]]]:
        """Run the cell in the user namespace, teeing its outputs; returns (last value, outputs)."""
        shell = self.shell
        filename = shell.compile.cache(source)
        body = code.tree.body
        last = body[-1] if code.has_result else None
        statements = body[:-1] if last is not None else body
        module = ast.Module(body=statements, type_ignores=[])
        namespace = shell.user_ns
        with _capture(shell) as outputs:
            exec(compile(module, filename, "exec", flags=shell.compile.flags, dont_inherit=True), namespace)  # noqa: S102
            result = None
            if last is not None:
                expression = ast.Expression(body=last.value)  # type: ignore[attr-defined]
                result = eval(
                    compile(expression, filename, "eval", flags=shell.compile.flags, dont_inherit=True), namespace
                )  # noqa: S307
        return result, outputs

    def _save(
        self,
        store: CacheStore,
        code: CellCode,
        name: str,
        address: str,
        components: Components,
        outputs: list[dict[str, Any]],
        result: Any,
        outcome: Outcome,
        ignored: frozenset[str],
        replace: bool,
    ) -> persist.WriteJob | None:
        """Snapshot what the cell wrote; store it now, or return the job that stores it in the background."""
        namespace = self.shell.user_ns
        defined = set(code.defined)
        wanted = [n for n in code.writes if n not in ignored and (n not in defined or n in _reassigned(code))]
        items = {var: namespace[var] for var in wanted if var in namespace}
        if result is not None:
            items[RESULT] = result
        prepared = self._snapshot(store, items, outcome)
        if outcome.problems:
            return None
        deleted = [n for n in code.deleted if n not in namespace]
        stored = [var for var in prepared if var != RESULT]
        extra = {"names": stored, "deleted": deleted, "source": _source_of(code)}
        entry = Entry("cell", name, components, {}, duration=outcome.seconds, outputs=outputs, extra=extra)
        outcome.names = stored
        outcome.size = sum(
            int(p.descriptor["size"]) if p is not None else _size_of(items[v]) for v, p in prepared.items()
        )
        total = sum(p.nbytes for p in prepared.values() if p is not None)
        if not self.background or total < BACKGROUND_MIN or any(p is None for p in prepared.values()):
            self._store_now(store, address, entry, prepared, items, outcome, replace)
            return None
        complete = {var: p for var, p in prepared.items() if p is not None}
        outcome.background = True
        return persist.WriteJob(
            persist.PendingWrite("cell", name, address, total, time.time()),
            store.persister(address, entry, complete, replace=replace),
            on_error=store.count_error,
        )

    def _snapshot(self, store: CacheStore, items: dict[str, Any], outcome: Outcome) -> dict[str, Prepared | None]:
        """Serialize each value into memory now (None: too big to hold twice, it is streamed instead)."""
        budget = persist.writer().max_bytes if self.background else 0
        prepared: dict[str, Prepared | None] = {}
        for var, value in items.items():
            try:
                found = store.prepare(value, max_bytes=max(budget, 0))
            except (UnstorableValue, OSError) as e:
                what = "the cell's result" if var == RESULT else repr(var)
                outcome.problems.append(
                    f"cannot store {what} ({e})" + ("" if var == RESULT else f"; use --ignore {var}")
                )
                continue
            prepared[var] = found
            budget -= found.nbytes if found is not None else 0
        return prepared

    def _store_now(
        self,
        store: CacheStore,
        address: str,
        entry: Entry,
        prepared: dict[str, Prepared | None],
        items: dict[str, Any],
        outcome: Outcome,
        replace: bool,
    ) -> None:
        storage = store.entries.storage
        for var, found in prepared.items():
            try:
                entry.values[var] = found.store(storage) if found is not None else store.encode(items[var])
            except (UnstorableValue, StorageError, OSError) as e:
                outcome.problems.append(f"cannot store {var!r} ({e})")
                return
        if not store.save(address, entry, replace=replace):
            outcome.problems.append("the storage refused the entry (see the warning)")

    def _restore(
        self,
        source: str,
        code: CellCode,
        name: str,
        address: str,
        entry: Entry,
        values: dict[str, Any],
        start: float,
        store: CacheStore,
    ) -> Outcome:
        shell = self.shell
        namespace = shell.user_ns
        if code.definitions:
            filename = shell.compile.cache(source)
            module = ast.Module(body=[code.tree.body[i] for i in code.definitions], type_ignores=[])
            exec(compile(module, filename, "exec", flags=shell.compile.flags, dont_inherit=True), namespace)  # noqa: S102
        result = values.pop(RESULT, None)
        namespace.update(values)
        for var in entry.extra.get("deleted", ()):
            namespace.pop(var, None)
        _replay(shell, entry.outputs)
        names = list(values)
        outcome = Outcome(name, address, True, time.perf_counter() - start, entry.duration, names, entry.size)
        outcome.result = result
        store.record_hit(entry, address)
        return outcome

    # ------------------------------------------------------------------ line-magic helpers
    def why(self, name: str, storage: StorageLike | None = None) -> Explanation:
        """Would the last source run under ``name`` hit now? If not, what changed."""
        store = self.store(storage)
        history = store.journal.records("cell", name)
        if not history:
            return Explanation(name, "", False)
        source = history[-1].extra.get("source", "")
        code = analyze(source)
        components = self.components(code, frozenset())
        address = store.entries.address("cell", name, combine(components))
        writer = persist.current_writer()
        if writer is not None:
            writer.wait(address)
        return explain(name, address, store.exists(address), components, history)


# ------------------------------------------------------------------------------ helpers
def validate_name(name: str) -> str:
    """A cell name: printable, no path separators, at most 200 characters."""
    if not name or len(name) > _MAX_NAME or not name.isprintable() or "/" in name or "\x00" in name:
        raise InvalidName(f"invalid cell cache name {name!r}: use up to {_MAX_NAME} printable characters, no '/'")
    return name


def default_name(shell: Any, code: CellCode) -> str:
    """The Jupyter cell id when the frontend sends one, else a digest of the cell's code."""
    kernel = getattr(shell, "kernel", None)
    parent = kernel.get_parent() if kernel is not None and hasattr(kernel, "get_parent") else None
    cell_id = (parent or {}).get("metadata", {}).get("cellId") if isinstance(parent, dict) else None
    if isinstance(cell_id, str) and cell_id:
        return f"cell-{cell_id[:36]}"
    return f"cell-{code.digest[:12]}"


def _reassigned(code: CellCode) -> set[str]:
    """Names bound by a definition and also assigned elsewhere in the cell (then they are data)."""
    counts: dict[str, int] = {}
    for stmt in code.tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
    return {n for n in code.defined if counts.get(n)}


def _size_of(value: Any) -> int:
    """Bytes of a value that was too big to snapshot (it has an ``nbytes`` or a frame's memory usage)."""
    usage = getattr(value, "memory_usage", None)
    if callable(usage):
        found = usage(deep=False)
        return int(found.sum() if hasattr(found, "sum") else found)
    return int(getattr(value, "nbytes", 0))


def _source_of(code: CellCode) -> str:
    return ast.unparse(code.tree)


def _builtin_names(namespace: dict[str, Any]) -> Any:
    import builtins

    found = namespace.get("__builtins__", builtins)
    return found if isinstance(found, dict) else vars(found)


class _Tee(io.TextIOBase):
    """Writes through to a stream and records what was written."""

    def __init__(self, stream: Any, kind: str, outputs: list[dict[str, Any]]) -> None:
        self._stream = stream
        self._kind = kind
        self._outputs = outputs

    def write(self, text: str) -> int:
        outputs = self._outputs
        if outputs and outputs[-1].get("stream") == self._kind:
            outputs[-1]["text"] += text
        else:
            outputs.append({"stream": self._kind, "text": text})
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", "utf-8")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def _capture(shell: Any) -> Iterator[list[dict[str, Any]]]:
    outputs: list[dict[str, Any]] = []
    publisher = shell.display_pub
    original_publish = publisher.publish

    def publish(data: Any, metadata: Any = None, *args: Any, **kwargs: Any) -> Any:
        outputs.append({"display": _jsonable(data), "metadata": _jsonable(metadata or {})})
        return original_publish(data, metadata, *args, **kwargs)

    own = vars(publisher).get("publish")  # an instance-level override to put back, if any
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = _Tee(stdout, "stdout", outputs)
    sys.stderr = _Tee(stderr, "stderr", outputs)
    publisher.publish = publish
    try:
        yield outputs
    finally:
        sys.stdout, sys.stderr = stdout, stderr
        if own is not None:
            publisher.publish = own
        else:
            del publisher.publish  # back to the class's method


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    if isinstance(data, bytes):
        import base64

        return base64.b64encode(data).decode()
    if isinstance(data, str | int | float | bool) or data is None:
        return data
    return str(data)


def _replay(shell: Any, outputs: list[dict[str, Any]]) -> None:
    for output in outputs:
        if "stream" in output:
            target = sys.stdout if output["stream"] == "stdout" else sys.stderr
            target.write(output["text"])
        elif "display" in output:
            data = {k: v for k, v in output["display"].items() if k != "application/vnd.jupyter.widget-view+json"}
            if data:
                shell.display_pub.publish(data=data, metadata=output.get("metadata") or {})
    sys.stdout.flush()


def _seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _bytes(size: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000  # type: ignore[assignment]
    return f"{size} B"


__all__ = ["RESULT", "CellCache", "Outcome", "default_name", "validate_name"]

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

What the AST cannot see is checked at run time (issue 10): names bound or
removed by code the cell calls (``global SIZE`` in a function, ``%run``) are
found by comparing the namespace before and after the run; inputs mutated in
place (``lst.append``, ``df.drop(inplace=True)``, a ``Generator`` advanced by
``rng.integers``) by digesting them again after the run. Both are stored as
outputs and restored on a hit. A cell that draws from numpy's or ``random``'s
*global* generator records the generator state it started from (a hit needs
the same state, unless the cell seeds first) and restores the state it left.
Project modules a cell imports, files given with ``--file`` and scripts run by
``%run`` are keyed by content. Outputs are replayed exactly or the cell is not
cached: inline matplotlib figures are captured while the cell runs, a
displayed widget (a live object of the kernel) makes the cell uncacheable.

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
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .._format import human_bytes
from ..errors import InvalidArgument, InvalidName, StorageError
from . import persist, rng
from .arguments import VERSION
from .backend import CacheStore, StorageLike
from .cell_ast import CellCode, analyze
from .codecs import Prepared
from .errors import UnhashableValue, UnstorableValue
from .explain import Explanation, describe, explain
from .files import changed_files, content_digest, data_files, opened_files
from .fingerprint import Components, Fingerprinter, combine
from .index import Entry
from .modules import resolve

RESULT = "__lake_cache_result__"  # the name under which a cell's Out value is stored
_MAX_NAME = 200
BACKGROUND_MIN = 8 * 2**20  # entries with fewer bytes to write are written before the cell returns
_STABLE = frozenset({"get_ipython", "exit", "quit"})  # the shell itself: not an input
_WIDGET = "application/vnd.jupyter.widget-view+json"
_HISTORY = re.compile(r"_+|_i+|_i?\d+")  # _, __, _i, _ii, _i3, _3


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
    mutated: list[str] = field(default_factory=list)  # inputs the cell changed in place (stored as outputs)
    skipped: str = ""  # auto mode: why a cell was run without the cache ("" if it was cached)

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
            return text + f" · storing {shown or 'outputs'} ({human_bytes(self.size)}) in the background"
        return text + (f" · stored {shown} ({human_bytes(self.size)})" if shown else " · stored outputs")


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
    def components(
        self, code: CellCode, ignore: frozenset[str], files: tuple[str, ...] = (), *, fingerprinter: Any = None
    ) -> Components:
        """What the cell's key is made of."""
        namespace = self.shell.user_ns
        fingerprinter = fingerprinter or Fingerprinter(self.project, ignore=tuple(ignore))
        out: Components = {"cell": code.digest, "version": str(VERSION)}
        builtins = _builtin_names(namespace)
        for path in (*code.files, *files):
            out[f"file {path}"] = content_digest(path)
        package = namespace.get("__package__") or None
        for module, level in code.imports:
            absolute = resolve(module, level, package)
            if absolute and absolute not in ignore:
                fingerprinter.module_source(absolute, out)
        for name in code.reads:
            if name in ignore or name in _STABLE:
                continue
            if name not in namespace:
                if name not in builtins:
                    out[f"input {name}"] = "<undefined>"
                continue
            try:
                fingerprinter.dependency(
                    namespace[name], f"input {name}", code.attributes.get(name, ()), out, whole=True
                )
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
        files: tuple[str, ...] = (),
        min_seconds: float | None = None,
        track_files: bool = False,
    ) -> Outcome:
        """Run (or restore) a cell of transformed Python ``source``. Exceptions of the cell propagate.

        ``files`` are data files keyed by content; ``track_files`` records the files the run opens
        for reading and makes their content a condition of the entry; ``min_seconds`` (auto mode)
        stores only runs that took at least that long.
        """
        code = analyze(source)
        name = validate_name(name) if name is not None else default_name(self.shell, code)
        store = self.store(storage)
        ignored = frozenset(ignore)
        start = time.perf_counter()
        fingerprinter = Fingerprinter(self.project, ignore=tuple(ignored))
        try:
            components = self.components(code, ignored, files, fingerprinter=fingerprinter)
        except (UnhashableValue, InvalidArgument) as e:
            result = self._execute(source, code)[0]
            outcome = Outcome(name, "-" * 10, False, time.perf_counter() - start, problems=[str(e)], result=result)
            outcome.skipped = str(e)
            return outcome
        address = store.entries.address("cell", name, combine(components))
        stale = False
        if not force:
            entry, values, stale = self._lookup(store, address)
            if entry is not None and values is not None:
                return self._restore(source, code, name, address, entry, values, start, store)
        lock: Any = store.entry_lock(address)
        lock.acquire()
        try:
            if not force:
                entry, values, stale = self._lookup(store, address)
                if entry is not None and values is not None:
                    return self._restore(source, code, name, address, entry, values, start, store)
            before = _namespace_ids(self.shell.user_ns)
            rng_before = rng.states()
            ran = time.perf_counter()
            with opened_files() if track_files else _nothing() as opened:
                result, outputs = self._execute(source, code)
            done = time.perf_counter()
            outcome = Outcome(name, address, False, done - start, result=result)
            if min_seconds is not None and done - ran < min_seconds:
                outcome.skipped = f"ran {_seconds(done - ran)} (under {min_seconds:g} s)"
                outcome.cell = done - ran
                return outcome
            changes = self._changes(code, ignored, before, components, fingerprinter, outcome)
            moved = rng.changes(rng_before, code.seeded)
            job = self._save(
                store, code, name, address, components, outputs, result, outcome, ignored, stale or force,
                changes=changes, moved=moved, opened=data_files(opened) if opened else {},
            )
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

    def _lookup(self, store: CacheStore, address: str) -> tuple[Entry | None, dict[str, Any] | None, bool]:
        """Load an entry; one made from another global random state is stale (a miss that replaces it)."""
        entry, values, stale = store.load(address, "cell")
        if entry is not None and (
            rng.mismatch(entry.extra.get("rng")) or changed_files(entry.extra.get("opened") or {})
        ):
            return None, None, True
        return entry, values, stale

    def _changes(
        self,
        code: CellCode,
        ignored: frozenset[str],
        before: dict[str, int],
        components: Components,
        fingerprinter: Fingerprinter,
        outcome: Outcome,
    ) -> tuple[list[str], list[str]]:
        """(names to store beyond the AST's writes, names removed), found by comparing the namespace.

        A name rebound or created by code the cell called (``global SIZE``, ``%run``), or an input
        whose digest changed during the run (mutated through a method call), is an output too.
        """
        namespace = self.shell.user_ns
        writes = set(code.writes)
        extra: list[str] = []
        for var, value in namespace.items():
            if var in writes or var in ignored or _shell_name(var):
                continue
            if before.get(var) != id(value):
                extra.append(var)
        for var in code.reads:
            label = f"input {var}"
            if var in writes or var in ignored or var in extra or label not in components or var not in namespace:
                continue
            value = namespace[var]
            if _is_code(value):
                continue
            try:
                now = fingerprinter.value(value, f"variable {var!r}")
            except UnhashableValue:
                now = None
            if now != components[label]:
                extra.append(var)
                outcome.mutated.append(var)
        removed = [var for var in before if var not in namespace and not _shell_name(var) and var not in ignored]
        return extra, removed

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
            _flush_inline_figures()  # shown after the cell otherwise, outside the capture
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
        *,
        changes: tuple[list[str], list[str]] = ([], []),
        moved: tuple[dict[str, str], dict[str, Any]] = ({}, {}),
        opened: dict[str, str] | None = None,
    ) -> persist.WriteJob | None:
        """Snapshot what the cell wrote; store it now, or return the job that stores it in the background."""
        namespace = self.shell.user_ns
        defined = set(code.defined)
        wanted = [n for n in code.writes if n not in ignored and (n not in defined or n in _reassigned(code))]
        wanted += [n for n in changes[0] if n not in wanted]
        items = {var: namespace[var] for var in wanted if var in namespace}
        if result is not None:
            items[RESULT] = result
        conditions, states = moved
        for kind, state in states.items():
            items[rng.value_name(kind)] = state
        if any(_WIDGET in (o.get("display") or {}) for o in outputs):
            outcome.problems.append(
                "it displayed a widget (a live object of this kernel: replaying it would show a dead copy)"
            )
            return None
        prepared = self._snapshot(store, items, outcome)
        if outcome.problems:
            return None
        deleted = [n for n in code.deleted if n not in namespace]
        deleted += [n for n in changes[1] if n not in deleted]
        stored = [var for var in prepared if var != RESULT and not var.startswith(rng.PREFIX)]
        extra = {"names": stored, "deleted": deleted, "source": _source_of(code)}
        if conditions:
            extra["rng"] = conditions
        if opened:
            extra["opened"] = opened
        if outcome.mutated:
            extra["mutated"] = list(outcome.mutated)
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
        for var in [v for v in values if v.startswith(rng.PREFIX)]:
            rng.restore(rng.kind_of(var) or "", values.pop(var))
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
        exists = store.exists(address, "cell")
        if exists:
            entry = store.entries.get(address, "cell")
            changed = rng.mismatch(entry.extra.get("rng")) if entry is not None else []
            opened = changed_files(entry.extra.get("opened") or {}) if entry is not None else []
            if changed or opened:
                words = [f"changed: {describe(f'rng {kind}')}" for kind in changed]
                words += [f"changed: {describe(f'file {path}')}" for path in opened]
                return Explanation(name, address, False, words, entry.created)
        return explain(name, address, exists, components, history)


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


def _shell_name(var: str) -> bool:
    """IPython's own history variables (``_``, ``_i3``, ``Out``...), never cell outputs."""
    if var in ("In", "Out", "_oh", "_ih", "_dh", "exit", "quit", "get_ipython", "__builtins__", "__builtin__"):
        return True
    if var.startswith("__") and var.endswith("__"):
        return True
    return _HISTORY.fullmatch(var) is not None


def _namespace_ids(namespace: dict[str, Any]) -> dict[str, int]:
    return {var: id(value) for var, value in namespace.items()}


def _is_code(value: Any) -> bool:
    import types

    return isinstance(value, types.ModuleType | types.FunctionType | type | types.BuiltinFunctionType) or callable(
        getattr(value, "__wrapped__", None)
    )


@contextmanager
def _nothing() -> Iterator[dict[str, None]]:
    yield {}


def _flush_inline_figures() -> None:
    """Show pending inline matplotlib figures now, inside the capture (as a plain run shows them)."""
    inline = sys.modules.get("matplotlib_inline.backend_inline")
    matplotlib = sys.modules.get("matplotlib")
    if inline is None or matplotlib is None or "inline" not in str(matplotlib.get_backend()):
        return
    inline.flush_figures()


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
        self.muted = 0

    def write(self, text: str) -> int:
        outputs = self._outputs
        if self.muted:
            pass  # written by a display being published: recorded as that display
        elif outputs and outputs[-1].get("stream") == self._kind:
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
        tees = [s for s in (sys.stdout, sys.stderr) if isinstance(s, _Tee)]
        for tee in tees:  # a terminal shell prints displays to stdout: record them once, as a display
            tee.muted += 1
        try:
            return original_publish(data, metadata, *args, **kwargs)
        finally:
            for tee in tees:
                tee.muted -= 1

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


__all__ = ["RESULT", "CellCache", "Outcome", "default_name", "validate_name"]

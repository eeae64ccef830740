"""``%%lake_cache`` and ``%lake_cache``: the notebook face of :mod:`lakelet.cache.cell`.

::

    %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...] [--file PATH ...] [--track-files]
    %lake_cache ls | info [NAME] | clear NAME | why NAME   [--storage URL]
    %lake_cache flush
    %lake_cache auto [--min-seconds N] [--storage URL] | auto off | auto status

``--file data.csv`` makes the file's content part of the key (size+mtime fast
path, content hash when they change); ``--track-files`` records the files the
cell opens for reading and misses when one of them changes. ``auto`` caches every cell of the
session that runs at least N seconds (default 1) and can be cached with the
same guarantees as ``%%lake_cache``; ``auto status`` lists the cells it skipped
and why.

Big entries are written in the background after the cell returns (see
:mod:`lakelet.cache.persist`): ``%lake_cache info`` lists pending writes and
``%lake_cache flush`` waits for them. A background write that failed is
reported as a ``CacheWarning`` after the next cell runs.

This module is the one place where bad magic arguments become IPython usage
errors; exceptions raised by the cell itself propagate untouched.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from ..cache import persist
from ..cache.cell import CellCache, validate_name

_USAGE = (
    "usage: %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...] [--file PATH ...] [--track-files]\n"
    "       %lake_cache ls | info [NAME] | clear NAME | why NAME  [--storage URL]\n"
    "       %lake_cache flush\n"
    "       %lake_cache auto [--min-seconds N] [--storage URL] | auto off | auto status"
)
_AUTO = "--auto-cell"  # marks a cell wrapped by auto mode (internal)


@dataclass
class _Options:
    name: str | None = None
    storage: str | None = None
    force: bool = False
    ignore: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    min_seconds: float | None = None
    auto: bool = False
    track_files: bool = False
    words: list[str] = field(default_factory=list)


def parse(line: str) -> _Options:
    """Parse the magic's arguments; raises ValueError with the usage on bad input."""
    try:
        tokens = shlex.split(line)
    except ValueError as e:
        raise ValueError(f"{e}\n{_USAGE}") from e
    options = _Options()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "--force":
            options.force = True
        elif token == "--storage":
            if i + 1 >= len(tokens):
                raise ValueError(f"--storage needs a URL or path\n{_USAGE}")
            options.storage = tokens[i + 1]
            i += 1
        elif token == "--ignore":
            while i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                options.ignore.append(tokens[i + 1])
                i += 1
            if not options.ignore:
                raise ValueError(f"--ignore needs at least one variable name\n{_USAGE}")
        elif token == "--file":
            before = len(options.files)
            while i + 1 < len(tokens) and not tokens[i + 1].startswith("--"):
                options.files.append(tokens[i + 1])
                i += 1
            if len(options.files) == before:
                raise ValueError(f"--file needs at least one path\n{_USAGE}")
        elif token == "--min-seconds":
            if i + 1 >= len(tokens):
                raise ValueError(f"--min-seconds needs a number of seconds\n{_USAGE}")
            try:
                options.min_seconds = float(tokens[i + 1])
            except ValueError:
                raise ValueError(f"--min-seconds takes a number, got {tokens[i + 1]!r}\n{_USAGE}") from None
            if not options.min_seconds >= 0 or options.min_seconds == float("inf"):
                raise ValueError(f"--min-seconds takes a finite number >= 0, got {tokens[i + 1]!r}\n{_USAGE}")
            i += 1
        elif token == _AUTO:
            options.auto = True
        elif token == "--track-files":
            options.track_files = True
        elif token.startswith("--"):
            raise ValueError(f"unknown option {token}\n{_USAGE}")
        else:
            options.words.append(token)
        i += 1
    return options


class LakeCacheMagic:
    """The state of the magic in one shell (its cell cache and the stores it opened)."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell
        self.cache = CellCache(shell)
        self.auto: _Auto | None = None
        self.skipped: dict[str, str] = {}  # auto mode: cell name -> why it was not cached

    def __call__(self, line: str, cell: str | None = None) -> Any:
        from IPython.core.error import UsageError

        try:
            options = parse(line)
            if cell is None:
                return self.line(options)
            if len(options.words) > 1:
                raise ValueError(f"one cell name at most, got {options.words}\n{_USAGE}")
            name = validate_name(options.words[0]) if options.words else None
        except ValueError as e:  # includes lakelet's InvalidArgument / InvalidName
            raise UsageError(str(e)) from e
        # errors of the cell itself (and of the storage) propagate unchanged
        return self.cell(options, name, cell)

    def cell(self, options: _Options, name: str | None, cell: str) -> Any:
        if self.auto is not None:
            self.auto.paused += 1  # the body of a cached cell is not wrapped again
        try:
            source = self.shell.transform_cell(cell)
        finally:
            if self.auto is not None:
                self.auto.paused -= 1
        if options.auto:
            return self._auto_cell(options, source)
        outcome = self.cache.run(
            source,
            name=name,
            storage=options.storage,
            force=options.force,
            ignore=tuple(options.ignore),
            files=tuple(options.files),
            track_files=options.track_files,
        )
        print(outcome.status())
        return outcome.result

    def _auto_cell(self, options: _Options, source: str) -> Any:
        """A cell wrapped by auto mode: cached if it is slow and cacheable; quiet when it is fast."""
        seconds = options.min_seconds or 0.0
        outcome = self.cache.run(source, storage=options.storage, min_seconds=seconds)
        fast = outcome.seconds < seconds or outcome.skipped.startswith("ran ")
        if outcome.hit or not (outcome.skipped or outcome.problems):
            self.skipped.pop(outcome.name, None)
            print(outcome.status())
        elif not fast:
            why = "; ".join(outcome.problems) or outcome.skipped
            self.skipped[outcome.name] = why
            print(f"lake_cache auto: {outcome.name} not cached: {why}")
        return outcome.result

    def line(self, options: _Options) -> Any:
        if not options.words:
            raise ValueError(_USAGE)
        command, *rest = options.words
        if command in ("ls", "flush") and rest:
            raise ValueError(f"%lake_cache {command} takes no name\n{_USAGE}")
        if command == "ls":
            return self.ls(options.storage)
        if command == "flush":
            return self.flush()
        if command == "info" and not rest:
            return self.pending()
        if command == "auto":
            return self.set_auto(rest, options)
        if len(rest) != 1:
            raise ValueError(f"%lake_cache {command} needs exactly one cell name\n{_USAGE}")
        name = rest[0]
        store = self.cache.store(options.storage)
        if command == "info":
            return self.info(store, name)
        if command == "clear":
            removed = store.remove("cell", name)
            print(f"lake_cache: removed {removed} entr{'y' if removed == 1 else 'ies'} of {name}")
            return None
        if command == "why":
            return self.cache.why(name, options.storage)
        raise ValueError(f"unknown command {command!r}\n{_USAGE}")

    def set_auto(self, rest: list[str], options: _Options) -> None:
        """``%lake_cache auto [--min-seconds N] | off | status``."""
        if rest not in ([], ["off"], ["status"]):
            raise ValueError(f"%lake_cache auto takes 'off', 'status' or options\n{_USAGE}")
        if rest == ["status"]:
            state = "off" if self.auto is None else f"on (cells of {self.auto.min_seconds:g} s or more)"
            print(f"lake_cache auto: {state}")
            if not self.skipped:
                print("no slow cell was skipped")
            for name, why in self.skipped.items():
                print(f"  skipped {name}: {why}")
            return
        if self.auto is not None:
            self.auto.remove(self.shell)
            self.auto = None
        if rest == ["off"]:
            print("lake_cache auto: off")
            return
        seconds = 1.0 if options.min_seconds is None else options.min_seconds
        self.auto = _Auto(seconds, options.storage)
        self.auto.install(self.shell)
        print(f"lake_cache auto: caching every cell that runs {seconds:g} s or more (%lake_cache auto off to stop)")

    def ls(self, storage: str | None) -> None:
        store = self.cache.store(storage)
        names = store.journal.names("cell")
        pending = _pending()
        if pending:
            print(f"lake_cache: {len(pending)} more being written in the background (%lake_cache info)")
        if not names:
            print("lake_cache: no cached cells yet")
            return
        for name in names:
            records = store.journal.records("cell", name)
            last = records[-1]
            entries = len({r.address for r in records})
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.time))
            print(f"{name:<30} {entries:>3} entr{'y' if entries == 1 else 'ies'}  last {when}  {last.size:>12,} B")

    def flush(self) -> None:
        pending = _pending()
        start = time.perf_counter()
        persist.flush()
        if pending:
            size = sum(p.nbytes for p in pending)
            print(
                f"lake_cache: wrote {len(pending)} pending entr{'y' if len(pending) == 1 else 'ies'} "
                f"({size:,} B) in {time.perf_counter() - start:.2f} s"
            )
        else:
            print("lake_cache: no pending writes")

    def pending(self) -> None:
        """Print the writes still in progress (``%lake_cache info`` without a name)."""
        pending = _pending()
        if not pending:
            print("lake_cache: no pending writes")
            return
        now = time.time()
        print(f"lake_cache: {len(pending)} pending write{'s' if len(pending) != 1 else ''}")
        for p in pending:
            print(f"  {p.name:<30} {p.address[:10]}  {p.nbytes:>14,} B  queued {now - p.queued:.1f} s ago")

    def info(self, store: Any, name: str) -> None:
        waiting = [p for p in _pending() if p.kind == "cell" and p.name == name]
        for p in waiting:
            print(f"pending:  entry {p.address[:10]} ({p.nbytes:,} B) is being written in the background")
        records = store.journal.records("cell", name)
        if not records:
            if not waiting:
                print(f"lake_cache: nothing cached under {name!r}")
            return
        last = records[-1]
        print(f"name:     {name}")
        print(f"entry:    {last.address}")
        print(f"stored:   {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(last.time))}")
        print(f"run time: {last.duration:.3f} s")
        print(f"size:     {last.size:,} B")
        print(f"names:    {', '.join(last.extra.get('names', [])) or '-'}")
        print(f"present:  {store.exists(last.address)}")


@dataclass
class _Auto:
    """Auto mode: an input transformer that routes plain cells through the cache."""

    min_seconds: float
    storage: str | None
    paused: int = 0

    def __call__(self, lines: list[str]) -> list[str]:
        if self.paused:
            return lines
        text = "".join(lines)
        first = text.lstrip()
        if not first or first.startswith(("%%", "%lake_cache", "!", "?")) or first.rstrip().endswith("?"):
            return lines  # cell magics (our own included), shell escapes and help run as they are
        option = f"--min-seconds {self.min_seconds!r}"
        if self.storage:
            option += f" --storage {shlex.quote(self.storage)}"
        return [f"%%lake_cache {_AUTO} {option}\n", *lines]

    def install(self, shell: Any) -> None:
        shell.input_transformers_cleanup.append(self)

    def remove(self, shell: Any) -> None:
        if self in shell.input_transformers_cleanup:
            shell.input_transformers_cleanup.remove(self)


def _pending() -> list[persist.PendingWrite]:
    writer = persist.current_writer()
    return writer.pending() if writer is not None else []


def report_background_failures(*args: Any) -> None:
    """Warn (CacheWarning) about background writes that failed since the last report."""
    writer = persist.current_writer()
    if writer is not None:
        writer.report()


def register(ipython: Any) -> None:
    """Register ``%%lake_cache`` / ``%lake_cache`` in an IPython shell."""
    magic = LakeCacheMagic(ipython)

    def lake_cache(line: str, cell: str | None = None) -> Any:
        report_background_failures()
        return magic(line, cell)

    lake_cache.__doc__ = __doc__
    lake_cache.magic = magic  # type: ignore[attr-defined]  # its state, for diagnostics and benchmarks
    ipython.register_magic_function(lake_cache, magic_kind="line_cell", magic_name="lake_cache")
    # a write that fails after its cell returned is reported under the next cell, whatever it is
    if report_background_failures not in ipython.events.callbacks.get("post_run_cell", []):
        ipython.events.register("post_run_cell", report_background_failures)


__all__ = ["LakeCacheMagic", "parse", "register"]

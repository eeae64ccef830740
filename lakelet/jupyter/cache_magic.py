"""``%%lake_cache`` and ``%lake_cache``: the notebook face of :mod:`lakelet.cache.cell`.

::

    %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...]
    %lake_cache ls | info [NAME] | clear NAME | why NAME   [--storage URL]
    %lake_cache flush

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
    "usage: %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...]\n"
    "       %lake_cache ls | info [NAME] | clear NAME | why NAME  [--storage URL]\n"
    "       %lake_cache flush"
)


@dataclass
class _Options:
    name: str | None = None
    storage: str | None = None
    force: bool = False
    ignore: list[str] = field(default_factory=list)
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
        source = self.shell.transform_cell(cell)
        outcome = self.cache.run(
            source, name=name, storage=options.storage, force=options.force, ignore=tuple(options.ignore)
        )
        print(outcome.status())
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

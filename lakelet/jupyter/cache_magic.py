"""``%%lake_cache`` and ``%lake_cache``: the notebook face of :mod:`lakelet.cache.cell`.

::

    %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...]
    %lake_cache ls | info NAME | clear NAME | why NAME   [--storage URL]

This module is the one place where bad magic arguments become IPython usage
errors; exceptions raised by the cell itself propagate untouched.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from typing import Any

from ..cache.cell import CellCache, validate_name

_USAGE = (
    "usage: %%lake_cache [NAME] [--storage URL] [--force] [--ignore VAR ...]\n"
    "       %lake_cache ls | info NAME | clear NAME | why NAME  [--storage URL]"
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
        if command == "ls":
            return self.ls(options.storage)
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
        if not names:
            print("lake_cache: no cached cells yet")
            return
        for name in names:
            records = store.journal.records("cell", name)
            last = records[-1]
            entries = len({r.address for r in records})
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(last.time))
            print(f"{name:<30} {entries:>3} entr{'y' if entries == 1 else 'ies'}  last {when}  {last.size:>12,} B")

    def info(self, store: Any, name: str) -> None:
        records = store.journal.records("cell", name)
        if not records:
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


def register(ipython: Any) -> None:
    """Register ``%%lake_cache`` / ``%lake_cache`` in an IPython shell."""
    magic = LakeCacheMagic(ipython)

    def lake_cache(line: str, cell: str | None = None) -> Any:
        return magic(line, cell)

    lake_cache.__doc__ = __doc__
    ipython.register_magic_function(lake_cache, magic_kind="line_cell", magic_name="lake_cache")


__all__ = ["LakeCacheMagic", "parse", "register"]

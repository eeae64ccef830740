"""Project modules as whole files: the project root, and a module's source digest with what it imports.

Code reached without a global name — ``import lazy_mod`` inside a function
body, ``getattr(plugins, name)(x)`` dispatch, ``import helpers`` in a notebook
cell — cannot be followed function by function. Such a module is keyed by its
whole normalized source (comments and formatting do not count) and,
transitively, by the sources of the project modules it imports. A module is
found without importing it (the finder is asked, the file is read), so a key
can be computed before the function first runs in a fresh process.

The project is the folder holding ``pyproject.toml``, ``setup.py``,
``setup.cfg`` or ``.git`` above the working directory (a notebook in
``notebooks/`` importing ``../src`` belongs to the repository), else the
working directory. Packages installed in editable mode are project code too.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from .source import ast_digest, strip_docstrings

_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working directory) with a project marker."""
    here = Path(start if start is not None else os.getcwd()).resolve()
    home = Path.home().resolve()
    for folder in (here, *here.parents):
        if folder == home or folder.parent == folder:
            break  # a dotfiles repository in $HOME does not make every folder one project
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    return here


@functools.lru_cache(maxsize=1)
def editable_roots() -> tuple[str, ...]:
    """Source folders of distributions installed in editable (development) mode, each ending in a separator.

    One pass over the installed distributions' ``direct_url.json`` (PEP 610), once per process.
    """
    found: set[str] = set()
    for dist in importlib.metadata.distributions():
        try:
            text = dist.read_text("direct_url.json")
            info = json.loads(text) if text else {}
        except (OSError, ValueError):
            continue  # a broken record: that distribution is treated as a library
        if not (isinstance(info, dict) and (info.get("dir_info") or {}).get("editable")):
            continue
        url = str(info.get("url", ""))
        if url.startswith("file://"):
            folder = urllib.parse.unquote(urllib.parse.urlparse(url).path)
            found.add(str(Path(folder).resolve()) + os.sep)
    return tuple(sorted(found))


def module_file(name: str) -> str | None:
    """The source file of module ``name``, found without importing it (None: not found, or no source)."""
    module = sys.modules.get(name)
    if module is not None:
        file = getattr(module, "__file__", None)
        return file if isinstance(file, str) and file.endswith(".py") else None
    path: list[str] | None = None
    spec = None
    parts = name.split(".")
    for i in range(len(parts)):
        prefix = ".".join(parts[: i + 1])
        loaded = sys.modules.get(prefix)
        if loaded is not None and i < len(parts) - 1:
            path = list(getattr(loaded, "__path__", []) or [])
            continue
        try:
            spec = importlib.machinery.PathFinder.find_spec(prefix, path)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        path = list(spec.submodule_search_locations or [])
    origin = spec.origin if spec is not None else None
    return origin if isinstance(origin, str) and origin.endswith(".py") else None


def resolve(name: str, level: int, package: str | None) -> str | None:
    """The absolute name of an import (``from ..x import y`` seen from ``package``)."""
    if level == 0:
        return name
    if not package:
        return None
    try:
        return importlib.util.resolve_name("." * level + name, package)
    except (ImportError, ValueError):
        return None


class ModuleSources:
    """Digests of project modules' source files (with their project imports), re-read when a file changes."""

    def __init__(self, tracked: Callable[[str], bool]) -> None:
        self._tracked = tracked  # file path -> is it project code?
        self._files: dict[str, tuple[tuple[int, int], str, tuple[str, ...]]] = {}

    def digest(self, name: str) -> str | None:
        """Digest of module ``name`` and the project modules it imports; None if it is not project code."""
        file = module_file(name)
        if file is None or not self._tracked(file):
            return None
        h = hashlib.sha256()
        seen: set[str] = set()
        todo = [(name, file)]
        while todo:
            current, path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            own, imports = self._file(path, current)
            h.update(f"{current}={own};".encode())
            for imported in imports:
                found = module_file(imported)
                if found is not None and found not in seen and self._tracked(found):
                    todo.append((imported, found))
        return h.hexdigest()

    def _file(self, path: str, name: str) -> tuple[str, tuple[str, ...]]:
        try:
            stat = os.stat(path)
        except OSError:
            return "<missing>", ()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._files.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        try:
            tree = ast.parse(Path(path).read_bytes(), path)
        except (OSError, SyntaxError, ValueError):
            own = "<unreadable>"
            imports: tuple[str, ...] = ()
        else:
            own = ast_digest(strip_docstrings(tree))
            package = name if os.path.basename(path) == "__init__.py" else name.rpartition(".")[0]
            imports = tuple(_imports(tree, package))
        self._files[path] = (stamp, own, imports)
        return own, imports


def _imports(tree: ast.AST, package: str) -> list[str]:
    """Absolute names of the modules (and possible submodules) a file imports, anywhere in it."""
    names: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.name] = None
        elif isinstance(node, ast.ImportFrom):
            base = resolve(node.module or "", node.level, package)
            if base:
                names[base] = None
                for alias in node.names:
                    if alias.name != "*":
                        names[f"{base}.{alias.name}"] = None
    return list(names)


__all__ = ["ModuleSources", "editable_roots", "module_file", "project_root", "resolve"]

"""Fingerprints of functions: their code and, transitively, everything they depend on.

A fingerprint is a flat ``{component: digest}`` mapping, e.g.::

    code __main__.train           -> 5e1c...   (normalized AST)
    global __main__.train:RATE    -> 9a0b...   (value digest)
    default __main__.train:epochs -> 77d2...
    code helpers.load             -> 03aa...   (a tracked callee)
    attribute __main__.Trainer.decay -> 41f0... (a class attribute's value)
    module lazy_mod               -> 8c2e...   (whole source: imported in a body, or used bare)
    library numpy                 -> numpy 2.4.6

Flat components make a miss explainable (``why``): the changed keys are the
answer. Tracked code (``__main__``, notebook cells, modules under the project
folder, anything marked) is followed into its globals, defaults, closures and
callees; other code is identified by name and installed version.

A function is named by its *code's* qualified name in the module that defined
it, not by ``__qualname__``: ``functools.wraps`` copies the wrapped function's
name onto the wrapper, and both must stay in the key. Class attribute values
(constants, attributes set at run time) are part of a class's fingerprint.
Modules a function imports inside its body, and project modules it uses as
values (``getattr(plugins, name)``), are keyed by their whole source with the
project modules they import (:mod:`lakelet.cache.modules`).
"""

from __future__ import annotations

import builtins
import copy
import functools
import hashlib
import importlib.metadata
import os
import sys
import sysconfig
import types
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .arguments import ValueHasher, reference
from .errors import UnhashableValue
from .marks import is_marked
from .modules import ModuleSources, editable_roots, project_root, resolve
from .source import CodeIdentity, SourceIndex, ast_digest, strip_docstrings

Components = dict[str, str]

_LIBRARY_ROOTS = ("lakelet",)  # never tracked, even when the project folder holds it
_SKIP_CLASS_ATTRS = frozenset(
    {
        "__dict__",
        "__weakref__",
        "__module__",
        "__doc__",
        "__qualname__",
        "__firstlineno__",
        "__static_attributes__",
        "__annotations__",
        "_abc_impl",
        "__slots__",
        "__parameters__",
        "__orig_bases__",
        "__dataclass_params__",
        "__match_args__",
    }
)
# descriptors that hold no user value (slots, C-level getters)
_PLAIN_DESCRIPTORS = (types.MemberDescriptorType, types.GetSetDescriptorType)


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get("purelib"), paths.get("platlib"), paths.get("stdlib"), paths.get("platstdlib")}
    return tuple(sorted(str(Path(d).resolve()) + os.sep for d in dirs if d))


def combine(components: Components) -> str:
    """One digest for a component mapping (order-independent)."""
    h = hashlib.sha256()
    for name in sorted(components):
        h.update(name.encode("utf-8", "surrogatepass") + b"\x00" + components[name].encode() + b"\x01")
    return h.hexdigest()


class Fingerprinter:
    """Computes fingerprints; caches what depends only on code, never what depends on values.

    ``project`` is the folder whose modules count as user code (default: the
    project root above the working directory, see :func:`~lakelet.cache.modules.project_root`).
    ``ignore`` names globals (or class attributes, ``Class.attr``) to leave out of keys.
    """

    def __init__(self, project: str | os.PathLike[str] | None = None, *, ignore: tuple[str, ...] = ()) -> None:
        root = Path(project).resolve() if project is not None else project_root()
        self.project = str(root) + os.sep
        self.ignore = frozenset(ignore)
        self.modules = ModuleSources(self._in_project)
        self._active: set[int] = set()  # classes/functions being fingerprinted by token() (enum members...)
        self.sources = SourceIndex()
        self.values = ValueHasher(self.token)
        self._codes: weakref.WeakKeyDictionary[types.CodeType, CodeIdentity] = weakref.WeakKeyDictionary()
        self._modules: dict[str, bool] = {}
        self._versions: dict[str, str] = {}
        self._library_dirs = _library_dirs()
        self._distributions: dict[str, list[str]] | None = None

    # ------------------------------------------------------------------ public
    def function(self, func: Callable[..., Any]) -> Components:
        """The components of ``func``'s fingerprint."""
        out: Components = {}
        self._callable(func, out, set())
        return out

    def token(self, obj: Any) -> str:
        """A stable token for a function, class or module met inside a value."""
        if isinstance(obj, types.ModuleType):
            return f"module {obj.__name__} {self._version(obj.__name__)}"
        if self._tracked(obj):
            if id(obj) in self._active:  # met again inside its own fingerprint (an enum member's class)
                return f"tracked {reference(obj)} (itself)"
            self._active.add(id(obj))
            try:
                out: Components = {}
                self._callable(obj, out, set())
            finally:
                self._active.discard(id(obj))
            return f"tracked {reference(obj)} {combine(out)}"
        wrapped = getattr(obj, "__wrapped__", None)
        if callable(wrapped) and wrapped is not obj:
            return f"{self._library_ref(obj)} wrapping {self.token(wrapped)}"
        return self._library_ref(obj)

    def value(self, value: Any, what: str) -> str:
        """The digest of a value (its tracked code included)."""
        return self.values.digest(value, what=what)

    def code(self, code: types.CodeType) -> CodeIdentity:
        """The cached identity of a code object."""
        found = self._codes.get(code)
        if found is None:
            found = self.sources.identity(code)
            self._codes[code] = found
        return found

    # ------------------------------------------------------------------ tracking
    def tracked_module(self, name: str | None, file: str | None = None) -> bool:
        """Whether functions of module ``name`` (defined in ``file``, if known) are user code."""
        if name is None or name == "__main__":
            return True
        known = self._modules.get(name)
        if known is not None:
            return known
        module = sys.modules.get(name)
        if module is not None and is_marked(module):
            return True  # not cached: a mark may be added at any time
        root = name.partition(".")[0]
        if root in _LIBRARY_ROOTS:
            result = False
        else:
            file = getattr(module, "__file__", None) or file
            result = bool(file) and (self._in_project(str(file)) or self._editable(root, str(file)))
        self._modules[name] = result
        return result

    def _in_project(self, file: str) -> bool:
        path = str(Path(file).resolve())
        if not path.startswith(self.project) or any(path.startswith(d) for d in self._library_dirs):
            return False
        return "site-packages" not in path and "dist-packages" not in path

    def _editable(self, root: str, file: str) -> bool:
        """A module of a package installed in editable mode (its file is in that source folder) is user code."""
        path = str(Path(file).resolve())
        if any(path.startswith(d) for d in self._library_dirs) or "site-packages" in path:
            return False
        return any(path.startswith(folder) for folder in editable_roots())

    def _tracked(self, obj: Any) -> bool:
        if isinstance(obj, types.FunctionType):
            return is_marked(obj) or self.tracked_module(obj.__module__, obj.__globals__.get("__file__"))
        if isinstance(obj, type):
            return is_marked(obj) or self.tracked_module(obj.__module__)
        return False

    # ------------------------------------------------------------------ walking
    def _callable(self, obj: Any, out: Components, seen: set[int]) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            self._function(obj, out, seen)
        elif isinstance(obj, type):
            self._class(obj, out, seen)
        else:
            out[f"object {reference(obj)}"] = self.token(obj)

    def _function(self, func: types.FunctionType, out: Components, seen: set[int]) -> None:
        name = _unique(_code_name(func), out)
        identity = self.code(func.__code__)
        out[f"code {name}"] = identity.digest
        for i, value in enumerate(func.__defaults__ or ()):
            param = func.__code__.co_varnames[func.__code__.co_argcount - len(func.__defaults__) + i]
            out[f"default {name}:{param}"] = self.value(value, f"default of parameter {param!r} of {name}")
        for param, value in sorted((func.__kwdefaults__ or {}).items()):
            out[f"default {name}:{param}"] = self.value(value, f"default of parameter {param!r} of {name}")
        for var, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
            try:
                content = cell.cell_contents
            except ValueError:  # an empty cell: the variable is not bound yet
                out[f"closure {name}:{var}"] = "<unbound>"
                continue
            if var == "__class__" or var in self.ignore:
                continue  # __class__ is super()'s cell; the class is fingerprinted where it is referenced
            self.dependency(content, f"closure {name}:{var}", (), out, seen)
        namespace = func.__globals__
        for var in identity.global_names:
            if var in self.ignore:
                continue
            label = f"global {name}:{var}"
            if var in namespace:
                self.dependency(
                    namespace[var], label, identity.attributes.get(var, ()), out, seen, whole=var in identity.bare
                )
            elif var not in _builtin_names(namespace):
                out[label] = "<undefined>"
        package = namespace.get("__package__") or None
        for module, level in identity.imports:
            absolute = resolve(module, level, package)
            if absolute:
                self.module_source(absolute, out)

    def module_source(self, name: str, out: Components) -> None:
        """Key a project module by its whole source (and its project imports); library modules by version."""
        if name in self.ignore or f"module {name}" in out:
            return
        digest = self.modules.digest(name)
        if digest is not None:
            out[f"module {name}"] = digest

    def dependency(
        self,
        value: Any,
        label: str,
        attributes: tuple[tuple[str, ...], ...],
        out: Components,
        seen: set[int] | None = None,
        *,
        whole: bool = False,
    ) -> None:
        """Add to ``out`` the fingerprint of one thing code refers to (a global, a closure variable,
        a notebook variable); ``attributes`` are the attribute chains read from it (``mod.f``);
        ``whole``: a module is also used as a value, so its whole source counts."""
        if seen is None:
            seen = set()
        if isinstance(value, types.ModuleType):
            out[label] = f"module {value.__name__}"
            if not self.tracked_module(value.__name__):
                root = value.__name__.partition(".")[0]
                out[f"library {root}"] = f"{root} {self._version(root)}"
                return
            if whole:  # used as a value (getattr dispatch, passed on): any of its code may run
                self.module_source(value.__name__, out)
            for chain in attributes:
                target: Any = value
                path = value.__name__
                for attr in chain:
                    if isinstance(target, types.ModuleType) and hasattr(target, attr):
                        target = getattr(target, attr)
                        path = f"{path}.{attr}"
                    else:
                        break
                if target is not value:
                    self.dependency(target, f"{label}.{path.partition('.')[2] or path}", (), out, seen)
            return
        if isinstance(value, types.FunctionType | type):
            if self._tracked(value):
                out[label] = f"-> {reference(value)}"
                self._callable(value, out, seen)
                return
            out[label] = self._library_ref(value)
            self._library(value, out)
            return
        wrapped = getattr(value, "__wrapped__", None)
        if callable(wrapped) and wrapped is not value and not isinstance(value, type):
            out[label] = f"wrapper {self._library_ref(value)}"
            self.dependency(wrapped, f"{label}.__wrapped__", (), out, seen)
            return
        if isinstance(value, types.BuiltinFunctionType | types.MethodDescriptorType | types.WrapperDescriptorType):
            out[label] = self._library_ref(value)
            return
        kind, _, what = label.partition(" ")
        out[label] = self.value(value, f"{'class attribute' if kind == 'attribute' else 'global'} {what!r}")

    def _class(self, cls: type, out: Components, seen: set[int]) -> None:
        name = reference(cls)
        methods = [v for v in vars(cls).values() if isinstance(v, types.FunctionType)]
        filename = methods[0].__code__.co_filename if methods else _module_file(cls)
        line = methods[0].__code__.co_firstlineno if methods else None
        node = self.sources.class_node(cls, filename, line) if filename else None
        if node is not None:
            out[f"class {name}"] = ast_digest(strip_docstrings(copy.deepcopy(node)))
        else:
            out[f"class {name}"] = self._class_by_value(cls)
        for base in cls.__bases__:
            if base is not object:
                self.dependency(base, f"base {name}:{reference(base)}", (), out, seen)
        for attr, value in sorted(vars(cls).items(), key=lambda kv: kv[0]):
            if isinstance(value, staticmethod | classmethod):
                value = value.__func__
            if isinstance(value, functools.cached_property):
                value = value.func
            if isinstance(value, property):
                for accessor in (value.fget, value.fset, value.fdel):
                    if isinstance(accessor, types.FunctionType):
                        self._callable(accessor, out, seen)
            elif isinstance(value, types.FunctionType):
                self._callable(value, out, seen)
            elif not _skip_attribute(attr, value) and not {attr, f"{cls.__qualname__}.{attr}"} & self.ignore:
                try:  # a class constant, or an attribute set at run time: its value is part of the class
                    self.dependency(value, f"attribute {name}.{attr}", (), out, seen)
                except UnhashableValue as e:
                    what = f"{cls.__qualname__}.{attr}"
                    raise UnhashableValue(
                        f"{e}; if class attribute {what} does not affect results, add {what!r} to "
                        "ignore= (or --ignore in %%lake_cache)",
                        what=what,
                    ) from e

    def _class_by_value(self, cls: type) -> str:
        """Identity of a class without source: its attribute names and simple values."""
        h = hashlib.sha256(cls.__qualname__.encode())
        for attr, value in sorted(vars(cls).items(), key=lambda kv: kv[0]):
            if attr in _SKIP_CLASS_ATTRS:
                continue
            h.update(attr.encode())
            if isinstance(value, int | float | str | bytes | tuple | frozenset | type(None)):
                try:
                    h.update(self.value(value, f"class attribute {attr}").encode())
                except UnhashableValue:
                    h.update(b"?")
        return "by-value " + h.hexdigest()

    # ------------------------------------------------------------------ libraries
    def _library_ref(self, obj: Any) -> str:
        module = getattr(obj, "__module__", None) or ""
        root = module.partition(".")[0]
        return f"{reference(obj)} ({self._version(root)})" if root else reference(obj)

    def _library(self, obj: Any, out: Components) -> None:
        root = (getattr(obj, "__module__", None) or "").partition(".")[0]
        if root and root != "builtins":
            out[f"library {root}"] = f"{root} {self._version(root)}"

    def _version(self, root: str) -> str:
        root = root.partition(".")[0]
        known = self._versions.get(root)
        if known is not None:
            return known
        if root in sys.stdlib_module_names or root in ("builtins", "__main__"):
            version = "stdlib"
        else:
            version = getattr(sys.modules.get(root), "__version__", None)
            if not isinstance(version, str):
                version = self._distribution_version(root)
        self._versions[root] = version
        return version

    def _distribution_version(self, root: str) -> str:
        if self._distributions is None:
            self._distributions = dict(importlib.metadata.packages_distributions())
        for dist in self._distributions.get(root, ()):
            try:
                return importlib.metadata.version(dist)
            except importlib.metadata.PackageNotFoundError:
                continue
        return "unversioned"


def _code_name(func: types.FunctionType) -> str:
    """Where the code was defined: ``functools.wraps`` copies ``__qualname__``/``__module__`` onto wrappers."""
    module = func.__globals__.get("__name__") or func.__module__ or "?"
    return f"{module}.{func.__code__.co_qualname}"


def _unique(name: str, out: Components) -> str:
    """``name``, or ``name#2``... when another function of the same name is already in the key."""
    if f"code {name}" not in out:
        return name
    n = 2
    while f"code {name}#{n}" in out:
        n += 1
    return f"{name}#{n}"


def _skip_attribute(attr: str, value: Any) -> bool:
    """Class attributes that are machinery, not values: dunders, ABC/enum internals, slot descriptors."""
    if attr in _SKIP_CLASS_ATTRS or (attr.startswith("__") and attr.endswith("__")):
        return True
    if attr.startswith("_") and attr.endswith("_") and len(attr) > 2:  # enum's _member_map_ etc.
        return True
    return isinstance(value, _PLAIN_DESCRIPTORS)


def _builtin_names(namespace: dict[str, Any]) -> Any:
    found = namespace.get("__builtins__", builtins)
    return found if isinstance(found, dict) else vars(found)


def _module_file(cls: type) -> str | None:
    module = sys.modules.get(cls.__module__)
    return getattr(module, "__file__", None)


__all__ = ["Components", "Fingerprinter", "combine"]

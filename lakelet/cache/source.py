"""Code identity from normalized source: the AST of a function, without its comments,
docstrings, formatting or line numbers.

The AST is serialized by :func:`dump_ast`, which skips empty optional fields, so
a field that a newer Python adds with an empty default (``type_params``) does
not change the identity of old code. When no trustworthy source exists (code
from ``exec``, or a file edited on disk after it was imported) the identity
falls back to the bytecode, which is exact for the running code but specific to
the Python minor version.
"""

from __future__ import annotations
import __future__ as _future

import ast
import copy
import dis
import functools
import hashlib
import linecache
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass

_FUTURE_FLAGS = functools.reduce(
    lambda acc, name: acc | getattr(_future, name).compiler_flag, _future.all_feature_names, 0
)
_SKIP_FIELDS = frozenset({"type_comment", "kind", "ctx"})
_GLOBAL_OPS = frozenset({"LOAD_GLOBAL", "STORE_GLOBAL", "DELETE_GLOBAL", "LOAD_NAME"})
_ATTR_OPS = frozenset({"LOAD_ATTR", "LOAD_METHOD"})


@dataclass(frozen=True)
class CodeIdentity:
    """What a code object is, for cache keys."""

    digest: str  # hex sha256 of the normalized AST (or of the bytecode)
    method: str  # "ast" or "bytecode"
    global_names: tuple[str, ...]  # globals the code (and its nested code) reads, in order
    attributes: dict[str, tuple[tuple[str, ...], ...]]  # global -> attribute chains read from it
    imports: tuple[tuple[str, int], ...] = ()  # (module, level) of imports inside the code (`import x` in a body)
    bare: frozenset[str] = frozenset()  # globals used as values, not only through `name.attr` (getattr dispatch)


# ------------------------------------------------------------------------------ AST
def strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove docstrings of the module, classes and functions in ``tree`` (in place)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            first = body[0] if body else None
            if _is_docstring(first):
                node.body = body[1:]
    return tree


def _is_docstring(stmt: ast.stmt | None) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def dump_ast(node: object) -> str:
    """A canonical text of an AST: no positions, no empty optional fields."""
    out: list[str] = []
    _dump(node, out)
    return "".join(out)


def _dump(node: object, out: list[str]) -> None:
    if isinstance(node, ast.AST):
        out.append(type(node).__name__)
        out.append("(")
        for name in node._fields:
            if name in _SKIP_FIELDS:
                continue
            value = getattr(node, name, None)
            if value is None or (isinstance(value, list) and not value):
                continue
            out.append(name)
            out.append("=")
            _dump(value, out)
            out.append(",")
        out.append(")")
    elif isinstance(node, list):
        out.append("[")
        for item in node:
            _dump(item, out)
            out.append(",")
        out.append("]")
    else:
        out.append(f"{type(node).__name__}:{node!r}")


def ast_digest(node: ast.AST) -> str:
    """sha256 of the canonical dump of ``node``."""
    return hashlib.sha256(dump_ast(node).encode("utf-8", "surrogatepass")).hexdigest()


# ------------------------------------------------------------------------------ bytecode
def bytecode_digest(code: types.CodeType) -> str:
    """sha256 of a code object without file name or line numbers (Python-version specific)."""
    h = hashlib.sha256(f"py{sys.version_info[0]}.{sys.version_info[1]}".encode())
    _feed_code(h, code)
    return h.hexdigest()


def _feed_code(h: hashlib._Hash, code: types.CodeType) -> None:
    parts = (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_names,
        code.co_varnames,
        code.co_freevars,
        code.co_cellvars,
    )
    h.update(repr(parts).encode())
    h.update(code.co_code)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(h, const)
        else:
            h.update(f"{type(const).__name__}:{const!r};".encode())


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    """Equal bytecode, names and constants (recursively), ignoring positions."""
    if (a.co_code, a.co_names, a.co_varnames, a.co_freevars, a.co_cellvars, a.co_flags) != (
        b.co_code,
        b.co_names,
        b.co_varnames,
        b.co_freevars,
        b.co_cellvars,
        b.co_flags,
    ):
        return False
    if len(a.co_consts) != len(b.co_consts):
        return False
    for x, y in zip(a.co_consts, b.co_consts, strict=True):
        if isinstance(x, types.CodeType) and isinstance(y, types.CodeType):
            if not _same_code(x, y):
                return False
        elif type(x) is not type(y) or x != y:
            return False
    return True


# ------------------------------------------------------------------------------ globals
def code_globals(code: types.CodeType) -> tuple[tuple[str, ...], dict[str, tuple[tuple[str, ...], ...]]]:
    """Global names a code object (and its nested code) reads, and the attribute chains read from them."""
    found = code_references(code)
    return found[0], found[1]


def code_references(
    code: types.CodeType,
) -> tuple[tuple[str, ...], dict[str, tuple[tuple[str, ...], ...]], tuple[tuple[str, int], ...], frozenset[str]]:
    """Globals read, attribute chains read from them, modules imported inside the code, globals used bare."""
    names: dict[str, None] = {}
    chains: dict[str, dict[tuple[str, ...], None]] = {}
    imports: dict[tuple[str, int], None] = {}
    bare: set[str] = set()
    for sub in _walk_code(code):
        current: str | None = None
        chain: list[str] = []
        level = 0
        for ins in dis.get_instructions(sub):
            if ins.opname in _ATTR_OPS and current is not None:
                chain.append(ins.argval)
                continue
            if current is not None:
                if chain:
                    chains.setdefault(current, {})[tuple(chain)] = None
                else:
                    bare.add(current)
            current, chain = None, []
            if ins.opname in _GLOBAL_OPS:
                names[ins.argval] = None
                current = ins.argval
            elif ins.opname == "IMPORT_NAME":
                imports[(ins.argval, level)] = None
            elif ins.opname == "IMPORT_FROM" and imports:
                module, lvl = next(reversed(imports))
                imports[(f"{module}.{ins.argval}" if module else ins.argval, lvl)] = None
            if ins.opname == "LOAD_CONST" and isinstance(ins.argval, int):
                level = ins.argval
        if current is not None:
            if chain:
                chains.setdefault(current, {})[tuple(chain)] = None
            else:
                bare.add(current)
    return tuple(names), {k: tuple(v) for k, v in chains.items()}, tuple(imports), frozenset(bare)


def _walk_code(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _walk_code(const)


# ------------------------------------------------------------------------------ finding source
class SourceIndex:
    """Parsed files, keyed by file name and text, so each file is parsed once per content."""

    def __init__(self) -> None:
        self._trees: dict[str, tuple[str, ast.Module | None]] = {}
        self._codes: dict[tuple[str, int], tuple[str, types.CodeType | None]] = {}

    def tree(self, filename: str) -> tuple[ast.Module, str] | None:
        """The parsed source of ``filename`` (a file, or a notebook cell in ``linecache``)."""
        if filename.startswith("<") and filename not in linecache.cache:
            return None
        lines = linecache.getlines(filename)
        if not lines:
            return None
        text = "".join(lines)
        cached = self._trees.get(filename)
        if cached is not None and cached[0] == text:
            return (cached[1], text) if cached[1] is not None else None
        try:
            tree: ast.Module | None = ast.parse(text, filename)
        except (SyntaxError, ValueError):
            tree = None
        self._trees[filename] = (text, tree)
        return (tree, text) if tree is not None else None

    def identity(self, code: types.CodeType) -> CodeIdentity:
        """The identity of ``code``: its normalized AST if the source is found and current."""
        names, attrs, imports, bare = code_references(code)
        node = self._verified_node(code)
        if node is None:
            return CodeIdentity(bytecode_digest(code), "bytecode", names, attrs, imports, bare)
        return CodeIdentity(ast_digest(_normalized(node)), "ast", names, attrs, imports, bare)

    def class_node(self, cls: type, filename: str, line: int | None) -> ast.ClassDef | None:
        """The ``class`` statement of ``cls`` in ``filename`` (the one containing ``line`` if several)."""
        found = self.tree(filename)
        if found is None:
            return None
        candidates = [n for n in ast.walk(found[0]) if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
        if line is not None:
            candidates = [n for n in candidates if n.lineno <= line <= (n.end_lineno or n.lineno)]
        return candidates[-1] if candidates else None

    def _verified_node(self, code: types.CodeType) -> ast.AST | None:
        found = self.tree(code.co_filename)
        if found is None:
            return None
        tree, text = found
        node = _find_node(tree, code)
        if node is None:
            return None
        # The file may have been edited since the code was compiled: compile it again and
        # check that it yields the very code we run. A module is compiled as a whole (an
        # import in the same unit changes the bytecode of calls on the imported module);
        # IPython compiles each top-level statement of a cell on its own, so that is tried next.
        flags = code.co_flags & _FUTURE_FLAGS
        whole = self._compiled(code.co_filename, text, tree, flags)
        if whole is not None and _holds(whole, code):
            return node
        alone = _compile_statement(tree, code, flags)
        if alone is not None and _holds(alone, code):
            return node
        return None

    def _compiled(self, filename: str, text: str, tree: ast.Module, flags: int) -> types.CodeType | None:
        key = (filename, flags)
        cached = self._codes.get(key)
        if cached is not None and cached[0] == text:
            return cached[1]
        try:
            compiled: types.CodeType | None = compile(
                tree, filename, "exec", flags=flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
            )
        except (SyntaxError, ValueError):
            compiled = None
        self._codes[key] = (text, compiled)
        return compiled


def _holds(compiled: types.CodeType, code: types.CodeType) -> bool:
    """Whether ``compiled`` contains exactly ``code`` (same place, same bytecode)."""
    where = _start(code)
    for candidate in _walk_code(compiled):
        if (candidate.co_qualname, candidate.co_firstlineno) != (code.co_qualname, code.co_firstlineno):
            continue
        if _start(candidate) == where:  # several lambdas may share a line: same columns too
            return _same_code(candidate, code)
    return False


def _compile_statement(tree: ast.Module, code: types.CodeType, flags: int) -> types.CodeType | None:
    """Compile, on its own, the top-level statement of ``tree`` that holds ``code``."""
    line = code.co_firstlineno
    for statement in tree.body:
        if _first_line(statement) <= line <= (statement.end_lineno or statement.lineno):
            unit = ast.Module(body=[statement], type_ignores=[])
            try:
                return compile(unit, code.co_filename, "exec", flags=flags | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                               dont_inherit=True)
            except (SyntaxError, ValueError):
                return None
    return None


def _start(code: types.CodeType) -> tuple[int, int]:
    """Line and column where a code object's body starts (tells apart lambdas on one line)."""
    for line, _, column, _ in code.co_positions():
        if line is not None and column:
            return line, column
    return code.co_firstlineno, 0


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", ())
    return min([node.lineno, *(d.lineno for d in decorators)])


def _find_node(tree: ast.Module, code: types.CodeType) -> ast.AST | None:
    """The def/lambda node of ``code`` in ``tree``."""
    line = code.co_firstlineno
    if code.co_name == "<lambda>":
        return _pick_lambda([n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == line], code)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == code.co_name
            and _first_line(node) == line
        ):
            return node
    return None


def _pick_lambda(lambdas: list[ast.Lambda], code: types.CodeType) -> ast.Lambda | None:
    if len(lambdas) <= 1:
        return lambdas[0] if lambdas else None
    columns = [col for (ln, _, col, _) in code.co_positions() if ln == code.co_firstlineno and col]
    if not columns:
        return None
    start = min(columns)
    inside = [n for n in lambdas if n.col_offset <= start <= (n.end_col_offset or n.col_offset)]
    if not inside:
        return None
    return max(inside, key=lambda n: n.col_offset)  # the innermost lambda that holds the body


def _normalized(node: ast.AST) -> ast.AST:
    """A copy of a def/lambda node without docstrings or its own decorators (they wrap it; they are not it)."""
    clone = copy.deepcopy(node)
    if isinstance(clone, ast.FunctionDef | ast.AsyncFunctionDef):
        clone.decorator_list = []
    return strip_docstrings(clone)


__all__ = [
    "CodeIdentity",
    "SourceIndex",
    "ast_digest",
    "bytecode_digest",
    "code_globals",
    "code_references",
    "dump_ast",
]

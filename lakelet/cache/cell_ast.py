"""What a notebook cell reads and writes, found from its AST.

Reads are the names a cell may take from the namespace: loaded before the cell
assigns them on every path (an assignment inside an ``if`` or a loop does not
count as definite). Writes are the names it binds at top level (assignments,
``for``/``with`` targets, imports, defs, walrus), the objects it mutates by
item or attribute assignment (``df["x"] = ...``), and names declared ``global``
in functions it defines. Mutation through method calls (``lst.append``) and
``global`` statements in functions defined elsewhere cannot be seen here: the
engine compares the namespace and the inputs' digests before and after a run
(:mod:`lakelet.cache.cell`).

IPython line magics are part of the shell, not inputs: ``%time stmt`` is
analyzed as ``stmt``, ``%run [-i] script.py`` as the script's code (and the
script's file is keyed by content); other magics are keyed by their text.
"""

from __future__ import annotations

import ast
import copy
import os
import shlex
from dataclasses import dataclass, field

from .source import ast_digest, strip_docstrings

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


@dataclass
class CellCode:
    """The analysis of one cell."""

    tree: ast.Module
    digest: str  # normalized code identity
    reads: list[str]  # names the cell may read from the namespace, in order
    attributes: dict[str, tuple[tuple[str, ...], ...]]  # read name -> attribute chains used on it
    writes: list[str]  # names to store after a run
    definitions: list[int]  # indices of top-level def/class/import statements (re-executed on a hit)
    defined: list[str]  # names those statements bind
    deleted: list[str] = field(default_factory=list)  # names removed by ``del``
    has_result: bool = False  # the last statement is an expression (the cell's Out)
    files: list[str] = field(default_factory=list)  # files keyed by content (scripts run by %run)
    imports: list[tuple[str, int]] = field(default_factory=list)  # (module, level) imported anywhere in the cell
    seeded: frozenset[str] = frozenset()  # global generators ("numpy", "random") seeded before any other call


def analyze(source: str) -> CellCode:
    """Analyze transformed (plain Python) cell source; raises SyntaxError."""
    tree = ast.parse(source)
    normalized = copy.deepcopy(tree)
    for node in ast.walk(normalized):
        if isinstance(node, _SCOPES[:2] + (ast.ClassDef,)):
            strip_docstrings(node)
    expanded, files = _expand_magics(tree)
    flow = _Flow()
    flow.block(expanded.body, definite=True)
    writes: dict[str, None] = {}
    for name in flow.stores:
        writes[name] = None
    definitions, defined = [], []
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, _DEFINITIONS):
            definitions.append(i)
            defined.extend(_bound_by(stmt))
    return CellCode(
        tree=tree,
        digest=ast_digest(normalized),
        reads=list(flow.reads),
        attributes={k: tuple(v) for k, v in flow.chains.items() if k in flow.reads},
        writes=list(writes),
        definitions=definitions,
        defined=list(dict.fromkeys(defined)),
        deleted=list(flow.deleted),
        has_result=bool(tree.body) and isinstance(tree.body[-1], ast.Expr),
        files=files,
        imports=_imports(expanded),
        seeded=_seeded(expanded),
    )


# ------------------------------------------------------------------------------ magics
def _magic_call(node: ast.AST) -> tuple[str, str] | None:
    """``get_ipython().run_line_magic('name', 'args')`` -> (name, args)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    owner = node.func.value
    if not (
        node.func.attr == "run_line_magic"
        and isinstance(owner, ast.Call)
        and isinstance(owner.func, ast.Name)
        and owner.func.id == "get_ipython"
        and len(node.args) >= 2
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args[:2])
    ):
        return None
    return node.args[0].value, node.args[1].value  # type: ignore[attr-defined]


def _expand_magics(tree: ast.Module) -> tuple[ast.Module, list[str]]:
    """A copy of ``tree`` for analysis, with %time/%timeit/%run replaced by the code they run."""
    files: list[str] = []
    body: list[ast.stmt] = []
    for stmt in tree.body:
        call = _magic_call(stmt.value) if isinstance(stmt, ast.Expr | ast.Assign) else None
        if call is None:
            body.append(stmt)
            continue
        name, args = call
        if name in ("time", "timeit", "prun") and isinstance(stmt, ast.Expr):
            code = args.split(None, 1)[-1] if name == "timeit" and args.startswith("-") else args
            try:
                inner = ast.parse(code).body
            except SyntaxError:
                inner = []
            body.extend(inner if name != "timeit" else [ast.Expr(value=_as_load(inner))])
            continue
        if name == "time" and isinstance(stmt, ast.Assign):
            try:
                value = ast.parse(args, mode="eval").body
            except SyntaxError:
                body.append(stmt)
                continue
            body.append(ast.Assign(targets=stmt.targets, value=value, lineno=0))
            continue
        if name == "run":
            body.extend(_run_script(args, files))
        body.append(stmt)
    return ast.Module(body=body, type_ignores=[]), files


def _as_load(statements: list[ast.stmt]) -> ast.expr:
    """Statements analyzed as a scope: their free names are reads, nothing is written (%timeit)."""
    scope = ast.Lambda(args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]))
    scope.body = statements  # type: ignore[assignment]  # _Flow.scope walks a list body
    return scope


def _run_script(args: str, files: list[str]) -> list[ast.stmt]:
    """The statements of the script ``%run`` executes (``-i``: in the namespace; else only its names)."""
    try:
        words = shlex.split(args)
    except ValueError:
        return []
    interactive = False
    script = None
    for word in words:
        if word.startswith("-"):
            interactive = interactive or word == "-i"
            continue
        script = word
        break
    if script is None:
        return []
    files.append(script)
    try:
        with open(os.path.expanduser(script), "rb") as f:
            inner = ast.parse(f.read()).body
    except (OSError, SyntaxError, ValueError):
        return []
    if interactive:
        return inner
    bound = _Flow()
    bound.block(inner, definite=True)  # the script's own namespace: only the names it leaves behind matter
    return [
        ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())], value=ast.Constant(value=None), lineno=0)
        for n in bound.stores
    ]


def _imports(tree: ast.Module) -> list[tuple[str, int]]:
    found: dict[tuple[str, int], None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found[(alias.name, 0)] = None
        elif isinstance(node, ast.ImportFrom):
            found[(node.module or "", node.level)] = None
            for alias in node.names:
                if alias.name != "*":
                    found[(f"{node.module}.{alias.name}" if node.module else alias.name, node.level)] = None
    return list(found)


def _seeded(tree: ast.Module) -> frozenset[str]:
    """Generators the cell seeds (``np.random.seed(0)``, ``random.seed(1)``) before any other call."""
    seeded: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute | ast.Name):
            chain, base = _attribute_chain(call.func) if isinstance(call.func, ast.Attribute) else ([], call.func)
            name = chain[-1] if chain else (base.id if base is not None else "")
            if name in ("seed", "set_state", "setstate"):
                words = {base.id if base is not None else "", *chain}
                if words & {"np", "numpy"} or ("random" in words and name != "setstate" and len(chain) > 1):
                    seeded.add("numpy")
                elif "random" in words:
                    seeded.add("random")
                continue
        if any(isinstance(n, ast.Call) for n in ast.walk(stmt)):
            break
    return frozenset(seeded)


def _bound_by(stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        return [(a.asname or a.name).partition(".")[0] for a in stmt.names if a.name != "*"]
    return [stmt.name]  # type: ignore[attr-defined]


class _Flow:
    """A linear walk of the top-level code that tracks definite assignments."""

    def __init__(self) -> None:
        self.reads: dict[str, None] = {}
        self.stores: dict[str, None] = {}
        self.deleted: dict[str, None] = {}
        self.chains: dict[str, dict[tuple[str, ...], None]] = {}
        self.assigned: set[str] = set()

    def block(self, body: list[ast.stmt], *, definite: bool) -> None:
        saved = set(self.assigned)
        for stmt in body:
            self.statement(stmt)
        if not definite:
            self.assigned = saved  # names bound on only some paths may still come from the namespace

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign):
            self.load(stmt.value)
            for target in stmt.targets:
                self.store(target)
        elif isinstance(stmt, ast.AugAssign | ast.AnnAssign):
            if stmt.value is not None:
                self.load(stmt.value)
            if isinstance(stmt, ast.AugAssign):
                self.load(stmt.target)
            self.store(stmt.target)
        elif isinstance(stmt, ast.For | ast.AsyncFor):
            self.load(stmt.iter)
            self.store(stmt.target, definite=False)
            self.block(stmt.body, definite=False)
            self.block(stmt.orelse, definite=False)
        elif isinstance(stmt, ast.While | ast.If):
            self.load(stmt.test)
            self.block(stmt.body, definite=False)
            self.block(stmt.orelse, definite=False)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            for item in stmt.items:
                self.load(item.context_expr)
                if item.optional_vars is not None:
                    self.store(item.optional_vars)
            self.block(stmt.body, definite=True)
        elif isinstance(stmt, ast.Try | getattr(ast, "TryStar", ast.Try)):
            self.block(stmt.body, definite=False)
            for handler in stmt.handlers:
                if handler.type is not None:
                    self.load(handler.type)
                if handler.name:
                    self.bind(handler.name, definite=False)
                self.block(handler.body, definite=False)
            self.block(stmt.orelse, definite=False)
            self.block(stmt.finalbody, definite=False)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for deco in stmt.decorator_list:
                self.load(deco)
            self.scope(stmt)
            self.bind(stmt.name)
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for name in _bound_by(stmt):
                self.bind(name)
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.deleted[target.id] = None
                    self.assigned.discard(target.id)
                else:
                    self.store(target)
        else:
            self.load(stmt)

    # -------------------------------------------------------------- expressions
    def load(self, node: ast.AST) -> None:
        """Record the free names an expression (or simple statement) reads."""
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in self.assigned:
                self.reads[node.id] = None
            return
        if isinstance(node, ast.Attribute):
            chain, base = _attribute_chain(node)
            if base is not None and base.id not in self.assigned:
                self.chains.setdefault(base.id, {})[tuple(chain)] = None
        if isinstance(node, ast.NamedExpr):
            self.load(node.value)
            self.store(node.target)
            return
        if isinstance(node, _SCOPES):
            self.scope(node)
            return
        if isinstance(node, _COMPREHENSIONS):
            self.comprehension(node)
            return
        for child in ast.iter_child_nodes(node):
            self.load(child)

    def store(self, target: ast.AST, *, definite: bool = True) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, definite=definite)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self.store(element, definite=definite)
        elif isinstance(target, ast.Starred):
            self.store(target.value, definite=definite)
        elif isinstance(target, ast.Subscript | ast.Attribute):
            # df["x"] = ... mutates df: it is read (to be mutated) and written back
            self.load(target)
            base = target
            while isinstance(base, ast.Subscript | ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name):
                self.stores[base.id] = None

    def bind(self, name: str, *, definite: bool = True) -> None:
        self.stores[name] = None
        self.deleted.pop(name, None)
        if definite:
            self.assigned.add(name)

    def scope(self, node: ast.AST) -> None:
        """A def/lambda/class body: its free names are read when it runs; globals it declares are writes."""
        local: set[str] = set()
        args = getattr(node, "args", None)
        if isinstance(args, ast.arguments):
            for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
                self.load(default)
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None:
                    local.add(arg.arg)
        body = node.body if isinstance(node.body, list) else [node.body]  # type: ignore[attr-defined]
        declared: set[str] = set()
        for child in body:
            for sub in ast.walk(child):
                if isinstance(sub, ast.Global):
                    declared.update(sub.names)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
                    local.add(sub.id)
                elif isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    local.add(sub.name)
                elif isinstance(sub, ast.arg):
                    local.add(sub.arg)
        for name in declared:
            self.stores[name] = None
        local -= declared
        for child in body:
            for sub in ast.walk(child):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                    if sub.id not in local and sub.id not in self.assigned:
                        self.reads[sub.id] = None
                elif isinstance(sub, ast.Attribute):
                    chain, base = _attribute_chain(sub)
                    if base is not None and base.id not in local:
                        self.chains.setdefault(base.id, {})[tuple(chain)] = None

    def comprehension(self, node: ast.AST) -> None:
        targets: set[str] = set()
        for gen in node.generators:  # type: ignore[attr-defined]
            for sub in ast.walk(gen.target):
                if isinstance(sub, ast.Name):
                    targets.add(sub.id)
        for sub in ast.walk(node):
            loaded = isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load)
            if loaded and sub.id not in targets and sub.id not in self.assigned:
                self.reads[sub.id] = None


def _attribute_chain(node: ast.Attribute) -> tuple[list[str], ast.Name | None]:
    chain: list[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        chain.append(current.attr)
        current = current.value
    chain.reverse()
    return chain, current if isinstance(current, ast.Name) else None


__all__ = ["CellCode", "analyze"]

"""Deterministic, fast digests of Python values (arguments, globals, notebook variables).

Buffers are hashed where they lie: numpy arrays, Arrow data and bytes go
straight into sha256 (no pickling, no copy for contiguous data). Containers are
walked with type tags, so ``(1,)`` and ``[1]``, ``{1}`` and ``frozenset({1})``,
``b"a"`` and ``bytearray(b"a")`` differ (a hit returns the type the call had).
Sets are ordered by their elements' digests, so equal sets hash equally in
every process whatever ``PYTHONHASHSEED`` says. Dicts (and ``OrderedDict``,
``Counter``...) are hashed in insertion order: the order is observable
(iteration, ``json.dumps``, ``pd.DataFrame(d)`` column order), so two dicts
that differ only in order are two keys — at worst a spurious miss, never a
stale hit. Object state (``__dict__``) stays order-independent. Other objects are walked through
their ``__reduce_ex__`` (what pickle would store), which keeps the digest
deterministic without producing a pickle.

Functions, classes and modules are handed to an ``objects`` hook, which the
:class:`~lakelet.cache.fingerprint.Fingerprinter` uses to turn tracked code into
code fingerprints. A value that cannot be reduced raises
:class:`~lakelet.cache.errors.UnhashableValue` naming what it belongs to: the
cache never guesses a key.
"""

from __future__ import annotations

import copyreg
import hashlib
import struct
import sys
import types
from collections.abc import Callable
from typing import Any

from .errors import UnhashableValue
from .files import File

#: hashing format version, part of every key (2: dicts keep insertion order, frozenset/bytearray/
#: memoryview tags, categorical categories, object-column element types, masked arrays)
VERSION = 2

ObjectHook = Callable[[Any], str]

_pack_len = struct.Struct("<q").pack

_CODE_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.ModuleType,
    type,
)


def reference(obj: Any) -> str:
    """``module.qualname`` of a function, class or module (its identity when it is not tracked)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__qualname__
    return f"{module}.{name}"


def _default_hook(obj: Any) -> str:
    return "ref:" + reference(obj)


class ValueHasher:
    """Digests values; ``objects`` maps a function/class/module to a stable token."""

    def __init__(self, objects: ObjectHook | None = None) -> None:
        self.objects = objects or _default_hook

    def digest(self, value: Any, *, what: str = "value") -> str:
        """Hex sha256 of ``value``; ``what`` names it in errors (e.g. ``"argument 'x'"``)."""
        h = hashlib.sha256()
        _Walk(h, self.objects, what).feed(value)
        return h.hexdigest()


class _Walk:
    """One traversal: a memo of the containers seen (for cycles and shared references)."""

    __slots__ = ("h", "objects", "what", "memo", "keep")

    def __init__(self, h: Any, objects: ObjectHook, what: str) -> None:
        self.h = h
        self.objects = objects
        self.what = what
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # holds temporaries alive so their ids are not reused mid-walk

    def sub(self, value: Any) -> bytes:
        """Digest of a part, sharing this walk's memo (used to sort set elements and dict items)."""
        saved = self.h
        self.h = hashlib.sha256()
        try:
            self.feed(value)
            return self.h.digest()
        finally:
            self.h = saved

    def feed(self, value: Any) -> None:
        handler = _ATOMS.get(type(value))
        if handler is not None:
            handler(self.h, value)
            return
        ident = id(value)
        seen = self.memo.get(ident)
        if seen is not None:
            self.h.update(b"@" + _pack_len(seen))
            return
        self.memo[ident] = len(self.memo)
        self.keep.append(value)
        try:
            self._feed_object(value)
        except RecursionError as e:
            raise UnhashableValue(f"{self.what} is nested too deeply to hash", what=self.what) from e

    def _feed_object(self, value: Any) -> None:
        h = self.h
        kind = type(value)
        if kind is tuple or kind is list:
            h.update((b"(" if kind is tuple else b"[") + _pack_len(len(value)))
            for item in value:
                self.feed(item)
            return
        if kind is dict:
            self._feed_ordered(b"{", value)
            return
        if kind is set or kind is frozenset:
            h.update((b"S" if kind is set else b"J") + _pack_len(len(value)))
            for part in sorted(self.sub(item) for item in value):
                h.update(part)
            return
        if kind is File:  # a data file: its content is the value (files.py keeps the size+mtime fast path)
            token = f"{value.path}\x00{value.digest()}".encode("utf-8", "surrogatepass")
            h.update(b"L" + _pack_len(len(token)) + token)
            return
        special = _special_handler(value)
        if special is not None:
            special(self, value)
            return
        if isinstance(value, _CODE_TYPES) or callable(getattr(value, "__wrapped__", None)):
            token = self.objects(value)
            h.update(b"O" + _pack_len(len(token)) + token.encode())
            return
        self._feed_reduced(value)

    def _feed_ordered(self, tag: bytes, mapping: Any) -> None:
        """A mapping whose insertion order is part of its value (see the module docstring)."""
        self.h.update(tag + _pack_len(len(mapping)))
        for k, v in mapping.items():
            self.feed(k)
            self.feed(v)

    def _feed_mapping(self, tag: bytes, mapping: Any) -> None:
        self.h.update(tag + _pack_len(len(mapping)))
        items = sorted((self.sub(k), self.sub(v)) for k, v in mapping.items())
        for k, v in items:
            self.h.update(k + v)

    def _feed_reduced(self, value: Any) -> None:
        """Hash what pickle would store: the constructor, its arguments and the state."""
        kind = type(value)
        reducer = copyreg.dispatch_table.get(kind)
        try:
            reduced = reducer(value) if reducer is not None else value.__reduce_ex__(4)
        except (TypeError, AttributeError, ValueError, NotImplementedError) as e:
            raise UnhashableValue(
                f"cannot hash {self.what}: a {kind.__module__}.{kind.__qualname__} cannot be "
                f"serialized deterministically ({type(e).__name__}: {e})",
                what=self.what,
            ) from e
        if isinstance(reduced, str):  # a global singleton, pickled by name
            token = f"global:{getattr(value, '__module__', kind.__module__)}.{reduced}"
            self.h.update(b"G" + _pack_len(len(token)) + token.encode())
            return
        self.keep.append(reduced)
        func, args, *rest = reduced
        self.h.update(b"R")
        self.feed(func)
        self.feed(args)
        state = rest[0] if rest else None
        if type(state) is dict:
            self._feed_mapping(b"D", state)
        elif isinstance(state, tuple) and len(state) == 2 and all(s is None or type(s) is dict for s in state):
            for part in state:  # (__dict__, __slots__ values)
                self._feed_mapping(b"D", part or {})
        else:
            self.feed(state)
        listitems = rest[1] if len(rest) > 1 else None
        dictitems = rest[2] if len(rest) > 2 else None
        if listitems is not None:
            self.feed(list(listitems))
        if dictitems is not None:
            self._feed_ordered(b"I", dict(dictitems))


# ------------------------------------------------------------------------------ atoms
def _none(h: Any, _: Any) -> None:
    h.update(b"N")


def _bool(h: Any, v: bool) -> None:
    h.update(b"T" if v else b"F")


def _int(h: Any, v: int) -> None:
    data = str(v).encode()
    h.update(b"i" + _pack_len(len(data)) + data)


def _float(h: Any, v: float) -> None:
    data = v.hex().encode()
    h.update(b"f" + _pack_len(len(data)) + data)


def _complex(h: Any, v: complex) -> None:
    data = f"{v.real.hex()},{v.imag.hex()}".encode()
    h.update(b"c" + _pack_len(len(data)) + data)


def _str(h: Any, v: str) -> None:
    data = v.encode("utf-8", "surrogatepass")
    h.update(b"s" + _pack_len(len(data)))
    h.update(data)


def _bytes(h: Any, v: bytes | bytearray) -> None:
    h.update(b"b" + _pack_len(len(v)))
    h.update(v)


def _bytearray(h: Any, v: bytearray) -> None:
    h.update(b"y" + _pack_len(len(v)))
    h.update(v)


def _memoryview(h: Any, v: memoryview) -> None:
    data = v if v.contiguous else v.tobytes()
    h.update(b"m" + _pack_len(v.nbytes))
    h.update(data)


def _ellipsis(h: Any, _: Any) -> None:
    h.update(b"E")


def _range(h: Any, v: range) -> None:
    h.update(b"r" + _pack_len(v.start) + _pack_len(v.stop) + _pack_len(v.step))


_ATOMS: dict[type, Callable[[Any, Any], None]] = {
    type(None): _none,
    bool: _bool,
    int: _int,
    float: _float,
    complex: _complex,
    str: _str,
    bytes: _bytes,
    bytearray: _bytearray,
    memoryview: _memoryview,
    type(Ellipsis): _ellipsis,
    range: _range,
}


# ------------------------------------------------------------------------------ buffers
def _special_handler(value: Any) -> Callable[[_Walk, Any], None] | None:
    """numpy / pandas / Arrow handlers, looked up without importing those libraries."""
    module = type(value).__module__ or ""
    root = module.partition(".")[0]
    if root == "numpy":
        np = sys.modules["numpy"]
        if isinstance(value, np.ma.MaskedArray):
            return _masked
        if isinstance(value, np.ndarray):
            return _ndarray
        if isinstance(value, np.generic):
            return _numpy_scalar
    elif root == "pandas":
        pd = sys.modules["pandas"]
        if isinstance(value, pd.DataFrame):
            return _dataframe
        if isinstance(value, pd.Series):
            return _series
        if isinstance(value, pd.Index):
            return _index
    elif root == "pyarrow":
        pa = sys.modules["pyarrow"]
        if isinstance(value, pa.Table | pa.RecordBatch | pa.Array | pa.ChunkedArray):
            return _arrow
    return None


def _ndarray(walk: _Walk, a: Any) -> None:
    np = sys.modules["numpy"]
    header = f"{a.dtype.str}|{a.dtype.descr if a.dtype.fields else ''}|{a.shape}".encode()
    if type(a) is not np.ndarray:  # a subclass (matrix, recarray, memmap...) is another value type
        header += f"|{type(a).__module__}.{type(a).__qualname__}".encode()
        a = a.view(np.ndarray)
    walk.h.update(b"A" + _pack_len(len(header)) + header)
    if a.dtype.hasobject:
        walk.feed(a.ravel().tolist())
        return
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    walk.h.update(a.reshape(-1).view(np.uint8))


def _masked(walk: _Walk, a: Any) -> None:
    """A masked array: its data, its mask and its fill value (the data under the mask counts too)."""
    np = sys.modules["numpy"]
    walk.h.update(b"M")
    _ndarray(walk, np.ma.getdata(a))
    _ndarray(walk, np.ma.getmaskarray(a))
    walk.feed(a.fill_value.item() if isinstance(a.fill_value, np.generic) else a.fill_value)


def _numpy_scalar(walk: _Walk, v: Any) -> None:
    header = v.dtype.str.encode()
    walk.h.update(b"a" + _pack_len(len(header)) + header)
    if v.dtype.hasobject:
        walk.feed(v.item())
    else:
        walk.h.update(v.tobytes())


def _pandas_values(walk: _Walk, values: Any) -> None:
    """The data of a Series/Index: numpy buffers when possible, else pandas' row hashes."""
    np = sys.modules["numpy"]
    pd = sys.modules["pandas"]
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and not dtype.hasobject:
        _ndarray(walk, np.asarray(values))
        return
    walk.h.update(b"P" + str(dtype).encode() + b"|")
    if isinstance(dtype, pd.CategoricalDtype):  # category order and `ordered` are part of the value
        walk.feed(bool(dtype.ordered))
        _index(walk, dtype.categories)
        _ndarray(walk, np.asarray(values.array.codes))
        return
    if isinstance(dtype, np.dtype):  # object: the inferred kind keeps 1 and "1" apart
        kind = pd.api.types.infer_dtype(values, skipna=False)
        walk.h.update(kind.encode())
        data = np.asarray(values, dtype=object)
        if kind not in ("string", "empty"):
            _element_types(walk, data)  # hash_array hashes by str(): ['1', 2] and [1, '2'] alike
    else:
        data = values.array
    try:
        rows = pd.util.hash_array(data)
    except TypeError:  # unhashable elements (lists, dicts): walk them one by one
        walk.feed(list(values))
        return
    _ndarray(walk, rows)


def _element_types(walk: _Walk, data: Any) -> None:
    """The type of each element of an object array, as small codes plus the type names."""
    np = sys.modules["numpy"]
    codes: dict[type, int] = {}
    per_row = np.fromiter((codes.setdefault(type(v), len(codes)) for v in data), dtype=np.int32, count=len(data))
    walk.feed([f"{t.__module__}.{t.__qualname__}" for t in codes])
    _ndarray(walk, per_row)


def _index(walk: _Walk, index: Any) -> None:
    pd = sys.modules["pandas"]
    walk.h.update(b"X" + type(index).__name__.encode())
    walk.feed(list(index.names))
    if isinstance(index, pd.RangeIndex):
        walk.feed((index.start, index.stop, index.step))
    elif isinstance(index, pd.MultiIndex):
        for level in range(index.nlevels):
            _pandas_values(walk, index.get_level_values(level))
    else:
        _pandas_values(walk, index)


def _series(walk: _Walk, s: Any) -> None:
    walk.h.update(b"Y")
    walk.feed(s.name)
    _index(walk, s.index)
    _pandas_values(walk, s)


def _dataframe(walk: _Walk, df: Any) -> None:
    walk.h.update(b"Z" + _pack_len(df.shape[1]))
    _index(walk, df.columns)
    _index(walk, df.index)
    for i in range(df.shape[1]):
        _pandas_values(walk, df.iloc[:, i])
    if df.attrs:
        walk.feed(dict(df.attrs))


class _HashSink:
    """A write-only file that feeds everything into a hash (Arrow IPC writes here)."""

    def __init__(self, h: Any) -> None:
        self.h = h
        self.closed = False

    def write(self, data: Any) -> int:
        self.h.update(data)
        return len(data) if isinstance(data, bytes) else memoryview(data).nbytes

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        self.closed = True


def _arrow(walk: _Walk, value: Any) -> None:
    pa = sys.modules["pyarrow"]
    if isinstance(value, pa.Array | pa.ChunkedArray):
        walk.h.update(b"V")
        value = pa.table({"v": value})
    else:
        walk.h.update(b"W" if isinstance(value, pa.Table) else b"B")
    sink = pa.PythonFile(_HashSink(walk.h), mode="w")
    with pa.ipc.new_stream(sink, value.schema) as writer:
        writer.write(value)


__all__ = ["VERSION", "ValueHasher", "reference"]

"""numpy <-> Arrow without pandas.

``pa.array(...)``, ``pa.scalar(...)`` and ``Array.to_numpy()`` import pandas on their first call in a
process (pyarrow asks whether the input is a pandas object), which costs ~0.3 s: more than a cold
ingest of 200k rows itself. A fresh process that ingests numpy arrays or lists of text, or reads a
numeric column, should not pay for a library it never uses, so the hot paths build and read plain
Arrow buffers directly here and fall back to pyarrow's converters for anything else.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

_PLAIN = {
    np.dtype(n): getattr(pa, n)()
    for n in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
              "float64")
}


def from_numpy(values: np.ndarray) -> pa.Array | None:
    """A zero-copy Arrow array over a 1-D numeric/bool numpy array (no nulls), else None."""
    if values.ndim != 1:
        return None
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    arrow = _PLAIN.get(values.dtype.newbyteorder("=") if values.dtype.byteorder == ">" else values.dtype)
    if arrow is None or not values.dtype.isnative:
        return None
    values = np.ascontiguousarray(values)
    return pa.Array.from_buffers(arrow, len(values), [None, pa.py_buffer(values)])


def array(values: np.ndarray) -> pa.Array:
    """``from_numpy`` when it applies, else ``pa.array``."""
    out = from_numpy(values)
    return out if out is not None else pa.array(values)


def strings(values: list[Any]) -> pa.Array | None:
    """A UTF-8 string array from a list of ``str`` (``None`` = null), or None if anything else is in it."""
    ascii_ = _ascii_strings(values)
    if ascii_ is not None:
        return ascii_
    encoded: list[bytes] = []
    valid = np.ones(len(values), dtype=bool)
    try:
        for i, value in enumerate(values):
            if value.__class__ is str:
                encoded.append(value.encode())
            elif value is None:
                encoded.append(b"")
                valid[i] = False
            else:
                return None
    except UnicodeEncodeError:
        return None  # lone surrogates: pyarrow's converter reports them
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    if lengths.sum() >= 2**31:
        return None  # beyond 32-bit offsets: let pyarrow chunk it
    offsets = np.zeros(len(encoded) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    null_count = int(len(values) - valid.sum())
    return pa.Array.from_buffers(
        pa.string(), len(values), [bitmap, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))], null_count
    )


def _ascii_strings(values: list[Any]) -> pa.Array | None:
    """The common case at C speed: only ``str``, all ASCII (one byte per character, so the lengths
    are the offsets). 200k short strings: ~12 ms instead of ~80 ms for the per-value loop."""
    try:
        joined = "".join(values)  # str subclasses join as their text, as pyarrow stores them
    except TypeError:
        return None  # a None or another type: the general path
    if not joined.isascii() or len(joined) >= 2**31:
        return None
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)), out=offsets[1:])
    return pa.Array.from_buffers(
        pa.string(), len(values), [None, pa.py_buffer(offsets), pa.py_buffer(joined.encode("ascii"))], 0
    )


def to_numpy(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A numpy view of a numeric Arrow array without nulls (zero copy), else pyarrow's conversion."""
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 1:
            values = values.chunk(0)
        else:
            return np.concatenate([to_numpy(c) for c in values.chunks]) if values.num_chunks else (
                values.to_numpy())
    if values.null_count == 0 and values.type in NUMPY:
        return numbers(values)
    if values.null_count == 0 and pa.types.is_boolean(values.type):
        return bits(values.buffers()[1], values.offset, len(values))
    return values.to_numpy(zero_copy_only=False)


NUMPY = {arrow: dtype for dtype, arrow in _PLAIN.items()}


# ---------------------------------------------------------------------------- the buffers themselves
def bits(buffer: pa.Buffer, offset: int, length: int) -> np.ndarray:
    """An Arrow bitmap (validity or bool values) from bit ``offset`` on, as ``length`` numpy bools."""
    packed = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(packed, bitorder="little", count=offset + length)[offset:].astype(bool)


def numbers(values: pa.Array) -> np.ndarray:
    """A zero-copy view of a plain numeric array's values (NULL slots hold whatever is stored there)."""
    dtype = NUMPY[values.type]
    return np.frombuffer(values.buffers()[1], dtype=dtype, count=len(values), offset=values.offset * dtype.itemsize)


def validity(values: pa.Array) -> np.ndarray | None:
    """Which values are not NULL, as numpy bools; None when none is NULL."""
    if values.null_count == 0 or values.buffers()[0] is None:
        return None
    return bits(values.buffers()[0], values.offset, len(values))


def string_parts(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string/binary array with 32-bit offsets: value i is
    ``bytes[offsets[i]:offsets[i + 1]]`` (zero copy)."""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=len(values) + 1, offset=values.offset * 4)
    data = values.buffers()[2]
    return offsets, (np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8))

_GATHER_BYTES = 1 << 22  # variable-width values beyond this per take: pyarrow's kernel (no index array)


def take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    """``values`` at ``rows`` (int64 positions, any order, repeats allowed).

    ``Array.take`` imports ``pyarrow.compute`` (~25 ms) on its first call in a process: more than
    a fresh kernel's whole first read of 1,000 random rows. Numbers, bools, text/binary and
    fixed-size lists of numbers (embeddings) are gathered here with numpy; anything else goes to
    pyarrow. The result is a new array (no view into ``values``)."""
    rows = np.asarray(rows, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(values)):
        raise pa.ArrowIndexError(f"row index out of range for {len(values)} values")
    out = _gather(values, rows)
    if out is None:
        out = values.take(array(rows))
    return out


def _validity(values: pa.Array, rows: np.ndarray) -> tuple[pa.Buffer | None, int]:
    valid = validity(values)
    if valid is None:
        return None, 0
    valid = valid[rows]
    return pa.py_buffer(np.packbits(valid, bitorder="little")), int(len(rows) - np.count_nonzero(valid))


def _gather(values: pa.Array, rows: np.ndarray) -> pa.Array | None:
    kind = values.type
    n = len(rows)
    if kind in NUMPY:
        mask, nulls = _validity(values, rows)
        return pa.Array.from_buffers(kind, n, [mask, pa.py_buffer(np.ascontiguousarray(numbers(values)[rows]))], nulls)
    if pa.types.is_boolean(kind):
        picked = bits(values.buffers()[1], values.offset, len(values))[rows]
        mask, nulls = _validity(values, rows)
        return pa.Array.from_buffers(kind, n, [mask, pa.py_buffer(np.packbits(picked, bitorder="little"))], nulls)
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        offsets, data = string_parts(values)
        starts, ends = offsets[rows].astype(np.int64), offsets[rows + 1].astype(np.int64)
        lengths = ends - starts
        new_offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=new_offsets[1:])
        total = int(new_offsets[-1])
        if total > _GATHER_BYTES:
            return None
        index = np.arange(total, dtype=np.int64) + np.repeat(starts - new_offsets[:-1], lengths)
        mask, nulls = _validity(values, rows)
        return pa.Array.from_buffers(
            kind, n, [mask, pa.py_buffer(new_offsets.astype(np.int32)), pa.py_buffer(data[index])], nulls
        )
    if pa.types.is_fixed_size_list(kind) and kind.value_type in NUMPY and kind.list_size > 0:
        child = values.values  # the whole child array, offsets not applied
        if child.null_count or child.offset:
            return None
        dtype, size = NUMPY[kind.value_type], kind.list_size
        flat = np.frombuffer(child.buffers()[1], dtype=dtype, count=len(child))
        matrix = flat.reshape(-1, size)
        picked = np.ascontiguousarray(matrix[rows + values.offset])
        mask, nulls = _validity(values, rows)
        inner = pa.Array.from_buffers(kind.value_type, n * size, [None, pa.py_buffer(picked)], 0)
        return pa.Array.from_buffers(kind, n, [mask], nulls, children=[inner])
    return None

"""Serialization of Dict keys and values and Queue items, with explicit size limits.

Values are pickled with cloudpickle (lambdas and notebook classes work).
Keys use a deterministic encoding so equal keys always map to the same stored
bytes: ``str``, ``bytes``, ``int``, ``float``, ``bool``, ``None`` and tuples of
those are encoded by type tag and value; any other key falls back to
cloudpickle, which is deterministic only as far as pickle is for that type.
"""

from __future__ import annotations

import pickle
import struct
from typing import Any

import cloudpickle

from .errors import SizeLimitExceeded, UndecodableValue, UnpicklableValue

#: largest encoded Dict key
MAX_KEY_SIZE = 64 * 2**10
#: largest serialized Dict value or Queue item
MAX_VALUE_SIZE = 100 * 2**20

_SIMPLE = (str, bytes, int, float, bool, type(None))
_PICKLE_FAST = frozenset({str, bytes, int, float, bool, type(None), bytearray})


def type_name(value: Any) -> str:
    """``module.Qualname`` of a value's type, for messages."""
    kind = type(value)
    module = getattr(kind, "__module__", "")
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module in ("builtins", "", None) else f"{module}.{name}"


def dumps(value: Any, what: str = "value") -> bytes:
    """Serialize a value; raises :class:`SizeLimitExceeded` above :data:`MAX_VALUE_SIZE` and
    :class:`UnpicklableValue` (naming ``what`` and the value's type) when it cannot be pickled."""
    try:
        # plain pickle writes the same stream cloudpickle would for builtin scalars, only faster
        data = pickle.dumps(value, 5) if type(value) in _PICKLE_FAST else cloudpickle.dumps(value, 5)
    except Exception as e:  # pickling runs user code (__reduce__, __getstate__): anything can fail
        raise UnpicklableValue(f"{what} ({type_name(value)}) cannot be pickled: {type(e).__name__}: {e}"[:2000]) from e
    if len(data) > MAX_VALUE_SIZE:
        raise SizeLimitExceeded(
            f"{what} is {len(data):,} bytes once serialized; the limit is {MAX_VALUE_SIZE:,} bytes "
            "(lakelet.primitives.codec.MAX_VALUE_SIZE). Store big data in a Volume and keep its path here."
        )
    return data


def loads(data: bytes, what: str = "value") -> Any:
    """Unpickle stored bytes; raises :class:`UndecodableValue` naming ``what`` when this process
    cannot rebuild the value (a class it lacks, a reduction that raises, damaged bytes)."""
    try:
        return pickle.loads(data)
    except Exception as e:  # unpickling runs code from the stored bytes: anything can fail
        raise UndecodableValue(f"{what} cannot be decoded in this process: {describe_error(e)}") from e


def describe_error(error: BaseException) -> str:
    """``Type: message``, capped, for naming a decoding failure."""
    return f"{type(error).__name__}: {error}"[:1000]


def encode_key(key: Any) -> bytes:
    """Deterministic bytes for a Dict key; raises :class:`SizeLimitExceeded` above :data:`MAX_KEY_SIZE`."""
    out = _encode(key)
    if len(out) > MAX_KEY_SIZE:
        raise SizeLimitExceeded(
            f"key is {len(out):,} bytes once encoded; the limit is {MAX_KEY_SIZE:,} bytes "
            "(lakelet.primitives.codec.MAX_KEY_SIZE)"
        )
    return out


def _encode(key: Any) -> bytes:
    kind = type(key)
    if kind is str:
        return b"s" + key.encode("utf-8", "surrogatepass")
    if kind is bytes:
        return b"b" + key
    if kind is bool:
        return b"T" if key else b"F"
    if kind is int:
        return b"i" + str(key).encode()
    if kind is float:
        return b"f" + struct.pack(">d", key)
    if key is None:
        return b"N"
    if kind is tuple:
        parts = [_encode(k) for k in key]
        return b"t" + b"".join(struct.pack(">I", len(p)) + p for p in parts)
    try:
        return b"p" + cloudpickle.dumps(key, 5)
    except Exception as e:
        raise UnpicklableValue(f"key {key!r:.80} ({type_name(key)}) cannot be pickled: {type(e).__name__}: {e}") from e


def decode_key(data: bytes) -> Any:
    """Inverse of :func:`encode_key`."""
    tag, body = data[:1], data[1:]
    if tag == b"s":
        return body.decode("utf-8", "surrogatepass")
    if tag == b"b":
        return bytes(body)
    if tag == b"T":
        return True
    if tag == b"F":
        return False
    if tag == b"i":
        return int(body)
    if tag == b"f":
        return struct.unpack(">d", body)[0]
    if tag == b"N":
        return None
    if tag == b"t":
        items, i = [], 0
        while i < len(body):
            (n,) = struct.unpack_from(">I", body, i)
            items.append(decode_key(body[i + 4 : i + 4 + n]))
            i += 4 + n
        return tuple(items)
    if tag == b"p":
        return loads(body, "a pickled key")
    raise UndecodableValue(f"not an encoded key: {data[:40]!r}")


__all__ = [
    "MAX_KEY_SIZE",
    "MAX_VALUE_SIZE",
    "decode_key",
    "describe_error",
    "dumps",
    "encode_key",
    "loads",
    "type_name",
]

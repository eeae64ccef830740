"""Per-piece column statistics, recorded in the manifest at commit time.

For every committed column file of an orderable type (integers, floats, bool,
text) a piece records ``{"lo", "hi", "nulls"}`` and, for floats, ``"nans"``:
the smallest and largest non-null, non-NaN value, the null count and the NaN
count (the row count is the piece's). A bound that could not be recorded
exactly (text longer than :data:`MAX_TEXT`) is left out, meaning "unknown";
text ``lo`` is cut to a prefix instead, which is still a lower bound. Floats
±inf are written as the strings ``"inf"``/``"-inf"`` so manifests stay strict
JSON. Manifests written before statistics existed simply have none, and their
pieces are never skipped (see :mod:`lakelet.datasets.pruning`).
"""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa


def _pc() -> Any:
    """``pyarrow.compute``, imported on first use: it costs ~25 ms, which opening a dataset does not need."""
    import pyarrow.compute

    return pyarrow.compute


MAX_TEXT = 256  # longest text bound recorded (a longer max is "unknown", a longer min is cut)

Stats = dict[str, Any]


def kind_of(arrow: pa.DataType) -> str | None:
    """``"int"``, ``"float"``, ``"bool"`` or ``"text"`` for the Arrow types statistics cover, else None."""
    if pa.types.is_integer(arrow):
        return "int"
    if pa.types.is_float32(arrow) or pa.types.is_float64(arrow):  # float16: DuckDB has no half type
        return "float"
    if pa.types.is_boolean(arrow):
        return "bool"
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "text"
    return None


def _encode(kind: str, value: Any) -> Any:
    if kind == "float" and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def decode_bound(kind: str, value: Any) -> Any:
    """A stored bound back as a Python value (``None`` stays None: unknown)."""
    if value is None:
        return None
    if kind == "float":
        return float(value)  # also parses "inf" / "-inf"
    if kind == "int":
        return int(value)
    if kind == "bool":
        return bool(value)
    return str(value)


def compute(array: pa.Array | pa.ChunkedArray) -> Stats | None:
    """Statistics of one column's values, or None when its type is not covered."""
    kind = kind_of(array.type)
    if kind is None:
        return None
    out: Stats = {"nulls": int(array.null_count)}
    values = _pc().drop_null(array)
    if kind == "float":
        nan = _pc().is_nan(values)
        nans = int(_pc().sum(nan).as_py() or 0)
        out["nans"] = nans
        if nans:
            values = _pc().filter(values, _pc().invert(nan))
    if len(values) == 0:
        return out  # no bounds: every value is null (or NaN)
    bounds = _pc().min_max(values)
    lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
    if kind == "text":
        out["lo"] = lo[:MAX_TEXT]
        if len(hi) <= MAX_TEXT:
            out["hi"] = hi
    else:
        out["lo"], out["hi"] = _encode(kind, lo), _encode(kind, hi)
    return out


def constant(arrow: pa.DataType, value: Any, rows: int) -> Stats | None:
    """Statistics of ``rows`` copies of one stored value (a column's default)."""
    one = compute(pa.array([value], type=arrow))
    if one is None:
        return None
    return {k: (v * rows if k in ("nulls", "nans") else v) for k, v in one.items()}

"""Pure functions behind the DatasetBrowser: one page of rows as HTML, column stats, histograms.

Nothing here keeps state or touches widgets, so each piece is testable alone
and reusable by the HTML reprs.
"""

from __future__ import annotations

import base64
import dataclasses
import io
from typing import Any

import numpy as np
import pyarrow as pa

from ...errors import InvalidArgument
from ._html import bars, esc, histogram_svg, html_table, human_bytes, plain_text, shorten

#: the largest image blob turned into a thumbnail
MAX_THUMB_SOURCE = 8 * 2**20
#: thumbnails are scaled to fit this many pixels
THUMB_PX = 64
#: a clicked thumbnail opens a view scaled to fit this many pixels
ZOOM_PX = 256
HIST_BINS = 20
TOP_VALUES = 10

_KEY_LEN = 64


# ------------------------------------------------------------------------------ rows
def page_html(ds: Any, start: int, stop: int, columns: list[str] | None = None) -> str:
    """Rows ``start .. stop`` of ``ds`` as an HTML table (media as thumbnails or short keys)."""
    n = len(ds)
    if not 0 <= start <= stop:
        raise InvalidArgument(f"bad row range {start}..{stop}")
    stop = min(stop, n)
    names = columns or ds.schema.names
    if start >= stop or not names:
        return '<span class="lakelet-muted">no rows</span>'
    table = ds[start:stop].to_arrow(names)
    cells = {name: [_cell(ds, ds.schema[name].type, v) for v in table.column(name).to_pylist()] for name in names}
    rows = ([f"{start + i:,}"] + [cells[name][i] for name in names] for i in range(stop - start))
    return html_table(["#", *names], rows, numeric=(0,))


def arrow_html(table: pa.Table, offset: int = 0) -> str:
    """Any Arrow table (a query result page) as an HTML table numbered from ``offset``."""
    names = table.column_names
    columns = {name: table.column(name).to_pylist() for name in names}
    rows = ([f"{offset + i:,}"] + [_plain(columns[n][i]) for n in names] for i in range(table.num_rows))
    return html_table(["#", *names], rows, numeric=(0,))


def result_html(table: pa.Table, offset: int = 0, sources: dict[str, Any] | None = None) -> str:
    """A query result page as HTML: a column named like a column of a source dataset shows as that
    column does in the dataset (labels by name, images as thumbnails); others as plain values."""
    typed: dict[str, tuple[Any, Any]] = {}
    for ds in (sources or {}).values():
        for column in ds.schema:
            kind = type(column.type).__name__
            if kind == "ClassLabel" or getattr(column.type, "is_media", False):
                typed.setdefault(column.name, (ds, column.type))
    names = table.column_names
    cells = {}
    for name in names:
        values = table.column(name).to_pylist()
        if name in typed and _fits(typed[name][1], table.schema.field(name).type):
            ds, dtype = typed[name]
            cells[name] = [_cell(ds, dtype, v) for v in values]
        else:
            cells[name] = [_plain(v) for v in values]
    rows = ([f"{offset + i:,}"] + [cells[n][i] for n in names] for i in range(table.num_rows))
    return html_table(["#", *names], rows, numeric=(0,), resizable=True)


def _fits(dtype: Any, arrow: pa.DataType) -> bool:
    """A result column still holds what the dataset column holds (label codes, blob keys)."""
    if type(dtype).__name__ == "ClassLabel":  # codes, or their names (SQL results decode labels)
        return (pa.types.is_integer(arrow) or pa.types.is_dictionary(arrow) or pa.types.is_string(arrow)
                or pa.types.is_large_string(arrow))
    return pa.types.is_string(arrow) or pa.types.is_large_string(arrow)


def _cell(ds: Any, dtype: Any, value: Any) -> str:
    kind = type(dtype).__name__
    if value is None:
        return '<span class="lakelet-muted">null</span>'
    if getattr(dtype, "is_media", False):
        if kind == "Image" and isinstance(value, str) and len(value) == _KEY_LEN:
            return thumbnail_html(ds, value)
        return f'<code title="{esc(value)}">{esc(shorten(str(value), 16))}</code>'
    if kind == "ClassLabel" and isinstance(value, str) and value in dtype.labels:
        value = list(dtype.labels).index(value)  # a name from a SQL result: shown with its code, as in the grid
    if kind == "ClassLabel" and isinstance(value, int) and 0 <= value < len(dtype.labels):
        return f"{esc(dtype.labels[value])} <span class='lakelet-muted'>({value})</span>"
    return _plain(value)


def _plain(value: Any) -> str:
    if value is None:
        return '<span class="lakelet-muted">null</span>'
    return esc(shorten(plain_text(value), 120))


def image_bytes(ds: Any, key: str, too_large: str = "") -> tuple[bytes | None, str]:
    """The bytes of the image blob ``key`` of ``ds``, or None and the HTML that says why not
    (missing; larger than :data:`MAX_THUMB_SOURCE`, with ``too_large`` after its size)."""
    try:
        info = ds.blobs.info(key)
    except KeyError:
        return None, f'<span class="lakelet-error" title="{esc(key)}">missing image</span>'
    if info.size > MAX_THUMB_SOURCE:
        return None, f'<span class="lakelet-muted">image {esc(human_bytes(info.size))}{too_large}</span>'
    return ds.blobs.read_bytes(key), ""


def thumbnail_html(ds: Any, key: str) -> str:
    """An ``<img>`` of the image blob ``key`` of ``ds``, scaled down (with Pillow when installed)."""
    source, why_not = image_bytes(ds, key)
    if source is None:
        return why_not
    data, mime = _thumbnail(source)
    big, big_mime = _thumbnail(source, ZOOM_PX)
    thumb = f'<img class="lakelet-thumb" src="data:{mime};base64,{base64.b64encode(data).decode()}">'
    zoomed = f'<img class="lakelet-zoomed" src="data:{big_mime};base64,{base64.b64encode(big).decode()}">'
    # a click opens the larger view below the thumbnail and closes it again (no script needed)
    return (f'<details class="lakelet-zoom"><summary title="{esc(key[:12])}: click to zoom">{thumb}</summary>'
            f"{zoomed}</details>")


def _thumbnail(data: bytes, px: int = THUMB_PX) -> tuple[bytes, str]:
    mime = _sniff(data)
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return data, mime  # the browser scales it (CSS max size)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width <= px and img.height <= px:
                return data, mime
            img.thumbnail((px, px))
            out = io.BytesIO()
            img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB").save(out, format="PNG")
            return out.getvalue(), "image/png"
    except (UnidentifiedImageError, OSError, ValueError):
        return data, mime  # let the browser try


def _sniff(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.lstrip()[:5] in (b"<svg ", b"<?xml"):
        return "image/svg+xml"
    return "application/octet-stream"


# ------------------------------------------------------------------------------ schema
def schema_rows(ds: Any, sizes: dict[str, int] | None) -> str:
    """The schema as an HTML table: column, type, default, search indexes and (if known) in-memory
    Arrow bytes."""
    from ...datasets.indexes import labels_by_column

    indexes = labels_by_column(ds) if hasattr(ds, "indexes") else {}
    rows = []
    for column in ds.schema:
        size = "—" if sizes is None or column.name not in sizes else esc(human_bytes(sizes[column.name]))
        default = "" if column.default is None else esc(shorten(repr(column.default), 40))
        index = esc("; ".join(indexes.get(column.name, [])))
        rows.append([f"<b>{esc(column.name)}</b>", f"<code>{esc(repr(column.type))}</code>", default, index, size])
    return html_table(["column", "type", "default", "index", "bytes (Arrow)"], rows, numeric=(4,))


def column_sizes(ds: Any) -> dict[str, int]:
    """Bytes of each column's stored Arrow data at this version (media columns: their references)."""
    return {name: int(ds.to_arrow([name]).column(0).nbytes) for name in ds.schema.names}


# ------------------------------------------------------------------------------ stats
@dataclasses.dataclass(frozen=True)
class ColumnStats:
    """Summary of one column: counts, numeric moments, a histogram or the most common values."""

    name: str
    type: str
    count: int
    nulls: int
    numbers: dict[str, float] = dataclasses.field(default_factory=dict)
    histogram: tuple[list[int], list[float]] | None = None
    top: list[tuple[str, int]] = dataclasses.field(default_factory=list)
    distinct: int | None = None


def column_stats(ds: Any, name: str) -> ColumnStats:
    """Stats of column ``name`` of ``ds`` at its current version."""
    column = ds.schema[name]
    dtype = column.type
    values = ds.to_arrow([name]).column(0)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    count, nulls = len(values), values.null_count
    kind = type(dtype).__name__
    import pyarrow.compute as pc  # ~25 ms: for statistics only, not for showing a query's first rows
    arrow = values.type
    if getattr(dtype, "is_media", False):  # references to blobs: only how many and how many differ
        return ColumnStats(name, repr(dtype), count, nulls, distinct=int(pc.count_distinct(values).as_py()))
    if kind == "ClassLabel":
        return _label_stats(name, dtype, values, count, nulls)
    if pa.types.is_integer(arrow) or pa.types.is_floating(arrow):
        return _numeric_stats(name, repr(dtype), values, count, nulls)
    if pa.types.is_boolean(arrow):
        counts = _value_counts(values)
        return ColumnStats(name, repr(dtype), count, nulls, top=counts, distinct=len(counts))
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        counts = _value_counts(values)
        lengths = pc.utf8_length(values).to_numpy(zero_copy_only=False)
        numbers = _moments(lengths[~np.isnan(lengths.astype(float))] if nulls else lengths, "length ")
        distinct = int(pc.count_distinct(values).as_py())
        return ColumnStats(name, repr(dtype), count, nulls, numbers, top=counts[:TOP_VALUES], distinct=distinct)
    if pa.types.is_fixed_size_list(arrow) or pa.types.is_list(arrow):
        flat = pc.list_flatten(values).to_numpy(zero_copy_only=False).astype(float)
        return ColumnStats(name, repr(dtype), count, nulls, _moments(flat, "element "),
                           histogram=_histogram(flat))
    return ColumnStats(name, repr(dtype), count, nulls)


def _numeric_stats(name: str, dtype: str, values: pa.Array, count: int, nulls: int) -> ColumnStats:
    present = values.drop_null() if nulls else values
    data = np.asarray(present.to_numpy(zero_copy_only=False), dtype=float)
    finite = data[np.isfinite(data)]
    distinct = int(np.unique(data).size)  # a sort: much faster than a hash count for floats
    return ColumnStats(name, dtype, count, nulls, _moments(finite, ""), histogram=_histogram(finite),
                       distinct=distinct)


def _label_stats(name: str, dtype: Any, values: pa.Array, count: int, nulls: int) -> ColumnStats:
    counts = []
    for value, n in _raw_counts(values):
        label = dtype.labels[value] if isinstance(value, int) and 0 <= value < len(dtype.labels) else str(value)
        counts.append((label, n))
    return ColumnStats(name, repr(dtype), count, nulls, top=counts, distinct=len(counts))


def _moments(data: np.ndarray, prefix: str) -> dict[str, float]:
    if data.size == 0:
        return {}
    q = np.quantile(data, [0.25, 0.5, 0.75])
    return {
        f"{prefix}min": float(data.min()),
        f"{prefix}25%": float(q[0]),
        f"{prefix}median": float(q[1]),
        f"{prefix}75%": float(q[2]),
        f"{prefix}max": float(data.max()),
        f"{prefix}mean": float(data.mean()),
        f"{prefix}std": float(data.std()),
    }


def _histogram(data: np.ndarray, bins: int = HIST_BINS) -> tuple[list[int], list[float]] | None:
    if data.size == 0:
        return None
    lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        return [int(data.size)], [lo, hi]
    counts, edges = np.histogram(data, bins=bins, range=(lo, hi))
    return [int(c) for c in counts], [float(e) for e in edges]


def _raw_counts(values: pa.Array) -> list[tuple[Any, int]]:
    import pyarrow.compute as pc

    counted = pc.value_counts(values.drop_null())
    pairs = [(v["values"], int(v["counts"])) for v in counted.to_pylist()]
    return sorted(pairs, key=lambda p: (-p[1], str(p[0])))


def _value_counts(values: pa.Array) -> list[tuple[str, int]]:
    return [(shorten(str(v), 60), n) for v, n in _raw_counts(values)]


def stats_html(stats: ColumnStats) -> str:
    """A stats card: counts, moments, histogram or top values."""
    head = (f"<b>{esc(stats.name)}</b> <code>{esc(stats.type)}</code>: {stats.count:,} values, "
            f"{stats.nulls:,} null" + (f", {stats.distinct:,} distinct" if stats.distinct is not None else ""))
    parts = [f"<div>{head}</div>"]
    if stats.numbers:
        parts.append(html_table(list(stats.numbers), [[esc(f"{v:.6g}") for v in stats.numbers.values()]],
                                numeric=tuple(range(len(stats.numbers)))))
    if stats.histogram is not None:
        parts.append(histogram_svg(*stats.histogram))
    if stats.top:
        shown = stats.top[:TOP_VALUES]
        more = len(stats.top) - len(shown)
        parts.append(bars(shown))
        if more > 0:
            parts.append(f'<div class="lakelet-muted">… {more:,} more values</div>')
    return "".join(parts)


__all__ = [
    "ColumnStats",
    "arrow_html",
    "column_sizes",
    "column_stats",
    "page_html",
    "result_html",
    "schema_rows",
    "stats_html",
    "thumbnail_html",
]

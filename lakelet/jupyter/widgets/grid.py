"""The DatasetBrowser's grid: sort, per-column filter, shown columns and a row's detail, in the kernel.

Only the page on screen leaves the kernel. Sorting and filtering read just the one column they
need (with Arrow compute, the library the datasets already store their columns in), order the
row numbers, and the page's rows are then taken by number — so the grid never materializes
the table. Labels filter and sort by their names; a row's detail shows every value whole and
its images at full size (the zoom of a thumbnail).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ...errors import InvalidArgument
from ._html import esc, html_table
from .dataset_view import _cell, _sniff, image_bytes

#: images wider or taller than this are scaled down by the browser in the row detail
DETAIL_PX = 512


@dataclasses.dataclass(frozen=True)
class GridQuery:
    """How the grid orders and filters rows; the empty query is the dataset's own order."""

    sort: str = ""
    descending: bool = False
    filter_column: str = ""
    filter_text: str = ""

    @property
    def plain(self) -> bool:
        return not self.sort and not (self.filter_column and self.filter_text)


def _column(ds: Any, name: str) -> pa.Array:
    if name not in ds.schema:
        raise InvalidArgument(f"no column {name!r}; columns: {ds.schema.names}")
    values = ds.to_arrow([name]).column(0)
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _as_text(ds: Any, name: str, values: pa.Array) -> pa.Array:
    """Values as a person reads them: label names for label codes, text for everything else."""
    dtype = ds.schema[name].type
    if type(dtype).__name__ == "ClassLabel":
        return pc.take(pa.array(list(dtype.labels), pa.string()), values)
    try:
        return pc.cast(values, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid) as e:
        raise InvalidArgument(f"column {name!r} ({dtype!r}) cannot be filtered as text") from e


def grid_rows(ds: Any, query: GridQuery) -> np.ndarray:
    """Row numbers of ``ds`` in the grid's order: filtered (case-insensitive "contains"), then sorted."""
    rows = np.arange(len(ds))
    if query.filter_column and query.filter_text:
        text = _as_text(ds, query.filter_column, _column(ds, query.filter_column))
        mask = pc.fill_null(pc.match_substring(text, query.filter_text, ignore_case=True), False)
        rows = rows[np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)]
    if query.sort:
        values = _column(ds, query.sort)
        if type(ds.schema[query.sort].type).__name__ == "ClassLabel":
            values = _as_text(ds, query.sort, values)  # by name, as shown
        values = values.take(pa.array(rows))
        order = pc.array_sort_indices(values, order="descending" if query.descending else "ascending",
                                      null_placement="at_end")
        rows = rows[order.to_numpy()]
    return rows


def rows_html(ds: Any, rows: Sequence[int], columns: Sequence[str]) -> str:
    """The rows numbered ``rows`` (in that order) as an HTML table; the first column is the row number."""
    if len(rows) == 0 or not columns:
        return '<span class="lakelet-muted">no rows</span>'
    table = ds[[int(r) for r in rows]].to_arrow(list(columns))
    cells = {name: [_cell(ds, ds.schema[name].type, v) for v in table.column(name).to_pylist()] for name in columns}
    body = ([f"{int(r):,}"] + [cells[name][i] for name in columns] for i, r in enumerate(rows))
    return html_table(["row", *columns], body, numeric=(0,), resizable=True)


def row_detail_html(ds: Any, row: int) -> str:
    """Every value of row ``row`` whole, one per line, images at full size (up to :data:`DETAIL_PX`)."""
    if not isinstance(row, int) or not 0 <= row < len(ds):
        raise InvalidArgument(f"no row {row!r}: the rows are 0 to {len(ds) - 1:,}")
    names = ds.schema.names
    values = ds[[row]].to_arrow(names).to_pylist()[0]
    lines = []
    for name in names:
        dtype = ds.schema[name].type
        value = values[name]
        if type(dtype).__name__ == "Image" and isinstance(value, str) and len(value) == 64:
            shown = image_html(ds, value)
        elif type(dtype).__name__ == "ClassLabel":
            shown = _cell(ds, dtype, value)
        else:
            shown = f"<pre style='margin:0;white-space:pre-wrap'>{esc(_whole(value))}</pre>"
        lines.append([f"<b>{esc(name)}</b>", f"<code>{esc(repr(dtype))}</code>", shown])
    return f"<div><b>row {row:,}</b></div>" + html_table(["column", "type", "value"], lines)


def _whole(value: Any) -> str:
    from ._html import plain_text

    if isinstance(value, list):
        return "[" + ", ".join(plain_text(v) for v in value) + "]"
    return plain_text(value)


def image_html(ds: Any, key: str) -> str:
    """The image blob ``key`` of ``ds`` at its own size (the browser scales it to fit :data:`DETAIL_PX`)."""
    data, why_not = image_bytes(ds, key, too_large=": too large to show")
    if data is None:
        return why_not
    b64 = base64.b64encode(data).decode()
    return (f'<img title="{esc(key[:12])}" style="max-width:{DETAIL_PX}px;max-height:{DETAIL_PX}px;'
            f'image-rendering:pixelated;min-width:128px" src="data:{_sniff(data)};base64,{b64}">')


__all__ = ["DETAIL_PX", "GridQuery", "grid_rows", "image_html", "row_detail_html", "rows_html"]

"""HTML building blocks shared by the browsers and the reprs (no ipywidgets needed here)."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..._format import human_bytes

#: CSS shared by every browser; the classes are added to the widgets that need them
STYLE = """<style>
.lakelet-mono select, .lakelet-mono textarea { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
.lakelet-scroll { overflow-x: auto; max-width: 100%; }
.lakelet-table { border-collapse: collapse; font-size: 12px; }
.lakelet-table th, .lakelet-table td { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; max-width: 28em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lakelet-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.lakelet-thumb { max-width: 64px; max-height: 64px; }
.lakelet-zoom summary { list-style: none; cursor: zoom-in; }
.lakelet-zoom summary::-webkit-details-marker { display: none; }
.lakelet-zoom[open] summary { cursor: zoom-out; }
.lakelet-zoomed { display: block; margin-top: 4px; max-width: 256px; max-height: 256px; min-width: 128px;
  image-rendering: pixelated; }
.lakelet-table th .lakelet-resize { resize: horizontal; overflow: hidden; min-width: 2.5em; padding-right: 6px; }
.lakelet-bar { background: #4c8ed9; height: 10px; display: inline-block; }
.lakelet-muted { color: #777; }
.lakelet-error { color: #b00020; }
</style>"""


# ------------------------------------------------------------------------------ formatting
def human_time(ts: float | None) -> str:
    """Seconds since the epoch as local ``YYYY-MM-DD HH:MM:SS``; None or 0 -> ``'—'``."""
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def esc(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attributes."""
    return html.escape(str(value), quote=True)


def shorten(text: str, limit: int = 120) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def html_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = (), resizable: bool = False
) -> str:
    """An HTML table. Cells are *already escaped* HTML; ``numeric`` columns are right-aligned.

    ``resizable``: each header has a drag handle (CSS ``resize``; no script runs in a widget's HTML)
    that widens its column, so a cut-off value can be read in place.
    """
    if resizable:
        head = "".join(f'<th><div class="lakelet-resize" title="drag the corner to resize">{esc(h)}</div></th>'
                       for h in header)
    else:
        head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return (f'<div class="lakelet-scroll"><table class="lakelet-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def plain_text(value: Any) -> str:
    """A cell value as a person reads it: times as ISO text, numpy scalars as numbers, str as itself.

    >>> from datetime import datetime
    >>> plain_text(datetime(2024, 5, 1, 12, 30))
    '2024-05-01 12:30:00'
    >>> plain_text(b"abc")
    '<3 bytes>'
    """
    from datetime import date, time, timedelta
    from decimal import Decimal

    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and callable(item) and getattr(value, "shape", None) == ():
        value = item()  # np.str_('x') -> 'x', np.float32(1.5) -> 1.5
    if value is None:
        return "null"
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, list | tuple):
        inner = ", ".join(plain_text(v) for v in value[:6])
        return f"[{inner}{', …' if len(value) > 6 else ''}]" + (f" ({len(value)} items)" if len(value) > 6 else "")
    if isinstance(value, dict):
        inner = ", ".join(f"{plain_text(k)}: {plain_text(v)}" for k, v in list(value.items())[:6])
        return "{" + inner + (", …" if len(value) > 6 else "") + "}"
    return repr(value)


def bars(items: Sequence[tuple[str, float]], *, width: int = 200) -> str:
    """A horizontal bar chart (label, value) as an HTML table; labels are escaped here."""
    top = max((v for _, v in items), default=0) or 1
    rows = []
    for label, value in items:
        px = max(int(width * value / top), 1 if value else 0)
        shown = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"
        rows.append([esc(label), f'<span class="lakelet-bar" style="width:{px}px"></span> {shown}'])
    return html_table(["", ""], rows)


def histogram_svg(counts: Sequence[int], edges: Sequence[float], *, width: int = 320, height: int = 90) -> str:
    """A histogram as inline SVG (no plotting library), with the range written under it."""
    if not counts:
        return '<span class="lakelet-muted">no values</span>'
    top = max(counts) or 1
    bar_w = width / len(counts)
    rects = []
    for i, c in enumerate(counts):
        h = 0 if c == 0 else max(1.0, (height - 2) * c / top)
        lo, hi = edges[i], edges[i + 1]
        rects.append(
            f'<rect x="{i * bar_w:.1f}" y="{height - h:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
            f'fill="#4c8ed9"><title>[{_num(lo)}, {_num(hi)}): {c}</title></rect>'
        )
    return (
        f'<svg width="{width}" height="{height}" role="img" aria-label="histogram">{"".join(rects)}</svg>'
        f'<div class="lakelet-muted">{esc(_num(edges[0]))} … {esc(_num(edges[-1]))} ({len(counts)} bins)</div>'
    )


def _num(x: float) -> str:
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return str(x)
    return f"{x:.6g}"


__all__ = ["STYLE", "bars", "esc", "histogram_svg", "html_table", "human_bytes", "human_time", "plain_text",
           "shorten"]

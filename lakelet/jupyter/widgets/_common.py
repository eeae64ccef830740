"""What the browsers share: formatting, HTML tables, a pager, a confirmation bar, the status line.

:class:`Status` is the one place where errors raised while handling a click
become something the user reads: :meth:`Status.guard` shows a lakelet error's
message and lets anything else propagate (ipywidgets logs it with its traceback).
"""

from __future__ import annotations

import functools
import html
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import ipywidgets as W

from ...errors import LakeletError

F = TypeVar("F", bound=Callable[..., Any])

#: CSS shared by every browser; the classes are added to the widgets that need them
STYLE = """<style>
.lakelet-mono select, .lakelet-mono textarea { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
.lakelet-table { border-collapse: collapse; font-size: 12px; }
.lakelet-table th, .lakelet-table td { padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; max-width: 28em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.lakelet-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.lakelet-thumb { max-width: 64px; max-height: 64px; }
.lakelet-bar { background: #4c8ed9; height: 10px; display: inline-block; }
.lakelet-muted { color: #777; }
.lakelet-error { color: #b00020; }
</style>"""


# ------------------------------------------------------------------------------ formatting
def human_bytes(n: int | float | None) -> str:
    """``1536`` -> ``'1.5 KiB'``; None -> ``'—'``.

    >>> human_bytes(0), human_bytes(1536), human_bytes(5 * 2**30)
    ('0 B', '1.5 KiB', '5.0 GiB')
    """
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"  # pragma: no cover - the loop always returns


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


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Sequence[int] = ()) -> str:
    """An HTML table. Cells are *already escaped* HTML; ``numeric`` columns are right-aligned."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f'<table class="lakelet-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


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


# ------------------------------------------------------------------------------ widgets
class Status(W.HTML):
    """A one-line message area; :meth:`guard` turns lakelet errors in callbacks into messages."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("lakelet-status")

    def info(self, message: str) -> None:
        self.value = esc(message)

    def error(self, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.value = f'<span class="lakelet-error">{esc(text)}</span>'

    def clear(self) -> None:
        self.value = ""

    @property
    def text(self) -> str:
        """The message without markup (for tests and logs)."""
        return html.unescape(_strip_tags(self.value))

    def guard(self, func: F) -> F:
        """Wrap a callback: a :class:`LakeletError` it raises is shown here instead of lost in a log."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except LakeletError as e:
                self.error(e)
                return None

        return wrapper  # type: ignore[return-value]


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for ch in text:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


class Pager(W.HBox):
    """First/previous/next buttons and a "rows a–b of n" label; calls ``on_change(offset)``."""

    def __init__(self, on_change: Callable[[int], None], page_size: int = 50) -> None:
        self.page_size = page_size
        self.offset = 0
        self.total: int | None = 0
        self.has_more = False
        self._on_change = on_change
        self.first = W.Button(description="⏮", tooltip="first page", layout=W.Layout(width="40px"))
        self.prev = W.Button(description="◀", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next = W.Button(description="▶", tooltip="next page", layout=W.Layout(width="40px"))
        self.label = W.Label()
        self.first.on_click(lambda _: self.go(0))
        self.prev.on_click(lambda _: self.go(max(self.offset - self.page_size, 0)))
        self.next.on_click(lambda _: self.go(self.offset + self.page_size))
        super().__init__([self.first, self.prev, self.next, self.label])

    def go(self, offset: int) -> None:
        self._on_change(max(offset, 0))

    def update(self, offset: int, shown: int, total: int | None, has_more: bool | None = None) -> None:
        """Record what the current page shows; ``total`` None means "unknown, more if has_more"."""
        self.offset, self.total = offset, total
        self.has_more = bool(has_more) if has_more is not None else total is not None and offset + shown < total
        self.first.disabled = self.prev.disabled = offset == 0
        self.next.disabled = not self.has_more
        if shown == 0:
            self.label.value = "nothing to show" if offset == 0 else f"nothing after {offset:,}"
        elif total is None:
            self.label.value = f"{offset + 1:,}–{offset + shown:,}" + (" of more" if self.has_more else "")
        else:
            self.label.value = f"{offset + 1:,}–{offset + shown:,} of {total:,}"


class Confirm(W.HBox):
    """A hidden "Really …? [Yes] [Cancel]" bar; :meth:`ask` shows it, Yes runs the action once."""

    def __init__(self, status: Status) -> None:
        self._status = status
        self._action: Callable[[], None] | None = None
        self.question = W.HTML()
        self.yes = W.Button(description="Yes", button_style="danger", layout=W.Layout(width="70px"))
        self.no = W.Button(description="Cancel", layout=W.Layout(width="70px"))
        self.yes.on_click(lambda _: self._answer(True))
        self.no.on_click(lambda _: self._answer(False))
        super().__init__([self.question, self.yes, self.no], layout=W.Layout(display="none"))

    @property
    def pending(self) -> bool:
        return self._action is not None

    def ask(self, question: str, action: Callable[[], None]) -> None:
        self._action = action
        self.question.value = f"<b>{esc(question)}</b>"
        self.layout.display = "flex"

    def _answer(self, yes: bool) -> None:
        action, self._action = self._action, None
        self.layout.display = "none"
        self.question.value = ""
        if yes and action is not None:
            self._status.guard(action)()
        elif not yes:
            self._status.info("cancelled")


def small_button(description: str, tooltip: str = "", width: str = "auto", **kwargs: Any) -> W.Button:
    """A compact button."""
    return W.Button(description=description, tooltip=tooltip or description, layout=W.Layout(width=width), **kwargs)


__all__ = [
    "STYLE",
    "Confirm",
    "Pager",
    "Status",
    "bars",
    "esc",
    "histogram_svg",
    "html_table",
    "human_bytes",
    "human_time",
    "shorten",
    "small_button",
]

"""Rich ``_repr_html_`` views of lakelet objects, as plain functions of the object.

Kept out of the core classes so the core never imports the Jupyter layer; they
are attached with ``Class._repr_html_ = reprs.func`` or registered with IPython
by :func:`register` (lazily, by class name, so nothing heavy is imported).
Every view is cheap: usage is only computed for local tiers (memory, disk),
listings stop after a few items, and all text is HTML-escaped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ..errors import LakeletError
from ..lake import preview  # the sidebar's and the CLI's rendering: numpy scalars as plain values
from ..locations.abc import Location
from .widgets._html import STYLE, esc, html_table, human_bytes, human_time, shorten

#: items listed by a repr (files, dict entries, queue items, rows)
SHOW = 10
#: tier kinds whose usage is cheap enough to compute for a repr
_LOCAL_KINDS = frozenset({"memory", "disk"})


def _box(title: str, body: str, hint: str = "") -> str:
    more = f'<div class="lakelet-muted">{esc(hint)}</div>' if hint else ""
    return f'{STYLE}<div class="lakelet-repr"><div>{title}</div>{body}{more}</div>'


# ------------------------------------------------------------------------------ storage
def location_html(location: Location) -> str:
    """A location and, for composites, its tree of members with usage of the local ones."""
    return _box(f"<b>{esc(type(location).__name__)}</b>", _tree(location), "browse: lakelet.widgets.LakeBrowser")


def storage_html(storage: Any) -> str:
    """A HashKeyStorage: its topology with usage of the local tiers."""
    return _box("<b>HashKeyStorage</b>", _tree(storage.location), "browse: storage.browse()")


def _tree(location: Location) -> str:
    from ..topology import redact_url

    usage = _usage(location)
    flags = [] if location.writable else ["read-only"]
    max_size = getattr(location, "max_size", None)
    if location.kind == "small" and max_size is not None:
        flags.append(f"values ≤ {human_bytes(max_size)}")
    tail = f' <span class="lakelet-muted">[{esc(", ".join(flags))}]</span>' if flags else ""
    line = f"<b>{esc(location.kind)}</b> <code>{esc(redact_url(location.url))}</code> {usage}{tail}"
    children = "".join(f"<li>{_tree(child)}</li>" for child in location.children())
    return f"{line}<ul style='margin:0'>{children}</ul>" if children else line


def _usage(location: Location) -> str:
    if location.children() or location.kind not in _LOCAL_KINDS:
        return ""
    try:
        usage = location.usage()
    except LakeletError as e:
        return f'<span class="lakelet-error">usage unavailable: {esc(e)}</span>'
    cap = f" of {human_bytes(usage.capacity)}" if usage.capacity else ""
    return f'<span class="lakelet-muted">{esc(human_bytes(usage.bytes))}{esc(cap)}, {usage.entries:,} entries</span>'


# ------------------------------------------------------------------------------ primitives
def volume_html(volume: Any) -> str:
    """A Volume: name, environment and the first entries of its root folder."""
    from ..primitives.volume_pages import DirectoryPages

    page = DirectoryPages(volume).page("", limit=SHOW)
    rows = [
        [esc(c.name + ("/" if c.is_dir else "")), esc(("≥" if not c.complete else "") + human_bytes(c.size)),
         esc(human_time(c.mtime))]
        for c in page.children
    ]
    more = "" if not page.has_more else "… more entries"
    title = f"<b>Volume</b> {esc(volume.name)} <span class='lakelet-muted'>({esc(volume.environment_name)})</span>"
    body = html_table(["name", "size", "modified"], rows, numeric=(1,)) if rows else "<i>empty</i>"
    return _box(title, body + (f'<div class="lakelet-muted">{more}</div>' if more else ""),
                "browse: volume.browse()")


def dict_html(d: Any) -> str:
    """A Dict: name, size and its first entries."""
    items = list(itertools.islice(d.iterate_items(), SHOW))
    n = len(d)
    rows = [[esc(preview(k, 60)), esc(preview(v, 100))] for k, v in items]
    title = f"<b>Dict</b> {esc(d.name)} <span class='lakelet-muted'>({esc(d.environment_name)})</span> · {n:,} entries"
    body = html_table(["key", "value"], rows) if rows else "<i>empty</i>"
    return _box(title, body, f"first {len(rows)} of {n:,}" if n > len(rows) else "")


def queue_html(q: Any) -> str:
    """A Queue: name, items waiting (default partition and all), and the oldest few."""
    n, total = q.len(), q.len(total=True)
    head = q.peek(min(SHOW, n)) if n else []
    rows = [[str(i), esc(preview(v, 100))] for i, v in enumerate(head)]
    title = (f"<b>Queue</b> {esc(q.name)} <span class='lakelet-muted'>({esc(q.environment_name)})</span> · "
             f"{n:,} waiting" + (f" ({total:,} in all partitions)" if total != n else ""))
    body = html_table(["#", "oldest items"], rows, numeric=(0,)) if rows else "<i>empty</i>"
    return _box(title, body)


# ------------------------------------------------------------------------------ datasets
def dataset_html(ds: Any) -> str:
    """A Dataset: where, branch/version, rows, schema and the first rows."""
    from .widgets.dataset_view import page_html, schema_rows

    where = f"branch <b>{esc(ds.current_branch)}</b>" if ds.current_branch else "detached"
    dirty = ' · <span class="lakelet-error">uncommitted changes</span>' if ds.has_changes else ""
    title = (f"<b>Dataset</b> <code>{esc(ds.path)}</code> · {where} · <code>{esc(ds.version[:12])}</code> · "
             f"{len(ds):,} rows{dirty}")
    body = schema_rows(ds, None).replace("<th>bytes (Arrow)</th>", "<th></th>") + page_html(ds, 0, 5)
    return _box(title, body, "browse: ds.browse()")


def query_html(view: Any) -> str:
    """A query result (QueryView): row count, the SQL and the first rows (read through DuckDB)."""
    from .widgets.dataset_view import result_html

    table = view.relation.limit(SHOW).arrow()
    if hasattr(table, "read_all"):
        table = table.read_all()
    title = f"<b>Query</b> · {len(view):,} rows · <code>{esc(shorten(view.sql, 200))}</code>"
    return _box(title, result_html(table, 0, getattr(view, "_sources", None)))


# ------------------------------------------------------------------------------ wiring
#: (module, class name, repr function) for :func:`register`
FORMATTERS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("lakelet.hashstore", "HashKeyStorage", storage_html),
    ("lakelet.locations.abc", "Location", location_html),
    ("lakelet.primitives.volume", "Volume", volume_html),
    ("lakelet.primitives.dict", "Dict", dict_html),
    ("lakelet.primitives.queue", "Queue", queue_html),
    ("lakelet.datasets.dataset", "Dataset", dataset_html),
    ("lakelet.datasets.results", "QueryView", query_html),
)


def register(ipython: Any) -> None:
    """Make IPython render lakelet objects with these views (subclasses of Location included)."""
    html = ipython.display_formatter.formatters["text/html"]
    for module, name, func in FORMATTERS:
        html.for_type_by_name(module, name, func)


__all__ = [
    "FORMATTERS",
    "dataset_html",
    "dict_html",
    "location_html",
    "query_html",
    "queue_html",
    "register",
    "storage_html",
    "volume_html",
]

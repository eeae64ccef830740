"""``DatasetBrowser``: schema, a server-side paged table, column stats, SQL, versions and diffs.

Only the page on screen leaves the kernel: the table, query results and diffs
are rendered one page at a time from the dataset (or the DuckDB relation).
Every action is also a method (``show_rows``, ``stats``, ``run_sql``,
``checkout``, ``create_branch``, ``create_tag``, ``diff``) for notebooks and tests.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W

from ...errors import InvalidArgument
from ._common import Pager, Status, small_button
from ._html import STYLE, esc, html_table, human_time
from .dataset_view import arrow_html, column_sizes, column_stats, page_html, result_html, schema_rows, stats_html
from .grid import GridQuery, grid_rows, row_detail_html, rows_html

_PAGE_SIZES = (10, 25, 50, 100)
#: a table wider than the notebook scrolls sideways inside its widget instead of being cut off
_SCROLL = W.Layout(width="100%", overflow="auto")
_WORKING = "(working copy)"


def own_handle(ds: Any, ref: str) -> Any:
    """A new handle on ``ds``'s dataset at ``ref`` (same storage and credentials, read-only if ``ds`` is)."""
    checked_out = getattr(ds, "checked_out", None)
    if checked_out is None:  # not a lakelet Dataset we can share storage with: open it again by path
        from ...datasets import open_read_only

        return open_read_only(ds.path, version=ref)
    return type(ds)(checked_out.writer, settings=checked_out.settings, read_only=checked_out.read_only, ref=ref)


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith(("file://", "memory://"))


class DatasetBrowser(W.VBox):
    """Browse one dataset handle (its branch or version); checkout acts on that handle."""

    def __init__(self, ds: Any, *, page_size: int = 25) -> None:
        if not hasattr(ds, "schema") or not hasattr(ds, "query"):
            raise InvalidArgument(f"DatasetBrowser needs a lakelet Dataset, got {type(ds).__name__}")
        if page_size not in _PAGE_SIZES:
            raise InvalidArgument(f"page_size must be one of {_PAGE_SIZES}, got {page_size!r}")
        self.given = ds  # the caller's handle: never moved by this browser
        self.ds = ds  # what is shown: the given handle, or the browser's own after a checkout
        self.status = Status()
        self.result: Any = None  # the last SQL result (a QueryView)
        self.diff_result: Any = None
        guard = self.status.guard
        self.header = W.HTML()

        # rows
        self.rows_pager = Pager(guard(self.show_rows), page_size)
        self.page_size = W.Dropdown(options=_PAGE_SIZES, value=page_size, description="rows/page",
                                    layout=W.Layout(width="170px"))
        self.goto = W.IntText(value=0, description="row", layout=W.Layout(width="180px"))
        self.goto_button = small_button("go")
        self.rows_html = W.HTML(layout=_SCROLL)
        self.page_size.observe(lambda _: guard(self._page_size_changed)(), names="value")
        self.goto_button.on_click(lambda _: guard(self.show_rows)(self.goto.value))
        # grid: sort, per-column filter, shown columns, a row's detail (grid.py; all in the kernel)
        self.sort_column = W.Dropdown(options=[("stored order", "")], value="", description="sort",
                                      layout=W.Layout(width="220px"))
        self.sort_desc = W.ToggleButton(value=False, description="↓ desc", layout=W.Layout(width="80px"))
        self.filter_column = W.Dropdown(options=[("no filter", "")], value="", description="filter",
                                        layout=W.Layout(width="220px"))
        self.filter_text = W.Text(placeholder="contains…", continuous_update=False, layout=W.Layout(width="180px"))
        self.columns_shown = W.SelectMultiple(options=[], rows=4, description="columns",
                                              layout=W.Layout(width="260px"))
        for control, name in ((self.sort_column, "sort"), (self.sort_desc, "desc"),
                              (self.filter_column, "filter-column"), (self.filter_text, "filter"),
                              (self.columns_shown, "columns")):
            control.add_class(f"lakelet-grid-{name}")  # stable hooks for the browser test and user CSS
        self.detail_row = W.IntText(value=0, description="row", layout=W.Layout(width="160px"))
        self.detail_button = small_button("detail", "every value of this row whole, images at full size")
        self.detail_html = W.HTML(layout=_SCROLL)
        self.rows: Any = None  # row numbers in the grid's order when sorted or filtered
        self._rows_query = GridQuery()
        for control in (self.sort_column, self.sort_desc, self.filter_column, self.filter_text, self.columns_shown):
            control.observe(lambda _: guard(self._grid_changed)(), names="value")
        self._quiet = False
        self.detail_button.on_click(lambda _: guard(self.show_detail)(self.detail_row.value))
        rows_tab = W.VBox([
            W.HBox([self.rows_pager, self.page_size, self.goto, self.goto_button]),
            W.HBox([self.sort_column, self.sort_desc, self.filter_column, self.filter_text]),
            W.HBox([self.columns_shown, self.detail_row, self.detail_button]),
            self.rows_html, self.detail_html,
        ])

        # schema
        self.schema_html = W.HTML()
        self.sizes_button = small_button("compute sizes", "bytes of each column at this version")
        self.sizes_button.on_click(lambda _: guard(self.show_schema)(sizes=True))
        schema_tab = W.VBox([self.schema_html, self.sizes_button])

        # stats
        self.stats_column = W.Dropdown(options=[], value=None, description="column")
        self.stats_html = W.HTML()
        self.stats_column.observe(lambda c: guard(self.stats)(c["new"]) if c["new"] else None, names="value")
        stats_tab = W.VBox([self.stats_column, self.stats_html])

        # SQL
        self.sql = W.Textarea(value="SELECT * LIMIT 100", layout=W.Layout(width="100%", height="70px"))
        self.sql.add_class("lakelet-mono")
        self.run_button = small_button("▶ run", "run the query (the table is `ds`; FROM may be left out)")
        self.sql_pager = Pager(guard(self._sql_page), page_size)
        self.sql_html = W.HTML(layout=_SCROLL)
        self.run_button.on_click(lambda _: guard(self.run_sql)())
        sql_tab = W.VBox([self.sql, W.HBox([self.run_button, self.sql_pager]), self.sql_html])

        # versions
        self.history_html = W.HTML()
        self.ref = W.Dropdown(options=[], description="version", layout=W.Layout(width="420px"))
        self.checkout_button = small_button("checkout")
        self.new_name = W.Text(placeholder="name", layout=W.Layout(width="160px"))
        self.branch_button = small_button("new branch", "create a branch at this handle's version")
        self.tag_button = small_button("tag", "tag this handle's version")
        self.diff_a = W.Dropdown(options=[], description="from", layout=W.Layout(width="320px"))
        self.diff_b = W.Dropdown(options=[], description="to", layout=W.Layout(width="320px"))
        self.diff_button = small_button("diff")
        self.diff_summary = W.HTML()
        self.diff_pager = Pager(guard(self._diff_page), page_size)
        self.diff_html = W.HTML(layout=_SCROLL)
        self.checkout_button.on_click(lambda _: guard(self.checkout)(self.ref.value))
        self.branch_button.on_click(lambda _: guard(self.create_branch)(self.new_name.value))
        self.tag_button.on_click(lambda _: guard(self.create_tag)(self.new_name.value))
        self.diff_button.on_click(lambda _: guard(self.diff)(self.diff_a.value, self.diff_b.value or None))
        versions_tab = W.VBox([
            W.HBox([self.ref, self.checkout_button]),
            W.HBox([self.new_name, self.branch_button, self.tag_button]),
            self.history_html,
            W.HBox([self.diff_a, self.diff_b, self.diff_button]),
            self.diff_summary, self.diff_pager, self.diff_html,
        ])

        self.tabs = W.Tab(children=[rows_tab, schema_tab, stats_tab, sql_tab, versions_tab])
        for i, title in enumerate(("Rows", "Schema", "Stats", "SQL", "Versions")):
            self.tabs.set_title(i, title)
        super().__init__([W.HTML(STYLE), self.header, self.tabs, self.status])
        guard(self.refresh)()

    # ------------------------------------------------------------------ everything
    def refresh(self) -> None:
        """Re-read the handle: header, first page, schema, stats choices, versions."""
        ds = self.ds
        where = f"branch <b>{esc(ds.current_branch)}</b>" if ds.current_branch else "detached (read-only)"
        dirty = ' <span class="lakelet-error">uncommitted changes</span>' if ds.has_changes else ""
        self.header.value = (f"<b>Dataset</b> <code>{esc(ds.path)}</code> · {where} · version "
                             f"<code>{esc(ds.version[:12])}</code> · {len(ds):,} rows · "
                             f"{len(ds.schema)} columns{dirty}")
        self.rows = None
        self._grid_controls()
        self.show_rows(0)
        self.detail_html.value = ""
        self.show_schema(sizes=_is_local(ds.path))
        names = ds.schema.names
        self.stats_column.options = names
        self.stats_column.value = None
        self.stats_html.value = '<span class="lakelet-muted">pick a column</span>'
        self._versions()

    # ------------------------------------------------------------------ rows
    @property
    def grid_query(self) -> GridQuery:
        return GridQuery(self.sort_column.value or "", self.sort_desc.value, self.filter_column.value or "",
                         self.filter_text.value.strip())

    def _grid_controls(self) -> None:
        """Column choices for the grid after the schema may have changed (keeps what still exists)."""
        names = list(self.ds.schema.names)
        self._quiet = True  # the controls' observers would redraw the grid once per change
        try:
            sort, filt, shown = self.sort_column.value, self.filter_column.value, self.columns_shown.value
            self.sort_column.options = [("stored order", ""), *[(n, n) for n in names]]
            self.sort_column.value = sort if sort in names else ""
            self.filter_column.options = [("no filter", ""), *[(n, n) for n in names]]
            self.filter_column.value = filt if filt in names else ""
            self.columns_shown.options = names
            kept = tuple(n for n in shown if n in names)
            self.columns_shown.value = kept or tuple(names)
            self.columns_shown.rows = min(max(len(names), 2), 6)
        finally:
            self._quiet = False

    def _grid_changed(self) -> None:
        if not self._quiet:
            self.show_rows(0)

    def show_rows(self, offset: int = 0) -> None:
        """Show the page of rows starting at ``offset`` of the grid's order (sorted/filtered, or stored)."""
        size = self.rows_pager.page_size
        columns = [n for n in self.ds.schema.names if n in self.columns_shown.value] or self.ds.schema.names
        query = self.grid_query
        if query.plain:
            self.rows = None
            n = len(self.ds)
            offset = max(0, min(int(offset), max(n - 1, 0)))
            self.rows_html.value = page_html(self.ds, offset, offset + size, columns)
        else:
            if self.rows is None or self._rows_query != query or offset == 0:
                self.rows, self._rows_query = grid_rows(self.ds, query), query
            n = len(self.rows)
            offset = max(0, min(int(offset), max(n - 1, 0)))
            self.rows_html.value = rows_html(self.ds, self.rows[offset : offset + size], columns)
        self.rows_pager.update(offset, min(size, max(n - offset, 0)), n)

    def show_detail(self, row: int) -> None:
        """Every value of row ``row`` (the dataset's row number), images at full size."""
        self.detail_html.value = row_detail_html(self.ds, int(row))

    def _page_size_changed(self) -> None:
        for pager in (self.rows_pager, self.sql_pager, self.diff_pager):
            pager.page_size = self.page_size.value
        self.show_rows(self.rows_pager.offset)

    # ------------------------------------------------------------------ schema and stats
    def show_schema(self, *, sizes: bool = False) -> None:
        """The schema table; ``sizes`` also reads every column to count its bytes."""
        self.schema_html.value = schema_rows(self.ds, column_sizes(self.ds) if sizes else None)

    def stats(self, column: str) -> None:
        """Compute and show the stats (and histogram or top values) of ``column``."""
        if column not in self.ds.schema:
            raise InvalidArgument(f"no column {column!r}; columns: {self.ds.schema.names}")
        if self.stats_column.value != column:
            self.stats_column.value = column  # its observer calls back here
            return
        self.stats_html.value = stats_html(column_stats(self.ds, column))

    # ------------------------------------------------------------------ SQL
    def run_sql(self, sql: str | None = None) -> None:
        """Run ``sql`` (default: the SQL box) with ``ds.query`` and show its first page."""
        from ..sql_magic import sql_error_text

        if sql is not None:
            self.sql.value = sql
        self.result = None
        self.sql_html.value = ""
        self.sql_pager.update(0, 0, 0)  # an error must not leave the last result's pager behind
        try:
            self.result = self.ds.query(self.sql.value)
        except InvalidArgument as e:
            self.status.error(f"query failed: {sql_error_text(e)}")
            return
        self._sql_page(0)
        self.status.info(f"{len(self.result):,} rows")

    def _sql_page(self, offset: int) -> None:
        if self.result is None:
            raise InvalidArgument("run a query first")
        total = len(self.result)
        size = self.sql_pager.page_size
        table = self.result.relation.limit(size, offset).arrow()
        if hasattr(table, "read_all"):  # newer DuckDB returns a RecordBatchReader
            table = table.read_all()
        self.sql_html.value = result_html(table, offset, getattr(self.result, "_sources", None))
        self.sql_pager.update(offset, table.num_rows, total)

    # ------------------------------------------------------------------ versions
    def _versions(self) -> None:
        ds = self.ds
        history = ds.history
        tags = ds.tags
        by_commit: dict[str, list[str]] = {}
        for name, commit in tags.items():
            by_commit.setdefault(commit, []).append(name)
        rows = []
        for v in history:
            labels = ", ".join(by_commit.get(v.id, []))
            rows.append([f"<code>{esc(v.id[:12])}</code>", esc(human_time(v.timestamp)), f"{v.rows:,}",
                         esc(v.message), esc(labels)])
        self.history_html.value = html_table(["version", "time", "rows", "message", "tags"], rows, numeric=(2,))
        refs = [(f"branch {b}", b) for b in ds.branches]
        refs += [(f"tag {t}", t) for t in sorted(tags)]
        refs += [(f"{v.id[:12]}  {v.message[:40]}", v.id) for v in history]
        self.ref.options = refs
        self.ref.value = ds.current_branch if ds.current_branch in ds.branches else ds.version
        self.diff_a.options = refs
        self.diff_b.options = [(_WORKING, ""), *refs]
        self.diff_a.value = history[1].id if len(history) > 1 else history[0].id
        self.diff_b.value = ""

    def checkout(self, ref: str) -> None:
        """Show branch, tag or version ``ref`` through the browser's own handle.

        The handle the browser was given (the user's ``ds``) stays where it is: looking at
        another version in a browser must not move the variable a notebook writes through.
        """
        if not ref:
            raise InvalidArgument("pick a branch, tag or version to check out")
        self.ds = own_handle(self.given, ref)
        self.refresh()
        where = self.given.current_branch or self.given.version[:12]
        self.status.info(f"showing {ref} (your handle stays on {where})")

    def create_branch(self, name: str) -> None:
        """Create branch ``name`` at the handle's version (the handle stays where it is)."""
        self.ds.branch(name.strip())
        self._versions()
        self.status.info(f"created branch {name.strip()}")

    def create_tag(self, name: str) -> None:
        """Tag the handle's version as ``name``."""
        self.ds.tag(name.strip())
        self._versions()
        self.status.info(f"tagged {self.ds.version[:12]} as {name.strip()}")

    def diff(self, a: str | None, b: str | None = None) -> None:
        """Rows added, removed and changed from ``a`` to ``b`` (None: this handle's working state)."""
        self.diff_result = None
        self.diff_html.value = ""
        self.diff_result = self.ds.diff(a, b)
        counts = self.diff_result.relation.aggregate("change, count(*) AS n", "change").fetchall()
        found = dict(counts)
        self.diff_summary.value = ", ".join(f"{found.get(k, 0):,} {k}" for k in ("added", "removed", "changed"))
        self._diff_page(0)

    def _diff_page(self, offset: int) -> None:
        if self.diff_result is None:
            raise InvalidArgument("compute a diff first")
        size = self.diff_pager.page_size
        table = self.diff_result.relation.limit(size, offset).arrow()
        if hasattr(table, "read_all"):
            table = table.read_all()
        self.diff_html.value = arrow_html(table.drop_columns(["_rowid"]) if "_rowid" in table.column_names
                                          else table, offset)
        self.diff_pager.update(offset, table.num_rows, len(self.diff_result))

    def __repr__(self) -> str:
        return f"DatasetBrowser({self.ds.path!r})"


__all__ = ["DatasetBrowser"]

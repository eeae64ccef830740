"""``LakeBrowser``: the tier stack of a lake, each tier's usage and entries, and evictions.

The tree and the listings come from :mod:`lakelet.jupyter.topology` (the same
views the JupyterLab sidebar serves), entries are attributed to the cached
function or cell that made them (:mod:`lakelet.cache.producers`). Evict and clear act only
on *cache levels* (every member of a ``Levels`` stack but the last, and what
they contain) and, like :meth:`HashKeyStorage.gc`, never remove a value's only
copy; both ask for confirmation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets as W

from ... import topology as topo
from ...cache.producers import Producers, describe
from ...config import get_config
from ...errors import InvalidArgument, LakeletError
from ...hashstore import HashKeyStorage, open_lake
from ...locations.abc import Location
from ...topology import cache_levels
from ._common import Confirm, Folders, Pager, Status, small_button
from ._html import STYLE, esc, human_bytes, human_time

_SORTS = (("last access", "last_access"), ("size", "size"), ("key", "key"))




class LakeBrowser(W.VBox):
    """Browse a lake (default: the configured one): tiers, usage, entries, producers, evictions."""

    def __init__(self, storage: HashKeyStorage | Location | Any = None, *, page_size: int = 50) -> None:
        if not isinstance(page_size, int) or not 1 <= page_size <= topo.MAX_PAGE:
            raise InvalidArgument(f"page_size must be an int from 1 to {topo.MAX_PAGE}, got {page_size!r}")
        if isinstance(storage, HashKeyStorage):
            self.storage = storage
        else:
            self.storage = open_lake() if storage is None else HashKeyStorage(storage)
        self.lake: Location = self.storage.location
        self.folders = Folders([p for p in (_disk_root(loc) for loc in _walk(self.lake)) if p is not None]
                               + ([get_config().home] if storage is None else []))
        self.producers = Producers(self.storage)
        self.tree: dict[str, Any] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.cache_ids = cache_levels(self.lake)
        self.listing: dict[str, Any] | None = None
        self.status = Status()
        self.confirm = Confirm(self.status)
        guard = self.status.guard

        self.header = W.HTML()
        self.tiers = W.Select(options=[], rows=6, layout=W.Layout(width="100%"))
        self.tiers.add_class("lakelet-mono")
        self.refresh_button = small_button("⟳ refresh")
        self.tier_info = W.HTML()
        self.name_filter = W.Text(placeholder="filter: key or function/cell name", continuous_update=False,
                                  layout=W.Layout(width="260px"))
        self.sort = W.Dropdown(options=_SORTS, value="last_access", description="sort",
                               layout=W.Layout(width="200px"))
        self.descending = W.ToggleButton(value=True, description="↓ desc", layout=W.Layout(width="80px"))
        self.entries = W.SelectMultiple(options=[], rows=14, layout=W.Layout(width="100%"))
        self.entries.add_class("lakelet-mono")
        self.pager = Pager(guard(self._load_entries), page_size)
        self.evict_button = small_button("evict selected", "remove the selected entries from this cache level",
                                         button_style="warning")
        self.clear_button = small_button("clear tier", "remove every entry of this cache level held elsewhere",
                                         button_style="danger")
        self.gc_size = W.Text(placeholder="max size, e.g. 100 MiB", layout=W.Layout(width="180px"))
        self.gc_button = small_button("gc", "evict least recently used cache copies down to max size")

        self.refresh_button.on_click(lambda _: guard(self.refresh)())
        self.tiers.observe(lambda c: guard(self.select_tier)(c["new"]) if c["new"] else None, names="value")
        for control in (self.name_filter, self.sort, self.descending):
            control.observe(lambda _: guard(self._load_entries)(0), names="value")
        self.evict_button.on_click(lambda _: guard(self.evict)(self.selected_keys))
        self.clear_button.on_click(lambda _: guard(self.clear)())
        self.gc_button.on_click(lambda _: guard(self.gc)(self.gc_size.value.strip() or None))

        super().__init__([
            W.HTML(STYLE), W.HBox([self.header, self.refresh_button]), self.tiers, self.tier_info,
            W.HBox([self.name_filter, self.sort, self.descending]), self.entries, self.pager,
            W.HBox([self.evict_button, self.clear_button, self.gc_size, self.gc_button]),
            self.confirm, self.status,
        ])
        guard(self.refresh)()

    # ------------------------------------------------------------------ tiers
    def refresh(self) -> None:
        """Re-read the topology and usage, keep the selected tier (or pick the first one)."""
        try:
            self.folders.check()
        except LakeletError:
            self.listing = None
            self._set_entries([])
            self.pager.update(0, 0, 0)
            raise
        previous = self.tiers.value
        self.tree = topo.topology(self.lake)
        self.nodes = {node["id"]: dict(node) for node in topo.walk_nodes(self.tree)}
        usage = self.tree.get("usage") or {}
        self.header.value = (f"<b>Lake</b> <code>{esc(self.tree['url'])}</code> · "
                             f"{esc(human_bytes(usage.get('bytes')))} in {usage.get('entries', 0):,} entries")
        with self.tiers.hold_sync():
            self.tiers.options = [(self._tier_label(node), node["id"]) for node in self.nodes.values()]
            self.tiers.rows = min(max(len(self.nodes), 2), 12)
        target = previous if previous in self.nodes else "0"
        if self.tiers.value == target:
            self.select_tier(target)
        else:
            self.tiers.value = target  # its observer selects it

    def _tier_label(self, node: dict[str, Any]) -> str:
        depth = node["id"].count(".")
        usage = node.get("usage")
        amount = (f"{human_bytes(usage['bytes'])}, {usage['entries']:,} entries" if usage
                  else "usage unknown")
        flags = []
        if node["id"] in self.cache_ids:
            flags.append("cache")
        if not node["writable"]:
            flags.append("read-only")
        if node.get("max_size") is not None:  # Small: a bound per value; Disk and others: a total capacity
            per_value = node["kind"] == "small"
            flags.append(f"values ≤{human_bytes(node['max_size'])}" if per_value
                         else f"max {human_bytes(node['max_size'])} in all")
        name = (node.get("level") or {}).get("name")
        if name:
            flags.insert(0, f"name {name!r}")
        tail = f"  [{', '.join(flags)}]" if flags else ""
        return f"{'  ' * depth}{node['kind']:<8} {node['url']}  ({amount}){tail}"

    @property
    def tier_id(self) -> str | None:
        return self.tiers.value

    def select_tier(self, node_id: str) -> None:
        """Show tier ``node_id`` (``"0"`` is the whole lake, ``"0.1"`` its second member...)."""
        if node_id not in self.nodes:
            raise InvalidArgument(f"no tier {node_id!r}; tiers: {list(self.nodes)}")
        if self.tiers.value != node_id:
            self.tiers.value = node_id  # its observer calls back here
            return
        node = self.nodes[node_id]
        usage = node.get("usage")
        cap = usage.get("capacity") if usage else None
        parts = [f"<b>{esc(node['kind'])}</b> <code>{esc(node['url'])}</code>"]
        if usage:
            parts.append(f"{esc(human_bytes(usage['bytes']))} in {usage['entries']:,} entries"
                         + (f" of {esc(human_bytes(cap))}" if cap else ""))
        elif node.get("usage_error"):
            parts.append(f'<span class="lakelet-error">{esc(node["usage_error"])}</span>')
        if node.get("level"):
            level = node["level"]
            parts.append(f"level: write={level.get('write')}, replicate={level.get('replicate')}")
        cache = node_id in self.cache_ids and node["writable"]
        parts.append("cache level: evict/clear keep values held elsewhere" if cache
                     else "not a cache level: evict/clear are disabled")
        self.tier_info.value = " · ".join(parts)
        self.evict_button.disabled = self.clear_button.disabled = not cache
        self._load_entries(0)

    # ------------------------------------------------------------------ entries
    def _set_entries(self, options: list[tuple[str, str]]) -> None:
        """Replace the entry list in one message: selection cleared *with* the new options.

        Sent apart, the frontend briefly holds the old selected indices over a shorter list
        and fails with "Cannot set properties of undefined (setting 'selected')".
        """
        with self.entries.hold_sync():
            self.entries.value = ()
            self.entries.options = options

    def _load_entries(self, offset: int) -> None:
        node_id = self.tier_id
        if node_id is None:
            return
        location = topo.resolve(self.lake, node_id)
        if not location.listable:
            self._set_entries([])
            self.listing = None
            self.pager.update(0, 0, 0)
            self.status.info("this tier cannot list its keys")
            return
        query = topo.EntryQuery(offset=offset, limit=self.pager.page_size, sort=self.sort.value,
                                descending=self.descending.value, filter=self.name_filter.value.strip(), group=True)
        try:
            self.listing = topo.list_entries(location, query, self.producers)
        except LakeletError:
            self._set_entries([])
            raise
        rows = self.listing["entries"]
        self._set_entries(_grouped_options(rows, self.listing["groups"]))
        self.pager.update(offset, len(rows), self.listing["total"])

    @property
    def page_keys(self) -> list[str]:
        """Keys on the current page."""
        return [row["key"] for row in (self.listing or {}).get("entries", [])]

    @property
    def selected_keys(self) -> list[str]:
        """The selected values: a selected cache entry stands for all of its values on this page."""
        keys: list[str] = []
        for choice in self.entries.value:
            if isinstance(choice, tuple):  # a cache entry's header line
                keys += [row["key"] for row in (self.listing or {}).get("entries", []) if row["group"] == choice[1]]
            else:
                keys.append(choice)
        return list(dict.fromkeys(keys))

    # ------------------------------------------------------------------ actions
    def evict(self, keys: list[str]) -> None:
        """Ask to remove ``keys`` from the selected cache level; runs when confirmed.

        Values this level holds the only copy of are named in the question: confirming
        removes them for good (a cached result is computed again when next needed).
        """
        node_id = self._cache_tier()
        if not keys:
            raise InvalidArgument("select entries to evict first")
        only = topo.only_copies(self.lake, node_id, keys)["only_copies"]

        def run() -> None:
            report = topo.evict(self.lake, node_id, keys, force=bool(only))
            self.refresh()
            self.status.info(f"evicted {report['removed']} entries ({human_bytes(report['bytes'])})")

        if only:
            self.confirm.ask(
                f"{len(only)} of the {len(keys)} selected entries exist only in tier {node_id}: removing them "
                "deletes them for good (a cached result is computed again when next needed). Delete them?",
                run, yes="Delete")
        else:
            self.confirm.ask(f"Evict {len(keys)} entries from tier {node_id}? Another tier keeps a copy of each.",
                             run, yes="Evict")

    def clear(self) -> None:
        """Ask to remove every entry of the selected cache level that another tier also holds."""
        node_id = self._cache_tier()

        def run() -> None:
            report = topo.clear(self.lake, node_id)
            self.refresh()
            kept = f", kept {report['kept']} only copies" if report["kept"] else ""
            self.status.info(f"cleared {report['removed']} entries ({human_bytes(report['bytes'])}){kept}")

        self.confirm.ask(f"Remove every entry of tier {node_id} that another tier also holds?", run, yes="Clear")

    def gc(self, max_size: str | int | None = None) -> None:
        """Run :meth:`HashKeyStorage.gc` (LRU eviction from cache levels down to ``max_size`` each)."""
        from ...lake import explain_gc

        report = self.storage.gc(max_size=max_size)
        self.refresh()
        done = f"gc evicted {report.evicted} entries ({human_bytes(report.bytes)})"
        self.status.info(f"{done}: {explain_gc(self.lake, max_size, None)}" if report.evicted == 0 else done)

    def _cache_tier(self) -> str:
        node_id = self.tier_id
        if node_id is None or node_id not in self.cache_ids or not self.nodes[node_id]["writable"]:
            raise InvalidArgument(f"tier {node_id} is not a writable cache level; only cache copies can be evicted")
        return node_id

    def __repr__(self) -> str:
        return f"LakeBrowser({self.lake.url!r})"


def _walk(location: Location) -> list[Location]:
    out = [location]
    for child in location.children():
        out += _walk(child)
    return out


def _disk_root(location: Location) -> Path | None:
    root = getattr(location, "root", None)
    return root if location.kind == "disk" and isinstance(root, Path) else None


def _grouped_options(rows: list[dict[str, Any]], groups: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each cache entry as a line of its own (selecting it selects its values), its values indented under it."""
    options: list[tuple[str, Any]] = []
    current = None
    for row in rows:
        if row["group"] != current:
            current, group = row["group"], groups[row["group"]]
            if group["entry"] is not None:
                count = f"{group['count']} value{'s' if group['count'] != 1 else ''}"
                options.append((f"▾ {group['kind']} {group['name']} · computed {human_time(group['created'])} · "
                                f"{human_bytes(group['size'])} in {count}", ("entry", current)))
        options.append((_entry_label(row), row["key"]))
    return options


def _entry_label(row: dict[str, Any]) -> str:
    producer = row.get("producer") or {}
    if producer.get("role") == "value":  # under its entry's line: say which value it is
        return (f"    {producer.get('variable') or 'value':<10} {row['key'][:16]}  {human_bytes(row['size']):>10}  "
                f"{human_time(row['last_access'])}")
    return (f"{row['key'][:16]}  {human_bytes(row['size']):>10}  {human_time(row['last_access']):<19}  "
            f"{describe(producer)}")


__all__ = ["LakeBrowser", "cache_levels"]  # cache_levels: re-exported from topology

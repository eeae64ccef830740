"""JSON views of a lake for the JupyterLab sidebar: its topology, one tier's entries, evictions.

Pure core code (no ``jupyter_server`` import), so the same views serve the REST
handlers, widgets and tests. A node of the topology is addressed by a *node id*:
the dotted path of child indexes from the root (``"0"`` is the lake itself,
``"0.1"`` its second member). Ids only ever resolve to locations of the
configured lake; there is no way to name any other path or URL.

>>> from lakelet.locations.levels import Levels
>>> from lakelet.locations.memory import Memory
>>> lake = Levels(Memory(name="hot"), Memory(name="cold"))
>>> [node["id"] for node in walk_nodes(topology(lake))]
['0', '0.0', '0.1']
>>> resolve(lake, "0.1").url
'memory://cold'
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from ._hashing import is_key
from .errors import InvalidArgument, LakeletError, PreconditionFailed, ReadOnlyLocation, StorageKeyNotFound
from .locations._search import verifies
from .locations.abc import EntryInfo, Location, Usage
from .locations.levels import Levels

#: how many entries one page may hold
MAX_PAGE = 1000
#: how many keys one evict request may name
MAX_EVICT = 10_000

_ID = re.compile(r"0(\.(0|[1-9][0-9]{0,3})){0,16}")

SortField = Literal["key", "size", "last_access"]
#: the key -> producer lookup used for entry rows (see :mod:`lakelet.jupyter.server`)
ProducerLookup = Callable[[Sequence[str]], Mapping[str, Mapping[str, Any]]]


# ------------------------------------------------------------------------------ topology
def topology(lake: Location, *, usage: bool = True) -> dict[str, Any]:
    """The tree of ``lake``'s locations with ids, kinds, URLs, flags and (optionally) usage.

    A location whose usage cannot be computed (not listable, unreachable) gets
    ``usage: None`` and a ``usage_error`` message instead of failing the whole tree.
    """
    return _node(lake, "0", lake.describe(), usage)


def _node(location: Location, node_id: str, described: Mapping[str, Any], with_usage: bool) -> dict[str, Any]:
    node: dict[str, Any] = {
        "id": node_id,
        "kind": location.kind,
        "url": redact_url(location.url),
        "writable": bool(location.writable),
        "listable": bool(location.listable),
        "process_local": location.kind == "memory",
    }
    for extra in ("level", "max_size"):
        if described.get(extra) is not None:
            node[extra] = described[extra]
    node["usage"] = None
    if with_usage:
        try:
            node["usage"] = usage_json(location.usage())
        except LakeletError as e:  # one unreachable tier must not hide the others
            node["usage_error"] = str(e)
    described_children = described.get("children") or []
    children = location.children()
    node["children"] = [
        _node(child, f"{node_id}.{i}", described_children[i] if i < len(described_children) else {}, with_usage)
        for i, child in enumerate(children)
    ]
    return node


def usage_json(usage: Usage) -> dict[str, Any]:
    """The plain numbers of a :class:`Usage` (the per-member breakdown is in the tree already)."""
    return {"bytes": usage.bytes, "entries": usage.entries, "capacity": usage.capacity}


def walk_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a :func:`topology` tree, depth first."""
    yield node
    for child in node.get("children", ()):
        yield from walk_nodes(child)


def redact_url(url: str) -> str:
    """``url`` without a password or query string (which may hold credentials).

    >>> redact_url("redis://:secret@localhost:6379/0")
    'redis://***@localhost:6379/0'
    >>> redact_url("s3://bucket/prefix?key=AKIA")
    's3://bucket/prefix'
    """
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = (user.split(":", 1)[0] + ":***" if ":" in user and user.split(":", 1)[0] else "***") + "@" + host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def resolve(lake: Location, node_id: str) -> Location:
    """The location that ``node_id`` names in ``lake``; :class:`StorageKeyNotFound` if there is none."""
    if not isinstance(node_id, str) or not _ID.fullmatch(node_id):
        raise InvalidArgument(f"not a tier id: {node_id!r:.80} (ids look like '0' or '0.1.2')")
    location = lake
    for part in node_id.split(".")[1:]:
        children = location.children()
        index = int(part)
        if index >= len(children):
            raise StorageKeyNotFound(f"no tier {node_id!r} in the configured lake")
        location = children[index]
    return location


# ------------------------------------------------------------------------------ listing
@dataclasses.dataclass(frozen=True)
class EntryQuery:
    """One page of a tier listing: ``offset``/``limit``, a sort order and a case-insensitive filter.

    The filter matches a substring of the key or of the producer's name. ``group``: the values of
    one cache entry are listed together, under that entry (see :func:`list_entries`).
    """

    offset: int = 0
    limit: int = 50
    sort: SortField = "last_access"
    descending: bool = True
    filter: str = ""
    group: bool = False

    def __post_init__(self) -> None:
        if not _is_int(self.offset) or self.offset < 0:
            raise InvalidArgument(f"offset must be a non-negative integer, got {self.offset!r}")
        if not _is_int(self.limit) or not 1 <= self.limit <= MAX_PAGE:
            raise InvalidArgument(f"limit must be an integer from 1 to {MAX_PAGE}, got {self.limit!r}")
        if self.sort not in ("key", "size", "last_access"):
            raise InvalidArgument(f"sort must be one of key, size, last_access; got {self.sort!r}")
        if not isinstance(self.filter, str) or len(self.filter) > 200 or "\x00" in self.filter:
            raise InvalidArgument("filter must be a string of at most 200 characters without NUL bytes")
        if not isinstance(self.group, bool):
            raise InvalidArgument(f"group must be True or False, got {self.group!r:.40}")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> EntryQuery:
        """Build a query from URL parameters (``offset``, ``limit``, ``sort``, ``order``, ``filter``, ``group``)."""
        unknown = set(params) - {"offset", "limit", "sort", "order", "filter", "group"}
        if unknown:
            raise InvalidArgument(
                f"unknown parameters {sorted(unknown)}; use offset, limit, sort, order, filter, group"
            )
        order = params.get("order", "desc")
        if order not in ("asc", "desc"):
            raise InvalidArgument(f"order must be 'asc' or 'desc', got {order!r:.40}")
        group = params.get("group", "none")
        if group not in ("entry", "none"):
            raise InvalidArgument(f"group must be 'entry' or 'none', got {group!r:.40}")
        return cls(
            offset=_int_param(params, "offset", 0),
            limit=_int_param(params, "limit", 50),
            sort=params.get("sort", "last_access"),  # type: ignore[arg-type]  # validated in __post_init__
            descending=order == "desc",
            filter=params.get("filter", "").strip(),
            group=group == "entry",
        )


def list_entries(
    location: Location, query: EntryQuery, producers: ProducerLookup | None = None
) -> dict[str, Any]:
    """One sorted, filtered page of ``location``'s entries, with the total that matched.

    With ``query.group`` the stored values of one cache entry (a function call or a cell) come
    together, under their entry: the entries are sorted by their totals (size, latest access, or
    name for ``key``), the values of each follow it, each row names its ``group``, and the page's
    ``groups`` describe the entries it shows (kind, name, when computed, size and count of its
    values in this tier). A value no cache entry this machine knows of is a group of its own.
    """
    if not location.listable:
        raise InvalidArgument(f"{redact_url(location.url)} cannot list its keys")
    entries = list(location.entries())
    found = _producers(producers, [e.key for e in entries]) if producers is not None else {}
    needle = query.filter.lower()
    if needle:
        entries = [e for e in entries if needle in e.key or needle in _producer_text(found.get(e.key))]
    groups: dict[str, dict[str, Any]] = {}
    if query.group:
        entries, groups = _grouped(entries, found, query)
    else:
        entries.sort(key=_sort_key(query.sort), reverse=query.descending)
    page = entries[query.offset : query.offset + query.limit]
    rows = [entry_json(e, found.get(e.key)) for e in page]
    out: dict[str, Any] = {
        "total": len(entries),
        "offset": query.offset,
        "limit": query.limit,
        "sort": query.sort,
        "order": "desc" if query.descending else "asc",
        "filter": query.filter,
        "entries": rows,
    }
    if query.group:
        for row in rows:
            row["group"] = group_of(row["key"], found.get(row["key"]))
        out["groups"] = {row["group"]: groups[row["group"]] for row in rows}
    return out


def group_of(key: str, producer: Mapping[str, Any] | None) -> str:
    """The cache entry a stored value belongs to (its address), or the value's own key when none is known."""
    if producer and producer.get("role") == "value" and isinstance(producer.get("entry"), str):
        return str(producer["entry"])
    return key


def _grouped(
    entries: list[EntryInfo], found: Mapping[str, Mapping[str, Any]], query: EntryQuery
) -> tuple[list[EntryInfo], dict[str, dict[str, Any]]]:
    members: dict[str, list[EntryInfo]] = {}
    for e in entries:
        members.setdefault(group_of(e.key, found.get(e.key)), []).append(e)
    groups: dict[str, dict[str, Any]] = {}
    for gid, blobs in members.items():
        producer = found.get(blobs[0].key) or {}
        attributed = gid != blobs[0].key or bool(producer)
        accessed = [b.last_access for b in blobs if b.last_access is not None]
        groups[gid] = {
            "entry": gid if attributed else None,
            "kind": producer.get("kind") if attributed else None,
            "name": producer.get("name") if attributed else None,
            "created": producer.get("created") if attributed else None,
            "size": sum(b.size for b in blobs),
            "count": len(blobs),
            "last_access": max(accessed) if accessed else None,
        }

    def order(gid: str) -> Any:
        g = groups[gid]
        if query.sort == "size":
            return (g["size"], gid)
        if query.sort == "last_access":
            return (g["last_access"] if g["last_access"] is not None else float("-inf"), gid)
        return (g["name"] or "\uffff", gid)  # by name; values of no known entry last

    ordered = sorted(members, key=order, reverse=query.descending)
    rows = [b for gid in ordered for b in sorted(members[gid], key=lambda b: (-b.size, b.key))]
    return rows, groups


def entry_json(entry: EntryInfo, producer: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One row of a tier listing."""
    return {
        "key": entry.key,
        "size": entry.size,
        "last_access": entry.last_access,
        "created": entry.created,
        "producer": dict(producer) if producer is not None else None,
    }


def _sort_key(field: SortField) -> Callable[[EntryInfo], Any]:
    if field == "size":
        return lambda e: (e.size, e.key)
    if field == "last_access":
        return lambda e: (e.last_access if e.last_access is not None else float("-inf"), e.key)
    return lambda e: e.key


def _producers(lookup: ProducerLookup, keys: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
    found = lookup(keys)
    if not isinstance(found, Mapping):
        raise TypeError(f"a producer lookup must return a mapping, got {type(found).__name__}")
    return found


def _producer_text(producer: Mapping[str, Any] | None) -> str:
    if not producer:
        return ""
    return " ".join(str(v) for v in producer.values() if isinstance(v, str)).lower()


# ------------------------------------------------------------------------------ evicting
def evict(lake: Location, node_id: str, keys: Sequence[str], *, force: bool = False) -> dict[str, Any]:
    """Remove ``keys`` from the tier ``node_id`` of ``lake``.

    Without ``force`` a key is only removed when another tier of the lake still
    holds a good copy of it (re-hashed: evicting a cache copy never loses data); a key
    whose only good copy is in this tier raises :class:`PreconditionFailed` before
    anything is removed.
    Evicting the whole lake (``"0"``) always needs ``force``.
    """
    keys = _validate_keys(keys)
    tier = _writable_tier(lake, node_id)
    if not force:
        if tier is lake:
            raise PreconditionFailed(
                "removing values from the whole lake deletes them for good; remove them from one cache tier "
                "instead, or confirm deleting them everywhere (--force on the command line)"
            )
        only = [key for key in keys if tier.contains(key) and not _held_elsewhere(lake, tier, key, good=True)]
        if only:
            raise PreconditionFailed(
                f"{len(only)} of these values have no other copy in the lake (first: {only[0][:12]}…): deleting "
                "them here would lose them, so nothing was removed"
            )
    removed = freed = 0
    for key in keys:
        size = _size_or_none(tier, key)
        if tier.delete(key):
            removed += 1
            freed += size or 0
    return {"id": node_id, "removed": removed, "bytes": freed}


def only_copies(lake: Location, node_id: str, keys: Sequence[str]) -> dict[str, Any]:
    """Which of ``keys`` the tier ``node_id`` holds with no other copy in the lake (nothing is removed).

    The sidebar asks this before evicting, so it can confirm with the user instead of
    provoking a refusal.
    """
    keys = _validate_keys(keys)
    tier = _writable_tier(lake, node_id)
    if tier is lake:
        return {"id": node_id, "only_copies": [key for key in keys if tier.contains(key)]}
    return {
        "id": node_id,
        "only_copies": [key for key in keys if tier.contains(key) and not _held_elsewhere(lake, tier, key, good=True)],
    }


def clear(lake: Location, node_id: str, *, force: bool = False) -> dict[str, Any]:
    """Empty the tier ``node_id``: every entry another tier also holds, or all of them with ``force``.

    Returns how many entries were removed and how many were kept because they
    were the only copy.
    """
    tier = _writable_tier(lake, node_id)
    if tier is lake and not force:
        raise PreconditionFailed(
            "clearing the whole lake deletes every value for good; clear one cache tier instead, or confirm "
            "deleting everything (--force on the command line)"
        )
    if not tier.listable:
        raise InvalidArgument(f"{redact_url(tier.url)} cannot list its keys, so it cannot be cleared")
    removed = freed = kept = 0
    for entry in list(tier.entries()):
        if not force and not _held_elsewhere(lake, tier, entry.key):
            kept += 1
            continue
        if tier.delete(entry.key):
            removed += 1
            freed += entry.size
    return {"id": node_id, "removed": removed, "bytes": freed, "kept": kept}


def _writable_tier(lake: Location, node_id: str) -> Location:
    tier = resolve(lake, node_id)
    if not tier.writable:
        raise ReadOnlyLocation(f"tier {node_id} is read-only", location=redact_url(tier.url))
    return tier


def _held_elsewhere(lake: Location, tier: Location, key: str, *, good: bool = False) -> bool:
    """Whether a leaf location of ``lake`` outside ``tier`` holds ``key`` (with ``good``: a copy
    that hashes to its key, so evicting never leaves only damaged copies)."""
    inside = {id(loc) for loc in tier.walk()}
    return any(
        not loc.children() and id(loc) not in inside and loc.contains(key) and (not good or verifies(loc, key))
        for loc in lake.walk()
    )


def _size_or_none(location: Location, key: str) -> int | None:
    try:
        return location.info(key).size
    except StorageKeyNotFound:
        return None


def _validate_keys(keys: Any) -> list[str]:
    if not isinstance(keys, list | tuple) or not keys:
        raise InvalidArgument("keys must be a non-empty list of storage keys")
    if len(keys) > MAX_EVICT:
        raise InvalidArgument(f"at most {MAX_EVICT} keys per request, got {len(keys)}")
    for key in keys:
        if not is_key(key):
            raise InvalidArgument(f"not a storage key (64 lowercase hex digits): {key!r:.80}")
    return list(dict.fromkeys(keys))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_param(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as e:
        raise InvalidArgument(f"{name} must be an integer, got {raw!r:.40}") from e


def cache_levels(lake: Location) -> set[str]:
    """Node ids of ``lake`` that are cache levels or inside one (every member of a Levels stack but the last)."""
    found: set[str] = set()

    def walk(location: Location, node_id: str, inside: bool) -> None:
        if inside:
            found.add(node_id)
        caching = len(location.caches()) if isinstance(location, Levels) else 0  # the first members
        for i, child in enumerate(location.children()):
            walk(child, f"{node_id}.{i}", inside or i < caching)

    walk(lake, "0", False)
    return found

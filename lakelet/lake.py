"""Read-only views of what one ``LAKELET_HOME`` holds: named objects, datasets and cache entries.

One place computes these listings so the JupyterLab sidebar (:mod:`lakelet.jupyter.handlers`),
the widgets and the CLI show the same thing. Every view takes the :class:`~lakelet.config.Config`
to read (the server shows the lake of a notebook's kernel, which may differ from its own) and
returns plain JSON-able dicts, paged with ``offset``/``limit``. Looking never writes: a listing
of an environment, a volume or a lake folder that does not exist yet is empty, not created.

>>> import tempfile
>>> from lakelet.config import load_config
>>> config = load_config({"LAKELET_HOME": tempfile.mkdtemp()})
>>> list_objects(config, "volume")["total"]
0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from ._format import human_bytes
from .config import Config
from .errors import InvalidArgument, LakeletError, StorageKeyNotFound

#: the most rows one page may hold
MAX_PAGE = 1000
#: how deep under a datasets root a dataset folder is looked for
DATASET_DEPTH = 3
#: characters of a value preview
PREVIEW_CHARS = 200

ObjectKind = Literal["volume", "dict", "queue"]
_KINDS: dict[str, str] = {"volume": "Volume", "dict": "Dict", "queue": "Queue"}


# ------------------------------------------------------------------------------ helpers
def check_page(offset: Any, limit: Any) -> tuple[int, int]:
    """Validated ``(offset, limit)``: a non-negative offset, a limit from 1 to :data:`MAX_PAGE`."""
    for name, value in (("offset", offset), ("limit", limit)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgument(f"{name} must be an integer, got {value!r:.40}")
    if offset < 0:
        raise InvalidArgument(f"offset must be 0 or more, got {offset}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidArgument(f"limit must be from 1 to {MAX_PAGE}, got {limit}")
    return offset, limit


def _page(rows: list[dict[str, Any]], offset: int, limit: int, **extra: Any) -> dict[str, Any]:
    return {"total": len(rows), "offset": offset, "limit": limit, **extra, "items": rows[offset : offset + limit]}


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A short, readable repr of ``value``: numpy scalars as plain numbers, str subclasses as str.

    >>> preview("Midtown")
    "'Midtown'"
    >>> preview(list(range(100)), 20)
    '[0, 1, 2, 3, 4, 5, …'
    """
    value = _plain_data(value)
    try:
        text = repr(value)
    except Exception as e:  # noqa: BLE001 - a broken __repr__ of user data must not fail a listing
        text = f"<{type(value).__name__}: repr failed: {type(e).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain_data(value: Any, depth: int = 3) -> Any:
    """``value`` with numpy scalars as Python numbers/str and str subclasses as str, inside containers too.

    >>> import numpy as np
    >>> _plain_data({"zone": np.str_("Midtown"), "n": [np.int64(3)]})
    {'zone': 'Midtown', 'n': [3]}
    """
    item = getattr(value, "item", None)
    if type(value).__module__ == "numpy" and callable(item) and getattr(value, "shape", None) == ():
        return item()
    if isinstance(value, str):
        return str(value)
    if depth > 0 and type(value) in (list, tuple) and len(value) <= 1000:
        return type(value)(_plain_data(v, depth - 1) for v in value)
    if depth > 0 and type(value) is dict and len(value) <= 1000:
        return {_plain_data(k, depth - 1): _plain_data(v, depth - 1) for k, v in value.items()}
    return value


def _matches(needle: str, *texts: str) -> bool:
    return not needle or any(needle in t.lower() for t in texts)


# ------------------------------------------------------------------------------ named objects
def environment(config: Config, name: str | None = None) -> Any:
    """The environment ``name`` (default ``main``) of ``config``."""
    from .primitives.env import get_environment

    return get_environment(name, config)


def _records(env: Any, kind: str) -> list[Any]:
    """Catalog records of ``kind``; an embedded environment that was never used has none (and stays absent)."""
    from .primitives.catalog import open_catalog

    if not env.shared and not (env.root / "catalog.sqlite").is_file():
        return []
    return [r for r in open_catalog(env).list(kind) if not r.ephemeral]


def _object(config: Config, kind: str, name: str, env_name: str | None) -> Any:
    from . import primitives
    from .primitives.catalog import open_catalog
    from .primitives.errors import NotFoundError

    env = environment(config, env_name)
    record = None
    if env.shared or (env.root / "catalog.sqlite").is_file():
        record = open_catalog(env).get(kind, name)
    if record is None:
        raise NotFoundError(f"no {kind} called {name!r} in {env.describe()}")
    return getattr(primitives, _KINDS[kind])(record, env)


def list_objects(
    config: Config, kind: ObjectKind, *, env: str | None = None, offset: int = 0, limit: int = 50, filter: str = ""
) -> dict[str, Any]:  # noqa: A002 - the query parameter's name
    """The volumes, dicts or queues of an environment, by name: ``{total, items: [{name, created, created_by}]}``."""
    if kind not in _KINDS:
        raise InvalidArgument(f"kind must be one of {sorted(_KINDS)}, got {kind!r:.40}")
    offset, limit = check_page(offset, limit)
    environ = environment(config, env)
    needle = filter.strip().lower()
    rows = [
        {"name": r.name, "created": r.created_at, "created_by": r.created_by}
        for r in _records(environ, kind)
        if _matches(needle, r.name)
    ]
    return _page(rows, offset, limit, kind=kind, environment=environ.name, where=environ.describe())


def volume_listing(
    config: Config, name: str, path: str = "/", *, env: str | None = None, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """One folder of a volume: folders first, then files, each with size and modification time."""
    from .primitives import FileEntryType

    offset, limit = check_page(offset, limit)
    volume = _object(config, "volume", name, env)
    path = "/" + path.strip("/")
    entries = volume.listdir(path)
    rows = [
        {
            "path": e.path,
            "name": e.path.rstrip("/").rsplit("/", 1)[-1],
            "type": "directory" if e.type == FileEntryType.DIRECTORY else e.type.name.lower(),
            "size": e.size,
            "mtime": e.mtime,
        }
        for e in entries
    ]
    rows.sort(key=lambda r: (r["type"] != "directory", r["name"]))
    return _page(rows, offset, limit, name=name, path=path)


def dict_items(
    config: Config, name: str, *, env: str | None = None, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """One page of a Dict's keys with a short preview of each value (a value that cannot be read says so)."""
    offset, limit = check_page(offset, limit)
    d = _object(config, "dict", name, env)
    total = d.len()
    rows = []
    for i, key in enumerate(d.iterate_keys()):
        if i < offset:
            continue
        if len(rows) >= limit:
            break
        try:
            value = preview(d.get(key))
        except LakeletError as e:
            value = f"(cannot be read here: {e})"
        rows.append({"key": preview(key, 120), "value": value})
    return {"total": total, "offset": offset, "limit": limit, "name": name, "items": rows}


def queue_head(config: Config, name: str, *, env: str | None = None, n: int = 10) -> dict[str, Any]:
    """A Queue's length (default partition and all partitions) and its ``n`` oldest items, left in place."""
    _, n = check_page(0, n)
    q = _object(config, "queue", name, env)
    length = q.len()
    try:
        head = [preview(item) for item in q.peek(n)] if length else []
    except LakeletError as e:
        head = [f"(cannot be read here: {e})"]
    return {"name": name, "length": length, "total": q.len(total=True), "head": head}


# ------------------------------------------------------------------------------ datasets
def dataset_roots(config: Config) -> list[Path]:
    """Folders searched for datasets: ``$LAKELET_HOME/datasets`` and ``[datasets] paths = [...]``."""
    roots = [config.home / "datasets"]
    extra = config.section("datasets").get("paths", [])
    if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
        raise InvalidArgument(f"[datasets] paths in {config.config_file} must be a list of folder paths")
    roots += [Path(p).expanduser() for p in extra]
    return list(dict.fromkeys(roots))


def _is_dataset(folder: Path) -> bool:
    return (folder / "refs" / "branches").is_dir()


def _find_datasets(root: Path, depth: int) -> Iterator[Path]:
    if _is_dataset(root):
        yield root
        return  # nothing inside a dataset is another dataset
    if depth <= 0:
        return
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return
    for child in children:
        yield from _find_datasets(child, depth - 1)


def list_datasets(config: Config, *, offset: int = 0, limit: int = 50, filter: str = "") -> dict[str, Any]:  # noqa: A002
    """Local datasets under :func:`dataset_roots`: ``{total, roots, items: [{name, path}]}``."""
    offset, limit = check_page(offset, limit)
    needle = filter.strip().lower()
    rows = []
    roots = dataset_roots(config)
    for root in roots:
        for folder in _find_datasets(root, DATASET_DEPTH):
            name = str(folder.relative_to(root)) if folder != root else folder.name
            if _matches(needle, name):
                rows.append({"name": name, "path": str(folder)})
    return _page(rows, offset, limit, roots=[str(r) for r in roots])


def dataset_path(config: Config, path: str) -> Path:
    """``path`` if it is a dataset under one of :func:`dataset_roots` (a viewer names nothing else)."""
    folder = Path(path)
    if not folder.is_absolute() or ".." in folder.parts:
        raise InvalidArgument(f"not an absolute dataset path: {path!r:.200}")
    for root in dataset_roots(config):
        if folder == root or root in folder.parents:
            if _is_dataset(folder):
                return folder
            break
    raise StorageKeyNotFound(f"no dataset at {path!r:.200} under {[str(r) for r in dataset_roots(config)]}")


def resolve_dataset(config: Config, name: str) -> str:
    """The URL or path of dataset ``name``: a URL or an existing path as given, else a catalog name.

    A catalog name is a dataset's name in :func:`list_datasets` (its folder under one of
    :func:`dataset_roots`, e.g. ``animals`` or ``team/animals``). Unknown names raise
    :class:`~lakelet.datasets.DatasetNotFound` listing the names there are.
    """
    from .datasets import DatasetNotFound

    if "://" in name or name.startswith(("/", "~", ".")) or Path(name).expanduser().exists():
        return name  # a URL or a path: the dataset layer says if nothing is there
    listing = list_datasets(config, limit=MAX_PAGE)
    found = [row["path"] for row in listing["items"] if row["name"] == name]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise InvalidArgument(f"{len(found)} datasets are called {name!r} (in {', '.join(found)}); give a path")
    if "/" in name or "\\" in name:
        return name  # a relative path that is no name either
    names = ", ".join(row["name"] for row in listing["items"]) or "none"
    error = DatasetNotFound(name)
    error.args = (f"no dataset {name!r}: not a path or URL, and not a dataset name of this LAKELET_HOME "
                  f"(names: {names}; looked in {', '.join(listing['roots'])})",)
    raise error


def dataset_summary(config: Config, path: str, *, offset: int = 0, limit: int = 20) -> dict[str, Any]:
    """A dataset's schema, rows, branches, tags and one page of its versions (newest first)."""
    from . import datasets
    from .datasets.indexes import labels_by_column

    offset, limit = check_page(offset, limit)
    folder = dataset_path(config, path)
    ds = datasets.open_read_only(str(folder))
    tags: dict[str, list[str]] = {}
    for tag, commit in ds.tags.items():
        tags.setdefault(commit, []).append(tag)
    history = ds.history
    indexes = labels_by_column(ds)  # column -> its search indexes, as a person reads them
    versions = [
        {"id": v.id, "message": v.message, "time": v.timestamp, "rows": v.rows, "tags": sorted(tags.get(v.id, []))}
        for v in history[offset : offset + limit]
    ]
    return {
        "path": str(folder),
        "name": folder.name,
        "rows": len(ds),
        "version": ds.version,
        "branch": ds.current_branch,
        "branches": ds.branches,
        "schema": [{"name": c.name, "type": repr(c.type), "indexes": indexes.get(c.name, [])} for c in ds.schema],
        "total": len(history),
        "offset": offset,
        "limit": limit,
        "versions": versions,
    }


# ------------------------------------------------------------------------------ cache
def explain_gc(lake: Any, max_size: int | str | None, max_age: float | None) -> str:
    """Why ``gc(max_size, max_age)`` of ``lake`` (a Location) evicted nothing, in words for a person.

    Called after a gc that evicted nothing; reads each top cache level's usage again.
    """
    from . import topology as topo
    from .registry import parse_size

    caches = topo.cache_levels(lake)
    tops = sorted(i for i in caches if i.rsplit(".", 1)[0] not in caches)
    if not tops:
        return ("this lake has no cache levels: gc only removes copies from the upper levels of a Levels "
                "stack, and the last level holds every value's only copy")
    if max_size is None and max_age is None:
        return "give a size (e.g. 100 MiB) or an age to evict down to"
    limit = None if max_size is None else parse_size(max_size)
    nodes = {node["id"]: node for node in topo.walk_nodes(topo.topology(lake))}
    parts = []
    over = False
    for node_id in tops:
        node = nodes[node_id]
        name = node_label(node)
        if node.get("usage") is None:
            parts.append(f"{name}: usage unavailable ({node.get('usage_error', 'not listable')})")
            continue
        used = node["usage"]["bytes"]
        parts.append(f"{name} holds {human_bytes(used)}")
        if limit is not None and used > limit:
            over = True
            parts[-1] += (f", over {human_bytes(limit)}, but no lower level holds a good copy of what it has "
                          "(gc never removes a value's only copy)")
    if limit is not None and not over:
        reason = f"every cache level is already within {human_bytes(limit)}"
    elif max_age is not None and not over:
        reason = f"no cache copy went unused for {max_age:g} s, or the old ones are their value's only copy"
    else:
        reason = "the copies over the limit are their values' only copies"
    return f"{reason} ({'; '.join(parts)})"


def node_label(node: Mapping[str, Any]) -> str:
    """A tier's name for a person: its configured level name (``fast``) with its id, else kind and URL."""
    name = (node.get("level") or {}).get("name")
    return f"{name!r} ({node['id']})" if name else f"{node['kind']} {node['url']} ({node['id']})"


def _journal(config: Config) -> Any:
    from .cache.journal import Journal

    return Journal(config.home / "cache" / "journal")


def _group(kind: str, name: str, records: list[Any], hits: Mapping[str, int]) -> dict[str, Any]:
    """Statistics of one cached function or cell from its journal records and hit counts."""
    from .cache.explain import explain

    stores = [r for r in records if r.event == "store"]
    latest: dict[str, Any] = {}
    for r in stores:
        latest[r.address] = r  # the newest store of each entry
    by_prefix = {a[:16]: r for a, r in latest.items()}
    hit_total = sum(hits.values())
    saved = sum(n * by_prefix[p].duration for p, n in hits.items() if p in by_prefix)
    last = stores[-1] if stores else (records[-1] if records else None)
    why = ""
    if stores:
        why = str(explain(name, last.address, False, last.components, stores[:-1]))
    return {
        "kind": kind,
        "name": name,
        "entries": len(latest),
        "hits": hit_total,
        "misses": len(stores),
        "compute_seconds": last.duration if last is not None else None,
        "time_saved": saved,
        "size": sum(r.size for r in latest.values()),
        "computed": last.time if last is not None else None,
        "last_used": max((r.time for r in records), default=None),
        "arguments": argument_summary(last.components if last is not None else {}),
        "why": why,
        "address": last.address if last is not None else None,
        "source_head": _source_head(last.extra if last is not None else {}),
    }


def argument_summary(components: Mapping[str, str]) -> str:
    """Which arguments and inputs an entry's key was made of: ``"args: x, n; inputs: df"``.

    >>> argument_summary({"arg x": "ab", "arg n": "cd", "input df": "ef", "code f": "12"})
    'args: n, x; inputs: df'
    """
    parts: dict[str, list[str]] = {}
    for component in components:
        kind, _, rest = component.partition(" ")
        if kind in ("arg", "input") and rest:
            parts.setdefault(kind, []).append(rest.rsplit(":", 1)[-1])
    words = {"arg": "args", "input": "inputs"}
    return "; ".join(f"{words[k]}: {', '.join(sorted(v))}" for k, v in sorted(parts.items()))


def _source_head(extra: Mapping[str, Any]) -> str:
    source = extra.get("source")
    if not isinstance(source, str):
        return ""
    lines = [line for line in source.splitlines() if line.strip()]
    return "\n".join(lines[:3])


def cache_groups(
    config: Config, *, offset: int = 0, limit: int = 50, filter: str = "", sort: str = "computed"  # noqa: A002
) -> dict[str, Any]:
    """Cache entries grouped by function or cell (from this home's journal), newest first by default.

    ``sort`` is one of ``computed``, ``hits``, ``size``, ``time_saved``, ``name``. Reads only
    the journal (no storage I/O), so it stays fast while a tier hangs.
    """
    offset, limit = check_page(offset, limit)
    if sort not in ("computed", "hits", "size", "time_saved", "name"):
        raise InvalidArgument(f"sort must be computed, hits, size, time_saved or name; got {sort!r:.40}")
    journal = _journal(config)
    needle = filter.strip().lower()
    groups = []
    for kind in ("function", "cell"):
        for name in journal.names(kind):
            if _matches(needle, name, kind):
                groups.append(_group(kind, name, journal.records(kind, name), journal.hits(kind, name)))
    if sort == "name":
        groups.sort(key=lambda g: (g["name"], g["kind"]))
    else:
        groups.sort(key=lambda g: (g[sort] or 0, g["name"]), reverse=True)
    totals = {
        "hits": sum(g["hits"] for g in groups),
        "misses": sum(g["misses"] for g in groups),
        "time_saved": sum(g["time_saved"] for g in groups),
        "size": sum(g["size"] for g in groups),
    }
    return _page(groups, offset, limit, totals=totals, journal=str(journal.root))


def cache_group(config: Config, kind: str, name: str, storage: Any = None) -> dict[str, Any]:
    """One function's or cell's history (each computation, newest first) and a preview of its latest value.

    ``storage`` (a HashKeyStorage of the lake) is read for the preview only, without
    copy-on-read; without it, or if the entry is gone, the preview says why.
    """
    if kind not in ("function", "cell"):
        raise InvalidArgument(f"kind must be 'function' or 'cell', got {kind!r:.40}")
    journal = _journal(config)
    records = journal.records(kind, name)
    if not records:
        raise StorageKeyNotFound(f"this LAKELET_HOME has no cache records of {kind} {name!r}")
    from .cache.explain import explain

    summary = _group(kind, name, records, journal.hits(kind, name))
    stores = [r for r in records if r.event == "store"]
    history = []
    for i, r in enumerate(stores):
        history.append(
            {
                "address": r.address,
                "computed": r.time,
                "compute_seconds": r.duration,
                "size": r.size,
                "arguments": argument_summary(r.components),
                "why": str(explain(name, r.address, False, r.components, stores[:i])),
            }
        )
    history.reverse()
    summary["history"] = history[:50]
    summary["preview"] = _entry_preview(config, storage, summary["address"]) if summary["address"] else ""
    return summary


def _entry_preview(config: Config, storage: Any, address: str) -> str:
    """What the latest entry holds, without unpickling anything (a viewer never runs stored code)."""
    if storage is None:
        return "(no lake to read the value from)"
    from .cache.index import EntryStore

    try:
        entry = EntryStore(storage, config.cache_key, copy_on_read=False).get(address)
    except LakeletError as e:
        return f"(the entry cannot be read: {e})"
    if entry is None:
        return "(no longer stored: evicted or cleared; the next run computes it again)"
    lines = []
    for output in entry.outputs[:5]:
        text = _output_text(output)
        if text:
            lines.append(text)
    for variable, descriptor in entry.values.items():
        lines.append(f"{variable}: {_describe_value(descriptor, storage)}")
    if entry.kind == "cell" and entry.extra.get("names") and not entry.values:
        lines.append("variables: " + ", ".join(map(str, entry.extra["names"])))
    text = "\n".join(lines) or "(no value)"
    return text if len(text) <= 2000 else text[:1999] + "…"


def _output_text(output: Mapping[str, Any]) -> str:
    """The text of a replayed cell output (``{"stream", "text"}`` or ``{"display": mimebundle}``)."""
    if "stream" in output or output.get("output_type") == "stream":
        text = output.get("text", "")
    else:
        text = (output.get("display") or output.get("data") or {}).get("text/plain", "")
    if isinstance(text, list):
        text = "".join(text)
    return str(text).strip()[:500]


def _describe_value(descriptor: Mapping[str, Any], storage: Any) -> str:
    codec = descriptor.get("codec", "?")
    size = human_bytes(int(descriptor.get("size", 0)))
    if codec == "arrow":
        head = _arrow_head(descriptor, storage)
        return f"table ({descriptor.get('kind', 'arrow')}, {size})" + (f"\n{head}" if head else "")
    if codec == "npy":
        return f"numpy array ({size})"
    plain = _plain_pickle(descriptor)
    if plain is not _NOT_PLAIN:
        return f"{preview(plain, 600)}  ({size})"
    return f"pickled object ({size})"


_NOT_PLAIN = object()
#: the only globals a preview unpickles: plain containers and scalars, never code
_PLAIN_GLOBALS = {
    ("builtins", name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray", "int", "float",
                 "complex", "bool", "NoneType", "slice", "range")
}


def _plain_pickle(descriptor: Mapping[str, Any]) -> Any:
    """The value of a small inline pickle made only of plain builtins, else ``_NOT_PLAIN``.

    A restricted unpickler: any other global (a class, a function: anything that could run
    code) makes it give up, so previewing never executes stored code.
    """
    import base64
    import io
    import pickle

    inline = descriptor.get("inline")
    if not isinstance(inline, str) or descriptor.get("blobs"):
        return _NOT_PLAIN

    class Plain(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in _PLAIN_GLOBALS:
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"{module}.{name} is not plain data")

    try:
        return Plain(io.BytesIO(base64.b64decode(inline))).load()
    except Exception:  # noqa: BLE001 - anything not plain (or damaged) is described by type and size instead
        return _NOT_PLAIN


def _arrow_head(descriptor: Mapping[str, Any], storage: Any) -> str:
    """The schema and first rows of an Arrow IPC value (Arrow files hold data, never code)."""
    blobs = descriptor.get("blobs") or []
    if not blobs:
        return ""
    try:
        import pyarrow as pa

        from .locations._search import peek_bytes

        data = peek_bytes(storage.location, blobs[0])
        table = pa.ipc.open_file(pa.py_buffer(data)).read_all()
    except (ImportError, LakeletError, OSError, ValueError) as e:
        return f"(preview unavailable: {e})"
    return table.slice(0, 5).to_pandas().to_string(max_cols=8, max_colwidth=20)[:1200]


__all__ = [
    "MAX_PAGE",
    "argument_summary",
    "cache_group",
    "cache_groups",
    "dataset_path",
    "dataset_roots",
    "dataset_summary",
    "dict_items",
    "environment",
    "explain_gc",
    "list_datasets",
    "node_label",
    "list_objects",
    "preview",
    "queue_head",
    "resolve_dataset",
    "volume_listing",
]


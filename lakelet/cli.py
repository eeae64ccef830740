"""The ``lakelet`` command line: volumes, dicts and queues (Modal's verbs and flags), the lake's
cache tiers and datasets.

    lakelet volume  create|list|ls|put|get|rm|cp|delete|gc
    lakelet dict    create|list (ls)|get|items|clear|delete
    lakelet queue   create|list (ls)|len|peek|clear|delete
    lakelet lake    info|ls|gc|evict|clear
    lakelet dataset list|info|log|query|gc|copy|delete   (a dataset by name, URL or path)
    lakelet lab     JupyterLab on the demo notebooks with the lakelet sidebar

Volume, dict and queue commands take ``-e/--env`` (environment); listings take ``--json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._format import human_bytes
from .errors import LakeletError


def _print_table(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*rows[0].keys())
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    Console().print(table)


def _objects(cls: Any, noun: str, args: argparse.Namespace) -> None:
    rows = []
    for obj in cls.objects.list(environment_name=args.env):
        info = obj.info()
        rows.append(
            {
                "name": info.name,
                "created_at": info.created_at.isoformat(timespec="seconds"),
                "created_by": info.created_by,
            }
        )
    if not rows and not args.json:
        return print(f"no {noun}s in environment {args.env or 'main'} (create one: lakelet {noun} create NAME)")
    return _print_table(rows, args.json)


def _manage(cls: Any, noun: str, args: argparse.Namespace) -> bool:
    """The list/create/delete commands every named kind shares; True if ``args`` was one of them."""
    if args.command in ("list", "ls") and not hasattr(args, "name"):
        _objects(cls, noun, args)
    elif args.command == "create":
        cls.objects.create(args.name, environment_name=args.env)
        print(f"created {noun} {args.name!r}")
    elif args.command == "delete":
        if _confirm(args, f"{noun} {args.name!r}"):
            cls.objects.delete(args.name, environment_name=args.env)
    else:
        return False
    return True


def _confirm(args: argparse.Namespace, what: str) -> bool:
    if args.yes:
        return True
    answer = input(f"Delete {what}? This cannot be undone. [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


# ----------------------------------------------------------------------------- volume
def _volume(args: argparse.Namespace) -> None:
    from .primitives import FileEntryType, Volume

    cmd = args.command
    if _manage(Volume, "volume", args):
        return None
    if cmd == "gc":
        return _volume_gc(args)
    vol = Volume.from_name(args.name, environment_name=args.env)
    if cmd == "ls":
        entries = vol.listdir(args.path, recursive=args.recursive)
        rows = [
            {
                "path": e.path + ("/" if e.type == FileEntryType.DIRECTORY else ""),
                "type": e.type.name.lower(),
                "size": e.size if args.json else ("" if e.type == FileEntryType.DIRECTORY else _size(e.size)),
                "mtime": e.mtime if args.json else _when(e.mtime),
            }
            for e in entries
        ]
        if not rows and not args.json:
            return print(f"{args.path} is empty")
        return _print_table(rows, args.json) if args.json or args.long else print("\n".join(r["path"] for r in rows))
    if cmd == "put":
        local = Path(args.local_path)
        remote = args.remote_path
        if local.is_dir():
            if not args.force and vol.exists(remote) and remote not in ("", "/"):
                raise LakeletError(f"{remote!r} exists in the volume; pass -f to overwrite")
            return vol.put_directory(local, remote, progress=True)
        if remote.endswith("/"):
            remote += local.name
        if not args.force and vol.exists(remote):
            raise LakeletError(f"{remote!r} exists in the volume; pass -f to overwrite")
        return vol.put_file(local, remote, progress=True)
    if cmd == "get":
        if args.local_path == "-":
            for chunk in vol.read_file(args.remote_path):
                sys.stdout.buffer.write(chunk)
            return None
        target = Path(args.local_path)
        if target.exists() and not target.is_dir() and not args.force:
            raise LakeletError(f"{target} exists; pass --force to overwrite")
        return vol.get_file(args.remote_path, target)
    if cmd == "rm":
        return vol.remove_file(args.remote_path, recursive=args.recursive)
    if cmd == "cp":
        return vol.copy_files(args.paths[:-1], args.paths[-1])
    raise AssertionError(cmd)


def _volume_gc(args: argparse.Namespace) -> None:
    from .primitives import Volume

    report = Volume.objects.gc(args.env, grace_period=args.grace, dry_run=args.dry_run)
    if args.json:
        return print(json.dumps(report.to_dict(), indent=2))
    verb = "would delete" if report.dry_run else "deleted"
    mib = report.bytes_freed / 2**20
    kept = f"kept {report.kept} ({report.live} in use)"
    print(f"{verb} {report.removed} blob(s), {mib:.1f} MiB; {kept}")
    return None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 seconds, got {text!r}")
    return value


# ----------------------------------------------------------------------------- dict
def _dict(args: argparse.Namespace) -> None:
    from .lake import preview
    from .primitives import Dict

    cmd = args.command
    if _manage(Dict, "dict", args):
        return None
    d = Dict.from_name(args.name, environment_name=args.env)
    if cmd == "get":
        value = d.get(args.key, _MISSING)
        if value is _MISSING:
            raise LakeletError(f"key {args.key!r} not in dict {args.name!r}")
        return print(json.dumps(value, default=repr) if args.json else preview(value, 10_000))
    if cmd == "items":
        rows = []
        for k, v in d.iterate_items():
            rows.append({"key": k if args.json else preview(k), "value": v if args.json else preview(v)})
            if not args.all and len(rows) >= args.n:
                break
        if args.json:
            return print(json.dumps(rows, indent=2, default=repr))
        return _print_table(rows, False)
    if cmd == "clear":
        if _confirm(args, f"every entry of dict {args.name!r}"):
            d.clear()
        return None
    raise AssertionError(cmd)


_MISSING = object()


# ----------------------------------------------------------------------------- queue
def _queue(args: argparse.Namespace) -> None:
    from .primitives import Queue

    cmd = args.command
    if _manage(Queue, "queue", args):
        return None
    q = Queue.from_name(args.name, environment_name=args.env)
    if cmd == "len":
        return print(q.len(partition=args.partition, total=args.total))
    if cmd == "peek":
        items = q.peek(args.n, partition=args.partition)
        return print(json.dumps(items, default=repr, indent=2) if args.json else "\n".join(map(repr, items)))
    if cmd == "clear":
        if _confirm(args, f"items of queue {args.name!r}"):
            q.clear(partition=args.partition, all=args.all)
        return None
    raise AssertionError(cmd)


# ----------------------------------------------------------------------------- lake
def _lake_storage() -> Any:
    from .hashstore import open_lake

    return open_lake()




def _size(n: float | None) -> str:
    return human_bytes(n, missing="-")


def _when(stamp: float | None) -> str:
    from datetime import datetime

    return "-" if stamp is None else datetime.fromtimestamp(stamp).isoformat(sep=" ", timespec="seconds")


def _lake(args: argparse.Namespace) -> None:
    from . import topology as topo

    cmd = args.command
    with _lake_storage() as storage:
        lake = storage.location
        if cmd == "info":
            tree = topo.topology(lake)
            caches = topo.cache_levels(lake)
            for node in topo.walk_nodes(tree):
                node["cache_level"] = node["id"] in caches  # type: ignore[index]  # our own fresh dicts
            return print(json.dumps(tree, indent=2)) if args.json else _print_tree(tree)
        if cmd == "ls":
            return _lake_ls(storage, args)
        if cmd == "gc":
            from .lake import explain_gc

            report = storage.gc(max_size=args.max_size, max_age=args.max_age)
            why = explain_gc(lake, args.max_size, args.max_age) if report.evicted == 0 else ""
            if args.json:
                return print(json.dumps({"evicted": report.evicted, "bytes": report.bytes, "why": why}))
            done = f"evicted {report.evicted} cache entr{'y' if report.evicted == 1 else 'ies'}, {_size(report.bytes)}"
            return print(f"{done}: {why}" if why else done)
        if cmd == "fsck":
            return _lake_fsck(storage, args)
        if cmd == "evict":
            if args.force and not _confirm(args, f"{len(args.keys)} value(s) from tier {args.tier}, even only copies"):
                return None
            keys = _expand_keys(topo.resolve(lake, args.tier), args.keys)
            result = topo.evict(lake, args.tier, keys, force=args.force)
            return print(json.dumps(result) if args.json else f"removed {result['removed']}, {_size(result['bytes'])}")
        if cmd == "clear":
            what = f"every entry of tier {args.tier}" + ("" if args.force else " that another tier also holds")
            if not _confirm(args, what):
                return None
            result = topo.clear(lake, args.tier, force=args.force)
            if args.json:
                return print(json.dumps(result))
            return print(f"removed {result['removed']}, {_size(result['bytes'])}; "
                         f"kept {result['kept']} (the only copy)")
    raise AssertionError(cmd)


def _lake_fsck(storage: Any, args: argparse.Namespace) -> None:
    """Re-hash every copy in every tier; ``--repair`` fixes damaged copies from good ones.

    Cache index entries of earlier releases (kept among the values, so they never verified)
    are not damage: they are counted, and ``--repair`` moves them into the named records.
    Exits with status 1 while a damaged copy remains.
    """
    from .cache.index import move_legacy_entries

    report = storage.fsck()
    legacy = move_legacy_entries(storage, [key for _, key in report.damaged], dry_run=not args.repair)
    if args.repair:
        report = storage.fsck(repair=True)
    elif legacy:
        report.damaged = [(url, key) for url, key in report.damaged if key not in legacy]
        report.unrecoverable = [key for key in report.unrecoverable if key not in legacy]
    remaining = len(report.damaged) - len(report.repaired)
    if args.json:
        print(json.dumps({
            "checked": report.checked,
            "keys": report.keys,
            "damaged": [{"location": url, "key": key} for url, key in report.damaged],
            "repaired": [{"location": url, "key": key} for url, key in report.repaired],
            "unrecoverable": report.unrecoverable,
            "legacy_cache_entries": len(legacy),
            "errors": report.errors,
        }))
    else:
        print(f"checked {report.checked} copies of {report.keys} values: {len(report.damaged)} damaged, "
              f"repaired {len(report.repaired)}, {len(report.unrecoverable)} with no good copy left")
        for url, key in report.damaged:
            fixed = "repaired" if (url, key) in report.repaired else "DAMAGED"
            print(f"  {fixed:9} {key[:KEY_PREFIX]}  {url}")
        if legacy:
            verb = "moved" if args.repair else "found (--repair moves them)"
            print(f"{len(legacy)} cache entries of an earlier release {verb} into the named records")
        for error in report.errors:
            print(f"  could not check: {error}")
    if remaining or report.errors:
        raise SystemExit(1)


#: hex digits of a key shown by ``lake ls`` (``lake evict`` accepts any unique prefix of 8 or more)
KEY_PREFIX = 16


def _expand_keys(tier: Any, keys: list[str]) -> list[str]:
    """Full storage keys for ``keys``, each a whole key or a unique prefix of one of ``tier``'s keys."""
    from .errors import InvalidArgument

    prefixes = [k for k in keys if len(k) < 64 and len(k) >= 8 and all(c in "0123456789abcdef" for c in k)]
    if not prefixes or not tier.listable:
        return keys  # whole keys (or something topology.evict rejects with a clear message)
    stored = list(tier.keys())
    out = []
    for key in keys:
        if key not in prefixes:
            out.append(key)
            continue
        found = [k for k in stored if k.startswith(key)]
        if len(found) != 1:
            raise InvalidArgument(f"key prefix {key!r} matches {len(found)} keys of this tier; give more digits")
        out.append(found[0])
    return out


def _print_tree(tree: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    def label(node: dict[str, Any]) -> str:
        flags = [name for name, on in (("cache", node.get("cache_level")), ("read-only", not node["writable"]),
                                       ("process-local", node["process_local"])) if on]
        usage = node.get("usage")
        if usage is None:
            used = f"[red]usage unavailable: {escape(node.get('usage_error', 'not listable'))}[/]"
        else:
            cap = f" of {_size(usage['capacity'])}" if usage["capacity"] is not None else ""
            used = f"{usage['entries']} entries, {_size(usage['bytes'])}{cap}"
        extra = f" [dim]\\[{', '.join(flags)}][/]" if flags else ""
        name = (node.get("level") or {}).get("name")
        named = f" [green]{escape(repr(name))}[/]" if name else ""
        return f"[bold]{node['id']}[/]{named} {node['kind']} [cyan]{escape(node['url'])}[/]  {used}{extra}"

    def add(parent: Tree, node: dict[str, Any]) -> None:
        for child in node["children"]:
            add(parent.add(label(child)), child)

    root = Tree(label(tree))
    add(root, tree)
    Console().print(root)


def _lake_ls(storage: Any, args: argparse.Namespace) -> None:
    from . import topology as topo
    from .cache.producers import Producers, describe
    from .config import get_config

    tier = topo.resolve(storage.location, args.tier)
    config = get_config()
    producers = Producers(storage, config.home, config.cache_key)
    query = topo.EntryQuery(limit=args.limit, sort=args.sort, descending=not args.asc, filter=args.filter.strip(),
                            group=not args.flat)
    page = topo.list_entries(tier, query, producers)
    if args.json:
        return print(json.dumps(page, indent=2))
    if not args.flat:
        return _print_grouped(page, args.tier, topo.redact_url(tier.url))
    rows = [
        {"key": e["key"][:KEY_PREFIX], "size": _size(e["size"]), "last access": _when(e["last_access"]),
         "producer": describe(e["producer"])}
        for e in page["entries"]
    ]
    _print_table(rows, False)
    print(f"{len(rows)} of {page['total']} entries in tier {args.tier} ({topo.redact_url(tier.url)})")
    return None


def _print_grouped(page: dict[str, Any], tier_id: str, url: str) -> None:
    """A tier's values under the cache entry (function call or cell) each belongs to."""
    current = None
    for row in page["entries"]:
        gid = row["group"]
        if gid != current:
            current, group = gid, page["groups"][gid]
            count = f"{group['count']} value{'s' if group['count'] != 1 else ''}"
            if group["entry"] is None:
                print(f"(no cache entry known here) · {_size(group['size'])}")
            else:
                print(f"{group['kind']} {group['name']} · entry {group['entry'][:12]} · computed "
                      f"{_when(group['created'])} · {_size(group['size'])} in {count}")
        role = (row["producer"] or {}).get("variable") or (row["producer"] or {}).get("role") or "value"
        print(f"    {role:<12} {row['key'][:KEY_PREFIX]}  {_size(row['size']):>10}  "
              f"last access {_when(row['last_access'])}")
    shown = len({row["group"] for row in page["entries"]})
    print(f"{len(page['entries'])} of {page['total']} values ({shown} cache entr{'y' if shown == 1 else 'ies'} shown) "
          f"in tier {tier_id} ({url})")


# ----------------------------------------------------------------------------- dataset
def _dataset(args: argparse.Namespace) -> None:
    from . import datasets
    from .config import get_config
    from .lake import list_datasets, resolve_dataset

    cmd = args.command
    if cmd in ("list", "ls"):
        listing = list_datasets(get_config(), limit=1000)
        if args.json:
            return print(json.dumps(listing["items"], indent=2))
        if not listing["items"]:
            return print(f"no datasets in {', '.join(listing['roots'])} "
                         "(add folders with [datasets] paths = [...] in config.toml)")
        return _print_table(listing["items"], False)
    for attr in ("url", "src"):
        if hasattr(args, attr):
            setattr(args, attr, resolve_dataset(get_config(), getattr(args, attr)))
    if cmd == "copy":
        datasets.copy(args.src, args.dst, progress=sys.stderr.isatty())
        return print(f"copied {args.src} -> {args.dst}")
    if cmd == "delete":
        if not datasets.exists(args.url):
            raise datasets.DatasetNotFound(str(args.url))
        if _confirm(args, f"the dataset at {args.url} with its whole history"):
            datasets.delete(args.url)
        return None
    if cmd == "gc":
        ds = datasets.open_read_only(args.url) if args.dry_run else datasets.open(args.url)
        report = ds.gc(grace_period=args.grace, dry_run=args.dry_run)
        if args.json:
            return print(json.dumps(report.to_dict(), indent=2))
        verb = "would delete" if report.dry_run else "deleted"
        return print(f"{verb} {report.removed} file(s), {_size(report.bytes_freed)}; kept {report.kept} live, "
                     f"{len(report.young)} younger than the grace period; {report.versions} version(s) reachable")
    ds = datasets.open_read_only(args.url, version=args.version, branch=args.branch)
    if cmd == "info":
        if not args.json:
            ds.summary()
            print(f"  branches: {', '.join(ds.branches)}")
            return print(f"  tags: {', '.join(f'{k}={v[:12]}' for k, v in sorted(ds.tags.items())) or '-'}")
        info = {
            "path": ds.path, "branch": ds.current_branch, "version": ds.version, "rows": len(ds),
            "columns": [{"name": c.name, "type": repr(c.type)} for c in ds.schema],
            "branches": ds.branches, "tags": ds.tags,
        }
        return print(json.dumps(info, indent=2))
    if cmd == "log":
        if not args.json:
            ds.log()
            return None
        return print(json.dumps([dataclasses.asdict(v) for v in ds.history], indent=2))
    if cmd == "query":
        return _dataset_query(ds, args)
    raise AssertionError(cmd)


def _dataset_query(ds: Any, args: argparse.Namespace) -> None:
    from .errors import InvalidArgument

    try:
        view = ds.query(args.sql)
    except InvalidArgument as e:  # DuckDB's message spans lines (the SQL, a caret): keep what it says
        lines = [line.strip() for line in str(e).split("\nLINE ")[0].splitlines() if line.strip()]
        raise InvalidArgument("; ".join(lines)) from e
    table = view.to_arrow()
    rows = table.slice(0, args.limit).to_pylist()
    if table.num_rows > args.limit:
        print(f"(showing {args.limit} of {table.num_rows} rows; raise --limit for more)", file=sys.stderr)
    if args.json:
        return print(json.dumps(rows, indent=2, default=_json_value))
    _print_table([{k: _cell(v) for k, v in row.items()} for row in rows], False)
    if not rows:
        print(f"no rows (columns: {', '.join(table.column_names)})")
    return None


def _json_value(value: Any) -> Any:
    import base64
    from datetime import date, time, timedelta

    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    return str(value)


def _cell(value: Any, width: int = 60) -> str:
    text = f"<{len(value)} bytes>" if isinstance(value, bytes | bytearray) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value



# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lakelet", description="Manage lakelet volumes, dicts, queues, datasets and the lake's cache tiers."
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-e", "--env", default=None, help="environment (default: main)")
    jsonable = argparse.ArgumentParser(add_help=False)
    jsonable.add_argument("--json", action="store_true", help="print JSON")
    confirm = argparse.ArgumentParser(add_help=False)
    confirm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    def sub(group: Any, name: str, help: str, *parents: argparse.ArgumentParser) -> argparse.ArgumentParser:  # noqa: A002
        return group.add_parser(name, help=help, parents=[common, *parents])

    vol = kinds.add_parser("volume", help="persistent file trees").add_subparsers(dest="command", required=True)
    sub(vol, "create", "create a volume").add_argument("name")
    sub(vol, "list", "list volumes", jsonable)
    p = sub(vol, "ls", "list files in a volume", jsonable)
    p.add_argument("name")
    p.add_argument("path", nargs="?", default="/")
    p.add_argument("-r", "--recursive", action="store_true")
    p.add_argument("-l", "--long", action="store_true", help="a table with types, sizes and times")
    p = sub(vol, "put", "upload a file or directory")
    p.add_argument("name")
    p.add_argument("local_path")
    p.add_argument("remote_path", nargs="?", default="/")
    p.add_argument("-f", "--force", action="store_true", help="overwrite existing files")
    p = sub(vol, "get", "download a file ('-' for stdout)")
    p.add_argument("name")
    p.add_argument("remote_path")
    p.add_argument("local_path", nargs="?", default=".")
    p.add_argument("--force", action="store_true", help="overwrite a local file")
    p = sub(vol, "rm", "delete a file or directory")
    p.add_argument("name")
    p.add_argument("remote_path")
    p.add_argument("-r", "--recursive", action="store_true")
    p = sub(vol, "cp", "copy files within a volume")
    p.add_argument("name")
    p.add_argument("paths", nargs="+", metavar="PATH", help="sources, then the destination")
    p = sub(vol, "delete", "delete a volume", confirm)
    p.add_argument("name")
    p = sub(vol, "gc", "free the bytes no volume references any more", jsonable)
    p.add_argument("--dry-run", action="store_true", help="report what would be deleted, delete nothing")
    p.add_argument(
        "--grace",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="keep blobs stored more recently than this (default 3600; 0 only while no one uploads)",
    )

    d = kinds.add_parser("dict", help="key-value stores").add_subparsers(dest="command", required=True)
    sub(d, "create", "create a dict").add_argument("name")
    d.add_parser("list", aliases=["ls"], help="list dicts", parents=[common, jsonable])
    p = sub(d, "get", "print the value of a (string) key", jsonable)
    p.add_argument("name")
    p.add_argument("key")
    p = sub(d, "items", "print entries", jsonable)
    p.add_argument("name")
    p.add_argument("n", nargs="?", type=int, default=20)
    p.add_argument("-a", "--all", action="store_true")
    p = sub(d, "clear", "remove every entry", confirm)
    p.add_argument("name")
    p = sub(d, "delete", "delete a dict", confirm)
    p.add_argument("name")

    q = kinds.add_parser("queue", help="FIFO queues").add_subparsers(dest="command", required=True)
    sub(q, "create", "create a queue").add_argument("name")
    q.add_parser("list", aliases=["ls"], help="list queues", parents=[common, jsonable])
    p = sub(q, "len", "count waiting items")
    p.add_argument("name")
    p.add_argument("-p", "--partition", default=None)
    p.add_argument("-t", "--total", action="store_true", help="all partitions")
    p = sub(q, "peek", "print the oldest items", jsonable)
    p.add_argument("name")
    p.add_argument("n", nargs="?", type=int, default=1)
    p.add_argument("-p", "--partition", default=None)
    p = sub(q, "clear", "remove items", confirm)
    p.add_argument("name")
    p.add_argument("-p", "--partition", default=None)
    p.add_argument("-a", "--all", action="store_true", help="all partitions")
    p = sub(q, "delete", "delete a queue", confirm)
    p.add_argument("name")
    _lake_parser(kinds, jsonable, confirm)
    _dataset_parser(kinds, jsonable, confirm)
    _lab_parser(kinds)
    return parser


def _lab_parser(kinds: Any) -> None:
    from .jupyter.lab import DEFAULT_DIR

    p = kinds.add_parser("lab", help="open JupyterLab on the demo notebooks, with the lakelet sidebar",
                         description="Copy the demo notebooks into DIR (existing copies are kept) and run "
                                     "JupyterLab there on the embedded default lake. Other arguments go to "
                                     "jupyter lab.")
    p.add_argument("--dir", default=DEFAULT_DIR, metavar="DIR",
                   help=f"folder for the demo notebooks (default ./{DEFAULT_DIR})")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--port", type=_positive_int, default=None, help="port of the Jupyter server")


def _lab(args: argparse.Namespace) -> None:
    from .jupyter.lab import run_lab

    raise SystemExit(run_lab(Path(args.dir), open_browser=not args.no_browser, port=args.port,
                             extra=args.jupyter_args))


def _lake_parser(kinds: Any, jsonable: argparse.ArgumentParser, confirm: argparse.ArgumentParser) -> None:
    lake = kinds.add_parser("lake", help="the configured lake's cache tiers").add_subparsers(
        dest="command", required=True
    )
    lake.add_parser("info", help="the tier tree with kinds, URLs and usage", parents=[jsonable])
    p = lake.add_parser("ls", help="one tier's values, under the cache entry (function call or cell) that made them",
                        parents=[jsonable])
    p.add_argument("tier", metavar="TIER_ID", help="a tier id from 'lakelet lake info' ('0' is the whole lake)")
    p.add_argument("--sort", choices=["last_access", "size", "key"], default="last_access")
    p.add_argument("--asc", action="store_true", help="ascending order (default: largest / most recent first)")
    p.add_argument("--limit", type=_positive_int, default=50, metavar="N", help="at most N entries (default 50)")
    p.add_argument("--filter", default="", metavar="TEXT", help="only keys or producer names containing TEXT")
    p.add_argument("--flat", action="store_true",
                   help="one row per stored value, not grouped under the cache entry that made it")
    p = lake.add_parser("gc", help="evict least recently used cache copies (never a value's only copy)",
                        parents=[jsonable])
    p.add_argument("--max-size", default=None, metavar="SIZE", help="keep each cache level under SIZE, e.g. '1 GiB'")
    p.add_argument("--max-age", type=_seconds, default=None, metavar="SECONDS",
                   help="evict cache copies not accessed for SECONDS")
    p = lake.add_parser("fsck", help="re-hash every stored copy; report (and --repair) damaged ones",
                        parents=[jsonable])
    p.add_argument("--repair", action="store_true",
                   help="replace each damaged copy by a good copy from another tier (a copy with none is kept)")
    p = lake.add_parser("evict", help="remove keys from a tier when another tier still holds them",
                        parents=[jsonable, confirm])
    p.add_argument("tier", metavar="TIER_ID")
    p.add_argument("keys", nargs="+", metavar="KEY", help="a storage key, or a unique prefix of 8+ hex digits")
    p.add_argument("--force", action="store_true", help="also remove values this tier holds the only copy of")
    p = lake.add_parser("clear", help="empty a tier of every entry another tier also holds",
                        parents=[jsonable, confirm])
    p.add_argument("tier", metavar="TIER_ID")
    p.add_argument("--force", action="store_true", help="also remove values this tier holds the only copy of")


def _dataset_parser(kinds: Any, jsonable: argparse.ArgumentParser, confirm: argparse.ArgumentParser) -> None:
    ds = kinds.add_parser("dataset", help="typed, versioned tables").add_subparsers(dest="command", required=True)
    at = argparse.ArgumentParser(add_help=False)
    at.add_argument("url", help="dataset name (see 'lakelet dataset list'), URL or local path")
    refs = at.add_mutually_exclusive_group()
    refs.add_argument("--branch", default=None, help="a branch (default: main)")
    refs.add_argument("--version", default=None, help="a version id or tag")
    ds.add_parser("list", aliases=["ls"], help="the datasets of this LAKELET_HOME by name", parents=[jsonable])
    ds.add_parser("info", help="rows, columns, branches and tags", parents=[at, jsonable])
    ds.add_parser("log", help="the commits, newest first", parents=[at, jsonable])
    p = ds.add_parser("query", help="run DuckDB SQL; the dataset is the table 'ds' (FROM may be left out)",
                      parents=[at, jsonable])
    p.add_argument("sql", metavar="SQL")
    p.add_argument("--limit", type=_positive_int, default=100, metavar="N", help="print at most N rows (default 100)")
    p = ds.add_parser("gc", help="delete files no branch or tag reaches", parents=[jsonable])
    p.add_argument("url", help="dataset name, URL or local path")
    p.add_argument("--dry-run", action="store_true", help="report what would be deleted, delete nothing")
    p.add_argument("--grace", type=_seconds, default=3600.0, metavar="SECONDS",
                   help="keep unreachable files younger than this (default 3600; a commit in progress is unreachable)")
    p = ds.add_parser("copy", help="copy a dataset with its whole history")
    p.add_argument("src", help="dataset name, URL or local path")
    p.add_argument("dst")
    p = ds.add_parser("delete", help="delete a dataset and its history", parents=[confirm])
    p.add_argument("url", help="dataset name, URL or local path")


_HANDLERS: dict[str, Callable[[argparse.Namespace], None]] = {
    "volume": _volume,
    "dict": _dict,
    "queue": _queue,
    "lake": _lake,
    "dataset": _dataset,
    "lab": _lab,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (errors are printed, not raised)."""
    args, extra = build_parser().parse_known_args(argv)
    if extra and args.kind != "lab":
        build_parser().error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra  # `lakelet lab` passes the rest to jupyter lab
    try:
        _HANDLERS[args.kind](args)
    except LakeletError as e:
        print(f"lakelet: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

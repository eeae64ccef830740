"""The ``lakelet`` command line: manage volumes, dicts and queues (Modal's verbs and flags).

    lakelet volume create|list|ls|put|get|rm|cp|delete|gc
    lakelet dict   create|list|get|items|clear|delete
    lakelet queue  create|list|len|peek|clear|delete

Every command takes ``-e/--env`` (environment); listings take ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

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


def _objects(cls: Any, args: argparse.Namespace) -> None:
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
    _print_table(rows, args.json)


def _confirm(args: argparse.Namespace, what: str) -> bool:
    if args.yes:
        return True
    answer = input(f"Delete {what}? This cannot be undone. [y/N] ")
    return answer.strip().lower() in {"y", "yes"}


# ----------------------------------------------------------------------------- volume
def _volume(args: argparse.Namespace) -> None:
    from .primitives import FileEntryType, Volume

    cmd = args.command
    if cmd == "list":
        return _objects(Volume, args)
    if cmd == "create":
        Volume.objects.create(args.name, environment_name=args.env)
        return print(f"created volume {args.name!r}")
    if cmd == "delete":
        if _confirm(args, f"volume {args.name!r}"):
            Volume.objects.delete(args.name, environment_name=args.env)
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
                "size": e.size,
                "mtime": e.mtime,
            }
            for e in entries
        ]
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
    kept = f"kept {report.blobs_kept} ({report.blobs_live} in use)"
    print(f"{verb} {report.blobs_deleted} blob(s), {mib:.1f} MiB; {kept}")
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
    from .primitives import Dict

    cmd = args.command
    if cmd == "list":
        return _objects(Dict, args)
    if cmd == "create":
        Dict.objects.create(args.name, environment_name=args.env)
        return print(f"created dict {args.name!r}")
    if cmd == "delete":
        if _confirm(args, f"dict {args.name!r}"):
            Dict.objects.delete(args.name, environment_name=args.env)
        return None
    d = Dict.from_name(args.name, environment_name=args.env)
    if cmd == "get":
        value = d.get(args.key, _MISSING)
        if value is _MISSING:
            raise LakeletError(f"key {args.key!r} not in dict {args.name!r}")
        return print(json.dumps(value, default=repr) if args.json else repr(value))
    if cmd == "items":
        rows = []
        for k, v in d.iterate_items():
            rows.append({"key": k if args.json else repr(k), "value": v if args.json else repr(v)})
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
    if cmd == "list":
        return _objects(Queue, args)
    if cmd == "create":
        Queue.objects.create(args.name, environment_name=args.env)
        return print(f"created queue {args.name!r}")
    if cmd == "delete":
        if _confirm(args, f"queue {args.name!r}"):
            Queue.objects.delete(args.name, environment_name=args.env)
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


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakelet", description="Manage lakelet volumes, dicts and queues.")
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
    sub(d, "list", "list dicts", jsonable)
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
    sub(q, "list", "list queues", jsonable)
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
    return parser


_HANDLERS: dict[str, Callable[[argparse.Namespace], None]] = {"volume": _volume, "dict": _dict, "queue": _queue}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (errors are printed, not raised)."""
    args = build_parser().parse_args(argv)
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

"""Branches and tags, moved by compare-and-swap on any backend.

A branch is a folder of numbered head records, ``refs/branches/<name>/<seq>.json``,
each naming a commit. The highest number is the head. Moving a head from
sequence ``n`` means *creating* record ``n + 1``, create-only: two writers that
both read head ``n`` race to create the same name and exactly one succeeds (an
``os.link`` locally, ``If-None-Match: *`` on S3, ``ifGenerationMatch=0`` on GCS,
``overwrite=False`` on Azure). The loser gets :class:`CommitConflict`. Records
are never rewritten, so a crashed writer cannot leave a torn head.

Tags are single create-only records, ``refs/tags/<name>.json``.
"""

from __future__ import annotations

import json
import re
import time

from ..errors import InvalidName
from .errors import CommitConflict, DatasetError, VersionNotFound
from .storage_io import Reader, Writer

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_SEQ_RE = re.compile(r"(\d{12})\.json")


def is_ref_name(name: str) -> bool:
    """Whether ``name`` could name a branch or a tag."""
    return _NAME_RE.fullmatch(name) is not None


def validate_ref_name(name: object, what: str = "branch") -> str:
    if not isinstance(name, str) or _NAME_RE.fullmatch(name) is None or name.endswith(".json"):
        raise InvalidName(f"bad {what} name {name!r}: letters, digits, '.', '_' and '-' (max 128)")
    return name


def _record(commit: str) -> bytes:
    return json.dumps({"commit": commit, "time": time.time()}).encode()


def head(reader: Reader, branch: str) -> tuple[int, str]:
    """``(sequence, commit id)`` of the branch head; :class:`VersionNotFound` if there is no branch."""
    validate_ref_name(branch)
    seqs = [int(m.group(1)) for n in reader.list(f"refs/branches/{branch}") if (m := _SEQ_RE.fullmatch(n))]
    if not seqs:
        raise VersionNotFound(f"no branch {branch!r}")
    seq = max(seqs)
    data = json.loads(reader.get(f"refs/branches/{branch}/{seq:012d}.json"))
    return seq, data["commit"]


def move(writer: Writer, branch: str, expected_seq: int, commit: str) -> int:
    """Point ``branch`` at ``commit`` if its head is still ``expected_seq``; the new sequence."""
    seq = expected_seq + 1
    if not writer.create(f"refs/branches/{branch}/{seq:012d}.json", _record(commit)):
        raise CommitConflict(
            f"branch {branch!r} was moved by another writer since this handle read it; nothing was published. "
            "Call ds.refresh() to replay your uncommitted appends on the new head (or ds.rollback()), then commit"
        )
    return seq


def create_branch(writer: Writer, branch: str, commit: str) -> None:
    validate_ref_name(branch)
    if not writer.create(f"refs/branches/{branch}/{0:012d}.json", _record(commit)):
        raise DatasetError(f"branch {branch!r} already exists")


def delete_branch(writer: Writer, branch: str) -> None:
    validate_ref_name(branch)
    writer.remove_directory(f"refs/branches/{branch}")


def branches(reader: Reader) -> list[str]:
    return [n for n in reader.list("refs/branches") if _NAME_RE.fullmatch(n)]


def create_tag(writer: Writer, tag: str, commit: str) -> None:
    validate_ref_name(tag, "tag")
    if not writer.create(f"refs/tags/{tag}.json", _record(commit)):
        raise DatasetError(f"tag {tag!r} already exists")


def tag_commit(reader: Reader, tag: str) -> str | None:
    validate_ref_name(tag, "tag")
    if not reader.exists(f"refs/tags/{tag}.json"):
        return None
    return json.loads(reader.get(f"refs/tags/{tag}.json"))["commit"]


def tags(reader: Reader) -> dict[str, str]:
    out = {}
    for name in reader.list("refs/tags"):
        if name.endswith(".json") and _NAME_RE.fullmatch(name[:-5]):
            out[name[:-5]] = json.loads(reader.get(f"refs/tags/{name}"))["commit"]
    return out

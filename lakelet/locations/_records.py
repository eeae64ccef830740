"""Named records: the small second namespace of a location, beside the content-addressed values.

Values live under their sha256 and verify by construction. Anything else a
storage must keep under a *name* (a cache index entry, a marker) is a record:
create-only by default, replaceable atomically on request, never listed by
``keys()`` and never mistaken for a value by ``verify``/``fsck``/``gc``.
"""

from __future__ import annotations

import re

from ..errors import InvalidKey

#: the longest record name accepted (object stores allow 1024 bytes for the whole object path)
MAX_NAME = 512
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def validate_record_name(name: object) -> str:
    """Return ``name`` if it is a valid record name, else raise :class:`InvalidKey` naming it.

    A name is one or more ``/``-separated segments of ``[A-Za-z0-9._-]``; a segment
    may not be ``.`` or ``..`` (a name never escapes the records folder).
    """
    if not isinstance(name, str):
        raise InvalidKey(f"record name must be a str, got {type(name).__name__}: {name!r:.80}")
    if not name or len(name) > MAX_NAME:
        raise InvalidKey(f"record name must have 1-{MAX_NAME} characters, got {len(name)}: {name!r:.100}")
    for segment in name.split("/"):
        if segment in ("", ".", "..") or _SEGMENT.fullmatch(segment) is None:
            raise InvalidKey(
                f"malformed record name {name!r:.100}: use '/'-separated segments of letters, digits, '.', '_' "
                "and '-' (no empty, '.' or '..' segment)"
            )
    return name


def validate_record_prefix(prefix: object) -> str:
    """A listing prefix: any leading part of a valid name (``""`` lists everything)."""
    if not isinstance(prefix, str):
        raise InvalidKey(f"record prefix must be a str, got {type(prefix).__name__}: {prefix!r:.80}")
    if prefix:
        head = prefix.rstrip("/") if prefix.endswith("/") else prefix
        validate_record_name(head if head else "x")
    return prefix


def record_bytes(data: object, name: str) -> bytes:
    """The bytes of a record's value (bytes-like only), or :class:`InvalidArgument` naming the record."""
    from ..errors import InvalidArgument

    if isinstance(data, bytes):
        return data
    try:
        return memoryview(data).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgument(f"record {name!r}: data must be bytes-like, got {type(data).__name__}") from None


__all__ = ["MAX_NAME", "record_bytes", "validate_record_name", "validate_record_prefix"]

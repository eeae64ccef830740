"""Turning a value read from one location into a Blob another location can take."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .._owner import owned_name
from .abc import Blob, ReadValue

_INLINE = 4 * 2**20  # streams up to this size are copied in memory, bigger ones through a file


@contextmanager
def as_blob(value: ReadValue, staging: Path | None) -> Iterator[Blob]:
    """A Blob of ``value`` (a local Path or a stream), spooling big streams to a file once."""
    if isinstance(value, Path):
        yield Blob(path=value)
        return
    head = value.read(_INLINE)
    if len(head) < _INLINE:
        yield Blob(data=head)
        return
    folder = staging if staging is not None else Path(tempfile.gettempdir())
    tmp = folder / owned_name("spool")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with open(fd, "wb") as out:
            out.write(head)
            shutil.copyfileobj(value, out, 8 * 2**20)
        yield Blob(path=tmp, owned=True)
    finally:
        tmp.unlink(missing_ok=True)

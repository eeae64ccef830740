"""Keeping column files written ahead of a commit (``Dataset.spill``) safe from a concurrent gc.

A spilled file is referenced by no manifest until the commit, so ``ds.gc()`` would take it for
garbage once it is older than the grace period. Like media (see :mod:`.media`), the commit first
renews the files' modification time (local) or checks they are still there (remote: a re-upload of
whole column files would cost as much as the ingest), and refuses to publish if one is gone.
"""

from __future__ import annotations

import os

from ..errors import StorageKeyNotFound
from .errors import DatasetError
from .storage_io import Writer, parallel_map, translated


def freshen_files(writer: Writer, paths: list[str]) -> None:
    """Renew (local) or check (remote) every spilled file; raise :class:`DatasetError` if one is gone."""

    def _one(path: str) -> None:
        local = writer.local_path(path)
        try:
            if local is not None:
                with translated(local):
                    os.utime(local)
            elif not writer.exists(path):
                raise StorageKeyNotFound(path)
        except StorageKeyNotFound as e:
            raise DatasetError(
                f"column file {path} written ahead of this commit is no longer stored (collected by ds.gc() "
                "after its grace period?); nothing was published. rollback() and append those rows again"
            ) from e

    parallel_map(_one, list(paths))

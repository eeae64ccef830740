"""One reading of the modification times storage backends report.

Its own module so the dataset layer can read times from a listing without importing the fsspec
location (and asyncio with it: ~14 ms of a cold ``open``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def to_epoch(value: Any) -> float | None:
    """Seconds since the epoch from what backends report: a number, a datetime (naive means UTC),
    an ISO 8601 string or an HTTP date; None when it is none of these."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return to_epoch(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            pass  # not ISO 8601: perhaps an HTTP date
        from email.utils import parsedate_to_datetime

        try:
            return to_epoch(parsedate_to_datetime(value))
        except (TypeError, ValueError):
            return None
    return None

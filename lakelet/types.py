"""``lakelet.types``: the column types of datasets (see :mod:`lakelet.datasets.types`)."""

from __future__ import annotations

from .datasets.types import *  # noqa: F403
from .datasets.types import __all__  # noqa: F401

"""Fixtures of the cache tests: a private LAKELET_HOME and a local lake folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lakelet.config import config_set


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    """LAKELET_HOME for this test only (journal, locks, default lake); no signing key."""
    with config_set(home=tmp_path / "home", cache_key=None):
        yield tmp_path / "home"


@pytest.fixture
def lake(tmp_path: Path, home: Path) -> Path:
    """A local folder used as the cache storage."""
    return tmp_path / "lake"

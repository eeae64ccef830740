"""pytest-jupyter fixtures (``jp_fetch`` & co.) for the lakelet server extension tests.

pytest only honours ``pytest_plugins`` in the rootdir conftest, so the plugin's
fixtures and its async-test hooks are imported here; they apply to this folder only.
This folder has no ``__init__.py`` on purpose: as a package named ``jupyter_server``
on ``sys.path`` it would shadow the real jupyter_server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server", reason="the server extension tests need jupyter_server (lakelet[jupyter])")

from pytest_jupyter.jupyter_server import *  # noqa: E402,F403

from lakelet.hashstore import HashKeyStorage  # noqa: E402

#: values written into the test lake (distinct sizes, for the sort tests; test_server_handlers.py repeats them)
FAST_VALUES = [b"x" * n for n in (10, 300, 20)]
SLOW_VALUES = [b"y" * n for n in (5, 4000)]


@pytest.fixture
def fast_values() -> list[bytes]:
    """FAST_VALUES for tests: ``from conftest import`` would find whichever conftest is first on sys.path."""
    return list(FAST_VALUES)


@pytest.fixture
def jp_server_config():
    return {
        "ServerApp": {
            "jpserver_extensions": {"lakelet.jupyter.server": True},
            "allow_unauthenticated_access": False,
            "terminals_enabled": False,  # terminado's websocket handler warns about missing auth decorators
        }
    }


@pytest.fixture
def lake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A LAKELET_HOME whose config.toml defines Levels(fast disk, slow disk) with a few entries.

    fast holds FAST_VALUES; slow holds SLOW_VALUES plus a copy of the first fast value.
    """
    home = tmp_path / "lakelet-home"
    home.mkdir()
    fast, slow = home / "fast", home / "slow"
    spec = {"levels": [{"level": str(fast), "name": "fast"}, {"level": str(slow), "name": "slow"}]}
    (home / "config.toml").write_text(
        "[lake]\nlevels = [\n"
        + "".join(f"  {{ level = {json.dumps(item['level'])}, name = {json.dumps(item['name'])} }},\n"
                  for item in spec["levels"])
        + "]\n"
    )
    monkeypatch.setenv("LAKELET_HOME", str(home))
    monkeypatch.delenv("LAKELET_CACHE_KEY", raising=False)
    with HashKeyStorage(fast) as f, HashKeyStorage(slow) as s:
        keys = [f.write(v) for v in FAST_VALUES]
        for v in SLOW_VALUES:
            s.write(v)
        s.write(FAST_VALUES[0])
    os.utime(fast / keys[1][:2] / keys[1][2:], (1_000, 1_000))  # the 300-byte value: least recently used
    return home

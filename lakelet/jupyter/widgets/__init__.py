"""ipywidgets browsers of volumes, datasets and the lake (pure Python state, testable without a browser).

The browsers load on first use, so the HTML helpers of this package (used by
:mod:`lakelet.jupyter.reprs`) work without ipywidgets installed.
"""

from __future__ import annotations

import importlib
from typing import Any

_BROWSERS = {
    "DatasetBrowser": ".dataset_browser",
    "LakeBrowser": ".lake_browser",
    "VolumeBrowser": ".volume_browser",
}


def __getattr__(name: str) -> Any:
    if name not in _BROWSERS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import ipywidgets  # noqa: F401
    except ImportError as e:
        from ...errors import MissingDependency

        raise MissingDependency(f'lakelet.widgets.{name} needs ipywidgets: pip install "lakelet[jupyter]"') from e
    value = getattr(importlib.import_module(_BROWSERS[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_BROWSERS})


__all__ = ["DatasetBrowser", "LakeBrowser", "VolumeBrowser"]

"""ipywidgets browsers of volumes, datasets and the lake (pure Python state, testable without a browser)."""

from __future__ import annotations

try:
    import ipywidgets  # noqa: F401
except ImportError as e:
    from ...errors import MissingDependency

    raise MissingDependency('lakelet widgets need ipywidgets: pip install "lakelet[jupyter]"') from e

from .dataset_browser import DatasetBrowser
from .volume_browser import VolumeBrowser

__all__ = ["DatasetBrowser", "VolumeBrowser"]

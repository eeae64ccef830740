"""Notebook browsers of lakelet objects (needs ipywidgets: ``pip install "lakelet[jupyter]"``).

>>> from lakelet.widgets import VolumeBrowser, DatasetBrowser, LakeBrowser  # doctest: +SKIP
>>> VolumeBrowser(volume)        # folders page by page, previews, upload, delete  # doctest: +SKIP
>>> DatasetBrowser(ds)           # rows, schema, stats, SQL, versions and diffs     # doctest: +SKIP
>>> LakeBrowser()                # the configured lake's tiers, entries, evictions  # doctest: +SKIP
"""

from __future__ import annotations

from .jupyter.widgets import DatasetBrowser, LakeBrowser, VolumeBrowser

__all__ = ["DatasetBrowser", "LakeBrowser", "VolumeBrowser"]

"""Notebook browsers of lakelet objects (needs ipywidgets: ``pip install "lakelet[jupyter]"``).

In a notebook (widgets render only there, so this is not a doctest)::

    from lakelet.widgets import VolumeBrowser, DatasetBrowser, LakeBrowser
    VolumeBrowser(volume)        # folders page by page, previews, upload, delete (or volume.browse())
    DatasetBrowser(ds)           # rows, schema, stats, SQL, versions and diffs (or ds.browse())
    LakeBrowser()                # the configured lake's tiers, entries, evictions
"""

from __future__ import annotations

from .jupyter.widgets import DatasetBrowser, LakeBrowser, VolumeBrowser

__all__ = ["DatasetBrowser", "LakeBrowser", "VolumeBrowser"]

"""The notebook browsers (ipywidgets) in a real JupyterLab and Chromium: double-click opens a folder,
paging a LakeBrowser with a selection raises no console error; screenshots for docs/widgets.md."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import expect

DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"

CODE = """
import io, os, tempfile
os.environ["LAKELET_HOME"] = tempfile.mkdtemp(prefix="lakelet-ui-widgets-")
from lakelet.config import reload_config
reload_config()
from lakelet import HashKeyStorage, Levels, Memory, Disk
from lakelet.primitives import Volume
from lakelet.widgets import LakeBrowser, VolumeBrowser
vol = Volume.from_name("files", create_if_missing=True)
for path in ("data/a.csv", "data/b.csv", "readme.txt"):
    vol.put_file(io.BytesIO(b"x,y\\n1,2\\n"), path)
lake = HashKeyStorage(Levels(Memory(name="ui-hot"), Disk(os.environ["LAKELET_HOME"] + "/disk")))
for i in range(7):
    lake.write(b"value %d" % i)  # kept in the memory level and the disk below it
vb = VolumeBrowser(vol)
lb = LakeBrowser(lake, page_size=3)
display(vb, lb)
"""


def _notebook(root: Path) -> str:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "w1", "metadata": {}, "outputs": [],
                   "source": CODE}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "widgets.ipynb").write_text(json.dumps(notebook))
    return "widgets.ipynb"


def test_double_click_opens_a_folder_and_paging_keeps_the_console_clean(jupyter_lab, page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    name = _notebook(Path(jupyter_lab["root"]))
    page.goto(f"{jupyter_lab['url']}/lab/workspaces/{uuid.uuid4().hex}/tree/{name}?token={jupyter_lab['token']}")
    expect(page.locator(".jp-StatusBar-Widget", has_text="| Idle")).to_have_count(1, timeout=60_000)
    cell = page.locator(".jp-Notebook .jp-Cell").first
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    listing = page.locator(".lakelet-browser .lakelet-dblclick-open select")
    expect(listing).to_be_visible(timeout=60_000)
    listing.locator("option", has_text="data/").dblclick()
    # the breadcrumbs gain the folder and the listing shows its files
    expect(page.locator(".lakelet-browser button", has_text="data")).to_have_count(1, timeout=15_000)
    expect(listing.locator("option", has_text="a.csv")).to_have_count(1, timeout=15_000)
    page.screenshot(path=str(DOCS_IMG / "widget-volume.png"))

    # LakeBrowser: select entries on the memory tier, then page on: the new page replaces the selection
    tiers = page.locator(".lakelet-mono select").nth(1)
    tiers.select_option(index=1)
    entries = page.locator(".lakelet-mono select[multiple]")
    expect(entries.locator("option")).to_have_count(3, timeout=15_000)
    entries.select_option(index=[1, 2])
    page.locator("button[title='next page']").last.click()
    expect(entries.locator("option")).to_have_count(3, timeout=15_000)
    page.locator("button[title='next page']").last.click()
    expect(entries.locator("option")).to_have_count(1, timeout=15_000)
    page.wait_for_timeout(500)
    assert not [e for e in errors if "setting 'selected'" in e or "Error setting state" in e], errors


GRID = """
import os, struct, tempfile, zlib
os.environ["LAKELET_HOME"] = tempfile.mkdtemp(prefix="lakelet-ui-grid-")
from lakelet import datasets
from lakelet.datasets import types as T
from lakelet.widgets import DatasetBrowser

def png(w, h, rgb):
    raw = b"".join(b"\\x00" + bytes(rgb) * w for _ in range(h))
    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
    return (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

ds = datasets.create(os.environ["LAKELET_HOME"] + "/datasets/shapes", schema={
    "id": T.Int64(), "colour": T.ClassLabel(labels=["red", "green", "blue"]), "size": T.Float32(),
    "image": T.Image(), **{f"extra_{i}": T.Text() for i in range(12)}})
rgb = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 90, 220)}
names = list(rgb)
ds.append([{"id": i, "colour": names[i % 3], "size": float(i % 17), "image": png(16, 16, rgb[names[i % 3]]),
            **{f"extra_{k}": f"a long text value {k}" for k in range(12)}} for i in range(60)])
ds.commit("60 shapes")
db = DatasetBrowser(ds, page_size=10)
db
"""


def test_dataset_grid_sorts_and_filters_in_the_browser(jupyter_lab, page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    root = Path(jupyter_lab["root"])
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "g1", "metadata": {}, "outputs": [],
                   "source": GRID}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    (root / "grid.ipynb").write_text(json.dumps(notebook))
    page.goto(f"{jupyter_lab['url']}/lab/workspaces/{uuid.uuid4().hex}/tree/grid.ipynb?token={jupyter_lab['token']}")
    expect(page.locator(".jp-StatusBar-Widget", has_text="| Idle")).to_have_count(1, timeout=60_000)
    page.locator(".jp-Notebook .jp-Cell").first.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    sort = page.locator(".lakelet-grid-sort select")
    expect(sort).to_be_visible(timeout=60_000)
    table = page.locator(".lakelet-table").first
    sort.select_option("id")
    page.locator(".lakelet-grid-desc").click()
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("59", timeout=15_000)
    page.locator(".lakelet-grid-filter-column select").select_option("colour")
    page.locator(".lakelet-grid-filter input").fill("blue")
    page.keyboard.press("Enter")
    expect(table.locator("tbody tr").first.locator("td").first).to_have_text("59", timeout=15_000)
    expect(page.get_by_text("1–10 of 20")).to_have_count(1, timeout=15_000)
    expect(table.locator("tbody tr").nth(1).locator("td").first).to_have_text("56")
    assert table.locator("tbody tr").first.locator("td").nth(2).inner_text().startswith("blue")
    # a click on a thumbnail opens a larger view in place; a second click closes it
    zoom = table.locator("tbody tr").first.locator(".lakelet-zoom")
    zoomed = zoom.locator(".lakelet-zoomed")
    expect(zoomed).to_be_hidden()
    zoom.locator("summary").click()
    expect(zoomed).to_be_visible(timeout=5_000)
    assert zoomed.bounding_box()["width"] >= 128, zoomed.bounding_box()
    # a header's corner widens its column (CSS resize: widget HTML runs no script)
    handle = table.locator("th .lakelet-resize", has_text="extra_0")
    box = handle.bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] + 150, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    assert handle.bounding_box()["width"] > box["width"] + 100, (box, handle.bounding_box())
    # the wide table scrolls sideways instead of being cut off
    scroll = page.locator(".lakelet-scroll").first
    page.locator(".jp-OutputArea-output").first.screenshot(path=str(DOCS_IMG / "widget-grid.png"))
    sizes = scroll.evaluate("e => { const w = e.closest('.widget-html'); return [w.scrollWidth, w.clientWidth, "
                            "e.closest('.jp-OutputArea-output').clientWidth]; }")
    assert sizes[0] > sizes[1] and sizes[1] <= sizes[2], sizes  # scrolls inside the output, not cut off
    assert not errors, errors

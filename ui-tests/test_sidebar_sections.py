"""The sidebar's sections in a real JupyterLab and Chromium: cached functions and cells (with the
jump to the producing cell), Volumes, Dicts, Queues, Datasets, the kernel's own lake, and the
sidebar at its default width. Screenshots go to docs/img/ (regenerated here, so they stay true).

Runs after test_sidebar.py (file order): the cache entries made here change the tier counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import REPO

DOCS_IMG = REPO / "docs" / "img"

FILLER = "\n\n".join(f"Filler paragraph {i}: this notebook is long so the jump has to scroll." for i in range(12))
CELLS = [
    ("code", "%load_ext lakelet"),
    ("markdown", FILLER),
    ("code", "%%lake_cache totals\ntotal = sum(range(1000))\nprint('total is', total)"),
    ("markdown", FILLER),
    ("markdown", FILLER),
    (
        "code",
        "from lakelet.cache import smart_cache\n\n@smart_cache\ndef area(w, h):\n"
        "    return {'w': w, 'h': h, 'area': w * h}\n\n"
        "for args in [(2, 3), (2, 3), (4, 5), (4, 5), (4, 5)]:\n    area(*args)",
    ),
]


def _notebook(cells) -> dict:
    return {
        "cells": [
            {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source,
             **({"execution_count": None, "outputs": []} if kind == "code" else {})}
            for i, (kind, source) in enumerate(cells)
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@pytest.fixture(scope="module")
def filled(jupyter_lab, lake_home):
    """Objects of every kind in lake_home, and a notebook whose cached cell and function already ran."""
    code = f"""
import lakelet as L
from lakelet.datasets import types
from lakelet.primitives import Dict, Queue, Volume
vol = Volume.from_name("photos", create_if_missing=True)
with vol.batch_upload() as b:
    b.put_file({str(REPO / 'README.md')!r}, "/2024/january/README.md")
    b.put_file({str(REPO / 'pyproject.toml')!r}, "/pyproject.toml")
d = Dict.from_name("stations", create_if_missing=True)
d.update({{f"station-{{i:03d}}": {{"name": f"Midtown {{i}}", "bikes": i}} for i in range(40)}})
jobs = [{{"job": i, "url": f"s3://bucket/raw/{{i}}.parquet"}} for i in range(7)]
Queue.from_name("jobs", create_if_missing=True).put_many(jobs)
ds = L.create({str(lake_home / 'datasets' / 'trips')!r}, schema={{"trip": types.Int64(), "city": types.Text()}})
ds.append({{"trip": [1, 2, 3], "city": ["NYC", "SF", "LA"]}}); ds.commit("first load")
ds.append({{"trip": [4], "city": ["NYC"]}}); ds.commit("april trips")
from lakelet.cache import smart_cache

@smart_cache
def thumbnails(n):
    return bytes(n)  # big enough to be a stored value of its own, not inline in the entry

thumbnails(300_000)
"""
    env = dict(os.environ, LAKELET_HOME=str(lake_home))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    root = Path(jupyter_lab["root"])
    (root / "jump.ipynb").write_text(json.dumps(_notebook(CELLS)))
    subprocess.run(
        [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output",
         str(root / "executed.ipynb"), str(root / "jump.ipynb")],
        env=env, check=True, timeout=180, capture_output=True,
    )
    return lake_home


def _open(page, lab, path="jump.ipynb"):
    page.goto(f"{lab['url']}/lab/workspaces/{uuid.uuid4().hex}/tree/{path}?token={lab['token']}")
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="lakelet-sidebar"]')
    expect(tab).to_be_visible(timeout=30_000)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=30_000)
    expect(page.locator(".jp-StatusBar-Widget", has_text="| Idle")).to_have_count(1, timeout=30_000)
    tab.click()
    panel = page.locator("#lakelet-sidebar")
    expect(panel).to_have_attribute("data-loaded", "true", timeout=15_000)
    return panel


def _section(panel, key):
    section = panel.locator(f'.jp-Lakelet-section[data-section="{key}"]')
    section.locator("summary").click()
    expect(section).to_have_attribute("data-loaded", "true", timeout=15_000)
    return section


def test_cache_panel_and_jump_to_the_cell(jupyter_lab, page, filled):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    panel = _open(page, jupyter_lab)
    expect(panel.locator(".jp-Lakelet-source")).to_have_text("Lake of the kernel of jump.ipynb")
    panel.locator('.jp-Lakelet-section[data-section="tiers"] summary').click()  # fold the tiers away
    cache = _section(panel, "cache")
    area = cache.locator('.jp-Lakelet-group[data-name="__main__.area"]')
    expect(area.locator(".jp-Lakelet-groupStats")).to_contain_text("3 hits · 2 misses · saved")
    expect(cache.locator('.jp-Lakelet-group[data-name="totals"] .jp-Lakelet-groupStats')).to_contain_text("1 miss")
    area.click()
    detail = area.locator(".jp-Lakelet-groupDetail")
    expect(detail.locator(".jp-Lakelet-why")).to_contain_text("changed: argument w")
    expect(detail.locator(".jp-Lakelet-preview")).to_contain_text("result: {'w': 4, 'h': 5, 'area': 20}")
    page.set_viewport_size({"width": 1400, "height": 900})
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "sidebar-cache.png"))

    detail.locator(".jp-Lakelet-jump").click()
    expect(detail.locator(".jp-Lakelet-jump")).to_have_text("Shown in the notebook")
    active = page.locator(".jp-Notebook .jp-Cell.jp-mod-active")
    expect(active).to_contain_text("def area(w, h)")
    expect(active).to_be_in_viewport()

    totals = cache.locator('.jp-Lakelet-group[data-name="totals"]')
    totals.click()
    expect(totals.locator(".jp-Lakelet-preview")).to_contain_text("total is 499500")
    totals.locator(".jp-Lakelet-jump").click()
    expect(page.locator(".jp-Notebook .jp-Cell.jp-mod-active")).to_contain_text("%%lake_cache totals")
    page.screenshot(path=str(DOCS_IMG / "sidebar-jump.png"))
    assert not errors, errors


def test_environment_sections(jupyter_lab, page, filled):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    panel = _open(page, jupyter_lab)
    panel.locator('.jp-Lakelet-section[data-section="tiers"] summary').click()

    volumes = _section(panel, "volume")
    volumes.locator('.jp-Lakelet-object[data-name="photos"]').click()
    folder = volumes.locator(".jp-Lakelet-objectDetail")
    expect(folder.locator(".jp-Lakelet-volItem")).to_have_count(2)
    folder.locator('.jp-Lakelet-volItem[data-path="/2024"]').click()
    expect(folder.locator(".jp-Lakelet-detailLine")).to_have_text("photos:/2024")
    folder.locator('.jp-Lakelet-volItem[data-path="/2024/january"]').click()
    expect(folder.locator('.jp-Lakelet-volItem[data-path="/2024/january/README.md"]')).to_have_count(1)
    # a refresh (as when a cell finishes) keeps the folder the user opened
    volumes.evaluate("section => delete section.dataset.loaded")  # set again when the reload is done
    panel.locator(".jp-Lakelet-refresh").click()
    expect(volumes).to_have_attribute("data-loaded", "true", timeout=15_000)
    expect(folder.locator(".jp-Lakelet-detailLine")).to_have_text("photos:/2024/january")
    expect(folder.locator('.jp-Lakelet-volItem[data-path="/2024/january/README.md"]')).to_have_count(1)

    dicts = _section(panel, "dict")
    dicts.locator('.jp-Lakelet-object[data-name="stations"]').click()
    rows = dicts.locator(".jp-Lakelet-dictItem")
    expect(rows).to_have_count(25)
    expect(rows.first).to_contain_text("'station-000'")
    expect(rows.first).to_contain_text("'Midtown 0'")
    expect(dicts.locator(".jp-Lakelet-pageText")).to_have_text("1–25 of 40")
    dicts.locator('button[title="Next page"]').click()
    expect(rows).to_have_count(15)

    queues = _section(panel, "queue")
    queues.locator('.jp-Lakelet-object[data-name="jobs"]').click()
    expect(queues.locator(".jp-Lakelet-queueLength")).to_have_text("7 items waiting")
    expect(queues.locator(".jp-Lakelet-queueHead li").first).to_contain_text("'job': 0")

    datasets = _section(panel, "datasets")
    datasets.locator(".jp-Lakelet-dataset").first.click()
    expect(datasets.locator(".jp-Lakelet-detailLine")).to_contain_text("4 rows")
    expect(datasets.locator(".jp-Lakelet-schema tr")).to_have_count(2)
    expect(datasets.locator(".jp-Lakelet-version").first).to_contain_text("april trips")

    # at the default sidebar width nothing spills out sideways
    width = panel.evaluate("n => n.getBoundingClientRect().width")
    assert width < 320, width
    overflowing = panel.evaluate("n => n.scrollWidth > n.clientWidth + 1")
    assert not overflowing
    page.screenshot(path=str(DOCS_IMG / "sidebar-environment.png"))
    assert not errors, errors


def test_the_sidebar_follows_the_kernels_lakelet_home(jupyter_lab, page, filled, tmp_path_factory):
    other = tmp_path_factory.mktemp("kernel-home")
    code = (
        "import os\n"
        f"os.environ['LAKELET_HOME'] = {str(other)!r}\n"
        "from lakelet.primitives import Dict\n"
        "Dict.from_name('only-in-the-kernels-home', create_if_missing=True)['k'] = 1"
    )
    (Path(jupyter_lab["root"]) / "other.ipynb").write_text(json.dumps(_notebook([("code", code)])))
    panel = _open(page, jupyter_lab, "other.ipynb")
    cell = page.locator(".jp-Notebook .jp-Cell").first
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-InputPrompt")).to_contain_text("[1]", timeout=30_000)
    panel.locator(".jp-Lakelet-refresh").click()
    expect(panel.locator(".jp-Lakelet-status")).to_contain_text(str(other), timeout=15_000)
    dicts = _section(panel, "dict")
    expect(dicts.locator(".jp-Lakelet-object")).to_have_text(["only-in-the-kernels-home"])


def test_deleting_an_only_copy_asks_first_with_cancel_focused(jupyter_lab, page, filled):
    from conftest import SLOW, key_of

    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{jupyter_lab['url']}/lab/workspaces/{uuid.uuid4().hex}?token={jupyter_lab['token']}")
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="lakelet-sidebar"]')
    expect(tab).to_be_visible(timeout=30_000)
    tab.click()
    panel = page.locator("#lakelet-sidebar")
    expect(panel).to_have_attribute("data-loaded", "true", timeout=15_000)
    panel.locator('.jp-Lakelet-nodeLabel[data-id="0.1"]').click()
    tier = panel.locator(".jp-Lakelet-tier")
    expect(tier).to_have_attribute("data-loaded", "true")
    only = key_of(SLOW[0])  # the slow level holds the only copy
    tier.locator(f'[data-evict="{only}"]').click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("No other tier of the lake holds this value")
    expect(dialog).not_to_contain_text("force")
    focused = page.evaluate("document.activeElement && document.activeElement.textContent")
    assert focused is not None and "Keep it" in focused, focused
    page.keyboard.press("Enter")  # Enter on the focused button keeps the value
    expect(dialog).to_have_count(0)
    expect(tier.locator(f'.jp-Lakelet-entry[data-key="{only}"]')).to_have_count(1)
    tier.locator(f'[data-evict="{only}"]').click()
    dialog.get_by_role("button", name="Delete the only copy").click()
    expect(tier.locator(f'.jp-Lakelet-entry[data-key="{only}"]')).to_have_count(0)
    assert not errors, errors


def test_a_tier_lists_values_under_their_cache_entry(jupyter_lab, page, filled):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    panel = _open(page, jupyter_lab)
    panel.locator('.jp-Lakelet-nodeLabel[data-id="0"]').click()
    tier = panel.locator(".jp-Lakelet-tier")
    expect(tier).to_have_attribute("data-id", "0")
    expect(tier).to_have_attribute("data-loaded", "true")
    head = tier.locator(".jp-Lakelet-entryHead", has_text="thumbnails")
    expect(head).to_have_count(1)
    expect(head).to_contain_text("fn __main__.thumbnails · computed")
    expect(head).to_contain_text("in 1 value")
    value = head.locator("xpath=following-sibling::tr[1]")
    expect(value).to_have_class("jp-Lakelet-entry jp-mod-underEntry")
    expect(value.locator(".jp-Lakelet-variable")).to_have_text("→ result")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.screenshot(path=str(DOCS_IMG / "sidebar-tier-entries.png"))
    head.locator("[data-producer]").click()  # the entry's name filters the listing to its values
    expect(tier.locator(".jp-Lakelet-filter")).to_have_value("__main__.thumbnails")
    expect(tier.locator(".jp-Lakelet-entry")).to_have_count(1)
    assert not errors, errors

"""The lakelet sidebar in a real JupyterLab and a real Chromium."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from playwright.sync_api import expect

from conftest import ARTIFACTS, FAST, SLOW, key_of

SCREENSHOT = ARTIFACTS / "sidebar.png"


def open_sidebar(page, lab):
    # a fresh workspace per test, so no layout (an already open sidebar) is restored;
    # the token in the URL logs the browser in
    page.goto(f"{lab['url']}/lab/workspaces/{uuid.uuid4().hex}?token={lab['token']}")
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="lakelet-sidebar"]')
    expect(tab).to_be_visible(timeout=30_000)
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=30_000)
    tab.click()
    panel = page.locator("#lakelet-sidebar")
    expect(panel).to_have_attribute("data-loaded", "true", timeout=15_000)
    return panel


def test_sidebar_shows_the_lake_and_a_tiers_entries(jupyter_lab, page, lake_home):
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    panel = open_sidebar(page, jupyter_lab)

    expect(panel.locator(".jp-Lakelet-nodeKind")).to_have_text(["levels", "fast (disk)", "slow (disk)"])
    expect(panel.locator('.jp-Lakelet-nodeLabel[data-id="0.0"] .jp-Lakelet-nodeUsage')).to_contain_text(
        "3 entries"
    )
    expect(panel.locator('.jp-Lakelet-nodeLabel[data-id="0"] .jp-Lakelet-nodeUsage')).to_contain_text(
        "5 entries"  # b"shared" is in both levels and counts once
    )
    expect(panel.locator(".jp-Lakelet-status")).to_contain_text(str(lake_home))

    with page.expect_response(lambda r: "/lakelet/api/tiers/0.1" in r.url) as response:
        panel.locator('.jp-Lakelet-nodeLabel[data-id="0.1"]').click()
    assert response.value.status == 200
    tier = panel.locator(".jp-Lakelet-tier")
    expect(tier).to_have_attribute("data-loaded", "true")
    rows = tier.locator(".jp-Lakelet-entry")
    expect(rows).to_have_count(len(SLOW))
    keys = {rows.nth(i).get_attribute("data-key") for i in range(len(SLOW))}
    assert keys == {key_of(v) for v in SLOW}
    expect(tier.locator(".jp-Lakelet-pageText")).to_have_text(f"1–{len(SLOW)} of {len(SLOW)}")

    # sort by size: the first click sorts descending, the biggest value comes first
    tier.locator('th[data-sort="size"]').click()
    expect(tier.locator('th[data-sort="size"]')).to_have_text("size ▼")
    expect(rows.first).to_have_attribute("data-key", key_of(SLOW[1]))

    # filter by a key prefix
    tier.locator(".jp-Lakelet-filter").fill(key_of(SLOW[0])[:8])
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-key", key_of(SLOW[0]))
    tier.locator(".jp-Lakelet-filter").fill("")
    expect(rows).to_have_count(len(SLOW))

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    docs_img = Path(__file__).resolve().parents[1] / "docs" / "img"
    docs_img.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(docs_img / "sidebar-tiers.png"))  # the docs show what this test sees

    # evicting a cache copy (the slow level still holds it) needs no confirmation
    panel.locator('.jp-Lakelet-nodeLabel[data-id="0.0"]').click()
    expect(tier).to_have_attribute("data-id", "0.0")
    expect(rows).to_have_count(len(FAST))
    shared = key_of(b"shared")
    with page.expect_response(lambda r: "/lakelet/api/tiers/0.0/evict" in r.url) as response:
        tier.locator(f'[data-evict="{shared}"]').click()
    assert response.value.status == 200
    expect(rows).to_have_count(len(FAST) - 1)
    expect(panel.locator('.jp-Lakelet-nodeLabel[data-id="0.0"] .jp-Lakelet-nodeUsage')).to_contain_text(
        f"{len(FAST) - 1} entries"
    )
    assert not [e for e in errors if "lakelet" in e.lower()], errors


def test_sidebar_refreshes_when_a_cell_finishes(jupyter_lab, page):
    value = b"written by a notebook cell"
    code = (
        "from lakelet.config import get_config\n"
        "from lakelet.hashstore import HashKeyStorage\n"
        f"HashKeyStorage(get_config().lake_spec).write({value!r})"
    )
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
                   "source": code}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (Path(jupyter_lab["root"]) / "writes.ipynb").write_text(json.dumps(notebook))
    page.goto(f"{jupyter_lab['url']}/lab/workspaces/{uuid.uuid4().hex}/tree/writes.ipynb?token={jupyter_lab['token']}")
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="lakelet-sidebar"]')
    expect(tab).to_be_visible(timeout=30_000)
    tab.click()
    panel = page.locator("#lakelet-sidebar")
    expect(panel).to_have_attribute("data-loaded", "true", timeout=15_000)
    top = panel.locator('.jp-Lakelet-nodeLabel[data-id="0.0"] .jp-Lakelet-nodeUsage')
    before = int(top.inner_text().split("·")[1].split()[0])

    cell = page.locator(".jp-Notebook .jp-Cell").first
    # the kernel status in the status bar says "Idle" only once the kernel is connected
    expect(page.locator(".jp-StatusBar-Widget", has_text="| Idle")).to_have_count(1, timeout=30_000)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    expect(cell.locator(".jp-OutputArea-output")).to_contain_text(key_of(value), timeout=30_000)
    # no click on refresh: the kernel's busy -> idle transition refreshes the sidebar
    expect(top).to_contain_text(f"{before + 1} entries", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "sidebar-after-cell.png"))

"""VolumeBrowser: navigation, paging, sort/filter, previews, upload, download, delete, copy path."""

from __future__ import annotations

import base64
import io
import time
from datetime import UTC, datetime

import pytest

from lakelet.errors import InvalidArgument
from lakelet.jupyter.widgets import VolumeBrowser
from lakelet.primitives.entries import PathNotFound
from lakelet.primitives.volume_pages import DirectoryPages


def test_opens_at_the_root_with_folders_and_files(volume):
    b = VolumeBrowser(volume)
    assert b.names == ["data/", "readme.txt"]
    assert [c.description for c in b.breadcrumbs.children] == ["/"]
    assert b.up_button.disabled
    assert b.pager.label.value == "1–2 of 2"
    data = b.page.children[0]
    assert data.is_dir and data.files == 5 and data.complete
    assert repr(b) == "VolumeBrowser('files', folder='/')"


def test_navigate_breadcrumbs_and_up(volume):
    b = VolumeBrowser(volume)
    b.select("data/")
    assert not b.open_button.disabled
    b.open_button.click()
    assert b.folder == "data"
    assert b.names == ["blob.bin", "config.json", "img/", "table.csv", "table.parquet"]
    b.navigate("/data/img")
    assert [c.description for c in b.breadcrumbs.children] == ["/", "data", "img"]
    b.breadcrumbs.children[1].click()
    assert b.folder == "data"
    b.up_button.click()
    assert b.folder == ""


def test_navigate_to_a_file_selects_and_previews_it(volume):
    b = VolumeBrowser(volume)
    b.navigate("/data/table.csv")
    assert b.folder == "data"
    assert b.listing.value == "data/table.csv"
    assert "<th>x</th>" in b.preview_html.value and "<td>3</td>" in b.preview_html.value


def test_missing_folder_is_reported_in_the_status_line(volume):
    b = VolumeBrowser(volume)
    with pytest.raises(PathNotFound):
        b.navigate("nope")
    crumb = b._crumb("x", "nope")
    crumb.click()
    assert "nope not found" in b.status.text


@pytest.mark.parametrize(
    ("path", "kind", "needle"),
    [
        ("readme.txt", "text", "hello &lt;world&gt;"),
        ("data/config.json", "json", "&quot;b&quot;: ["),
        ("data/table.csv", "csv", "<th>y</th>"),
        ("data/table.parquet", "parquet", "100 rows, 1 row group(s)"),
        ("data/blob.bin", "binary", "00000000  00 01 02 03"),
    ],
)
def test_previews(volume, path, kind, needle):
    from lakelet.jupyter.widgets.preview import preview_file

    b = VolumeBrowser(volume)
    b.navigate(path)
    assert needle in b.preview_html.value
    child = b.selected
    assert preview_file(volume, child.path, child.size).kind == kind


def test_image_preview_and_download_link(volume):
    from .conftest import png

    b = VolumeBrowser(volume)
    b.navigate("data/img/red.png")
    assert b.preview_image.layout.display == "block"
    assert b.preview_image.value == png(4, 3)
    assert b.preview_image.format == "png"
    link = b.download.value
    assert 'download="red.png"' in link
    assert base64.b64encode(png(4, 3)).decode() in link


def test_sort_and_filter(volume):
    b = VolumeBrowser(volume)
    b.navigate("data")
    b.sort.value = "size"
    b.descending.value = True
    assert b.names[0] == "table.parquet"
    b.name_filter.value = "TABLE"
    assert b.names == ["table.parquet", "table.csv"]
    assert b.pager.label.value == "1–2 of 2"


def test_copy_path(volume):
    b = VolumeBrowser(volume)
    b.copy_button.click()  # nothing selected: a message, no exception
    assert "select a file" in b.status.text
    b.select("readme.txt")
    b.copy_button.click()
    assert b.path_box.value == "/readme.txt"
    assert "clipboard.writeText(&quot;/readme.txt&quot;)" in b.copy_html.value


def test_delete_asks_first_and_cancel_keeps_the_file(volume):
    b = VolumeBrowser(volume)
    b.select("readme.txt")
    b.delete_button.click()
    assert b.confirm.pending and "Delete /readme.txt?" in b.confirm.question.value
    b.confirm.no.click()
    assert volume.exists("readme.txt")
    assert b.status.text == "cancelled"


def test_delete_folder_recursively_after_confirmation(volume):
    b = VolumeBrowser(volume)
    b.select("data/")
    b.delete_button.click()
    assert "the 5 files below it" in b.confirm.question.value
    b.confirm.yes.click()
    assert not volume.exists("data")
    assert b.names == ["readme.txt"]
    assert b.status.text == "deleted /data"


def test_upload_puts_files_in_the_current_folder(volume):
    b = VolumeBrowser(volume)
    b.navigate("data")
    now = datetime.now(UTC)
    b.upload.value = (
        {"name": "new.txt", "type": "text/plain", "size": 3, "content": memoryview(b"new"), "last_modified": now},
        {"name": "two.txt", "type": "text/plain", "size": 3, "content": memoryview(b"two"), "last_modified": now},
    )
    assert b"".join(volume.read_file("data/new.txt")) == b"new"
    assert "new.txt" in b.names and "two.txt" in b.names
    assert b.upload.value == ()
    assert b.status.text.startswith("uploaded 2 file(s)")


def test_upload_rejects_bad_names(volume):
    b = VolumeBrowser(volume)
    now = datetime.now(UTC)
    b.upload.value = ({"name": "..", "type": "", "size": 1, "content": memoryview(b"x"), "last_modified": now},)
    assert "cannot upload a file named '..'" in b.status.text


def test_rejects_non_volumes_and_bad_page_sizes(volume):
    with pytest.raises(InvalidArgument):
        VolumeBrowser(object())
    with pytest.raises(InvalidArgument):
        VolumeBrowser(volume, page_size=0)


def _big_volume(volume, flat: int, nested: int):
    """Manifest entries that all point at one stored blob (what ``copy_files`` makes): a big tree in a second."""
    volume.put_file(io.BytesIO(b"0123456789\n"), "seed.txt")
    stored = volume._meta.get("seed.txt")
    volume._meta.commit(None, {f"flat/f{i:06d}.txt": stored for i in range(flat)})
    volume._meta.commit(None, {f"nested/d{i % 100:03d}/f{i:06d}.txt": stored for i in range(nested)})


def test_paging_a_100k_file_volume_lists_one_page(volume, capsys):
    _big_volume(volume, 100_000, 20_000)
    conn = DirectoryPages(volume)._sqlite()
    statements = []
    conn.set_trace_callback(statements.append)

    def no_full_listing(*args, **kwargs):
        raise AssertionError("the browser must not list the whole volume")

    volume.listdir = no_full_listing  # the fast path never calls it
    try:
        t0 = time.perf_counter()
        b = VolumeBrowser(volume)
        opened = time.perf_counter() - t0
        t0 = time.perf_counter()
        b.navigate("flat")
        flat_page = time.perf_counter() - t0
        t0 = time.perf_counter()
        b.pager.next.click()
        next_page = time.perf_counter() - t0
    finally:
        conn.set_trace_callback(None)
    assert b.names[0] == "f000050.txt" and len(b.names) == 50
    assert b.pager.label.value == "51–100 of more"
    # one indexed lookup per child on screen (plus bounded folder totals), never one per file
    assert len(statements) < 400
    with capsys.disabled():
        print(f"\n100k-file volume: open root {opened * 1000:.1f} ms, open /flat {flat_page * 1000:.1f} ms, "
              f"next page {next_page * 1000:.1f} ms, {len(statements)} SQL statements")


def test_folder_totals_stop_at_the_budget(volume, monkeypatch):
    from lakelet.primitives import volume_pages

    monkeypatch.setattr(volume_pages, "SUMMARY_BUDGET", 100)
    _big_volume(volume, 500, 0)
    page = DirectoryPages(volume).page("")
    flat = next(c for c in page.children if c.name == "flat")
    assert not flat.complete and flat.files == 95  # "data" (5 files) used the rest of the budget
    b = VolumeBrowser(volume)
    assert any("95+ files" in label for label, _ in b.listing.options)


def test_sorted_listing_of_a_big_folder_pages_from_one_cached_scan(volume):
    _big_volume(volume, 2_000, 0)
    pages = DirectoryPages(volume)
    first = pages.page("flat", sort="mtime", descending=True, limit=100)
    assert first.total == 2000 and first.has_more
    last = pages.page("flat", sort="name", descending=True, offset=1900, limit=100)
    assert [c.name for c in last.children][-1] == "f000000.txt"
    assert len(pages._cache) == 1


def test_fallback_without_sqlite_matches_the_fast_path(volume, monkeypatch):
    fast = DirectoryPages(volume)
    slow = DirectoryPages(volume)
    monkeypatch.setattr(slow, "_sqlite", lambda: None)
    for folder in ("", "data", "data/img"):
        a = [(c.name, c.is_dir, c.size, c.files) for c in fast.page(folder).children]
        b = [(c.name, c.is_dir, c.size) for c in slow.page(folder).children]
        assert [x[:3] if not x[1] else (x[0], True) for x in a] == [x if not x[1] else (x[0], True) for x in b]
    with pytest.raises(PathNotFound):
        slow.page("nope")


def test_page_validates_arguments(volume):
    pages = DirectoryPages(volume)
    with pytest.raises(InvalidArgument):
        pages.page("", limit=0)
    with pytest.raises(InvalidArgument):
        pages.page("", sort="colour")
    with pytest.raises(InvalidArgument):
        pages.page("readme.txt")
    with pytest.raises(InvalidArgument):
        pages.page("../etc")


def test_parquet_preview_shows_readable_times_and_wide_tables_scroll(home):
    import io
    from datetime import date, datetime

    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakelet.jupyter.widgets.preview import preview_file
    from lakelet.primitives import Volume

    vol = Volume.from_name("wide", create_if_missing=True)
    columns = {"when": [datetime(2024, 5, 1, 12, 30)], "day": [date(2024, 5, 2)]}
    columns.update({f"column_{i:02d}": [i] for i in range(40)})
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    vol.put_file(io.BytesIO(buf.getvalue()), "wide.parquet")
    shown = preview_file(vol, "wide.parquet", len(buf.getvalue()))
    assert "<td>2024-05-01 12:30:00</td>" in shown.html and "<td>2024-05-02</td>" in shown.html
    assert "datetime" not in shown.html.split("columns:")[1].split("</div>", 1)[1]  # no reprs in the cells
    assert '<div class="lakelet-scroll">' in shown.html and "column_39" in shown.html


def test_delete_confirm_is_worded_for_a_person(volume):
    b = VolumeBrowser(volume)
    b.select("readme.txt")
    b.delete_button.click()
    assert b.confirm.question.value == "<b>Delete /readme.txt? This cannot be undone.</b>"
    assert b.confirm.yes.description == "Delete"
    assert b.confirm.children.index(b.confirm.no) < b.confirm.children.index(b.confirm.yes)


def test_first_page_glyph_is_in_the_default_fonts(volume):
    b = VolumeBrowser(volume)
    assert b.pager.first.description == "⇤"  # U+23EE (⏮) rendered as an empty box


def test_browsers_say_so_when_their_home_was_deleted(home, volume):
    import shutil

    import numpy as np

    from lakelet import smart_cache
    from lakelet.jupyter.widgets import LakeBrowser

    smart_cache()(lambda n: np.zeros(n))(10_000)  # a blob in the configured lake
    vb, lb = VolumeBrowser(volume), LakeBrowser()
    assert vb.names and lb.listing["total"] == 1
    shutil.rmtree(home)  # what a demo's last cell does
    vb.refresh_button.click()
    assert vb.names == [] and vb.listing.options == ()
    assert "was deleted" in vb.status.text and str(home) in vb.status.text
    lb.refresh_button.click()
    assert lb.entries.options == () and lb.listing is None
    assert "was deleted" in lb.status.text and str(home) in lb.status.text

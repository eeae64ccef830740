"""DatasetBrowser: paged rows, schema, stats, SQL, versions, branches, tags, diffs."""

from __future__ import annotations

import numpy as np
import pytest

from lakelet.errors import InvalidArgument
from lakelet.jupyter.widgets import DatasetBrowser
from lakelet.jupyter.widgets.dataset_view import column_stats, page_html


def test_header_and_first_page(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    assert "30 rows" in b.header.value and "branch <b>main</b>" in b.header.value
    assert b.rows_pager.label.value == "1–10 of 30"
    html = b.rows_html.value
    assert html.count("<tr>") == 11  # header + 10 rows
    assert "row &lt;9&gt;" in html and "row &lt;10&gt;" not in html
    assert html.count('<img class="lakelet-thumb"') == 10
    assert "dog <span" in html  # class labels shown by name
    assert repr(b) == f"DatasetBrowser({dataset.path!r})"


def test_paging_and_goto(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    b.rows_pager.next.click()
    assert b.rows_pager.label.value == "11–20 of 30"
    b.rows_pager.next.click()
    assert b.rows_pager.next.disabled
    b.goto.value = 25
    b.goto_button.click()
    assert b.rows_pager.label.value == "26–30 of 30"
    b.page_size.value = 25
    assert b.rows_pager.label.value == "26–30 of 30"
    b.rows_pager.first.click()
    assert b.rows_pager.label.value == "1–25 of 30"


def test_only_the_visible_page_leaves_the_kernel(home):
    from lakelet import datasets
    from lakelet.datasets import types as T

    ds = datasets.create(str(home / "big"))
    ds.add_column("n", T.Int64())
    ds.add_column("t", T.Text())
    n = 1_000_000
    ds.append({"n": np.arange(n), "t": np.array(["x" * 20] * n, dtype=object)})
    ds.commit("a million rows")
    b = DatasetBrowser(ds, page_size=25)
    b.show_rows(999_990)
    assert b.rows_pager.label.value == "999,991–1,000,000 of 1,000,000"
    state_bytes = sum(len(str(w.get_state())) for w in (b.rows_html, b.header, b.schema_html))
    assert state_bytes < 20_000  # a page, not a million rows


def test_schema_panel_with_sizes(dataset):
    b = DatasetBrowser(dataset)
    html = b.schema_html.value
    for name in ("n", "x", "label", "text", "image"):
        assert f"<b>{name}</b>" in html
    assert "ClassLabel(dtype=&#x27;int32&#x27;, labels=[&#x27;cat&#x27;, &#x27;dog&#x27;])" in html
    assert "240 B" in html  # 30 int64 values


def test_schema_panel_names_the_search_indexes(dataset):
    pytest.importorskip("tantivy")
    dataset["text"].create_index("bm25")
    html = DatasetBrowser(dataset).schema_html.value
    assert "<th>index</th>" in html and "<td>bm25</td>" in html


def test_stats_numeric_histogram_and_labels(dataset):
    b = DatasetBrowser(dataset)
    b.stats_column.value = "x"
    assert "<svg" in b.stats_html.value and "30 values" in b.stats_html.value
    s = column_stats(dataset, "x")
    assert s.numbers["min"] == 0 and s.numbers["max"] == pytest.approx(2.9)
    assert sum(s.histogram[0]) == 30
    b.stats("label")
    assert "cat" in b.stats_html.value and "lakelet-bar" in b.stats_html.value
    assert column_stats(dataset, "label").top == [("cat", 20), ("dog", 10)]
    assert column_stats(dataset, "text").distinct == 30
    assert column_stats(dataset, "image").distinct == 30
    with pytest.raises(InvalidArgument):
        b.stats("nope")


def test_sql_box_pages_results_and_shows_errors(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    b.sql.value = "SELECT n, x FROM ds WHERE n >= 5 ORDER BY n"
    b.run_button.click()
    assert b.status.text == "25 rows"
    assert b.sql_pager.label.value == "1–10 of 25"
    b.sql_pager.next.click()
    assert ">15<" in b.sql_html.value and b.sql_pager.label.value == "11–20 of 25"
    b.sql.value = "SELECT nope"
    b.run_button.click()
    assert "query failed" in b.status.text
    assert b.sql_html.value == ""


def test_branch_checkout_diff_and_tag(dataset):
    b = DatasetBrowser(dataset)
    b.new_name.value = "exp"
    b.branch_button.click()
    assert "created branch exp" in b.status.text
    assert ("branch exp", "exp") in b.ref.options
    b.checkout("exp")
    assert dataset.current_branch == "main", "the browser must not move the user's handle"
    exp = b.ds
    assert exp is not dataset and exp.current_branch == "exp"
    assert b.status.text == "showing exp (your handle stays on main)"
    assert "branch <b>exp</b>" in b.header.value
    exp.append({"n": [100], "x": [1.0], "label": ["dog"], "text": ["new"], "image": [None]})
    exp[0]["x"] = 42.0
    b.refresh()
    assert "uncommitted changes" in b.header.value
    assert not dataset.has_changes and len(dataset) == 30
    b.diff_a.value = exp.version
    b.diff_b.value = ""
    b.diff_button.click()
    assert b.diff_summary.value == "1 added, 0 removed, 1 changed"
    assert "new" in b.diff_html.value
    exp.commit("one more")
    b.refresh()
    assert "31 rows" in b.header.value
    b.new_name.value = "v2"
    b.tag_button.click()
    assert exp.tags["v2"] == exp.version
    b.ref.value = "main"
    b.checkout_button.click()
    assert b.ds.current_branch == "main" and len(b.ds) == 30
    assert dataset.current_branch == "main" and len(dataset) == 30
    assert "showing main" in b.status.text


def test_checkout_in_the_browser_keeps_the_users_uncommitted_changes(dataset):
    b = DatasetBrowser(dataset)
    dataset.append({"n": [1], "x": [1.0], "label": ["dog"], "text": ["t"], "image": [None]})
    first = dataset.history[-1].id
    b.ref.value = first
    b.checkout_button.click()
    assert b.ds.version == first and b.ds.current_branch is None
    assert dataset.current_branch == "main" and dataset.has_changes and len(dataset) == 31
    dataset.commit("the user's row")
    assert len(dataset) == 31 and len(b.ds) == dataset.history[-1].rows


def test_page_html_validates_and_handles_empty(dataset):
    assert "no rows" in page_html(dataset, 30, 40)
    with pytest.raises(InvalidArgument):
        page_html(dataset, 5, 2)


def test_rejects_non_datasets(dataset):
    with pytest.raises(InvalidArgument):
        DatasetBrowser(object())
    with pytest.raises(InvalidArgument):
        DatasetBrowser(dataset, page_size=7)


def test_sql_error_clears_the_old_pager_and_shows_the_users_sql_error(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    b.run_sql("SELECT n FROM ds ORDER BY n")
    assert b.sql_pager.label.value == "1–10 of 30" and not b.sql_pager.next.disabled
    b.run_sql("SELECT zonee")
    assert b.sql_html.value == "" and b.sql_pager.label.value == "nothing to show" and b.sql_pager.next.disabled
    text = b.status.text
    assert text.startswith("query failed: Binder Error") and '"zonee"' in text
    assert "LIMIT 0" not in text and "SELECT * FROM (" not in text and "_rowid" not in text


def test_sql_results_show_label_names_and_image_thumbnails(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    b.run_sql("SELECT n, label, image FROM ds WHERE n < 3 ORDER BY n")
    html = b.sql_html.value
    assert "dog <span class='lakelet-muted'>(1)</span>" in html and "cat <span" in html
    assert html.count('<img class="lakelet-thumb"') == 3
    b.run_sql("SELECT n + 100 AS label FROM ds LIMIT 1")  # not the column's labels: a plain number
    assert "lakelet-muted'>(" not in b.sql_html.value


def test_lake_sql_magic_result_and_error_read_like_the_users_sql(dataset):
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    from lakelet.jupyter import reprs, sql_magic

    ip = InteractiveShell.instance()
    sql_magic.register(ip)
    ip.user_ns["animals"] = dataset
    view = ip.run_cell_magic("lake_sql", "animals", "SELECT n, label, image FROM animals WHERE n = 0")
    html = reprs.query_html(view)  # the view %load_ext lakelet registers for query results
    assert "dog <span" in html and '<img class="lakelet-thumb"' in html
    with pytest.raises(UsageError) as info:
        ip.run_cell_magic("lake_sql", "animals", "SELECT zonee FROM animals")
    assert '"zonee"' in str(info.value) and "LIMIT 0" not in str(info.value)


def test_grid_sorts_filters_hides_columns_and_shows_a_row(dataset):
    b = DatasetBrowser(dataset, page_size=10)
    b.sort_column.value = "n"
    b.sort_desc.value = True
    html = b.rows_html.value
    assert html.index(">29<") < html.index(">20<") and ">19<" not in html
    assert b.rows_pager.label.value == "1–10 of 30"
    b.filter_column.value = "label"
    b.filter_text.value = "DOG"  # by the label's name, case-insensitive
    assert b.rows_pager.label.value == "1–10 of 10"
    assert list(b.rows) == [27, 24, 21, 18, 15, 12, 9, 6, 3, 0]
    assert "cat <span" not in b.rows_html.value
    b.filter_column.value = "text"
    b.filter_text.value = "<2"
    assert sorted(int(r) for r in b.rows) == [2, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29]
    b.sort_column.value = "label"  # by name: cat before dog
    b.sort_desc.value = False
    labels = dataset.to_arrow(["label"]).column(0).to_pylist()
    assert [labels[int(r)] for r in b.rows] == sorted(labels[int(r)] for r in b.rows)  # codes: 0 cat, 1 dog
    b.columns_shown.value = ("n", "text")
    html = b.rows_html.value
    assert ">label</div></th>" not in html and ">image</div></th>" not in html and ">text</div></th>" in html
    b.detail_row.value = 4
    b.detail_button.click()
    detail = b.detail_html.value
    assert "row 4" in detail and "row &lt;4&gt;" in detail and "cat <span" in detail
    assert 'max-width:512px' in detail and "data:image/png;base64," in detail  # the image, zoomed
    b.detail_row.value = 99
    b.detail_button.click()
    assert "no row 99" in b.status.text
    b.filter_column.value = "image"
    b.filter_text.value = "ab"
    assert b.rows_pager.total is not None  # media keys filter as text (their references)

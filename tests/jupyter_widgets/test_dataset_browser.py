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

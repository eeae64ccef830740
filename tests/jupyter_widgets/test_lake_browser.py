"""LakeBrowser: tier tree, usage, entries with their producers, evict/clear/gc on cache levels only."""

from __future__ import annotations

import hashlib

import pytest

from lakelet import Blob, Disk, HashKeyStorage, Levels, Memory
from lakelet.errors import InvalidArgument
from lakelet.jupyter.widgets import LakeBrowser
from lakelet.jupyter.widgets.lake_browser import cache_levels
from lakelet.locations import Fanout, Small


@pytest.fixture
def lake(home):
    return HashKeyStorage(Levels(Memory(name="hot"), Disk(home / "disk")))


def _cached(lake):
    from lakelet.cache import smart_cache

    @smart_cache(lake)
    def table(n):
        return bytes(n)  # big enough to be a blob of its own

    table(200_000)
    table(10)
    return table


def test_tree_usage_and_entries_with_producers(lake):
    _cached(lake)
    b = LakeBrowser(lake)
    labels = [label for label, _ in b.tiers.options]
    assert [i for _, i in b.tiers.options] == ["0", "0.0", "0.1"]
    assert labels[1].startswith("  memory   memory://hot") and "[cache]" in labels[1]
    assert "[cache]" not in labels[2]
    assert b.tier_id == "0"
    assert len(b.page_keys) == b.listing["total"] >= 1  # values only: entries are named records
    # each cache entry is a line of its own, with its values under it; selecting it selects them
    labels = [label for label, _ in b.entries.options]
    head = next(i for i, label in enumerate(labels) if label.startswith("▾ function ") and ".table · computed" in label)
    assert labels[head + 1].split()[0] == "result" and b.entries.options[head + 1][1] in b.page_keys
    b.entries.value = (b.entries.options[head][1],)
    assert b.selected_keys == [b.entries.options[head + 1][1]]
    assert b.evict_button.disabled and b.clear_button.disabled  # the whole lake is not a cache level
    assert repr(b) == f"LakeBrowser({lake.location.url!r})"


def test_default_is_the_configured_lake(home):
    from lakelet.config import get_config

    b = LakeBrowser()
    assert b.tree["url"] == str(get_config().home / "lake")


def test_filter_sort_and_paging(lake):
    for i in range(7):
        lake.write(b"x" * (i + 1) * 100)
    b = LakeBrowser(lake, page_size=3)
    b.select_tier("0.0")
    assert b.pager.label.value == "1–3 of 7"
    b.pager.next.click()
    assert b.pager.label.value == "4–6 of 7"
    b.sort.value = "size"
    assert [int(label.split()[1]) for label, _ in b.entries.options] == [700, 600, 500]
    key = b.page_keys[0]
    b.name_filter.value = key[:10]
    assert b.page_keys == [key]


def _only_in_hot(lake, value: bytes) -> str:
    """A value held by the memory tier alone (writes through the lake also reach the durable disk)."""
    key = hashlib.sha256(value).hexdigest()
    lake.location.levels[0].location.write(key, Blob(data=value))
    assert not lake.location.levels[1].location.contains(key)
    return key


def test_evict_needs_confirmation_and_keeps_only_copies(lake):
    only_in_cache = _only_in_hot(lake, b"only here")
    shared = lake.write(b"in both tiers")
    assert lake.location.levels[1].location.contains(shared)
    b = LakeBrowser(lake)
    b.select_tier("0.0")
    assert not b.evict_button.disabled
    b.entries.value = (shared,)
    b.evict_button.click()
    assert b.confirm.pending and lake.location.levels[0].location.contains(shared)
    b.confirm.yes.click()
    assert not lake.location.levels[0].location.contains(shared) and lake.contains(shared)
    assert b.status.text.startswith("evicted 1 entries")
    b.entries.value = (only_in_cache,)
    b.evict_button.click()  # an only copy: the question says so in a person's words, Cancel keeps it
    question = b.confirm.question.value
    assert "1 of the 1 selected entries exist only in tier 0.0" in question and "for good" in question
    assert "force" not in question and b.confirm.yes.description == "Delete"
    b.confirm.no.click()
    assert b.status.text == "cancelled" and lake.contains(only_in_cache)
    b.entries.value = (only_in_cache,)
    b.evict_button.click()
    b.confirm.yes.click()  # confirmed: removed for good
    assert b.status.text.startswith("evicted 1 entries")
    assert not lake.contains(only_in_cache)


def test_confirm_focuses_cancel_and_names_the_action(lake):
    sent = []
    shared = lake.write(b"in both tiers")
    b = LakeBrowser(lake)
    b.confirm.no.send = lambda content, buffers=None: sent.append(content)  # the widget's custom messages
    b.select_tier("0.0")
    b.entries.value = (shared,)
    b.evict_button.click()
    assert sent == [{"do": "focus"}]  # the frontend focuses Cancel, not the red button
    assert b.confirm.children.index(b.confirm.no) < b.confirm.children.index(b.confirm.yes)
    assert b.confirm.yes.description == "Evict" and "Another tier keeps a copy" in b.confirm.question.value


def test_new_entries_and_cleared_selection_go_in_one_message(lake):
    """Sent apart, the frontend would apply old selected indices to a shorter list (console error)."""
    for value in (b"one", b"two", b"three"):
        lake.write(value)
    b = LakeBrowser(lake, page_size=1)
    b.select_tier("0.1")
    assert b.listing["total"] >= 2
    b.entries.value = tuple(b.page_keys)
    assert b.entries.index != ()
    sent = []
    b.entries._send = lambda msg, buffers=None: sent.append(msg)  # what goes to the frontend
    b.pager.next.click()
    assert len(sent) == 1, sent  # one message: the next page's options with the selection cleared
    shrink = sent[0]["state"]
    assert "_options_labels" in shrink, sent
    assert shrink.get("index") == (), sent  # the old selection is cleared in the same message


def test_gc_that_evicts_nothing_says_why(home):
    lake = HashKeyStorage(Levels(Disk(home / "fast"), Disk(home / "slow")))
    lake.location.levels[0].location.write(hashlib.sha256(b"x" * 5000).hexdigest(), Blob(data=b"x" * 5000))
    b = LakeBrowser(lake)
    b.gc("1 MiB")
    assert b.status.text.startswith("gc evicted 0 entries (0 B): every cache level is already within 1.0 MiB")
    b.gc("1 KiB")
    assert "only cop" in b.status.text and "over 1.0 KiB" in b.status.text


def test_tier_labels_tell_a_per_value_bound_from_a_capacity(home):
    lake = HashKeyStorage(Levels(Small(Memory(), max_size=1024), Disk(home / "d", max_size=300 * 2**20)))
    labels = [label for label, _ in LakeBrowser(lake).tiers.options]
    assert any("values ≤1.0 KiB" in label for label in labels)
    assert any("max 300.0 MiB in all" in label for label in labels) and not any("/value" in x for x in labels)


def test_clear_tier_keeps_only_copies(lake):
    kept = _only_in_hot(lake, b"only here")
    twice = lake.write(b"twice")
    assert lake.location.levels[1].location.contains(twice)
    b = LakeBrowser(lake)
    b.select_tier("0.0")
    b.clear_button.click()
    b.confirm.yes.click()
    assert "cleared 1 entries" in b.status.text and "kept 1 only copies" in b.status.text
    assert b.page_keys == [kept]


def test_actions_refused_outside_cache_levels(lake):
    lake.write(b"x")
    b = LakeBrowser(lake)
    b.select_tier("0.1")
    assert b.evict_button.disabled
    with pytest.raises(InvalidArgument):
        b.clear()
    b.gc_size.value = "0"
    b.gc_button.click()
    assert b.status.text.startswith("gc evicted")


def test_cache_levels_of_nested_topologies(home):
    lake = Levels(Small(Memory(), max_size=100), Fanout(Disk(home / "a"), Levels(Memory(), Disk(home / "b"))))
    assert cache_levels(lake) == {"0.0", "0.0.0", "0.1.1.0"}


def test_bad_tier_and_page_size(lake):
    with pytest.raises(InvalidArgument):
        LakeBrowser(lake, page_size=0)
    b = LakeBrowser(lake)
    with pytest.raises(InvalidArgument):
        b.select_tier("0.9")


def test_every_browser_sends_a_full_state_to_the_frontend(lake, volume, dataset):
    """A name that shadows a widget trait (``keys``, ``open``...) would empty the state the frontend gets."""
    from lakelet.jupyter.widgets import DatasetBrowser, VolumeBrowser

    for browser in (LakeBrowser(lake), VolumeBrowser(volume), DatasetBrowser(dataset)):
        state = browser.get_state()
        assert state["_model_module"] == "@jupyter-widgets/controls"
        assert len(state["children"]) >= 3

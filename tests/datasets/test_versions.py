"""Commits, history, tags, branches, checkout, merge with conflicts, diff, rollback, visibility."""

from __future__ import annotations

import numpy as np
import pytest

import lakelet
import lakelet.datasets as L
from lakelet.datasets import types


@pytest.fixture
def ds(mem_url):
    ds = L.create(mem_url, schema={"id": types.Int64(), "name": types.Text()})
    ds.append({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    ds.commit("three")
    return ds


def test_uncommitted_visible_only_in_writer(ds):
    other = L.open(ds.path)
    ds.append({"id": 4, "name": "d"})
    assert ds.has_changes and len(ds) == 4
    assert len(other) == 3 and not other.has_changes
    assert len(L.open(ds.path)) == 3
    ds.commit("four")
    assert not ds.has_changes and len(L.open(ds.path)) == 4
    other.refresh()
    assert len(other) == 4


def test_rollback(ds):
    ds.append({"id": 9, "name": "z"})
    ds.rename_column("name", "label")
    ds.rollback()
    assert not ds.has_changes and len(ds) == 3 and ds.schema.names == ["id", "name"]


def test_history_tags_checkout(ds):
    first = ds.version
    ds.append({"id": 4, "name": "d"})
    second = ds.commit("four")
    assert [v.id for v in ds.history][:2] == [second, first]
    assert [v.message for v in ds.log()] == ["four", "three", "created"]
    ds.tag("v1", first)
    assert ds.tags == {"v1": first}
    with pytest.raises(L.DatasetError):
        ds.tag("v1")
    ds.checkout("v1")
    assert len(ds) == 3 and ds.read_only
    with pytest.raises(L.DatasetReadOnly):
        ds.append({"id": 5})
    ds.checkout(second[:8])  # short ids work
    assert len(ds) == 4
    ds.checkout("main")
    assert len(L.open(ds.path, version="v1")) == 3
    with pytest.raises(L.VersionNotFound):
        ds.checkout("nope")
    with pytest.raises(KeyError):
        L.open(ds.path, version="deadbeefdeadbeef")


def test_branch_and_merge_appends(ds):
    ds.branch("dev")
    dev = L.open(ds.path, branch="dev")
    dev.append({"id": 10, "name": "dev"})
    dev.commit("dev row")
    ds.append({"id": 20, "name": "main"})
    ds.commit("main row")
    ds.merge("dev")
    assert ds["id"][:].tolist() == [1, 2, 3, 20, 10]
    assert len(ds.history[0].parents) == 2
    assert set(ds.branches) == {"main", "dev"}
    assert ds.merge("dev") == ds.version  # already merged: nothing to do


def test_fast_forward_merge(ds):
    ds.checkout("dev", create=True)
    ds.append({"id": 4, "name": "d"})
    tip = ds.commit("on dev")
    ds.checkout("main")
    assert ds.merge("dev") == tip and len(ds) == 4


def test_merge_edits_and_columns(ds):
    ds.branch("dev")
    dev = L.open(ds.path, branch="dev")
    dev["name"][0] = "A"
    dev.add_column("score", types.Float32(), default_value=1.0)
    dev["score"][2] = 5.0
    dev.delete(1)
    dev.commit("edit, add column, delete")
    ds["name"][2] = "C"
    ds.commit("edit another row")
    ds.merge("dev")
    assert ds["name"][:] == ["A", "C"]
    assert ds["score"][:].tolist() == [1.0, 5.0]


def test_merge_conflict_lists_rows(ds):
    ds.branch("dev")
    dev = L.open(ds.path, branch="dev")
    dev["name"][1] = "dev"
    dev.commit("dev edit")
    ds["name"][1] = "main"
    ds.commit("main edit")
    with pytest.raises(L.MergeConflict) as err:
        ds.merge("dev")
    assert err.value.rows == [1] and "1" in str(err.value)
    assert isinstance(err.value, ValueError)
    assert ds["name"][:] == ["a", "main", "c"] and not ds.has_changes


def test_same_edit_on_both_sides_merges(ds):
    ds.branch("dev")
    dev = L.open(ds.path, branch="dev")
    dev["name"][0] = "same"
    dev.commit("x")
    ds["name"][0] = "same"
    ds.commit("y")
    ds.merge("dev")
    assert ds["name"][:] == ["same", "b", "c"]


def test_diff(ds):
    first = ds.version
    ds["name"][0] = "changed"
    ds.delete(1)
    ds.append({"id": 4, "name": "new"})
    working = ds.diff().to_pandas()
    assert sorted(zip(working["change"], working["id"], strict=True)) == [
        ("added", 4), ("changed", 1), ("removed", 2)
    ]
    second = ds.commit("edits")
    rel = ds.diff(first, second)
    assert len(rel) == 3
    assert ds.diff(second, second).to_arrow().num_rows == 0


def test_commit_race_one_wins(ds):
    a, b = L.open(ds.path), L.open(ds.path)
    a.append({"id": 100, "name": "a"})
    b.append({"id": 200, "name": "b"})
    a.commit("a wins")
    with pytest.raises(L.CommitConflict) as err:
        b.commit("b loses")
    assert isinstance(err.value, lakelet.PreconditionFailed)
    assert "refresh" in str(err.value)
    assert b.has_changes
    b.refresh()  # replays b's appends on a's commit
    b.commit("b after refresh")
    assert np.sort(L.open(ds.path)["id"][:]).tolist() == [1, 2, 3, 100, 200]


def test_append_after_editing_a_committed_piece(mem_url):
    # found by test_property: the edited piece mixes file paths and arrays and must not be extended
    ds = L.create(mem_url, schema={"n": types.Int64()})
    ds.append({"n": [0]})
    ds.commit("one")
    ds["n"][0] = 5
    ds.append({"n": [7]})
    assert ds["n"][:].tolist() == [5, 7]
    ds.commit("edit and append")
    assert L.open(mem_url)["n"][:].tolist() == [5, 7]
